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
 *
 * Spatial tiles, as diffusers' `AutoencoderKLWan.tiled_decode` does them once `enable_tiling()` is
 * on (facts from diffusers' autoencoder_kl_wan.py: tiles of tile_sample_min / 8 latent rows and
 * columns every tile_sample_stride / 8, defaults 256 and 192 pixels; each tile decoded over the
 * whole clip with caches of its own, starting from zeros with `first_chunk`; each tile blended into
 * the one above it, then the one on its left, by linear ramps over the (min − stride)-pixel
 * overlap, the ramps shortened to the smaller tile at the edges; the top-left stride × stride of each
 * kept): a frame larger than one tile is decoded tile by tile, so the decoder's activations and
 * frame caches are a tile's, not the frame's. The blended frames are gathered for the whole clip
 * (frames come out after the last tile); only the last tile and the bottom strips of the row above
 * are kept for blending. Either export contract is tiled the same way when its spatial axes are
 * dynamic.
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

export interface TilingStats {
  /** Tiles decoded (rows × columns). */
  readonly tiles: number;
  /** Tile size and stride in output pixels (diffusers' tile_sample_min / tile_sample_stride). */
  readonly tileSize: number;
  readonly stride: number;
}

export interface DecodeStats {
  mode: 'cached' | 'whole' | 'whole-windowed';
  /** Set when the frame was decoded in spatial tiles. */
  tiled: TilingStats | null;
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
  /**
   * Spatial tiles: 'auto' (the default) tiles a frame larger than one tile when the decoder's spatial
   * axes are dynamic and decodes it whole otherwise; 'on' tiles it or fails saying why; 'off' never
   * tiles. As diffusers, a frame no larger than one tile is decoded whole either way.
   */
  readonly tiling?: 'auto' | 'on' | 'off';
  /** Tile size in output pixels, a multiple of 8 (diffusers' tile_sample_min_height/width, default 256). */
  readonly tileSize?: number;
  /** Tile stride in output pixels, a multiple of 8, at most `tileSize` (tile_sample_stride_height/width, default 192). */
  readonly tileStride?: number;
  /** Called after each tile (tiled decodes only: their frames all come after the last tile). */
  readonly onTile?: (done: number, of: number) => void;
}

/** diffusers' AutoencoderKLWan defaults (tile_sample_min_height/width, tile_sample_stride_height/width). */
export const DEFAULT_TILE_SIZE = 256;
export const DEFAULT_TILE_STRIDE = 192;

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
  return { mode, tiled: null, calls: 0, decodeMs: 0, rssStartBytes: rss, rssPeakBytes: rss, note: null };
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
  const plan = tilePlan(vae, latents, options);
  if (plan) yield* decodeTiled(runtime, vae, latents, options, stats, plan);
  else yield* decodeUntiled(runtime, vae, latents, options, stats);
}

function decodeUntiled(runtime: OrtRuntime, vae: WanVae, latents: LatentVideo, options: DecodeOptions, stats: DecodeStats): AsyncGenerator<PlanarChunk> {
  return vae.io.mode === 'cached' ? decodeCached(runtime, vae, latents, options, stats) : decodeWhole(runtime, vae, latents, options, stats);
}

interface TilePlan {
  /** Latent rows/columns of a tile and between tiles. */
  readonly size: number;
  readonly stride: number;
  /** Output pixels blended between neighbours (tile size − stride). */
  readonly blend: number;
}

function tilePixels(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < SPATIAL_SCALE || v % SPATIAL_SCALE !== 0) {
    throw new PipelineError('invalid_params', `the VAE tile ${what} must be a whole multiple of ${SPATIAL_SCALE} pixels (got ${v}); leave it unset for diffusers' ${fallback}`);
  }
  return v;
}

/** Whether the decoder's input and frame caches take any height and width (needed to feed it tiles). */
function tileableSpatially(io: VaeDecoderIo): boolean {
  const [, , , h, w] = io.latent.shape;
  if (typeof h === 'number' || typeof w === 'number') return false;
  return io.mode !== 'cached' || io.caches.every((c) => c.fixed === null && c.scale !== null);
}

/** The tiles to decode in, or null to decode the frame whole (diffusers' `_decode` condition). */
function tilePlan(vae: WanVae, latents: LatentVideo, options: DecodeOptions): TilePlan | null {
  const tiling = options.tiling ?? 'auto';
  if (tiling === 'off') return null;
  const sizePx = tilePixels(options.tileSize, DEFAULT_TILE_SIZE, 'size');
  const stridePx = tilePixels(options.tileStride, DEFAULT_TILE_STRIDE, 'stride');
  if (stridePx > sizePx) {
    throw new PipelineError('invalid_params', `the VAE tile stride (${stridePx} px) is larger than the tile (${sizePx} px), which would leave gaps between tiles; make the stride at most the tile size`);
  }
  const size = sizePx / SPATIAL_SCALE;
  if (latents.height <= size && latents.width <= size) return null;
  if (!tileableSpatially(vae.io)) {
    if (tiling === 'auto') return null;
    throw new PipelineError(
      'invalid_params',
      "this vae_decoder export has a fixed frame size, so it cannot decode in tiles; set VAE tiling to 'auto' or 'off', or use an export with dynamic height and width (the studio's own graphs have them)",
    );
  }
  return { size, stride: stridePx / SPATIAL_SCALE, blend: sizePx - stridePx };
}

/** The latents' columns [x0, x1) and rows [y0, y1), every channel and frame. */
function cropLatents(latents: LatentVideo, y0: number, y1: number, x0: number, x1: number): LatentVideo {
  const h = y1 - y0;
  const w = x1 - x0;
  const out = new Float32Array(WAN_LATENT_CHANNELS * latents.frames * h * w);
  for (let cf = 0; cf < WAN_LATENT_CHANNELS * latents.frames; cf++) {
    for (let y = 0; y < h; y++) {
      const src = (cf * latents.height + y0 + y) * latents.width + x0;
      out.set(latents.data.subarray(src, src + w), (cf * h + y) * w);
    }
  }
  return { data: out, frames: latents.frames, height: h, width: w };
}

/** A decoded tile over the whole clip: [3, frames, height, width]. */
interface TileImage {
  readonly data: Float32Array;
  readonly frames: number;
  readonly height: number;
  readonly width: number;
}

/**
 * `b`'s first rows ramped from `a`'s last ones, in place — diffusers' blend_v: over
 * e = min(a's height, b's height, blend) rows, row y = a[aH − e + y]·(1 − y/e) + b[y]·(y/e), in
 * float32. `a` holds only its last `a.height` rows of a tile `aFullHeight` tall.
 */
function blendRows(a: TileImage, aFullHeight: number, b: TileImage, blend: number): void {
  const e = Math.min(aFullHeight, b.height, blend);
  const w = b.width;
  for (let y = 0; y < e; y++) {
    const wa = Math.fround(1 - y / e);
    const wb = Math.fround(y / e);
    const ay = a.height - e + y; // a's row aFullHeight − e + y, in the strip
    for (let cf = 0; cf < 3 * b.frames; cf++) {
      const ao = (cf * a.height + ay) * w;
      const bo = (cf * b.height + y) * w;
      for (let x = 0; x < w; x++) b.data[bo + x] = Math.fround(Math.fround(a.data[ao + x]! * wa) + Math.fround(b.data[bo + x]! * wb));
    }
  }
}

/** `b`'s first columns ramped from `a`'s last ones, in place — diffusers' blend_h. */
function blendColumns(a: TileImage, b: TileImage, blend: number): void {
  const e = Math.min(a.width, b.width, blend);
  if (e === 0) return;
  const wa = Float32Array.from({ length: e }, (_, x) => 1 - x / e);
  const wb = Float32Array.from({ length: e }, (_, x) => x / e);
  for (let row = 0; row < 3 * b.frames * b.height; row++) {
    const ao = row * a.width + a.width - e;
    const bo = row * b.width;
    for (let x = 0; x < e; x++) b.data[bo + x] = Math.fround(Math.fround(a.data[ao + x]! * wa[x]!) + Math.fround(b.data[bo + x]! * wb[x]!));
  }
}

/** The last `rows` rows of a tile, every channel and frame (what the next row of tiles blends from). */
function bottomRows(t: TileImage, rows: number): TileImage {
  const out = new Float32Array(3 * t.frames * rows * t.width);
  for (let cf = 0; cf < 3 * t.frames; cf++) {
    const from = (cf * t.height + t.height - rows) * t.width;
    out.set(t.data.subarray(from, from + rows * t.width), cf * rows * t.width);
  }
  return { data: out, frames: t.frames, height: rows, width: t.width };
}

async function* decodeTiled(runtime: OrtRuntime, vae: WanVae, latents: LatentVideo, options: DecodeOptions, stats: DecodeStats, plan: TilePlan): AsyncGenerator<PlanarChunk> {
  const precision = vae.io.output.type === 'float16' ? 'float16' : 'float32';
  const H = latents.height * SPATIAL_SCALE;
  const W = latents.width * SPATIAL_SCALE;
  const F = videoFrames(latents.frames);
  const stridePx = plan.stride * SPATIAL_SCALE;
  const rowStarts: number[] = [];
  const colStarts: number[] = [];
  for (let i = 0; i < latents.height; i += plan.stride) rowStarts.push(i);
  for (let j = 0; j < latents.width; j += plan.stride) colStarts.push(j);
  const tiles = rowStarts.length * colStarts.length;
  stats.tiled = { tiles, tileSize: plan.size * SPATIAL_SCALE, stride: stridePx };
  let done = 0;
  // The clip as the pipeline hands it on: one [3, n, H, W] buffer per latent frame (1 frame, then 4).
  const chunks: (Float32Array | null)[] = Array.from({ length: latents.frames }, (_, t) => new Float32Array(3 * (t === 0 ? 1 : TEMPORAL_SCALE) * H * W));
  /** The bottom rows of the blended tile above each column (its full height beside them). */
  let above: ({ strip: TileImage; height: number } | null)[] = colStarts.map(() => null);
  for (const i of rowStarts) {
    const next: typeof above = [];
    let left: TileImage | null = null;
    for (const [col, j] of colStarts.entries()) {
      throwIfCancelled(options.signal);
      const tileLatents = cropLatents(latents, i, Math.min(i + plan.size, latents.height), j, Math.min(j + plan.size, latents.width));
      const th = tileLatents.height * SPATIAL_SCALE;
      const tw = tileLatents.width * SPATIAL_SCALE;
      const tile: TileImage = { data: new Float32Array(3 * F * th * tw), frames: F, height: th, width: tw };
      // The tile over the whole clip, with caches of its own (freed when its decode ends).
      let f = 0;
      for await (const chunk of decodeUntiled(runtime, vae, tileLatents, options, stats)) {
        const t0 = performance.now();
        const plane = th * tw;
        for (let k = chunk.first; k < chunk.first + chunk.count; k++, f++) {
          for (let c = 0; c < 3; c++) tile.data.set(chunk.data.subarray((c * chunk.frames + k) * plane, (c * chunk.frames + k + 1) * plane), (c * F + f) * plane);
        }
        stats.decodeMs += performance.now() - t0;
      }
      const t0 = performance.now();
      const up = above[col];
      if (up) blendRows(up.strip, up.height, tile, plan.blend);
      if (left) blendColumns(left, tile, plan.blend);
      // The tile's top-left stride × stride into the clip (the tile is smaller at the edges).
      const y0 = i * SPATIAL_SCALE;
      const x0 = j * SPATIAL_SCALE;
      const rows = Math.min(stridePx, th);
      const cols = Math.min(stridePx, tw);
      for (let c = 0; c < 3; c++) {
        for (let fr = 0; fr < F; fr++) {
          const t = fr === 0 ? 0 : 1 + Math.floor((fr - 1) / TEMPORAL_SCALE);
          const local = fr === 0 ? 0 : (fr - 1) % TEMPORAL_SCALE;
          const n = t === 0 ? 1 : TEMPORAL_SCALE;
          const dst = chunks[t]!;
          for (let y = 0; y < rows; y++) {
            const src = ((c * F + fr) * th + y) * tw;
            dst.set(tile.data.subarray(src, src + cols), ((c * n + local) * H + y0 + y) * W + x0);
          }
        }
      }
      next.push({ strip: bottomRows(tile, Math.min(th, plan.blend)), height: th });
      left = tile;
      sampleRss(stats);
      stats.decodeMs += performance.now() - t0;
      options.onTile?.(++done, tiles);
    }
    above = next;
  }
  for (let t = 0; t < chunks.length; t++) {
    const data = chunks[t]!;
    chunks[t] = null; // the consumer holds it from here
    const n = t === 0 ? 1 : TEMPORAL_SCALE;
    yield { kind: 'planar', data, frames: n, height: H, width: W, first: 0, count: n, precision };
  }
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
