/**
 * RGB frames → H.264 MP4 that carries its recipe, through fluent-ffmpeg driving the located ffmpeg.
 *
 *  - rawvideo rgb24 on stdin, pulled one frame at a time: the pipe into ffmpeg's stdin applies
 *    backpressure, so a long clip never sits in memory (a lazy producer such as a frame-by-frame VAE
 *    decode runs only as fast as x264 consumes);
 *  - libx264, yuv420p converted with the BT.709 matrix and tagged BT.709/limited range (swscale's
 *    default is BT.601, which players then read as 709: greens shift by ~40 levels), CRF 18,
 *    `-movflags +faststart` so the moov atom comes before mdat and playback starts at once;
 *  - the tags of video-metadata.ts (recipe, infotext, creation time) through an ffmetadata file,
 *    and after ffmpeg the XMP box saying a model made it (IPTC DigitalSourceType);
 *  - written to a temp file beside the target (the atomic-write naming, so start-up cleanup
 *    recognises leftovers), fsynced and renamed only on success. Cancelling kills ffmpeg and removes
 *    the temp: there is never a partial MP4 under the final name.
 */
import type { ChildProcess } from 'node:child_process';
import { appendFile, unlink, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { commitTempFile, tempPathFor } from '../fs/atomic-write.ts';
import { CancelledError, PipelineError } from '../pipelines/types.ts';
import { requireFfmpeg } from './ffmpeg-locate.ts';
import type { FfmpegFound } from './ffmpeg-locate.ts';
import { ProgressBlockReader, isProgressKeyValueLine } from './ffmpeg-progress.ts';
import { buildXmpPacket, DIGITAL_SOURCE_TYPE_TRAINED_ALGORITHMIC } from './png-generated.ts';
import { ffmetadataFile, mp4XmpBox, videoTags } from './video-metadata.ts';
import { APP_NAME } from '../version.ts';
import type { VideoMetadata } from './video-metadata.ts';

export type VideoEncodeErrorCode =
  | 'invalid_video_size'
  | 'invalid_video_options'
  | 'bad_frame'
  | 'no_frames'
  | 'frame_count_mismatch'
  | 'output_unwritable'
  | 'ffmpeg_failed';

/** A video could not be written; `stderrTail` holds ffmpeg's last messages when it was ffmpeg. */
export class VideoEncodeError extends PipelineError {
  readonly stderrTail: readonly string[];
  constructor(code: VideoEncodeErrorCode, message: string, stderrTail: readonly string[] = [], options?: { cause?: unknown }) {
    super(code, message);
    this.name = 'VideoEncodeError';
    this.stderrTail = stderrTail;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

export type X264Preset =
  | 'ultrafast'
  | 'superfast'
  | 'veryfast'
  | 'faster'
  | 'fast'
  | 'medium'
  | 'slow'
  | 'slower'
  | 'veryslow';

export interface EncodeProgress {
  /** Frames ffmpeg has encoded (x264's lookahead makes this trail the frames sent). */
  readonly encodedFrames: number;
  /** Frames handed to ffmpeg so far. */
  readonly sentFrames: number;
  /** Frames in the clip when known (an array, or `frameCount` given); else null. */
  readonly of: number | null;
  readonly speed: number | null;
  readonly done: boolean;
}

export type VideoFrames = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface EncodeMp4Options {
  /** RGB24 frames, `width × height × 3` bytes each, top row first. Read once, lazily. */
  readonly frames: VideoFrames;
  readonly width: number;
  readonly height: number;
  /** Frames per second (default 16, WAN 2.1's rate). */
  readonly fps?: number;
  /** Final path of the MP4. Its folder must exist. */
  readonly outPath: string;
  readonly metadata: VideoMetadata;
  /** Frames the clip must have; a mismatch fails the encode. Also the `of` of progress. */
  readonly frameCount?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: EncodeProgress) => void;
  /** Settings → Video's ffmpeg path (null/undefined: PATH); ignored when `ffmpeg` is given. */
  readonly ffmpegPath?: string | null;
  /** An already-located ffmpeg. */
  readonly ffmpeg?: FfmpegFound;
  /** x264 constant rate factor, 0–51 (default 18: visually lossless for generated video). */
  readonly crf?: number;
  /** x264 preset (default `medium`). */
  readonly preset?: X264Preset;
  /**
   * x264's rate-control lookahead in frames (the preset's own when unset; medium looks 40 ahead).
   * A producer that decodes frames as it goes (WAN's frame-by-frame VAE) sets a short one so x264
   * encodes during the decode instead of buffering the whole clip and starting at the end.
   */
  readonly lookahead?: number;
  /**
   * For a producer that makes frames as it goes (WAN's VAE, four frames per call): each frame is
   * encoded as soon as it arrives — no B-frames and no rate-control lookahead (so no macroblock
   * tree), x264 parallelising within a frame (at most 4 slices) rather than across frames — so
   * little is left to do after the last frame, instead of a lookahead- and threads-deep queue. At
   * the same CRF the picture is as good or better (SSIM) and the file 1.2–1.7× larger on test
   * content (docs/benchmarks.md): a few MB more for a WAN clip. Overrides `lookahead`.
   */
  readonly lowLatency?: boolean;
}

export interface EncodedVideo {
  readonly file: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly frameCount: number;
  readonly durationMs: number;
  /** Wall time from spawning ffmpeg to the file under its final name. */
  readonly encodeMs: number;
}

const STDERR_TAIL_LINES = 20;
const DEFAULT_FPS = 16;
const DEFAULT_CRF = 18;

function validate(o: EncodeMp4Options): { fps: number; crf: number; preset: X264Preset } {
  const fps = o.fps ?? DEFAULT_FPS;
  const { width, height } = o;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 2 || height < 2) {
    throw new VideoEncodeError('invalid_video_size', `video size must be whole pixels, at least 2×2 (got ${width}×${height})`);
  }
  if (width % 2 !== 0 || height % 2 !== 0) {
    throw new VideoEncodeError(
      'invalid_video_size',
      `H.264 in yuv420p needs an even width and height (got ${width}×${height}); ` +
        `use a size that is a multiple of 16, as WAN and SDXL sizes are`,
    );
  }
  if (!Number.isFinite(fps) || fps <= 0 || fps > 240) {
    throw new VideoEncodeError('invalid_video_options', `fps must be above 0 and at most 240 (got ${fps})`);
  }
  const crf = o.crf ?? DEFAULT_CRF;
  if (!Number.isFinite(crf) || crf < 0 || crf > 51) {
    throw new VideoEncodeError('invalid_video_options', `crf must be from 0 to 51 (got ${crf})`);
  }
  if (o.frameCount !== undefined && (!Number.isInteger(o.frameCount) || o.frameCount < 1)) {
    throw new VideoEncodeError('invalid_video_options', `frameCount must be a positive whole number (got ${o.frameCount})`);
  }
  if (Array.isArray(o.frames) && o.frames.length === 0) {
    throw new VideoEncodeError('no_frames', 'no frames to encode: a video needs at least one frame');
  }
  return { fps, crf, preset: o.preset ?? 'medium' };
}

function knownLength(frames: VideoFrames): number | null {
  return Array.isArray(frames) ? frames.length : null;
}

/**
 * Encode `frames` to an H.264 MP4 at `outPath`. Rejects with `CancelledError` when `signal` aborts,
 * `FfmpegMissingError` without a usable ffmpeg, `VideoEncodeError` otherwise (invalid size, a frame
 * of the wrong size, ffmpeg failing: then with its last stderr lines). In every failure no file is
 * left at `outPath` and no temp file beside it.
 */
export async function encodeMp4(options: EncodeMp4Options): Promise<EncodedVideo> {
  const { fps, crf, preset } = validate(options);
  const { width, height, outPath, signal } = options;
  if (signal?.aborted) throw new CancelledError();
  const located = options.ffmpeg ?? (await requireFfmpeg({ ffmpegPath: options.ffmpegPath ?? null }));
  if (signal?.aborted) throw new CancelledError();

  const expected = options.frameCount ?? knownLength(options.frames);
  if (options.frameCount !== undefined && knownLength(options.frames) !== null && knownLength(options.frames) !== options.frameCount) {
    throw new VideoEncodeError(
      'frame_count_mismatch',
      `frameCount says ${options.frameCount} frames but ${knownLength(options.frames)} were given`,
    );
  }
  const tags = videoTags(options.metadata, { width, height, fps, frameCount: expected });
  const temp = tempPathFor(outPath);
  const metadataFile = tempPathFor(`${outPath}.ffmetadata`);
  const t0 = performance.now();
  try {
    await writeFile(metadataFile, ffmetadataFile(tags), { encoding: 'utf8', flag: 'wx' }).catch((error: unknown) => {
      const code = (error as { code?: unknown }).code;
      throw new VideoEncodeError(
        'output_unwritable',
        `cannot write the video into ${dirname(outPath)} (${typeof code === 'string' ? code : (error as Error).message}): ` +
          'check that the folder exists, is writable and has free space',
        [],
        { cause: error },
      );
    });
    const sent = await runFfmpeg({ ...options, fps, crf, preset, located, temp, metadataFile, expected });
    // ffmpeg's MP4 muxer writes no XMP: the disclosure that a model made the video goes after it.
    const xmp = mp4XmpBox(buildXmpPacket({ digitalSourceType: DIGITAL_SOURCE_TYPE_TRAINED_ALGORITHMIC, creatorTool: APP_NAME }));
    await appendFile(temp, xmp).catch((error: unknown) => {
      throw new VideoEncodeError(
        'output_unwritable',
        `cannot finish the video in ${dirname(outPath)} (${(error as Error).message}): check that the drive has free space and try again`,
        [],
        { cause: error },
      );
    });
    // Cancelled while ffmpeg was finishing: honour it, like any other moment before the rename.
    if (signal?.aborted) throw new CancelledError();
    await commitTempFile(temp, outPath);
    return {
      file: outPath,
      width,
      height,
      fps,
      frameCount: sent,
      durationMs: (sent / fps) * 1000,
      encodeMs: performance.now() - t0,
    };
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  } finally {
    await unlink(metadataFile).catch(() => undefined);
  }
}

interface RunArgs extends EncodeMp4Options {
  readonly fps: number;
  readonly crf: number;
  readonly preset: X264Preset;
  readonly located: FfmpegFound;
  readonly temp: string;
  readonly metadataFile: string;
  readonly expected: number | null;
}

/** Runs ffmpeg to completion; resolves with the number of frames sent. */
function runFfmpeg(a: RunArgs): Promise<number> {
  const frameBytes = a.width * a.height * 3;
  const stderrTail: string[] = [];
  let sent = 0;
  /** Why we stopped ffmpeg ourselves (a bad frame, a failing producer, cancellation). */
  let stopReason: unknown = null;
  let started = false;
  let child: ChildProcess | undefined;
  const command = ffmpeg();

  const stop = (reason: unknown): void => {
    stopReason ??= reason;
    // Before 'start' there is no process yet; the 'start' handler kills it as soon as there is.
    if (started) command.kill('SIGKILL');
  };

  async function* feed(): AsyncGenerator<Uint8Array> {
    try {
      for await (const frame of a.frames) {
        if (stopReason !== null) return;
        if (!(frame instanceof Uint8Array) || frame.byteLength !== frameBytes) {
          const got = frame instanceof Uint8Array ? `${frame.byteLength} bytes` : typeof frame;
          stop(new VideoEncodeError('bad_frame', `frame ${sent} has ${got}; a ${a.width}×${a.height} RGB frame has ${frameBytes} bytes`));
          return;
        }
        if (a.expected !== null && sent >= a.expected) {
          stop(new VideoEncodeError('frame_count_mismatch', `the clip has more than the ${a.expected} frames expected`));
          return;
        }
        sent++;
        yield frame;
        report();
      }
      if (sent === 0) stop(new VideoEncodeError('no_frames', 'no frames to encode: a video needs at least one frame'));
      else if (a.expected !== null && sent !== a.expected) {
        stop(new VideoEncodeError('frame_count_mismatch', `the clip ended after ${sent} of the ${a.expected} frames expected`));
      }
    } catch (error) {
      // The producer (e.g. the VAE decode) failed: stop ffmpeg and report the producer's error.
      stop(error);
    }
  }

  let encoded = 0;
  let speed: number | null = null;
  const report = (done = false): void => {
    try {
      a.onProgress?.({ encodedFrames: encoded, sentFrames: sent, of: a.expected, speed, done });
    } catch (error) {
      stop(error); // a failing progress callback fails the encode visibly rather than crashing the process
    }
  };
  const progress = new ProgressBlockReader();

  // objectMode with a high-water mark of 1: at most one frame waits here, the rest is the pipe's.
  const source = Readable.from(feed(), { objectMode: true, highWaterMark: 1 });
  const onAbort = (): void => stop(new CancelledError());
  a.signal?.addEventListener('abort', onAbort, { once: true });

  command
    .setFfmpegPath(a.located.ffmpeg)
    .input(source)
    .inputFormat('rawvideo')
    .inputOptions(['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-progress', 'pipe:2'])
    .inputOptions(['-pixel_format', 'rgb24', '-video_size', `${a.width}x${a.height}`, '-framerate', String(a.fps)])
    .input(a.metadataFile)
    .inputFormat('ffmetadata')
    .output(a.temp)
    .outputOptions([
      '-map', '0:v:0',
      '-map_metadata', '1',
      '-vf', 'scale=out_color_matrix=bt709:out_range=tv,format=yuv420p',
      '-c:v', 'libx264',
      '-preset', a.preset,
      ...(a.lowLatency === true
        ? ['-rc-lookahead', '0', '-bf', '0', '-threads', String(Math.min(4, availableParallelism())), '-x264-params', 'sliced-threads=1:sync-lookahead=0']
        : a.lookahead !== undefined
          ? ['-rc-lookahead', String(Math.max(0, Math.min(250, Math.round(a.lookahead))))]
          : []),
      '-crf', String(a.crf),
      '-pix_fmt', 'yuv420p',
      '-colorspace', 'bt709',
      '-color_primaries', 'bt709',
      '-color_trc', 'bt709',
      '-color_range', 'tv',
      '-movflags', '+faststart',
      '-f', 'mp4',
    ]);

  return new Promise<number>((resolve, reject) => {
    command.on('start', () => {
      started = true;
      child = (command as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
      if (stopReason !== null) command.kill('SIGKILL');
    });
    command.on('stderr', (line: string) => {
      if (isProgressKeyValueLine(line)) {
        const block = progress.pushLine(line);
        if (block !== null) {
          if (block.frame !== null) encoded = block.frame;
          if (block.speed !== null) speed = block.speed;
          report(block.done);
        }
        return;
      }
      if (line.trim() === '') return;
      stderrTail.push(line);
      if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    });
    const finish = (error: Error | null): void => {
      a.signal?.removeEventListener('abort', onAbort);
      // Ends the frame generator (runs the producer's finally blocks) if ffmpeg stopped early.
      source.destroy();
      void waitForExit(child).then(() => {
        if (stopReason !== null) reject(stopReason);
        else if (error !== null) reject(ffmpegFailure(error, stderrTail));
        else resolve(sent);
      });
    };
    command.on('error', (error: Error) => finish(error));
    command.on('end', () => finish(null));
    command.run();
  });
}

/** fluent-ffmpeg reports after the process exited; this also covers a report that came first. */
function waitForExit(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function ffmpegFailure(error: Error, stderrTail: readonly string[]): VideoEncodeError {
  // fluent-ffmpeg appends all of stderr to its message; ours keeps the first line and our tail.
  const head = error.message.split('\n')[0]!.replace(/:\s*$/, '');
  const tail = stderrTail.length ? `: ${stderrTail.slice(-5).join(' | ')}` : '';
  return new VideoEncodeError('ffmpeg_failed', `ffmpeg could not write the video (${head})${tail}`, stderrTail, { cause: error });
}

