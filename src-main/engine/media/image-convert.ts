// VAE decoder output → 8-bit pixels, bit-for-bit as diffusers' VaeImageProcessor.postprocess does:
//   denormalize:  (x / 2 + 0.5).clamp(0, 1)          in the tensor's dtype
//   pt_to_numpy:  .permute(0, 2, 3, 1).float()        NCHW → NHWC, float32
//   numpy_to_pil: (images * 255).round().astype("uint8")  float32 multiply, round half to even
// so a seed decoded here gives the same bytes as the same latents decoded by diffusers.

import type { RawImage } from './png-encode.ts';

export interface NchwTensor {
  /** Float values in [-1, 1] (a Float32Array, or any array of numbers such as a Float16Array). */
  data: ArrayLike<number>;
  /** [N, C, H, W]. */
  dims: readonly number[];
}

export interface VaeToRgbOptions {
  /**
   * Arithmetic precision of the denormalize step, i.e. the VAE output dtype in the reference.
   * `float16` reproduces a half-precision VAE; the default `float32` a full-precision one.
   */
  precision?: 'float32' | 'float16';
}

const fround = Math.fround;
const f16round: ((x: number) => number) | undefined = (Math as { f16round?: (x: number) => number }).f16round;

/** numpy's round() on a float: halfway cases go to the even integer. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** One VAE sample in [-1, 1] → one byte, exactly as the diffusers pipeline computes it. */
export function vaeValueToByte(x: number, precision: 'float32' | 'float16' = 'float32'): number {
  const round = precision === 'float16' ? requireF16round() : fround;
  let v = round(round(round(x) / 2) + 0.5);
  if (Number.isNaN(v)) return 0; // NaN.astype(uint8) is undefined in numpy; black is the honest answer
  v = v < 0 ? 0 : v > 1 ? 1 : v;
  return roundHalfEven(fround(fround(v) * 255));
}

function requireF16round(): (x: number) => number {
  if (f16round === undefined) throw new Error('float16 precision needs Math.f16round (Node 24 or later)');
  return f16round;
}

/**
 * `vaeValueToByte` is monotonic (every step — rounding, halving, adding, clamping, scaling — never
 * decreases), so it is fully described by 255 thresholds: byte(x) = b exactly when
 * T[b] <= x < T[b + 1]. Converting a value is then an estimate, round(127.5·x + 127.5), moved at
 * most a step or two to the bracket that holds x: the same bytes as the per-value arithmetic,
 * about twice as fast (a 480×832 frame is 1.2 M values). T[0] = −∞; T[256] = NaN, which no
 * comparison passes, so the search needs no bounds checks.
 */
const thresholdTables = new Map<'float32' | 'float16', Float64Array>();

const orderedKeyView = new DataView(new ArrayBuffer(4));
/** float32 ↔ an integer in value order (negative floats have their magnitudes reversed). */
function floatToKey(x: number): number {
  orderedKeyView.setFloat32(0, x);
  const bits = orderedKeyView.getInt32(0);
  return bits >= 0 ? bits : -(bits & 0x7fffffff);
}
function keyToFloat(k: number): number {
  orderedKeyView.setInt32(0, k >= 0 ? k : (-k | 0x80000000) | 0);
  return orderedKeyView.getFloat32(0);
}

export function vaeByteThresholds(precision: 'float32' | 'float16' = 'float32'): Float64Array {
  const cached = thresholdTables.get(precision);
  if (cached) return cached;
  if (precision === 'float16') requireF16round();
  const table = new Float64Array(257);
  table[0] = -Infinity;
  table[256] = NaN;
  // byte(−1) = 0 and byte(1) = 255, so every threshold lies in (−1, 1]; find the smallest float32
  // whose byte reaches b by bisection over the ordered float32 keys.
  const lowKey = floatToKey(-1);
  const highKey = floatToKey(1);
  for (let b = 1; b <= 255; b++) {
    let lo = lowKey; // byte < b here
    let hi = highKey; // byte >= b here
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (vaeValueToByte(keyToFloat(mid), precision) >= b) hi = mid;
      else lo = mid;
    }
    table[b] = keyToFloat(hi);
  }
  thresholdTables.set(precision, table);
  return table;
}

/**
 * Planar float VAE output → interleaved bytes, the same bytes as `vaeValueToByte` per value:
 * `plane` values from `src` starting at each of `channels` offsets `srcOffset + c·channelStride`,
 * written to `out` at `p·channels + c`.
 */
export function vaePlanesToBytes(
  src: ArrayLike<number>,
  srcOffset: number,
  channelStride: number,
  channels: number,
  plane: number,
  out: Uint8Array,
  precision: 'float32' | 'float16' = 'float32',
): void {
  const t = vaeByteThresholds(precision);
  for (let c = 0; c < channels; c++) {
    const base = srcOffset + c * channelStride;
    for (let p = 0, o = c; p < plane; p++, o += channels) {
      // The thresholds are float32s; float32 and float16 data pass fround unchanged.
      const x = fround(src[base + p]!);
      // The estimate is within one byte of the answer; NaN estimates 0 and stays there.
      let e = 127.5 * x + 128;
      e = e >= 0 ? (e < 255 ? e | 0 : 255) : 0;
      while (x < t[e]!) e--;
      while (x >= t[e + 1]!) e++;
      out[o] = e;
    }
  }
}

/**
 * Image `index` of an NCHW batch (C = 3 or 4) as interleaved 8-bit RGB/RGBA (HWC), with the
 * diffusers value mapping.
 */
export function vaeOutputToImage(tensor: NchwTensor, index = 0, options: VaeToRgbOptions = {}): RawImage {
  const [n, c, h, w] = checkDims(tensor);
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new RangeError(`image index ${index} is outside the batch of ${n}`);
  }
  const precision = options.precision ?? 'float32';
  if (precision === 'float16') requireF16round();
  const plane = h * w;
  const out = new Uint8Array(plane * c);
  vaePlanesToBytes(tensor.data, index * c * plane, plane, c, plane, out, precision);
  return { width: w, height: h, channels: c as 3 | 4, data: out };
}

/** NCHW → HWC interleave of image `index`, values copied unchanged (for tensors already in bytes). */
export function nchwToHwc<T extends ArrayLike<number>>(
  data: T,
  dims: readonly number[],
  index: number,
  out: { length: number; [i: number]: number },
): void {
  const [n, c, h, w] = checkDims({ data, dims });
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new RangeError(`image index ${index} is outside the batch of ${n}`);
  }
  const plane = h * w;
  if (out.length < plane * c) throw new RangeError(`output holds ${out.length} values, needs ${plane * c}`);
  const base = index * c * plane;
  for (let ch = 0; ch < c; ch++) {
    const src = base + ch * plane;
    for (let p = 0; p < plane; p++) out[p * c + ch] = data[src + p]!;
  }
}

function checkDims(tensor: NchwTensor): [number, number, number, number] {
  const { dims, data } = tensor;
  if (dims.length !== 4 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new RangeError(`expected an NCHW tensor, got dims [${dims.join(', ')}]`);
  }
  const [n, c, h, w] = dims as [number, number, number, number];
  if (c !== 3 && c !== 4) throw new RangeError(`expected 3 (RGB) or 4 (RGBA) channels, got ${c}`);
  if (data.length !== n * c * h * w) {
    throw new RangeError(`tensor holds ${data.length} values, dims [${dims.join(', ')}] need ${n * c * h * w}`);
  }
  return [n, c, h, w];
}
