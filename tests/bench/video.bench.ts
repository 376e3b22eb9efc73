/**
 * Video figures: MP4 encode time per frame at WAN's 480×832 (17 and 65 frames, x264 `medium`,
 * CRF 18, what video jobs use), and how much the process grows while streaming a clip from a lazy
 * producer (backpressure keeps it near one frame, whatever the length).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

async function timeEncode(dir: string, frames: Uint8Array[]): Promise<number> {
  const t0 = performance.now();
  await encodeMp4({ frames, width: WIDTH, height: HEIGHT, fps: 16, outPath: join(dir, 'bench.mp4'), metadata });
  return performance.now() - t0;
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
      clip65.length = 0;
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
