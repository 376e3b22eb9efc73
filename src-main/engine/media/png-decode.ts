// Full PNG pixel decoder: every color type (gray, RGB, palette, gray+alpha, RGBA), every bit depth,
// all five filters, Adam7 interlacing and tRNS transparency. Output is always 8-bit RGB or RGBA.
// A pixel-count cap and a bounded inflate guard against decompression bombs.

import { inflateSync } from 'node:zlib';
import { PngFormatError, concatBytes, parseIhdr, readPngChunks } from './png-chunks.ts';
import type { PngHeader } from './png-chunks.ts';
import { paethPredictor } from './png-encode.ts';
import type { RawImage } from './png-encode.ts';

/**
 * Default pixel cap: Pillow's MAX_IMAGE_PIXELS (about 89.5 megapixels, 256 MiB of 24-bit pixels).
 * A 4× upscaled 2048×2048 image (67 MP) still fits.
 */
export const DEFAULT_MAX_PIXELS = 89_478_485;

export interface DecodePngOptions {
  /** Refuse images with more pixels than this (checked before any image data is inflated). */
  maxPixels?: number;
  /** Name used in error messages, e.g. the file name. */
  name?: string;
}

export interface DecodedPng extends RawImage {
  header: PngHeader;
}

const ADAM7 = [
  // [x0, y0, dx, dy]
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

const SAMPLES_PER_PIXEL: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

interface Pass {
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  width: number;
  height: number;
}

export function decodePng(bytes: Uint8Array, options: DecodePngOptions = {}): DecodedPng {
  const label = options.name ?? 'PNG file';
  const chunks = readPngChunks(bytes, options);
  const header = parseIhdr(chunks[0]!, options);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const pixels = header.width * header.height;
  if (pixels > maxPixels) {
    throw new PngFormatError(
      'too-large',
      `${label} declares ${header.width}×${header.height} pixels (${formatPixels(pixels)}), above the ${formatPixels(maxPixels)} limit; it was not decoded`,
    );
  }

  let palette: Uint8Array | undefined;
  let trns: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  for (const chunk of chunks) {
    if (chunk.type === 'PLTE') palette = chunk.data;
    else if (chunk.type === 'tRNS') trns = chunk.data;
    else if (chunk.type === 'IDAT') idat.push(chunk.data);
  }
  if (idat.length === 0) throw new PngFormatError('corrupt', `${label} is corrupt: it has no image data (IDAT)`);
  if (header.colorType === 3) {
    if (palette === undefined || palette.byteLength % 3 !== 0 || palette.byteLength === 0) {
      throw new PngFormatError('corrupt', `${label} is corrupt: a palette image without a valid PLTE chunk`);
    }
  }

  const bitsPerPixel = SAMPLES_PER_PIXEL[header.colorType]! * header.bitDepth;
  const passes = planPasses(header);
  let expected = 0;
  for (const pass of passes) expected += pass.height * (1 + Math.ceil((pass.width * bitsPerPixel) / 8));
  const raw = inflateImageData(concatBytes(idat), expected, label);

  const hasAlpha = header.colorType === 4 || header.colorType === 6 || trns !== undefined;
  const channels: 3 | 4 = hasAlpha ? 4 : 3;
  const out = new Uint8Array(header.width * header.height * channels);
  const converter = makeRowConverter(header, channels, palette, trns);
  const filterBpp = Math.max(1, bitsPerPixel >> 3);

  let at = 0;
  for (const pass of passes) {
    const stride = Math.ceil((pass.width * bitsPerPixel) / 8);
    let prev = new Uint8Array(stride);
    let cur = new Uint8Array(stride);
    const rowPixels = new Uint8Array(pass.width * channels);
    for (let y = 0; y < pass.height; y++) {
      const filter = raw[at]!;
      if (filter > 4) {
        throw new PngFormatError('corrupt', `${label} is corrupt: unknown row filter ${filter}`);
      }
      unfilterRow(filter, raw.subarray(at + 1, at + 1 + stride), prev, cur, filterBpp);
      at += 1 + stride;
      converter(cur, pass.width, rowPixels);
      const outY = pass.y0 + y * pass.dy;
      if (pass.dx === 1) {
        out.set(rowPixels, outY * header.width * channels);
      } else {
        for (let x = 0; x < pass.width; x++) {
          const dst = (outY * header.width + pass.x0 + x * pass.dx) * channels;
          for (let c = 0; c < channels; c++) out[dst + c] = rowPixels[x * channels + c]!;
        }
      }
      [prev, cur] = [cur, prev];
    }
  }
  return { width: header.width, height: header.height, channels, data: out, header };
}

function formatPixels(count: number): string {
  return count >= 100_000 ? `${(count / 1e6).toFixed(1)} MP` : `${count} pixels`;
}

function planPasses(header: PngHeader): Pass[] {
  if (header.interlace === 0) {
    return [{ x0: 0, y0: 0, dx: 1, dy: 1, width: header.width, height: header.height }];
  }
  return ADAM7.map(([x0, y0, dx, dy]) => ({
    x0,
    y0,
    dx,
    dy,
    width: header.width > x0 ? Math.ceil((header.width - x0) / dx) : 0,
    height: header.height > y0 ? Math.ceil((header.height - y0) / dy) : 0,
  })).filter((p) => p.width > 0 && p.height > 0);
}

function inflateImageData(compressed: Uint8Array, expected: number, label: string): Uint8Array {
  let raw: Uint8Array;
  try {
    // A little slack for encoders that pad the stream; anything beyond is a bomb or garbage.
    raw = inflateSync(compressed, { maxOutputLength: expected + 65536 });
  } catch (error) {
    if (error instanceof RangeError) {
      throw new PngFormatError('corrupt', `${label} is corrupt: its image data expands beyond the declared size`);
    }
    const message = (error as Error).message;
    if (/unexpected end/i.test(message)) {
      throw new PngFormatError('truncated', `${label} is truncated: the image data ends early; copy or download it again`);
    }
    throw new PngFormatError('corrupt', `${label} is corrupt: its image data cannot be decompressed (${message})`);
  }
  if (raw.byteLength < expected) {
    throw new PngFormatError(
      'truncated',
      `${label} is truncated: the image data holds ${raw.byteLength} of ${expected} bytes; copy or download it again`,
    );
  }
  return raw;
}

function unfilterRow(filter: number, src: Uint8Array, prev: Uint8Array, cur: Uint8Array, bpp: number): void {
  const n = src.length;
  switch (filter) {
    case 0:
      cur.set(src);
      return;
    case 1:
      for (let i = 0; i < n; i++) cur[i] = src[i]! + (i >= bpp ? cur[i - bpp]! : 0);
      return;
    case 2:
      for (let i = 0; i < n; i++) cur[i] = src[i]! + prev[i]!;
      return;
    case 3:
      for (let i = 0; i < n; i++) cur[i] = src[i]! + (((i >= bpp ? cur[i - bpp]! : 0) + prev[i]!) >> 1);
      return;
    default:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? cur[i - bpp]! : 0;
        const c = i >= bpp ? prev[i - bpp]! : 0;
        cur[i] = src[i]! + paethPredictor(a, prev[i]!, c);
      }
  }
}

type RowConverter = (row: Uint8Array, width: number, out: Uint8Array) => void;

function makeRowConverter(
  header: PngHeader,
  channels: 3 | 4,
  palette: Uint8Array | undefined,
  trns: Uint8Array | undefined,
): RowConverter {
  const { colorType, bitDepth } = header;
  const spp = SAMPLES_PER_PIXEL[colorType]!;
  // Fast path: the encoder's own output and most files in the wild.
  if (bitDepth === 8 && trns === undefined && (colorType === 2 || colorType === 6)) {
    return (row, width, out) => out.set(row.subarray(0, width * spp));
  }
  const sample = makeSampleReader(bitDepth);
  const maxValue = (1 << bitDepth) - 1;
  const to8 = (v: number): number => (bitDepth === 16 ? v >> 8 : bitDepth === 8 ? v : Math.round((v * 255) / maxValue));
  const trnsView = trns === undefined ? undefined : new DataView(trns.buffer, trns.byteOffset, trns.byteLength);
  const trnsGray = colorType === 0 && trnsView !== undefined && trns!.byteLength >= 2 ? trnsView.getUint16(0) : -1;
  const trnsRgb =
    colorType === 2 && trnsView !== undefined && trns!.byteLength >= 6
      ? [trnsView.getUint16(0), trnsView.getUint16(2), trnsView.getUint16(4)]
      : undefined;
  const paletteEntries = palette === undefined ? 0 : palette.byteLength / 3;

  return (row, width, out) => {
    for (let x = 0; x < width; x++) {
      const o = x * channels;
      let r: number;
      let g: number;
      let b: number;
      let a = 255;
      switch (colorType) {
        case 0: {
          const v = sample(row, x);
          r = g = b = to8(v);
          if (v === trnsGray) a = 0;
          break;
        }
        case 2: {
          const vr = sample(row, x * 3);
          const vg = sample(row, x * 3 + 1);
          const vb = sample(row, x * 3 + 2);
          r = to8(vr);
          g = to8(vg);
          b = to8(vb);
          if (trnsRgb !== undefined && vr === trnsRgb[0] && vg === trnsRgb[1] && vb === trnsRgb[2]) a = 0;
          break;
        }
        case 3: {
          const index = sample(row, x);
          // Out-of-range indices are an encoder bug; show black rather than refuse the whole image.
          if (index < paletteEntries) {
            r = palette![index * 3]!;
            g = palette![index * 3 + 1]!;
            b = palette![index * 3 + 2]!;
          } else {
            r = g = b = 0;
          }
          if (trns !== undefined && index < trns.byteLength) a = trns[index]!;
          break;
        }
        case 4:
          r = g = b = to8(sample(row, x * 2));
          a = to8(sample(row, x * 2 + 1));
          break;
        default:
          r = to8(sample(row, x * 4));
          g = to8(sample(row, x * 4 + 1));
          b = to8(sample(row, x * 4 + 2));
          a = to8(sample(row, x * 4 + 3));
      }
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      if (channels === 4) out[o + 3] = a;
    }
  };
}

/** Reads sample number `index` of a row at the given bit depth (MSB-first packing). */
function makeSampleReader(bitDepth: number): (row: Uint8Array, index: number) => number {
  switch (bitDepth) {
    case 16:
      return (row, i) => (row[2 * i]! << 8) | row[2 * i + 1]!;
    case 8:
      return (row, i) => row[i]!;
    default: {
      const perByte = 8 / bitDepth;
      const mask = (1 << bitDepth) - 1;
      return (row, i) => {
        const byte = row[Math.floor(i / perByte)]!;
        const shift = 8 - bitDepth * ((i % perByte) + 1);
        return (byte >> shift) & mask;
      };
    }
  }
}
