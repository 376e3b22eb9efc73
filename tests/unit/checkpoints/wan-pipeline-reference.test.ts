/**
 * Whole WAN 2.1 T2V jobs — 4 steps, 17 frames at 64 × 48, guidance 5 with a negative prompt, for
 * UniPC and Flow Euler, and one 1-frame image — run by the studio on the tiny model it prepared
 * from a diffusers folder land within ±1 of diffusers' WanPipeline on every value of every frame.
 * The video frames compared are those handed to the MP4 encoder (before H.264's lossy step); the
 * image is the PNG read back. The reference frames and how they were made:
 * tests/fixtures/reference/wan/pipeline.md.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { prepareCheckpoint } from '../../../src-main/engine/checkpoints/prepare.ts';
import { OrtRuntime } from '../../../src-main/engine/inference/runtime.ts';
import { locateFfmpeg } from '../../../src-main/engine/media/ffmpeg-locate.ts';
import { decodePng } from '../../../src-main/engine/media/png-decode.ts';
import { WanPipeline } from '../../../src-main/engine/pipelines/wan/index.ts';
import type * as WanOutput from '../../../src-main/engine/pipelines/wan/output.ts';
import { cleanWanPrompt } from '../../../src-main/engine/pipelines/wan/prompt.ts';
import { Umt5Tokenizer } from '../../../src-main/engine/pipelines/wan/tokenizer.ts';
import { WAN_TEXT_LENGTH } from '../../../src-main/engine/models/wan-validator.ts';
import { TINY_UMT5_CONFIG } from '../../fixtures/checkpoints/wan-tiny-text.ts';
import { WAN_PIPELINE_JOBS, WAN_PIPELINE_MODEL, writeWanPipelineModel } from '../../fixtures/reference/wan/pipeline-cases.ts';
import type { WanPipelineJob } from '../../fixtures/reference/wan/pipeline-cases.ts';
import { fakeContext, tempDir, wanParams, wanRequest } from '../wan/helpers.ts';

/** The RGB frames of each video job as the pipeline hands them to the MP4 encoder (H.264 is lossy, so compared before it). */
const tap = vi.hoisted(() => ({ videos: [] as Uint8Array[][] }));

vi.mock('../../../src-main/engine/pipelines/wan/output.ts', async (importOriginal) => {
  const original = await importOriginal<typeof WanOutput>();
  const { chunkToRgb } = await import('../../../src-main/engine/media/video-frames.ts');
  return {
    ...original,
    writeWanVideo: ((sink, chunks, o) => {
      const frames: Uint8Array[] = [];
      tap.videos.push(frames);
      // Converted with the stream's own conversion before the chunk is pushed (pushing transfers its buffer).
      async function* tee() {
        for await (const chunk of chunks) {
          frames.push(...chunkToRgb(chunk));
          yield chunk;
        }
      }
      return original.writeWanVideo(sink, tee(), o);
    }) satisfies typeof original.writeWanVideo,
  };
});

interface ReferenceJob extends WanPipelineJob {
  png: string;
  png_sha256: string;
  scheduler: { class: string; timesteps: number[]; sigmas: number[] };
  /** diffusers' frames of this job against those of the same job a little off (see pipeline.md). */
  sensitivity: Record<string, { max_diff: number; fraction_off_by_more_than_1: number }>;
}

interface ReferenceRecord {
  model_sha256: Record<string, string>;
  text_encoder_vocab_size: number;
  token_ids: Record<string, number[]>;
  jobs: ReferenceJob[];
}

const referenceDir = fileURLToPath(new URL('../../fixtures/reference/wan/', import.meta.url));
const record = JSON.parse(readFileSync(join(referenceDir, 'pipeline-reference.json'), 'utf8')) as ReferenceRecord;

const ffmpeg = await locateFfmpeg();

let tmp: { dir: string; cleanup: () => Promise<void> };
let source: string;
let prepared: Promise<string> | null = null;
let runtime: OrtRuntime;
let pipeline: WanPipeline;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function folderHashes(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[relative(folder, path)] = sha256(readFileSync(path));
  }
  return out;
}

beforeAll(async () => {
  tmp = await tempDir('wan-pipeline-reference');
  source = join(tmp.dir, 'checkpoints', WAN_PIPELINE_MODEL);
  await writeWanPipelineModel(source);
  runtime = new OrtRuntime({ sessionOptions: { intraOpNumThreads: 2, logSeverityLevel: 3 } });
  pipeline = new WanPipeline({ runtime, x264Preset: 'ultrafast' });
}, 60_000);

afterAll(async () => {
  await pipeline?.unload();
  await tmp?.cleanup();
});

/** One preparation, shared by the jobs. */
function prepare(): Promise<string> {
  prepared ??= prepareCheckpoint({ source, modelsDir: join(tmp.dir, 'models'), variants: ['cpu'] }).then((r) => {
    expect(r.manifest.kind).toBe('wan_diffusers');
    return r.folder;
  });
  return prepared;
}

function jobNamed(name: string): WanPipelineJob {
  const job = WAN_PIPELINE_JOBS.find((j) => j.name === name);
  if (!job) throw new Error(`no WAN pipeline job ${name}`);
  return job;
}

/** The studio's frames of one job: the MP4's frames before encoding, or the PNG read back. */
async function runJob(job: WanPipelineJob): Promise<Uint8Array[]> {
  const folder = await prepare();
  const stagingDir = join(tmp.dir, `out-${job.name}`);
  await mkdir(stagingDir);
  const params = wanParams({
    prompt: job.prompt,
    negativePrompt: job.negativePrompt,
    seed: job.seed,
    steps: job.steps,
    guidance: job.guidance,
    width: job.width,
    height: job.height,
    frames: job.frames,
    scheduler: job.sampler,
  });
  const before = tap.videos.length;
  const result = await pipeline.run(wanRequest(folder, stagingDir, params), fakeContext());
  expect(result.outputs).toHaveLength(1);
  const [out] = result.outputs;
  if (job.frames === 1) {
    const png = decodePng(readFileSync(out!.file));
    expect([png.width, png.height, png.channels]).toEqual([job.width, job.height, 3]);
    return [png.data];
  }
  expect(out).toMatchObject({ kind: 'video', width: job.width, height: job.height, frameCount: job.frames });
  expect(tap.videos.length).toBe(before + 1);
  return tap.videos[before]!;
}

/** diffusers' frames, stacked top to bottom in pipeline-<job>.png, one RGB array each. */
function referenceFrames(job: ReferenceJob): Uint8Array[] {
  const bytes = readFileSync(join(referenceDir, job.png));
  expect(sha256(bytes)).toBe(job.png_sha256);
  const png = decodePng(bytes);
  expect([png.width, png.height, png.channels]).toEqual([job.width, job.height * job.frames, 3]);
  const size = job.width * job.height * 3;
  return Array.from({ length: job.frames }, (_, i) => png.data.subarray(i * size, (i + 1) * size));
}

function referenceJob(name: string): ReferenceJob {
  const job = record.jobs.find((j) => j.name === name);
  if (!job) throw new Error(`pipeline-reference.json has no job ${name}`);
  return job;
}

describe("a whole WAN job on a prepared diffusers folder, against diffusers' WanPipeline", () => {
  it('writes the same model folder the reference was made from (sha256), and runs the same jobs', () => {
    expect(folderHashes(source)).toEqual(record.model_sha256);
    expect(record.jobs).toMatchObject(WAN_PIPELINE_JOBS);
  });

  it("tokenizes the prompts to diffusers' ids, all inside the tiny encoder's vocabulary", async () => {
    const tokenizer = await Umt5Tokenizer.fromDirectory(join(await prepare(), 'tokenizer'));
    expect(record.text_encoder_vocab_size).toBe(TINY_UMT5_CONFIG.vocab_size);
    const texts = [...new Set(WAN_PIPELINE_JOBS.flatMap((j) => [j.prompt, j.negativePrompt, '']))];
    expect(Object.keys(record.token_ids).sort()).toEqual(texts.sort());
    for (const text of texts) {
      const tok = tokenizer.encode(cleanWanPrompt(text), WAN_TEXT_LENGTH);
      const ids = [...tok.ids.subarray(0, tok.length)];
      expect(ids, text).toEqual(record.token_ids[text]);
      expect(Math.max(...ids), text).toBeLessThan(TINY_UMT5_CONFIG.vocab_size);
    }
  }, 120_000);

  it('has reference frames that vary, and that move with sampler, guidance and negative prompt', () => {
    for (const job of record.jobs) {
      expect(Object.keys(job.sensitivity).sort(), job.name).toEqual(['empty_negative', 'guidance_minus_0.5', 'other_sampler']);
      for (const [variant, s] of Object.entries(job.sensitivity)) {
        // Guidance 0.5 lower moves the one-frame image least: up to 3, in 0.24 % of its values.
        expect(s.max_diff, `${job.name}, ${variant}`).toBeGreaterThanOrEqual(3);
        expect(s.fraction_off_by_more_than_1, `${job.name}, ${variant}`).toBeGreaterThan(0.002);
      }
      const frames = referenceFrames(job);
      const all = new Uint8Array(frames.length * frames[0]!.length);
      frames.forEach((f, i) => all.set(f, i * f.length));
      const sorted = all.slice().sort();
      const at = (q: number): number => sorted[Math.floor(q * (sorted.length - 1))]!;
      expect(at(0.99) - at(0.01), job.name).toBeGreaterThan(50);
      // A frame landing in another frame's place would be far off.
      for (let i = 1; i < frames.length; i++) {
        let differing = 0;
        for (let k = 0; k < frames[0]!.length; k++) if (Math.abs(frames[i]![k]! - frames[0]![k]!) > 1) differing++;
        expect(differing / frames[0]!.length, `${job.name} frame ${i} vs 0`).toBeGreaterThan(0.5);
      }
    }
  });

  for (const name of WAN_PIPELINE_JOBS.map((j) => j.name)) {
    const job = jobNamed(name);
    const what = job.frames === 1 ? `the ${job.width}×${job.height} image` : `all ${job.frames} frames of the ${job.width}×${job.height} video`;
    it.skipIf(job.frames > 1 && !ffmpeg.ok)(`${name}: every value of ${what} within ±1 of diffusers`, async () => {
      const reference = referenceFrames(referenceJob(name));
      const frames = await runJob(job);
      expect(frames).toHaveLength(job.frames);
      let differing = 0;
      const maxPerFrame = frames.map((ours, i) => {
        const theirs = reference[i]!;
        expect(ours.length).toBe(theirs.length);
        let max = 0;
        for (let k = 0; k < ours.length; k++) {
          const d = Math.abs(ours[k]! - theirs[k]!);
          if (d > 0) differing++;
          if (d > max) max = d;
        }
        return max;
      });
      const total = job.frames * reference[0]!.length;
      const summary = `${name}: max |diff| per frame ${maxPerFrame.join(' ')}, ${differing} of ${total} values differ (${((100 * differing) / total).toFixed(3)} %)`;
      console.log(summary);
      expect(Math.max(...maxPerFrame), summary).toBeLessThanOrEqual(1);
      // Float rounding that lands on the other side of a byte boundary is rare (measured: at most
      // 0.007 % of the values); a real slip moves many more (guidance 0.1 off: 3.9 % of the image).
      expect(differing / total, summary).toBeLessThan(0.001);
    }, 180_000);
  }
});
