/**
 * The zip container of PyTorch archives (torch.save ≥ 1.6), read from its central directory and
 * the local headers of its entries — never by extracting it. Facts from PKWARE's APPNOTE.TXT
 * (6.3.x: end of central directory, zip64 end record and locator, central and local headers, the
 * zip64 extended-information extra field 0x0001) and from what torch's writer (miniz) produces:
 * stored entries, data 64-byte aligned by an "FB" padding extra field, sizes in data descriptors
 * (general-purpose flag bit 3), and a zip64 end record even in small archives.
 *
 * Nothing here trusts the file: the end record must be where it says, the directory inside the
 * file and right before its end, every entry's header and bytes inside the file, before the
 * directory, and apart from every other entry; entry counts, directory size and name lengths are
 * bounded before anything is allocated, so a crafted archive ("zip bomb": enormous declared sizes,
 * 100k entries, entries sharing bytes) is refused in one sentence, as is a cut one.
 *
 * Reading is written once as a plan — a generator that yields the byte ranges it needs and receives
 * their bytes — and run by a synchronous or an asynchronous driver (`runReadPlanSync`/`Async`).
 */
import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { crc32, inflateRawSync } from 'node:zlib';
import { WeightFileError } from './errors.ts';

/** A model archive has a few thousand entries at most; 65,535 is the most a zip holds without zip64. */
export const MAX_ZIP_ENTRIES = 65_535;
/** Entries of at most 1 KB names: 65,535 of them fit in well under this. */
export const MAX_CENTRAL_DIRECTORY_BYTES = 64 * 1024 * 1024;
export const MAX_ENTRY_NAME_BYTES = 1024;

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_BYTES = 22;
const ZIP64_EOCD_BYTES = 56;
const ZIP64_LOCATOR_BYTES = 20;
const CENTRAL_BYTES = 46;
const LOCAL_BYTES = 30;
const MAX_COMMENT = 0xffff;

export const ZIP_STORED = 0;
export const ZIP_DEFLATED = 8;

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
  /** Absolute offset of the entry's first data byte (after its local header). */
  readonly dataOffset: number;
}

export interface ZipDirectory {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  /** Entries in directory order. */
  readonly order: readonly ZipEntry[];
  readonly centralDirectoryOffset: number;
  readonly zip64: boolean;
}

export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

/** A reading procedure: yields the ranges it needs, receives their bytes (shorter if the file ends). */
export type ReadPlan<T> = Generator<ByteRange, T, Uint8Array>;

export function runReadPlanSync<T>(plan: ReadPlan<T>, fd: number): T {
  let step = plan.next();
  while (!step.done) {
    const { offset, length } = step.value;
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buffer, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    step = plan.next(buffer.subarray(0, done));
  }
  return step.value;
}

export async function runReadPlanAsync<T>(plan: ReadPlan<T>, handle: FileHandle): Promise<T> {
  let step = plan.next();
  while (!step.done) {
    const { offset, length } = step.value;
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    step = plan.next(buffer.subarray(0, done));
  }
  return step.value;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A u64 as a number, or a sentence when it cannot be an offset in any real file. */
function u64(dv: DataView, at: number, file: string, what: string): number {
  const value = dv.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw damaged(file, `its ${what} is ${value}, larger than any file`);
  return Number(value);
}

function damaged(file: string, detail: string): WeightFileError {
  return new WeightFileError('corrupt', `${file} is not a readable PyTorch archive: ${detail}; the file is damaged or was not written by torch.save`);
}

function bomb(file: string, detail: string): WeightFileError {
  return new WeightFileError('unsafe', `${file} was not opened: ${detail}, which no model file does (a damaged file or a "zip bomb" built to exhaust memory or disk)`);
}

export function truncatedArchive(file: string, size: number): WeightFileError {
  return new WeightFileError(
    'truncated',
    `${file} is truncated: the end of its zip archive (the central directory) is missing after ${size} bytes — an interrupted download or copy? Download or copy it again.`,
  );
}

/** `yield* need(...)`: the bytes of a range, or a sentence when the file ends before it. */
function* need(range: ByteRange, file: string, size: number): ReadPlan<Uint8Array> {
  const bytes = yield range;
  if (bytes.length !== range.length) throw truncatedArchive(file, size);
  return bytes;
}

function checkName(file: string, raw: Uint8Array, utf8: boolean): string {
  let name: string;
  try {
    name = new TextDecoder(utf8 ? 'utf-8' : 'latin1', { fatal: true }).decode(raw);
  } catch {
    throw damaged(file, 'an entry name is not valid text');
  }
  const printable = name.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
  if (name.length === 0 || name.includes('\0') || name.includes('\\') || name.startsWith('/') || /^[A-Za-z]:/.test(name)) {
    throw damaged(file, `it has an entry named "${printable}", which is not a relative path`);
  }
  const segments = name.split('/');
  if (segments.some((s, i) => s === '..' || s === '.' || (s === '' && i !== segments.length - 1))) {
    throw damaged(file, `it has an entry named "${printable}", which leaves or repeats its folder`);
  }
  return name;
}

interface CentralRecord {
  name: string;
  rawName: Uint8Array;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/** The zip64 extended-information field fills in, in order, the fields saturated at 0xFFFFFFFF. */
function applyZip64Extra(file: string, extra: Uint8Array, record: { size: number; compressedSize: number; localHeaderOffset: number }, saturated: { size: boolean; compressed: boolean; offset: boolean }): void {
  const dv = view(extra);
  let at = 0;
  while (at + 4 <= extra.length) {
    const id = dv.getUint16(at, true);
    const length = dv.getUint16(at + 2, true);
    if (at + 4 + length > extra.length) throw damaged(file, 'an entry has a malformed extra field');
    if (id === 0x0001) {
      let p = at + 4;
      const take = (what: string): number => {
        if (p + 8 > at + 4 + length) throw damaged(file, `an entry's zip64 field lacks its ${what}`);
        const v = u64(dv, p, file, what);
        p += 8;
        return v;
      };
      if (saturated.size) record.size = take('size');
      if (saturated.compressed) record.compressedSize = take('compressed size');
      if (saturated.offset) record.localHeaderOffset = take('header offset');
      return;
    }
    at += 4 + length;
  }
  if (saturated.size || saturated.compressed || saturated.offset) throw damaged(file, 'an entry needs a zip64 field it does not have');
}

/**
 * Reads and validates the directory of a zip archive of `size` bytes: end record (zip64 when
 * present), central directory, and the local header of every entry (for its data offset).
 */
export function* readZipDirectory(file: string, size: number): ReadPlan<ZipDirectory> {
  if (size < EOCD_BYTES) throw truncatedArchive(file, size);
  // The end record is the last 22 bytes plus a comment of up to 65,535 bytes; a zip64 locator and
  // end record come right before it.
  const tailLength = Math.min(size, EOCD_BYTES + MAX_COMMENT + ZIP64_LOCATOR_BYTES + ZIP64_EOCD_BYTES);
  const tailStart = size - tailLength;
  const tail = yield* need({ offset: tailStart, length: tailLength }, file, size);
  const tv = view(tail);
  let eocd = -1;
  for (let at = tail.length - EOCD_BYTES; at >= 0 && at >= tail.length - EOCD_BYTES - MAX_COMMENT; at--) {
    if (tv.getUint32(at, true) === EOCD_SIGNATURE && at + EOCD_BYTES + tv.getUint16(at + 20, true) === tail.length) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw truncatedArchive(file, size);
  if (tv.getUint16(eocd + 4, true) !== 0 || tv.getUint16(eocd + 6, true) !== 0) throw damaged(file, 'it is one part of a multi-part (spanned) zip archive');

  let entryCount = tv.getUint16(eocd + 10, true);
  let directorySize = tv.getUint32(eocd + 12, true);
  let directoryOffset = tv.getUint32(eocd + 16, true);
  /** Where the directory must end: the zip64 end record when there is one, else the end record. */
  let directoryEnd = tailStart + eocd;
  let zip64 = false;
  const locator = eocd - ZIP64_LOCATOR_BYTES;
  if (locator >= 0 && tv.getUint32(locator, true) === ZIP64_LOCATOR_SIGNATURE) {
    zip64 = true;
    if (tv.getUint32(locator + 4, true) !== 0 || tv.getUint32(locator + 16, true) > 1) throw damaged(file, 'it is one part of a multi-part (spanned) zip archive');
    const recordOffset = u64(tv, locator + 8, file, 'zip64 end record offset');
    if (recordOffset + ZIP64_EOCD_BYTES > tailStart + locator) throw damaged(file, 'its zip64 end record is not before its end');
    const record = view(yield* need({ offset: recordOffset, length: ZIP64_EOCD_BYTES }, file, size));
    if (record.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE) throw damaged(file, 'its zip64 end record is missing');
    if (record.getUint32(16, true) !== 0 || record.getUint32(20, true) !== 0) throw damaged(file, 'it is one part of a multi-part (spanned) zip archive');
    const count64 = record.getBigUint64(32, true);
    if (count64 > BigInt(MAX_ZIP_ENTRIES)) throw bomb(file, `its zip directory claims ${count64} entries (a model archive has a few thousand at most)`);
    entryCount = Number(count64);
    directorySize = u64(record, 40, file, 'central directory size');
    directoryOffset = u64(record, 48, file, 'central directory offset');
    directoryEnd = recordOffset;
  }
  if (entryCount > MAX_ZIP_ENTRIES) throw bomb(file, `its zip directory claims ${entryCount} entries (a model archive has a few thousand at most)`);
  if (directorySize > MAX_CENTRAL_DIRECTORY_BYTES) throw bomb(file, `its zip directory claims ${directorySize} bytes`);
  if (directoryOffset + directorySize !== directoryEnd) {
    if (directoryOffset + directorySize > directoryEnd) throw damaged(file, 'its central directory runs past the end of the archive');
    throw damaged(file, 'its central directory is not where its end record says');
  }
  if (directorySize < entryCount * CENTRAL_BYTES) throw damaged(file, `its central directory is too small for the ${entryCount} entries it claims`);

  const directory = yield* need({ offset: directoryOffset, length: directorySize }, file, size);
  const dv = view(directory);
  const records: CentralRecord[] = [];
  let at = 0;
  for (let i = 0; i < entryCount; i++) {
    if (at + CENTRAL_BYTES > directory.length || dv.getUint32(at, true) !== CENTRAL_SIGNATURE) throw damaged(file, `its central directory ends before entry ${i + 1} of ${entryCount}`);
    const flags = dv.getUint16(at + 8, true);
    const nameLength = dv.getUint16(at + 28, true);
    const extraLength = dv.getUint16(at + 30, true);
    const commentLength = dv.getUint16(at + 32, true);
    const end = at + CENTRAL_BYTES + nameLength + extraLength + commentLength;
    if (end > directory.length) throw damaged(file, `its central directory ends inside entry ${i + 1}`);
    if (nameLength > MAX_ENTRY_NAME_BYTES) throw bomb(file, `an entry name is ${nameLength} bytes long`);
    if (flags & 0x41) throw new WeightFileError('unsupported', `${file} is an encrypted zip archive, which the studio cannot read`);
    if (dv.getUint16(at + 34, true) !== 0 && dv.getUint16(at + 34, true) !== 0xffff) throw damaged(file, 'it is one part of a multi-part (spanned) zip archive');
    const rawName = directory.subarray(at + CENTRAL_BYTES, at + CENTRAL_BYTES + nameLength);
    const record = {
      compressedSize: dv.getUint32(at + 20, true),
      size: dv.getUint32(at + 24, true),
      localHeaderOffset: dv.getUint32(at + 42, true),
    };
    applyZip64Extra(file, directory.subarray(at + CENTRAL_BYTES + nameLength, at + CENTRAL_BYTES + nameLength + extraLength), record, {
      size: record.size === 0xffffffff,
      compressed: record.compressedSize === 0xffffffff,
      offset: record.localHeaderOffset === 0xffffffff,
    });
    records.push({
      name: checkName(file, rawName, (flags & 0x800) !== 0),
      rawName,
      method: dv.getUint16(at + 10, true),
      crc32: dv.getUint32(at + 16, true),
      ...record,
    });
    at = end;
  }
  if (at !== directory.length) throw damaged(file, `its central directory holds more than the ${entryCount} entries it claims`);

  const entries = new Map<string, ZipEntry>();
  const order: ZipEntry[] = [];
  for (const r of records) {
    if (entries.has(r.name)) throw damaged(file, `it has two entries named "${r.name}"`);
    if (r.method !== ZIP_STORED && r.method !== ZIP_DEFLATED) {
      throw new WeightFileError('unsupported', `${file}: its entry "${r.name}" is compressed with method ${r.method}, which the studio cannot read`);
    }
    if (r.method === ZIP_STORED && r.compressedSize !== r.size) throw damaged(file, `its stored entry "${r.name}" has two different sizes`);
    if (r.localHeaderOffset + LOCAL_BYTES > directoryOffset) throw damaged(file, `its entry "${r.name}" starts outside the archive's data`);
    const header = yield* need({ offset: r.localHeaderOffset, length: LOCAL_BYTES + r.rawName.length }, file, size);
    const hv = view(header);
    if (hv.getUint32(0, true) !== LOCAL_SIGNATURE) throw damaged(file, `its entry "${r.name}" has no local header where the directory says`);
    const localName = header.subarray(LOCAL_BYTES);
    if (hv.getUint16(26, true) !== r.rawName.length || !Buffer.from(localName).equals(Buffer.from(r.rawName))) {
      throw damaged(file, `its entry "${r.name}" has another name in its local header`);
    }
    if (hv.getUint16(8, true) !== r.method) throw damaged(file, `its entry "${r.name}" has two different compression methods`);
    const localFlags = hv.getUint16(6, true);
    const localCompressed = hv.getUint32(18, true);
    const localSize = hv.getUint32(22, true);
    // Without a data descriptor (flag bit 3) the local sizes are real and must agree.
    if (!(localFlags & 0x8) && localCompressed !== 0xffffffff && (localCompressed !== r.compressedSize || localSize !== r.size)) {
      throw damaged(file, `its entry "${r.name}" has different sizes in its local header and its directory`);
    }
    const dataOffset = r.localHeaderOffset + LOCAL_BYTES + r.rawName.length + hv.getUint16(28, true);
    if (dataOffset + r.compressedSize > directoryOffset) {
      if (dataOffset + r.compressedSize > size) throw bomb(file, `its entry "${r.name}" claims ${r.compressedSize} bytes, more than the whole ${size}-byte file`);
      throw damaged(file, `its entry "${r.name}" runs into the central directory`);
    }
    const entry: ZipEntry = {
      name: r.name,
      method: r.method,
      crc32: r.crc32,
      compressedSize: r.compressedSize,
      size: r.size,
      localHeaderOffset: r.localHeaderOffset,
      dataOffset,
    };
    entries.set(r.name, entry);
    order.push(entry);
  }
  // No two entries may share bytes: overlapping entries are how the worst zip bombs multiply data.
  const spans = [...order].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  for (let i = 1; i < spans.length; i++) {
    const prev = spans[i - 1]!;
    const cur = spans[i]!;
    if (cur.localHeaderOffset < prev.dataOffset + prev.compressedSize) throw bomb(file, `its entries "${prev.name}" and "${cur.name}" overlap`);
  }
  return { entries, order, centralDirectoryOffset: directoryOffset, zip64 };
}

/**
 * The bytes of a small entry (a pickle, a version record), inflated if deflated, checked against
 * its declared size (refused before reading when over `maxBytes`) and its CRC-32.
 */
export function* readZipEntry(file: string, size: number, entry: ZipEntry, maxBytes: number): ReadPlan<Uint8Array> {
  if (entry.size > maxBytes || entry.compressedSize > maxBytes) {
    throw bomb(file, `its entry "${entry.name}" claims ${Math.max(entry.size, entry.compressedSize)} bytes where at most ${maxBytes} are expected`);
  }
  const stored = yield* need({ offset: entry.dataOffset, length: entry.compressedSize }, file, size);
  let bytes: Uint8Array = stored;
  if (entry.method === ZIP_DEFLATED) {
    try {
      // Never more than the declared size is inflated: a stream that would expand past it stops here.
      bytes = inflateRawSync(stored, { maxOutputLength: Math.max(entry.size, 1) });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || /Cannot create a Buffer larger|maxOutputLength/i.test((e as Error).message)) {
        throw bomb(file, `its entry "${entry.name}" expands past the ${entry.size} bytes it declares`);
      }
      throw damaged(file, `its entry "${entry.name}" cannot be decompressed`);
    }
    if (bytes.length !== entry.size) throw damaged(file, `its entry "${entry.name}" decompresses to ${bytes.length} bytes where it declares ${entry.size}`);
  }
  if (crc32(bytes) >>> 0 !== entry.crc32 >>> 0) throw damaged(file, `its entry "${entry.name}" fails its checksum`);
  return bytes;
}
