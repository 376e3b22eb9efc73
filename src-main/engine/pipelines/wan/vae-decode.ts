/**
 * WAN VAE decode, as diffusers' WanPipeline + AutoencoderKLWan._decode do it: un-normalise the
 * latents per channel (latents / (1 / std) + mean, in float32), decode, clamp to [-1, 1] and convert
 * each frame as the video processor does ((x / 2 + 0.5) clamped, × 255, rounded).
 *
 * A frame-cached export (docs/models.md) is called once per latent frame with its causal caches
 * fed back, exactly diffusers' per-frame loop, so memory stays flat however long the clip. A
 * whole-clip export (Optimum's contract) is called on windows of at most `maxWindow` latent
 * frames: one call when the clip fits (exact), else windows that each start `context` latent
 * frames early, whose first outputs are dropped — close to, but not exactly, one long decode,
 * because the causal history before each window is cut. Frames come out in order, a decoder call's
 * worth at a time, as the decoder's float output (`decodeWanChunks`: the video thread converts them
 * while the next call runs) or as RGB24 (`decodeWanFrames`).
 */
import { performance } from 'node:perf_hooks';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { OrtRuntime } from '../../inference/runtime.ts';
import { chunkToRgb } from '../../media/video-frames.ts';
import type { PlanarChunk } from '../../media/video-frames.ts';
import { WAN_LATENT_CHANNELS } from '../../models/wan-validator.ts';
import type { VaeDecoderIo, WanVaeConfig } from '../../models/wan-validator.ts';
import { floatTensor, inputSpec, outputFloat32 } from '../common/session-io.ts';
import { float16Safe, tensorFloat16Bits, tensorInt64 } from '../../inference/runtime.ts';
import { CancelledError, PipelineError } from '../types.ts';
import ort from 'onnxruntime-node';

export const TEMPORAL_SCALE = 4;
export const SPATIAL_SCALE = 8;

export interface WanVae {
  readonly session: InferenceSession;
  readonly io: VaeDecoderIo;
  readonly config: WanVaeConfig;
}

export interface LatentVideo {
  /** [16, frames, h, w], normalised (as the transformer works in). */
  readonly data: Float32Array;
  readonly frames: number;
  readonly height: number;
  readonly width: number;
}

export interface DecodeStats {
  mode: 'cached' | 'whole' | 'whole-windowed';
  calls: number;
  decodeMs: number;
  rssStartBytes: number;
  rssPeakBytes: number;
  /** Set when the decode is not exactly diffusers' (whole-clip export decoded in windows). */
  note: string | null;
}

export interface DecodeOptions {
  readonly signal: AbortSignal;
  /** Whole-clip exports: most latent frames per call (default 9 = 33 video frames). */
  readonly maxWindow?: number;
  /** Whole-clip exports: latent frames of history each later window starts with (default 4). */
  readonly context?: number;
}

export interface DecodedFrame {
  readonly index: number;
  readonly width: number;
  readonly height: number;
  /** RGB24, top row first. */
  readonly rgb: Uint8Array;
}

/** Video frames a latent clip decodes to: 1 + 4·(T − 1). */
export function videoFrames(latentFrames: number): number {
  return 1 + TEMPORAL_SCALE * (latentFrames - 1);
}

function unnormalize(latents: LatentVideo, cfg: WanVaeConfig, from: number, to: number): Float32Array {
  const plane = latents.height * latents.width;
  const n = to - from;
  const out = new Float32Array(WAN_LATENT_CHANNELS * n * plane);
  for (let c = 0; c < WAN_LATENT_CHANNELS; c++) {
    // diffusers: latents_std = 1.0 / tensor(std) (float32), latents = latents / latents_std + latents_mean
    const inv = Math.fround(1 / cfg.latentsStd[c]!);
    const mean = Math.fround(cfg.latentsMean[c]!);
    for (let f = 0; f < n; f++) {
      const src = (c * latents.frames + from + f) * plane;
      const dst = (c * n + f) * plane;
      for (let p = 0; p < plane; p++) out[dst + p] = Math.fround(Math.fround(latents.data[src + p]! / inv) + mean);
    }
  }
  return out;
}

function flagTensor(type: string, value: boolean): Tensor {
  if (type === 'bool') return new ort.Tensor('bool', Uint8Array.of(value ? 1 : 0), [1]);
  if (type === 'int64') return tensorInt64([value ? 1 : 0], [1]);
  if (type === 'int32') return new ort.Tensor('int32', Int32Array.of(value ? 1 : 0), [1]);
  return floatTensorOf(type, Float32Array.of(value ? 1 : 0), [1]);
}

function floatTensorOf(type: string, data: Float32Array, dims: readonly number[]): Tensor {
  return floatTensor({ type, shape: null }, data, dims);
}

function sampleRss(stats: DecodeStats): void {
  const rss = process.memoryUsage.rss();
  if (rss > stats.rssPeakBytes) stats.rssPeakBytes = rss;
}

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new CancelledError();
}

function checkOutput(dims: readonly number[], frames: number, latents: LatentVideo): void {
  const ok =
    dims.length === 5 &&
    dims[1] === 3 &&
    dims[2] === frames &&
    dims[3] === latents.height * SPATIAL_SCALE &&
    dims[4] === latents.width * SPATIAL_SCALE;
  if (!ok) {
    throw new PipelineError(
      'model_invalid',
      `vae_decoder/model.onnx returned [${dims.join(', ')}]; expected [1, 3, ${frames}, ${latents.height * SPATIAL_SCALE}, ${latents.width * SPATIAL_SCALE}]`,
    );
  }
}

export function newDecodeStats(mode: DecodeStats['mode']): DecodeStats {
  const rss = process.memoryUsage.rss();
  return { mode, calls: 0, decodeMs: 0, rssStartBytes: rss, rssPeakBytes: rss, note: null };
}

/**
 * The clip's frames, decoded lazily and in order, one decoder call at a time: each chunk names the
 * frames of the call's output that belong to the clip. `stats` is filled as chunks are produced
 * (decode time counts the session calls and the un-normalising, not the consumer's time).
 */
export async function* decodeWanChunks(
  runtime: OrtRuntime,
  vae: WanVae,
  latents: LatentVideo,
  options: DecodeOptions,
  stats: DecodeStats,
): AsyncGenerator<PlanarChunk> {
  if (vae.io.mode === 'cached') yield* decodeCached(runtime, vae, latents, options, stats);
  else yield* decodeWhole(runtime, vae, latents, options, stats);
}

/** The clip's frames as RGB24, one at a time (the conversion is timed into `stats.decodeMs`). */
export async function* decodeWanFrames(
  runtime: OrtRuntime,
  vae: WanVae,
  latents: LatentVideo,
  options: DecodeOptions,
  stats: DecodeStats,
): AsyncGenerator<DecodedFrame> {
  let index = 0;
  for await (const chunk of decodeWanChunks(runtime, vae, latents, options, stats)) {
    const t0 = performance.now();
    const frames = [...chunkToRgb(chunk)];
    stats.decodeMs += performance.now() - t0;
    for (const rgb of frames) yield { index: index++, width: chunk.width, height: chunk.height, rgb };
  }
}

async function* decodeCached(runtime: OrtRuntime, vae: WanVae, latents: LatentVideo, options: DecodeOptions, stats: DecodeStats): AsyncGenerator<PlanarChunk> {
  const io = vae.io;
  if (io.mode !== 'cached') throw new Error('not a cached decoder');
  stats.mode = 'cached';
  const latentSpec = inputSpec(vae.session, io.latent.name, 'vae_decoder');
  const precision = io.output.type === 'float16' ? 'float16' : 'float32';
  // The first call's caches are all zeros and only read: every one is a view of one zero buffer as
  // large as the largest, rather than a zeroed allocation each (~120 MB, 60 ms at 480×832 here).
  const shapes = io.caches.map((c) => {
    const [h, w] = c.fixed ?? [latents.height * c.scale!, latents.width * c.scale!];
    return [1, c.channels, 2, h, w];
  });
  const largest = Math.max(0, ...shapes.map((d) => d.reduce((a, b) => a * b, 1)));
  const zeros32 = io.caches.some((c) => c.input.type !== 'float16') ? new Float32Array(largest) : null;
  const zeros16 = io.caches.some((c) => c.input.type === 'float16') ? new Uint16Array(largest) : null;
  let caches: Record<string, Tensor> = {};
  io.caches.forEach((c, k) => {
    const dims = shapes[k]!;
    const n = dims.reduce((a, b) => a * b, 1);
    caches[c.input.name] = c.input.type === 'float16' ? tensorFloat16Bits(zeros16!.subarray(0, n), dims) : floatTensorOf(c.input.type, zeros32!.subarray(0, n), dims);
  });
  for (let t = 0; t < latents.frames; t++) {
    throwIfCancelled(options.signal);
    const t0 = performance.now();
    const z = unnormalize(latents, vae.config, t, t + 1);
    const out = await runtime.run(vae.session, {
      [io.latent.name]: floatTensor(latentSpec, z, [1, WAN_LATENT_CHANNELS, 1, latents.height, latents.width]),
      [io.first.name]: flagTensor(io.first.type, t === 0),
      ...caches,
    });
    sampleRss(stats);
    stats.calls++;
    const next: Record<string, Tensor> = {};
    for (const c of io.caches) {
      const carried = out[c.output];
      if (!carried) throw new PipelineError('model_invalid', `vae_decoder/model.onnx returned no '${c.output}'`);
      // Fed back as an input: float16 outputs need the Node 24 feed fix (see inference/tensors.ts).
      next[c.input.name] = float16Safe(carried);
    }
    caches = next;
    const { data, dims } = outputFloat32(out, io.output.name, 'vae_decoder');
    checkOutput(dims, TEMPORAL_SCALE, latents);
    // The first latent frame decodes to one video frame (the output's first); each later one to four.
    const keep = t === 0 ? 1 : TEMPORAL_SCALE;
    stats.decodeMs += performance.now() - t0;
    yield { kind: 'planar', data, frames: dims[2]!, height: dims[3]!, width: dims[4]!, first: 0, count: keep, precision };
  }
}

async function* decodeWhole(runtime: OrtRuntime, vae: WanVae, latents: LatentVideo, options: DecodeOptions, stats: DecodeStats): AsyncGenerator<PlanarChunk> {
  const io = vae.io;
  const spec = inputSpec(vae.session, io.latent.name, 'vae_decoder');
  const precision = io.output.type === 'float16' ? 'float16' : 'float32';
  const T = latents.frames;
  const fixed = typeof io.latent.shape[2] === 'number' ? io.latent.shape[2] : null;
  if (fixed !== null && fixed > T) {
    throw new PipelineError(
      'invalid_params',
      `this vae_decoder export decodes exactly ${fixed} latent frames (${videoFrames(fixed)} video frames); ask for at least ${videoFrames(fixed)} frames or use a frame-cached export`,
    );
  }
  const window = fixed ?? Math.min(T, Math.max(1, options.maxWindow ?? 9));
  if (window < T && window < 2) {
    throw new PipelineError('model_invalid', 'this vae_decoder export decodes one latent frame per call without frame caches, so a video cannot be decoded with it; use a frame-cached or whole-clip export');
  }
  // Every later window needs at least one latent frame of history, and must move forward.
  const context = Math.max(1, Math.min(options.context ?? 4, window - 1));
  stats.mode = window >= T ? 'whole' : 'whole-windowed';
  if (stats.mode === 'whole-windowed') {
    stats.note = `the vae_decoder export decodes whole clips, so this ${T}-latent-frame clip was decoded in windows of ${window} with ${context} frames of context; seams can differ slightly from one long decode — a frame-cached export avoids this`;
  }
  for (let start = 0; start < T; ) {
    throwIfCancelled(options.signal);
    const t0 = performance.now();
    const from = start === 0 ? 0 : Math.max(0, Math.min(start - context, T - window));
    const to = Math.min(T, from + window);
    const out = await runtime.run(vae.session, {
      [io.latent.name]: floatTensor(spec, unnormalize(latents, vae.config, from, to), [1, WAN_LATENT_CHANNELS, to - from, latents.height, latents.width]),
    });
    sampleRss(stats);
    stats.calls++;
    const { data, dims } = outputFloat32(out, io.output.name, 'vae_decoder');
    checkOutput(dims, videoFrames(to - from), latents);
    // Output frames that belong to latents before `start` (the context) are dropped.
    const skip = start === from ? 0 : videoFrames(start - from);
    stats.decodeMs += performance.now() - t0;
    yield { kind: 'planar', data, frames: dims[2]!, height: dims[3]!, width: dims[4]!, first: skip, count: dims[2]! - skip, precision };
    start = to;
  }
}
