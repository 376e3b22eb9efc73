/**
 * Reading `.safetensors` files: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and [begin, end) byte range in the data that follows, then raw
 * little-endian tensor bytes (huggingface/safetensors, "Format" in its README).
 *
 * Headers first, bytes later: the whole header is validated — its size, every dtype and shape,
 * every range inside the file and consistent with its shape, no two ranges overlapping — before
 * any tensor is read, and tensors are then read (or handed to onnxruntime as external data) by
 * range, never by loading the file. A file that fails says why in one sentence a user can act on.
 */
import { closeSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { open, stat, realpath } from 'node:fs/promises';
import { basename } from 'node:path';
import { DTYPE_BYTES, elementCount, isWeightDtype } from './dtypes.ts';
import type { WeightDtype } from './dtypes.ts';
import { WeightFileError } from './errors.ts';
import type { TensorRef } from './tensor-ref.ts';

/** Real checkpoints have headers of a few hundred kilobytes; a larger one is damage or an attack. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: WeightDtype;
  readonly shape: readonly number[];
  /** Absolute byte offset of the tensor's first byte in the file. */
  readonly offset: number;
  readonly length: number;
}

export interface SafetensorsHeader {
  /** The path as given, and the file it resolves to (links followed). */
  readonly path: string;
  readonly realPath: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** Byte offset where tensor data starts (8 + header length). */
  readonly dataStart: number;
  readonly tensors: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Readonly<Record<string, string>>;
}

function describeBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}

function isNonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Parses and validates a header already read; `size` is the file's size in bytes. */
export function parseSafetensorsHeader(
  headerJson: string,
  size: number,
  where: { path: string; realPath: string; mtimeMs: number; headerBytes: number },
): SafetensorsHeader {
  const name = basename(where.path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(headerJson);
  } catch {
    throw new WeightFileError('corrupt', `${name} is not a readable safetensors file: its header is not valid JSON (the file is damaged or of another kind)`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new WeightFileError('corrupt', `${name} is not a readable safetensors file: its header is not a JSON object`);
  }
  const dataStart = 8 + where.headerBytes;
  const dataBytes = size - dataStart;
  const tensors = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  let furthest = 0;
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        metadata = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
      }
      continue;
    }
    const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (entry === null || typeof entry !== 'object') {
      throw new WeightFileError('corrupt', `${name}: the header entry for tensor "${key}" is not an object; the file is damaged`);
    }
    if (!isWeightDtype(entry.dtype)) {
      throw new WeightFileError('unsupported', `${name}: tensor "${key}" has element type ${JSON.stringify(entry.dtype)}, which the studio cannot read`);
    }
    if (!Array.isArray(entry.shape) || !entry.shape.every(isNonNegativeInt)) {
      throw new WeightFileError('corrupt', `${name}: tensor "${key}" has an invalid shape ${JSON.stringify(entry.shape)}; the file is damaged`);
    }
    const offsets = entry.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !isNonNegativeInt(offsets[0]) || !isNonNegativeInt(offsets[1]) || offsets[1] < offsets[0]) {
      throw new WeightFileError('corrupt', `${name}: tensor "${key}" has invalid data offsets ${JSON.stringify(offsets)}; the file is damaged`);
    }
    const shape = entry.shape as number[];
    const [begin, end] = offsets as [number, number];
    const expected = elementCount(shape) * DTYPE_BYTES[entry.dtype];
    if (end - begin !== expected) {
      throw new WeightFileError(
        'corrupt',
        `${name}: tensor "${key}" (${entry.dtype} [${shape.join(', ')}]) should take ${expected} bytes but its header gives it ${end - begin}; the file is damaged`,
      );
    }
    furthest = Math.max(furthest, end);
    tensors.set(key, { name: key, dtype: entry.dtype, shape, offset: dataStart + begin, length: end - begin });
  }
  if (furthest > dataBytes) {
    throw new WeightFileError(
      'truncated',
      `${name} is truncated: it is ${describeBytes(size)} but its header says its tensors run to ${describeBytes(dataStart + furthest)} (an interrupted download or copy?). Download or copy it again.`,
    );
  }
  // Ranges must not overlap: a header that makes two tensors share bytes is lying about one of them.
  const ordered = [...tensors.values()].filter((t) => t.length > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < ordered.length; i++) {
    const prev = ordered[i - 1]!;
    const cur = ordered[i]!;
    if (cur.offset < prev.offset + prev.length) {
      throw new WeightFileError('corrupt', `${name}: tensors "${prev.name}" and "${cur.name}" overlap in the file; its header is corrupt`);
    }
  }
  return { path: where.path, realPath: where.realPath, size, mtimeMs: where.mtimeMs, dataStart, tensors, metadata };
}

/** Reads and validates a file's header (never its tensors). */
export async function readSafetensorsHeader(path: string, options: { maxHeaderBytes?: number } = {}): Promise<SafetensorsHeader> {
  const name = basename(path);
  const maxHeader = options.maxHeaderBytes ?? MAX_HEADER_BYTES;
  let real: string;
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    real = await realpath(path);
    info = await stat(real);
  } catch (e) {
    throw WeightFileError.fromFs(e, path);
  }
  if (!info.isFile()) throw new WeightFileError('not_found', `${path} is not a file`);
  if (info.size < 8) throw new WeightFileError('truncated', `${name} is ${info.size} bytes: too short to be a safetensors file (a failed download?)`);
  const handle = await open(real, 'r').catch((e: unknown) => {
    throw WeightFileError.fromFs(e, path);
  });
  try {
    const lengthBytes = Buffer.alloc(8);
    await handle.read(lengthBytes, 0, 8, 0);
    const headerLength = lengthBytes.readBigUInt64LE(0);
    if (headerLength > BigInt(maxHeader)) {
      throw new WeightFileError(
        'corrupt',
        `${name}: its header claims ${describeBytes(Number(headerLength))}, over the ${describeBytes(maxHeader)} a real checkpoint needs; the file is damaged or not a safetensors file`,
      );
    }
    const n = Number(headerLength);
    if (8 + n > info.size) {
      throw new WeightFileError('truncated', `${name} is truncated: it ends inside its own header (${describeBytes(info.size)}). Download or copy it again.`);
    }
    const header = Buffer.alloc(n);
    const { bytesRead } = await handle.read(header, 0, n, 8);
    if (bytesRead !== n) throw new WeightFileError('truncated', `${name} is truncated: its header could not be read in full`);
    return parseSafetensorsHeader(header.toString('utf8'), info.size, { path, realPath: real, mtimeMs: info.mtimeMs, headerBytes: n });
  } catch (e) {
    if (e instanceof WeightFileError) throw e;
    throw WeightFileError.fromFs(e, path);
  } finally {
    await handle.close();
  }
}

/**
 * The same, synchronously, for scanning model folders (a header is a few hundred KB; the registry
 * caches the result by path, size and modification time).
 */
export function readSafetensorsHeaderSync(path: string, options: { maxHeaderBytes?: number } = {}): SafetensorsHeader {
  const name = basename(path);
  const maxHeader = options.maxHeaderBytes ?? MAX_HEADER_BYTES;
  let real: string;
  let info: ReturnType<typeof statSync>;
  try {
    real = realpathSync(path);
    info = statSync(real);
  } catch (e) {
    throw WeightFileError.fromFs(e, path);
  }
  if (!info.isFile()) throw new WeightFileError('not_found', `${path} is not a file`);
  if (info.size < 8) throw new WeightFileError('truncated', `${name} is ${info.size} bytes: too short to be a safetensors file (a failed download?)`);
  let fd: number;
  try {
    fd = openSync(real, 'r');
  } catch (e) {
    throw WeightFileError.fromFs(e, path);
  }
  try {
    const lengthBytes = Buffer.alloc(8);
    readSync(fd, lengthBytes, 0, 8, 0);
    const headerLength = lengthBytes.readBigUInt64LE(0);
    if (headerLength > BigInt(maxHeader)) {
      throw new WeightFileError('corrupt', `${name}: its header claims ${describeBytes(Number(headerLength))}, over the ${describeBytes(maxHeader)} a real checkpoint needs; the file is damaged or not a safetensors file`);
    }
    const n = Number(headerLength);
    if (8 + n > info.size) throw new WeightFileError('truncated', `${name} is truncated: it ends inside its own header (${describeBytes(info.size)}). Download or copy it again.`);
    const header = Buffer.alloc(n);
    if (readSync(fd, header, 0, n, 8) !== n) throw new WeightFileError('truncated', `${name} is truncated: its header could not be read in full`);
    return parseSafetensorsHeader(header.toString('utf8'), info.size, { path, realPath: real, mtimeMs: info.mtimeMs, headerBytes: n });
  } catch (e) {
    if (e instanceof WeightFileError) throw e;
    throw WeightFileError.fromFs(e, path);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads one byte range in chunks (a tensor, or part of one), for conversion and hashing; each
 * chunk is a fresh buffer the caller may keep.
 */
export async function* readRange(path: string, offset: number, length: number, chunkBytes = 16 * 1024 * 1024): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    let done = 0;
    while (done < length) {
      const n = Math.min(chunkBytes, length - done);
      const chunk = Buffer.allocUnsafe(n);
      const { bytesRead } = await handle.read(chunk, 0, n, offset + done);
      if (bytesRead !== n) throw new WeightFileError('truncated', `${basename(path)} ended early while reading it (was it changed or moved?)`);
      done += n;
      yield chunk;
    }
  } finally {
    await handle.close();
  }
}

/** One tensor's bytes in memory (for small tensors and tests; large ones are streamed). */
export async function readTensorBytes(header: SafetensorsHeader, name: string): Promise<Buffer> {
  const entry = header.tensors.get(name);
  if (!entry) throw new WeightFileError('corrupt', `${basename(header.path)} has no tensor "${name}"`);
  const parts: Buffer[] = [];
  for await (const chunk of readRange(header.realPath, entry.offset, entry.length)) parts.push(chunk);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Every tensor of a file as a reference under its own name (a diffusers file is already canonical). */
export function tensorRefs(header: SafetensorsHeader, rename: (name: string) => string | null = (n) => n): Map<string, TensorRef> {
  const refs = new Map<string, TensorRef>();
  const file = basename(header.path);
  for (const entry of header.tensors.values()) {
    const canonical = rename(entry.name);
    if (canonical === null) continue;
    refs.set(canonical, {
      file: header.realPath,
      offset: entry.offset,
      length: entry.length,
      dtype: entry.dtype,
      shape: entry.shape,
      origin: `${file}: ${entry.name}`,
    });
  }
  return refs;
}
