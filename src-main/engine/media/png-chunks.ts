// The PNG container: signature, chunks with CRC, IHDR, and the three text chunk kinds
// (tEXt Latin-1, zTXt compressed Latin-1, iTXt UTF-8). Pixel coding lives in png-encode/png-decode.
// Reference: PNG Specification (Third Edition), sections 5 (datastream) and 11.3.3 (text chunks).

import { crc32, deflateSync, inflateSync } from 'node:zlib';

export const PNG_SIGNATURE: Uint8Array = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** The spec's limit for a chunk length and for each image dimension. */
export const PNG_MAX_UINT31 = 0x7fffffff;

/** Default ceiling for one decompressed zTXt/iTXt text (ComfyUI workflows are a few MB at most). */
export const DEFAULT_MAX_TEXT_BYTES = 64 * 1024 * 1024;

/**
 * Default ceiling for all the text of one file together. A per-chunk limit alone lets a 2 MB file
 * carry 150 zTXt chunks that each inflate to just under it (gigabytes in all).
 */
export const DEFAULT_MAX_TOTAL_TEXT_BYTES = 128 * 1024 * 1024;

/**
 * Default ceiling on chunks per file. Each chunk costs a small object, so a file of empty 12-byte
 * chunks would otherwise cost ~15× its size in memory. 2^17 chunks is a 256 MB image in 2 KB IDATs.
 */
export const DEFAULT_MAX_CHUNKS = 131_072;

/** Default ceiling on chunks that are not image data (text, colour, private): real files have tens. */
export const DEFAULT_MAX_METADATA_CHUNKS = 4096;

/** Image-data chunks (PNG's IDAT, APNG's frame chunks): the ones a large image legitimately has many of. */
const IMAGE_DATA_CHUNKS = new Set(['IDAT', 'fdAT', 'fcTL']);

export type PngErrorCode = 'not-png' | 'truncated' | 'bad-crc' | 'corrupt' | 'too-large' | 'unsupported';

export class PngFormatError extends Error {
  readonly code: PngErrorCode;

  constructor(code: PngErrorCode, message: string) {
    super(message);
    this.name = 'PngFormatError';
    this.code = code;
  }
}

export interface PngChunk {
  /** Four-letter chunk type, e.g. `IHDR`, `tEXt`. */
  type: string;
  /** Chunk payload (a view into the file bytes, not a copy). */
  data: Uint8Array;
  /** Byte offset of the chunk's length field in the file. */
  offset: number;
}

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
  colorType: number;
  /** 0 none, 1 Adam7. */
  interlace: number;
}

export interface ReadChunksOptions {
  /** Name used in error messages, e.g. the file name. */
  name?: string;
  /** Refuse a file with more chunks than this (default DEFAULT_MAX_CHUNKS). */
  maxChunks?: number;
  /** Refuse a file with more chunks other than image data than this (default DEFAULT_MAX_METADATA_CHUNKS). */
  maxMetadataChunks?: number;
}

const ALLOWED_BIT_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

/**
 * Split a PNG file into its chunks, checking the signature, every CRC, and that the file ends with
 * IEND. Bytes after IEND are ignored (some tools append data there).
 */
export function readPngChunks(bytes: Uint8Array, options: ReadChunksOptions = {}): PngChunk[] {
  const label = options.name ?? 'PNG file';
  if (bytes.byteLength < 8 || !PNG_SIGNATURE.every((b, i) => bytes[i] === b)) {
    throw new PngFormatError('not-png', `${label} is not a PNG image (the PNG signature is missing)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const maxChunks = options.maxChunks ?? DEFAULT_MAX_CHUNKS;
  const maxMetadataChunks = options.maxMetadataChunks ?? DEFAULT_MAX_METADATA_CHUNKS;
  const chunks: PngChunk[] = [];
  let metadataChunks = 0;
  let offset = 8;
  for (;;) {
    if (offset + 8 > bytes.byteLength) {
      throw new PngFormatError(
        'truncated',
        `${label} is truncated: it ends at byte ${bytes.byteLength} before the IEND chunk; the file was cut off, copy or download it again`,
      );
    }
    const length = view.getUint32(offset);
    const type = chunkTypeAt(bytes, offset + 4);
    if (type === undefined) {
      throw new PngFormatError('corrupt', `${label} is corrupt: invalid chunk type at byte ${offset + 4}`);
    }
    if (length > PNG_MAX_UINT31) {
      throw new PngFormatError('corrupt', `${label} is corrupt: chunk ${type} at byte ${offset} declares an impossible length ${length}`);
    }
    const end = offset + 12 + length;
    if (end > bytes.byteLength) {
      throw new PngFormatError(
        'truncated',
        `${label} is truncated: chunk ${type} at byte ${offset} needs ${length + 12} bytes but only ${bytes.byteLength - offset} remain; the file was cut off, copy or download it again`,
      );
    }
    const typeAndData = bytes.subarray(offset + 4, offset + 8 + length);
    const expected = view.getUint32(offset + 8 + length);
    if (crc32(typeAndData) !== expected) {
      throw new PngFormatError('bad-crc', `${label} is corrupt: chunk ${type} at byte ${offset} fails its CRC check`);
    }
    if (chunks.length === 0 && type !== 'IHDR') {
      throw new PngFormatError('corrupt', `${label} is corrupt: the first chunk is ${type}, not IHDR`);
    }
    if (chunks.length >= maxChunks) {
      throw new PngFormatError(
        'too-large',
        `${label} has more than ${maxChunks} chunks (a file built to exhaust memory, or damaged); it was not read (if you trust the file, open and re-save it in an image editor)`,
      );
    }
    if (!IMAGE_DATA_CHUNKS.has(type) && ++metadataChunks > maxMetadataChunks) {
      throw new PngFormatError(
        'too-large',
        `${label} has more than ${maxMetadataChunks} metadata chunks (no image tool writes that many; a file built to exhaust memory, or damaged); it was not read (${STRIP_HINT})`,
      );
    }
    chunks.push({ type, data: bytes.subarray(offset + 8, offset + 8 + length), offset });
    offset = end;
    if (type === 'IEND') return chunks;
  }
}

function chunkTypeAt(bytes: Uint8Array, at: number): string | undefined {
  let type = '';
  for (let i = 0; i < 4; i++) {
    const c = bytes[at + i]!;
    const isLetter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!isLetter) return undefined;
    type += String.fromCharCode(c);
  }
  return type;
}

/** Parse and validate IHDR, including the spec's 2^31−1 limit on each dimension. */
export function parseIhdr(chunk: PngChunk, options: ReadChunksOptions = {}): PngHeader {
  const label = options.name ?? 'PNG file';
  if (chunk.type !== 'IHDR' || chunk.data.byteLength !== 13) {
    throw new PngFormatError('corrupt', `${label} is corrupt: IHDR must be 13 bytes`);
  }
  const view = new DataView(chunk.data.buffer, chunk.data.byteOffset, 13);
  const header: PngHeader = {
    width: view.getUint32(0),
    height: view.getUint32(4),
    bitDepth: view.getUint8(8),
    colorType: view.getUint8(9),
    interlace: view.getUint8(12),
  };
  const compression = view.getUint8(10);
  const filter = view.getUint8(11);
  if (header.width === 0 || header.height === 0 || header.width > PNG_MAX_UINT31 || header.height > PNG_MAX_UINT31) {
    throw new PngFormatError(
      'corrupt',
      `${label} is corrupt: it declares an impossible size ${header.width}×${header.height}`,
    );
  }
  if (!ALLOWED_BIT_DEPTHS[header.colorType]?.includes(header.bitDepth)) {
    throw new PngFormatError(
      'corrupt',
      `${label} is corrupt: color type ${header.colorType} with bit depth ${header.bitDepth} is not a valid PNG combination`,
    );
  }
  if (compression !== 0 || filter !== 0 || header.interlace > 1) {
    throw new PngFormatError('unsupported', `${label} uses an unknown compression, filter or interlace method`);
  }
  return header;
}

/** Serialize one chunk: length, type, data, CRC over type and data. */
export function encodeChunk(type: string, data: Uint8Array): Uint8Array {
  if (!/^[A-Za-z]{4}$/.test(type)) throw new Error(`invalid PNG chunk type ${JSON.stringify(type)}`);
  if (data.byteLength > PNG_MAX_UINT31) throw new Error(`PNG chunk ${type} is too large (${data.byteLength} bytes)`);
  const out = new Uint8Array(12 + data.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.byteLength);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.byteLength, crc32(out.subarray(4, 8 + data.byteLength)));
  return out;
}

export function encodeIhdr(header: PngHeader): Uint8Array {
  const data = new Uint8Array(13);
  const view = new DataView(data.buffer);
  view.setUint32(0, header.width);
  view.setUint32(4, header.height);
  data[8] = header.bitDepth;
  data[9] = header.colorType;
  data[12] = header.interlace;
  return encodeChunk('IHDR', data);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.byteLength;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Text chunks

export interface PngTextEntry {
  keyword: string;
  text: string;
  chunk: 'tEXt' | 'zTXt' | 'iTXt';
  compressed: boolean;
  /** iTXt only: RFC 3066 language tag (often empty). */
  languageTag?: string;
  /** iTXt only: keyword translated into the language (often empty). */
  translatedKeyword?: string;
}

export interface TextChunkSpec {
  keyword: string;
  text: string;
  /** zlib-compress the text (zTXt, or iTXt with the compression flag). Default false. */
  compress?: boolean;
  /** Always use iTXt (UTF-8), even when the text fits Latin-1. Default false. */
  international?: boolean;
}

export function isLatin1(text: string): boolean {
  return /^[\u0000-\u00ff]*$/.test(text);
}

/**
 * Encode a text chunk the way Pillow's `PngInfo.add_text` does (and so A1111 does): tEXt when the
 * text is Latin-1, otherwise iTXt with empty language and translated keyword. Latin-1 text whose
 * bytes happen to be valid UTF-8 (`Ã©`) goes in iTXt too, as the reader would take them for UTF-8.
 */
export function encodeTextChunk(spec: TextChunkSpec): Uint8Array {
  const keyword = validateKeyword(spec.keyword);
  if (spec.text.includes('\u0000')) {
    throw new Error(`PNG text for keyword ${JSON.stringify(spec.keyword)} contains a NUL character, which PNG text cannot hold`);
  }
  const compress = spec.compress ?? false;
  if (!spec.international && isLatin1(spec.text) && !readsAsUtf8(Buffer.from(spec.text, 'latin1'))) {
    const text = Buffer.from(spec.text, 'latin1');
    if (compress) return encodeChunk('zTXt', concatBytes([keyword, Uint8Array.of(0, 0), deflateSync(text)]));
    return encodeChunk('tEXt', concatBytes([keyword, Uint8Array.of(0), text]));
  }
  const utf8 = Buffer.from(spec.text, 'utf8');
  const body = compress ? deflateSync(utf8) : utf8;
  // keyword \0 compression-flag compression-method language-tag \0 translated-keyword \0 text
  return encodeChunk('iTXt', concatBytes([keyword, Uint8Array.of(0, compress ? 1 : 0, 0, 0, 0), body]));
}

function validateKeyword(keyword: string): Uint8Array {
  const ok =
    keyword.length >= 1 &&
    keyword.length <= 79 &&
    /^[\u0020-\u007e\u00a1-\u00ff]+$/.test(keyword) &&
    !keyword.startsWith(' ') &&
    !keyword.endsWith(' ') &&
    !keyword.includes('  ');
  if (!ok) {
    throw new Error(
      `invalid PNG text keyword ${JSON.stringify(keyword)}: use 1–79 printable Latin-1 characters without leading, trailing or double spaces`,
    );
  }
  return Buffer.from(keyword, 'latin1');
}

export interface DecodeTextOptions extends ReadChunksOptions {
  /** Largest text one chunk may hold, inflated or not (default DEFAULT_MAX_TEXT_BYTES). */
  maxTextBytes?: number;
  /** Largest text all the chunks of one file may hold together (default DEFAULT_MAX_TOTAL_TEXT_BYTES). */
  maxTotalTextBytes?: number;
}

/** What one file's text chunks may still hold; shared by the chunks of a file as they are decoded. */
interface TextBudget {
  readonly total: number;
  used: number;
}

/**
 * Decode a tEXt, zTXt or iTXt chunk. Returns undefined for other chunk types. `budget` is shared by
 * the chunks of one file, so their text together stays under `maxTotalTextBytes`.
 */
export function decodeTextChunk(
  chunk: PngChunk,
  options: DecodeTextOptions = {},
  budget: TextBudget = { total: options.maxTotalTextBytes ?? DEFAULT_MAX_TOTAL_TEXT_BYTES, used: 0 },
): PngTextEntry | undefined {
  if (chunk.type !== 'tEXt' && chunk.type !== 'zTXt' && chunk.type !== 'iTXt') return undefined;
  const label = options.name ?? 'PNG file';
  const bad = (why: string): PngFormatError =>
    new PngFormatError('corrupt', `${label} has a corrupt ${chunk.type} chunk at byte ${chunk.offset}: ${why}`);
  const data = chunk.data;
  const keywordEnd = data.indexOf(0);
  if (keywordEnd < 1 || keywordEnd > 79) throw bad('missing or over-long keyword');
  const keyword = latin1(data.subarray(0, keywordEnd));
  const rest = data.subarray(keywordEnd + 1);
  const text = (body: Uint8Array, compressed: boolean): Uint8Array =>
    takeText(compressed ? inflateText(body, label, options, budget, bad) : body, label, options, budget);

  if (chunk.type === 'tEXt') {
    return { keyword, text: latin1OrUtf8(text(rest, false)), chunk: 'tEXt', compressed: false };
  }
  if (chunk.type === 'zTXt') {
    if (rest.byteLength < 1 || rest[0] !== 0) throw bad('unknown compression method');
    return { keyword, text: latin1OrUtf8(text(rest.subarray(1), true)), chunk: 'zTXt', compressed: true };
  }
  if (rest.byteLength < 2) throw bad('too short');
  const compressed = rest[0] === 1;
  if (rest[0]! > 1 || rest[1] !== 0) throw bad('unknown compression flag or method');
  const languageEnd = rest.indexOf(0, 2);
  if (languageEnd < 0) throw bad('unterminated language tag');
  const translatedEnd = rest.indexOf(0, languageEnd + 1);
  if (translatedEnd < 0) throw bad('unterminated translated keyword');
  const languageTag = latin1(rest.subarray(2, languageEnd));
  const translatedKeyword = utf8(rest.subarray(languageEnd + 1, translatedEnd));
  const body = utf8(text(rest.subarray(translatedEnd + 1), compressed));
  return { keyword, text: body, chunk: 'iTXt', compressed, languageTag, translatedKeyword };
}

const MB = 1024 * 1024;

function formatLimit(bytes: number): string {
  return bytes >= MB && bytes % MB === 0 ? `${bytes / MB} MB` : `${bytes} bytes`;
}

/** What to do with a file refused for its text: the pixels may be fine. */
const STRIP_HINT = 'if you trust the file, remove its metadata (exiftool -all= FILE) and read it again';

/** Counts a chunk's text against the per-chunk and per-file limits. */
function takeText(text: Uint8Array, label: string, options: DecodeTextOptions, budget: TextBudget): Uint8Array {
  const perChunk = options.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES;
  if (text.byteLength > perChunk) {
    throw new PngFormatError('too-large', `${label} has a text chunk larger than ${formatLimit(perChunk)}; it was not read (${STRIP_HINT})`);
  }
  if (budget.used + text.byteLength > budget.total) throw totalTextError(label, budget);
  budget.used += text.byteLength;
  return text;
}

function totalTextError(label: string, budget: TextBudget): PngFormatError {
  return new PngFormatError(
    'too-large',
    `${label} holds more than ${formatLimit(budget.total)} of text in its text chunks together (a decompression bomb, or metadata no image tool writes); it was not read (${STRIP_HINT})`,
  );
}

function inflateText(
  data: Uint8Array,
  label: string,
  options: DecodeTextOptions,
  budget: TextBudget,
  bad: (why: string) => PngFormatError,
): Uint8Array {
  const perChunk = options.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES;
  const remaining = Math.max(0, budget.total - budget.used);
  // Never inflate more than either limit allows: the output buffer is the memory at stake.
  const limit = Math.min(perChunk, remaining);
  try {
    return inflateSync(data, { maxOutputLength: Math.max(1, limit) });
  } catch (error) {
    if (error instanceof RangeError) {
      if (limit < perChunk) throw totalTextError(label, budget);
      throw new PngFormatError(
        'too-large',
        `${label} has a compressed text chunk that expands beyond ${formatLimit(perChunk)}; it was not read (${STRIP_HINT})`,
      );
    }
    throw bad(`compressed text cannot be inflated (${(error as Error).message})`);
  }
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

const utf8Decoder = new TextDecoder('utf-8');

function utf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes with one above 0x7f that form valid UTF-8. */
function readsAsUtf8(bytes: Uint8Array): boolean {
  if (!bytes.some((b) => b > 0x7f)) return false;
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * tEXt and zTXt text. The PNG spec says Latin-1, but tools write UTF-8 there too (Stability
 * Matrix's `parameters`, writers that never heard of iTXt), which Latin-1 turns into mojibake
 * (`cafÃ©`); bytes that are valid UTF-8 with a character beyond ASCII are read as UTF-8. Latin-1
 * text hardly ever is valid UTF-8 (an accented letter alone is not), and this studio's writer puts
 * text that would be in iTXt.
 */
function latin1OrUtf8(bytes: Uint8Array): string {
  return readsAsUtf8(bytes) ? strictUtf8.decode(bytes) : latin1(bytes);
}

export interface PngMetadata {
  header: PngHeader;
  /** Text chunks in file order (before and after the image data). */
  text: PngTextEntry[];
  /** Chunk types in file order, e.g. for diagnostics. */
  chunkTypes: string[];
}

/**
 * Read the header and all text chunks without decoding pixels. Validates structure and CRCs.
 */
export function readPngMetadata(bytes: Uint8Array, options: DecodeTextOptions = {}): PngMetadata {
  const chunks = readPngChunks(bytes, options);
  const header = parseIhdr(chunks[0]!, options);
  const text: PngTextEntry[] = [];
  const budget: TextBudget = { total: options.maxTotalTextBytes ?? DEFAULT_MAX_TOTAL_TEXT_BYTES, used: 0 };
  for (const chunk of chunks) {
    const entry = decodeTextChunk(chunk, options, budget);
    if (entry !== undefined) text.push(entry);
  }
  return { header, text, chunkTypes: chunks.map((c) => c.type) };
}

/** The text of the first text chunk with this keyword (keywords are case-sensitive). */
export function findText(entries: readonly PngTextEntry[], keyword: string): string | undefined {
  return entries.find((e) => e.keyword === keyword)?.text;
}
