// Library thumbnails: area-average downscale (each output pixel is the exact coverage-weighted mean
// of the source pixels under it, so non-integer ratios such as 1024→300 neither alias nor shift)
// and a small PNG. RGBA is averaged premultiplied so transparent pixels do not darken edges.

import { encodePng } from './png-encode.ts';
import type { RawImage } from './png-encode.ts';

export const DEFAULT_THUMBNAIL_MAX_SIDE = 256;

/** Output size that fits `maxSide`, keeps the aspect ratio, and never upscales. */
export function fitWithin(width: number, height: number, maxSide: number): { width: number; height: number } {
  if (!Number.isInteger(maxSide) || maxSide < 1) throw new RangeError(`maxSide must be a positive integer, got ${maxSide}`);
  const longest = Math.max(width, height);
  if (longest <= maxSide) return { width, height };
  const scale = maxSide / longest;
  return {
    width: width >= height ? maxSide : Math.max(1, Math.round(width * scale)),
    height: height >= width ? maxSide : Math.max(1, Math.round(height * scale)),
  };
}

interface AxisWeights {
  /** First source index for each output index. */
  start: Int32Array;
  /** Number of source indices for each output index. */
  count: Int32Array;
  /** Concatenated weights, `count[o]` of them per output index, summing to 1. */
  weights: Float64Array;
  offsets: Int32Array;
}

/** Coverage of source cells [i, i+1) by the output cell [o·s, (o+1)·s), normalised. */
function axisWeights(srcLen: number, dstLen: number): AxisWeights {
  const scale = srcLen / dstLen;
  const start = new Int32Array(dstLen);
  const count = new Int32Array(dstLen);
  const offsets = new Int32Array(dstLen);
  const list: number[] = [];
  for (let o = 0; o < dstLen; o++) {
    const lo = o * scale;
    const hi = Math.min(srcLen, (o + 1) * scale);
    const first = Math.floor(lo);
    const last = Math.min(srcLen - 1, Math.ceil(hi) - 1);
    start[o] = first;
    offsets[o] = list.length;
    for (let i = first; i <= last; i++) {
      const covered = Math.min(hi, i + 1) - Math.max(lo, i);
      list.push(Math.max(0, covered) / scale);
    }
    count[o] = last - first + 1;
  }
  return { start, count, weights: Float64Array.from(list), offsets };
}

/** Area-average resize to an exact size no larger than the source on either axis. */
export function downscaleArea(image: RawImage, width: number, height: number): RawImage {
  const { channels, data } = image;
  if (width < 1 || height < 1 || width > image.width || height > image.height) {
    throw new RangeError(`cannot downscale ${image.width}×${image.height} to ${width}×${height}`);
  }
  if (data.byteLength !== image.width * image.height * channels) {
    throw new RangeError(`pixel buffer has ${data.byteLength} bytes, expected ${image.width * image.height * channels}`);
  }
  const premultiply = channels === 4;
  if (!premultiply && image.width % width === 0 && image.height % height === 0) return boxDownscaleRgb(image, width, height);
  const xw = axisWeights(image.width, width);
  const yw = axisWeights(image.height, height);

  // Horizontal pass into floats (premultiplied when there is alpha).
  const rows = new Float64Array(image.height * width * channels);
  for (let y = 0; y < image.height; y++) {
    const srcRow = y * image.width * channels;
    const dstRow = y * width * channels;
    for (let o = 0; o < width; o++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      const base = xw.offsets[o]!;
      for (let k = 0; k < xw.count[o]!; k++) {
        const w = xw.weights[base + k]!;
        const s = srcRow + (xw.start[o]! + k) * channels;
        if (premultiply) {
          const alpha = data[s + 3]!;
          const wa = w * alpha;
          r += wa * data[s]!;
          g += wa * data[s + 1]!;
          b += wa * data[s + 2]!;
          a += w * alpha;
        } else {
          r += w * data[s]!;
          g += w * data[s + 1]!;
          b += w * data[s + 2]!;
        }
      }
      const d = dstRow + o * channels;
      rows[d] = r;
      rows[d + 1] = g;
      rows[d + 2] = b;
      if (premultiply) rows[d + 3] = a;
    }
  }

  // Vertical pass, then back to 8-bit.
  const out = new Uint8Array(width * height * channels);
  const acc = new Float64Array(width * channels);
  for (let o = 0; o < height; o++) {
    acc.fill(0);
    const base = yw.offsets[o]!;
    for (let k = 0; k < yw.count[o]!; k++) {
      const w = yw.weights[base + k]!;
      const row = (yw.start[o]! + k) * width * channels;
      for (let i = 0; i < acc.length; i++) acc[i]! += w * rows[row + i]!;
    }
    const dstRow = o * width * channels;
    for (let x = 0; x < width; x++) {
      const s = x * channels;
      if (premultiply) {
        const alpha = acc[s + 3]!;
        const inv = alpha > 0 ? 1 / alpha : 0;
        out[dstRow + s] = toByte(acc[s]! * inv);
        out[dstRow + s + 1] = toByte(acc[s + 1]! * inv);
        out[dstRow + s + 2] = toByte(acc[s + 2]! * inv);
        out[dstRow + s + 3] = toByte(alpha);
      } else {
        out[dstRow + s] = toByte(acc[s]!);
        out[dstRow + s + 1] = toByte(acc[s + 1]!);
        out[dstRow + s + 2] = toByte(acc[s + 2]!);
      }
    }
  }
  return { width, height, channels, data: out };
}

function toByte(v: number): number {
  // Float sums of weights that should total 1 can land a hair off; round, then clamp.
  const r = Math.round(v);
  return r < 0 ? 0 : r > 255 ? 255 : r;
}

export interface Thumbnail {
  png: Uint8Array;
  width: number;
  height: number;
}

/** Downscale to fit `maxSide` (default 256) and encode as PNG. */
export function makeThumbnail(image: RawImage, maxSide: number = DEFAULT_THUMBNAIL_MAX_SIDE): Thumbnail {
  const size = fitWithin(image.width, image.height, maxSide);
  const small = size.width === image.width && size.height === image.height ? image : downscaleArea(image, size.width, size.height);
  return { png: encodePng(small), width: small.width, height: small.height };
}

/**
 * The exact-ratio case (1024 → 256: every output pixel averages a whole 4×4 block), which generated
 * images always hit: integer sums instead of coverage weights, the same result as the general path
 * up to rounding of the mean.
 */
function boxDownscaleRgb(image: RawImage, width: number, height: number): RawImage {
  const fx = image.width / width;
  const fy = image.height / height;
  const area = fx * fy;
  const src = image.data;
  const sums = new Uint32Array(width * 3);
  const out = new Uint8Array(width * height * 3);
  for (let oy = 0; oy < height; oy++) {
    sums.fill(0);
    for (let dy = 0; dy < fy; dy++) {
      let s = (oy * fy + dy) * image.width * 3;
      for (let ox = 0; ox < width; ox++) {
        const o = ox * 3;
        let r = 0;
        let g = 0;
        let b = 0;
        for (let dx = 0; dx < fx; dx++, s += 3) {
          r += src[s]!;
          g += src[s + 1]!;
          b += src[s + 2]!;
        }
        sums[o] += r;
        sums[o + 1] += g;
        sums[o + 2] += b;
      }
    }
    const row = oy * width * 3;
    for (let i = 0; i < width * 3; i++) out[row + i] = Math.round(sums[i]! / area);
  }
  return { width, height, channels: 3, data: out };
}
