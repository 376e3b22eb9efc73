import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensorsHeader, readTensorBytes, tensorRefs, MAX_HEADER_BYTES } from '../../../src-main/engine/weights/safetensors.ts';
import { layoutSafetensors, writeSafetensors } from '../../../src-main/engine/weights/safetensors-write.ts';
import { WeightFileError } from '../../../src-main/engine/weights/errors.ts';
import { sniffFile } from '../../../src-main/engine/weights/sniff.ts';

const dir = mkdtempSync(join(tmpdir(), 'safetensors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file with a hand-written header, to say exactly what a lying file says. */
function rawFile(name: string, header: unknown, dataBytes: number, headerLengthOverride?: bigint): string {
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(headerLengthOverride ?? BigInt(json.length));
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([prefix, json, Buffer.alloc(dataBytes)]));
  return path;
}

async function refusal(path: string): Promise<WeightFileError> {
  try {
    await readSafetensorsHeader(path);
  } catch (e) {
    expect(e).toBeInstanceOf(WeightFileError);
    return e as WeightFileError;
  }
  throw new Error(`${path} was accepted`);
}

describe('safetensors', () => {
  it('round-trips tensors: header aligned to 8 bytes, bytes in order, metadata kept', async () => {
    const path = join(dir, 'ok.safetensors');
    const a = new Float32Array([1, 2, 3, 4, 5, 6]);
    const b = new Uint16Array([0x3c00, 0x4000, 0x4200]);
    await writeSafetensors(path, [
      { name: 'a', dtype: 'F32', shape: [2, 3], data: new Uint8Array(a.buffer) },
      { name: 'b.weight', dtype: 'F16', shape: [3], data: new Uint8Array(b.buffer) },
    ], { metadata: { format: 'pt' } });
    const header = await readSafetensorsHeader(path);
    expect(header.metadata).toEqual({ format: 'pt' });
    expect(header.dataStart % 8).toBe(0);
    expect([...header.tensors.keys()]).toEqual(['a', 'b.weight']);
    expect(new Float32Array(new Uint8Array(await readTensorBytes(header, 'a')).buffer)).toEqual(a);
    const refs = tensorRefs(header);
    expect(refs.get('b.weight')).toMatchObject({ dtype: 'F16', shape: [3], length: 6, offset: header.dataStart + 24 });
    expect(existsSync(`${path}.partial`)).toBe(false);
    expect((await sniffFile(path)).kind).toBe('safetensors');
  });

  it('streams chunks and checks each tensor gets exactly its bytes', async () => {
    const path = join(dir, 'short.safetensors');
    await expect(
      writeSafetensors(path, [{ name: 'x', dtype: 'F32', shape: [4], data: async function* () { yield new Uint8Array(8); } }]),
    ).rejects.toThrow(/8 bytes written, its dtype and shape need 16/);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.partial`)).toBe(false);
  });

  it('refuses a truncated file, saying so and what to do', async () => {
    const path = join(dir, 'full.safetensors');
    await writeSafetensors(path, [{ name: 'w', dtype: 'F32', shape: [1000], data: new Uint8Array(4000) }]);
    const cut = join(dir, 'cut.safetensors');
    writeFileSync(cut, readFileSync(path).subarray(0, 2000));
    const e = await refusal(cut);
    expect(e.code).toBe('truncated');
    expect(e.message).toMatch(/cut\.safetensors is truncated: .* Download or copy it again/);
    const inHeader = join(dir, 'cut-header.safetensors');
    writeFileSync(inHeader, readFileSync(path).subarray(0, 20));
    expect((await refusal(inHeader)).message).toMatch(/ends inside its own header/);
  });

  it('refuses headers that lie: offsets outside the file, overlaps, sizes that do not match the shape', async () => {
    const outside = rawFile('outside.safetensors', { w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8);
    expect((await refusal(outside)).code).toBe('truncated');
    const overlap = rawFile('overlap.safetensors', {
      a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
      b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] },
    }, 24);
    expect((await refusal(overlap)).message).toMatch(/"a" and "b" overlap in the file/);
    const mismatch = rawFile('mismatch.safetensors', { w: { dtype: 'F16', shape: [4], data_offsets: [0, 16] } }, 16);
    expect((await refusal(mismatch)).message).toMatch(/should take 8 bytes but its header gives it 16/);
    const badDtype = rawFile('dtype.safetensors', { w: { dtype: 'F4', shape: [4], data_offsets: [0, 2] } }, 2);
    expect((await refusal(badDtype)).message).toMatch(/element type "F4", which the studio cannot read/);
    const badShape = rawFile('shape.safetensors', { w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4);
    expect((await refusal(badShape)).message).toMatch(/invalid shape/);
    const notJson = join(dir, 'notjson.safetensors');
    const p = Buffer.alloc(8);
    p.writeBigUInt64LE(5n);
    writeFileSync(notJson, Buffer.concat([p, Buffer.from('{oops')]));
    expect((await refusal(notJson)).message).toMatch(/header is not valid JSON/);
  });

  it('refuses a header over 100 MB before reading it', async () => {
    const huge = rawFile('huge.safetensors', {}, 0, BigInt(MAX_HEADER_BYTES + 1));
    const e = await refusal(huge);
    expect(e.message).toMatch(/header claims 100\.0 MB, over the 100\.0 MB a real checkpoint needs/);
  });

  it('lays out headers as the reference implementation does (space padding, 8-byte multiple)', () => {
    const { header, totalBytes } = layoutSafetensors([{ name: 'x', dtype: 'BF16', shape: [3] }]);
    const n = Number(header.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    expect(header.subarray(8).toString('utf8').trimEnd()).toBe('{"x":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]}}');
    expect(totalBytes).toBe(header.length + 6);
  });
});
