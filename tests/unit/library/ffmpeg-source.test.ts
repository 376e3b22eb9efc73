/**
 * Where the library's ffmpeg/ffprobe come from: fixed paths (tests, tools), or a lookup (the
 * engine's located ffmpeg, from Settings → Video) asked only when a video is read, each time, with
 * STUDIO_FFMPEG/PATH when it answers nothing.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultFfmpegPaths, posterFrame, resolveFfmpegPaths } from '../../../src-main/engine/library/metadata/ffmpeg.ts';
import type { FfmpegPaths } from '../../../src-main/engine/library/metadata/ffmpeg.ts';
import { locateFfmpeg } from '../../../src-main/engine/media/ffmpeg-locate.ts';
import { decodePng } from '../../../src-main/engine/media/png-decode.ts';
import { mp4, pilPng } from '../../fixtures/library/formats.ts';
import { addAsset, makeWorld, writeRaw } from '../../fixtures/library/world.ts';
import type { World } from '../../fixtures/library/world.ts';

const real = await locateFfmpeg();

const SAVED = ['PATH', 'STUDIO_FFMPEG', 'STUDIO_FFPROBE'] as const;
let saved: Partial<Record<(typeof SAVED)[number], string>>;
beforeEach(() => {
  saved = {};
  for (const name of SAVED) saved[name] = process.env[name];
});
afterEach(() => {
  for (const name of SAVED) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

describe('resolveFfmpegPaths', () => {
  it('uses fixed paths as given, a lookup’s answer, and STUDIO_FFMPEG or PATH when there is none', async () => {
    process.env.STUDIO_FFMPEG = '/opt/env/ffmpeg';
    delete process.env.STUDIO_FFPROBE;
    const fixed: FfmpegPaths = { ffmpeg: '/fixed/ffmpeg', ffprobe: '/fixed/ffprobe' };
    expect(await resolveFfmpegPaths(fixed)).toBe(fixed);
    expect(await resolveFfmpegPaths(async () => fixed)).toBe(fixed);
    expect(await resolveFfmpegPaths()).toEqual({ ffmpeg: '/opt/env/ffmpeg', ffprobe: 'ffprobe' });
    expect(await resolveFfmpegPaths(async () => null)).toEqual(defaultFfmpegPaths());
    expect(await resolveFfmpegPaths(() => Promise.reject(new Error('lookup failed')))).toEqual(defaultFfmpegPaths());
  });
});

describe.skipIf(!real.ok)('a Library given an ffmpeg lookup', () => {
  let w: World;
  let answer: FfmpegPaths | null;
  let asked: number;
  let clip: Buffer;

  beforeEach(() => {
    if (!real.ok) throw new Error('no ffmpeg');
    answer = { ffmpeg: real.ffmpeg, ffprobe: real.ffprobe };
    asked = 0;
    w = makeWorld({
      ffmpeg: async () => {
        asked++;
        return answer;
      },
    });
    mp4(join(w.dir, 'clip.mp4'));
    clip = readFileSync(join(w.dir, 'clip.mp4'));
    // Nothing on PATH: only the lookup's binaries can read a video.
    const empty = join(w.dir, 'empty-path');
    mkdirSync(empty);
    process.env.PATH = empty;
    delete process.env.STUDIO_FFMPEG;
    delete process.env.STUDIO_FFPROBE;
  });
  afterEach(async () => {
    await w.close();
  });

  it('is not asked for images, is asked for videos, and its binaries read them', async () => {
    writeRaw(join(w.dir, 'pics', 'a.png'), pilPng({ width: 8, height: 8, seed: 1 }));
    expect((await w.library.import(join(w.dir, 'pics'))).imported).toHaveLength(1);
    await w.library.thumbnails.idle();
    expect(asked).toBe(0);

    writeRaw(join(w.dir, 'videos', 'clip.mp4'), clip);
    const report = await w.library.import(join(w.dir, 'videos'));
    expect(report.imported).toHaveLength(1);
    await w.library.thumbnails.idle();
    const video = w.library.get(report.imported[0]!.id)!;
    expect(video).toMatchObject({ kind: 'video', durationMs: 1000, thumbError: null });
    expect(asked).toBe(3); // ffprobe and the decode check on import, ffmpeg for the poster frame
  });

  it('is asked again for each video, so a changed answer applies to the next thumbnail', async () => {
    const first = addAsset(w, { kind: 'video', bytes: clip });
    w.library.thumbnails.enqueue([first]);
    await w.library.thumbnails.idle();
    expect(w.library.get(first)!.thumbError).toBeNull();
    expect((await w.library.resolveMedia(first, 'thumb'))?.mime).toBe('image/webp');

    answer = null; // the setting cleared: PATH, which has no ffmpeg
    const second = addAsset(w, { kind: 'video', bytes: Buffer.concat([clip, Buffer.from([0])]) });
    w.library.thumbnails.enqueue([second]);
    await w.library.thumbnails.idle();
    expect(w.library.get(second)!.thumbError).toMatch(/ffmpeg was not found/);
  });
});

describe.skipIf(!real.ok)('posterFrame', () => {
  it('shrinks a large clip into the box keeping its aspect ratio, and never enlarges a small one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poster-'));
    try {
      const sizes: [number, number, number, number][] = [
        [640, 360, 320, 180],
        [64, 48, 64, 48],
        [200, 600, 107, 320],
      ];
      for (const [w, h, ew, eh] of sizes) {
        const file = join(dir, `${w}x${h}.mp4`);
        execFileSync(real.ok ? real.ffmpeg : 'ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=s=${w}x${h}:rate=8`, '-frames:v', '8', '-pix_fmt', 'yuv420p', file]);
        const png = decodePng(await posterFrame(file, 1000, 320, real.ok ? { ffmpeg: real.ffmpeg, ffprobe: real.ffprobe } : undefined));
        expect([png.width, png.height], `${w}×${h}`).toEqual([ew, eh]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
