/**
 * SDXL's CLIP text encoders built from their weights (clip-text.ts) against transformers: tiny
 * random-weight encoders of the real architecture, the ids the studio's tokenizer makes for two
 * prompts, and the outputs transformers computed on the same files (clip.md says how).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildClipText,
  clipTextConfigFromWeights,
  clipTextWeightShapes,
  type ClipTextBuildOptions,
  type ClipTextConfig,
} from '../../../src-main/engine/architectures/sdxl/clip-text.ts';
import { OrtRuntime, tensorInt64 } from '../../../src-main/engine/inference/runtime.ts';
import { encodeModel } from '../../../src-main/engine/onnx/index.ts';
import { outputFloat32 } from '../../../src-main/engine/pipelines/common/session-io.ts';
import { WeightFileError } from '../../../src-main/engine/weights/errors.ts';
import { readSafetensorsHeader, readTensorBytes, tensorRefs } from '../../../src-main/engine/weights/safetensors.ts';
import { WeightSet, type TensorRef } from '../../../src-main/engine/weights/tensor-ref.ts';
import { sdxlStateDicts } from '../../fixtures/checkpoints/sdxl-tiny.ts';
import { CLIP_CASES, caseName, clipPromptIds, referencePath, writeClipCase, type ClipCase, type ClipComponent, type WrittenClipCase } from '../../fixtures/reference/sdxl/clip-fixture.ts';
import { makeTempDir } from '../fixtures/ort-helpers.ts';
import { relativeError } from './compare.ts';

const SLOT_HINT = { text_encoder: { slot: 'text_encoder' }, text_encoder_2: { slot: 'text_encoder_2' } } as const;

let tmp: { dir: string; cleanup: () => Promise<void> };
const runtime = new OrtRuntime({ providers: ['cpu'] });
const written = new Map<string, WrittenClipCase>();

beforeAll(async () => {
  tmp = await makeTempDir('sdxl-clip');
  for (const c of CLIP_CASES) written.set(caseName(c), await writeClipCase(tmp.dir, c));
});
afterAll(async () => {
  await runtime.releaseAll();
  await tmp.cleanup();
});

async function weightsOf(path: string, label: string): Promise<WeightSet> {
  return new WeightSet(label, tensorRefs(await readSafetensorsHeader(path)));
}

interface Reference {
  readonly tensors: Map<string, { data: Float32Array; shape: readonly number[] }>;
  readonly metadata: Readonly<Record<string, string>>;
}

async function readReference(c: ClipCase): Promise<Reference> {
  const header = await readSafetensorsHeader(referencePath(c));
  const tensors = new Map<string, { data: Float32Array; shape: readonly number[] }>();
  for (const [name, entry] of header.tensors) {
    const bytes = await readTensorBytes(header, name);
    tensors.set(name, { data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), shape: entry.shape });
  }
  return { tensors, metadata: header.metadata };
}

type Outputs = Record<string, { data: Float32Array; dims: readonly number[] }>;

let modelCount = 0;

/** Builds the graph for a written case, opens it with the weights read in place, runs the given ids. */
async function runEncoder(w: WrittenClipCase, component: ClipComponent, options: Omit<ClipTextBuildOptions, 'folder'>, ids: number[][]): Promise<{ outputs: Outputs; config: ClipTextConfig; modelBytes: number }> {
  const weights = await weightsOf(w.checkpoint, component);
  const config = clipTextConfigFromWeights(weights, SLOT_HINT[component]);
  const model = encodeModel(buildClipText(weights, config, { ...options, folder: w.folder }));
  const modelDir = join(tmp.dir, 'models');
  await mkdir(modelDir, { recursive: true });
  const modelPath = join(modelDir, `${component}-${modelCount++}.onnx`);
  await writeFile(modelPath, model);
  const { session } = await runtime.session(modelPath, { externalDataFolder: w.folder });
  const result = await runtime.run(session, { input_ids: tensorInt64(ids.flat(), [ids.length, ids[0]!.length]) });
  const outputs: Outputs = {};
  for (const name of session.outputNames) outputs[name] = outputFloat32(result, name, component);
  return { outputs, config, modelBytes: model.length };
}


function expectedOutputs(component: ClipComponent, dtype: string, layers: number): string[] {
  const pipelineReads = [`hidden_states.${layers - 1}`, 'pooler_output', ...(component === 'text_encoder_2' ? ['text_embeds'] : [])];
  return dtype === 'F32' ? ['last_hidden_state', `hidden_states.${layers}`, ...pipelineReads] : pipelineReads;
}

/** A WeightSet with the given canonical shapes and no bytes behind them (sizing only). */
function shapeOnlyWeights(shapes: Record<string, readonly number[]>, label: string): WeightSet {
  const refs = new Map<string, TensorRef>();
  for (const [name, shape] of Object.entries(shapes)) refs.set(name, { file: '/nowhere', offset: 0, length: 0, dtype: 'F16', shape, origin: name });
  return new WeightSet(label, refs);
}

describe('CLIP text encoder sizing', () => {
  it('lists exactly transformers’ parameters for the tiny and full-size encoders', () => {
    for (const size of ['tiny', 'full'] as const) {
      for (const component of ['text_encoder', 'text_encoder_2'] as const) {
        const shapes = sdxlStateDicts()[size][component];
        const config = clipTextConfigFromWeights(shapeOnlyWeights(shapes, component), SLOT_HINT[component]);
        expect(clipTextWeightShapes(config)).toEqual(shapes);
        expect(Object.keys(clipTextWeightShapes(config))).toEqual(Object.keys(shapes));
      }
    }
  });

  it('reads ViT-L and bigG off the full-size shapes', () => {
    const full = sdxlStateDicts().full;
    expect(clipTextConfigFromWeights(shapeOnlyWeights(full.text_encoder, 'te'), { slot: 'text_encoder' })).toEqual({
      hiddenSize: 768, layers: 12, heads: 12, intermediateSize: 3072, vocabSize: 49408, maxPositions: 77, projectionDim: null, hiddenAct: 'quick_gelu', layerNormEps: 1e-5,
    });
    expect(clipTextConfigFromWeights(shapeOnlyWeights(full.text_encoder_2, 'te2'), { slot: 'text_encoder_2' })).toEqual({
      hiddenSize: 1280, layers: 32, heads: 20, intermediateSize: 5120, vocabSize: 49408, maxPositions: 77, projectionDim: 1280, hiddenAct: 'gelu', layerNormEps: 1e-5,
    });
  });

  it('takes the activation from a config over the slot, and refuses one it does not implement', () => {
    const tiny = shapeOnlyWeights(sdxlStateDicts().tiny.text_encoder_2, 'te2');
    expect(clipTextConfigFromWeights(tiny, { hiddenAct: 'quick_gelu', slot: 'text_encoder_2' }).hiddenAct).toBe('quick_gelu');
    expect(() => clipTextConfigFromWeights(tiny, { hiddenAct: 'relu' })).toThrow(/activation "relu"/);
    expect(() => clipTextConfigFromWeights(tiny)).toThrow(/hiddenAct or hints.slot/);
  });

  it('says what is wrong with weights that are not a whole CLIP text encoder', () => {
    const shapes = { ...sdxlStateDicts().tiny.text_encoder };
    const refuse = (s: Record<string, readonly number[]>): WeightFileError => {
      try {
        clipTextConfigFromWeights(shapeOnlyWeights(s, 'text_encoder'), { slot: 'text_encoder' });
      } catch (e) {
        expect(e).toBeInstanceOf(WeightFileError);
        return e as WeightFileError;
      }
      throw new Error('accepted');
    };
    const { ['text_model.embeddings.token_embedding.weight']: _token, ...noToken } = shapes;
    expect(refuse(noToken)).toMatchObject({ code: 'wrong_kind', message: expect.stringMatching(/not a CLIP text encoder/) });
    const gap = Object.fromEntries(Object.entries(shapes).filter(([n]) => !n.startsWith('text_model.encoder.layers.1.')));
    expect(refuse(gap)).toMatchObject({ code: 'incomplete', message: expect.stringMatching(/none numbered 1/) });
    const odd = { ...shapes, 'text_model.embeddings.token_embedding.weight': [49408, 96], 'text_model.embeddings.position_embedding.weight': [77, 96] };
    expect(refuse(odd)).toMatchObject({ code: 'wrong_kind', message: expect.stringMatching(/heads of 64/) });
  });
});

describe.each(CLIP_CASES)('CLIP $component with $dtype weights against transformers', (c) => {
  it('was made from the same checkpoint and ids this test writes', async () => {
    const ref = await readReference(c);
    const w = written.get(caseName(c))!;
    expect(ref.metadata.checkpoint_sha256).toBe(w.checkpointSha256);
    expect(ref.metadata.inputs_sha256).toBe(w.inputsSha256);
  });

  it('matches every output within 1e-4 relative in float32', async () => {
    const ref = await readReference(c);
    const w = written.get(caseName(c))!;
    const { outputs, config, modelBytes } = await runEncoder(w, c.component, { computeType: 'float32' }, w.ids);
    // The weights stay in the checkpoint: the graph is a few dozen KB whatever the model's size.
    expect(modelBytes).toBeLessThan(100_000);
    expect([...ref.tensors.keys()].sort()).toEqual(expectedOutputs(c.component, c.dtype, config.layers).sort());
    for (const [name, expected] of ref.tensors) {
      expect(outputs[name]?.dims, name).toEqual(expected.shape);
      const error = relativeError(outputs[name]!.data, expected.data);
      console.log(`${caseName(c)} ${name}: max relative error ${error.toExponential(2)}`);
      expect(error, name).toBeLessThan(1e-4);
    }
  });
});

describe.each(['text_encoder', 'text_encoder_2'] as const)('CLIP %s graph variants', (component) => {
  const f32 = (): WrittenClipCase => written.get(caseName({ component, dtype: 'F32' }))!;

  it('fused MultiHeadAttention gives the plain graph’s outputs', async () => {
    const plain = await runEncoder(f32(), component, { computeType: 'float32', attention: 'plain' }, f32().ids);
    const fused = await runEncoder(f32(), component, { computeType: 'float32', attention: 'fused' }, f32().ids);
    for (const name of Object.keys(plain.outputs)) {
      const error = relativeError(fused.outputs[name]!.data, plain.outputs[name]!.data);
      console.log(`${component} fused vs plain ${name}: ${error.toExponential(2)}`);
      expect(error, name).toBeLessThan(1e-5);
    }
  });

  it.each(['plain', 'fused'] as const)('float16 compute (%s attention) lands near transformers', async (attention) => {
    const ref = await readReference({ component, dtype: 'F32' });
    const { outputs } = await runEncoder(f32(), component, { computeType: 'float16', attention }, f32().ids);
    for (const [name, expected] of ref.tensors) {
      const error = relativeError(outputs[name]!.data, expected.data);
      console.log(`${component} fp16 ${attention} ${name}: ${error.toExponential(2)}`);
      expect(error, name).toBeLessThan(2e-2);
    }
  });

  it('runs shorter sequences: causal, so each position equals the full run’s', async () => {
    const full = await runEncoder(f32(), component, { computeType: 'float32' }, f32().ids);
    const { ids } = await clipPromptIds(component, join(tmp.dir, `short-${component}`));
    const length = 20;
    const short = await runEncoder(f32(), component, { computeType: 'float32' }, ids.map((row) => row.slice(0, length)));
    const layers = full.config.layers;
    for (const name of ['last_hidden_state', `hidden_states.${layers - 1}`, `hidden_states.${layers}`]) {
      const width = full.outputs[name]!.dims[2]!;
      expect(short.outputs[name]!.dims).toEqual([2, length, width]);
      const prefix = new Float32Array(2 * length * width);
      for (let b = 0; b < 2; b++) prefix.set(full.outputs[name]!.data.subarray(b * 77 * width, (b * 77 + length) * width), b * length * width);
      expect(relativeError(short.outputs[name]!.data, prefix), name).toBeLessThan(1e-5);
    }
  });
});
