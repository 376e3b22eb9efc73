/**
 * Video figures: MP4 encode time per frame at WAN's 480×832 (17 and 65 frames, x264 `medium`,
 * CRF 18, what video jobs use), and how much the process grows while streaming a clip from a lazy
 * producer (backpressure keeps it near one frame, whatever the length); and the low-latency mode
 * WAN's streams use against the default: speed, file size and SSIM on the same frames.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { locateFfmpeg } from '../../src-main/engine/media/ffmpeg-locate.ts';
import { encodeMp4 } from '../../src-main/engine/media/video-encode.ts';
import type { VideoMetadata } from '../../src-main/engine/media/video-metadata.ts';
import type { Bench, Figure } from './harness.ts';
import { median } from './harness.ts';

const WIDTH = 480;
const HEIGHT = 832;
const FRAME_MB = (WIDTH * HEIGHT * 3) / 2 ** 20;

const metadata: VideoMetadata = {
  prompt: 'benchmark clip',
  seed: 1,
  model: 'bench',
  steps: 4,
  jobType: 'video_fast',
  recipe: { bench: true },
};

/** A moving pattern with smooth areas and edges, new every frame (x264's speed depends on content). */
function frame(index: number): Uint8Array {
  const data = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const p = (y * WIDTH + x) * 3;
      const r = Math.hypot(x - WIDTH / 2 - index * 3, y - HEIGHT / 2);
      data[p] = (x + index * 5) & 0xff;
      data[p + 1] = (128 + 127 * Math.sin(r / 12 - index / 3)) | 0;
      data[p + 2] = ((x >> 4) ^ (y >> 4)) & 1 ? 200 : 40;
    }
  }
  return data;
}

async function* lazyFrames(count: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) yield frame(i);
}

async function timeEncode(dir: string, frames: Uint8Array[], lowLatency = false, name = 'bench.mp4'): Promise<number> {
  const t0 = performance.now();
  await encodeMp4({ frames, width: WIDTH, height: HEIGHT, fps: 16, outPath: join(dir, name), metadata, lowLatency });
  return performance.now() - t0;
}

/** Mean SSIM (all planes) of an MP4 against the raw RGB frames it was made from, by ffmpeg's ssim filter. */
function ssim(ffmpegPath: string, mp4: string, raw: string): number {
  const r = spawnSync(
    ffmpegPath,
    ['-hide_banner', '-i', mp4, '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', `${WIDTH}x${HEIGHT}`, '-framerate', '16', '-i', raw,
      '-lavfi', '[1:v]scale=out_color_matrix=bt709:out_range=tv,format=yuv420p[ref];[0:v][ref]ssim', '-f', 'null', '-'],
    { encoding: 'utf8' },
  );
  const m = /All:([0-9.]+)/.exec(r.stderr);
  return m ? Number(m[1]) : NaN;
}

/** Highest RSS seen (sampled every 5 ms) while streaming `count` frames, minus RSS before. */
async function rssGrowth(dir: string, count: number): Promise<number> {
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  try {
    await encodeMp4({ frames: lazyFrames(count), frameCount: count, width: WIDTH, height: HEIGHT, outPath: join(dir, 'rss.mp4'), metadata });
  } finally {
    clearInterval(timer);
  }
  return (Math.max(peak, process.memoryUsage().rss) - before) / 2 ** 20;
}

export const videoBench: Bench = {
  name: 'video',
  async run(): Promise<Figure[]> {
    const found = await locateFfmpeg();
    if (!found.ok) {
      console.log(`skipped: ${found.message}`);
      return [];
    }
    const dir = mkdtempSync(join(tmpdir(), 'bench-video-'));
    const figures: Figure[] = [];
    const note = `ffmpeg ${found.version}, libx264 medium CRF 18, yuv420p BT.709, faststart`;
    try {
      const clip65 = Array.from({ length: 65 }, (_, i) => frame(i));
      await timeEncode(dir, clip65.slice(0, 5)); // first run pays fluent-ffmpeg's capability probe
      for (const count of [17, 65]) {
        const runs: number[] = [];
        for (let i = 0; i < 3; i++) runs.push(await timeEncode(dir, clip65.slice(0, count)));
        const ms = median(runs);
        figures.push({ name: `MP4 encode, ${count} frames at ${WIDTH}×${HEIGHT}: whole clip (median of 3)`, value: ms, unit: 'ms', note });
        figures.push({ name: `MP4 encode, ${count} frames at ${WIDTH}×${HEIGHT}: per frame`, value: ms / count, unit: 'ms/frame' });
      }
      // WAN's streaming mode (EncodeMp4Options.lowLatency) against the default, on the same 33 frames.
      const clip33 = clip65.slice(0, 33);
      const raw = join(dir, 'clip33.rgb');
      writeFileSync(raw, Buffer.concat(clip33));
      const lowRuns: number[] = [];
      for (let i = 0; i < 3; i++) lowRuns.push(await timeEncode(dir, clip33, true, 'low.mp4'));
      await timeEncode(dir, clip33, false, 'default.mp4');
      figures.push({ name: `MP4 encode, 33 frames, low-latency mode (what WAN streams use): per frame`, value: median(lowRuns) / 33, unit: 'ms/frame', note: 'no B-frames, no lookahead, slice threads' });
      figures.push({ name: 'low-latency file size / default file size, same frames and CRF', value: statSync(join(dir, 'low.mp4')).size / statSync(join(dir, 'default.mp4')).size, unit: '×' });
      figures.push({ name: 'SSIM against the source: default', value: ssim(found.ffmpeg, join(dir, 'default.mp4'), raw), unit: '' });
      figures.push({ name: 'SSIM against the source: low-latency', value: ssim(found.ffmpeg, join(dir, 'low.mp4'), raw), unit: '' });
      clip65.length = 0;
      const spawnCost = JSON.parse(
        execFileSync(process.execPath, [fileURLToPath(new URL('./children/spawn-cost.ts', import.meta.url)), '4'], { encoding: 'utf8' }),
      ) as { smallMs: number; bigMs: number; rssGb: number };
      figures.push({ name: 'spawning a child from a fresh Node process (median of 5)', value: spawnCost.smallMs, unit: 'ms' });
      figures.push({
        name: `spawning a child from a Node process holding ${spawnCost.rssGb.toFixed(1)} GB (median of 5)`,
        value: spawnCost.bigMs,
        unit: 'ms',
        note: 'fork() copies the page tables: why ffmpeg is spawned by the small ffmpeg host, not the worker',
      });
      const grow17 = await rssGrowth(dir, 17);
      const grow65 = await rssGrowth(dir, 65);
      figures.push({ name: `process growth streaming 17 frames from a lazy producer`, value: grow17, unit: 'MiB', note: `one frame is ${FRAME_MB.toFixed(2)} MiB` });
      figures.push({
        name: `process growth streaming 65 frames from a lazy producer`,
        value: grow65,
        unit: 'MiB',
        // Buffering the clip would add 65 frames (~77 MiB); backpressure keeps it to a few frames.
        target: { op: '<', value: Math.round(grow17 + 20 * FRAME_MB) },
        note: `the 65 frames are ${(65 * FRAME_MB).toFixed(0)} MiB raw`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return figures;
  },
};
