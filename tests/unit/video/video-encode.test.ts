import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FfmpegMissingError } from '../../../src-main/engine/media/ffmpeg-locate.ts';
import { VideoEncodeError, encodeMp4 } from '../../../src-main/engine/media/video-encode.ts';
import type { EncodeProgress, X264Preset } from '../../../src-main/engine/media/video-encode.ts';
import { readVideoRecipeMetadata } from '../../../src-main/engine/media/video-metadata.ts';
import { probeVideo, readMp4TopLevelBoxes } from '../../../src-main/engine/media/video-probe.ts';
import { parseA1111Parameters } from '../../../src-main/engine/media/a1111.ts';
import { CancelledError } from '../../../src-main/engine/pipelines/types.ts';
import { HAS_EXIFTOOL, HAS_FFMPEG, RECIPE, entries, gradientFrame, gradientFrames, metadataFor, solidFrame, tempDir } from './helpers.ts';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('encodeMp4 argument checks (no ffmpeg run)', () => {
  it.each([
    [481, 832],
    [480, 833],
    [63, 63],
  ])('refuses odd size %i×%i with a clear error, writing nothing', async (width, height) => {
    const error = await encodeMp4({ frames: [solidFrame(width, height, [1, 2, 3])], width, height, outPath: join(dir, 'odd.mp4'), metadata: metadataFor() }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VideoEncodeError);
    expect(error).toMatchObject({ code: 'invalid_video_size' });
    expect((error as Error).message).toContain(`${width}×${height}`);
    expect((error as Error).message).toMatch(/even width and height/);
    expect(entries(dir)).toEqual([]);
  });

  it('refuses an empty clip and a bad fps', async () => {
    const base = { width: 64, height: 64, outPath: join(dir, 'x.mp4'), metadata: metadataFor() };
    await expect(encodeMp4({ ...base, frames: [] })).rejects.toMatchObject({ code: 'no_frames' });
    await expect(encodeMp4({ ...base, frames: [solidFrame(64, 64, [0, 0, 0])], fps: 0 })).rejects.toMatchObject({ code: 'invalid_video_options' });
    expect(entries(dir)).toEqual([]);
  });

  it('says ffmpeg is missing, with the advice, when the setting points nowhere', async () => {
    const error = await encodeMp4({
      frames: [solidFrame(64, 64, [0, 0, 0])],
      width: 64,
      height: 64,
      outPath: join(dir, 'x.mp4'),
      metadata: metadataFor(),
      ffmpegPath: join(dir, 'no-such-ffmpeg'),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FfmpegMissingError);
    expect((error as Error).message).toContain('Settings → Video');
    expect(entries(dir)).toEqual([]);
  });

  it('is cancelled at once when the signal is already aborted, without reading a frame', async () => {
    let pulled = 0;
    async function* frames(): AsyncGenerator<Uint8Array> {
      pulled++;
      yield solidFrame(64, 64, [0, 0, 0]);
    }
    await expect(
      encodeMp4({ frames: frames(), width: 64, height: 64, outPath: join(dir, 'x.mp4'), metadata: metadataFor(), signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(pulled).toBe(0);
    expect(entries(dir)).toEqual([]);
  });
});

describe.skipIf(!HAS_FFMPEG)('encodeMp4 with the installed ffmpeg', () => {
  it.each([
    [64, 64],
    [480, 832],
  ])('writes 17 frames at %i×%i as H.264 yuv420p, 16 fps, faststart, with the recipe', async (width, height) => {
    const outPath = join(dir, 'clip.mp4');
    const progress: EncodeProgress[] = [];
    const result = await encodeMp4({
      frames: gradientFrames(width, height, 17),
      width,
      height,
      fps: 16,
      outPath,
      metadata: metadataFor(),
      onProgress: (p) => progress.push(p),
    });
    expect(result).toMatchObject({ file: outPath, width, height, fps: 16, frameCount: 17, durationMs: 1062.5 });
    expect(entries(dir)).toEqual(['clip.mp4']);

    const probe = await probeVideo(outPath);
    expect(probe).toMatchObject({ codec: 'h264', pixFmt: 'yuv420p', width, height, fps: 16, frames: 17, colorSpace: 'bt709', colorRange: 'tv' });
    expect(probe.durationMs).toBeCloseTo(1062.5, 0);
    expect(probe.faststart).toBe(true);
    const boxes = (await readMp4TopLevelBoxes(outPath)).map((b) => b.type);
    expect(boxes.indexOf('moov')).toBeGreaterThan(-1);
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));

    const read = readVideoRecipeMetadata(probe.tags);
    expect(read.recipe).toEqual(RECIPE);
    expect(read.title).toBe('a red fox runs through snow; camera tracks = left # dusk \\ glow');
    const infotext = parseA1111Parameters(read.parameters!);
    expect(infotext.prompt).toBe(RECIPE.prompt);
    expect(infotext.negativePrompt).toBe(RECIPE.negativePrompt);
    expect(infotext.params).toMatchObject({ Steps: '4', Seed: String(RECIPE.seed), Model: RECIPE.model, 'Job type': 'video_fast', Frames: '17', FPS: '16' });

    expect(progress.at(-1)).toMatchObject({ done: true, encodedFrames: 17, sentFrames: 17, of: 17 });
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.sentFrames).toBeGreaterThanOrEqual(progress[i - 1]!.sentFrames);
  });

  it.skipIf(!HAS_EXIFTOOL)('tags that exiftool reads too', async () => {
    const outPath = join(dir, 'clip.mp4');
    await encodeMp4({ frames: gradientFrames(64, 64, 17), width: 64, height: 64, outPath, metadata: { ...metadataFor(), comment: 'kept for later' } });
    const tags = JSON.parse(execFileSync('exiftool', ['-j', '-Title', '-Comment', '-Description', '-LongDescription', outPath], { encoding: 'utf8' }))[0];
    expect(JSON.parse(tags.Comment)).toEqual(RECIPE);
    expect(tags.Title).toContain('a red fox');
    expect(tags.Description).toContain('Seed: 1234567890');
    expect(tags.LongDescription).toBe('kept for later');
  });

  it.skipIf(!HAS_EXIFTOOL)('says a model made it (XMP DigitalSourceType) and when (a real creation time), as exiftool and ffprobe read', async () => {
    const outPath = join(dir, 'clip.mp4');
    const before = Date.now();
    await encodeMp4({ frames: gradientFrames(64, 64, 5), width: 64, height: 64, outPath, metadata: metadataFor() });
    const tags = JSON.parse(
      execFileSync('exiftool', ['-j', '-G1', '-a', '-m', '-DigitalSourceType', '-CreatorTool', '-QuickTime:CreateDate', '-Warning', '-d', '%s', outPath], { encoding: 'utf8' }),
    )[0];
    expect(tags['XMP-iptcExt:DigitalSourceType']).toBe('http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia');
    expect(tags['XMP-xmp:CreatorTool']).toBe('OurVidz Studio');
    expect(tags['ExifTool:Warning']).toBeUndefined();
    // CreateDate to the second, as exiftool reads the movie header: now, not 0000:00:00.
    const created = Number(tags['QuickTime:CreateDate']) * 1000;
    expect(created).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(created).toBeLessThanOrEqual(Date.now());
    const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-export_xmp', '1', '-print_format', 'json', '-show_format', outPath], { encoding: 'utf8' }));
    expect(Date.parse(probe.format.tags.creation_time)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(probe.format.tags.xmp).toContain('trainedAlgorithmicMedia');
    // The box after the media data leaves the file playable: every frame decodes.
    const decoded = execFileSync('ffmpeg', ['-v', 'error', '-i', outPath, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 24 });
    expect(decoded.byteLength).toBe(5 * 64 * 64 * 3);
  });

  it('keeps colours: BT.709 conversion and tags, so decoding gives back the RGB', async () => {
    const colours: Array<[number, number, number]> = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [200, 120, 40],
    ];
    const outPath = join(dir, 'colours.mp4');
    await encodeMp4({ frames: colours.map((c) => solidFrame(64, 64, c)), width: 64, height: 64, outPath, metadata: metadataFor(), crf: 10 });
    const decoded = execFileSync('ffmpeg', ['-v', 'error', '-i', outPath, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 24 });
    const frameBytes = 64 * 64 * 3;
    expect(decoded.byteLength).toBe(colours.length * frameBytes);
    colours.forEach((rgb, f) => {
      const centre = f * frameBytes + (32 * 64 + 32) * 3;
      for (let c = 0; c < 3; c++) expect(Math.abs(decoded[centre + c]! - rgb[c]!)).toBeLessThanOrEqual(4);
    });
  });

  it('streams an async producer lazily and reports frames as they go', async () => {
    const outPath = join(dir, 'stream.mp4');
    async function* frames(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 33; i++) yield gradientFrame(96, 160, i);
    }
    const result = await encodeMp4({ frames: frames(), frameCount: 33, width: 96, height: 160, outPath, metadata: metadataFor() });
    expect(result.frameCount).toBe(33);
    expect((await probeVideo(outPath)).frames).toBe(33);
  });

  it.skipIf(process.platform !== 'linux')('applies backpressure: while ffmpeg is stopped, the producer is not read ahead', async () => {
    const width = 480;
    const height = 832;
    let pulled = 0;
    let pulledWhenStopped = -1;
    let pulledAfterWait = -1;
    async function* frames(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 40; i++) {
        if (i === 3) {
          // ffmpeg has read some frames; freeze it and see how far the producer gets.
          const pid = ffmpegChildPid();
          process.kill(pid, 'SIGSTOP');
          pulledWhenStopped = pulled;
          setTimeout(() => {
            pulledAfterWait = pulled;
            process.kill(pid, 'SIGCONT');
          }, 700);
        }
        pulled++;
        yield gradientFrame(width, height, i);
      }
    }
    const outPath = join(dir, 'long.mp4');
    await encodeMp4({ frames: frames(), frameCount: 40, width, height, outPath, metadata: metadataFor(), preset: 'ultrafast' });
    // 40 frames of 1.2 MB would be read in a few ms without backpressure; with it, only what fits
    // in the stream buffers (one frame each side of the pipe) is read while ffmpeg is frozen.
    expect(pulledWhenStopped).toBe(3);
    expect(pulledAfterWait - pulledWhenStopped).toBeLessThanOrEqual(3);
    expect((await probeVideo(outPath)).frames).toBe(40);
  });

  it('cancelling mid-encode kills ffmpeg and leaves no file and no temp', async () => {
    const controller = new AbortController();
    let finalized = false;
    async function* frames(): AsyncGenerator<Uint8Array> {
      try {
        for (let i = 0; i < 65; i++) {
          if (i === 8) controller.abort();
          yield gradientFrame(480, 832, i);
          await new Promise((r) => setTimeout(r, 5));
        }
      } finally {
        finalized = true;
      }
    }
    const outPath = join(dir, 'cancelled.mp4');
    const error = await encodeMp4({ frames: frames(), frameCount: 65, width: 480, height: 832, outPath, metadata: metadataFor(), signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CancelledError);
    expect(entries(dir)).toEqual([]);
    expect(finalized).toBe(true);
  });

  it('a frame of the wrong size fails the encode and leaves nothing', async () => {
    const frames = [solidFrame(64, 64, [0, 0, 0]), solidFrame(64, 64, [1, 1, 1]), new Uint8Array(100)];
    const error = await encodeMp4({ frames, width: 64, height: 64, outPath: join(dir, 'bad.mp4'), metadata: metadataFor() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'bad_frame' });
    expect((error as Error).message).toMatch(/frame 2 has 100 bytes; a 64×64 RGB frame has 12288 bytes/);
    expect(entries(dir)).toEqual([]);
  });

  it('a failing producer fails the encode with its own error and leaves nothing', async () => {
    async function* frames(): AsyncGenerator<Uint8Array> {
      yield solidFrame(64, 64, [0, 0, 0]);
      throw new Error('VAE decode ran out of memory');
    }
    await expect(
      encodeMp4({ frames: frames(), frameCount: 17, width: 64, height: 64, outPath: join(dir, 'x.mp4'), metadata: metadataFor() }),
    ).rejects.toThrow('VAE decode ran out of memory');
    expect(entries(dir)).toEqual([]);
  });

  it('a clip shorter than frameCount is refused, not written short', async () => {
    const error = await encodeMp4({
      frames: (async function* () {
        for (let i = 0; i < 5; i++) yield solidFrame(64, 64, [i, i, i]);
      })(),
      frameCount: 17,
      width: 64,
      height: 64,
      outPath: join(dir, 'short.mp4'),
      metadata: metadataFor(),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'frame_count_mismatch' });
    expect((error as Error).message).toContain('after 5 of the 17 frames');
    expect(entries(dir)).toEqual([]);
  });

  it('ffmpeg exiting non-zero gives an error carrying its last stderr lines', async () => {
    const error = await encodeMp4({
      frames: gradientFrames(64, 64, 3),
      width: 64,
      height: 64,
      outPath: join(dir, 'x.mp4'),
      metadata: metadataFor(),
      preset: 'warp-speed' as X264Preset,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VideoEncodeError);
    expect(error).toMatchObject({ code: 'ffmpeg_failed' });
    const tail = (error as VideoEncodeError).stderrTail;
    expect(tail.some((l) => l.includes('warp-speed'))).toBe(true);
    expect((error as Error).message).toContain('warp-speed');
    expect(entries(dir)).toEqual([]);
  });

  it('a folder that does not exist gives a clear error', async () => {
    const outPath = join(dir, 'missing', 'clip.mp4');
    const error = await encodeMp4({ frames: gradientFrames(64, 64, 2), width: 64, height: 64, outPath, metadata: metadataFor() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'output_unwritable' });
    expect((error as Error).message).toContain(join(dir, 'missing'));
    expect(entries(dir)).toEqual([]);
  });

  it('a throwing progress callback fails the encode instead of crashing', async () => {
    const error = await encodeMp4({
      frames: gradientFrames(64, 64, 4),
      width: 64,
      height: 64,
      outPath: join(dir, 'x.mp4'),
      metadata: metadataFor(),
      onProgress: () => {
        throw new Error('UI went away');
      },
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('UI went away');
    expect(entries(dir)).toEqual([]);
  });

  it('replaces an existing file only when the new one is complete', async () => {
    const outPath = join(dir, 'clip.mp4');
    await encodeMp4({ frames: gradientFrames(64, 64, 5), width: 64, height: 64, outPath, metadata: metadataFor() });
    const before = readFileSync(outPath);
    const controller = new AbortController();
    async function* frames(): AsyncGenerator<Uint8Array> {
      yield solidFrame(64, 64, [9, 9, 9]);
      controller.abort();
      yield solidFrame(64, 64, [9, 9, 9]);
    }
    await expect(
      encodeMp4({ frames: frames(), frameCount: 5, width: 64, height: 64, outPath, metadata: metadataFor(), signal: controller.signal }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(readFileSync(outPath).equals(before)).toBe(true);
    expect(entries(dir)).toEqual(['clip.mp4']);
  });
});

/** The pid of the ffmpeg this test process spawned (Linux /proc). */
function ffmpegChildPid(): number {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid …
    const match = /^\d+ \((.*)\) \S (\d+)/.exec(stat);
    if (match !== null && match[1] === 'ffmpeg' && Number(match[2]) === process.pid) return Number(name);
  }
  throw new Error('no ffmpeg child process found');
}
