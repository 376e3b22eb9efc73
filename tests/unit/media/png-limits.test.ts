/**
 * The work one PNG may cost its reader: text in total (not only per chunk), chunks in total and
 * chunks that are not image data, and JSON values built from its text chunks.
 */
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PngFormatError, encodeChunk, encodePng, readImageRecipeMetadata, readPngChunks, readPngMetadata } from '../../../src-main/engine/media/png.ts';
import { concatBytes, encodeIhdr, PNG_SIGNATURE } from '../../../src-main/engine/media/png-chunks.ts';

const MB = 1024 * 1024;

/** An 8×8 gray PNG with `chunks` between IHDR and its image data. */
function pngWith(chunks: readonly Uint8Array[]): Uint8Array {
  const rows = new Uint8Array(8 * 9);
  return concatBytes([
    PNG_SIGNATURE,
    encodeIhdr({ width: 8, height: 8, bitDepth: 8, colorType: 0, interlace: 0 }),
    ...chunks,
    encodeChunk('IDAT', deflateSync(rows)),
    encodeChunk('IEND', new Uint8Array(0)),
  ]);
}

const ztxt = (keyword: string, text: Uint8Array): Uint8Array => encodeChunk('zTXt', concatBytes([Buffer.from(`${keyword}\0\0`, 'latin1'), deflateSync(text, { level: 9 })]));
const text = (keyword: string, body: string): Uint8Array => encodeChunk('tEXt', Buffer.from(`${keyword}\0${body}`, 'latin1'));

function refusal(fn: () => unknown): PngFormatError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PngFormatError) return error;
    throw error;
  }
  throw new Error('expected a PngFormatError');
}

describe('text in total', () => {
  it('refuses a file whose text chunks together pass the per-file limit, though each is under the per-chunk one', () => {
    // The shape: many compressed chunks, each just under the per-chunk limit.
    const chunk = ztxt('Comment', new Uint8Array(MB - 16).fill(0x41));
    const png = pngWith(Array.from({ length: 40 }, () => chunk));
    expect(png.byteLength).toBeLessThan(100_000);
    const error = refusal(() => readPngMetadata(png, { maxTextBytes: MB, maxTotalTextBytes: 8 * MB }));
    expect(error.code).toBe('too-large');
    expect(error.message).toMatch(/holds more than 8 MB of text in its text chunks together.*exiftool -all=/);
    // Under the total, the same chunks read.
    expect(readPngMetadata(pngWith([chunk, chunk]), { maxTextBytes: MB, maxTotalTextBytes: 8 * MB }).text).toHaveLength(2);
  });

  it('counts uncompressed text too, per chunk and in total', () => {
    const big = text('Description', 'x'.repeat(2 * MB));
    expect(refusal(() => readPngMetadata(pngWith([big]), { maxTextBytes: MB })).message).toMatch(/a text chunk larger than 1 MB/);
    const half = text('Description', 'x'.repeat(MB / 2));
    expect(refusal(() => readPngMetadata(pngWith([half, half, half]), { maxTotalTextBytes: MB })).code).toBe('too-large');
  });

  it('never inflates more than the text still allowed (the output buffer is the memory at stake)', () => {
    // 64 MB of compressed text after 7.9 MB already read: refused by the total, not the chunk limit.
    const first = ztxt('a', new Uint8Array(8 * MB - 100_000).fill(0x20));
    const bomb = ztxt('b', new Uint8Array(64 * MB).fill(0x20));
    const before = process.memoryUsage().arrayBuffers;
    const error = refusal(() => readPngMetadata(pngWith([first, bomb]), { maxTextBytes: 128 * MB, maxTotalTextBytes: 8 * MB }));
    expect(error.message).toMatch(/together/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * MB);
  });
});

describe('chunk counts', () => {
  it('refuses more chunks than the limit, and more metadata chunks than theirs', () => {
    const emptyIdat = encodeChunk('IDAT', new Uint8Array(0));
    const manyIdat = pngWith(Array.from({ length: 1000 }, () => emptyIdat));
    expect(refusal(() => readPngChunks(manyIdat, { maxChunks: 500 })).message).toMatch(/more than 500 chunks/);
    // Image data may come in many chunks under the metadata limit.
    expect(readPngChunks(manyIdat, { maxMetadataChunks: 10 })).toHaveLength(1003);
    const manyText = pngWith(Array.from({ length: 50 }, (_, i) => text(`k${i}`, 'v')));
    expect(refusal(() => readPngChunks(manyText, { maxMetadataChunks: 40 })).message).toMatch(/more than 40 metadata chunks/);
  });

  it('reads the studio’s own large images under the default limits', () => {
    const data = new Uint8Array(1024 * 1024 * 3).map((_, i) => (i * 2654435761) >>> 24);
    const png = encodePng({ width: 1024, height: 1024, channels: 3, data }, { text: [{ keyword: 'parameters', text: 'a fox' }] });
    expect(readPngMetadata(png).text.map((t) => t.text)).toEqual(['a fox']);
  });
});

describe('JSON text chunks', () => {
  it('parses a graph, and leaves one that would build too many values unparsed with the reason', () => {
    const graph = JSON.stringify({ '3': { class_type: 'KSampler', inputs: { seed: 1, steps: 20 } } });
    const objects = `[${'{},'.repeat(200_000)}{}]`;
    const meta = readImageRecipeMetadata(pngWith([text('prompt', graph), ztxt('workflow', Buffer.from(objects))]), { maxJsonValues: 100_000 });
    expect(meta.comfyui?.prompt?.value).toEqual(JSON.parse(graph));
    expect(meta.comfyui?.workflow?.value).toBeUndefined();
    expect(meta.comfyui?.workflow?.error).toMatch(/more values than/);
    expect(meta.comfyui?.workflow?.text).toBe(objects);
  });
});
