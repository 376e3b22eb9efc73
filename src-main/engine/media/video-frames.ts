/**
 * Frames on their way to the video encoder, in the form the producer has them: RGB24 frames, or a
 * run of frames of a VAE decoder's planar float output ([1, 3, n, H, W], values in [-1, 1]) that the
 * consumer converts — on the encoder's thread, not the inference thread — with the diffusers byte
 * mapping (image-convert.ts).
 */
import { vaePlanesToBytes } from './image-convert.ts';

export interface RgbChunk {
  readonly kind: 'rgb24';
  /** `width × height × 3` bytes each, top row first. */
  readonly frames: readonly Uint8Array[];
}

export interface PlanarChunk {
  readonly kind: 'planar';
  /** [1, 3, n, height, width] float values, as the VAE decoder returns them. */
  readonly data: Float32Array;
  /** n: frames the tensor holds. */
  readonly frames: number;
  readonly height: number;
  readonly width: number;
  /** The frames of the tensor that belong to the clip: `first` … `first + count − 1`. */
  readonly first: number;
  readonly count: number;
  /** The VAE's output dtype (the precision of diffusers' denormalise step). */
  readonly precision: 'float32' | 'float16';
}

export type FrameChunk = RgbChunk | PlanarChunk;

export function chunkFrameCount(chunk: FrameChunk): number {
  return chunk.kind === 'rgb24' ? chunk.frames.length : chunk.count;
}

/** Checks a planar chunk's shape, so a wrong one fails with the numbers rather than as garbage. */
export function checkPlanarChunk(chunk: PlanarChunk): void {
  const { frames: n, height: H, width: W, first, count } = chunk;
  const ok = [n, H, W].every((v) => Number.isInteger(v) && v >= 1) && Number.isInteger(first) && Number.isInteger(count) && first >= 0 && count >= 0 && first + count <= n;
  if (!ok) throw new RangeError(`bad frame run: frames ${first}…${first + count - 1} of a [1, 3, ${n}, ${H}, ${W}] tensor`);
  if (chunk.data.length !== 3 * n * H * W) {
    throw new RangeError(`a [1, 3, ${n}, ${H}, ${W}] tensor holds ${3 * n * H * W} values, got ${chunk.data.length}`);
  }
}

/** The chunk's frames as RGB24, one at a time (each a fresh buffer the consumer may keep). */
export function* chunkToRgb(chunk: FrameChunk): Generator<Uint8Array> {
  if (chunk.kind === 'rgb24') {
    yield* chunk.frames;
    return;
  }
  checkPlanarChunk(chunk);
  const plane = chunk.height * chunk.width;
  for (let k = chunk.first; k < chunk.first + chunk.count; k++) {
    const rgb = new Uint8Array(plane * 3);
    vaePlanesToBytes(chunk.data, k * plane, chunk.frames * plane, 3, plane, rgb, chunk.precision);
    yield rgb;
  }
}

/**
 * The chunk with only its clip frames, in a buffer of its own, so it can be transferred to another
 * thread without copying what it does not need — or without copying at all when it already is that.
 */
export function ownedPlanarChunk(chunk: PlanarChunk): PlanarChunk {
  checkPlanarChunk(chunk);
  const { data } = chunk;
  const whole = chunk.first === 0 && chunk.count === chunk.frames;
  if (whole && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer) return chunk;
  const plane = chunk.height * chunk.width;
  const out = new Float32Array(3 * chunk.count * plane);
  for (let c = 0; c < 3; c++) {
    const from = (c * chunk.frames + chunk.first) * plane;
    out.set(data.subarray(from, from + chunk.count * plane), c * chunk.count * plane);
  }
  return { ...chunk, data: out, frames: chunk.count, first: 0 };
}
