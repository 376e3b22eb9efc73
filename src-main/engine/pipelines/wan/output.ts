/**
 * Writes a WAN job's result into the staging folder: one PNG (1-frame job types) with the same
 * metadata as SDXL's, or one H.264 MP4 (video job types) through a stream on the video thread
 * (media/video-encoder.ts), opened before the denoising and fed as the VAE decodes, plus a
 * poster-frame thumbnail. Every file is written atomically:
 * a cancel or a failure leaves no partial output under a final name.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FfmpegFound } from '../../media/ffmpeg-locate.ts';
import type { X264Preset } from '../../media/video-encode.ts';
import { sharedVideoEncoder } from '../../media/video-encoder.ts';
import type { VideoEncoderHost } from '../../media/video-encoder.ts';
import type { PlanarChunk } from '../../media/video-frames.ts';
import type { VideoMetadata } from '../../media/video-metadata.ts';
import type { VideoSink } from '../../media/video-stream.ts';
import type { OutputFile } from '../types.ts';
import type { ShareableRecipe } from '../../media/recipe.ts';
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
  o: { stagingDir: string; parameters: string; recipe: ShareableRecipe; seed: number },
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
  /** ffmpeg's wall time from spawn to rename (it runs beside the denoising and the decode). */
  readonly encodeMs: number;
  /** From the last frame handed over to the MP4 and its thumbnail under their final names: what the job waited for. */
  readonly tailMs: number;
  readonly thumbMs: number;
}

export interface VideoToOpen {
  readonly frameCount: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly stagingDir: string;
  readonly metadata: VideoMetadata;
  readonly ffmpeg: FfmpegFound;
  readonly preset?: X264Preset;
  /** Where the stream runs (default: the process's video thread). */
  readonly host?: VideoEncoderHost;
  readonly log?: (message: string) => void;
}

/** Poster-frame thumbnail's longest side, as for images. */
const THUMB_SIDE = 256;

/**
 * Starts the job's MP4: ffmpeg is spawned on the video thread now, so a failing ffmpeg or an
 * unwritable staging folder shows before the denoising rather than after it.
 */
export function openWanVideo(v: VideoToOpen): VideoSink {
  const host = v.host ?? sharedVideoEncoder();
  return host.open(
    {
      width: v.width,
      height: v.height,
      fps: v.fps,
      outPath: join(v.stagingDir, '00.mp4'),
      metadata: v.metadata,
      frameCount: v.frameCount,
      ffmpeg: v.ffmpeg,
      ...(v.preset ? { preset: v.preset } : {}),
      // Frames arrive one VAE call (four frames) at a time: x264 encodes each as it comes, during
      // the decode, so little is left to do after the last call (see EncodeMp4Options.lowLatency).
      lowLatency: true,
      thumbnail: { dir: v.stagingDir, name: '00.thumb.png', maxSide: THUMB_SIDE },
    },
    v.log,
  );
}

/** Hands the decoded frames to the open MP4 as they come, then waits for the file. */
export async function writeWanVideo(sink: VideoSink, chunks: AsyncIterable<PlanarChunk>, o: { recipe: ShareableRecipe; seed: number }): Promise<VideoResult> {
  for await (const chunk of chunks) await sink.push(chunk);
  const t0 = performance.now();
  const done = await sink.end();
  const tailMs = performance.now() - t0;
  const { video } = done;
  return {
    output: {
      file: video.file,
      thumbFile: done.thumbFile,
      kind: 'video',
      mime: 'video/mp4',
      width: video.width,
      height: video.height,
      batchIndex: 0,
      seed: o.seed,
      durationMs: video.durationMs,
      fps: video.fps,
      frameCount: video.frameCount,
      recipe: { ...o.recipe },
    },
    encodeMs: video.encodeMs,
    tailMs,
    thumbMs: done.thumbMs,
  };
}
