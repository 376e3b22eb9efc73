/**
 * Copies of library files that carry no generation data, for `library export --strip-metadata`:
 * the picture or the video stays bit for bit, everything said about it goes.
 *
 * Each format keeps an allow-list of what draws the picture (and its colour), so metadata a tool
 * invents later is dropped too:
 *  - PNG: image data, palette, transparency and colour chunks (and APNG's animation chunks); no
 *    tEXt/zTXt/iTXt (A1111 parameters, our recipe, ComfyUI graphs, XMP), eXIf, tIME or private chunks.
 *  - JPEG: JFIF, ICC profile and Adobe colour-transform segments and the coded image; no EXIF or
 *    XMP (APP1), IPTC (APP13), comments, other APPn, or bytes after the end marker.
 *  - WebP: the bitstream, alpha, animation and ICC chunks; no EXIF or XMP chunks (and their VP8X
 *    flags cleared).
 *  - MP4: remuxed by ffmpeg with streams copied (video without cover art, audio): no container
 *    tags, chapters, creation times, XMP box or encoder name, and for H.264/HEVC no SEI messages
 *    (x264 writes its options, thread count included, into one).
 */
import { execFile } from 'node:child_process';
import { open, readFile, stat, writeFile } from 'node:fs/promises';
import { PngFormatError, readPngChunks } from '../media/png-chunks.ts';
import { MEDIA_LIMITS, sniffFormat } from './metadata/read-media.ts';
import type { MediaFormat } from './metadata/read-media.ts';
import { probeVideo, resolveFfmpegPaths } from './metadata/ffmpeg.ts';
import type { FfmpegSource } from './metadata/ffmpeg.ts';

/** A file that cannot be copied without its metadata; the message says why and what to do. */
export class StripError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StripError';
  }
}

/** PNG chunks that draw the picture or say how its colours are meant; everything else is dropped. */
const PNG_KEEP = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'cHRM', 'gAMA', 'iCCP', 'sBIT', 'sRGB', 'cICP', 'mDCv', 'cLLi', 'bKGD', 'pHYs', 'acTL', 'fcTL', 'fdAT']);

export function stripPng(bytes: Uint8Array, name = 'PNG file'): Uint8Array {
  let chunks;
  try {
    chunks = readPngChunks(bytes, { name });
  } catch (error) {
    if (error instanceof PngFormatError) throw new StripError(`${error.message}`, { cause: error });
    throw error;
  }
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  for (const c of chunks) if (PNG_KEEP.has(c.type)) parts.push(bytes.subarray(c.offset, c.offset + 12 + c.data.byteLength));
  return Buffer.concat(parts);
}

function startsWith(bytes: Uint8Array, at: number, text: string): boolean {
  if (at + text.length > bytes.byteLength) return false;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Whether a JPEG APPn segment (payload at `at`) is one that decoding needs. */
function keepJpegApp(marker: number, bytes: Uint8Array, at: number): boolean {
  if (marker === 0xe0) return startsWith(bytes, at, 'JFIF\0');
  if (marker === 0xe2) return startsWith(bytes, at, 'ICC_PROFILE\0');
  if (marker === 0xee) return startsWith(bytes, at, 'Adobe');
  return false;
}

export function stripJpeg(bytes: Uint8Array, name = 'JPEG file'): Uint8Array {
  const bad = (why: string): StripError => new StripError(`${name} is not a readable JPEG (${why}); check the file with \`studio library check\``);
  if (bytes.byteLength < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) throw bad('no start marker');
  const parts: Uint8Array[] = [bytes.subarray(0, 2)];
  let at = 2;
  for (;;) {
    // Markers may be preceded by any number of 0xFF fill bytes.
    while (at < bytes.byteLength && bytes[at] === 0xff && bytes[at + 1] === 0xff) at++;
    if (at + 2 > bytes.byteLength) throw bad('it ends before its end marker');
    if (bytes[at] !== 0xff) throw bad(`no marker at byte ${at}`);
    const marker = bytes[at + 1]!;
    if (marker === 0xd9) {
      parts.push(bytes.subarray(at, at + 2)); // EOI: whatever follows it is not the picture
      return Buffer.concat(parts);
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      parts.push(bytes.subarray(at, at + 2));
      at += 2;
      continue;
    }
    if (at + 4 > bytes.byteLength) throw bad('a segment is cut off');
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    const end = at + 2 + length;
    if (length < 2 || end > bytes.byteLength) throw bad(`a segment at byte ${at} runs past the end`);
    const isApp = marker >= 0xe0 && marker <= 0xef;
    const drop = marker === 0xfe || (isApp && !keepJpegApp(marker, bytes, at + 4));
    if (!drop) parts.push(bytes.subarray(at, end));
    at = end;
    if (marker === 0xda) {
      // Entropy-coded data follows the scan header up to the next marker that is not a stuffed
      // 0xFF00 or a restart marker.
      const start = at;
      while (at + 1 < bytes.byteLength) {
        if (bytes[at] === 0xff) {
          const next = bytes[at + 1]!;
          if (next !== 0x00 && !(next >= 0xd0 && next <= 0xd7) && next !== 0xff) break;
        }
        at++;
      }
      if (at + 1 >= bytes.byteLength) throw bad('its image data is cut off');
      parts.push(bytes.subarray(start, at));
    }
  }
}

/** WebP chunks that draw the picture; EXIF, XMP and anything unknown are dropped. */
const WEBP_KEEP = new Set(['VP8 ', 'VP8L', 'VP8X', 'ALPH', 'ANIM', 'ANMF', 'ICCP']);
const VP8X_EXIF = 0x08;
const VP8X_XMP = 0x04;

export function stripWebp(bytes: Uint8Array, name = 'WebP file'): Uint8Array {
  const bad = (why: string): StripError => new StripError(`${name} is not a readable WebP (${why}); check the file with \`studio library check\``);
  if (bytes.byteLength < 12 || !startsWith(bytes, 0, 'RIFF') || !startsWith(bytes, 8, 'WEBP')) throw bad('no RIFF WEBP header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const riffEnd = Math.min(bytes.byteLength, 8 + view.getUint32(4, true));
  const parts: Uint8Array[] = [];
  let at = 12;
  while (at + 8 <= riffEnd) {
    const fourcc = String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
    const size = view.getUint32(at + 4, true);
    const end = at + 8 + size + (size & 1);
    if (at + 8 + size > riffEnd) throw bad(`chunk ${JSON.stringify(fourcc)} runs past the end`);
    if (WEBP_KEEP.has(fourcc)) {
      const chunk = Uint8Array.from(bytes.subarray(at, Math.min(end, riffEnd)));
      if (fourcc === 'VP8X' && size >= 1) chunk[8] = chunk[8]! & ~(VP8X_EXIF | VP8X_XMP);
      parts.push(chunk);
    }
    at = end;
  }
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(4 + body.byteLength, 4);
  header.write('WEBP', 8, 'latin1');
  return Buffer.concat([header, body]);
}

/** SEI NAL unit types per codec (ffmpeg's filter_units numbering). */
const SEI_TYPES: Readonly<Record<string, string>> = { h264: '6', hevc: '39|40' };

function runFfmpeg(binary: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: timeoutMs, maxBuffer: 1024 * 1024, windowsHide: true }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      const e = error as NodeJS.ErrnoException & { killed?: boolean };
      const why =
        e.code === 'ENOENT'
          ? `${binary} was not found: install ffmpeg (Debian/Ubuntu: apt install ffmpeg) or set its path in Settings → Video`
          : e.killed
            ? `ffmpeg took longer than ${Math.round(timeoutMs / 60_000)} minutes`
            : String(stderr).trim().split('\n').slice(-2).join(' ') || e.message;
      reject(new StripError(why, { cause: error }));
    });
  });
}

/** Remuxes `source` into `target` (an MP4) with the streams copied and no metadata. */
export async function stripMp4(source: string, target: string, ffmpeg?: FfmpegSource): Promise<void> {
  const paths = await resolveFfmpegPaths(ffmpeg);
  let codec: string | null = null;
  try {
    codec = (await probeVideo(source, ffmpeg)).codec;
  } catch (error) {
    throw new StripError(`ffprobe could not read it (${(error as Error).message})`, { cause: error });
  }
  const sei = codec === null ? undefined : SEI_TYPES[codec];
  const size = (await stat(source)).size;
  await runFfmpeg(
    paths.ffmpeg,
    [
      '-v', 'error', '-nostdin', '-n',
      '-i', `file:${source}`,
      '-map', '0:V', '-map', '0:a?', '-c', 'copy',
      '-map_metadata', '-1', '-map_chapters', '-1',
      '-fflags', '+bitexact', '-flags:v', '+bitexact', '-flags:a', '+bitexact',
      ...(sei ? ['-bsf:v', `filter_units=remove_types=${sei}`] : []),
      '-movflags', '+faststart',
      '-f', 'mp4', `file:${target}`,
    ],
    // A stream copy runs at disk speed: a minute plus one per 2 GB is generous.
    60_000 + Math.ceil(size / 2 ** 31) * 60_000,
  );
}

/**
 * Writes a copy of `source` without generation data to `target` (a new file: the caller's temp).
 * Throws StripError saying what is wrong with the file or the tools.
 */
export async function writeWithoutMetadata(source: string, target: string, options: { ffmpeg?: FfmpegSource; name?: string } = {}): Promise<MediaFormat> {
  const name = options.name ?? 'the file';
  const handle = await open(source, 'r');
  const head = Buffer.alloc(32);
  let size: number;
  try {
    size = (await handle.stat()).size;
    await handle.read(head, 0, 32, 0);
  } finally {
    await handle.close();
  }
  const format = sniffFormat(head.subarray(0, Math.min(32, size)));
  if (format === null) throw new StripError(`${name} is not a PNG, JPEG, WebP or MP4 file, so its metadata cannot be told from its picture; export it without --strip-metadata`);
  if (format === 'mp4') {
    await stripMp4(source, target, options.ffmpeg);
    return format;
  }
  const limit = format === 'png' ? MEDIA_LIMITS.maxPngBytes : MEDIA_LIMITS.maxImageBytes;
  if (size > limit) throw new StripError(`${name} is ${Math.round(size / 2 ** 20)} MB, more than the ${limit / 2 ** 20} MB an image may be`);
  const bytes = await readFile(source);
  const stripped = format === 'png' ? stripPng(bytes, name) : format === 'jpeg' ? stripJpeg(bytes, name) : stripWebp(bytes, name);
  await writeFile(target, stripped, { flag: 'wx' });
  return format;
}
