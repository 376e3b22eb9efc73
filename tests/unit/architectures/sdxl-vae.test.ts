/**
 * SDXL's VAE decoder built from the weights, run on onnxruntime's CPU provider against diffusers'
 * `AutoencoderKL.decode` on the same tiny random-weight VAE (outputs made by
 * tests/fixtures/reference/sdxl/make_vae_reference.py; vae.md says how).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildVaeDecoder,
  vaeDecoderConfigFromWeights,
  vaeDecoderWeightShapes,
  type VaeDecoderBuildOptions,
} from '../../../src-main/engine/architectures/sdxl/vae-decoder.ts';
import { OrtRuntime, tensorFloat, toFloat32 } from '../../../src-main/engine/inference/runtime.ts';
import { encodeModel } from '../../../src-main/engine/onnx/index.ts';
import { DTYPE_BYTES } from '../../../src-main/engine/weights/dtypes.ts';
import { readSafetensorsHeader, readTensorBytes, tensorRefs } from '../../../src-main/engine/weights/safetensors.ts';
import { WeightSet, type TensorRef } from '../../../src-main/engine/weights/tensor-ref.ts';
import { sdxlStateDicts, type FloatDtype } from '../../fixtures/checkpoints/sdxl-tiny.ts';
import {
  VAE_CASES,
  VAE_DTYPES,
  vaeCaseLatent,
  vaeInputsFile,
  vaeWeightsFile,
  writeVaeCheckpoint,
  writeVaeInputs,
  type VaeCase,
} from '../../fixtures/reference/sdxl/vae-cases.ts';
import { relativeError } from './compare.ts';

const REFERENCE_DIR = fileURLToPath(new URL('../../fixtures/reference/sdxl/', import.meta.url));
const FP32_TOLERANCE = 1e-4;
/** float16 activations through ~30 convolutions: measured ~7e-4 on the tiny VAE. */
const FP16_TOLERANCE = 5e-3;

interface ReferenceRecord {
  inputs_sha256: string;
  checkpoints_sha256: Record<FloatDtype, string>;
}

let root: string;
let record: ReferenceRecord;
const runtime = new OrtRuntime({ providers: ['cpu'] });
const measured: string[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sdxl-vae-'));
  for (const dtype of VAE_DTYPES) await writeVaeCheckpoint(root, dtype);
  await writeVaeInputs(root);
  record = JSON.parse(await readFile(join(REFERENCE_DIR, 'vae-reference.json'), 'utf8')) as ReferenceRecord;
});

afterAll(async () => {
  await runtime.releaseAll();
  await rm(root, { recursive: true, force: true });
  if (measured.length) console.log(`VAE decoder vs diffusers, max |diff| / max |ref|:\n  ${measured.join('\n  ')}`);
});

const sha256 = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex');

async function vaeWeights(dtype: FloatDtype): Promise<WeightSet> {
  const header = await readSafetensorsHeader(vaeWeightsFile(root, dtype));
  return new WeightSet(`VAE (${dtype})`, tensorRefs(header));
}

/** A weight set that only knows shapes (for sizing; nothing is read). */
function shapeOnlyWeights(shapes: Readonly<Record<string, readonly number[]>>): WeightSet {
  const refs = new Map<string, TensorRef>();
  for (const [name, shape] of Object.entries(shapes)) {
    const length = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES.F32;
    refs.set(name, { file: '/nonexistent/vae.safetensors', offset: 0, length, dtype: 'F32', shape, origin: `vae.safetensors: ${name}` });
  }
  return new WeightSet('VAE', refs);
}

/** The decoder's entries (post_quant_conv and decoder.*) of a diffusers AutoencoderKL state dict. */
function decoderEntries(stateDict: Record<string, number[]>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(stateDict).filter(([name]) => name.startsWith('decoder.') || name.startsWith('post_quant_conv.')));
}

const decoders = new Map<string, Promise<string>>();

/** Builds the decoder graph for a stored precision and options, writes it, and returns its path (once per combination). */
function decoderModel(dtype: FloatDtype, options: Omit<VaeDecoderBuildOptions, 'folder'>): Promise<string> {
  const key = `${dtype}-${options.computeType}-${options.attention ?? 'plain'}`;
  let model = decoders.get(key);
  if (!model) {
    model = (async () => {
      const weights = await vaeWeights(dtype);
      const proto = buildVaeDecoder(weights, vaeDecoderConfigFromWeights(weights), { ...options, folder: dirname(weights.files()[0]!) });
      const path = join(root, `vae_decoder-${key}.onnx`);
      await writeFile(path, encodeModel(proto));
      return path;
    })();
    decoders.set(key, model);
  }
  return model;
}

async function decode(dtype: FloatDtype, c: VaeCase, options: Omit<VaeDecoderBuildOptions, 'folder'>): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const path = await decoderModel(dtype, options);
  const { session } = await runtime.session(path, { externalDataFolder: dirname(vaeWeightsFile(root, dtype)) });
  const out = await runtime.run(session, { latent_sample: tensorFloat(options.computeType, vaeCaseLatent(c), c.shape) });
  const sample = out.sample!;
  return { data: toFloat32(sample), dims: sample.dims };
}

async function reference(dtype: FloatDtype, c: VaeCase): Promise<Float32Array> {
  const header = await readSafetensorsHeader(join(REFERENCE_DIR, `vae-decode-${dtype.toLowerCase()}.safetensors`));
  const bytes = await readTensorBytes(header, c.name);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}


const imageShape = (c: VaeCase): number[] => [c.shape[0], 3, 8 * c.shape[2], 8 * c.shape[3]];

describe('SDXL VAE decoder graph vs diffusers AutoencoderKL.decode', () => {
  it('regenerates exactly the checkpoints and latents the references were computed from', async () => {
    expect(await sha256(vaeInputsFile(root))).toBe(record.inputs_sha256);
    for (const dtype of VAE_DTYPES) expect(await sha256(vaeWeightsFile(root, dtype)), dtype).toBe(record.checkpoints_sha256[dtype]);
  });

  for (const dtype of VAE_DTYPES) {
    for (const c of VAE_CASES.filter((x) => x.dtypes.includes(dtype))) {
      it(`decodes a ${c.shape.join('×')} latent (${dtype} weights) within ${FP32_TOLERANCE} in float32`, async () => {
        const out = await decode(dtype, c, { computeType: 'float32' });
        expect(out.dims).toEqual(imageShape(c));
        const error = relativeError(out.data, await reference(dtype, c));
        measured.push(`${dtype} weights, ${c.name}, fp32 plain: ${error.toExponential(2)}`);
        expect(error).toBeLessThan(FP32_TOLERANCE);
      });
    }
  }

  it('is sensitive enough to tell the weights’ stored precision apart', async () => {
    // diffusers on bf16- vs fp32-stored weights differ by far more than the tolerance, so a graph
    // that ignored the stored bytes' precision (or a loose tolerance) would be caught above.
    const c = VAE_CASES.find((x) => x.name === 'nonsquare_b2')!;
    expect(relativeError(await reference('BF16', c), await reference('F32', c))).toBeGreaterThan(20 * FP32_TOLERANCE);
  });

  it('gives the same image with fused MultiHeadAttention as with plain operators', async () => {
    for (const c of VAE_CASES) {
      const plain = await decode('F32', c, { computeType: 'float32' });
      const fused = await decode('F32', c, { computeType: 'float32', attention: 'fused' });
      const error = relativeError(fused.data, plain.data);
      measured.push(`F32 weights, ${c.name}, fused vs plain: ${error.toExponential(2)}`);
      expect(error).toBeLessThan(1e-5);
      const vsReference = relativeError(fused.data, await reference('F32', c));
      expect(vsReference).toBeLessThan(FP32_TOLERANCE);
    }
  });

  it('runs in float16 compute and lands near the float32 reference', async () => {
    for (const dtype of ['F16', 'F32'] as const) {
      const c = VAE_CASES.find((x) => x.name === 'nonsquare_b2')!;
      const out = await decode(dtype, c, { computeType: 'float16', attention: dtype === 'F16' ? 'fused' : 'plain' });
      expect(out.dims).toEqual(imageShape(c));
      expect(out.data.every(Number.isFinite)).toBe(true);
      const error = relativeError(out.data, await reference(dtype, c));
      measured.push(`${dtype} weights, ${c.name}, fp16 compute: ${error.toExponential(2)}`);
      expect(error).toBeLessThan(FP16_TOLERANCE);
    }
  });

  it('keeps the weights in the checkpoint file: the graph is a small fraction of it', async () => {
    const weights = await vaeWeights('F32');
    const proto = buildVaeDecoder(weights, vaeDecoderConfigFromWeights(weights), { computeType: 'float32', folder: dirname(weights.files()[0]!) });
    const external = proto.graph.initializers.filter((t) => t.externalData);
    expect(external.map((t) => t.name).sort()).toEqual(Object.keys(vaeDecoderWeightShapes(vaeDecoderConfigFromWeights(weights))).sort());
    expect(proto.graph.initializers.every((t) => t.externalData || (t.rawData?.byteLength ?? 0) <= 1024)).toBe(true);
  });
});

describe('VAE decoder sizing from the weights', () => {
  it('reads the tiny VAE’s architecture off its weights and lists exactly diffusers’ decoder parameters', async () => {
    const config = vaeDecoderConfigFromWeights(await vaeWeights('BF16'));
    expect(config).toEqual({ latentChannels: 4, blockOutChannels: [32, 32, 64, 64], layersPerBlock: 2, normGroups: 32 });
    expect(vaeDecoderWeightShapes(config)).toEqual(decoderEntries(sdxlStateDicts().tiny.vae));
  });

  it('sizes full-size SDXL’s VAE: 4-channel latent, widths 128/256/512/512, 3 resnets per up block', () => {
    const full = sdxlStateDicts().full.vae;
    const config = vaeDecoderConfigFromWeights(shapeOnlyWeights(full));
    expect(config).toEqual({ latentChannels: 4, blockOutChannels: [128, 256, 512, 512], layersPerBlock: 2, normGroups: 32 });
    expect(vaeDecoderWeightShapes(config)).toEqual(decoderEntries(full));
  });

  it('accepts a decoder-only file (no encoder)', () => {
    const decoderOnly = decoderEntries(sdxlStateDicts().full.vae);
    expect(vaeDecoderConfigFromWeights(shapeOnlyWeights(decoderOnly)).blockOutChannels).toEqual([128, 256, 512, 512]);
  });

  const full = (): Record<string, number[]> => ({ ...sdxlStateDicts().full.vae });

  it('names SD3/Flux’s 16-channel VAE', () => {
    const shapes = full();
    shapes['decoder.conv_in.weight'] = [512, 16, 3, 3];
    expect(() => vaeDecoderConfigFromWeights(shapeOnlyWeights(shapes))).toThrow(/16-channel latents \(the SD3\/Flux VAE\)/);
  });

  it('names WAN’s 3-D convolution VAE', () => {
    const shapes = full();
    shapes['decoder.conv_in.weight'] = [384, 16, 3, 3, 3];
    expect(() => vaeDecoderConfigFromWeights(shapeOnlyWeights(shapes))).toThrow(/video VAE with 3-D convolutions \(WAN's\)/);
  });

  it('says when there is no decoder at all', () => {
    const encoderOnly = Object.fromEntries(Object.entries(full()).filter(([name]) => name.startsWith('encoder.')));
    expect(() => vaeDecoderConfigFromWeights(shapeOnlyWeights(encoderOnly))).toThrow(/has no VAE decoder/);
  });

  it('names the missing weight of an incomplete file', () => {
    const shapes = full();
    delete shapes['decoder.mid_block.attentions.0.to_v.bias'];
    expect(() => vaeDecoderConfigFromWeights(shapeOnlyWeights(shapes))).toThrow(
      expect.objectContaining({ code: 'incomplete', message: expect.stringContaining('decoder.mid_block.attentions.0.to_v.bias') }),
    );
  });

  it('names a weight whose shape does not fit', () => {
    const shapes = full();
    shapes['decoder.conv_out.weight'] = [4, 128, 3, 3];
    expect(() => vaeDecoderConfigFromWeights(shapeOnlyWeights(shapes))).toThrow(
      expect.objectContaining({ code: 'wrong_kind', message: expect.stringContaining('decoder.conv_out.weight is [4, 128, 3, 3] where this architecture needs [3, 128, 3, 3]') }),
    );
  });

  it('refuses widths that do not split into 32 norm groups', () => {
    const shapes = Object.fromEntries(Object.entries(sdxlStateDicts().tiny.vae).map(([name, shape]) => [name, shape.map((d) => (d === 32 ? 48 : d))]));
    expect(() => vaeDecoderConfigFromWeights(shapeOnlyWeights(shapes))).toThrow(/48 decoder channels do not split into 32 norm groups/);
  });
});
