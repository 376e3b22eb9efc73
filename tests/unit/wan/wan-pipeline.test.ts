/**
 * The WAN pipeline run in-process on the fixture models (a test of the pipeline, not the worker):
 * PNGs and MP4s with the right size, frame count and metadata, determinism for a seed, the 4k+1
 * and size rules, guidance passes, cancellation without partial files.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrtRuntime } from '../../../src-main/engine/inference/runtime.ts';
import { locateFfmpeg } from '../../../src-main/engine/media/ffmpeg-locate.ts';
import { decodePng, readImageRecipeMetadata } from '../../../src-main/engine/media/png.ts';
import { readVideoRecipeMetadata } from '../../../src-main/engine/media/video-metadata.ts';
import { WanPipeline, checkWanParams, wanVaeTiling } from '../../../src-main/engine/pipelines/wan/index.ts';
import { CancelledError, PipelineError } from '../../../src-main/engine/pipelines/types.ts';
import type { JobParams } from '../../../src-preload/contract/catalog.ts';
import { buildWanFixture } from '../../fixtures/wan/build-wan.ts';
import { fakeContext, tempDir, wanParams, wanRequest } from './helpers.ts';

const run = promisify(execFile);
const ffmpeg = await locateFfmpeg();
const ffprobe = ffmpeg.ok ? ffmpeg.ffprobe : null;

let tmp: { dir: string; cleanup: () => Promise<void> };
let model: string;
let runtime: OrtRuntime;
let pipeline: WanPipeline;
let jobs = 0;

beforeAll(async () => {
  tmp = await tempDir('wan-pipeline');
  model = (await buildWanFixture(join(tmp.dir, 'wan-tiny'))).dir;
  runtime = new OrtRuntime({ sessionOptions: { intraOpNumThreads: 2, logSeverityLevel: 3 } });
  pipeline = new WanPipeline({ runtime, x264Preset: 'ultrafast' });
});
afterAll(async () => {
  await pipeline.unload();
  await tmp.cleanup();
});

async function staging(): Promise<string> {
  const dir = join(tmp.dir, `staging-${jobs++}`);
  await mkdir(dir);
  return dir;
}

async function generate(params: JobParams, path = model, p = pipeline) {
  const dir = await staging();
  const ctx = fakeContext();
  const result = await p.run(wanRequest(path, dir, params), ctx);
  return { dir, ctx, result };
}

async function probe(file: string): Promise<{ codec: string; width: number; height: number; frames: number; pixFmt: string; fps: string; tags: Record<string, string> }> {
  const { stdout } = await run(ffprobe!, ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=codec_name,width,height,nb_read_frames,pix_fmt,r_frame_rate:format_tags', '-of', 'json', file]);
  const json = JSON.parse(stdout) as { streams: Record<string, string | number>[]; format: { tags: Record<string, string> } };
  const s = json.streams[0]!;
  return { codec: String(s.codec_name), width: Number(s.width), height: Number(s.height), frames: Number(s.nb_read_frames), pixFmt: String(s.pix_fmt), fps: String(s.r_frame_rate), tags: json.format.tags };
}

describe('WAN image (1 frame)', () => {
  it('writes a PNG with its recipe and a thumbnail, reports progress with previews', async () => {
    const { dir, ctx, result } = await generate(wanParams({ width: 64, height: 48 }));
    expect((await readdir(dir)).sort()).toEqual(['00.png', '00.thumb.png']);
    const [out] = result.outputs;
    expect(out).toMatchObject({ kind: 'image', mime: 'image/png', width: 64, height: 48, frameCount: null, fps: null, seed: 42 });
    const png = await readFile(out!.file);
    const image = decodePng(png);
    expect([image.width, image.height]).toEqual([64, 48]);
    const meta = readImageRecipeMetadata(png);
    expect(meta.parameters?.text).toMatch(/^A cat walks on the grass, realistic\nNegative prompt: blurred details, static\nSteps: 3, Sampler: UniPC, CFG scale: 5, Seed: 42, Size: 64x48, Model: wan-tiny, Frames: 1, RNG: CPU, Version: /);
    expect(meta.recipe?.value).toMatchObject({ jobType: 'image_fast', scheduler: 'unipc', flowShift: 3, frames: 1, model: { family: 'wan' } });
    const steps = ctx.updates.filter((u) => u.stage === 'denoising');
    expect(steps.map((u) => [u.step, u.of])).toEqual([[1, 3], [2, 3], [3, 3]]);
    for (const u of steps) expect(decodePng(u.preview!)).toMatchObject({ width: 8, height: 6 });
    expect(result.timings).toMatchObject({ vaeCalls: 1 });
    for (const key of ['sessionRunMs', 'overheadMs', 'encodeMs', 'denoiseMs', 'denoiseOverheadMs', 'decodeMs', 'vaeDecodePeakRssMb', 'pngEncodeMs']) {
      expect(result.timings[key], key).toBeGreaterThanOrEqual(0);
    }
    expect(result.provider).toBe('cpu');
  });

  it('draws a preview only on the steps Settings → previews asks for, and always on the last', async () => {
    const dir = await staging();
    const ctx = fakeContext();
    await pipeline.run({ ...wanRequest(model, dir, wanParams({ width: 64, height: 48, steps: 5 })), previewEvery: 2 }, ctx);
    const steps = ctx.updates.filter((u) => u.stage === 'denoising');
    expect(steps.map((u) => [u.step, u.preview !== null])).toEqual([[1, false], [2, true], [3, false], [4, true], [5, true]]);
  });

  it('is deterministic for a seed and changes with the seed, prompt and sampler', async () => {
    const bytes = async (params: JobParams): Promise<Buffer> => readFile((await generate(params)).result.outputs[0]!.file);
    const a = await bytes(wanParams());
    expect((await bytes(wanParams())).equals(a)).toBe(true);
    expect((await bytes(wanParams({ seed: 43 }))).equals(a)).toBe(false);
    expect((await bytes(wanParams({ prompt: 'a red car in the city' }))).equals(a)).toBe(false);
    expect((await bytes(wanParams({ scheduler: 'flow_euler' }))).equals(a)).toBe(false);
  });

  it('runs the unconditional pass only when guidance is above 1', async () => {
    const calls = async (guidance: number): Promise<number> => {
      const before = runtime.timer.calls;
      await generate(wanParams({ guidance, steps: 2 }));
      return runtime.timer.calls - before;
    };
    // text encoder + transformer per step + one VAE call
    expect(await calls(1)).toBe(1 + 2 + 1);
    expect(await calls(5)).toBe(2 + 4 + 1);
  });

  it('uses the enhanced prompt and records both', async () => {
    const { result } = await generate(wanParams({ prompt: 'cat', enhancedPrompt: 'A small cat walks through tall green grass at sunset' }));
    expect(result.enhancedPrompt).toBe('A small cat walks through tall green grass at sunset');
    const meta = readImageRecipeMetadata(await readFile(result.outputs[0]!.file));
    expect(meta.parameters?.text).toMatch(/^A small cat walks through tall green grass at sunset\n/);
    expect(meta.parameters?.text).toMatch(/Original prompt: cat/);
    expect(meta.recipe?.value).toMatchObject({ prompt: 'A small cat walks through tall green grass at sunset', originalPrompt: 'cat' });
  });
});

describe('WAN parameter rules', () => {
  it('refuses frame counts that are not 4k+1, saying the rule', async () => {
    const dir = await staging();
    const err = await pipeline.run(wanRequest(model, dir, wanParams({ frames: 16 })), fakeContext()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineError);
    expect((err as PipelineError).code).toBe('invalid_params');
    expect((err as Error).message).toBe(
      'WAN makes 4k+1 frames (1, 5, 9, 13, 17, …, 81): the VAE turns each latent frame after the first into 4 video frames. 16 is not of that form; use 13 or 17.',
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses sizes that are not multiples of 16', () => {
    expect(() => checkWanParams({ width: 480, height: 840, frames: 17, steps: 4 })).toThrow(
      "WAN needs a width and height that are multiples of 16 (the VAE's 8× times the transformer's 2×2 patches); 480×840 is not. Try 480×848.",
    );
    expect(() => checkWanParams({ width: 480, height: 832, frames: 81, steps: 4 })).not.toThrow();
  });

  it('decodes in tiles on the CPU only when a whole frame would not fit in the memory free', () => {
    const GB = 1024 ** 3;
    // 480×832 whole needs about 16 GB: tiles with 8 GB free, whole with 64 GB free.
    expect(wanVaeTiling('cpu', 832, 480, 8 * GB)).toBe('auto');
    expect(wanVaeTiling('cpu', 832, 480, 64 * GB)).toBe('off');
    expect(wanVaeTiling('cpu', 256, 256, 8 * GB)).toBe('off');
    // On a GPU, the whole frame, as diffusers' WanPipeline does by default.
    expect(wanVaeTiling('cuda', 832, 480, 1 * GB)).toBe('off');
  });
});

describe.skipIf(!ffprobe)('WAN video', () => {
  it('writes a 17-frame H.264 MP4 (yuv420p, 16 fps) with its metadata and a poster thumbnail', async () => {
    const { dir, result } = await generate(wanParams({ frames: 17, width: 64, height: 48 }));
    expect((await readdir(dir)).sort()).toEqual(['00.mp4', '00.thumb.png']);
    const [out] = result.outputs;
    expect(out).toMatchObject({ kind: 'video', mime: 'video/mp4', width: 64, height: 48, frameCount: 17, fps: 16, durationMs: 1062.5 });
    const info = await probe(out!.file);
    expect(info).toMatchObject({ codec: 'h264', width: 64, height: 48, frames: 17, pixFmt: 'yuv420p', fps: '16/1' });
    const tags = readVideoRecipeMetadata(info.tags);
    expect(tags.parameters).toMatch(/^A cat walks on the grass, realistic\nNegative prompt: blurred details, static\nSteps: 3, Seed: 42, Size: 64x48, Model: wan-tiny, Job type: video_fast, Frames: 17, FPS: 16, Sampler: UniPC, CFG scale: 5/);
    expect(tags.recipe).toMatchObject({ seed: 42, steps: 3, frames: 17, model: { id: 'wan-tiny' } });
    expect(decodePng(await readFile(out!.thumbFile!))).toMatchObject({ width: 64, height: 48 });
    // One VAE call per latent frame: (17 − 1) / 4 + 1.
    expect(result.timings.vaeCalls).toBe(5);
    expect(result.timings.mp4EncodeMs).toBeGreaterThanOrEqual(0);
  });

  it('leaves no file when cancelled mid-denoising or mid-decode', async () => {
    for (const stage of ['denoising', 'decoding']) {
      const dir = await staging();
      const ctx = fakeContext((u) => u.stage === stage);
      const err = await pipeline.run(wanRequest(model, dir, wanParams({ frames: 33 })), ctx).catch((e: unknown) => e);
      expect(err, stage).toBeInstanceOf(CancelledError);
      expect(await readdir(dir), stage).toEqual([]);
    }
  });

  it('leaves no file when cancelled while ffmpeg already holds some frames', async () => {
    // A runtime that cancels the job during the third VAE call, after two decoded chunks reached ffmpeg.
    const controller = new AbortController();
    let vaeCalls = 0;
    class CancellingRuntime extends OrtRuntime {
      override run(...args: Parameters<OrtRuntime['run']>): ReturnType<OrtRuntime['run']> {
        if ('first_chunk' in args[1] && ++vaeCalls === 3) controller.abort();
        return super.run(...args);
      }
    }
    const own = new WanPipeline({ runtime: new CancellingRuntime({ sessionOptions: { intraOpNumThreads: 2, logSeverityLevel: 3 } }), x264Preset: 'ultrafast' });
    const dir = await staging();
    const ctx = { ...fakeContext(), signal: controller.signal };
    const err = await own.run(wanRequest(model, dir, wanParams({ frames: 33 })), ctx).catch((e: unknown) => e);
    await own.unload();
    expect(err).toBeInstanceOf(CancelledError);
    expect(vaeCalls).toBe(3);
    expect(await readdir(dir)).toEqual([]);
  });
});
