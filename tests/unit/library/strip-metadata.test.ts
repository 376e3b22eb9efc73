/**
 * Copies without generation data: the picture's bytes stay as they were, every text chunk, EXIF,
 * XMP, IPTC and comment goes (exiftool finds none), in PNG, baseline and progressive JPEG and WebP.
 * Videos are covered end to end in tests/integration/shared-files-private.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StripError, stripJpeg, stripPng, stripWebp, writeWithoutMetadata } from '../../../src-main/engine/library/strip-metadata.ts';
import { readPngChunks } from '../../../src-main/engine/media/png-chunks.ts';
import { encodeGeneratedPng } from '../../../src-main/engine/media/png-generated.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'strip-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const W = 48;
const H = 32;
function pixels(): Uint8Array {
  const rgb = new Uint8Array(W * H * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37 + (i >> 7) * 11) & 0xff;
  return rgb;
}

const PROMPT = 'a lighthouse at dusk, secret prompt';
const XMP = `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"><dc:description>${PROMPT}</dc:description></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;

/** A little-endian TIFF/EXIF block with an ImageDescription holding the prompt. */
function exifTiff(): Buffer {
  const text = Buffer.from(`${PROMPT}\0`, 'latin1');
  const ifd = Buffer.alloc(2 + 12 + 4);
  ifd.writeUInt16LE(1, 0);
  ifd.writeUInt16LE(0x010e, 2); // ImageDescription
  ifd.writeUInt16LE(2, 4); // ASCII
  ifd.writeUInt32LE(text.length, 6);
  ifd.writeUInt32LE(8 + ifd.length, 10);
  return Buffer.concat([Buffer.from('II*\0\x08\0\0\0', 'latin1'), ifd, text]);
}

function jpegSegment(marker: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0xff;
  head[1] = marker;
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** The plain JPEG with EXIF, XMP, IPTC and a comment after its start marker, and a trailer after its end. */
function withJpegMetadata(plain: Buffer): Buffer {
  const segments = [
    jpegSegment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), exifTiff()])),
    jpegSegment(0xe1, Buffer.concat([Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1'), Buffer.from(XMP, 'utf8')])),
    jpegSegment(0xed, Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), Buffer.from(`8BIM\x04\x04\0\0\0\0\0\x10\x1c\x02\x78\0\x0c${PROMPT.slice(0, 12)}`, 'latin1')])),
    jpegSegment(0xfe, Buffer.from(PROMPT, 'latin1')),
  ];
  // Some writers put segments between the tables too: a comment before the scan.
  const sos = plain.indexOf(Buffer.from([0xff, 0xda]));
  return Buffer.concat([plain.subarray(0, 2), ...segments, plain.subarray(2, sos), jpegSegment(0xfe, Buffer.from('late comment')), plain.subarray(sos), Buffer.from(`trailer ${PROMPT}`)]);
}

function riffChunk(fourcc: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(fourcc, 0, 'latin1');
  head.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, data, data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

/** The simple (VP8) WebP as an extended one with EXIF and XMP chunks and their VP8X flags. */
function withWebpMetadata(plain: Buffer): Buffer {
  const vp8 = plain.subarray(12);
  const vp8x = Buffer.alloc(10);
  vp8x[0] = 0x08 | 0x04;
  vp8x.writeUIntLE(W - 1, 4, 3);
  vp8x.writeUIntLE(H - 1, 7, 3);
  const body = Buffer.concat([riffChunk('VP8X', vp8x), vp8, riffChunk('EXIF', exifTiff()), riffChunk('XMP ', Buffer.from(XMP, 'utf8'))]);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(4 + body.length, 4);
  head.write('WEBP', 8, 'latin1');
  return Buffer.concat([head, body]);
}

/** What exiftool reads from a file, less its own and the file system's fields. */
function metadataOf(bytes: Uint8Array, ext: string): Record<string, unknown> {
  const file = join(dir, `probe-${Math.random().toString(36).slice(2)}.${ext}`);
  writeFileSync(file, bytes);
  const all = (JSON.parse(execFileSync('exiftool', ['-j', '-a', '-u', '-G1', file], { encoding: 'utf8' })) as Record<string, unknown>[])[0]!;
  return Object.fromEntries(Object.entries(all).filter(([k]) => k !== 'SourceFile' && !/^(System|ExifTool|File|Composite):/.test(k)));
}

function expectNoGenerationData(bytes: Uint8Array, ext: string): void {
  const tags = metadataOf(bytes, ext);
  expect(Object.keys(tags).filter((k) => /^(XMP|IFD0|ExifIFD|IPTC|Photoshop)/.test(k) || /Comment|Description|Parameters|Recipe|DigitalSource|Software|Trailer/i.test(k))).toEqual([]);
  const text = Buffer.from(bytes).toString('latin1');
  for (const secret of ['secret prompt', 'trainedAlgorithmicMedia', 'ourvidz_recipe', 'OurVidz']) expect(text).not.toContain(secret);
}

async function rgbOf(bytes: Uint8Array): Promise<Buffer> {
  return sharp(bytes).removeAlpha().raw().toBuffer();
}

describe('stripPng', () => {
  it('drops the parameters, recipe, XMP and Software chunks and keeps the image data as it was', () => {
    const png = encodeGeneratedPng({ rgb: pixels(), width: W, height: H, parameters: `${PROMPT}\nSteps: 4, Seed: 1, Size: 48x32`, recipe: { prompt: PROMPT } });
    expect(metadataOf(png, 'png')).toHaveProperty(['PNG:Parameters']);
    const stripped = stripPng(png);
    expect(readPngChunks(stripped).map((c) => c.type)).toEqual(readPngChunks(png).map((c) => c.type).filter((t) => !['tEXt', 'iTXt', 'zTXt'].includes(t)));
    expectNoGenerationData(stripped, 'png');
    const idat = (b: Uint8Array) => Buffer.concat(readPngChunks(b).filter((c) => c.type === 'IDAT').map((c) => c.data));
    expect(idat(stripped).equals(idat(png))).toBe(true);
  });

  it('says why a broken PNG cannot be stripped', () => {
    const png = encodeGeneratedPng({ rgb: pixels(), width: W, height: H, parameters: 'p', recipe: {} });
    expect(() => stripPng(png.subarray(0, png.length - 20), 'the file of abc')).toThrow(StripError);
    expect(() => stripPng(png.subarray(0, png.length - 20), 'the file of abc')).toThrow(/the file of abc is truncated/);
  });
});

describe('stripJpeg', () => {
  it.each([false, true])('drops EXIF, XMP, IPTC, comments and the trailer; the coded picture is byte for byte the same (progressive: %s)', async (progressive) => {
    const plain = await sharp(Buffer.from(pixels()), { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 90, progressive }).toBuffer();
    const tagged = withJpegMetadata(plain);
    const before = metadataOf(tagged, 'jpg');
    expect(before['IFD0:ImageDescription']).toBe(PROMPT);
    expect(before['XMP-iptcExt:DigitalSourceType']).toContain('trainedAlgorithmicMedia');
    const stripped = stripJpeg(tagged);
    expect(Buffer.from(stripped).equals(plain)).toBe(true);
    expectNoGenerationData(stripped, 'jpg');
    expect((await rgbOf(stripped)).equals(await rgbOf(plain))).toBe(true);
  });

  it('keeps the ICC profile that says how the colours are meant', async () => {
    const plain = await sharp(Buffer.from(pixels()), { raw: { width: W, height: H, channels: 3 } }).withIccProfile('p3').jpeg().toBuffer();
    const stripped = stripJpeg(withJpegMetadata(plain));
    expect(Buffer.from(stripped).equals(plain)).toBe(true);
    expect(metadataOf(stripped, 'jpg')).toHaveProperty(['ICC_Profile:ProfileDescription']);
  });

  it('says why a cut-off JPEG cannot be stripped', async () => {
    const plain = await sharp(Buffer.from(pixels()), { raw: { width: W, height: H, channels: 3 } }).jpeg().toBuffer();
    expect(() => stripJpeg(plain.subarray(0, plain.length - 40), 'the file of abc')).toThrow(/the file of abc is not a readable JPEG \(its image data is cut off\)/);
  });
});

describe('stripWebp', () => {
  it('drops the EXIF and XMP chunks and their flags; the bitstream is the same', async () => {
    const plain = await sharp(Buffer.from(pixels()), { raw: { width: W, height: H, channels: 3 } }).webp({ quality: 90 }).toBuffer();
    const tagged = withWebpMetadata(plain);
    expect(metadataOf(tagged, 'webp')['XMP-iptcExt:DigitalSourceType']).toContain('trainedAlgorithmicMedia');
    const stripped = Buffer.from(stripWebp(tagged));
    expectNoGenerationData(stripped, 'webp');
    expect(stripped.readUInt32LE(4)).toBe(stripped.length - 8);
    expect(stripped.subarray(12, 16).toString('latin1')).toBe('VP8X');
    expect(stripped[20]! & 0x0c).toBe(0);
    expect(stripped.subarray(30).equals(plain.subarray(12))).toBe(true);
    expect((await rgbOf(stripped)).equals(await rgbOf(plain))).toBe(true);
  });
});

describe('writeWithoutMetadata', () => {
  it('tells the format from the bytes and writes a new file, never over one', async () => {
    const source = join(dir, 'in.bin');
    writeFileSync(source, encodeGeneratedPng({ rgb: pixels(), width: W, height: H, parameters: PROMPT, recipe: {} }));
    expect(await writeWithoutMetadata(source, join(dir, 'out.png'))).toBe('png');
    expectNoGenerationData(readFileSync(join(dir, 'out.png')), 'png');
    await expect(writeWithoutMetadata(source, join(dir, 'out.png'))).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it('refuses a file it cannot tell the metadata of, saying what to do', async () => {
    const source = join(dir, 'notes.txt');
    writeFileSync(source, 'just text');
    await expect(writeWithoutMetadata(source, join(dir, 'out.txt'), { name: 'the file of abc' })).rejects.toThrow(
      /the file of abc is not a PNG, JPEG, WebP or MP4 file.*export it without --strip-metadata/,
    );
  });
});
