/**
 * A file is accepted only once its pixels or frames have been decoded: a header that reads well
 * says nothing about the data after it (a JPEG cut short with an end marker appended, a PNG whose
 * compressed data is garbage under a valid CRC, an MP4 whose samples lie past the end of the file).
 *
 * Images go through sharp with the library's pixel limit and a small output size, so libvips
 * streams the decode instead of holding the whole image. JPEG is decoded with libjpeg's warnings
 * as errors, because a cut-off scan is only a warning there ("premature end of data segment",
 * the missing part painted grey); a warning that is not about missing data is accepted with a
 * note. Videos are decoded by ffmpeg (decodeCheck).
 */
import { open, readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { PNG_SIGNATURE, readPngChunks } from '../../media/png-chunks.ts';
import { Reader } from './containers.ts';
import { decodeCheck } from './ffmpeg.ts';
import type { FfmpegSource } from './ffmpeg.ts';
import { MediaRejected } from './rejected.ts';

/** Longest a single image may take to decode before it is refused. */
const DECODE_TIMEOUT_SECONDS = 60;

const MISSING_DATA = /premature end|not enough (image )?data|truncat|unexpected end|ended early|end of (file|stream)/i;

export interface DecodeTarget {
  readonly format: 'png' | 'jpeg' | 'webp' | 'mp4';
  readonly durationMs: number | null;
  /** The file's bytes when already read whole (PNG), so it is not read again. */
  readonly bytes?: Buffer;
}

/**
 * Text a PNG may carry and still go to the decoder as it is. libpng inflates every text chunk and
 * libvips copies each into the image's metadata (~4.5× the text in memory), though the pixels
 * need none of it, so a PNG with more, or with compressed text, is decoded without its text.
 */
const DECODER_TEXT_BYTES = 256 * 1024;

const TEXT_CHUNKS = new Set(['tEXt', 'zTXt', 'iTXt']);

/** The PNG with its text chunks left out (the file's bytes are not changed; this is a copy). */
export function withoutTextChunks(png: Uint8Array): Buffer {
  const kept = readPngChunks(png, { maxChunks: Number.MAX_SAFE_INTEGER, maxMetadataChunks: Number.MAX_SAFE_INTEGER })
    .filter((c) => !TEXT_CHUNKS.has(c.type))
    .map((c) => png.subarray(c.offset, c.offset + 12 + c.data.byteLength));
  return Buffer.concat([PNG_SIGNATURE, ...kept]);
}

/** Whether the PNG's text is too much, or compressed, to hand to the decoder (headers read only). */
async function pngTextIsHeavy(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const r = new Reader(handle, size);
    if (!(await r.bytes(0, 8)).equals(PNG_SIGNATURE)) return false;
    let text = 0;
    for (let at = 8; at + 12 <= size; ) {
      const head = await r.bytes(at, 8);
      if (head.length < 8) break;
      const length = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (type === 'zTXt') return true;
      if (type === 'iTXt') {
        const body = await r.bytes(at + 8, Math.min(length, 81));
        const keywordEnd = body.indexOf(0);
        if (keywordEnd >= 0 && body[keywordEnd + 1] === 1) return true;
      }
      if (TEXT_CHUNKS.has(type) && (text += length) > DECODER_TEXT_BYTES) return true;
      if (type === 'IEND') break;
      at += 12 + length;
    }
    return false;
  } finally {
    await handle.close();
  }
}

/**
 * What to hand sharp for a library image: its path, or for a PNG whose text would cost the decoder
 * memory, its bytes without the text (PNGs are at most MEDIA_LIMITS.maxPngBytes).
 */
export async function decoderInput(path: string): Promise<string | Buffer> {
  return (await pngTextIsHeavy(path)) ? withoutTextChunks(await readFile(path)) : path;
}

/** libvips' bookkeeping lines, which say nothing about the file. */
const NOISE = /^(error in tile|read gave \d+ warnings?)/i;

async function decodeImage(input: string | Buffer, failOn: 'error' | 'warning', maxPixels: number): Promise<void> {
  const warnings = new Set<string>();
  const image = sharp(input, { failOn, limitInputPixels: maxPixels, sequentialRead: true });
  image.on('warning', (message: string) => {
    if (!NOISE.test(message.trim()) && warnings.size < 3) warnings.add(message.trim());
  });
  try {
    await image.timeout({ seconds: DECODE_TIMEOUT_SECONDS }).resize(64, 64, { fit: 'inside' }).raw().toBuffer();
  } catch (error) {
    // libpng says only "read error"; the warnings before it say what was wrong.
    throw new Error([(error as Error).message.trim(), ...warnings].join('; '));
  }
}

function decoderWords(error: unknown): string {
  return (error as Error).message.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** The PNG as read, or without its text when that would cost the decoder more than the pixels. */
function pngBytesForDecoder(png: Buffer): Buffer {
  let text = 0;
  for (const c of readPngChunks(png, { maxChunks: Number.MAX_SAFE_INTEGER, maxMetadataChunks: Number.MAX_SAFE_INTEGER })) {
    if (!TEXT_CHUNKS.has(c.type)) continue;
    const compressed = c.type === 'zTXt' || (c.type === 'iTXt' && c.data[c.data.indexOf(0) + 1] === 1);
    if (compressed || (text += c.data.byteLength) > DECODER_TEXT_BYTES) return withoutTextChunks(png);
  }
  return png;
}

/**
 * Decodes the file; throws MediaRejected when it does not decode cleanly. Returns notes for what
 * decoded with a warning that does not mean data is missing.
 */
export async function verifyDecodes(path: string, name: string, target: DecodeTarget, maxPixels: number, ffmpeg?: FfmpegSource): Promise<string[]> {
  const kind = target.format.toUpperCase();
  if (target.format === 'mp4') {
    try {
      await decodeCheck(path, target.durationMs, ffmpeg);
    } catch (error) {
      const words = decoderWords(error);
      if (/ was not found: install ffmpeg/.test(words)) throw new MediaRejected('unreadable', `${name} could not be checked: ${words}; skipped`);
      throw new MediaRejected(
        MISSING_DATA.test(words) || /partial file|corrupt input packet/i.test(words) ? 'truncated' : 'unreadable',
        `${name} does not decode as a video (ffmpeg: ${words}); the file is damaged or cut off: copy or download it again, or re-export it; skipped`,
      );
    }
    return [];
  }
  const input = target.bytes !== undefined ? pngBytesForDecoder(target.bytes) : path;
  try {
    await decodeImage(input, target.format === 'jpeg' ? 'warning' : 'error', maxPixels);
    return [];
  } catch (error) {
    const words = decoderWords(error);
    if (MISSING_DATA.test(words)) {
      throw new MediaRejected('truncated', `${name} is truncated: its image data ends early (${words}); the file was cut off, copy or download it again; skipped`);
    }
    if (target.format === 'jpeg') {
      // A warning about something other than missing data (stray bytes before a marker, which some
      // cameras write): the image is whole, so accept it and say what the decoder said.
      try {
        await decodeImage(input, 'error', maxPixels);
        return [`the JPEG decoder warned (${words}); the image decoded whole, so it was imported`];
      } catch (second) {
        throw new MediaRejected('unreadable', `${name} does not decode as ${kind} (${decoderWords(second)}); the file is damaged: copy it again, or open and re-save it in an image editor; skipped`);
      }
    }
    throw new MediaRejected('unreadable', `${name} does not decode as ${kind} (${words}); the file is damaged: copy it again, or open and re-save it in an image editor; skipped`);
  }
}
