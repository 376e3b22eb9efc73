/**
 * The SDXL UNet graph built from a checkpoint's weights against diffusers' UNet2DConditionModel on
 * the same weights (references made by make_unet_reference.py, see unet.md): the tiny SDXL UNet's
 * random weights are regenerated here, checked byte for byte (sha256) against the files the
 * references were computed from, and bound into the graph in place as external data.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUnet, unetConfigFromWeights, unetWeightShapes, type UnetBuildOptions, type UnetConfig } from '../../../src-main/engine/architectures/sdxl/unet.ts';
import { OrtRuntime, tensorFloat, tensorFloat32, toFloat32 } from '../../../src-main/engine/inference/runtime.ts';
import { encodeModel } from '../../../src-main/engine/onnx/index.ts';
import { WeightFileError } from '../../../src-main/engine/weights/errors.ts';
import { readSafetensorsHeader, readTensorBytes, tensorRefs, type SafetensorsHeader } from '../../../src-main/engine/weights/safetensors.ts';
import { WeightSet, type TensorRef } from '../../../src-main/engine/weights/tensor-ref.ts';
import { sdxlStateDicts } from '../../fixtures/checkpoints/sdxl-tiny.ts';
import {
  TINY_UNET_HINTS,
  UNET_CASES,
  UNET_DTYPES,
  UNET_REFERENCE_RUNS,
  unetCaseInputs,
  unetCheckpointName,
  writeUnetReferenceInputs,
  type UnetCase,
} from '../../fixtures/reference/sdxl/unet-cases.ts';
import { relativeError } from './compare.ts';

const REFERENCE_DIR = fileURLToPath(new URL('../../fixtures/reference/sdxl/', import.meta.url));

let dir: string;
let reference: SafetensorsHeader;
const runtime = new OrtRuntime({ providers: ['cpu'], sessionOptions: { intraOpNumThreads: 2, logSeverityLevel: 3 } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ourvidz-sdxl-unet-'));
  await writeUnetReferenceInputs(dir);
  reference = await readSafetensorsHeader(join(REFERENCE_DIR, 'unet-reference.safetensors'));
});
afterAll(async () => {
  await runtime.releaseAll();
  await rm(dir, { recursive: true, force: true });
});

async function sha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** The tiny checkpoint of one stored dtype as the studio reads it: a header, references, nothing loaded. */
async function checkpointWeights(dtype: (typeof UNET_DTYPES)[number]): Promise<WeightSet> {
  const header = await readSafetensorsHeader(join(dir, unetCheckpointName(dtype)));
  return new WeightSet(`tiny SDXL UNet (${dtype})`, tensorRefs(header));
}

/** Shapes only, for sizing tests: references that point at no bytes. */
function shapeOnlyWeights(shapes: Readonly<Record<string, readonly number[]>>, label: string): WeightSet {
  const refs = new Map<string, TensorRef>();
  for (const [name, shape] of Object.entries(shapes)) {
    refs.set(name, { file: '/shapes-only', offset: 0, length: 0, dtype: 'F16', shape, origin: `${label}: ${name}` });
  }
  return new WeightSet(label, refs);
}

const sessions = new Map<string, Promise<string>>();

/** Builds, writes and opens the graph once per (stored dtype, options); returns the model path. */
function unetModel(dtype: (typeof UNET_DTYPES)[number], options: Omit<UnetBuildOptions, 'folder'>): Promise<string> {
  const key = `${dtype}-${options.computeType}-${options.attention ?? 'plain'}`;
  let pending = sessions.get(key);
  if (!pending) {
    pending = (async () => {
      const weights = await checkpointWeights(dtype);
      const model = buildUnet(weights, unetConfigFromWeights(weights, TINY_UNET_HINTS), { ...options, folder: dir });
      const path = join(dir, `unet-${key}.onnx`);
      await writeFile(path, encodeModel(model));
      return path;
    })();
    sessions.set(key, pending);
  }
  return pending;
}

async function runUnet(modelPath: string, computeType: 'float32' | 'float16', c: UnetCase): Promise<Float32Array> {
  const { session } = await runtime.session(modelPath, { externalDataFolder: dir });
  const x = unetCaseInputs(c);
  const result = await runtime.run(session, {
    sample: tensorFloat(computeType, x.sample.data, x.sample.dims),
    timestep: tensorFloat32(x.timestep.data, x.timestep.dims),
    encoder_hidden_states: tensorFloat(computeType, x.encoder_hidden_states.data, x.encoder_hidden_states.dims),
    text_embeds: tensorFloat(computeType, x.text_embeds.data, x.text_embeds.dims),
    time_ids: tensorFloat32(x.time_ids.data, x.time_ids.dims),
  });
  const out = result.out_sample!;
  expect(out.dims).toEqual([c.batch, 4, c.height, c.width]);
  return toFloat32(out);
}

async function referenceOutput(key: string): Promise<Float32Array> {
  const bytes = await readTensorBytes(reference, key);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}


const caseNamed = (name: string): UnetCase => UNET_CASES.find((c) => c.name === name)!;

describe('SDXL UNet sizing from the weights', () => {
  it('reads SDXL base 1.0 off its full-size parameter shapes', () => {
    const config = unetConfigFromWeights(shapeOnlyWeights(sdxlStateDicts().full.unet, 'sd_xl_base_1.0'));
    expect(config).toEqual({
      inChannels: 4,
      outChannels: 4,
      blockOutChannels: [320, 640, 1280],
      layersPerBlock: 2,
      downTransformerDepth: [0, 2, 10],
      upTransformerDepth: [10, 2, 0],
      midTransformerDepth: 10,
      heads: [5, 10, 20],
      crossAttentionDim: 2048,
      timeProjDim: 320,
      timeEmbedDim: 1280,
      addTimeEmbedDim: 256,
      timeIdCount: 6,
      pooledDim: 1280,
      normGroups: 32,
    } satisfies UnetConfig);
  });

  it("lists exactly diffusers' parameters and shapes, full size and tiny", async () => {
    const full = unetConfigFromWeights(shapeOnlyWeights(sdxlStateDicts().full.unet, 'full'));
    expect(unetWeightShapes(full)).toEqual(sdxlStateDicts().full.unet);
    const tiny = unetConfigFromWeights(await checkpointWeights('F32'), TINY_UNET_HINTS);
    expect(tiny.blockOutChannels).toEqual([64, 128, 192]);
    expect(tiny.heads).toEqual([1, 2, 3]);
    expect(tiny.pooledDim).toBe(128);
    expect(unetWeightShapes(tiny)).toEqual(sdxlStateDicts().tiny.unet);
  });

  it('takes heads and the time-id width from config.json when given, and asks for it when the weights cannot tell', () => {
    const tinyShapes = sdxlStateDicts().tiny.unet;
    // The tiny model's 64-channel heads follow SDXL's rule, so its sizes need only the time-id width.
    expect(unetConfigFromWeights(shapeOnlyWeights(tinyShapes, 'tiny'), { pooledDim: 128 }).addTimeEmbedDim).toBe(16);
    expect(unetConfigFromWeights(shapeOnlyWeights(tinyShapes, 'tiny'), { addTimeEmbedDim: 16, heads: 1 }).heads).toEqual([1, 1, 1]);
    expect(() => unetConfigFromWeights(shapeOnlyWeights(tinyShapes, 'tiny'))).toThrow(/224 values, not SDXL's 2816.*config\.json/);
    expect(() => unetConfigFromWeights(shapeOnlyWeights(tinyShapes, 'tiny'), { addTimeEmbedDim: 16, heads: [1, 5, 3] })).toThrow(
      /do not split into attention heads \[1, 5, 3\]/,
    );
  });

  it('refuses a Stable Diffusion 1.5 UNet with a sentence saying what it looks like', async () => {
    const sd15 = JSON.parse(await readFile(join(REFERENCE_DIR, 'unet-sd15-shapes.json'), 'utf8')) as Record<string, number[]>;
    const attempt = (): UnetConfig => unetConfigFromWeights(shapeOnlyWeights(sd15, 'v1-5-pruned-emaonly.safetensors'));
    expect(attempt).toThrow(WeightFileError);
    expect(attempt).toThrow(
      'v1-5-pruned-emaonly.safetensors looks like a Stable Diffusion 1.x UNet (no size/crop conditioning "add_embedding", 4 levels, 768-wide text context), ' +
        'not an SDXL UNet: choose an SDXL checkpoint, or use this one with a pipeline for its own family',
    );
  });

  it('names the first missing weight of an incomplete file', () => {
    const shapes = { ...sdxlStateDicts().full.unet };
    delete shapes['up_blocks.1.attentions.2.transformer_blocks.1.ff.net.2.weight'];
    const attempt = (): UnetConfig => unetConfigFromWeights(shapeOnlyWeights(shapes, 'cut.safetensors'));
    expect(attempt).toThrow(/cut\.safetensors has no weight for up_blocks\.1\.attentions\.2\.transformer_blocks\.1\.ff\.net\.2\.weight/);
    try {
      attempt();
    } catch (e) {
      expect((e as WeightFileError).code).toBe('incomplete');
    }
  });
});

describe('SDXL UNet graph against diffusers', () => {
  it('regenerates exactly the files the references were computed from', async () => {
    const sources = JSON.parse(reference.metadata.sources!) as Record<string, string>;
    const files = ['config.json', 'unet-inputs.safetensors', ...UNET_DTYPES.map(unetCheckpointName)];
    for (const file of files) expect(await sha256(join(dir, file)), file).toBe(sources[file]);
  });

  it('keeps the weights in the checkpoint: the graph is a few hundred kilobytes beside an 83 MB file', async () => {
    const model = await stat(await unetModel('F32', { computeType: 'float32' }));
    const checkpoint = await stat(join(dir, unetCheckpointName('F32')));
    expect(checkpoint.size).toBeGreaterThan(80e6);
    expect(model.size).toBeLessThan(1e6);
  });

  it('has the inputs and output the SDXL pipeline feeds, with symbolic batch, size and sequence', async () => {
    const { session } = await runtime.session(await unetModel('F32', { computeType: 'float32' }), { externalDataFolder: dir });
    const shapes = Object.fromEntries(
      [...session.inputMetadata, ...session.outputMetadata].map((m) => [m.name, m.isTensor ? [m.type, ...m.shape] : []]),
    );
    expect(shapes).toEqual({
      sample: ['float32', 'batch_size', 4, 'height', 'width'],
      timestep: ['float32', 'batch_size'],
      encoder_hidden_states: ['float32', 'batch_size', 'sequence_length', 192],
      text_embeds: ['float32', 'batch_size', 128],
      time_ids: ['float32', 'batch_size', 6],
      out_sample: ['float32', 'batch_size', 4, 'height', 'width'],
    });
  });

  for (const dtype of UNET_DTYPES) {
    for (const name of UNET_REFERENCE_RUNS[dtype]) {
      it(`${dtype}-stored weights, ${name}: float32 graph within 1e-4 of diffusers`, async () => {
        const c = caseNamed(name);
        const out = await runUnet(await unetModel(dtype, { computeType: 'float32' }), 'float32', c);
        expect(relativeError(out, await referenceOutput(`${dtype}/${name}`))).toBeLessThan(1e-4);
      });
    }
  }

  it('fused attention (com.microsoft.MultiHeadAttention) gives what plain attention gives', async () => {
    for (const c of UNET_CASES) {
      const plain = await runUnet(await unetModel('F32', { computeType: 'float32' }), 'float32', c);
      const fused = await runUnet(await unetModel('F32', { computeType: 'float32', attention: 'fused' }), 'float32', c);
      expect(relativeError(fused, plain)).toBeLessThan(1e-5);
    }
  });

  it('computes in float16 within 3e-2 of diffusers in float32', async () => {
    for (const c of UNET_CASES) {
      const out = await runUnet(await unetModel('F32', { computeType: 'float16' }), 'float16', c);
      expect(relativeError(out, await referenceOutput(`F32/${c.name}`))).toBeLessThan(3e-2);
    }
  });
});
