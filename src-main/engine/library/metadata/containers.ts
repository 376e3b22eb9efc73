/**
 * The structure of JPEG, WebP and MP4 files, walked header by header before any decoder or ffprobe
 * sees them, so a file built to cost memory or time is refused for a few reads:
 *
 *  - JPEG: the marker segments before the first scan. libjpeg keeps every APPn segment it is asked
 *    to save (libvips asks for EXIF, XMP, ICC, IPTC), so 64 MB of APP1 segments cost ~200 MB.
 *  - WebP: the RIFF chunks; EXIF, XMP and ICC chunks are copied whole into the decoder's metadata.
 *  - MP4: the ISO BMFF box tree (structural boxes only: moov, trak, mdia, minf, stbl, …). Sizes must
 *    fit their parent, so a cut-off download (an mdat that runs past the end) is caught here, and
 *    a box tree nested or repeated without end is refused before ffprobe walks it.
 *
 * Each walk advances by at least one header per step and stops at a fixed number of blocks.
 */
import type { FileHandle } from 'node:fs/promises';
import { MediaRejected } from './rejected.ts';

export interface ContainerLimits {
  /** Blocks (segments, chunks, boxes) that are not image or sample data. */
  readonly maxMetadataBlocks: number;
  /** Bytes of metadata (JPEG APPn/COM, WebP EXIF/XMP/ICCP) per file. */
  readonly maxMetadataBytes: number;
  /** Blocks of any kind (WebP animation frames, MP4 boxes). */
  readonly maxBlocks: number;
  /** Nesting of MP4 container boxes. */
  readonly maxDepth: number;
}

const WINDOW = 64 * 1024;

/** Small reads at increasing offsets, served from one 64 KB window. */
export class Reader {
  private window = Buffer.alloc(0);
  private windowAt = 0;
  private readonly handle: FileHandle;
  readonly size: number;

  constructor(handle: FileHandle, size: number) {
    this.handle = handle;
    this.size = size;
  }

  /** Up to `length` (≤ 64 KB) bytes at `at`; fewer at the end of the file. */
  async bytes(at: number, length: number): Promise<Buffer> {
    if (at >= this.windowAt && at + length <= this.windowAt + this.window.length) {
      return this.window.subarray(at - this.windowAt, at - this.windowAt + length);
    }
    const n = Math.max(0, Math.min(WINDOW, this.size - at));
    const buf = Buffer.alloc(n);
    const { bytesRead } = await this.handle.read(buf, 0, n, at);
    this.window = buf.subarray(0, bytesRead);
    this.windowAt = at;
    return this.window.subarray(0, Math.min(length, bytesRead));
  }
}

const MB = 1024 * 1024;

function mb(bytes: number): string {
  return bytes >= MB ? `${Math.round(bytes / MB)} MB` : `${bytes} bytes`;
}

const STRIP_HINT = 'if you trust the file, remove its metadata (exiftool -all= FILE) and import it again';

function tooMuchMetadata(name: string, what: string): MediaRejected {
  return new MediaRejected('too-large', `${name} ${what} (no image or video tool writes that; a file built to exhaust memory, or damaged); ${STRIP_HINT}; skipped`);
}

function cutOff(name: string, detail: string): MediaRejected {
  return new MediaRejected('truncated', `${name} is truncated: ${detail}; the file was cut off, copy or download it again; skipped`);
}

function corrupt(name: string, detail: string): MediaRejected {
  return new MediaRejected('unreadable', `${name} is damaged: ${detail}; open and re-save it in the program that made it, or copy it again; skipped`);
}

// ---------------------------------------------------------------------------------------------
// JPEG

/** Fill bytes (0xFF) allowed between segments; real files have a handful. */
const MAX_JPEG_FILL = 65_536;

/** Walks the segments from SOI to the first scan (SOS), counting metadata. */
export async function checkJpegSegments(handle: FileHandle, size: number, name: string, limits: ContainerLimits): Promise<void> {
  const r = new Reader(handle, size);
  let at = 2;
  let segments = 0;
  let metadata = 0;
  let fill = 0;
  for (;;) {
    const head = await r.bytes(at, 4);
    if (head.length < 2) throw cutOff(name, `it ends at byte ${size} before its image data`);
    if (head[0] !== 0xff) throw corrupt(name, `byte ${at} should start a JPEG marker`);
    const marker = head[1]!;
    if (marker === 0xff) {
      if (++fill > MAX_JPEG_FILL) throw corrupt(name, `it has more than ${MAX_JPEG_FILL} fill bytes between segments`);
      at++;
      continue;
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    if (marker === 0xd9) throw corrupt(name, 'it ends (EOI) before any image data');
    if (head.length < 4) throw cutOff(name, `it ends at byte ${size} inside a segment header`);
    const length = head.readUInt16BE(2);
    if (length < 2) throw corrupt(name, `the segment at byte ${at} declares an impossible length ${length}`);
    const end = at + 2 + length;
    if (end > size) throw cutOff(name, `the segment at byte ${at} needs ${length + 2} bytes but the file ends at byte ${size}`);
    if (++segments > limits.maxMetadataBlocks) throw tooMuchMetadata(name, `has more than ${limits.maxMetadataBlocks} segments before its image data`);
    if ((marker >= 0xe0 && marker <= 0xef) || marker === 0xfe) {
      metadata += length - 2;
      if (metadata > limits.maxMetadataBytes) throw tooMuchMetadata(name, `carries more than ${mb(limits.maxMetadataBytes)} of metadata segments`);
    }
    if (marker === 0xda) return; // the scan: the decoder checks the rest
    at = end;
  }
}

// ---------------------------------------------------------------------------------------------
// WebP

const WEBP_IMAGE_CHUNKS = new Set(['VP8 ', 'VP8L', 'VP8X', 'ALPH', 'ANIM', 'ANMF']);
const WEBP_METADATA_CHUNKS = new Set(['EXIF', 'XMP ', 'ICCP']);

/** Walks the RIFF chunks of a WebP (the caller has checked the RIFF size against the file). */
export async function checkWebpChunks(handle: FileHandle, size: number, name: string, limits: ContainerLimits): Promise<void> {
  const r = new Reader(handle, size);
  const riffEnd = Math.min(size, (await r.bytes(4, 4)).readUInt32LE(0) + 8);
  let at = 12;
  let chunks = 0;
  let other = 0;
  let metadata = 0;
  while (at + 8 <= riffEnd) {
    const head = await r.bytes(at, 8);
    const fourcc = head.toString('latin1', 0, 4);
    const length = head.readUInt32LE(4);
    const end = at + 8 + length + (length % 2);
    if (at + 8 + length > riffEnd) throw cutOff(name, `its ${JSON.stringify(fourcc)} chunk at byte ${at} runs past the end of the file`);
    if (++chunks > limits.maxBlocks) throw tooMuchMetadata(name, `has more than ${limits.maxBlocks} chunks`);
    if (!WEBP_IMAGE_CHUNKS.has(fourcc) && ++other > limits.maxMetadataBlocks) {
      throw tooMuchMetadata(name, `has more than ${limits.maxMetadataBlocks} chunks that are not image data`);
    }
    if (WEBP_METADATA_CHUNKS.has(fourcc)) {
      metadata += length;
      if (metadata > limits.maxMetadataBytes) throw tooMuchMetadata(name, `carries more than ${mb(limits.maxMetadataBytes)} of EXIF, XMP and colour-profile data`);
    }
    at = end;
  }
  if (chunks === 0) throw corrupt(name, 'the WebP holds no image chunk');
}

// ---------------------------------------------------------------------------------------------
// MP4 (ISO BMFF)

/** Boxes whose payload is a list of boxes that matter for reading the file's facts. */
const MP4_CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts', 'dinf', 'mvex', 'moof', 'traf', 'mfra']);

/**
 * Walks the box tree: every size must fit inside its parent (at the top level, inside the file),
 * containers nest at most `maxDepth` deep, and there are at most `maxBlocks` boxes. The file must
 * have a movie box (`moov`); a recording cut off before it was finished has none.
 */
export async function checkMp4Boxes(handle: FileHandle, size: number, name: string, limits: ContainerLimits): Promise<void> {
  const r = new Reader(handle, size);
  let boxes = 0;
  let movie = false;
  const walk = async (start: number, end: number, depth: number, parent: string | null): Promise<void> => {
    let at = start;
    while (at + 8 <= end) {
      const head = await r.bytes(at, 16);
      let length = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      // Zero padding after the last box (some recorders leave it): nothing more to read.
      if (parent === null && length === 0 && type === '\0\0\0\0') break;
      if (!/^[\x20-\x7e\xa9]{4}$/.test(type)) throw corrupt(name, `byte ${at} should start a box but holds no box type`);
      let header = 8;
      if (length === 1) {
        if (head.length < 16) throw cutOff(name, `its ${JSON.stringify(type)} box at byte ${at} ends inside its header`);
        const large = head.readBigUInt64BE(8);
        if (large > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(name, `its ${JSON.stringify(type)} box at byte ${at} declares an impossible size`);
        length = Number(large);
        header = 16;
      } else if (length === 0) {
        // "Extends to the end of the file": allowed for the last box at the top level only.
        if (parent !== null) throw corrupt(name, `its ${JSON.stringify(type)} box at byte ${at} inside ${parent} has no size`);
        length = end - at;
      }
      if (length < header) throw corrupt(name, `its ${JSON.stringify(type)} box at byte ${at} declares a size of ${length} bytes, smaller than its own header`);
      if (at + length > end) {
        if (parent === null) throw cutOff(name, `its ${JSON.stringify(type)} box at byte ${at} needs ${length} bytes but the file ends at byte ${size}`);
        throw corrupt(name, `its ${JSON.stringify(type)} box at byte ${at} runs past the end of the ${parent} box that holds it`);
      }
      if (++boxes > limits.maxBlocks) throw tooMuchMetadata(name, `has more than ${limits.maxBlocks} boxes`);
      if (parent === null && type === 'moov') movie = true;
      if (MP4_CONTAINERS.has(type)) {
        if (depth + 1 > limits.maxDepth) throw corrupt(name, `its boxes are nested more than ${limits.maxDepth} deep`);
        await walk(at + header, at + length, depth + 1, type);
      }
      at += length;
    }
  };
  await walk(0, size, 0, null);
  if (!movie) throw cutOff(name, 'it has no movie header (moov box), which a recording gets when it is finished');
}
