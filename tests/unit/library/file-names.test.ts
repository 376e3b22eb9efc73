import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { ByteNameLinks, displayName, isInsideBytes, isUtf8Name } from '../../../src-main/engine/library/file-names.ts';
import { withoutTextChunks } from '../../../src-main/engine/library/metadata/decode-check.ts';
import { readPngMetadata } from '../../../src-main/engine/media/png.ts';
import { pilPng } from '../../fixtures/library/formats.ts';

const dir = mkdtempSync(join(tmpdir(), 'names-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('file names as bytes', () => {
  it('shows UTF-8 as it is and every other byte as \\xNN', () => {
    expect(displayName(Buffer.from('café ☕.png'))).toBe('café ☕.png');
    expect(displayName(Buffer.from('caf\xe9.png', 'latin1'))).toBe('caf\\xE9.png');
    // A valid sequence beside broken ones, an overlong encoding, a lone continuation byte.
    expect(displayName(Buffer.from([0xc3, 0xa9, 0xc3, 0x41, 0xc0, 0xaf, 0x80]))).toBe('é\\xC3A\\xC0\\xAF\\x80');
    expect(isUtf8Name(Buffer.from('ok.png'))).toBe(true);
    expect(isUtf8Name(Buffer.from([0x66, 0xff]))).toBe(false);
  });

  it('checks containment on bytes', () => {
    const root = Buffer.from('/a/b\xe9', 'latin1');
    expect(isInsideBytes(root, Buffer.from('/a/b\xe9/c', 'latin1'))).toBe(true);
    expect(isInsideBytes(root, Buffer.from('/a/b\xe9c', 'latin1'))).toBe(false);
    expect(isInsideBytes(root, root)).toBe(false);
  });

  it('reaches a file whose name is not UTF-8 through a plain-named link, removed on close', async () => {
    const raw = Buffer.concat([Buffer.from(`${dir}/`), Buffer.from('\xe9t\xe9.png', 'latin1')]);
    writeFileSync(raw, 'pixels');
    const links = new ByteNameLinks();
    const path = await links.pathFor(raw);
    expect(path).toMatch(/studio-names-.*\/0\.png$/);
    expect(readFileSync(path, 'utf8')).toBe('pixels');
    expect(await links.pathFor(Buffer.from(`${dir}/plain.png`))).toBe(`${dir}/plain.png`);
    await links.close();
    expect(() => readFileSync(path)).toThrow(/ENOENT/);
  });
});

describe('what the decoder gets of a PNG', () => {
  it('is the same picture without its text chunks', async () => {
    const png = pilPng({ width: 12, height: 10, seed: 4, text: [['parameters', 'a fox'], ['Comment', 'x'.repeat(1000)]] });
    const bare = withoutTextChunks(png);
    expect(readPngMetadata(bare).text).toEqual([]);
    const pixels = async (b: Buffer): Promise<Buffer> => sharp(b).raw().toBuffer();
    expect((await pixels(bare)).equals(await pixels(png))).toBe(true);
  });
});
