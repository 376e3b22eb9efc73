/**
 * Reading GGUF headers (llama.cpp's single-file model format, version 3; ggml `docs/gguf.md`):
 *
 *   u32 magic "GGUF" · u32 version · u64 tensor count · u64 metadata count
 *   metadata: (string key, u32 value type, value)*       strings are u64 length + UTF-8 bytes
 *   tensor infos: (string name, u32 n_dims, u64 dims[n_dims], u32 ggml type, u64 offset)*
 *   padding to `general.alignment` (default 32), then the tensor data; offsets are relative to it
 *
 * Headers first, bytes later: the whole header is read and checked — counts and string lengths
 * bounded, every value type and ggml type known, every tensor's bytes inside the file, aligned and
 * not overlapping another's — before anything uses the file. Large arrays (a 150k-token vocabulary
 * and its merges) are kept only when asked for; otherwise their type and length are. A file that
 * fails says why in one sentence a user can act on. Nothing here runs a model.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { WeightFileError } from './errors.ts';

export const GGUF_MAGIC = 'GGUF';
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Bounds well above any real model (a 671B MoE has ~1.1k tensors; vocabularies are < 300k tokens). */
export const MAX_GGUF_TENSORS = 65_536;
export const MAX_GGUF_METADATA = 65_536;
export const MAX_GGUF_STRING_BYTES = 16 * 1024 * 1024;
export const MAX_GGUF_ARRAY_LENGTH = 16 * 1024 * 1024;
export const MAX_GGUF_HEADER_BYTES = 512 * 1024 * 1024;

/** GGUF metadata value types (gguf.md "gguf_metadata_value_type"). */
export const GGUF_VALUE_TYPES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64'] as const;
export type GgufValueType = (typeof GGUF_VALUE_TYPES)[number];
const SCALAR_BYTES: Readonly<Partial<Record<GgufValueType, number>>> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, bool: 1, u64: 8, i64: 8, f64: 8 };

export interface GgufType {
  readonly name: string;
  /** Elements per block and bytes per block (ggml's type traits; gguf-py GGML_QUANT_SIZES). */
  readonly blockSize: number;
  readonly typeSize: number;
}

/** ggml tensor types by id (ggml.h `enum ggml_type`; ids 4, 5 and 31–33, 36–38 were removed upstream). */
export const GGML_TYPES: ReadonlyMap<number, GgufType> = new Map(
  (
    [
      [0, 'F32', 1, 4],
      [1, 'F16', 1, 2],
      [2, 'Q4_0', 32, 18],
      [3, 'Q4_1', 32, 20],
      [6, 'Q5_0', 32, 22],
      [7, 'Q5_1', 32, 24],
      [8, 'Q8_0', 32, 34],
      [9, 'Q8_1', 32, 40],
      [10, 'Q2_K', 256, 84],
      [11, 'Q3_K', 256, 110],
      [12, 'Q4_K', 256, 144],
      [13, 'Q5_K', 256, 176],
      [14, 'Q6_K', 256, 210],
      [15, 'Q8_K', 256, 292],
      [16, 'IQ2_XXS', 256, 66],
      [17, 'IQ2_XS', 256, 74],
      [18, 'IQ3_XXS', 256, 98],
      [19, 'IQ1_S', 256, 50],
      [20, 'IQ4_NL', 32, 18],
      [21, 'IQ3_S', 256, 110],
      [22, 'IQ2_S', 256, 82],
      [23, 'IQ4_XS', 256, 136],
      [24, 'I8', 1, 1],
      [25, 'I16', 1, 2],
      [26, 'I32', 1, 4],
      [27, 'I64', 1, 8],
      [28, 'F64', 1, 8],
      [29, 'IQ1_M', 256, 56],
      [30, 'BF16', 1, 2],
      [34, 'TQ1_0', 256, 54],
      [35, 'TQ2_0', 256, 66],
      [39, 'MXFP4', 32, 17],
    ] as const
  ).map(([id, name, blockSize, typeSize]) => [id, { name, blockSize, typeSize }]),
);

export const GGML_TYPE_ID: Readonly<Record<string, number>> = Object.fromEntries([...GGML_TYPES].map(([id, t]) => [t.name, id]));

/** llama.cpp's `general.file_type` (enum llama_ftype): how the file was quantised, as its file names say it. */
export const GGUF_FILE_TYPES: ReadonlyMap<number, string> = new Map([
  [0, 'F32'],
  [1, 'F16'],
  [2, 'Q4_0'],
  [3, 'Q4_1'],
  [7, 'Q8_0'],
  [8, 'Q5_0'],
  [9, 'Q5_1'],
  [10, 'Q2_K'],
  [11, 'Q3_K_S'],
  [12, 'Q3_K_M'],
  [13, 'Q3_K_L'],
  [14, 'Q4_K_S'],
  [15, 'Q4_K_M'],
  [16, 'Q5_K_S'],
  [17, 'Q5_K_M'],
  [18, 'Q6_K'],
  [19, 'IQ2_XXS'],
  [20, 'IQ2_XS'],
  [21, 'Q2_K_S'],
  [22, 'IQ3_XS'],
  [23, 'IQ3_XXS'],
  [24, 'IQ1_S'],
  [25, 'IQ4_NL'],
  [26, 'IQ3_S'],
  [27, 'IQ3_M'],
  [28, 'IQ2_S'],
  [29, 'IQ2_M'],
  [30, 'IQ4_XS'],
  [31, 'IQ1_M'],
  [32, 'BF16'],
  [36, 'TQ1_0'],
  [37, 'TQ2_0'],
  [38, 'MXFP4_MOE'],
]);

export type GgufScalar = number | bigint | boolean | string;

export interface GgufArray {
  readonly kind: 'array';
  readonly itemType: GgufValueType;
  readonly length: number;
  /** The items, or null when the array was longer than `keepArraysUpTo`. */
  readonly items: readonly GgufScalar[] | readonly GgufArray[] | null;
}

export type GgufValue = GgufScalar | GgufArray;

export interface GgufTensorInfo {
  readonly name: string;
  /** ggml order: ne[0] (the contiguous dimension) first — a torch [out, in] weight is [in, out] here. */
  readonly dims: readonly number[];
  readonly type: GgufType;
  readonly typeId: number;
  /** Absolute byte offset of the tensor's first byte in the file. */
  readonly offset: number;
  readonly bytes: number;
}

export interface GgufHeader {
  readonly path: string;
  readonly size: number;
  readonly version: number;
  readonly alignment: number;
  /** Absolute byte offset of the tensor data. */
  readonly dataStart: number;
  readonly metadata: ReadonlyMap<string, GgufValue>;
  readonly tensors: ReadonlyMap<string, GgufTensorInfo>;
}

export interface GgufReadOptions {
  /** Arrays up to this length keep their items (default 4096: hyperparameter lists yes, vocabularies no). */
  readonly keepArraysUpTo?: number;
  /** Bytes read at a time (default 1 MiB; tests use small ones to cross chunk edges everywhere). */
  readonly chunkBytes?: number;
}

/** Reads a file front to back in chunks, so a header of any size costs a few small reads. */
class HeaderReader {
  readonly fd: number;
  readonly size: number;
  readonly name: string;
  readonly chunk: number;
  #buf = Buffer.alloc(0);
  #bufStart = 0;
  pos = 0;

  constructor(fd: number, size: number, name: string, chunk: number) {
    this.fd = fd;
    this.size = size;
    this.name = name;
    this.chunk = chunk;
  }

  #ensure(n: number, what: string): void {
    if (this.pos + n > this.size) {
      throw new WeightFileError(
        'truncated',
        `${this.name} is cut short: its header needs ${what} past the end of the file (${this.size} bytes) — the download is incomplete; download it again`,
      );
    }
    if (this.pos >= this.#bufStart && this.pos + n <= this.#bufStart + this.#buf.length) return;
    const want = Math.min(Math.max(n, this.chunk), this.size - this.pos);
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const r = readSync(this.fd, buf, got, want - got, this.pos + got);
      if (r === 0) break;
      got += r;
    }
    if (got < n) throw new WeightFileError('truncated', `${this.name} ended while its header was being read — the download is incomplete; download it again`);
    this.#buf = buf.subarray(0, got);
    this.#bufStart = this.pos;
  }

  #at(n: number, what: string): number {
    this.#ensure(n, what);
    const at = this.pos - this.#bufStart;
    this.pos += n;
    if (this.pos > MAX_GGUF_HEADER_BYTES) {
      throw new WeightFileError('corrupt', `${this.name} has a GGUF header over ${MAX_GGUF_HEADER_BYTES / 1024 / 1024} MB, which no real model has: the file is damaged`);
    }
    return at;
  }

  // The offset first: `this.#buf.read…(this.#at(…))` would take the buffer before #at refills it.
  u8(what: string): number {
    const at = this.#at(1, what);
    return this.#buf.readUInt8(at);
  }
  u32(what: string): number {
    const at = this.#at(4, what);
    return this.#buf.readUInt32LE(at);
  }
  u64(what: string): bigint {
    const at = this.#at(8, what);
    return this.#buf.readBigUInt64LE(at);
  }
  /** A u64 that must fit a JS number (sizes, offsets, counts). */
  size64(what: string, max: number): number {
    const v = this.u64(what);
    if (v > BigInt(max)) throw new WeightFileError('corrupt', `${this.name} is damaged: ${what} is ${v}, more than the ${max} any real model has`);
    return Number(v);
  }
  bytes(n: number, what: string): Buffer {
    const at = this.#at(n, what);
    return this.#buf.subarray(at, at + n);
  }
  string(what: string): string {
    const n = this.size64(`the length of ${what}`, MAX_GGUF_STRING_BYTES);
    return this.bytes(n, what).toString('utf8');
  }
  scalar(type: GgufValueType, what: string): GgufScalar {
    switch (type) {
      case 'string':
        return this.string(what);
      case 'bool':
        return this.u8(what) !== 0;
      case 'u64':
      case 'i64': {
        const at = this.#at(8, what);
        const v = type === 'u64' ? this.#buf.readBigUInt64LE(at) : this.#buf.readBigInt64LE(at);
        return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      default: {
        const n = SCALAR_BYTES[type]!;
        const at = this.#at(n, what);
        const b = this.#buf;
        if (type === 'u8') return b.readUInt8(at);
        if (type === 'i8') return b.readInt8(at);
        if (type === 'u16') return b.readUInt16LE(at);
        if (type === 'i16') return b.readInt16LE(at);
        if (type === 'u32') return b.readUInt32LE(at);
        if (type === 'i32') return b.readInt32LE(at);
        if (type === 'f32') return b.readFloatLE(at);
        return b.readDoubleLE(at);
      }
    }
  }
  skipScalars(type: GgufValueType, count: number, what: string): void {
    if (type === 'string') {
      for (let i = 0; i < count; i++) this.string(what);
      return;
    }
    const n = SCALAR_BYTES[type]! * count;
    if (this.pos + n > this.size) this.#ensure(n, what);
    this.pos += n;
  }
}

function valueType(r: HeaderReader, what: string): GgufValueType {
  const id = r.u32(`the type of ${what}`);
  const type = GGUF_VALUE_TYPES[id];
  if (!type) throw new WeightFileError('corrupt', `${r.name} is damaged: ${what} has an unknown value type ${id}`);
  return type;
}

function readValue(r: HeaderReader, type: GgufValueType, what: string, keep: number, depth: number): GgufValue {
  if (type !== 'array') return r.scalar(type, what);
  if (depth > 2) throw new WeightFileError('corrupt', `${r.name} is damaged: ${what} nests arrays too deeply`);
  const itemType = valueType(r, `the items of ${what}`);
  const length = r.size64(`the length of ${what}`, MAX_GGUF_ARRAY_LENGTH);
  if (itemType === 'array') {
    const items: GgufArray[] = [];
    for (let i = 0; i < length; i++) items.push(readValue(r, 'array', what, keep, depth + 1) as GgufArray);
    return { kind: 'array', itemType, length, items: length <= keep ? items : null };
  }
  if (length > keep) {
    r.skipScalars(itemType, length, what);
    return { kind: 'array', itemType, length, items: null };
  }
  const items: GgufScalar[] = [];
  for (let i = 0; i < length; i++) items.push(r.scalar(itemType, what));
  return { kind: 'array', itemType, length, items };
}

function describeBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${n} bytes`;
}

/** Reads and validates the header of the GGUF file at `path` (synchronous: the registry scans with it). */
export function readGgufHeaderSync(path: string, options: GgufReadOptions = {}): GgufHeader {
  const name = basename(path);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw WeightFileError.fromFs(e, path);
  }
  try {
    const info = fstatSync(fd);
    if (info.isDirectory()) throw new WeightFileError('unreadable', `${path} is a folder, not a file`);
    return parseGguf(new HeaderReader(fd, info.size, name, Math.max(1, options.chunkBytes ?? 1 << 20)), path, options);
  } catch (e) {
    if (e instanceof WeightFileError) throw e;
    throw WeightFileError.fromFs(e, path);
  } finally {
    closeSync(fd);
  }
}

function parseGguf(r: HeaderReader, path: string, options: GgufReadOptions): GgufHeader {
  const name = r.name;
  if (r.size < 4) throw new WeightFileError('truncated', `${name} is ${r.size} bytes long, too short to be a GGUF model — the download is incomplete; download it again`);
  const magic = r.bytes(4, 'the magic').toString('latin1');
  if (magic !== GGUF_MAGIC) throw new WeightFileError('wrong_kind', `${name} is not a GGUF file (it does not start with "GGUF"): choose a .gguf model file`);
  const version = r.u32('the version');
  if (version === 1 || version === 2) {
    throw new WeightFileError('unsupported', `${name} is a GGUF version ${version} file from before September 2023, which llama.cpp no longer reads: download a current GGUF of the model`);
  }
  if (version !== GGUF_VERSION) {
    throw new WeightFileError('unsupported', `${name} is GGUF version ${version}; the studio reads version ${GGUF_VERSION}: update the studio, or use a version ${GGUF_VERSION} file`);
  }
  const tensorCount = r.size64('the tensor count', MAX_GGUF_TENSORS);
  const metadataCount = r.size64('the metadata count', MAX_GGUF_METADATA);
  const keep = options.keepArraysUpTo ?? 4096;
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < metadataCount; i++) {
    const key = r.string(`metadata key ${i}`);
    const type = valueType(r, `metadata "${key}"`);
    if (metadata.has(key)) throw new WeightFileError('corrupt', `${name} is damaged: its metadata names "${key}" twice`);
    metadata.set(key, readValue(r, type, `metadata "${key}"`, keep, 0));
  }
  const alignmentValue = metadata.get('general.alignment');
  const alignment = alignmentValue === undefined ? GGUF_DEFAULT_ALIGNMENT : Number(alignmentValue);
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0 || alignment > 1 << 20) {
    throw new WeightFileError('corrupt', `${name} is damaged: its general.alignment ${String(alignmentValue)} is not a power of two`);
  }
  const raw: { name: string; dims: number[]; typeId: number; relative: number }[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const tensorName = r.string(`tensor name ${i}`);
    const nDims = r.u32(`the dimension count of ${tensorName}`);
    if (nDims < 1 || nDims > 4) throw new WeightFileError('corrupt', `${name} is damaged: tensor ${tensorName} has ${nDims} dimensions (ggml allows 1 to 4)`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(r.size64(`a dimension of ${tensorName}`, 2 ** 40));
    const typeId = r.u32(`the type of ${tensorName}`);
    const relative = r.size64(`the offset of ${tensorName}`, Number.MAX_SAFE_INTEGER);
    raw.push({ name: tensorName, dims, typeId, relative });
  }
  const dataStart = Math.ceil(r.pos / alignment) * alignment;
  const tensors = new Map<string, GgufTensorInfo>();
  for (const t of raw) {
    const type = GGML_TYPES.get(t.typeId);
    if (!type) {
      throw new WeightFileError('unsupported', `${name} stores tensor ${t.name} in ggml type ${t.typeId}, which this studio does not know: use a file quantised with a common type (Q4_K_M, Q5_K_M, Q8_0, F16)`);
    }
    if (tensors.has(t.name)) throw new WeightFileError('corrupt', `${name} is damaged: tensor ${t.name} is listed twice`);
    if (t.dims.some((d) => d === 0)) throw new WeightFileError('corrupt', `${name} is damaged: tensor ${t.name} has an empty dimension`);
    if (t.dims[0]! % type.blockSize !== 0) {
      throw new WeightFileError('corrupt', `${name} is damaged: tensor ${t.name} (${type.name}) has a row of ${t.dims[0]} values, not a whole number of ${type.blockSize}-value blocks`);
    }
    if (t.relative % alignment !== 0) throw new WeightFileError('corrupt', `${name} is damaged: tensor ${t.name} starts at an offset not aligned to ${alignment} bytes`);
    const elements = t.dims.reduce((a, b) => a * b, 1);
    const bytes = (elements / type.blockSize) * type.typeSize;
    tensors.set(t.name, { name: t.name, dims: t.dims, type, typeId: t.typeId, offset: dataStart + t.relative, bytes });
  }
  const ordered = [...tensors.values()].sort((a, b) => a.offset - b.offset);
  for (let i = 0; i < ordered.length; i++) {
    const t = ordered[i]!;
    const end = t.offset + t.bytes;
    if (end > r.size) {
      throw new WeightFileError(
        'truncated',
        `${name} is cut short: it is ${describeBytes(r.size)} but its tensor ${t.name} ends at ${describeBytes(end)} — the download is incomplete; download it again`,
      );
    }
    const next = ordered[i + 1];
    if (next && next.offset < end) throw new WeightFileError('corrupt', `${name} is damaged: tensors ${t.name} and ${next.name} overlap`);
  }
  return { path, size: r.size, version, alignment, dataStart, metadata, tensors };
}

/** A metadata value as a string, or null when absent or of another type. */
export function ggufString(header: GgufHeader, key: string): string | null {
  const v = header.metadata.get(key);
  return typeof v === 'string' ? v : null;
}

/** A metadata value as a finite number (any integer or float type), or null. */
export function ggufNumber(header: GgufHeader, key: string): number | null {
  const v = header.metadata.get(key);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  return null;
}

/** A metadata array (its items may be null when it was long), or null. */
export function ggufArray(header: GgufHeader, key: string): GgufArray | null {
  const v = header.metadata.get(key);
  return typeof v === 'object' && v !== null && !(typeof v === 'bigint') && (v as GgufArray).kind === 'array' ? (v as GgufArray) : null;
}
