/**
 * Writes a WAN job's result into the staging folder: one PNG (1-frame job types) with the same
 * metadata as SDXL's, or one H.264 MP4 (video job types) through the video encoder, which pulls the
 * frames as the VAE decodes them, plus a poster-frame thumbnail. Every file is written atomically:
 * a cancel or a failure leaves no partial output under a final name.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeFileAtomic } from '../../fs/atomic-write.ts';
import type { FfmpegFound } from '../../media/ffmpeg-locate.ts';
import { makeThumbnail } from '../../media/thumbnail.ts';
import { encodeMp4 } from '../../media/video-encode.ts';
import type { X264Preset } from '../../media/video-encode.ts';
import type { VideoMetadata } from '../../media/video-metadata.ts';
import type { OutputFile } from '../types.ts';
import { PipelineError } from '../types.ts';
import { writeGeneratedImage } from '../common/write-image.ts';
import type { DecodedFrame } from './vae-decode.ts';

export interface ImageResult {
  readonly output: OutputFile;
  readonly encodeMs: number;
  readonly writeMs: number;
}

export async function writeWanImage(
  frames: AsyncIterable<DecodedFrame>,
  o: { stagingDir: string; parameters: string; recipe: Record<string, unknown>; seed: number },
): Promise<ImageResult> {
  let frame: DecodedFrame | null = null;
  for await (const f of frames) {
    frame = f;
    break;
  }
  if (!frame) throw new PipelineError('model_invalid', 'the VAE decoder produced no frame');
  const written = await writeGeneratedImage({
    image: { width: frame.width, height: frame.height, channels: 3, data: frame.rgb },
    stagingDir: o.stagingDir,
    name: '00',
    parameters: o.parameters,
    recipe: o.recipe,
    batchIndex: 0,
    seed: o.seed,
  });
  return written;
}

export interface VideoResult {
  readonly output: OutputFile;
  /** ffmpeg's wall time from spawn to rename (overlaps the decode, which feeds it). */
  readonly encodeMs: number;
  readonly thumbMs: number;
}

export interface VideoToWrite {
  readonly frames: AsyncIterable<DecodedFrame>;
  readonly frameCount: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly stagingDir: string;
  readonly metadata: VideoMetadata;
  readonly recipe: Record<string, unknown>;
  readonly seed: number;
  readonly ffmpeg: FfmpegFound;
  readonly signal: AbortSignal;
  readonly preset?: X264Preset;
}

export async function writeWanVideo(v: VideoToWrite): Promise<VideoResult> {
  let poster: DecodedFrame | null = null;
  async function* rgbFrames(): AsyncGenerator<Uint8Array> {
    for await (const f of v.frames) {
      poster ??= f;
      yield f.rgb;
    }
  }
  const file = join(v.stagingDir, '00.mp4');
  const encoded = await encodeMp4({
    frames: rgbFrames(),
    width: v.width,
    height: v.height,
    fps: v.fps,
    outPath: file,
    metadata: v.metadata,
    frameCount: v.frameCount,
    signal: v.signal,
    ffmpeg: v.ffmpeg,
    ...(v.preset ? { preset: v.preset } : {}),
    // Frames arrive one VAE step at a time: a short lookahead lets x264 work during the decode.
    lookahead: 8,
  });
  const t0 = performance.now();
  const first = poster as DecodedFrame | null;
  let thumbFile: string | null = null;
  if (first) {
    const thumb = makeThumbnail({ width: first.width, height: first.height, channels: 3, data: first.rgb }, 256);
    thumbFile = join(v.stagingDir, '00.thumb.png');
    await writeFileAtomic(thumbFile, thumb.png);
  }
  return {
    output: {
      file: encoded.file,
      thumbFile,
      kind: 'video',
      mime: 'video/mp4',
      width: encoded.width,
      height: encoded.height,
      batchIndex: 0,
      seed: v.seed,
      durationMs: encoded.durationMs,
      fps: encoded.fps,
      frameCount: encoded.frameCount,
      recipe: v.recipe,
    },
    encodeMs: encoded.encodeMs,
    thumbMs: performance.now() - t0,
  };
}
