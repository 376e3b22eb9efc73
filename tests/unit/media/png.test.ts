import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  PngFormatError,
  decodePng,
  encodeChunk,
  encodePng,
  readPngChunks,
  readPngMetadata,
} from '../../../src-main/engine/media/png.ts';
import type { RawImage } from '../../../src-main/engine/media/png.ts';
import { concatBytes, encodeIhdr, PNG_SIGNATURE } from '../../../src-main/engine/media/png-chunks.ts';
import {
  FIXTURE_HEIGHT,
  FIXTURE_WIDTH,
  sample1,
  sample8,
} from './fixtures/source-pattern.ts';

const fixtures = join(import.meta.dirname, 'fixtures');

function hasTool(name: string): boolean {
  try {
    execFileSync(name, ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Pseudo-random but deterministic pixels with smooth regions, edges and noise. */
function testImage(width: number, height: number, channels: 3 | 4, seed = 1): RawImage {
  const data = new Uint8Array(width * height * channels);
  let s = seed;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const noise = (s >>> 24) & 31;
      const i = (y * width + x) * channels;
      data[i] = (x * 3 + noise) & 0xff;
      data[i + 1] = y < height / 2 ? (y * 5) & 0xff : noise * 8;
      data[i + 2] = ((x ^ y) * 7) & 0xff;
      if (channels === 4) data[i + 3] = (x + y) % 3 === 0 ? 0 : 255 - noise;
    }
  }
  return { width, height, channels, data };
}

function pngFrom(chunks: Array<[string, Uint8Array]>): Uint8Array {
  return concatBytes([PNG_SIGNATURE, ...chunks.map(([type, data]) => encodeChunk(type, data))]);
}

describe('encodePng → decodePng', () => {
  it.each([
    ['RGB', 3, 37, 23],
    ['RGBA', 4, 37, 23],
    ['RGB single pixel', 3, 1, 1],
    ['RGBA one column', 4, 1, 9],
  ] as const)('round-trips %s pixels exactly', (_, channels, width, height) => {
    const image = testImage(width, height, channels);
    const decoded = decodePng(encodePng(image));
    expect(decoded.width).toBe(width);
    expect(decoded.height).toBe(height);
    expect(decoded.channels).toBe(channels);
    expect(Buffer.from(decoded.data).equals(Buffer.from(image.data))).toBe(true);
  });

  it.each(['none', 'sub', 'up', 'average', 'paeth', 'adaptive'] as const)(
    'round-trips with the %s filter',
    (filter) => {
      const image = testImage(29, 17, 3, 7);
      const decoded = decodePng(encodePng(image, { filter }));
      expect(Buffer.from(decoded.data).equals(Buffer.from(image.data))).toBe(true);
    },
  );

  it('adaptive filtering uses more than one filter type on a mixed image', () => {
    const image = testImage(64, 64, 3, 3);
    // Rebuild the filter bytes by inflating the IDAT stream.
    const chunks = readPngChunks(encodePng(image, { compressionLevel: 0 }));
    const idat = concatBytes(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data));
    const raw = new Uint8Array(inflateSync(idat));
    const filters = new Set<number>();
    for (let y = 0; y < 64; y++) filters.add(raw[y * (64 * 3 + 1)]!);
    expect(filters.size).toBeGreaterThan(1);
  });

  it('gives identical bytes for identical input', () => {
    const image = testImage(50, 40, 4, 5);
    const text = [{ keyword: 'parameters', text: 'a cat\nSteps: 15, Sampler: Euler, Seed: 42' }];
    const a = encodePng(image, { text });
    const b = encodePng({ ...image, data: image.data.slice() }, { text });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('rejects a pixel buffer of the wrong size', () => {
    expect(() => encodePng({ width: 4, height: 4, channels: 3, data: new Uint8Array(47) })).toThrow(
      /47 bytes, expected 48/,
    );
  });

  it.skipIf(!hasTool('ffmpeg'))('writes files an independent decoder (ffmpeg) reads identically', () => {
    const image = testImage(33, 21, 4, 11);
    const decoded = execFileSync('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1'], {
      input: encodePng(image),
    });
    expect(Buffer.from(decoded).equals(Buffer.from(image.data))).toBe(true);
  });
});

describe('text chunks', () => {
  const image = testImage(8, 8, 3);

  it('writes Latin-1 text as tEXt and other text as iTXt, both read back', () => {
    const png = encodePng(image, {
      text: [
        { keyword: 'parameters', text: 'café crème, 1girl\nSteps: 20' },
        { keyword: 'Comment', text: '猫が座っている 🐈 — ночь' },
      ],
    });
    const meta = readPngMetadata(png);
    expect(meta.text.map((t) => [t.keyword, t.chunk, t.text])).toEqual([
      ['parameters', 'tEXt', 'café crème, 1girl\nSteps: 20'],
      ['Comment', 'iTXt', '猫が座っている 🐈 — ночь'],
    ]);
  });

  it('places text chunks after IHDR and before IDAT', () => {
    const png = encodePng(image, { text: [{ keyword: 'a', text: 'x' }, { keyword: 'b', text: 'ÿ☃' }] });
    expect(readPngMetadata(png).chunkTypes).toEqual(['IHDR', 'tEXt', 'iTXt', 'IDAT', 'IEND']);
  });

  it('reads compressed zTXt and compressed iTXt', () => {
    const ztxt = concatBytes([Buffer.from('workflow\0\0', 'latin1'), deflateSync(Buffer.from('{"nodes":[]}'))]);
    const itxt = concatBytes([Buffer.from('prompt\0\x01\0en\0Prompt\0', 'latin1'), deflateSync(Buffer.from('日本語', 'utf8'))]);
    const png = encodePng(image, { text: [{ keyword: 'x', text: 'y', compress: true }] });
    const chunks = readPngChunks(png).map((c) => [c.type, c.data] as [string, Uint8Array]);
    const withExtra = pngFrom([chunks[0]!, ['zTXt', ztxt], ['iTXt', itxt], ...chunks.slice(1)]);
    const text = readPngMetadata(withExtra).text;
    expect(text.map((t) => [t.keyword, t.chunk, t.compressed, t.text])).toEqual([
      ['workflow', 'zTXt', true, '{"nodes":[]}'],
      ['prompt', 'iTXt', true, '日本語'],
      ['x', 'zTXt', true, 'y'],
    ]);
    expect(text[1]).toMatchObject({ languageTag: 'en', translatedKeyword: 'Prompt' });
  });

  it('rejects invalid keywords and NUL in text with a clear message', () => {
    expect(() => encodePng(image, { text: [{ keyword: '', text: 'x' }] })).toThrow(/invalid PNG text keyword/);
    expect(() => encodePng(image, { text: [{ keyword: 'k'.repeat(80), text: 'x' }] })).toThrow(/1–79/);
    expect(() => encodePng(image, { text: [{ keyword: ' lead', text: 'x' }] })).toThrow(/invalid PNG text keyword/);
    expect(() => encodePng(image, { text: [{ keyword: 'k', text: 'a\0b' }] })).toThrow(/NUL/);
  });

  it('refuses a compressed text chunk that inflates past the limit', () => {
    const bomb = concatBytes([Buffer.from('workflow\0\0', 'latin1'), deflateSync(new Uint8Array(1 << 20))]);
    const png = pngFrom([
      ['IHDR', encodeIhdr({ width: 1, height: 1, bitDepth: 8, colorType: 2, interlace: 0 }).subarray(8, 21)],
      ['zTXt', bomb],
      ['IDAT', deflateSync(new Uint8Array(4))],
      ['IEND', new Uint8Array(0)],
    ]);
    expect(() => readPngMetadata(png, { maxTextBytes: 1000 })).toThrow(/expands beyond 1000 bytes/);
  });
});

describe('corrupt and hostile files', () => {
  const png = encodePng(testImage(16, 16, 3), { text: [{ keyword: 'parameters', text: 'hello' }] });

  function codeOf(fn: () => unknown): string | undefined {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(PngFormatError);
      return (error as PngFormatError).code;
    }
    return undefined;
  }

  it('reports a truncated file, at any cut point', () => {
    for (const cut of [20, 40, png.length - 30, png.length - 1]) {
      const truncated = png.subarray(0, cut);
      expect(codeOf(() => readPngMetadata(truncated, { name: 'cat.png' }))).toBe('truncated');
      expect(() => decodePng(truncated, { name: 'cat.png' })).toThrow(/cat\.png is truncated/);
    }
  });

  it('reports a bad CRC with the chunk name', () => {
    const damaged = png.slice();
    const textAt = readPngChunks(png).find((c) => c.type === 'tEXt')!.offset;
    damaged[textAt + 8]! ^= 0x20; // flip a bit inside the tEXt payload
    expect(codeOf(() => readPngMetadata(damaged))).toBe('bad-crc');
    expect(() => readPngMetadata(damaged)).toThrow(/chunk tEXt at byte \d+ fails its CRC check/);
  });

  it('reports a file that is not a PNG', () => {
    expect(codeOf(() => readPngMetadata(Buffer.from('GIF89a........')))).toBe('not-png');
    expect(() => decodePng(new Uint8Array(0))).toThrow(/not a PNG image/);
  });

  it('refuses bomb dimensions before inflating anything', () => {
    const huge = pngFrom([
      ['IHDR', encodeIhdr({ width: 100_000, height: 100_000, bitDepth: 8, colorType: 6, interlace: 0 }).subarray(8, 21)],
      ['IDAT', deflateSync(new Uint8Array(10))],
      ['IEND', new Uint8Array(0)],
    ]);
    // Metadata stays readable: the size is legal PNG, only decoding is refused.
    expect(readPngMetadata(huge).header).toMatchObject({ width: 100_000, height: 100_000 });
    expect(codeOf(() => decodePng(huge))).toBe('too-large');
    expect(() => decodePng(huge)).toThrow(/100000×100000 pixels \(10000\.0 MP\), above the 89\.5 MP limit/);
    expect(() => decodePng(png, { maxPixels: 100 })).toThrow(/\(256 pixels\), above the 100 pixels limit/);
  });

  it('refuses dimensions beyond the PNG limit and invalid headers', () => {
    const ihdr = new Uint8Array(13);
    new DataView(ihdr.buffer).setUint32(0, 0x80000000);
    new DataView(ihdr.buffer).setUint32(4, 1);
    ihdr[8] = 8;
    ihdr[9] = 2;
    const bad = pngFrom([['IHDR', ihdr], ['IEND', new Uint8Array(0)]]);
    expect(() => readPngMetadata(bad)).toThrow(/impossible size 2147483648×1/);
    ihdr.fill(0);
    new DataView(ihdr.buffer).setUint32(0, 1);
    new DataView(ihdr.buffer).setUint32(4, 1);
    ihdr[8] = 3; // bit depth 3 does not exist
    ihdr[9] = 2;
    expect(() => readPngMetadata(pngFrom([['IHDR', ihdr], ['IEND', new Uint8Array(0)]]))).toThrow(/not a valid PNG combination/);
  });

  it('refuses image data that expands past the declared size (a deflate bomb in a small image)', () => {
    const bomb = pngFrom([
      ['IHDR', encodeIhdr({ width: 4, height: 4, bitDepth: 8, colorType: 2, interlace: 0 }).subarray(8, 21)],
      ['IDAT', deflateSync(new Uint8Array(50 << 20))],
      ['IEND', new Uint8Array(0)],
    ]);
    expect(() => decodePng(bomb)).toThrow(/expands beyond the declared size/);
  });

  it('reports image data that ends early and unknown filter bytes', () => {
    const header = encodeIhdr({ width: 4, height: 4, bitDepth: 8, colorType: 2, interlace: 0 }).subarray(8, 21);
    const short = pngFrom([['IHDR', header], ['IDAT', deflateSync(new Uint8Array(13 * 3))], ['IEND', new Uint8Array(0)]]);
    expect(() => decodePng(short)).toThrow(/holds 39 of 52 bytes/);
    const rows = new Uint8Array(13 * 4);
    rows[13] = 9;
    const badFilter = pngFrom([['IHDR', header], ['IDAT', deflateSync(rows)], ['IEND', new Uint8Array(0)]]);
    expect(() => decodePng(badFilter)).toThrow(/unknown row filter 9/);
  });

  it('ignores bytes after IEND', () => {
    const padded = concatBytes([png, Buffer.from('trailing junk')]);
    expect(readPngMetadata(padded).text[0]!.text).toBe('hello');
  });

  it('CRC covers chunk type and data (matches zlib crc32 of the IEND chunk)', () => {
    const iend = encodeChunk('IEND', new Uint8Array(0));
    expect(new DataView(iend.buffer).getUint32(8)).toBe(0xae426082);
    expect(crc32(Buffer.from('IEND'))).toBe(0xae426082);
  });
});

describe('decodePng on files from ffmpeg (every color type, bit depth and Adam7)', () => {
  const w = FIXTURE_WIDTH;
  const h = FIXTURE_HEIGHT;
  const load = (name: string) => decodePng(new Uint8Array(readFileSync(join(fixtures, `${name}.png`))), { name });

  function expected(channelsOut: 3 | 4, pixel: (x: number, y: number) => number[]): Uint8Array {
    const out = new Uint8Array(w * h * channelsOut);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.set(pixel(x, y), (y * w + x) * channelsOut);
    return out;
  }
  const rgb = (x: number, y: number) => [sample8(x, y, 0), sample8(x, y, 1), sample8(x, y, 2)];
  const rgba = (x: number, y: number) => [...rgb(x, y), sample8(x, y, 3)];
  const gray = (x: number, y: number) => [sample8(x, y, 0), sample8(x, y, 0), sample8(x, y, 0)];
  const grayA = (x: number, y: number) => [...gray(x, y), sample8(x, y, 1)];
  const bit = (x: number, y: number) => {
    const v = sample1(x, y) ? 255 : 0;
    return [v, v, v];
  };

  it.each([
    ['rgb8', 3, rgb],
    ['rgba8', 4, rgba],
    ['gray8', 3, gray],
    ['graya8', 4, grayA],
    ['gray16', 3, gray],
    ['graya16', 4, grayA],
    ['rgb16', 3, rgb],
    ['rgba16', 4, rgba],
    ['gray1', 3, bit],
    ['rgba8-adam7', 4, rgba],
    ['gray1-adam7', 3, bit],
    ['rgb16-adam7', 3, rgb],
  ] as const)('%s', (name, channels, pixel) => {
    const decoded = load(name);
    expect([decoded.width, decoded.height, decoded.channels]).toEqual([w, h, channels]);
    expect(Array.from(decoded.data)).toEqual(Array.from(expected(channels, pixel)));
  });

  it.each(['palette8', 'palette8-adam7'])('%s matches ffmpeg’s own decode', (name) => {
    const decoded = load(name);
    expect(decoded.header.colorType).toBe(3);
    const ffmpegRgba = new Uint8Array(readFileSync(join(fixtures, `${name}.rgba`)));
    const asRgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) {
      asRgba.set(decoded.data.subarray(i * decoded.channels, i * decoded.channels + 3), i * 4);
      asRgba[i * 4 + 3] = decoded.channels === 4 ? decoded.data[i * 4 + 3]! : 255;
    }
    expect(Array.from(asRgba)).toEqual(Array.from(ffmpegRgba));
  });

  it('applies tRNS to palette, gray and RGB images', () => {
    const idat = (rows: number[][]) => deflateSync(Uint8Array.from(rows.flatMap((r) => [0, ...r])));
    const ihdr = (colorType: number, bitDepth: number) =>
      encodeIhdr({ width: 2, height: 1, bitDepth, colorType, interlace: 0 }).subarray(8, 21);
    const palette = pngFrom([
      ['IHDR', ihdr(3, 8)],
      ['PLTE', Uint8Array.of(10, 20, 30, 40, 50, 60)],
      ['tRNS', Uint8Array.of(128)],
      ['IDAT', idat([[0, 1]])],
      ['IEND', new Uint8Array(0)],
    ]);
    expect(Array.from(decodePng(palette).data)).toEqual([10, 20, 30, 128, 40, 50, 60, 255]);
    const grayKey = pngFrom([
      ['IHDR', ihdr(0, 8)],
      ['tRNS', Uint8Array.of(0, 7)],
      ['IDAT', idat([[7, 8]])],
      ['IEND', new Uint8Array(0)],
    ]);
    expect(Array.from(decodePng(grayKey).data)).toEqual([7, 7, 7, 0, 8, 8, 8, 255]);
    const rgbKey = pngFrom([
      ['IHDR', ihdr(2, 8)],
      ['tRNS', Uint8Array.of(0, 1, 0, 2, 0, 3)],
      ['IDAT', idat([[1, 2, 3, 1, 2, 4]])],
      ['IEND', new Uint8Array(0)],
    ]);
    expect(Array.from(decodePng(rgbKey).data)).toEqual([1, 2, 3, 0, 1, 2, 4, 255]);
  });
});
