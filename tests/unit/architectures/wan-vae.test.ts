/**
 * WAN 2.1's VAE decoder built from a checkpoint's weights as one frame-cached graph, run the way the
 * WAN pipeline runs it (its own frame loop, `decodeWanChunks`: one call per latent frame, caches fed
 * back, latents un-normalised by the config's statistics) against diffusers' whole-clip
 * `AutoencoderKLWan.decode` on the same tiny random-weight VAE (references made by
 * make_vae_reference.py, see vae.md). The tiny VAE's weights are regenerated here and checked byte
 * for byte (sha256) against the files the references were computed from.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InferenceSession } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildWanVaeDecoder,
  wanVaeDecoderConfigFromWeights,
  wanVaeDecoderConfigJson,
  wanVaeDecoderWeightShapes,
  wanVaeFrameCaches,
  wanVaeSizeLabel,
  type WanVaeDecoderBuildOptions,
  type WanVaeDecoderConfig,
} from '../../../src-main/engine/architectures/wan/vae-decoder.ts';
import { OrtRuntime, inputInfo, outputInfo } from '../../../src-main/engine/inference/runtime.ts';
import { readOnnxHeader } from '../../../src-main/engine/models/onnx-header.ts';
import { parseWanVaeConfig, resolveVaeDecoderIo, type IoValue } from '../../../src-main/engine/models/wan-validator.ts';
import { encodeModel } from '../../../src-main/engine/onnx/index.ts';
import { decodeWanChunks, newDecodeStats, videoFrames, type WanVae } from '../../../src-main/engine/pipelines/wan/vae-decode.ts';
import { WeightFileError } from '../../../src-main/engine/weights/errors.ts';
import { readSafetensorsHeader, readTensorBytes, tensorRefs, type SafetensorsHeader } from '../../../src-main/engine/weights/safetensors.ts';
import { WeightSet, type TensorRef } from '../../../src-main/engine/weights/tensor-ref.ts';
import { sdxlStateDicts } from '../../fixtures/checkpoints/sdxl-tiny.ts';
import { wanVaeStateDicts, type WanVaeShapeSet } from '../../fixtures/checkpoints/wan-tiny-vae.ts';
import {
  VAE_CASES,
  VAE_DTYPES,
  VAE_INPUTS_FILE,
  VAE_REFERENCE_RUNS,
  VAE_WEIGHTS_FILE,
  vaeCaseLatents,
  vaeFolderName,
  writeVaeReferenceInputs,
  type VaeCase,
  type VaeDtype,
} from '../../fixtures/reference/wan/vae-cases.ts';
import { relativeError } from './compare.ts';

const REFERENCE_DIR = fileURLToPath(new URL('../../fixtures/reference/wan/', import.meta.url));
const FP32_TOLERANCE = 1e-4;
/** float16 activations through ~40 convolutions: measured 1.1e-3–2.6e-3 on the tiny VAE; diffusers itself in float16 2.6e-3–3.5e-3 (vae.md). */
const FP16_TOLERANCE = 5e-3;

let dir: string;
let reference: SafetensorsHeader;
const runtime = new OrtRuntime({ providers: ['cpu'], sessionOptions: { intraOpNumThreads: 2, logSeverityLevel: 3 } });
const measured: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ourvidz-wan-vae-'));
  await writeVaeReferenceInputs(dir);
  reference = await readSafetensorsHeader(join(REFERENCE_DIR, 'vae-reference.safetensors'));
});
afterAll(async () => {
  await runtime.releaseAll();
  await rm(dir, { recursive: true, force: true });
  if (measured.length) console.log(`WAN VAE decoder, per-frame graph vs diffusers' whole-clip decode, max |diff| / max |ref|:\n  ${measured.join('\n  ')}`);
});

const sha256 = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex');

/** Shapes only, for sizing tests: references that point at no bytes. */
function shapeOnlyWeights(shapes: Readonly<Record<string, readonly number[]>>, label: string): WeightSet {
  const refs = new Map<string, TensorRef>();
  for (const [name, shape] of Object.entries(shapes)) refs.set(name, { file: '/shapes-only', offset: 0, length: 0, dtype: 'BF16', shape, origin: `${label}: ${name}` });
  return new WeightSet(label, refs);
}

const vaeShapes = (set: WanVaeShapeSet): Record<string, number[]> => wanVaeStateDicts()[set].vae;
/** What the decoder graph uses of diffusers' state dict: post_quant_conv and the decoder. */
const decoderParams = (shapes: Record<string, number[]>): Record<string, number[]> =>
  Object.fromEntries(Object.entries(shapes).filter(([n]) => n.startsWith('decoder.') || n.startsWith('post_quant_conv.')));

async function checkpointWeights(dtype: VaeDtype): Promise<WeightSet> {
  const header = await readSafetensorsHeader(join(dir, vaeFolderName(dtype), VAE_WEIGHTS_FILE));
  return new WeightSet(`tiny WAN VAE (${dtype})`, tensorRefs(header));
}

const models = new Map<string, Promise<{ path: string; config: WanVaeDecoderConfig }>>();

/** Builds and writes the graph once per (stored dtype, options). */
function vaeModel(dtype: VaeDtype, options: Omit<WanVaeDecoderBuildOptions, 'folder'>): Promise<{ path: string; config: WanVaeDecoderConfig }> {
  const key = `${dtype}-${options.computeType}-${options.attention ?? 'plain'}`;
  let pending = models.get(key);
  if (!pending) {
    pending = (async () => {
      const weights = await checkpointWeights(dtype);
      const config = wanVaeDecoderConfigFromWeights(weights);
      const path = join(dir, `vae-decoder-${key}.onnx`);
      await writeFile(path, encodeModel(buildWanVaeDecoder(weights, config, { ...options, folder: dir }).model));
      return { path, config };
    })();
    models.set(key, pending);
  }
  return pending;
}

/** The session, its contract as the WAN validator resolves it, and the config.json the pipeline would read. */
async function loadVae(dtype: VaeDtype, options: Omit<WanVaeDecoderBuildOptions, 'folder'>): Promise<WanVae> {
  const { path, config } = await vaeModel(dtype, options);
  const { session } = await runtime.session(path, { externalDataFolder: dir });
  const json = wanVaeDecoderConfigJson(config);
  const map = (v: ReturnType<typeof inputInfo>[number]): IoValue => ({ name: v.name, type: v.type ?? '', shape: v.shape ?? [] });
  const problems: string[] = [];
  const io = resolveVaeDecoderIo(inputInfo(session).map(map), outputInfo(session).map(map), json, problems);
  const vaeConfig = parseWanVaeConfig(json, problems);
  expect(problems).toEqual([]);
  return { session, io: io!, config: vaeConfig! };
}

interface CallShapes {
  readonly inputs: Record<string, readonly number[]>;
  readonly outputs: Record<string, readonly number[]>;
}

/** The runtime, recording every call's input and output dims. */
function recording(calls: CallShapes[]): OrtRuntime {
  const rt = Object.create(runtime) as OrtRuntime;
  rt.run = async (session: InferenceSession, feeds: Parameters<OrtRuntime['run']>[1], options?: InferenceSession.RunOptions) => {
    const out = await runtime.run(session, feeds, options);
    const dims = (values: Record<string, { dims: readonly number[] }>) => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, [...v.dims]]));
    calls.push({ inputs: dims(feeds), outputs: dims(out) });
    return out;
  };
  return rt;
}

/** The clip decoded by the pipeline's frame loop: [3, 1 + 4(T − 1), 8h, 8w], unclamped. */
async function decodeClip(vae: WanVae, c: VaeCase, calls: CallShapes[] = []): Promise<Float32Array> {
  const T = videoFrames(c.frames);
  const plane = 64 * c.height * c.width;
  const clip = new Float32Array(3 * T * plane);
  const stats = newDecodeStats('cached');
  const latents = { data: vaeCaseLatents(c), frames: c.frames, height: c.height, width: c.width };
  let t = 0;
  for await (const chunk of decodeWanChunks(recording(calls), vae, latents, { signal: new AbortController().signal }, stats)) {
    for (let f = chunk.first; f < chunk.first + chunk.count; f++, t++) {
      for (let ch = 0; ch < 3; ch++) clip.set(chunk.data.subarray((ch * chunk.frames + f) * plane, (ch * chunk.frames + f + 1) * plane), (ch * T + t) * plane);
    }
  }
  expect(stats.mode).toBe('cached');
  expect(stats.calls).toBe(c.frames);
  expect(t).toBe(T);
  return clip;
}

async function referenceOutput(key: string): Promise<Float32Array> {
  const bytes = await readTensorBytes(reference, key);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

const caseNamed = (name: string): VaeCase => VAE_CASES.find((c) => c.name === name)!;

const WAN21_VAE: WanVaeDecoderConfig = {
  zDim: 16,
  midChannels: 384,
  numResBlocks: 2,
  upBlocks: [
    { inChannels: 384, outChannels: 384, upsample: 'upsample3d' },
    { inChannels: 192, outChannels: 384, upsample: 'upsample3d' },
    { inChannels: 192, outChannels: 192, upsample: 'upsample2d' },
    { inChannels: 96, outChannels: 96, upsample: null },
  ],
  outChannels: 3,
};

const CHOOSE = "choose WAN 2.1's VAE (Wan2.1_VAE, wan_2.1_vae.safetensors), which the WAN 2.1 models use";

describe('WAN 2.1 VAE decoder sizing from the weights', () => {
  it('reads the released VAE off its full-size parameter shapes', () => {
    for (const size of ['1.3B', '14B'] as const) {
      const config = wanVaeDecoderConfigFromWeights(shapeOnlyWeights(vaeShapes(size), 'wan_2.1_vae.safetensors'));
      expect(config).toEqual(WAN21_VAE);
      expect(wanVaeSizeLabel(config)).toBe('WAN 2.1 VAE');
    }
  });

  it("lists exactly diffusers' decoder parameters and shapes: the released VAE and the tiny one", async () => {
    expect(wanVaeDecoderWeightShapes(WAN21_VAE)).toEqual(decoderParams(vaeShapes('1.3B')));
    const tiny = wanVaeDecoderConfigFromWeights(await checkpointWeights('F32'));
    expect(tiny).toEqual({
      zDim: 16,
      midChannels: 32,
      numResBlocks: 1,
      upBlocks: [
        { inChannels: 32, outChannels: 32, upsample: 'upsample3d' },
        { inChannels: 16, outChannels: 24, upsample: 'upsample3d' },
        { inChannels: 12, outChannels: 16, upsample: 'upsample2d' },
        { inChannels: 8, outChannels: 8, upsample: null },
      ],
      outChannels: 3,
    } satisfies WanVaeDecoderConfig);
    expect(wanVaeSizeLabel(tiny)).toBeNull();
    expect(wanVaeDecoderWeightShapes(tiny)).toEqual(decoderParams(vaeShapes('tiny')));
  });

  it("has one frame cache per entry of diffusers' _feat_map, in its order, with its channels and size", () => {
    const [h, w] = JSON.parse(wanVaeStateDicts().meta.feat_map_latent!) as [number, number];
    for (const set of ['tiny', '1.3B'] as const) {
      const config = wanVaeDecoderConfigFromWeights(shapeOnlyWeights(vaeShapes(set), set));
      const diffusers = Object.values(wanVaeStateDicts()[set].feat_map!);
      expect(wanVaeFrameCaches(config).map((c) => [c.channels, 2, h * c.scale, w * c.scale])).toEqual(diffusers);
    }
    // The released VAE: 32 caches; feat_cache_scale as the pipeline reads it.
    expect(wanVaeDecoderConfigJson(WAN21_VAE).feat_cache_scale).toEqual([...Array(12).fill(1), ...Array(7).fill(2), ...Array(6).fill(4), ...Array(7).fill(8)]);
  });

  it("refuses WAN 2.2's 48-channel VAE by name", () => {
    const attempt = (): WanVaeDecoderConfig => wanVaeDecoderConfigFromWeights(shapeOnlyWeights(vaeShapes('wan2.2-ti2v-5b'), 'Wan2.2_VAE.safetensors'));
    expect(attempt).toThrow(`Wan2.2_VAE.safetensors is WAN 2.2's VAE (48-channel latents, made for the TI2V 5B model), not WAN 2.1's 16-channel VAE: ${CHOOSE}`);
    try {
      attempt();
    } catch (e) {
      expect(e).toBeInstanceOf(WeightFileError);
      expect((e as WeightFileError).code).toBe('wrong_kind');
    }
  });

  it("refuses an image VAE, a lone encoder and files that are no VAE, each in a sentence", () => {
    expect(() => wanVaeDecoderConfigFromWeights(shapeOnlyWeights(sdxlStateDicts().full.vae, 'sdxl_vae.safetensors'))).toThrow(
      `sdxl_vae.safetensors is an image VAE (2-D convolutions, as SDXL's or Flux's), not WAN's video VAE: ${CHOOSE}`,
    );
    const encoder = Object.fromEntries(Object.entries(vaeShapes('1.3B')).filter(([n]) => n.startsWith('encoder.')));
    expect(() => wanVaeDecoderConfigFromWeights(shapeOnlyWeights(encoder, 'encoder.safetensors'))).toThrow(
      `encoder.safetensors holds only a VAE encoder; decoding needs the decoder: ${CHOOSE}`,
    );
    expect(() => wanVaeDecoderConfigFromWeights(shapeOnlyWeights({ 'blocks.0.attn1.to_q.weight': [1536, 1536] }, 'transformer.safetensors'))).toThrow(
      `transformer.safetensors is not a WAN VAE (it has no decoder.conv_in weight): ${CHOOSE}`,
    );
  });

  it('names the first missing weight, a missing up block and a weight whose shape does not fit', () => {
    const cut = { ...vaeShapes('1.3B') };
    delete cut['decoder.up_blocks.2.resnets.1.norm2.gamma'];
    expect(() => wanVaeDecoderConfigFromWeights(shapeOnlyWeights(cut, 'cut.safetensors'))).toThrow(
      'cut.safetensors has no weight for decoder.up_blocks.2.resnets.1.norm2.gamma: the file is incomplete or not this architecture',
    );
    const gap = Object.fromEntries(Object.entries(vaeShapes('1.3B')).filter(([n]) => !n.startsWith('decoder.up_blocks.1.')));
    expect(() => wanVaeDecoderConfigFromWeights(shapeOnlyWeights(gap, 'gap.safetensors'))).toThrow(
      'gap.safetensors has decoder.up_blocks.2 but no decoder.up_blocks.1: the file is incomplete',
    );
    const odd = { ...vaeShapes('1.3B'), 'decoder.up_blocks.0.upsamplers.0.time_conv.weight': [768, 384, 3, 3, 3] };
    expect(() => wanVaeDecoderConfigFromWeights(shapeOnlyWeights(odd, 'odd.safetensors'))).toThrow(
      'odd.safetensors: decoder.up_blocks.0.upsamplers.0.time_conv.weight is [768, 384, 3, 3, 3] where this architecture needs [768, 384, 3, 1, 1] (odd.safetensors: decoder.up_blocks.0.upsamplers.0.time_conv.weight)',
    );
  });
});

describe('WAN 2.1 VAE decoder graph (frame-cached) against diffusers', () => {
  it('regenerates exactly the files the references were computed from', async () => {
    const sources = JSON.parse(reference.metadata.sources!) as Record<string, string>;
    const files = [VAE_INPUTS_FILE, ...VAE_DTYPES.flatMap((d) => [`${vaeFolderName(d)}/config.json`, `${vaeFolderName(d)}/${VAE_WEIGHTS_FILE}`])];
    expect(Object.keys(sources).sort()).toEqual([...files].sort());
    for (const file of files) expect(await sha256(join(dir, file)), file).toBe(sources[file]);
  });

  it("has the frame-cached contract's inputs and outputs, with cache shapes that depend on the size only", async () => {
    const { session } = await runtime.session((await vaeModel('F32', { computeType: 'float32' })).path, { externalDataFolder: dir });
    const shapes = Object.fromEntries([...session.inputMetadata, ...session.outputMetadata].map((m) => [m.name, m.isTensor ? [m.type, ...m.shape] : []]));
    const caches = wanVaeFrameCaches(wanVaeDecoderConfigFromWeights(await checkpointWeights('F32')));
    expect(caches).toHaveLength(24);
    const size = (scale: number): string[] => (scale === 1 ? ['latent_height', 'latent_width'] : scale === 8 ? ['height', 'width'] : [`latent_height_x${scale}`, `latent_width_x${scale}`]);
    const expected: Record<string, unknown[]> = {
      latent_sample: ['float32', 'batch_size', 16, 1, 'latent_height', 'latent_width'],
      first_chunk: ['bool', 1],
      sample: ['float32', 'batch_size', 3, 4, 'height', 'width'],
    };
    caches.forEach((c, i) => {
      expected[`feat_cache_in.${i}`] = ['float32', 'batch_size', c.channels, 2, ...size(c.scale)];
      expected[`feat_cache_out.${i}`] = ['float32', 'batch_size', c.channels, 2, ...size(c.scale)];
    });
    expect(shapes).toEqual(expected);
  });

  it('keeps the weights in the checkpoint, and builds the released VAE in tens of kilobytes that the WAN validator accepts', async () => {
    const model = await stat((await vaeModel('F32', { computeType: 'float32' })).path);
    expect((await stat(join(dir, vaeFolderName('F32'), VAE_WEIGHTS_FILE))).size).toBeGreaterThan(2e6);
    expect(model.size).toBeLessThan(200e3);
    const weights = shapeOnlyWeights(vaeShapes('1.3B'), 'wan_2.1_vae.safetensors');
    const config = wanVaeDecoderConfigFromWeights(weights);
    for (const computeType of ['float32', 'float16'] as const) {
      const path = join(dir, `full-${computeType}.onnx`);
      await writeFile(path, encodeModel(buildWanVaeDecoder(weights, config, { computeType, attention: computeType === 'float16' ? 'fused' : 'plain', folder: '/' }).model));
      expect((await stat(path)).size).toBeLessThan(200e3);
      const header = readOnnxHeader(path);
      const io = (values: typeof header.inputs): IoValue[] => values.map((v) => ({ name: v.name, type: v.dtype, shape: v.shape }));
      const problems: string[] = [];
      const resolved = resolveVaeDecoderIo(io(header.inputs), io(header.outputs), wanVaeDecoderConfigJson(config), problems);
      expect(problems).toEqual([]);
      expect(resolved?.mode).toBe('cached');
      if (resolved?.mode !== 'cached') return;
      expect(resolved.caches.map((c) => [c.channels, c.scale])).toEqual(wanVaeFrameCaches(config).map((c) => [c.channels, c.scale]));
      expect(resolved.caches).toHaveLength(32);
    }
  });

  for (const dtype of VAE_DTYPES) {
    for (const name of VAE_REFERENCE_RUNS[dtype]) {
      it(`${dtype}-stored weights, ${name}: per-frame decode within ${FP32_TOLERANCE} of diffusers' whole-clip decode`, async () => {
        const expected = await referenceOutput(`${dtype}/${name}`);
        // diffusers clamps to [-1, 1]; the tiny VAE's frames stay inside, so nothing is hidden by it.
        expect(expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeLessThan(1);
        const out = await decodeClip(await loadVae(dtype, { computeType: 'float32' }), caseNamed(name));
        const error = relativeError(out, expected);
        measured.push(`${dtype}/${name}, float32: ${error.toExponential(2)}`);
        expect(error).toBeLessThan(FP32_TOLERANCE);
      });
    }
  }

  it('keeps memory flat: every call takes and gives caches of the same shapes, whatever the frame', async () => {
    const calls: CallShapes[] = [];
    await decodeClip(await loadVae('F32', { computeType: 'float32' }), caseNamed('frames5'), calls);
    expect(calls).toHaveLength(5);
    const first = calls[0]!;
    const cacheNames = Object.keys(first.inputs).filter((n) => n.startsWith('feat_cache_in.'));
    expect(cacheNames).toHaveLength(24);
    for (const call of calls) {
      expect(call).toEqual(first);
      for (const name of cacheNames) expect(call.outputs[name.replace('_in.', '_out.')]).toEqual(call.inputs[name]);
      expect(call.outputs.sample).toEqual([1, 3, 4, 24, 32]);
    }
  });

  it('fused attention (com.microsoft.MultiHeadAttention, one head) gives what plain attention gives', async () => {
    for (const c of VAE_CASES) {
      const plain = await decodeClip(await loadVae('F32', { computeType: 'float32' }), c);
      const fused = await decodeClip(await loadVae('F32', { computeType: 'float32', attention: 'fused' }), c);
      const error = relativeError(fused, plain);
      measured.push(`F32/${c.name}, float32 fused vs plain: ${error.toExponential(2)}`);
      expect(error).toBeLessThan(1e-5);
    }
  });

  it(`computes in float16 (caches float16 too) within ${FP16_TOLERANCE} of diffusers in float32, as close as diffusers' own float16`, async () => {
    const diffusersHalf = JSON.parse(reference.metadata.diffusers_float16_error!) as Record<string, number>;
    for (const c of VAE_CASES) expect(diffusersHalf[c.name]).toBeLessThan(FP16_TOLERANCE);
    for (const [dtype, attention] of [['F32', 'plain'], ['BF16', 'fused']] as const) {
      for (const name of VAE_REFERENCE_RUNS[dtype]) {
        const out = await decodeClip(await loadVae(dtype, { computeType: 'float16', attention }), caseNamed(name));
        const error = relativeError(out, await referenceOutput(`${dtype}/${name}`));
        measured.push(`${dtype}/${name}, float16 ${attention}: ${error.toExponential(2)}`);
        expect(error).toBeLessThan(FP16_TOLERANCE);
      }
    }
  });
});
