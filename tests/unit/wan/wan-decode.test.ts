/**
 * VAE decode through both export contracts, and the pipeline on export variants (whole-clip VAE,
 * text encoder without attention_mask, int64 timestep, `noise_pred` output).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrtRuntime, inputInfo, outputInfo } from '../../../src-main/engine/inference/runtime.ts';
import { decodePng } from '../../../src-main/engine/media/png.ts';
import { parseWanVaeConfig, resolveVaeDecoderIo } from '../../../src-main/engine/models/wan-validator.ts';
import type { IoValue } from '../../../src-main/engine/models/wan-validator.ts';
import { WanPipeline } from '../../../src-main/engine/pipelines/wan/index.ts';
import { decodeWanFrames, newDecodeStats, videoFrames } from '../../../src-main/engine/pipelines/wan/vae-decode.ts';
import type { DecodeOptions, DecodedFrame, LatentVideo, WanVae } from '../../../src-main/engine/pipelines/wan/vae-decode.ts';
import { torchRandn } from '../../../src-main/engine/numerics/torch-randn.ts';
import { buildWanFixture } from '../../fixtures/wan/build-wan.ts';
import { fakeContext, tempDir, wanParams, wanRequest } from './helpers.ts';

let tmp: { dir: string; cleanup: () => Promise<void> };
let cachedDir: string;
let variantDir: string;
let fp16Dir: string;
const runtime = new OrtRuntime({ sessionOptions: { intraOpNumThreads: 2, logSeverityLevel: 3 } });

beforeAll(async () => {
  tmp = await tempDir('wan-decode');
  cachedDir = (await buildWanFixture(join(tmp.dir, 'cached'))).dir;
  variantDir = (
    await buildWanFixture(join(tmp.dir, 'variant'), { vaeDecoder: 'whole', textEncoder: 'no_mask', timestepDtype: 'int64', transformerOutput: 'noise_pred' })
  ).dir;
  fp16Dir = (await buildWanFixture(join(tmp.dir, 'fp16'), { vaePrecision: 'fp16' })).dir;
});
afterAll(async () => {
  await runtime.releaseAll();
  await tmp.cleanup();
});

async function loadVae(dir: string): Promise<WanVae> {
  const { session } = await runtime.session(join(dir, 'vae_decoder', 'model.onnx'), { providers: ['cpu'] });
  const json = JSON.parse(await readFile(join(dir, 'vae_decoder', 'config.json'), 'utf8')) as Record<string, unknown>;
  const map = (v: ReturnType<typeof inputInfo>[number]): IoValue => ({ name: v.name, type: v.type ?? '', shape: v.shape ?? [] });
  const problems: string[] = [];
  const io = resolveVaeDecoderIo(inputInfo(session).map(map), outputInfo(session).map(map), json, problems);
  const config = parseWanVaeConfig(json, problems);
  expect(problems).toEqual([]);
  return { session, io: io!, config: config! };
}

async function decodeAll(vae: WanVae, latents: LatentVideo, options: Partial<DecodeOptions> = {}) {
  const stats = newDecodeStats('cached');
  const frames: DecodedFrame[] = [];
  for await (const f of decodeWanFrames(runtime, vae, latents, { signal: new AbortController().signal, ...options }, stats)) frames.push(f);
  return { frames, stats };
}

function maxByteDiff(a: readonly DecodedFrame[], b: readonly DecodedFrame[]): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    for (let k = 0; k < a[i]!.rgb.length; k++) worst = Math.max(worst, Math.abs(a[i]!.rgb[k]! - b[i]!.rgb[k]!));
  }
  return worst;
}

const latents = (T: number, h = 6, w = 4): LatentVideo => ({ data: torchRandn([1, 16, T, h, w], 7), frames: T, height: h, width: w });

describe('decodeWanFrames', () => {
  it('cached export: one call per latent frame, 1 + 4(T − 1) frames in order', async () => {
    const { frames, stats } = await decodeAll(await loadVae(cachedDir), latents(5));
    expect(stats).toMatchObject({ mode: 'cached', calls: 5, note: null });
    expect(frames.map((f) => f.index)).toEqual(Array.from({ length: 17 }, (_, i) => i));
    expect(frames[0]).toMatchObject({ width: 32, height: 48 });
    expect(frames[0]!.rgb.length).toBe(32 * 48 * 3);
    expect(stats.rssPeakBytes).toBeGreaterThanOrEqual(stats.rssStartBytes);
  });

  it('whole-clip export: one call gives the cached decode’s frames', async () => {
    const l = latents(5);
    const cached = await decodeAll(await loadVae(cachedDir), l);
    const whole = await decodeAll(await loadVae(variantDir), l);
    expect(whole.stats).toMatchObject({ mode: 'whole', calls: 1, note: null });
    expect(whole.frames).toHaveLength(17);
    expect(maxByteDiff(cached.frames, whole.frames)).toBeLessThanOrEqual(1);
  });

  it('whole-clip export in windows: right frame count, the first window exact, a note saying so', async () => {
    const l = latents(9);
    const vae = await loadVae(variantDir);
    const one = await decodeAll(vae, l, { maxWindow: 9 });
    const windowed = await decodeAll(vae, l, { maxWindow: 4, context: 2 });
    expect(windowed.stats.mode).toBe('whole-windowed');
    expect(windowed.stats.calls).toBe(4); // [0,4) [2,6) [4,8) [5,9)
    expect(windowed.stats.note).toMatch(/decoded in windows of 4 with 2 frames of context/);
    expect(windowed.frames.map((f) => f.index)).toEqual(Array.from({ length: videoFrames(9) }, (_, i) => i));
    expect(maxByteDiff(one.frames.slice(0, videoFrames(4)), windowed.frames.slice(0, videoFrames(4)))).toBeLessThanOrEqual(1);
  });

  it('decodes in spatial tiles through either export, the same frames', async () => {
    const l = latents(3, 8, 10);
    const tiles = { tiling: 'on', tileSize: 32, tileStride: 24 } as const;
    const cached = await decodeAll(await loadVae(cachedDir), l, tiles);
    const whole = await decodeAll(await loadVae(variantDir), l, tiles);
    for (const run of [cached, whole]) {
      expect(run.stats.tiled).toEqual({ tiles: 12, tileSize: 32, stride: 24 });
      expect(run.frames.map((f) => f.index)).toEqual(Array.from({ length: videoFrames(3) }, (_, i) => i));
      expect(run.frames[0]).toMatchObject({ width: 80, height: 64 });
    }
    expect(cached.stats.calls).toBe(12 * 3);
    expect(whole.stats).toMatchObject({ mode: 'whole', calls: 12 });
    expect(maxByteDiff(cached.frames, whole.frames)).toBeLessThanOrEqual(1);
    // The tiles change the frames (their seams), so the comparison above is between two tiled decodes.
    expect(maxByteDiff(cached.frames, (await decodeAll(await loadVae(cachedDir), l, { tiling: 'off' })).frames)).toBeGreaterThan(2);
  });

  it('feeds float16 caches back into a float16 export', async () => {
    const l = latents(5);
    const fp32 = await decodeAll(await loadVae(cachedDir), l);
    const fp16 = await decodeAll(await loadVae(fp16Dir), l);
    expect(fp16.stats.calls).toBe(5);
    expect(fp16.frames).toHaveLength(17);
    expect(maxByteDiff(fp32.frames, fp16.frames)).toBeLessThanOrEqual(8);
  });

  it('stops between latent frames when cancelled', async () => {
    const controller = new AbortController();
    const stats = newDecodeStats('cached');
    const seen: number[] = [];
    const run = async (): Promise<void> => {
      for await (const f of decodeWanFrames(runtime, await loadVae(cachedDir), latents(5), { signal: controller.signal }, stats)) {
        seen.push(f.index);
        if (f.index === 4) controller.abort();
      }
    };
    await expect(run()).rejects.toThrow('cancelled');
    expect(stats.calls).toBe(2);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('pipeline on export variants', () => {
  it('gives the same image from a whole-clip VAE, a mask-less text encoder, int64 timesteps and noise_pred', async () => {
    const image = async (dir: string): Promise<Uint8Array> => {
      const staging = join(tmp.dir, `staging-${dir.split('/').pop()}`);
      await mkdir(staging, { recursive: true });
      const p = new WanPipeline({ runtime });
      const result = await p.run(wanRequest(dir, staging, wanParams()), fakeContext());
      return decodePng(await readFile(result.outputs[0]!.file)).data;
    };
    const a = await image(cachedDir);
    const b = await image(variantDir);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeLessThanOrEqual(2);
  });
});
