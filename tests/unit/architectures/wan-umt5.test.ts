/**
 * WAN's UMT5 text encoder graph built from a checkpoint's weights against transformers'
 * UMT5EncoderModel on the same weights (references made by make_umt5_reference.py, see umt5.md):
 * the tiny encoder's random weights are regenerated here, checked byte for byte (sha256) against
 * the files the references were computed from, and bound into the graph in place as external data
 * — fp32, fp16, bf16 and ComfyUI's scaled fp8.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildUmt5Encoder,
  umt5ConfigFromWeights,
  umt5RelativeBuckets,
  umt5SizeLabel,
  umt5WeightShapes,
  type Umt5BuildOptions,
  type Umt5Config,
} from '../../../src-main/engine/architectures/wan/umt5.ts';
import { OrtRuntime, tensorInt64, toFloat32 } from '../../../src-main/engine/inference/runtime.ts';
import { readOnnxHeader } from '../../../src-main/engine/models/onnx-header.ts';
import { resolveTextEncoderIo, type IoValue } from '../../../src-main/engine/models/wan-validator.ts';
import { encodeModel } from '../../../src-main/engine/onnx/index.ts';
import { WeightFileError } from '../../../src-main/engine/weights/errors.ts';
import { readSafetensorsHeader, readTensorBytes, tensorRefs, type SafetensorsHeader } from '../../../src-main/engine/weights/safetensors.ts';
import { WeightSet, type TensorRef } from '../../../src-main/engine/weights/tensor-ref.ts';
import { wanStateDicts } from '../../fixtures/checkpoints/wan-tiny.ts';
import { float32ToFloat8E4M3Bits } from '../../fixtures/checkpoints/wan-tiny-text.ts';
import {
  BUCKET_CHECK_RANGE,
  UMT5_CASES,
  UMT5_REFERENCE_RUNS,
  UMT5_VARIANTS,
  umt5CaseInputs,
  umt5CheckpointName,
  writeUmt5ReferenceInputs,
  type Umt5Case,
  type Umt5Variant,
} from '../../fixtures/reference/wan/umt5-cases.ts';
import { relativeError } from './compare.ts';

const REFERENCE_DIR = fileURLToPath(new URL('../../fixtures/reference/wan/', import.meta.url));

let dir: string;
let reference: SafetensorsHeader;
const runtime = new OrtRuntime({ providers: ['cpu'], sessionOptions: { intraOpNumThreads: 2, logSeverityLevel: 3 } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ourvidz-umt5-'));
  await writeUmt5ReferenceInputs(dir);
  reference = await readSafetensorsHeader(join(REFERENCE_DIR, 'umt5-reference.safetensors'));
});
afterAll(async () => {
  await runtime.releaseAll();
  await rm(dir, { recursive: true, force: true });
});

async function sha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/**
 * The checkpoint's weights under canonical names. A ComfyUI scaled-fp8 file's `<name>.scale_weight`
 * becomes the scale of `<name>.weight` (what its layout table will do; the builder only sees refs).
 */
async function checkpointWeights(variant: Umt5Variant): Promise<WeightSet> {
  const header = await readSafetensorsHeader(join(dir, umt5CheckpointName(variant)));
  const refs = tensorRefs(header);
  for (const [name, ref] of [...refs]) {
    if (!name.endsWith('.scale_weight')) continue;
    refs.delete(name);
    const weight = name.replace(/\.scale_weight$/, '.weight');
    refs.set(weight, { ...refs.get(weight)!, scale: ref });
  }
  return new WeightSet(`tiny UMT5 (${variant})`, refs);
}

/** Shapes only, for sizing tests: references that point at no bytes. */
function shapeOnlyWeights(shapes: Readonly<Record<string, readonly number[]>>, label: string): WeightSet {
  const refs = new Map<string, TensorRef>();
  for (const [name, shape] of Object.entries(shapes)) {
    refs.set(name, { file: '/shapes-only', offset: 0, length: 0, dtype: 'BF16', shape, origin: `${label}: ${name}` });
  }
  return new WeightSet(label, refs);
}

function encoderShapes(size: 'tiny' | '1.3B'): Record<string, number[]> {
  return wanStateDicts()[size].text_encoder!;
}

/** As transformers saves it: the tied embedding once, as shared.weight. */
function savedShapes(size: 'tiny' | '1.3B'): Record<string, number[]> {
  return Object.fromEntries(Object.entries(encoderShapes(size)).filter(([n]) => n !== 'encoder.embed_tokens.weight'));
}

const models = new Map<string, Promise<string>>();

/** Builds and writes the graph once per (variant, options); returns the model path. */
function encoderModel(variant: Umt5Variant, options: Omit<Umt5BuildOptions, 'folder'>): Promise<string> {
  const key = `${variant}-${options.computeType}-${options.attention ?? 'plain'}`;
  let pending = models.get(key);
  if (!pending) {
    pending = (async () => {
      const weights = await checkpointWeights(variant);
      const model = buildUmt5Encoder(weights, umt5ConfigFromWeights(weights), { ...options, folder: dir });
      const path = join(dir, `umt5-${key}.onnx`);
      await writeFile(path, encodeModel(model));
      return path;
    })();
    models.set(key, pending);
  }
  return pending;
}

async function runEncoder(modelPath: string, c: Umt5Case): Promise<Float32Array> {
  const { session } = await runtime.session(modelPath, { externalDataFolder: dir });
  const x = umt5CaseInputs(c);
  const result = await runtime.run(session, { input_ids: tensorInt64(x.ids, x.dims), attention_mask: tensorInt64(x.mask, x.dims) });
  const out = result.last_hidden_state!;
  expect(out.dims).toEqual([...x.dims, 64]);
  return toFloat32(out);
}

async function referenceOutput(key: string): Promise<Float32Array> {
  const bytes = await readTensorBytes(reference, key);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

const caseNamed = (name: string): Umt5Case => UMT5_CASES.find((c) => c.name === name)!;

/** Rows of the real tokens only (what the pipeline keeps; the rest it zeroes). */
function realRows(values: Float32Array, c: Umt5Case): Float32Array {
  const width = 64;
  const parts: number[] = [];
  c.realTokens.forEach((real, row) => parts.push(...values.subarray(row * c.sequence * width, (row * c.sequence + real) * width)));
  return Float32Array.from(parts);
}

const UMT5_XXL: Umt5Config = { vocabSize: 256384, dModel: 4096, heads: 64, dKv: 64, dFf: 10240, layers: 24, numBuckets: 32, maxDistance: 128, eps: 1e-6, embedding: 'shared.weight' };

describe('UMT5 encoder sizing from the weights', () => {
  it('reads UMT5-XXL (every WAN 2.1 model) off its full-size parameter shapes, tied embedding saved once or twice', () => {
    expect(umt5ConfigFromWeights(shapeOnlyWeights(encoderShapes('1.3B'), 'umt5-xxl'))).toEqual(UMT5_XXL);
    const saved = umt5ConfigFromWeights(shapeOnlyWeights(savedShapes('1.3B'), 'umt5-xxl'));
    expect(saved).toEqual(UMT5_XXL);
    expect(umt5SizeLabel(saved)).toBe('UMT5-XXL');
    const onlyEmbedTokens = Object.fromEntries(Object.entries(encoderShapes('1.3B')).filter(([n]) => n !== 'shared.weight'));
    expect(umt5ConfigFromWeights(shapeOnlyWeights(onlyEmbedTokens, 'umt5-xxl')).embedding).toBe('encoder.embed_tokens.weight');
  });

  it("lists exactly transformers' parameters and shapes: UMT5-XXL and the tiny model", async () => {
    expect(umt5WeightShapes(UMT5_XXL)).toEqual(encoderShapes('1.3B'));
    expect(wanStateDicts()['14B'].text_encoder).toEqual(encoderShapes('1.3B'));
    const tiny = umt5ConfigFromWeights(await checkpointWeights('F32'));
    expect(tiny).toEqual({ vocabSize: 512, dModel: 64, heads: 4, dKv: 24, dFf: 160, layers: 3, numBuckets: 32, maxDistance: 128, eps: 1e-6, embedding: 'shared.weight' });
    expect(umt5SizeLabel(tiny)).toBeNull();
    expect(umt5WeightShapes(tiny)).toEqual(encoderShapes('tiny'));
  });

  it('takes the bucket distance and epsilon from config.json, and refuses a feed-forward it does not implement', () => {
    const tiny = shapeOnlyWeights(encoderShapes('tiny'), 'tiny');
    expect(umt5ConfigFromWeights(tiny, { maxDistance: 64, eps: 1e-5 })).toMatchObject({ maxDistance: 64, eps: 1e-5 });
    expect(() => umt5ConfigFromWeights(tiny, { feedForwardProj: 'gated-silu' })).toThrow(
      'tiny: its config asks for the feed-forward "gated-silu" where UMT5 uses "gated-gelu"; the studio implements only UMT5\'s',
    );
    expect(() => umt5ConfigFromWeights(tiny, { maxDistance: 8 })).toThrow('tiny: a relative_attention_max_distance of 8 does not fit 32 buckets');
  });

  it('refuses T5 v1.1 / mT5 (one shared position bias) and the original T5 (ReLU feed-forward) by name', () => {
    const shared = Object.fromEntries(Object.entries(encoderShapes('tiny')).filter(([n]) => !/^encoder\.block\.[12]\..*relative_attention_bias/.test(n)));
    const mt5 = (): Umt5Config => umt5ConfigFromWeights(shapeOnlyWeights(shared, 'mt5-xxl.safetensors'));
    expect(mt5).toThrow(
      'mt5-xxl.safetensors has a relative position bias only in its first layer: it is a T5 v1.1 or mT5 encoder, which shares one bias across layers, not UMT5 (one per layer): WAN needs the UMT5-XXL text encoder (umt5-xxl)',
    );
    const relu = { ...encoderShapes('tiny'), 'encoder.block.0.layer.1.DenseReluDense.wi.weight': [160, 64] };
    expect(() => umt5ConfigFromWeights(shapeOnlyWeights(relu, 't5-base.safetensors'))).toThrow(
      't5-base.safetensors is an original T5 encoder (single-matrix ReLU feed-forward), not UMT5 with its gated GELU: WAN needs the UMT5-XXL text encoder (umt5-xxl)',
    );
    try {
      mt5();
    } catch (e) {
      expect(e).toBeInstanceOf(WeightFileError);
      expect((e as WeightFileError).code).toBe('wrong_kind');
    }
  });

  it('says a CLIP text encoder is not a T5-family one, and names a missing block and a missing weight', () => {
    const clip = { 'text_model.embeddings.token_embedding.weight': [49408, 768] };
    expect(() => umt5ConfigFromWeights(shapeOnlyWeights(clip, 'clip_l'))).toThrow(
      'clip_l is not a T5-family text encoder (it has no token embedding shared.weight or no self-attention weights encoder.block.0.layer.0.SelfAttention.q.weight)',
    );
    const gap = Object.fromEntries(Object.entries(encoderShapes('1.3B')).filter(([n]) => !n.startsWith('encoder.block.7.')));
    expect(() => umt5ConfigFromWeights(shapeOnlyWeights(gap, 'gap.safetensors'))).toThrow(
      'gap.safetensors has no weights for encoder block 7 but has later blocks; the file is incomplete',
    );
    const cut = { ...encoderShapes('tiny') };
    delete cut['encoder.block.2.layer.1.DenseReluDense.wo.weight'];
    const weights = shapeOnlyWeights(cut, 'cut.safetensors');
    expect(() => buildUmt5Encoder(weights, umt5ConfigFromWeights(weights), { computeType: 'float32', folder: '/' })).toThrow(
      'cut.safetensors has no weight for encoder.block.2.layer.1.DenseReluDense.wo.weight: the file is incomplete or not this architecture',
    );
  });

  it("computes transformers' relative-position buckets exactly, at every distance up to ±700", async () => {
    const bytes = await readTensorBytes(reference, 'buckets');
    const expected = Array.from(new BigInt64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), Number);
    expect(expected).toHaveLength(2 * BUCKET_CHECK_RANGE + 1);
    expect(umt5RelativeBuckets(32, 128, BUCKET_CHECK_RANGE)).toEqual(expected);
  });
});

describe('UMT5 encoder graph against transformers', () => {
  it('regenerates exactly the files the references were computed from', async () => {
    const sources = JSON.parse(reference.metadata.sources!) as Record<string, string>;
    const files = ['config.json', 'umt5-inputs.safetensors', ...UMT5_VARIANTS.map(umt5CheckpointName)];
    expect(Object.keys(sources).sort()).toEqual([...files].sort());
    for (const file of files) expect(await sha256(join(dir, file)), file).toBe(sources[file]);
    // make_umt5_reference.py checked that torch quantizes the F32 weights to the same fp8 bytes.
    expect(Number(reference.metadata.fp8_weights_checked)).toBe(21);
  });

  it('encodes float8 e4m3fn as torch 2.13 does at the edges (±0, subnormals, rounding ties, 448, saturation, NaN)', () => {
    const cases: [number, number][] = [
      [0, 0x00],
      [-0, 0x80],
      [2 ** -9, 0x01],
      [2 ** -10, 0x00], // a tie rounds to even (0)
      [3 * 2 ** -10, 0x02], // a tie rounds to even (2)
      [7.5 * 2 ** -9, 0x08], // carries into the smallest normal
      [1, 0x38],
      [1.0625, 0x38], // tie between 1 and 1.125 → even mantissa
      [1.1875, 0x3a],
      [-2.5, 0xc2],
      [448, 0x7e],
      [464, 0x7e], // a tie between 448 and 480 (not finite): even
      [479, 0x7e], // torch saturates what rounds past 448 …
      [-1e4, 0xfe],
      [Infinity, 0x7e], // … infinity included
      [NaN, 0x7f],
    ];
    for (const [value, bits] of cases) expect(float32ToFloat8E4M3Bits(value), String(value)).toBe(bits);
  });

  it('keeps the weights in the checkpoint and has the contract the WAN pipeline feeds', async () => {
    const path = await encoderModel('F32', { computeType: 'float32' });
    expect((await stat(path)).size).toBeLessThan(100e3);
    for (const computeType of ['float32', 'float16'] as const) {
      const { session } = await runtime.session(await encoderModel('F32', { computeType }), { externalDataFolder: dir });
      const shapes = Object.fromEntries([...session.inputMetadata, ...session.outputMetadata].map((m) => [m.name, m.isTensor ? [m.type, ...m.shape] : []]));
      expect(shapes).toEqual({
        input_ids: ['int64', 'batch_size', 'sequence_length'],
        attention_mask: ['int64', 'batch_size', 'sequence_length'],
        last_hidden_state: [computeType, 'batch_size', 'sequence_length', 64],
      });
    }
  });

  it("builds the full-size UMT5-XXL graph in a few hundred kilobytes, which the WAN validator accepts as WAN's text encoder", async () => {
    const weights = shapeOnlyWeights(savedShapes('1.3B'), 'umt5-xxl');
    for (const computeType of ['float32', 'float16'] as const) {
      const model = buildUmt5Encoder(weights, umt5ConfigFromWeights(weights), { computeType, attention: computeType === 'float16' ? 'fused' : 'plain', folder: '/' });
      const path = join(dir, `full-xxl-${computeType}.onnx`);
      await writeFile(path, encodeModel(model));
      expect((await stat(path)).size).toBeLessThan(500e3);
      const header = readOnnxHeader(path);
      expect(header.opset).toBe(17);
      const io = (values: typeof header.inputs): IoValue[] => values.map((v) => ({ name: v.name, type: v.dtype, shape: v.shape }));
      const problems: string[] = [];
      const resolved = resolveTextEncoderIo(io(header.inputs), io(header.outputs), problems);
      expect(problems).toEqual([]);
      expect(resolved).toEqual({
        ids: { name: 'input_ids', type: 'int64', shape: ['batch_size', 'sequence_length'] },
        mask: { name: 'attention_mask', type: 'int64', shape: ['batch_size', 'sequence_length'] },
        output: { name: 'last_hidden_state', type: computeType, shape: ['batch_size', 'sequence_length', 4096] },
        fixedLength: null,
      });
    }
  });

  for (const variant of UMT5_VARIANTS) {
    for (const name of UMT5_REFERENCE_RUNS[variant]) {
      it(`${variant} weights, ${name}: float32 graph within 1e-4 of transformers`, async () => {
        const c = caseNamed(name);
        const out = await runEncoder(await encoderModel(variant, { computeType: 'float32' }), c);
        expect(relativeError(out, await referenceOutput(`${variant}/${name}`))).toBeLessThan(1e-4);
      });
    }
  }

  it('writes an fp8 graph in opset 19, whose Cast reads float8 (opset 17 otherwise)', async () => {
    expect(readOnnxHeader(await encoderModel('F8_E4M3', { computeType: 'float32' })).opset).toBe(19);
    expect(readOnnxHeader(await encoderModel('F16', { computeType: 'float32' })).opset).toBe(17);
  });

  it('real tokens never see the padding: a prompt padded to 512 gives the states of the prompt alone', async () => {
    const path = await encoderModel('F32', { computeType: 'float32' });
    const padded = caseNamed('prompt');
    const alone: Umt5Case = { name: 'prompt', sequence: padded.realTokens[0]!, realTokens: padded.realTokens };
    const full = realRows(await runEncoder(path, padded), padded);
    const { session } = await runtime.session(path, { externalDataFolder: dir });
    const x = umt5CaseInputs(padded);
    const n = alone.sequence;
    const result = await runtime.run(session, { input_ids: tensorInt64(x.ids.slice(0, n), [1, n]), attention_mask: tensorInt64(x.mask.slice(0, n), [1, n]) });
    expect(relativeError(toFloat32(result.last_hidden_state!), full)).toBeLessThan(1e-5);
  });

  it('fused attention (com.microsoft.MultiHeadAttention, scale 1, bias and mask as attention_bias) gives what plain attention gives', async () => {
    for (const c of UMT5_CASES) {
      const plain = await runEncoder(await encoderModel('F32', { computeType: 'float32' }), c);
      const fused = await runEncoder(await encoderModel('F32', { computeType: 'float32', attention: 'fused' }), c);
      expect(relativeError(fused, plain), c.name).toBeLessThan(1e-5);
    }
  });

  it('computes in float16 within 5e-3 of transformers in float32 (transformers itself in float16: under 5e-3)', async () => {
    const transformersHalf = JSON.parse(reference.metadata.transformers_float16_error!) as Record<string, number>;
    for (const c of UMT5_CASES) {
      expect(transformersHalf[`F32/${c.name}`]).toBeLessThan(5e-3);
      const out = await runEncoder(await encoderModel('F32', { computeType: 'float16' }), c);
      expect(relativeError(out, await referenceOutput(`F32/${c.name}`)), c.name).toBeLessThan(5e-3);
    }
  });

  it('stays exact in float16 when the residual stream passes 65504, where an all-float16 UMT5 is clamped away', async () => {
    const maxState = JSON.parse(reference.metadata.hot_max_state!) as Record<string, number>;
    const allHalf = JSON.parse(reference.metadata.all_float16_error!) as Record<string, number>;
    for (const name of UMT5_REFERENCE_RUNS.hot) {
      expect(maxState[name]).toBeGreaterThan(65504);
      expect(allHalf[`hot/${name}`]).toBeGreaterThan(0.3);
      for (const attention of ['plain', 'fused'] as const) {
        const out = await runEncoder(await encoderModel('hot', { computeType: 'float16', attention }), caseNamed(name));
        expect(out.every(Number.isFinite)).toBe(true);
        expect(relativeError(out, await referenceOutput(`hot/${name}`)), `${name} ${attention}`).toBeLessThan(5e-3);
      }
    }
  });

  it('runs fp8 and bf16 weights in the float16 graph with fused attention (the GPU graph)', async () => {
    for (const variant of ['F8_E4M3', 'BF16'] as const) {
      const c = caseNamed('prompt');
      const out = await runEncoder(await encoderModel(variant, { computeType: 'float16', attention: 'fused' }), c);
      expect(relativeError(out, await referenceOutput(`${variant}/prompt`)), variant).toBeLessThan(5e-3);
    }
  });
});
