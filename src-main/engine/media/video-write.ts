/**
 * Writes one generated video into the job's staging folder, as write-image.ts does for a PNG: the
 * MP4 with its recipe in the container tags, plus a poster-frame thumbnail (the middle frame) —
 * both atomically.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import type { OutputFile } from '../pipelines/types.ts';
import { makeThumbnail } from './thumbnail.ts';
import { VideoEncodeError, encodeMp4 } from './video-encode.ts';
import type { EncodeMp4Options, EncodeProgress, VideoFrames, X264Preset } from './video-encode.ts';
import type { FfmpegFound } from './ffmpeg-locate.ts';
import type { VideoMetadata } from './video-metadata.ts';

interface VideoToWriteBase {
  readonly width: number;
  readonly height: number;
  /** Default 16. */
  readonly fps?: number;
  readonly stagingDir: string;
  /** File name without extension: `<name>.mp4` and `<name>.thumb.png`. */
  readonly name: string;
  /** Prompt, seed, model, steps, job type and the full recipe, embedded in the MP4. */
  readonly metadata: VideoMetadata;
  readonly batchIndex: number;
  readonly seed: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: EncodeProgress) => void;
  readonly ffmpegPath?: string | null;
  readonly ffmpeg?: FfmpegFound;
  readonly crf?: number;
  readonly preset?: X264Preset;
  /** See EncodeMp4Options.lookahead. */
  readonly lookahead?: number;
}

/**
 * Frames as an array, or as a lazy stream — then `frameCount` is required, to know which frame is
 * the middle one without holding half the clip in memory.
 */
export type VideoToWrite = VideoToWriteBase &
  (
    | { readonly frames: readonly Uint8Array[]; readonly frameCount?: number }
    | { readonly frames: VideoFrames; readonly frameCount: number }
  );

export interface WrittenVideo {
  readonly output: OutputFile;
  /** ffmpeg's run, from spawn to the MP4 under its final name. */
  readonly encodeMs: number;
  /** Poster thumbnail: downscale, PNG encode and atomic write. */
  readonly thumbMs: number;
}

export async function writeGeneratedVideo(w: VideoToWrite): Promise<WrittenVideo> {
  const total = Array.isArray(w.frames) ? w.frames.length : w.frameCount;
  if (total === undefined) throw new VideoEncodeError('invalid_video_options', 'frameCount is required when frames come as a stream');
  if (total === 0) throw new VideoEncodeError('no_frames', 'no frames to encode: a video needs at least one frame');
  const posterIndex = Math.floor((total - 1) / 2);
  let poster: Uint8Array | null = null;
  const frameBytes = w.width * w.height * 3;

  // Copy the middle frame as it passes: a producer may reuse its buffer for the next frame.
  async function* keepPoster(frames: VideoFrames): AsyncGenerator<Uint8Array> {
    let i = 0;
    for await (const frame of frames) {
      if (i === posterIndex && frame instanceof Uint8Array && frame.byteLength === frameBytes) poster = frame.slice();
      i++;
      yield frame;
    }
  }

  const file = join(w.stagingDir, `${w.name}.mp4`);
  const thumbFile = join(w.stagingDir, `${w.name}.thumb.png`);
  const options: EncodeMp4Options = {
    frames: keepPoster(w.frames),
    width: w.width,
    height: w.height,
    outPath: file,
    metadata: w.metadata,
    frameCount: total,
    ...(w.fps !== undefined ? { fps: w.fps } : {}),
    ...(w.signal !== undefined ? { signal: w.signal } : {}),
    ...(w.onProgress !== undefined ? { onProgress: w.onProgress } : {}),
    ...(w.ffmpegPath !== undefined ? { ffmpegPath: w.ffmpegPath } : {}),
    ...(w.ffmpeg !== undefined ? { ffmpeg: w.ffmpeg } : {}),
    ...(w.crf !== undefined ? { crf: w.crf } : {}),
    ...(w.preset !== undefined ? { preset: w.preset } : {}),
    ...(w.lookahead !== undefined ? { lookahead: w.lookahead } : {}),
  };
  const encoded = await encodeMp4(options);

  const t0 = performance.now();
  const posterFrame = poster as Uint8Array | null;
  if (posterFrame === null) throw new Error(`internal: the poster frame ${posterIndex} was not seen`);
  const thumb = makeThumbnail({ width: w.width, height: w.height, channels: 3, data: posterFrame }, 256);
  await writeFileAtomic(thumbFile, thumb.png);
  const thumbMs = performance.now() - t0;

  return {
    output: {
      file,
      thumbFile,
      kind: 'video',
      mime: 'video/mp4',
      width: encoded.width,
      height: encoded.height,
      batchIndex: w.batchIndex,
      seed: w.seed,
      durationMs: encoded.durationMs,
      fps: encoded.fps,
      frameCount: encoded.frameCount,
      recipe: w.metadata.recipe,
    },
    encodeMs: encoded.encodeMs,
    thumbMs,
  };
}
