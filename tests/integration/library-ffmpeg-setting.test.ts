/**
 * The library reads and thumbnails videos with the ffmpeg set in Settings → Video, as video jobs
 * do: a user whose ffmpeg is not on PATH but set in Settings can import MP4s (duration, fps, tags
 * and a poster-frame thumbnail) and `library check` can read them. Without the setting the library
 * uses PATH as before, and a changed setting applies at once.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { Engine } from '../../src-main/engine/engine.ts';
import { invoke } from '../../src-main/cli/dispatch.ts';
import { locateFfmpeg } from '../../src-main/engine/media/ffmpeg-locate.ts';
import { mp4 } from '../fixtures/library/formats.ts';

/** The machine's ffmpeg (with libx264 and ffprobe), found before the tests hide PATH. */
const real = await locateFfmpeg();

const SAVED = ['PATH', 'STUDIO_FFMPEG', 'STUDIO_FFPROBE'] as const;
let saved: Partial<Record<(typeof SAVED)[number], string>>;
let root: string;
let engine: Engine | null = null;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'library-ffmpeg-setting-'));
  saved = {};
  for (const name of SAVED) saved[name] = process.env[name];
});
afterEach(async () => {
  await engine?.close();
  engine = null;
  for (const name of SAVED) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  rmSync(root, { recursive: true, force: true });
});

/** A static build unzipped somewhere off PATH: `<dir>/bin/ffmpeg` and `<dir>/bin/ffprobe`. */
function unzippedBuild(): string {
  if (!real.ok) throw new Error('no ffmpeg');
  const dir = join(root, 'ffmpeg-build');
  mkdirSync(join(dir, 'bin'), { recursive: true });
  symlinkSync(real.ffmpeg, join(dir, 'bin', 'ffmpeg'));
  symlinkSync(real.ffprobe, join(dir, 'bin', 'ffprobe'));
  return dir;
}

/** A folder of one clip (made while ffmpeg is still on PATH). */
function clipFolder(name: string, prompt: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  mp4(join(dir, 'clip.mp4'), { comment: `${prompt}\nSteps: 20, Sampler: Euler, CFG scale: 5, Seed: 4242` });
  return dir;
}

/** PATH without ffmpeg or ffprobe, and no STUDIO_FFMPEG: like a desktop session with ffmpeg unzipped elsewhere. */
function hideFfmpegFromPath(): void {
  const empty = join(root, 'empty-path');
  mkdirSync(empty, { recursive: true });
  process.env.PATH = empty;
  delete process.env.STUDIO_FFMPEG;
  delete process.env.STUDIO_FFPROBE;
}

async function openRunner(): Promise<Engine> {
  engine = await Engine.open({ dataDir: join(root, 'data'), frontDoor: 'serve', role: 'runner' });
  return engine;
}

describe.skipIf(!real.ok)('videos in the library with ffmpeg set in Settings → Video, not on PATH', () => {
  it('an imported MP4 gets its duration, tags and a thumbnail; without the setting it cannot be read', async () => {
    const build = unzippedBuild();
    const first = clipFolder('first', 'a timelapse of clouds');
    const second = clipFolder('second', 'waves on a pebble beach');
    hideFfmpegFromPath();
    const e = await openRunner();
    const h = e.handlers;

    // Nothing set and nothing on PATH: the video cannot be read (what users saw before the fix too).
    const without = await invoke(h, 'library.import', { dir: first });
    expect(without.imported).toEqual([]);
    expect(without.skipped).toEqual([expect.objectContaining({ source: 'clip.mp4', reason: 'unreadable' })]);
    expect(without.skipped[0]!.message).toMatch(/ffprobe was not found/);

    // As `studio settings set ffmpegPath` and the app's Choose ffmpeg… do (the window cannot name a program).
    await e.settings.update({ ffmpegPath: build });
    const report = await invoke(h, 'library.import', { dir: first });
    expect(report.skipped).toEqual([]);
    expect(report.imported).toHaveLength(1);
    const id = report.imported[0]!.id;
    expect(await invoke(h, 'library.get', { id })).toMatchObject({
      kind: 'video',
      mime: 'video/mp4',
      width: 64,
      height: 48,
      durationMs: 1000,
      fps: 8,
      frameCount: 8,
      prompt: 'a timelapse of clouds',
      seed: 4242,
    });

    await e.library.thumbnails.idle();
    const detail = (await invoke(h, 'library.get', { id }))!;
    expect(detail.thumbError).toBeNull();
    expect(detail.thumbUrl).toBe(`studio-media://asset/${id}/thumb`);
    const thumb = await e.library.resolveMedia(id, 'thumb');
    expect(thumb?.mime).toBe('image/webp');
    const meta = await sharp(thumb!.path).metadata();
    expect(meta.format).toBe('webp');
    // A poster frame of the 64×48 clip: its shape, within the thumbnail size.
    expect(meta.width! * 3).toBe(meta.height! * 4);
    expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(320);

    // Clearing the setting goes back to PATH (which has none) at once.
    await invoke(h, 'settings.update', { ffmpegPath: null });
    const cleared = await invoke(h, 'library.import', { dir: second });
    expect(cleared.skipped).toEqual([expect.objectContaining({ source: 'clip.mp4', reason: 'unreadable' })]);
  });

  it('`library check` reads and adopts a video left in the library folder with the ffmpeg from Settings', async () => {
    const build = unzippedBuild();
    const e = await openRunner();
    const orphan = join(e.library.root, 'user_uploads', '2024', '05', 'orphan.mp4');
    mkdirSync(join(e.library.root, 'user_uploads', '2024', '05'), { recursive: true });
    mp4(orphan, { comment: 'fog over a harbour\nSteps: 20, Sampler: Euler, CFG scale: 5, Seed: 7' });
    hideFfmpegFromPath();

    const unread = await invoke(e.handlers, 'library.check', { repair: true });
    expect(unread.findings).toEqual([expect.objectContaining({ kind: 'file-without-row', action: 'left-in-place' })]);
    expect(unread.findings[0]!.message).toMatch(/cannot be read as media .*ffprobe was not found/);

    await e.settings.update({ ffmpegPath: join(build, 'bin', 'ffmpeg') });
    const adopted = await invoke(e.handlers, 'library.check', { repair: true });
    expect(adopted.findings).toEqual([expect.objectContaining({ kind: 'file-without-row', action: 'adopted' })]);
    const id = adopted.findings[0]!.assetId!;
    expect(await invoke(e.handlers, 'library.get', { id })).toMatchObject({ kind: 'video', durationMs: 1000, prompt: 'fog over a harbour' });
    await e.library.thumbnails.idle();
    expect((await invoke(e.handlers, 'library.get', { id }))!.thumbError).toBeNull();
    expect((await e.library.resolveMedia(id, 'thumb'))?.mime).toBe('image/webp');
  });
});
