/**
 * The header walks that run before any decoder or ffprobe sees a JPEG, WebP or MP4: real files
 * pass, and each way a file can cost memory, loop a parser or hide a cut is refused with its reason.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { checkJpegSegments, checkMp4Boxes, checkWebpChunks } from '../../../src-main/engine/library/metadata/containers.ts';
import type { ContainerLimits } from '../../../src-main/engine/library/metadata/containers.ts';
import { MediaRejected } from '../../../src-main/engine/library/metadata/rejected.ts';
import { a1111Jpeg, a1111Webp, pixels } from '../../fixtures/library/formats.ts';
import { clipBytes } from '../../fixtures/library/hostile.ts';

const dir = mkdtempSync(join(tmpdir(), 'containers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const limits: ContainerLimits = { maxMetadataBlocks: 64, maxMetadataBytes: 256 * 1024, maxBlocks: 1000, maxDepth: 16 };
type Walk = typeof checkJpegSegments;

let n = 0;
async function walk(fn: Walk, bytes: Buffer): Promise<MediaRejected | null> {
  const path = join(dir, `f${n++}`);
  writeFileSync(path, bytes);
  const handle = await open(path, 'r');
  try {
    await fn(handle, bytes.length, 'f', limits);
    return null;
  } catch (error) {
    if (error instanceof MediaRejected) return error;
    throw error;
  } finally {
    await handle.close();
  }
}

const segment = (marker: number, payload: Buffer): Buffer => Buffer.concat([Buffer.from([0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 255]), payload]);
const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};
const box = (type: string, payload: Buffer = Buffer.alloc(0)): Buffer => Buffer.concat([u32(payload.length + 8), Buffer.from(type, 'latin1'), payload]);

describe('JPEG segments', () => {
  it('passes real JPEGs (with A1111 EXIF), and refuses metadata beyond the byte and count limits', async () => {
    const jpeg = await a1111Jpeg('a fox\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1');
    expect(await walk(checkJpegSegments, jpeg)).toBeNull();
    const withSoi = (...parts: Buffer[]): Buffer => Buffer.concat([jpeg.subarray(0, 2), ...parts, jpeg.subarray(2)]);
    const app1 = segment(0xe1, Buffer.alloc(60_000, 0x20));
    expect(await walk(checkJpegSegments, withSoi(app1, app1, app1, app1, app1))).toMatchObject({ reason: 'too-large', message: expect.stringMatching(/more than 262144 bytes of metadata segments/) });
    const com = segment(0xfe, Buffer.from('x'));
    expect(await walk(checkJpegSegments, withSoi(...Array.from({ length: 100 }, () => com)))).toMatchObject({ reason: 'too-large', message: expect.stringMatching(/more than 64 segments/) });
  });

  it('tells a cut inside the headers from damage', async () => {
    const jpeg = await sharp(pixels(32, 32, 1), { raw: { width: 32, height: 32, channels: 3 } }).jpeg().toBuffer();
    expect(await walk(checkJpegSegments, jpeg.subarray(0, 30))).toMatchObject({ reason: 'truncated' });
    expect(await walk(checkJpegSegments, Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0x12, 0x34]), jpeg.subarray(2)]))).toMatchObject({ reason: 'unreadable' });
    expect(await walk(checkJpegSegments, Buffer.concat([jpeg.subarray(0, 2), Buffer.alloc(70_000, 0xff), jpeg.subarray(2)]))).toMatchObject({ reason: 'unreadable', message: expect.stringMatching(/fill bytes/) });
  });
});

describe('WebP chunks', () => {
  it('passes a real WebP with EXIF, and refuses too many chunks or too much metadata', async () => {
    const webp = await a1111Webp('a city\nSteps: 12, Sampler: Euler, CFG scale: 5, Seed: 1');
    expect(await walk(checkWebpChunks, webp)).toBeNull();
    const append = (extra: Buffer): Buffer => {
      const body = Buffer.concat([webp.subarray(12), extra]);
      const size = Buffer.alloc(4);
      size.writeUInt32LE(body.length + 4);
      return Buffer.concat([Buffer.from('RIFF'), size, Buffer.from('WEBP'), body]);
    };
    const chunk = (fourcc: string, length: number): Buffer => {
      const size = Buffer.alloc(4);
      size.writeUInt32LE(length);
      return Buffer.concat([Buffer.from(fourcc, 'latin1'), size, Buffer.alloc(length + (length % 2))]);
    };
    expect(await walk(checkWebpChunks, append(Buffer.concat(Array.from({ length: 3 }, () => chunk('XMP ', 100_000)))))).toMatchObject({ reason: 'too-large' });
    expect(await walk(checkWebpChunks, append(Buffer.concat(Array.from({ length: 100 }, () => chunk('abcd', 2)))))).toMatchObject({ reason: 'too-large' });
  });
});

describe('MP4 boxes', () => {
  const clip = clipBytes(dir);
  const ftyp = clip.subarray(0, clip.readUInt32BE(0));

  it('passes a real MP4, and one with zero padding after its last box', async () => {
    expect(await walk(checkMp4Boxes, clip)).toBeNull();
    expect(await walk(checkMp4Boxes, Buffer.concat([clip, Buffer.alloc(64)]))).toBeNull();
  });

  it('calls a file cut inside its media data, or without its movie box, truncated', async () => {
    expect(await walk(checkMp4Boxes, clip.subarray(0, clip.length - 100))).toMatchObject({ reason: 'truncated', message: expect.stringMatching(/"mdat" box at byte \d+ needs/) });
    expect(await walk(checkMp4Boxes, Buffer.concat([ftyp, box('mdat', Buffer.alloc(100))]))).toMatchObject({ reason: 'truncated', message: expect.stringMatching(/no movie header/) });
  });

  it('refuses boxes nested without end, sizes that do not advance, and more boxes than allowed', async () => {
    let nested = box('trak');
    for (let i = 0; i < 40; i++) nested = box('trak', nested);
    expect(await walk(checkMp4Boxes, Buffer.concat([ftyp, box('moov', nested)]))).toMatchObject({ reason: 'unreadable', message: expect.stringMatching(/nested more than 16 deep/) });
    const zeroInside = Buffer.concat([u32(0), Buffer.from('trak')]);
    expect(await walk(checkMp4Boxes, Buffer.concat([ftyp, box('moov', zeroInside)]))).toMatchObject({ reason: 'unreadable', message: expect.stringMatching(/has no size/) });
    const tooSmall = Buffer.concat([u32(4), Buffer.from('free')]);
    expect(await walk(checkMp4Boxes, Buffer.concat([ftyp, tooSmall, box('moov')]))).toMatchObject({ reason: 'unreadable', message: expect.stringMatching(/smaller than its own header/) });
    const large = Buffer.concat([u32(1), Buffer.from('free'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 8])]);
    expect(await walk(checkMp4Boxes, Buffer.concat([ftyp, large, box('moov')]))).toMatchObject({ reason: 'unreadable' });
    const many = Buffer.concat(Array.from({ length: 2000 }, () => box('free')));
    expect(await walk(checkMp4Boxes, Buffer.concat([ftyp, many, box('moov')]))).toMatchObject({ reason: 'too-large', message: expect.stringMatching(/more than 1000 boxes/) });
    expect(await walk(checkMp4Boxes, Buffer.concat([ftyp, Buffer.alloc(200, 7)]))).toMatchObject({ reason: 'unreadable', message: expect.stringMatching(/no box type/) });
  });
});
