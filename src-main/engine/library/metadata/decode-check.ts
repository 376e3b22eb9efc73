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
import sharp from 'sharp';
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
  const input = target.bytes ?? path;
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
