/**
 * What a media file is and how it was made, read without decoding pixels: the format from its
 * first bytes (never its name), its size, and the generation settings other tools leave in it (PNG
 * text chunks, JPEG/WebP EXIF and XMP, MP4 tags via ffprobe; which tools and where: sources.ts,
 * and which record wins when a file has several: precedence.ts).
 *
 * Anything wrong with a file ends in a MediaRejected with a reason and a sentence; nothing here
 * lets a hostile file crash the caller, take unbounded memory, or block (FIFOs are refused before
 * they are opened).
 */
import { open, readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { Metadata as SharpMetadata } from 'sharp';
import { PngFormatError, readImageRecipeMetadata } from '../../media/png.ts';
import { DEFAULT_MAX_PIXELS } from '../../media/png-decode.ts';
import { jsonBudget, parseJsonBounded } from '../../media/bounded-json.ts';
import type { JsonBudget } from '../../media/bounded-json.ts';
import type { ImportSkipReason } from '../../../../src-preload/contract/library.ts';
import { exifGeneration, pngGeneration, videoGeneration } from './sources.ts';
import type { GeneratorSource } from './precedence.ts';
import type { MediaFields } from './fields.ts';
import { probeVideo } from './ffmpeg.ts';
import { MediaRejected } from './rejected.ts';
import { checkJpegSegments, checkMp4Boxes, checkWebpChunks } from './containers.ts';
import type { ContainerLimits } from './containers.ts';
import { keepInRange } from './setting-ranges.ts';
import { verifyDecodes } from './decode-check.ts';
import type { FfmpegSource } from './ffmpeg.ts';

export type MediaFormat = 'png' | 'jpeg' | 'webp' | 'mp4';

export const FORMAT_INFO: Readonly<Record<MediaFormat, { kind: 'image' | 'video'; mime: string; ext: string; names: readonly string[] }>> = {
  png: { kind: 'image', mime: 'image/png', ext: '.png', names: ['.png'] },
  jpeg: { kind: 'image', mime: 'image/jpeg', ext: '.jpg', names: ['.jpg', '.jpeg', '.jpe', '.jfif'] },
  webp: { kind: 'image', mime: 'image/webp', ext: '.webp', names: ['.webp'] },
  mp4: { kind: 'video', mime: 'video/mp4', ext: '.mp4', names: ['.mp4', '.m4v'] },
};

/** Extensions the importer looks at; anything else in a folder is not media it was asked about. */
export const MEDIA_EXTENSIONS: readonly string[] = Object.values(FORMAT_INFO).flatMap((f) => f.names);

/** Limits that keep a hostile file from costing unbounded memory or time. */
export const MEDIA_LIMITS = {
  /** PNGs are read whole to check every chunk's CRC. */
  maxPngBytes: 256 * 1024 * 1024,
  maxImageBytes: 512 * 1024 * 1024,
  maxVideoBytes: 64 * 1024 * 1024 * 1024,
  /** Pillow's MAX_IMAGE_PIXELS, as the PNG decoder uses: larger images are treated as bombs. */
  maxPixels: DEFAULT_MAX_PIXELS,
  /** Largest decompressed text chunk (ComfyUI workflows are a few MB). */
  maxTextBytes: 16 * 1024 * 1024,
  /** All the text chunks of one PNG together (a per-chunk limit alone lets 150 chunks cost gigabytes). */
  maxTotalTextBytes: 32 * 1024 * 1024,
  /** Values the JSON texts of one file may build (JSON.parse is a ~30× memory amplifier). */
  maxJsonValues: 1_000_000,
  /** PNG chunks, WebP chunks and MP4 boxes per file: each costs an object or a read. */
  maxBlocks: 131_072,
  /** Chunks/segments that are not image data (text, EXIF, XMP, ICC, private): real files have tens. */
  maxMetadataBlocks: 4096,
  /** JPEG APPn/COM segments and WebP EXIF/XMP/ICC chunks together. */
  maxMetadataBytes: 16 * 1024 * 1024,
  /** Nesting of MP4 container boxes (real files: 6). */
  maxBoxDepth: 16,
} as const;

const CONTAINER_LIMITS: ContainerLimits = {
  maxMetadataBlocks: MEDIA_LIMITS.maxMetadataBlocks,
  maxMetadataBytes: MEDIA_LIMITS.maxMetadataBytes,
  maxBlocks: MEDIA_LIMITS.maxBlocks,
  maxDepth: MEDIA_LIMITS.maxBoxDepth,
};

export { MediaRejected };

export function sniffFormat(head: Uint8Array): MediaFormat | null {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 8 && b.readUInt32BE(0) === 0x89504e47 && b.readUInt32BE(4) === 0x0d0a1a0a) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (b.length >= 12 && b.toString('latin1', 4, 8) === 'ftyp') return 'mp4';
  return null;
}

export type { GeneratorSource, MediaFields };

export interface MediaFacts {
  readonly format: MediaFormat;
  readonly kind: 'image' | 'video';
  readonly mime: string;
  readonly ext: string;
  readonly size: number;
  readonly width: number | null;
  readonly height: number | null;
  readonly durationMs: number | null;
  readonly fps: number | null;
  readonly frameCount: number | null;
  /** Which tool's settings were found (the first that gave any). */
  readonly source: GeneratorSource | null;
  readonly fields: MediaFields;
  /** This studio's own recipe, when the file carries one. */
  readonly ourRecipe: Record<string, unknown> | null;
  /** The raw metadata as found (text chunks verbatim), kept in the asset's recipe. */
  readonly raw: Record<string, unknown>;
  /** The whole file, when it was read whole anyway (PNGs), so callers need not read it again. */
  readonly bytes?: Buffer;
  /** Things worth telling the user about an accepted file (a setting out of range, a decoder warning). */
  readonly notes: readonly string[];
}

type ReadPart = Omit<MediaFacts, 'format' | 'kind' | 'mime' | 'ext' | 'size' | 'notes'>;

/** JSON within the file's budget; undefined when it is not JSON or would cost too much to build. */
function parseJson(text: string, budget: JsonBudget): unknown {
  return parseJsonBounded(text, budget).value;
}

function checkPixels(width: number | null, height: number | null, name: string): void {
  if (width === null || height === null) return;
  if (width * height > MEDIA_LIMITS.maxPixels) {
    throw new MediaRejected(
      'too-large',
      `${name} declares ${width}×${height} pixels, more than the ${Math.round(MEDIA_LIMITS.maxPixels / 1e6)} megapixels the library accepts (a decompression bomb or a scan too big to preview); skipped`,
    );
  }
}

async function readPng(path: string, name: string, size: number): Promise<ReadPart> {
  if (size > MEDIA_LIMITS.maxPngBytes) {
    throw new MediaRejected('too-large', `${name} is ${Math.round(size / 2 ** 20)} MB, larger than the ${MEDIA_LIMITS.maxPngBytes / 2 ** 20} MB a PNG may be; skipped`);
  }
  const bytes = await readFile(path);
  let meta;
  try {
    meta = readImageRecipeMetadata(bytes, {
      name,
      maxTextBytes: MEDIA_LIMITS.maxTextBytes,
      maxTotalTextBytes: MEDIA_LIMITS.maxTotalTextBytes,
      maxJsonValues: MEDIA_LIMITS.maxJsonValues,
      maxChunks: MEDIA_LIMITS.maxBlocks,
      maxMetadataChunks: MEDIA_LIMITS.maxMetadataBlocks,
    });
  } catch (error) {
    if (error instanceof PngFormatError) {
      const reason: ImportSkipReason = error.code === 'truncated' ? 'truncated' : error.code === 'too-large' ? 'too-large' : 'unreadable';
      throw new MediaRejected(reason, `${error.message}; skipped`);
    }
    throw error;
  }
  checkPixels(meta.width, meta.height, name);
  const budget = jsonBudget(MEDIA_LIMITS.maxJsonValues);
  const { source, fields, ourRecipe, raw } = pngGeneration(meta, (text) => parseJson(text, budget));
  return { width: meta.width, height: meta.height, durationMs: null, fps: null, frameCount: null, source, fields, ourRecipe, raw, bytes };
}

async function tail(path: string, size: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const n = Math.min(length, size);
    const buf = Buffer.alloc(n);
    await handle.read(buf, 0, n, size - n);
    return buf;
  } finally {
    await handle.close();
  }
}

async function readJpegOrWebp(path: string, name: string, format: 'jpeg' | 'webp', size: number, head: Buffer): Promise<ReadPart> {
  if (size > MEDIA_LIMITS.maxImageBytes) {
    throw new MediaRejected('too-large', `${name} is ${Math.round(size / 2 ** 20)} MB, larger than the ${MEDIA_LIMITS.maxImageBytes / 2 ** 20} MB an image may be; skipped`);
  }
  if (format === 'jpeg') {
    // A JPEG ends with the EOI marker; a cut-off download does not (some writers pad after it).
    const end = await tail(path, size, 4096);
    if (end.lastIndexOf(Buffer.from([0xff, 0xd9])) === -1) {
      throw new MediaRejected('truncated', `${name} is truncated: the JPEG has no end marker; the file was cut off, copy or download it again; skipped`);
    }
  } else {
    const riffSize = head.readUInt32LE(4) + 8;
    if (riffSize > size) {
      throw new MediaRejected('truncated', `${name} is truncated: the WebP says ${riffSize} bytes but the file has ${size}; copy or download it again; skipped`);
    }
  }
  // Before the decoder sees it: metadata the decoder would copy whole, counted and bounded.
  const handle = await open(path, 'r');
  try {
    if (format === 'jpeg') await checkJpegSegments(handle, size, name, CONTAINER_LIMITS);
    else await checkWebpChunks(handle, size, name, CONTAINER_LIMITS);
  } finally {
    await handle.close();
  }
  let meta: SharpMetadata;
  try {
    meta = await sharp(path, { limitInputPixels: false, failOn: 'none' }).metadata();
  } catch (error) {
    throw new MediaRejected('unreadable', `${name} could not be read as ${format.toUpperCase()} (${(error as Error).message}); skipped`);
  }
  const width = meta.width ?? null;
  const height = meta.height ?? null;
  checkPixels(width, height, name);
  const budget = jsonBudget(MEDIA_LIMITS.maxJsonValues);
  const { source, fields, raw } = exifGeneration(meta.exif, meta.xmp, (text) => parseJson(text, budget));
  return { width, height, durationMs: null, fps: null, frameCount: null, source, fields, ourRecipe: null, raw };
}

/** `1.0 s`, `3 h`, `97 years`: a duration as a person would say it. */
function spoken(ms: number): string {
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 2 * 3600) return `${Math.round(s / 60)} min`;
  if (s < 3 * 86_400) return `${Math.round(s / 3600)} h`;
  if (s < 2 * 365.25 * 86_400) return `${Math.round(s / 86_400)} days`;
  return `${Math.round(s / (365.25 * 86_400))} years`;
}

async function readMp4(path: string, name: string, size: number, ffmpeg?: FfmpegSource): Promise<ReadPart> {
  if (size > MEDIA_LIMITS.maxVideoBytes) {
    throw new MediaRejected('too-large', `${name} is larger than the ${MEDIA_LIMITS.maxVideoBytes / 2 ** 30} GB a video may be; skipped`);
  }
  const handle = await open(path, 'r');
  try {
    await checkMp4Boxes(handle, size, name, CONTAINER_LIMITS);
  } finally {
    await handle.close();
  }
  let facts;
  try {
    facts = await probeVideo(path, ffmpeg);
  } catch (error) {
    throw new MediaRejected('unreadable', `${name} could not be read as a video (${(error as Error).message}); skipped`);
  }
  checkPixels(facts.width, facts.height, name);
  // The movie header's duration is only a claim; the streams' sample tables say what is there.
  // Edit lists and a late audio start shift it a little, never by half again.
  if (facts.durationMs !== null && facts.streamsDurationMs !== null && facts.durationMs > facts.streamsDurationMs * 1.5 + 2000) {
    throw new MediaRejected(
      'unreadable',
      `${name} is damaged: its movie header says it lasts ${spoken(facts.durationMs)} but its streams last ${spoken(facts.streamsDurationMs)}; ` +
        'rewrite the header by remuxing it (ffmpeg -i FILE -c copy FIXED.mp4) and import the copy; skipped',
    );
  }
  const budget = jsonBudget(MEDIA_LIMITS.maxJsonValues);
  const raw: Record<string, unknown> = { tags: facts.tags, codec: facts.codec };
  const { source, fields, ourRecipe } = videoGeneration(facts.tags, (text) => parseJson(text, budget));
  const fps = facts.fps !== null && facts.fps > 0 && facts.fps <= 1000 ? facts.fps : null;
  const frameCount = facts.frameCount !== null && facts.frameCount >= 0 && facts.frameCount <= 1e9 ? facts.frameCount : null;
  return { width: facts.width, height: facts.height, durationMs: facts.durationMs, fps, frameCount, source, fields, ourRecipe, raw };
}

export interface ReadMediaOptions {
  /** Name for messages (the file's name as the user knows it). */
  readonly name: string;
  readonly size: number;
  readonly ffmpeg?: FfmpegSource;
  /** Decode the pixels or frames before accepting the file (default true). */
  readonly decode?: boolean;
}

/**
 * Reads a regular file's format and generation metadata, and decodes it; throws MediaRejected when
 * it should be skipped. Settings outside any tool's range are left out, with a note.
 */
export async function readMediaFacts(path: string, options: ReadMediaOptions): Promise<MediaFacts> {
  const { name, size } = options;
  if (size === 0) throw new MediaRejected('unreadable', `${name} is empty; skipped`);
  const handle = await open(path, 'r');
  const head = Buffer.alloc(32);
  try {
    await handle.read(head, 0, 32, 0);
  } finally {
    await handle.close();
  }
  const format = sniffFormat(head.subarray(0, Math.min(32, size)));
  if (format === null) {
    throw new MediaRejected('unsupported', `${name} is not a PNG, JPEG, WebP or MP4 file (whatever its name says); skipped`);
  }
  const info = FORMAT_INFO[format];
  const rest =
    format === 'png'
      ? await readPng(path, name, size)
      : format === 'mp4'
        ? await readMp4(path, name, size, options.ffmpeg)
        : await readJpegOrWebp(path, name, format, size, head);
  const { fields, notes } = keepInRange(rest.fields);
  if (options.decode !== false) {
    notes.push(...(await verifyDecodes(path, name, { format, durationMs: rest.durationMs, bytes: rest.bytes }, MEDIA_LIMITS.maxPixels, options.ffmpeg)));
  }
  return { format, kind: info.kind, mime: info.mime, ext: info.ext, size, ...rest, fields, notes };
}
