/**
 * The WAN 2.1 transformer graph built from a checkpoint's weights against diffusers'
 * WanTransformer3DModel on the same weights (references made by make_transformer_reference.py, see
 * transformer.md): the tiny transformer's random weights are regenerated here, checked byte for
 * byte (sha256) against the files the references were computed from, and bound into the graph in
 * place as external data.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildWanTransformer,
  wanTransformerConfigFromWeights,
  wanTransformerSizeLabel,
  wanTransformerWeightShapes,
  type WanTransformerBuildOptions,
  type WanTransformerConfig,
} from '../../../src-main/engine/architectures/wan/transformer.ts';
import { OrtRuntime, tensorFloat, tensorFloat32, toFloat32 } from '../../../src-main/engine/inference/runtime.ts';
import { resolveTransformerIo, type IoValue } from '../../../src-main/engine/models/wan-validator.ts';
import { readOnnxHeader } from '../../../src-main/engine/models/onnx-header.ts';
import { encodeModel } from '../../../src-main/engine/onnx/index.ts';
import { WeightFileError } from '../../../src-main/engine/weights/errors.ts';
import { readSafetensorsHeader, readTensorBytes, tensorRefs, type SafetensorsHeader } from '../../../src-main/engine/weights/safetensors.ts';
import { WeightSet, type TensorRef } from '../../../src-main/engine/weights/tensor-ref.ts';
import { wanStateDicts } from '../../fixtures/checkpoints/wan-tiny.ts';
import {
  TINY_TRANSFORMER_HINTS,
  TRANSFORMER_CASES,
  TRANSFORMER_DTYPES,
  TRANSFORMER_REFERENCE_RUNS,
  transformerCaseInputs,
  transformerCaseOutputDims,
  transformerCheckpointName,
  writeTransformerReferenceInputs,
  type TransformerCase,
} from '../../fixtures/reference/wan/transformer-cases.ts';
import { relativeError } from './compare.ts';

const REFERENCE_DIR = fileURLToPath(new URL('../../fixtures/reference/wan/', import.meta.url));
type StoredDtype = (typeof TRANSFORMER_DTYPES)[number];

let dir: string;
let reference: SafetensorsHeader;
const runtime = new OrtRuntime({ providers: ['cpu'], sessionOptions: { intraOpNumThreads: 2, logSeverityLevel: 3 } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ourvidz-wan-transformer-'));
  await writeTransformerReferenceInputs(dir);
  reference = await readSafetensorsHeader(join(REFERENCE_DIR, 'transformer-reference.safetensors'));
});
afterAll(async () => {
  await runtime.releaseAll();
  await rm(dir, { recursive: true, force: true });
});

async function sha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

async function checkpointWeights(dtype: StoredDtype): Promise<WeightSet> {
  const header = await readSafetensorsHeader(join(dir, transformerCheckpointName(dtype)));
  return new WeightSet(`tiny WAN transformer (${dtype})`, tensorRefs(header));
}

/** Shapes only, for sizing tests: references that point at no bytes. */
function shapeOnlyWeights(shapes: Readonly<Record<string, readonly number[]>>, label: string): WeightSet {
  const refs = new Map<string, TensorRef>();
  for (const [name, shape] of Object.entries(shapes)) {
    refs.set(name, { file: '/shapes-only', offset: 0, length: 0, dtype: 'BF16', shape, origin: `${label}: ${name}` });
  }
  return new WeightSet(label, refs);
}

function transformerShapes(size: 'tiny' | '1.3B' | '14B'): Record<string, number[]> {
  return wanStateDicts()[size].transformer!;
}

const models = new Map<string, Promise<string>>();

/** Builds and writes the graph once per (stored dtype, options); returns the model path. */
function transformerModel(dtype: StoredDtype, options: Omit<WanTransformerBuildOptions, 'folder'>): Promise<string> {
  const key = `${dtype}-${options.computeType}-${options.attention ?? 'plain'}`;
  let pending = models.get(key);
  if (!pending) {
    pending = (async () => {
      const weights = await checkpointWeights(dtype);
      const model = buildWanTransformer(weights, wanTransformerConfigFromWeights(weights, TINY_TRANSFORMER_HINTS), { ...options, folder: dir });
      const path = join(dir, `transformer-${key}.onnx`);
      await writeFile(path, encodeModel(model));
      return path;
    })();
    models.set(key, pending);
  }
  return pending;
}

async function runTransformer(modelPath: string, computeType: 'float32' | 'float16', c: TransformerCase): Promise<Float32Array> {
  const { session } = await runtime.session(modelPath, { externalDataFolder: dir });
  const x = transformerCaseInputs(c);
  const result = await runtime.run(session, {
    hidden_states: tensorFloat(computeType, x.hidden_states.data, x.hidden_states.dims),
    timestep: tensorFloat32(x.timestep.data, x.timestep.dims),
    encoder_hidden_states: tensorFloat(computeType, x.encoder_hidden_states.data, x.encoder_hidden_states.dims),
  });
  const out = result.sample!;
  expect(out.dims).toEqual(transformerCaseOutputDims(c));
  return toFloat32(out);
}

async function referenceOutput(key: string): Promise<Float32Array> {
  const bytes = await readTensorBytes(reference, key);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

const caseNamed = (name: string): TransformerCase => TRANSFORMER_CASES.find((c) => c.name === name)!;

const WAN21_COMMON = { inChannels: 16, outChannels: 16, patchSize: [1, 2, 2], headDim: 128, textDim: 4096, freqDim: 256, crossAttnNorm: true, eps: 1e-6, ropeDims: [44, 42, 42], ropeTheta: 10000 } as const;

describe('WAN 2.1 transformer sizing from the weights', () => {
  it('reads the 1.3B and 14B releases off their full-size parameter shapes', () => {
    const small = wanTransformerConfigFromWeights(shapeOnlyWeights(transformerShapes('1.3B'), 'wan2.1_t2v_1.3B'));
    expect(small).toEqual({ ...WAN21_COMMON, dim: 1536, heads: 12, ffnDim: 8960, numLayers: 30 } satisfies WanTransformerConfig);
    expect(wanTransformerSizeLabel(small)).toBe('1.3B');
    const large = wanTransformerConfigFromWeights(shapeOnlyWeights(transformerShapes('14B'), 'wan2.1_t2v_14B'));
    expect(large).toEqual({ ...WAN21_COMMON, dim: 5120, heads: 40, ffnDim: 13824, numLayers: 40 } satisfies WanTransformerConfig);
    expect(wanTransformerSizeLabel(large)).toBe('14B');
  });

  it("lists exactly diffusers' parameters and shapes: 1.3B, 14B and the tiny model", async () => {
    for (const size of ['1.3B', '14B'] as const) {
      const config = wanTransformerConfigFromWeights(shapeOnlyWeights(transformerShapes(size), size));
      expect(wanTransformerWeightShapes(config)).toEqual(transformerShapes(size));
    }
    const tiny = wanTransformerConfigFromWeights(await checkpointWeights('F32'), TINY_TRANSFORMER_HINTS);
    expect(tiny).toMatchObject({ dim: 256, heads: 2, headDim: 128, ffnDim: 512, numLayers: 2, textDim: 64, ropeDims: [44, 42, 42] });
    expect(wanTransformerSizeLabel(tiny)).toBeNull();
    expect(wanTransformerWeightShapes(tiny)).toEqual(transformerShapes('tiny'));
  });

  it('takes heads from config.json when given and says when the width does not split into them', () => {
    const tiny = shapeOnlyWeights(transformerShapes('tiny'), 'tiny');
    // Heads of 128 are the default rule: the tiny model needs no config.json.
    expect(wanTransformerConfigFromWeights(tiny).heads).toBe(2);
    expect(wanTransformerConfigFromWeights(tiny, { heads: 4 })).toMatchObject({ heads: 4, headDim: 64, ropeDims: [24, 20, 20] });
    expect(wanTransformerConfigFromWeights(tiny, { headDim: 32 })).toMatchObject({ heads: 8, headDim: 32, ropeDims: [12, 10, 10] });
    expect(() => wanTransformerConfigFromWeights(tiny, { heads: 3 })).toThrow('tiny: its width 256 does not split into attention 3 heads');
    expect(() => wanTransformerConfigFromWeights(tiny, { headDim: 96 })).toThrow('tiny: its width 256 does not split into attention heads of 96');
    // 256 / 64 heads = 4 channels: too few for a frame, a row and a column rotary part.
    expect(() => wanTransformerConfigFromWeights(tiny, { heads: 64 })).toThrow(/4-channel heads do not split into WAN's frame\/row\/column rotary embeddings/);
  });

  it('reads a transformer without the cross-attention LayerNorm (cross_attn_norm false)', () => {
    const shapes = Object.fromEntries(Object.entries(transformerShapes('tiny')).filter(([n]) => !/\.norm2\./.test(n)));
    const config = wanTransformerConfigFromWeights(shapeOnlyWeights(shapes, 'tiny'));
    expect(config.crossAttnNorm).toBe(false);
    expect(wanTransformerWeightShapes(config)).toEqual(shapes);
  });

  describe('refuses other WAN transformers by name', () => {
    let variants: Record<string, Record<string, number[]>>;
    beforeAll(async () => {
      variants = JSON.parse(await readFile(join(REFERENCE_DIR, 'transformer-variant-shapes.json'), 'utf8')) as typeof variants;
    });
    const refusal = (name: string): (() => WanTransformerConfig) => () => wanTransformerConfigFromWeights(shapeOnlyWeights(variants[name]!, `${name}.safetensors`));
    const T2V = 'choose a WAN 2.1 text-to-video model (T2V 1.3B or 14B)';

    it('WAN 2.1 image-to-video (image embedder, add_k_proj)', () => {
      expect(refusal('Wan2.1-I2V-14B-480P')).toThrow(
        `Wan2.1-I2V-14B-480P.safetensors is a WAN image-to-video transformer (it has an image embedder and image key/value projections (add_k_proj)); the studio's WAN pipeline makes video from text only: ${T2V}`,
      );
    });

    it('WAN 2.2 image-to-video (36 input channels)', () => {
      expect(refusal('Wan2.2-I2V-A14B')).toThrow(
        `Wan2.2-I2V-A14B.safetensors takes 36 input channels (the 16 latent channels plus a first-frame image and its mask): it is an image-to-video model such as WAN 2.2 I2V, not text-to-video: ${T2V}`,
      );
    });

    it("WAN 2.2 TI2V 5B (48-channel latent)", () => {
      expect(refusal('Wan2.2-TI2V-5B')).toThrow(
        `Wan2.2-TI2V-5B.safetensors works on WAN 2.2's 48-channel latent (the TI2V 5B model, with its own VAE), not WAN 2.1's 16 channels: ${T2V}`,
      );
    });

    it('WAN 2.1 VACE', () => {
      expect(refusal('Wan2.1-VACE-1.3B')).toThrow(
        `Wan2.1-VACE-1.3B.safetensors is a WAN VACE transformer (it has vace_blocks for reference and control videos), not a text-to-video one: ${T2V}`,
      );
    });

    it('with the code that says it is another kind of model', () => {
      for (const name of Object.keys(variants)) {
        try {
          refusal(name)();
          expect.unreachable(`${name} was accepted`);
        } catch (e) {
          expect(e).toBeInstanceOf(WeightFileError);
          expect((e as WeightFileError).code).toBe('wrong_kind');
        }
      }
    });
  });

  it('says an SDXL UNet is not a WAN transformer', () => {
    const unet = { 'conv_in.weight': [320, 4, 3, 3], 'time_embedding.linear_1.weight': [1280, 320], 'conv_out.weight': [4, 320, 3, 3] };
    expect(() => wanTransformerConfigFromWeights(shapeOnlyWeights(unet, 'sd_xl_base_1.0'))).toThrow(
      'sd_xl_base_1.0 is not a WAN transformer (it has no 3-D patch_embedding, time embedder or proj_out weights)',
    );
  });

  it('names the first missing weight of an incomplete file, and a missing block', () => {
    const cut = { ...transformerShapes('14B') };
    delete cut['blocks.17.attn2.norm_k.weight'];
    const attempt = (): WanTransformerConfig => wanTransformerConfigFromWeights(shapeOnlyWeights(cut, 'cut.safetensors'));
    expect(attempt).toThrow('cut.safetensors has no weight for blocks.17.attn2.norm_k.weight: the file is incomplete or not this architecture');
    try {
      attempt();
    } catch (e) {
      expect((e as WeightFileError).code).toBe('incomplete');
    }
    const gap = Object.fromEntries(Object.entries(transformerShapes('1.3B')).filter(([n]) => !n.startsWith('blocks.3.')));
    expect(() => wanTransformerConfigFromWeights(shapeOnlyWeights(gap, 'gap.safetensors'))).toThrow(
      'gap.safetensors has no weights for transformer block 3 but has later blocks; the file is incomplete',
    );
  });

  it('names a weight whose shape does not fit', () => {
    const shapes = { ...transformerShapes('1.3B'), 'blocks.29.ffn.net.2.weight': [1536, 8192] };
    expect(() => wanTransformerConfigFromWeights(shapeOnlyWeights(shapes, 'odd.safetensors'))).toThrow(
      'odd.safetensors: blocks.29.ffn.net.2.weight is [1536, 8192] where this architecture needs [1536, 8960] (odd.safetensors: blocks.29.ffn.net.2.weight)',
    );
  });
});

describe('WAN 2.1 transformer graph against diffusers', () => {
  it('regenerates exactly the files the references were computed from', async () => {
    const sources = JSON.parse(reference.metadata.sources!) as Record<string, string>;
    const files = ['config.json', 'transformer-inputs.safetensors', ...TRANSFORMER_DTYPES.map(transformerCheckpointName)];
    expect(Object.keys(sources).sort()).toEqual([...files].sort());
    for (const file of files) expect(await sha256(join(dir, file)), file).toBe(sources[file]);
  });

  it('keeps the weights in the checkpoint: the graph is tens of kilobytes beside a 9 MB file', async () => {
    const model = await stat(await transformerModel('F32', { computeType: 'float32' }));
    const checkpoint = await stat(join(dir, transformerCheckpointName('F32')));
    expect(checkpoint.size).toBeGreaterThan(8e6);
    expect(model.size).toBeLessThan(200e3);
  });

  it('has the inputs and output the WAN pipeline feeds, with symbolic batch, frames, size and sequence', async () => {
    for (const computeType of ['float32', 'float16'] as const) {
      const { session } = await runtime.session(await transformerModel('F32', { computeType }), { externalDataFolder: dir });
      const shapes = Object.fromEntries(
        [...session.inputMetadata, ...session.outputMetadata].map((m) => [m.name, m.isTensor ? [m.type, ...m.shape] : []]),
      );
      expect(shapes).toEqual({
        hidden_states: [computeType, 'batch_size', 16, 'num_frames', 'height', 'width'],
        timestep: ['float32', 'batch_size'],
        encoder_hidden_states: [computeType, 'batch_size', 'sequence_length', 64],
        sample: [computeType, 'batch_size', 16, 'num_frames', 'height', 'width'],
      });
    }
  });

  it("builds the full-size 1.3B graph in a few hundred kilobytes, which the WAN validator's checks accept as a T2V transformer", async () => {
    const weights = shapeOnlyWeights(transformerShapes('1.3B'), 'wan2.1_t2v_1.3B');
    for (const computeType of ['float32', 'float16'] as const) {
      const model = buildWanTransformer(weights, wanTransformerConfigFromWeights(weights), { computeType, attention: computeType === 'float16' ? 'fused' : 'plain', folder: '/' });
      const path = join(dir, `full-1.3B-${computeType}.onnx`);
      await writeFile(path, encodeModel(model));
      expect((await stat(path)).size).toBeLessThan(1e6);
      const header = readOnnxHeader(path);
      const io = (values: typeof header.inputs): IoValue[] => values.map((v) => ({ name: v.name, type: v.dtype, shape: v.shape }));
      const problems: string[] = [];
      const resolved = resolveTransformerIo(io(header.inputs), io(header.outputs), problems);
      expect(problems).toEqual([]);
      expect(resolved && [resolved.latents, resolved.timestep, resolved.context, resolved.output]).toEqual([
        { name: 'hidden_states', type: computeType, shape: ['batch_size', 16, 'num_frames', 'height', 'width'] },
        { name: 'timestep', type: 'float32', shape: ['batch_size'] },
        { name: 'encoder_hidden_states', type: computeType, shape: ['batch_size', 'sequence_length', 4096] },
        { name: 'sample', type: computeType, shape: ['batch_size', 16, 'num_frames', 'height', 'width'] },
      ]);
    }
  });

  for (const dtype of TRANSFORMER_DTYPES) {
    for (const name of TRANSFORMER_REFERENCE_RUNS[dtype]) {
      it(`${dtype}-stored weights, ${name}: float32 graph within 1e-4 of diffusers`, async () => {
        const c = caseNamed(name);
        const out = await runTransformer(await transformerModel(dtype, { computeType: 'float32' }), 'float32', c);
        expect(relativeError(out, await referenceOutput(`${dtype}/${name}`))).toBeLessThan(1e-4);
      });
    }
  }

  it('fused attention (com.microsoft.MultiHeadAttention on the rotated q and k) gives what plain attention gives', async () => {
    for (const c of TRANSFORMER_CASES) {
      const plain = await runTransformer(await transformerModel('F32', { computeType: 'float32' }), 'float32', c);
      const fused = await runTransformer(await transformerModel('F32', { computeType: 'float32', attention: 'fused' }), 'float32', c);
      expect(relativeError(fused, plain)).toBeLessThan(1e-5);
    }
  });

  it('computes in float16 within 3e-3 of diffusers in float32 (diffusers itself in float16: under 1e-3)', async () => {
    const diffusersHalf = JSON.parse(reference.metadata.diffusers_float16_error!) as Record<string, number>;
    for (const c of TRANSFORMER_CASES) {
      expect(diffusersHalf[c.name]).toBeLessThan(1e-3);
      const out = await runTransformer(await transformerModel('F32', { computeType: 'float16' }), 'float16', c);
      expect(relativeError(out, await referenceOutput(`F32/${c.name}`))).toBeLessThan(3e-3);
    }
  });

  it('fused attention in float16 (the GPU graph) stays as close to diffusers', async () => {
    const c = caseNamed('batch1');
    const out = await runTransformer(await transformerModel('BF16', { computeType: 'float16', attention: 'fused' }), 'float16', c);
    expect(relativeError(out, await referenceOutput('BF16/batch1'))).toBeLessThan(3e-3);
  });
});
