// PNG encoder for 8-bit RGB and RGBA. Deterministic: the same pixels, text and options always give
// the same bytes (fixed filter heuristic, fixed zlib settings, no timestamps).

import { constants as zlibConstants, deflate, deflateRaw, deflateRawSync, deflateSync } from 'node:zlib';
import { promisify } from 'node:util';
import { PNG_MAX_UINT31, concatBytes, encodeChunk, encodeIhdr, encodeTextChunk } from './png-chunks.ts';
import type { TextChunkSpec } from './png-chunks.ts';

/** Interleaved 8-bit pixels, row-major, top row first. */
export interface RawImage {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array;
}

export type PngFilterChoice = 'adaptive' | 'none' | 'sub' | 'up' | 'average' | 'paeth';

export interface EncodePngOptions {
  /** Text chunks, written before the image data in the order given. */
  text?: readonly TextChunkSpec[];
  /** zlib level 0–9. Default 6: within a few percent of 9 on generated images at a fraction of the time. */
  compressionLevel?: number;
  /**
   * Row filter. Default `adaptive`: per row, the filter with the minimum sum of absolute
   * (signed) differences, the heuristic libpng and the PNG spec recommend for truecolor images.
   */
  filter?: PngFilterChoice;
}

const FILTER_CODES: Record<Exclude<PngFilterChoice, 'adaptive'>, number> = {
  none: 0,
  sub: 1,
  up: 2,
  average: 3,
  paeth: 4,
};

/** Split IDAT so no single chunk is huge; 64 KiB is what Pillow uses. */
const IDAT_CHUNK_BYTES = 65536;

export function encodePng(image: RawImage, options: EncodePngOptions = {}): Uint8Array {
  const level = checkLevel(image, options);
  const filtered = filterScanlines(image, options.filter ?? 'adaptive');
  return assemble(image, options, zlibCompressSync(filtered, level));
}

const deflateAsync = promisify(deflate);
const deflateRawAsync = promisify(deflateRaw);

/**
 * The same bytes as encodePng, with the compression on libuv's thread pool: a pipeline starts
 * encoding one image and goes on decoding the next while zlib works, and a large image's pieces
 * (see zlibCompressAsync) are compressed on several of the pool's threads at once.
 */
export async function encodePngAsync(image: RawImage, options: EncodePngOptions = {}): Promise<Uint8Array> {
  const level = checkLevel(image, options);
  const filter = startFilter(image, options.filter ?? 'adaptive');
  return assemble(image, options, await zlibCompressAsync(filter, level));
}

// ---------------------------------------------------------------------------------------------
// Parallel zlib, the way pigz does it (Mark Adler, https://zlib.net/pigz/; RFC 1950 for the zlib
// wrapper, RFC 1951 for deflate). The filtered data is cut into pieces of a fixed size; each piece
// is compressed as raw deflate (RFC 1951) with the 32 KiB of data before it as a preset
// dictionary, so back-references may reach into the previous piece exactly as a single stream's
// would. Every piece but the last ends with Z_SYNC_FLUSH (byte-aligned, no final-block bit: an
// empty stored block 00 00 FF FF), the last with Z_FINISH, so the concatenation is one valid
// deflate stream. The zlib wrapper (RFC 1950) is written here: the 2-byte header, the raw
// streams, then the Adler-32 of all the uncompressed data, big-endian.
//
// The piece size depends only on the data size, never on the machine's core count, so the bytes
// are the same everywhere; encodePng compresses the same pieces one after another, so the sync and
// async encoders give identical files. Data under two pieces, and level 0, keep the single call.
// ---------------------------------------------------------------------------------------------

/** Filtered bytes per piece (pigz uses 128 KiB; larger keeps the per-piece flush overhead negligible). */
export const DEFLATE_PIECE_BYTES = 256 * 1024;
/** Deflate's window: the most a back-reference can reach, hence the dictionary size. */
const DEFLATE_WINDOW_BYTES = 32 * 1024;

/** [start, end) of each piece, or null when the data is small enough for one deflate call. */
function planPieces(length: number, level: number): Array<[number, number]> | null {
  // Level 0 (stored blocks) is a copy, nothing to spread over cores; and zlib sizes stored blocks
  // by the output space and flush pattern, which differ between the sync and async calls.
  if (level === 0 || length < 2 * DEFLATE_PIECE_BYTES) return null;
  const pieces: Array<[number, number]> = [];
  for (let at = 0; at < length; at += DEFLATE_PIECE_BYTES) pieces.push([at, Math.min(at + DEFLATE_PIECE_BYTES, length)]);
  return pieces;
}

function pieceOptions(data: Uint8Array, [start, end]: [number, number], last: boolean, level: number): import('node:zlib').ZlibOptions {
  const options: import('node:zlib').ZlibOptions = {
    ...deflateOptions(level),
    // One output buffer for the whole piece: fewer round trips to the JS thread. Incompressible
    // data grows by 5 bytes per stored block, flush markers add a few more; 4 KiB covers both.
    chunkSize: end - start + 4096,
    finishFlush: last ? zlibConstants.Z_FINISH : zlibConstants.Z_SYNC_FLUSH,
  };
  if (start > 0) options.dictionary = data.subarray(Math.max(0, start - DEFLATE_WINDOW_BYTES), start);
  return options;
}

function zlibCompressSync(data: Uint8Array, level: number): Uint8Array {
  const pieces = planPieces(data.byteLength, level);
  if (pieces === null) return deflateSync(data, deflateOptions(level));
  const raw = pieces.map((range, i) =>
    deflateRawSync(data.subarray(range[0], range[1]), pieceOptions(data, range, i === pieces.length - 1, level)),
  );
  return wrapZlib(raw, data, level);
}

/**
 * Each piece is handed to the thread pool as soon as its rows are filtered, so filtering the rest
 * on this thread overlaps the compression of what is done; the Adler-32 is summed meanwhile too.
 */
async function zlibCompressAsync(filter: RowFilter, level: number): Promise<Uint8Array> {
  const data = filter.out;
  const pieces = planPieces(data.byteLength, level);
  if (pieces === null) {
    filter.rows(filter.height);
    return deflateAsync(data, deflateOptions(level));
  }
  const rowBytes = data.byteLength / filter.height;
  const raw: Array<Promise<Uint8Array>> = [];
  let adler = 1;
  pieces.forEach((range, i) => {
    filter.rows(Math.ceil(range[1] / rowBytes));
    const last = i === pieces.length - 1;
    raw.push(deflateRawAsync(data.subarray(range[0], range[1]), pieceOptions(data, range, last, level)));
    adler = adler32(data.subarray(range[0], range[1]), adler);
  });
  return wrapZlib(await Promise.all(raw), data, level, adler);
}

/** RFC 1950 header: CM 8 (deflate), CINFO 7 (32 KiB window), FLEVEL as zlib writes it, FCHECK. */
export function zlibHeader(level: number): Uint8Array {
  const cmf = 0x78;
  const flevel = level < 2 ? 0 : level < 6 ? 1 : level === 6 ? 2 : 3;
  let flg = flevel << 6;
  flg += 31 - ((cmf * 256 + flg) % 31);
  return Uint8Array.of(cmf, flg);
}

function wrapZlib(raw: readonly Uint8Array[], data: Uint8Array, level: number, adler = adler32(data)): Uint8Array {
  const trailer = new Uint8Array(4);
  new DataView(trailer.buffer).setUint32(0, adler);
  return concatBytes([zlibHeader(level), ...raw, trailer]);
}

const ADLER_MOD = 65521;
/**
 * zlib's NMAX: the most bytes that can be summed before reducing mod 65521 while `b` stays below
 * 2^32 (255·n(n+1)/2 + (n+1)·65520 ≤ 2^32 − 1), which keeps the sums small exact integers.
 */
const ADLER_NMAX = 5552;

/** Adler-32 (RFC 1950 section 8.2) of `data`, continuing from `start` (1 for a fresh checksum). */
export function adler32(data: Uint8Array, start = 1): number {
  let a = start & 0xffff;
  let b = (start >>> 16) & 0xffff;
  const n = data.byteLength;
  for (let at = 0; at < n; ) {
    const end = Math.min(at + ADLER_NMAX, n);
    for (; at < end; at++) {
      a += data[at]!;
      b += a;
    }
    a %= ADLER_MOD;
    b %= ADLER_MOD;
  }
  return ((b << 16) | a) >>> 0;
}

function checkLevel(image: RawImage, options: EncodePngOptions): number {
  validateImage(image);
  const level = options.compressionLevel ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new RangeError(`compressionLevel must be an integer 0–9, got ${level}`);
  }
  return level;
}

function deflateOptions(level: number): import('node:zlib').ZlibOptions {
  return {
    level,
    memLevel: 9,
    // Filtered rows are mostly small values: Z_FILTERED favours Huffman coding over short
    // matches, as libpng does by default for filtered images.
    strategy: zlibConstants.Z_FILTERED,
  };
}

function assemble(image: RawImage, options: EncodePngOptions, compressed: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    encodeIhdr({
      width: image.width,
      height: image.height,
      bitDepth: 8,
      colorType: image.channels === 4 ? 6 : 2,
      interlace: 0,
    }),
  ];
  for (const spec of options.text ?? []) parts.push(encodeTextChunk(spec));
  for (let at = 0; at < compressed.byteLength || at === 0; at += IDAT_CHUNK_BYTES) {
    parts.push(encodeChunk('IDAT', compressed.subarray(at, Math.min(at + IDAT_CHUNK_BYTES, compressed.byteLength))));
  }
  parts.push(encodeChunk('IEND', new Uint8Array(0)));
  return concatBytes(parts);
}

function validateImage(image: RawImage): void {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers, got ${width}×${height}`);
  }
  if (width > PNG_MAX_UINT31 || height > PNG_MAX_UINT31) {
    throw new RangeError(`image size ${width}×${height} exceeds the PNG limit`);
  }
  if (channels !== 3 && channels !== 4) throw new RangeError(`channels must be 3 (RGB) or 4 (RGBA), got ${channels}`);
  const expected = width * height * channels;
  if (data.byteLength !== expected) {
    throw new RangeError(
      `pixel buffer has ${data.byteLength} bytes, expected ${expected} for ${width}×${height}×${channels}`,
    );
  }
}

/** Produce the filtered scanline stream: each row prefixed with its filter type byte. */
function filterScanlines(image: RawImage, choice: PngFilterChoice): Uint8Array {
  const filter = startFilter(image, choice);
  filter.rows(image.height);
  return filter.out;
}

interface RowFilter {
  /** The filtered stream, written as rows are filtered. */
  readonly out: Uint8Array;
  readonly height: number;
  /** Filter rows up to (not including) `end`; rows already done are skipped. */
  rows(end: number): void;
}

function startFilter(image: RawImage, choice: PngFilterChoice): RowFilter {
  const { width, height, channels: bpp, data } = image;
  const stride = width * bpp;
  const out = new Uint8Array(height * (stride + 1));
  const zeroRow = new Uint8Array(stride);
  const fixed = choice === 'adaptive' ? -1 : FILTER_CODES[choice];
  // Adaptive: all five filters are computed in one pass into scratch rows, and the row with the
  // minimum sum of absolute (signed-byte) values is kept — libpng's heuristic, without a second pass.
  const scratch = fixed >= 0 ? null : [0, 1, 2, 3, 4].map(() => new Uint8Array(stride));
  let y = 0;
  const rows = (end: number): void => {
    for (end = Math.min(end, height); y < end; y++) {
      const cur = data.subarray(y * stride, (y + 1) * stride);
      const prev = y === 0 ? zeroRow : data.subarray((y - 1) * stride, y * stride);
      const rowStart = y * (stride + 1);
      if (scratch) {
        const filter = filterAllAndChoose(cur, prev, bpp, scratch);
        out[rowStart] = filter;
        out.set(scratch[filter]!, rowStart + 1);
      } else {
        out[rowStart] = fixed;
        applyFilter(fixed, cur, prev, bpp, out, rowStart + 1);
      }
    }
  };
  return { out, height, rows };
}

/** |v| of a byte read as signed 8-bit (255 → 1), so small negative differences count as small. */
const SIGNED_MAGNITUDE = Uint8Array.from({ length: 256 }, (_, v) => (v < 128 ? v : 256 - v));

function filterAllAndChoose(cur: Uint8Array, prev: Uint8Array, bpp: number, rows: Uint8Array[]): number {
  const [none, sub, up, avg, paeth] = rows as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const mag = SIGNED_MAGNITUDE;
  let sNone = 0;
  let sSub = 0;
  let sUp = 0;
  let sAvg = 0;
  let sPaeth = 0;
  const n = cur.length;
  for (let i = 0; i < n; i++) {
    const x = cur[i]!;
    const b = prev[i]!;
    const a = i >= bpp ? cur[i - bpp]! : 0;
    const c = i >= bpp ? prev[i - bpp]! : 0;
    // Paeth predictor (PNG spec 9.4), inlined.
    const pa = b > c ? b - c : c - b;
    const pb = a > c ? a - c : c - a;
    const pcRaw = a + b - c - c;
    const pc = pcRaw < 0 ? -pcRaw : pcRaw;
    const pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    const vNone = x;
    const vSub = (x - a) & 0xff;
    const vUp = (x - b) & 0xff;
    const vAvg = (x - ((a + b) >> 1)) & 0xff;
    const vPaeth = (x - pred) & 0xff;
    none[i] = vNone;
    sub[i] = vSub;
    up[i] = vUp;
    avg[i] = vAvg;
    paeth[i] = vPaeth;
    sNone += mag[vNone]!;
    sSub += mag[vSub]!;
    sUp += mag[vUp]!;
    sAvg += mag[vAvg]!;
    sPaeth += mag[vPaeth]!;
  }
  // Ties go to the simpler filter, which keeps the choice stable.
  let best = 0;
  let bestSum = sNone;
  const sums = [sNone, sSub, sUp, sAvg, sPaeth];
  for (let f = 1; f < 5; f++) {
    if (sums[f]! < bestSum) {
      best = f;
      bestSum = sums[f]!;
    }
  }
  return best;
}


export function paethPredictor(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  if (pb <= pc) return b;
  return c;
}

function applyFilter(
  filter: number,
  cur: Uint8Array,
  prev: Uint8Array,
  bpp: number,
  out: Uint8Array,
  at: number,
): void {
  const n = cur.length;
  switch (filter) {
    case 0:
      out.set(cur, at);
      return;
    case 1:
      for (let i = 0; i < n; i++) out[at + i] = cur[i]! - (i >= bpp ? cur[i - bpp]! : 0);
      return;
    case 2:
      for (let i = 0; i < n; i++) out[at + i] = cur[i]! - prev[i]!;
      return;
    case 3:
      for (let i = 0; i < n; i++) out[at + i] = cur[i]! - (((i >= bpp ? cur[i - bpp]! : 0) + prev[i]!) >> 1);
      return;
    default:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? cur[i - bpp]! : 0;
        const c = i >= bpp ? prev[i - bpp]! : 0;
        out[at + i] = cur[i]! - paethPredictor(a, prev[i]!, c);
      }
  }
}
