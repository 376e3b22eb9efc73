/**
 * Where tools put their settings in JPEG and WebP EXIF:
 *  - A1111: UserComment (0x9286) in the Exif IFD, written by piexif as `UNICODE\0` + UTF-16
 *    (big-endian, piexif always writes a big-endian TIFF). SwarmUI's ImageSharp writes the same tag.
 *  - Fooocus (modules/meta_parser.py `get_exif` through Pillow's Image.Exif): UserComment,
 *    Software and MakerNote (0x927C, the scheme) in IFD0 itself, as ASCII.
 *  - ComfyUI's SaveAnimatedWEBP (Pillow): Model (0x0110) = `prompt:<json>`, Make (0x010F) =
 *    `workflow:<json>`, further entries in the tags below Make (ImageDescription 0x010E, …).
 * Other tools write the TIFF's own byte order, ASCII, or ImageDescription; some write XMP.
 *
 * A bounds-checked reader of just those tags: a hostile EXIF block yields undefined, never a throw
 * or a runaway loop.
 */

import { withoutTrailingNuls } from '../../media/trim.ts';

const EXIF_HEADER = Buffer.from('Exif\0\0', 'latin1');
const TAG_IMAGE_DESCRIPTION = 0x010e;
const TAG_MAKE = 0x010f;
const TAG_MODEL = 0x0110;
const TAG_SOFTWARE = 0x0131;
const TAG_EXIF_IFD = 0x8769;
const TAG_USER_COMMENT = 0x9286;
const TAG_MAKER_NOTE = 0x927c;
const TYPE_ASCII = 2;
const MAX_ENTRIES = 512;

interface Entry {
  tag: number;
  type: number;
  count: number;
  /** Offset of the value bytes within the TIFF block. */
  valueOffset: number;
}

const TYPE_SIZES: Readonly<Record<number, number>> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8 };

function readIfd(tiff: Buffer, offset: number, le: boolean): Entry[] | undefined {
  if (offset < 8 || offset + 2 > tiff.length) return undefined;
  const count = le ? tiff.readUInt16LE(offset) : tiff.readUInt16BE(offset);
  if (count > MAX_ENTRIES) return undefined;
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const at = offset + 2 + i * 12;
    if (at + 12 > tiff.length) break;
    const u16 = (o: number): number => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
    const u32 = (o: number): number => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
    const tag = u16(at);
    const type = u16(at + 2);
    const n = u32(at + 4);
    const size = (TYPE_SIZES[type] ?? 0) * n;
    const valueOffset = size <= 4 ? at + 8 : u32(at + 8);
    if (size === 0 || valueOffset + size > tiff.length) continue;
    entries.push({ tag, type, count: n, valueOffset });
  }
  return entries;
}

export interface ExifText {
  /** The Exif IFD's UserComment, else IFD0's (where Fooocus's Pillow writes it). */
  userComment?: string;
  imageDescription?: string;
  make?: string;
  model?: string;
  software?: string;
  makerNote?: string;
}

/**
 * Reads the text tags tools keep their settings in from an EXIF block (with or without the
 * `Exif\0\0` prefix).
 */
export function readExifText(exif: Uint8Array): ExifText | undefined {
  let tiff = Buffer.from(exif.buffer, exif.byteOffset, exif.byteLength);
  if (tiff.subarray(0, 6).equals(EXIF_HEADER)) tiff = tiff.subarray(6);
  if (tiff.length < 8) return undefined;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const le = order === 'II';
  if ((le ? tiff.readUInt16LE(2) : tiff.readUInt16BE(2)) !== 42) return undefined;
  const ifd0 = readIfd(tiff, le ? tiff.readUInt32LE(4) : tiff.readUInt32BE(4), le);
  if (!ifd0) return undefined;
  const bytesOf = (e: Entry): Buffer => tiff.subarray(e.valueOffset, e.valueOffset + e.count * (TYPE_SIZES[e.type] ?? 0));
  /** An ASCII tag's text (UTF-8 in practice), or an UNDEFINED one's bytes as text. */
  const text = (entries: readonly Entry[], tag: number): string | undefined => {
    const e = entries.find((x) => x.tag === tag && (x.type === TYPE_ASCII || x.type === 7));
    return e ? withoutTrailingNuls(bytesOf(e).toString('utf8')) : undefined;
  };
  const comment = (entries: readonly Entry[]): string | undefined => {
    const e = entries.find((x) => x.tag === TAG_USER_COMMENT);
    if (!e) return undefined;
    // Pillow writes a str it is given as ASCII, without the character-code prefix.
    return e.type === TYPE_ASCII ? withoutTrailingNuls(bytesOf(e).toString('utf8')) : decodeUserComment(bytesOf(e), le);
  };
  const pointer = ifd0.find((e) => e.tag === TAG_EXIF_IFD && (e.type === 4 || e.type === 13));
  const exifIfd = pointer ? readIfd(tiff, le ? tiff.readUInt32LE(pointer.valueOffset) : tiff.readUInt32BE(pointer.valueOffset), le) : undefined;
  const out: ExifText = {};
  const found: Array<[keyof ExifText, string | undefined]> = [
    ['userComment', (exifIfd && comment(exifIfd)) ?? comment(ifd0)],
    ['imageDescription', text(ifd0, TAG_IMAGE_DESCRIPTION)],
    ['make', text(ifd0, TAG_MAKE)],
    ['model', text(ifd0, TAG_MODEL)],
    ['software', text(ifd0, TAG_SOFTWARE)],
    ['makerNote', (exifIfd && text(exifIfd, TAG_MAKER_NOTE)) ?? text(ifd0, TAG_MAKER_NOTE)],
  ];
  for (const [key, value] of found) if (value !== undefined) out[key] = value;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** EXIF UserComment: an 8-byte character-code prefix, then the text. */
export function decodeUserComment(value: Buffer, littleEndianTiff = false): string | undefined {
  if (value.length < 8) return undefined;
  const prefix = value.toString('latin1', 0, 8);
  const body = value.subarray(8);
  if (prefix === 'UNICODE\0') {
    let bytes = body;
    let le = littleEndianTiff;
    if (bytes[0] === 0xfe && bytes[1] === 0xff) {
      bytes = bytes.subarray(2);
      le = false;
    } else if (bytes[0] === 0xff && bytes[1] === 0xfe) {
      bytes = bytes.subarray(2);
      le = true;
    } else {
      // No byte-order mark: the order that makes more ASCII wins (piexif writes big-endian even
      // though the spec implies the TIFF's order).
      const little = asciiScore(bytes, true);
      const big = asciiScore(bytes, false);
      if (little !== big) le = little > big;
    }
    const even = bytes.subarray(0, bytes.length - (bytes.length % 2));
    const text = le ? Buffer.from(even).toString('utf16le') : Buffer.from(even).swap16().toString('utf16le');
    return withoutTrailingNuls(text);
  }
  if (prefix === 'ASCII\0\0\0' || prefix === '\0\0\0\0\0\0\0\0') return withoutTrailingNuls(body.toString('utf8'));
  if (prefix.startsWith('JIS')) return undefined;
  // No known prefix: some writers store the bare text.
  return withoutTrailingNuls(value.toString('utf8'));
}

function asciiScore(bytes: Buffer, le: boolean): number {
  let score = 0;
  for (let i = 0; i + 1 < bytes.length && i < 512; i += 2) {
    const lo = le ? bytes[i]! : bytes[i + 1]!;
    const hi = le ? bytes[i + 1]! : bytes[i]!;
    if (hi === 0 && lo >= 0x09 && lo < 0x7f) score++;
  }
  return score;
}

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/giu, (all, entity: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    const lower = entity.toLowerCase();
    if (lower in named) return named[lower]!;
    const code = lower.startsWith('#x') ? parseInt(lower.slice(2), 16) : parseInt(lower.slice(1), 10);
    return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
  });
}

/**
 * The text after the first match of `open` up to the first match of `close` after it, or undefined.
 * The same as the lazy `open([\s\S]*?)close` regex (when the first opening has no closing after it,
 * no later one has), in one pass: that regex retries from every opening and scans to the end of
 * the text each time, so 40,000 unclosed openings took 14 s.
 */
function between(text: string, open: RegExp, close: RegExp): string | undefined {
  const opened = open.exec(text);
  if (!opened) return undefined;
  const start = opened.index + opened[0].length;
  close.lastIndex = start;
  const closed = close.exec(text);
  return closed ? text.slice(start, closed.index) : undefined;
}

/**
 * A1111-style parameters from an XMP packet: `exif:UserComment` (as rdf:Alt/li or plain element)
 * or a `*:parameters` attribute/element, as some tools write them.
 */
export function readXmpParameters(xmp: string): string | undefined {
  const text = xmp.length > 4_000_000 ? xmp.slice(0, 4_000_000) : xmp;
  const found = [
    () => between(text, /<exif:UserComment>\s*<rdf:Alt>\s*<rdf:li[^>]*>/u, /<\/rdf:li>/gu),
    () => /<exif:UserComment>([^<]+)<\/exif:UserComment>/u.exec(text)?.[1],
    () => between(text, /<[\w-]+:parameters>/u, /<\/[\w-]+:parameters>/gu),
    () => /\s[\w-]+:parameters\s*=\s*"([^"]*)"/u.exec(text)?.[1],
  ];
  for (const find of found) {
    const value = find();
    if (value !== undefined && value.trim() !== '') return unescapeXml(value);
  }
  return undefined;
}
