import { deflateSync, inflateRawSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  DEFLATE_PIECE_BYTES,
  adler32,
  encodePng,
  encodePngAsync,
  zlibHeader,
} from '../../../src-main/engine/media/png-encode.ts';
import type { RawImage } from '../../../src-main/engine/media/png-encode.ts';
import { decodePng } from '../../../src-main/engine/media/png-decode.ts';
import { readPngChunks } from '../../../src-main/engine/media/png-chunks.ts';
import { concatBytes } from '../../../src-main/engine/media/png-chunks.ts';

function noiseImage(width: number, height: number, channels: 3 | 4, seed: number): RawImage {
  const data = new Uint8Array(width * height * channels);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s >>> 24;
  }
  return { width, height, channels, data };
}

function smoothImage(width: number, height: number, channels: 3 | 4): RawImage {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        data[(y * width + x) * channels + c] = (x * (c + 1) + y * 3 + ((x * y) >> 9)) & 0xff;
      }
    }
  }
  return { width, height, channels, data };
}

/** The concatenated IDAT payload: the zlib stream. */
function idatStream(png: Uint8Array): Uint8Array {
  return concatBytes(readPngChunks(png).filter((c) => c.type === 'IDAT').map((c) => c.data));
}

function filteredBytes(image: RawImage): number {
  return image.height * (image.width * image.channels + 1);
}

describe('adler32', () => {
  it('matches the known value for "Wikipedia" and the empty input', () => {
    expect(adler32(new TextEncoder().encode('Wikipedia'))).toBe(0x11e60398);
    expect(adler32(new Uint8Array(0))).toBe(1);
  });

  it('matches the trailer zlib writes, across the 5552-byte block boundary and for all-0xff data', () => {
    for (const data of [
      noiseImage(5553, 1, 3, 7).data,
      new Uint8Array(100_000).fill(0xff),
      noiseImage(300, 300, 3, 9).data,
    ]) {
      const z = deflateSync(data);
      const trailer = new DataView(z.buffer, z.byteOffset + z.byteLength - 4, 4).getUint32(0);
      expect(adler32(data)).toBe(trailer);
      // Continues from a running value like zlib's adler32(adler, buf, len).
      expect(adler32(data.subarray(1000), adler32(data.subarray(0, 1000)))).toBe(trailer);
    }
  });
});

describe('zlibHeader', () => {
  it('is what zlib itself writes for every level', () => {
    for (let level = 0; level <= 9; level++) {
      const z = deflateSync(Uint8Array.of(1, 2, 3), { level, memLevel: 9, strategy: 1 });
      expect([...zlibHeader(level)]).toEqual([z[0], z[1]]);
    }
  });
});

describe('parallel (pigz-style) IDAT compression', () => {
  const cases: Array<[string, RawImage]> = [
    ['noise 480×832 RGB', noiseImage(480, 832, 3, 1)],
    ['smooth 1024×1024 RGB', smoothImage(1024, 1024, 3)],
    // 700×413: 413 rows of 2101 bytes = 867,713 filtered bytes, not a multiple of the piece size.
    ['noise 700×413 RGB (ragged last piece)', noiseImage(700, 413, 3, 2)],
    ['smooth 333×517 RGBA', smoothImage(333, 517, 4)],
  ];

  it('the cases really take the pieced path (≥ 2 pieces) and one is not a multiple of the piece size', () => {
    for (const [, image] of cases) expect(filteredBytes(image)).toBeGreaterThanOrEqual(2 * DEFLATE_PIECE_BYTES);
    expect(filteredBytes(cases[2]![1]) % DEFLATE_PIECE_BYTES).not.toBe(0);
  });

  for (const [name, image] of cases) {
    it(`${name}: pixel-exact round trip, one valid zlib stream, same bytes sync and async`, async () => {
      const png = await encodePngAsync(image);
      const decoded = decodePng(png);
      expect(decoded.width).toBe(image.width);
      expect(decoded.height).toBe(image.height);
      expect(decoded.channels).toBe(image.channels);
      expect(Buffer.from(decoded.data).equals(Buffer.from(image.data))).toBe(true);

      const stream = idatStream(png);
      expect([stream[0], stream[1]]).toEqual([...zlibHeader(6)]);
      // inflateSync checks the header and the Adler-32 trailer: it throws on either being wrong.
      const filtered = inflateSync(stream);
      expect(filtered.byteLength).toBe(filteredBytes(image));
      const trailer = new DataView(stream.buffer, stream.byteOffset + stream.byteLength - 4, 4).getUint32(0);
      expect(trailer).toBe(adler32(filtered));
      // The raw deflate body ends exactly where the trailer begins (a single stream, last block final).
      expect(inflateRawSync(stream.subarray(2, stream.byteLength - 4)).byteLength).toBe(filtered.byteLength);

      const sync = encodePng(image);
      expect(Buffer.from(sync).equals(Buffer.from(png))).toBe(true);
    });
  }

  it('is deterministic across runs', async () => {
    const image = noiseImage(640, 960, 3, 5);
    const a = await encodePngAsync(image);
    const b = await encodePngAsync(image);
    const [c, d] = await Promise.all([encodePngAsync(image), encodePngAsync(image)]);
    for (const x of [b, c, d]) expect(Buffer.from(x).equals(Buffer.from(a))).toBe(true);
  });

  it('costs almost nothing in size against a single deflate stream', async () => {
    const image = smoothImage(1024, 1024, 3);
    const pieced = idatStream(await encodePngAsync(image)).byteLength;
    const single = deflateSync(inflateSync(idatStream(await encodePngAsync(image))), { level: 6, memLevel: 9, strategy: 1 }).byteLength;
    expect(pieced).toBeLessThanOrEqual(single * 1.01 + 256);
  });

  it('keeps the single zlib call for images under two pieces (bytes as deflateSync gives)', async () => {
    const image = noiseImage(200, 300, 3, 3);
    expect(filteredBytes(image)).toBeLessThan(2 * DEFLATE_PIECE_BYTES);
    const stream = idatStream(await encodePngAsync(image));
    const filtered = inflateSync(stream);
    expect(Buffer.from(deflateSync(filtered, { level: 6, memLevel: 9, strategy: 1 })).equals(Buffer.from(stream))).toBe(true);
    expect(Buffer.from(decodePng(await encodePngAsync(image)).data).equals(Buffer.from(image.data))).toBe(true);
  });

  it('works at every compression level (level 0 stays one stored stream)', async () => {
    const image = smoothImage(400, 700, 3);
    for (const level of [0, 1, 6, 9]) {
      const png = await encodePngAsync(image, { compressionLevel: level });
      expect(Buffer.from(decodePng(png).data).equals(Buffer.from(image.data))).toBe(true);
      expect([...idatStream(png).subarray(0, 2)]).toEqual([...zlibHeader(level)]);
      expect(Buffer.from(encodePng(image, { compressionLevel: level })).equals(Buffer.from(png))).toBe(true);
    }
  });

  it('filters rows as pieces are handed out: fixed filters round-trip and match the sync encoder', async () => {
    const image = noiseImage(511, 600, 3, 11);
    for (const filter of ['none', 'sub', 'up', 'average', 'paeth'] as const) {
      const png = await encodePngAsync(image, { filter });
      expect(Buffer.from(decodePng(png).data).equals(Buffer.from(image.data))).toBe(true);
      expect(Buffer.from(encodePng(image, { filter })).equals(Buffer.from(png))).toBe(true);
    }
  });
});
