/**
 * The Electron build's video thread and ffmpeg host (out/main/pipelines/video-thread.js and
 * ffmpeg-host.js, bundled by electron-vite): the bundled thread finds the bundled host and encodes
 * through it. `npm test` builds before it runs the tests; without a build this file is skipped.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../../../src-main/engine/media/ffmpeg-locate.ts';
import { VideoEncoderHost } from '../../../src-main/engine/media/video-encoder.ts';
import { probeVideo } from '../../../src-main/engine/media/video-probe.ts';
import { HAS_FFMPEG, gradientFrames, metadataFor, tempDir } from './helpers.ts';

const built = new URL('../../../out/main/pipelines/video-thread.js', import.meta.url);
const BUILT = existsSync(fileURLToPath(built)) && existsSync(fileURLToPath(new URL('./ffmpeg-host.js', built)));

let dir = '';

function childrenOf(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
  } catch {
    return []; // the process ended meanwhile
  }
}

function comm(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!BUILT || !HAS_FFMPEG)('the built video thread and ffmpeg host', () => {
  it('encodes a clip through the bundled host, with nothing to fall back from', async () => {
    dir = tempDir();
    const found = await locateFfmpeg();
    if (!found.ok) throw new Error(found.message);
    const said: string[] = [];
    const host = new VideoEncoderHost({ entry: built, log: (m) => said.push(m) });
    try {
      // The host may still be starting right after the thread: give it a moment before the clip.
      host.warm();
      await new Promise((r) => setTimeout(r, 1500));
      const sink = host.open({ width: 64, height: 48, fps: 16, outPath: join(dir, '00.mp4'), metadata: metadataFor(), frameCount: 9, ffmpeg: found, lowLatency: true, thumbnail: { dir, name: '00.thumb.png', maxSide: 32 } });
      await sink.push({ kind: 'rgb24', frames: gradientFrames(64, 48, 5) });
      if (process.platform === 'linux') {
        // ffmpeg runs under the host process, a child of this one — not directly under this one.
        let hosted = false;
        for (let i = 0; i < 150 && !hosted; i++) {
          hosted = childrenOf(process.pid).some((pid) => childrenOf(Number(pid)).some((c) => comm(c) === 'ffmpeg'));
          if (!hosted) await new Promise((r) => setTimeout(r, 20));
        }
        expect(hosted).toBe(true);
        expect(childrenOf(process.pid).map(comm)).not.toContain('ffmpeg');
      }
      await sink.push({ kind: 'rgb24', frames: gradientFrames(64, 48, 4) });
      const result = await sink.end();
      expect(await probeVideo(result.video.file)).toMatchObject({ codec: 'h264', frames: 9, width: 64, height: 48 });
      expect(result.thumbFile).toBe(join(dir, '00.thumb.png'));
      expect(said).toEqual([]);
      expect(host.fallbackReason).toBeNull();
    } finally {
      await host.close();
    }
  });
});
