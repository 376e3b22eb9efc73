/**
 * The GGUF header reader on files the project writes (tests/fixtures/qwen/gguf-writer.ts) and on
 * the damaged ones users end up with: each is refused with one sentence before a byte of tensor
 * data is used. What the reader finds is checked against gguf-py's GGUFReader on the same file
 * (tests/fixtures/reference/gguf/, made by make_gguf_reference.py).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeightFileError } from '../../../src-main/engine/weights/errors.ts';
import { GGML_TYPES, ggufArray, ggufNumber, ggufString, readGgufHeaderSync } from '../../../src-main/engine/weights/gguf.ts';
import { QWEN2_TINY, writeQwenGguf } from '../../fixtures/qwen/gguf-writer.ts';

const REFERENCE = JSON.parse(readFileSync(new URL('../../fixtures/reference/gguf/tiny-qwen2-f16.json', import.meta.url), 'utf8')) as {
  sha256: string;
  bytes: number;
  alignment: number;
  data_offset: number;
  metadata: Record<string, string | number | boolean | { length: number; type: string; first: unknown[] }>;
  tensors: { name: string; shape: number[]; type: string; offset: number; bytes: number }[];
};

let dir: string;
let tiny: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gguf-reader-'));
  tiny = join(dir, 'tiny.gguf');
  writeQwenGguf(tiny);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(path: string): WeightFileError {
  try {
    readGgufHeaderSync(path);
  } catch (e) {
    if (e instanceof WeightFileError) return e;
    throw e;
  }
  throw new Error(`${path} was accepted`);
}

/** The tiny file with `edit` applied to a copy of its bytes. */
function damaged(name: string, edit: (b: Buffer) => Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, edit(Buffer.from(readFileSync(tiny))));
  return path;
}

/** Byte offset of the first occurrence of `text` in the file. */
function at(b: Buffer, text: string): number {
  const i = b.indexOf(Buffer.from(text, 'utf8'));
  if (i < 0) throw new Error(`${text} not in file`);
  return i;
}

describe('GGUF header reader', () => {
  it('writes the same bytes as the file the reference was made from', () => {
    const bytes = readFileSync(tiny);
    expect(bytes.length).toBe(REFERENCE.bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(REFERENCE.sha256);
  });

  it('reads what gguf-py reads: metadata, tensor names, shapes, types and data offsets', () => {
    const h = readGgufHeaderSync(tiny, { keepArraysUpTo: 100_000 });
    expect(h.version).toBe(3);
    expect(h.alignment).toBe(REFERENCE.alignment);
    expect(h.dataStart).toBe(REFERENCE.data_offset);
    expect([...h.metadata.keys()]).toEqual(Object.keys(REFERENCE.metadata));
    for (const [key, expected] of Object.entries(REFERENCE.metadata)) {
      const value = h.metadata.get(key);
      if (typeof expected === 'object') {
        const array = ggufArray(h, key)!;
        expect(array.length, key).toBe(expected.length);
        expect(array.itemType, key).toBe(expected.type);
        expect(array.items!.slice(0, expected.first.length), key).toEqual(expected.first);
      } else if (typeof expected === 'number' && !Number.isInteger(expected)) expect(value as number).toBeCloseTo(expected, 6);
      else expect(value, key).toBe(expected);
    }
    expect([...h.tensors.values()].map((t) => ({ name: t.name, shape: t.dims, type: t.type.name, offset: t.offset, bytes: t.bytes }))).toEqual(REFERENCE.tensors);
    expect(ggufString(h, 'general.architecture')).toBe('qwen2');
    expect(ggufNumber(h, 'qwen2.block_count')).toBe(QWEN2_TINY.layers);
    expect(ggufArray(h, 'tokenizer.ggml.tokens')!.items).toContain('<|im_start|>');
  });

  it('reads the same header in small chunks as in one (every value across a chunk edge somewhere)', () => {
    const whole = readGgufHeaderSync(tiny, { keepArraysUpTo: 100_000 });
    for (const chunkBytes of [1, 7, 37, 4096]) {
      const chunked = readGgufHeaderSync(tiny, { keepArraysUpTo: 100_000, chunkBytes });
      expect(chunked.metadata, `chunks of ${chunkBytes}`).toEqual(whole.metadata);
      expect(chunked.tensors, `chunks of ${chunkBytes}`).toEqual(whole.tensors);
    }
  });

  it('keeps long arrays only when asked, and still reads past them', () => {
    const h = readGgufHeaderSync(tiny, { keepArraysUpTo: 100 });
    const tokens = ggufArray(h, 'tokenizer.ggml.tokens')!;
    expect(tokens.length).toBe(960);
    expect(tokens.items).toBeNull();
    expect(h.tensors.size).toBe(REFERENCE.tensors.length);
  });

  it('knows the block sizes of the quantised types real files use', () => {
    const q4k = [...GGML_TYPES.values()].find((t) => t.name === 'Q4_K')!;
    const q6k = [...GGML_TYPES.values()].find((t) => t.name === 'Q6_K')!;
    expect([q4k.blockSize, q4k.typeSize, q6k.blockSize, q6k.typeSize]).toEqual([256, 144, 256, 210]);
  });

  it('refuses a file that is not GGUF', () => {
    const path = join(dir, 'model.gguf.part');
    writeFileSync(path, Buffer.from('{"not": "a model"}'));
    expect(refusal(path)).toMatchObject({ code: 'wrong_kind', message: expect.stringMatching(/is not a GGUF file/) });
  });

  it('refuses old and unknown versions by name', () => {
    const v2 = damaged('v2.gguf', (b) => (b.writeUInt32LE(2, 4), b));
    expect(refusal(v2)).toMatchObject({ code: 'unsupported', message: expect.stringMatching(/GGUF version 2 file from before September 2023/) });
    const v9 = damaged('v9.gguf', (b) => (b.writeUInt32LE(9, 4), b));
    expect(refusal(v9).message).toMatch(/GGUF version 9; the studio reads version 3/);
  });

  it('refuses a download cut inside the header, and one cut inside the tensor data', () => {
    const head = damaged('cut-header.gguf', (b) => b.subarray(0, 3000));
    expect(refusal(head)).toMatchObject({ code: 'truncated', message: expect.stringMatching(/cut short.*download it again/) });
    const data = join(dir, 'cut-data.gguf');
    writeQwenGguf(data, {}, REFERENCE.bytes - 5000);
    const e = refusal(data);
    expect(e.code).toBe('truncated');
    expect(e.message).toMatch(/^cut-data\.gguf is cut short: it is .* but its tensor output\.weight ends at .* — the download is incomplete; download it again$/);
  });

  it('bounds the counts before reading', () => {
    const many = damaged('many.gguf', (b) => (b.writeBigUInt64LE(1n << 40n, 8), b));
    expect(refusal(many)).toMatchObject({ code: 'corrupt', message: expect.stringMatching(/the tensor count is 1099511627776, more than the 65536/) });
    const long = damaged('long-string.gguf', (b) => (b.writeBigUInt64LE(1n << 33n, 24), b));
    expect(refusal(long).message).toMatch(/the length of metadata key 0 is 8589934592/);
  });

  it('refuses unknown tensor types, misaligned and overlapping tensors', () => {
    // The tensor info of token_embd.weight: name, n_dims (u32), 2 dims (u64), type (u32), offset (u64).
    const info = (b: Buffer): number => at(b, 'token_embd.weight') + 'token_embd.weight'.length + 4 + 16;
    const unknown = damaged('type.gguf', (b) => (b.writeUInt32LE(77, info(b)), b));
    expect(refusal(unknown)).toMatchObject({ code: 'unsupported', message: expect.stringMatching(/tensor token_embd\.weight in ggml type 77/) });
    const misaligned = damaged('misaligned.gguf', (b) => (b.writeBigUInt64LE(3n, info(b) + 4), b));
    expect(refusal(misaligned).message).toMatch(/token_embd\.weight starts at an offset not aligned to 32 bytes/);
    const norm = (b: Buffer): number => at(b, 'blk.0.attn_norm.weight') + 'blk.0.attn_norm.weight'.length + 4 + 8 + 4;
    const overlap = damaged('overlap.gguf', (b) => (b.writeBigUInt64LE(32n, norm(b)), b));
    expect(refusal(overlap).message).toMatch(/tensors token_embd\.weight and blk\.0\.attn_norm\.weight overlap/);
  });

  it('says a missing file is missing', () => {
    expect(refusal(join(dir, 'gone.gguf'))).toMatchObject({ code: 'not_found' });
  });
});
