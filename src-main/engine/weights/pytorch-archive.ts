/**
 * Reading PyTorch `.pth` archives (torch.save ≥ 1.6) without running anything: the original WAN
 * 2.1 release ships its VAE and UMT5 encoder this way.
 *
 * Such a file is a zip archive (`zip.ts`) whose one folder holds `data.pkl` — a pickle of the saved
 * object in which every tensor is a view (storage offset, size, stride) of a storage — and one
 * record `data/<key>` per storage with its raw little-endian bytes (torch/serialization.py). The
 * pickle goes through `pickle.ts` with torch's allow-list (`torch-pickle.ts`), which builds only dicts, lists, numbers, strings, storages and
 * tensors, and refuses anything that would run code. Nested dictionaries are flattened with '.'
 * (`{"model": {"w": t}}` → `model.w`).
 *
 * As with safetensors (`safetensors.ts`), headers first, bytes later: the archive's directory and
 * pickle are validated whole — every storage a record of the size its pickle says, every view inside
 * its storage — before a tensor is touched, and tensors are then handed out as `TensorRef`s into the
 * user's own file: a contiguous row-major view is a byte range; a transposed 2-D view is the same
 * range read transposed; any other strided view is named and refused where a reference is needed.
 */
import { closeSync, openSync, realpathSync, statSync } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { DTYPE_BYTES } from './dtypes.ts';
import type { WeightDtype } from './dtypes.ts';
import { WeightFileError } from './errors.ts';
import { MAX_PICKLE_BYTES, MAX_PICKLE_NESTING, PickleRefusal } from './pickle.ts';
import type { PyStorage, PyTensor, PyValue } from './pickle.ts';
import { readRange } from './safetensors.ts';
import { sniffBytes } from './sniff.ts';
import type { TensorRef } from './tensor-ref.ts';
import { unpickleTorch } from './torch-pickle.ts';
import { readZipDirectory, readZipEntry, runReadPlanAsync, runReadPlanSync, ZIP_STORED } from './zip.ts';
import type { ReadPlan, ZipDirectory } from './zip.ts';

/** Names (tensors and values) a flattened archive may hold; a larger count is a pickle bomb. */
export const MAX_FLAT_ENTRIES = 1_000_000;
export const MAX_NAME_CHARS = 4096;

/** How a tensor's elements lie in its storage. */
export type PthLayout = 'contiguous' | 'transposed' | 'strided';

export interface PthTensorEntry {
  readonly name: string;
  readonly dtype: WeightDtype;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly storageKey: string;
  /** In elements. */
  readonly storageOffset: number;
  /** Absolute byte offset in the file of the view's first element. */
  readonly offset: number;
  /** Bytes of the view's elements (element count × element size). */
  readonly length: number;
  readonly layout: PthLayout;
  readonly parameter: boolean;
}

export interface PthStorageEntry {
  readonly key: string;
  /** The zip record holding its bytes, `<folder>/data/<key>`. */
  readonly record: string;
  readonly dtype: WeightDtype;
  readonly untyped: boolean;
  /** Absolute byte offset and length of its bytes in the file. */
  readonly offset: number;
  readonly length: number;
  readonly location: string;
}

/** A value that is not a tensor (`step: 1234`, `config.dtype: "torch.bfloat16"`). */
export type PthValue = string | number | boolean | null;

export interface PthHeader {
  readonly path: string;
  readonly realPath: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** The archive's folder ("archive" when saved to a buffer, the file's stem when saved to a path). */
  readonly archive: string;
  /** The `version` record (torch's serialization format), when present. */
  readonly formatVersion: string | null;
  readonly tensors: ReadonlyMap<string, PthTensorEntry>;
  readonly storages: ReadonlyMap<string, PthStorageEntry>;
  readonly values: ReadonlyMap<string, PthValue>;
}

const SMALL_RECORD_BYTES = 4096;

export function layoutOf(shape: readonly number[], stride: readonly number[]): PthLayout {
  if (shape.some((d) => d === 0)) return 'contiguous';
  let expected = 1;
  let contiguous = true;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) contiguous = false;
    expected *= shape[d]!;
  }
  if (contiguous) return 'contiguous';
  if (shape.length === 2 && stride[0] === 1 && stride[1] === shape[0]) return 'transposed';
  return 'strided';
}

function notAnArchive(file: string, head: Uint8Array, size: number): WeightFileError {
  switch (sniffBytes(head, size)) {
    case 'pickle':
      return new WeightFileError(
        'unsupported',
        `${file} is a PyTorch file in the format older than torch 1.6 (a bare pickle), which the studio does not open — use the .safetensors release instead`,
      );
    case 'safetensors':
      return new WeightFileError('wrong_kind', `${file} is a safetensors file, not a PyTorch archive`);
    case 'gguf':
      return new WeightFileError('wrong_kind', `${file} is a GGUF file, not a PyTorch archive`);
    default:
      return new WeightFileError('wrong_kind', `${file} is not a PyTorch archive (its first bytes are not those of a zip archive)`);
  }
}

function damaged(file: string, detail: string): WeightFileError {
  return new WeightFileError('corrupt', `${file} is not a readable PyTorch archive: ${detail}; the file is damaged or was not written by torch.save`);
}

/** The archive's one folder and its records, as torch's reader requires (every entry inside one folder). */
function archiveFolder(file: string, zip: ZipDirectory): string {
  const first = zip.order[0];
  if (!first) throw damaged(file, 'its zip archive is empty');
  const slash = first.name.indexOf('/');
  if (slash <= 0) throw damaged(file, `its entry "${first.name}" is not inside a folder`);
  const folder = first.name.slice(0, slash);
  for (const entry of zip.order) {
    if (!entry.name.startsWith(`${folder}/`)) throw damaged(file, `its entries are not all inside the folder "${folder}"`);
  }
  if (zip.entries.has(`${folder}/constants.pkl`) || zip.order.some((e) => e.name.startsWith(`${folder}/code/`))) {
    throw new WeightFileError('wrong_kind', `${file} is a TorchScript program (torch.jit.save), not a file of weights; the studio does not run it`);
  }
  if (!zip.entries.has(`${folder}/data.pkl`)) throw new WeightFileError('wrong_kind', `${file} is a zip archive without a data.pkl: not a PyTorch checkpoint`);
  return folder;
}

interface Flat {
  tensors: Map<string, PyTensor>;
  values: Map<string, PthValue>;
}

function valueOf(v: Exclude<PyValue, PyTensor>): PthValue {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  switch (v.type) {
    case 'float':
      return Number.isFinite(v.value) ? v.value : String(v.value).replace('Infinity', 'inf').replace('NaN', 'nan');
    case 'global':
      return v.name;
    case 'bytes':
      return `<${v.bytes.length} bytes>`;
    case 'storage':
      return `<storage ${v.key}>`;
    case 'set':
      return '<set>';
    default:
      return `<${v.type}>`;
  }
}

/** Tensors and values under dotted names; shared sub-objects are walked once per path, within bounds. */
function flatten(file: string, root: PyValue): Flat {
  const flat: Flat = { tensors: new Map(), values: new Map() };
  const onPath = new Set<PyValue>();
  let visited = 0;
  const refuse = new PickleRefusal(file);
  const bomb = (detail: string): WeightFileError => refuse.bomb(detail);
  const walk = (v: PyValue, name: string, depth: number): void => {
    if (++visited > MAX_FLAT_ENTRIES) throw bomb(`names more than ${MAX_FLAT_ENTRIES.toLocaleString('en-US')} entries`);
    if (depth > MAX_PICKLE_NESTING) throw bomb(`nests dictionaries more than ${MAX_PICKLE_NESTING} levels deep`);
    if (name.length > MAX_NAME_CHARS) throw bomb(`gives an entry a name over ${MAX_NAME_CHARS} characters long`);
    const child = (key: string): string => (name === '' ? key : `${name}.${key}`);
    if (v !== null && typeof v === 'object' && (v.type === 'dict' || v.type === 'list' || v.type === 'tuple')) {
      if (onPath.has(v)) throw bomb(`holds a ${v.type === 'dict' ? 'dictionary' : 'list'} that contains itself ("${name}")`);
      onPath.add(v);
      if (v.type === 'dict') {
        for (const [key, value] of v.entries.values()) {
          let keyName: string;
          if (typeof key === 'string') keyName = key;
          else if (typeof key === 'number' || typeof key === 'bigint') keyName = key.toString();
          else if (typeof key === 'boolean') keyName = key ? 'True' : 'False';
          else throw damaged(file, `its pickle has a dictionary key that is not text or a number under "${name}"`);
          walk(value, child(keyName), depth + 1);
        }
      } else {
        v.items.forEach((item, i) => walk(item, child(String(i)), depth + 1));
      }
      onPath.delete(v);
      return;
    }
    if (flat.tensors.has(name) || flat.values.has(name)) throw damaged(file, `two entries of its pickle are both named "${name}"`);
    if (v !== null && typeof v === 'object' && v.type === 'tensor') {
      if (v.unsupported) throw new WeightFileError('unsupported', `${file}: tensor "${name}" ${v.unsupported}, which the studio does not read — use the .safetensors release instead`);
      flat.tensors.set(name, v);
    } else {
      flat.values.set(name, valueOf(v));
    }
  };
  if (root !== null && typeof root === 'object' && root.type === 'tensor') {
    throw new WeightFileError('unsupported', `${file} holds a single unnamed tensor rather than named weights; the studio reads state dicts`);
  }
  if (root === null || typeof root !== 'object' || (root.type !== 'dict' && root.type !== 'list' && root.type !== 'tuple')) {
    throw new WeightFileError('wrong_kind', `${file} holds a ${root === null ? 'None' : typeof root === 'object' ? root.type : typeof root}, not a dictionary of weights`);
  }
  // Count the walk first, once per shared object: a pickle that reuses one dictionary under many
  // keys at every level (a "billion laughs") is refused before a single name is built.
  const counted = new Map<PyValue, number>();
  const counting = new Set<PyValue>();
  const count = (v: PyValue, depth: number): number => {
    if (v === null || typeof v !== 'object' || (v.type !== 'dict' && v.type !== 'list' && v.type !== 'tuple')) return 1;
    if (depth > MAX_PICKLE_NESTING) throw bomb(`nests dictionaries more than ${MAX_PICKLE_NESTING} levels deep`);
    const known = counted.get(v);
    if (known !== undefined) return known;
    if (counting.has(v)) throw bomb(`holds a ${v.type === 'dict' ? 'dictionary' : 'list'} that contains itself`);
    counting.add(v);
    let n = 1;
    const children = v.type === 'dict' ? [...v.entries.values()].map(([, value]) => value) : v.items;
    for (const c of children) n = Math.min(n + count(c, depth + 1), MAX_FLAT_ENTRIES + 1);
    counting.delete(v);
    counted.set(v, n);
    return n;
  };
  if (count(root, 0) > MAX_FLAT_ENTRIES) throw bomb(`names more than ${MAX_FLAT_ENTRIES.toLocaleString('en-US')} entries`);
  walk(root, '', 0);
  return flat;
}

interface Located {
  path: string;
  realPath: string;
  size: number;
  mtimeMs: number;
}

/** The whole reading of an archive as one plan (sync and async drivers run the same steps). */
function* pthPlan(where: Located): ReadPlan<PthHeader> {
  const file = basename(where.path);
  const head = yield { offset: 0, length: Math.min(16, where.size) };
  if (head.length < 4 || head[0] !== 0x50 || head[1] !== 0x4b || head[2] !== 0x03 || head[3] !== 0x04) throw notAnArchive(file, head, where.size);

  const zip = yield* readZipDirectory(file, where.size);
  const folder = archiveFolder(file, zip);
  const byteorder = zip.entries.get(`${folder}/byteorder`);
  if (byteorder) {
    const order = Buffer.from(yield* readZipEntry(file, where.size, byteorder, SMALL_RECORD_BYTES)).toString('latin1');
    if (order === 'big') throw new WeightFileError('unsupported', `${file} was saved on a big-endian machine; the studio reads little-endian archives only`);
    if (order !== 'little') throw damaged(file, 'its byteorder record is neither "little" nor "big"');
  }
  const versionEntry = zip.entries.get(`${folder}/version`) ?? zip.entries.get(`${folder}/.data/version`);
  const formatVersion = versionEntry ? Buffer.from(yield* readZipEntry(file, where.size, versionEntry, SMALL_RECORD_BYTES)).toString('latin1').trim() : null;
  const pickleBytes = yield* readZipEntry(file, where.size, zip.entries.get(`${folder}/data.pkl`)!, MAX_PICKLE_BYTES);

  const storages = new Map<string, PthStorageEntry>();
  const handed = new Map<string, PyStorage>();
  const root = unpickleTorch(pickleBytes, {
    file,
    loadStorage(def, storageType, key, location, numel) {
      const dtype: WeightDtype = def.dtype === 'untyped' || def.dtype === null ? 'U8' : def.dtype;
      const record = `${folder}/data/${key}`;
      const entry = zip.entries.get(record);
      if (!entry) throw damaged(file, `its pickle refers to storage "${key.slice(0, 40)}", which the archive does not hold`);
      if (entry.method !== ZIP_STORED) {
        throw new WeightFileError('unsupported', `${file}: its tensor data "${record}" is compressed, so the studio cannot read it in place — use the .safetensors release instead`);
      }
      const bytes = numel * DTYPE_BYTES[dtype];
      if (!Number.isSafeInteger(bytes) || bytes !== entry.size) {
        throw damaged(file, `its storage "${key}" holds ${entry.size} bytes where its pickle says ${numel} × ${storageType}`);
      }
      const seen = handed.get(key);
      if (seen) {
        if (seen.dtype !== dtype || seen.bytes !== bytes) throw damaged(file, `its storage "${key}" is referred to with two different types`);
        return seen;
      }
      const storage: PyStorage = { type: 'storage', key, dtype, untyped: def.dtype === 'untyped', bytes };
      handed.set(key, storage);
      storages.set(key, { key, record, dtype, untyped: storage.untyped, offset: entry.dataOffset, length: entry.size, location });
      return storage;
    },
  });

  const flat = flatten(file, root);
  const tensors = new Map<string, PthTensorEntry>();
  for (const [name, t] of flat.tensors) {
    const storage = storages.get(t.storage.key)!;
    const itemBytes = DTYPE_BYTES[t.dtype];
    const elements = t.shape.reduce((a, b) => a * b, 1);
    tensors.set(name, {
      name,
      dtype: t.dtype,
      shape: t.shape,
      stride: t.stride,
      storageKey: storage.key,
      storageOffset: t.storageOffset,
      offset: storage.offset + t.storageOffset * itemBytes,
      length: elements * itemBytes,
      layout: layoutOf(t.shape, t.stride),
      parameter: t.parameter,
    });
  }
  return { ...where, archive: folder, formatVersion, tensors, storages, values: flat.values };
}

/** Reads and validates an archive's directory and pickle (never its tensors). */
export async function readPthHeader(path: string): Promise<PthHeader> {
  let real: string;
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    real = await realpath(path);
    info = await stat(real);
  } catch (e) {
    throw WeightFileError.fromFs(e, path);
  }
  if (!info.isFile()) throw new WeightFileError('not_found', `${path} is not a file`);
  const handle = await open(real, 'r').catch((e: unknown) => {
    throw WeightFileError.fromFs(e, path);
  });
  try {
    return await runReadPlanAsync(pthPlan({ path, realPath: real, size: info.size, mtimeMs: info.mtimeMs }), handle);
  } catch (e) {
    if (e instanceof WeightFileError) throw e;
    throw WeightFileError.fromFs(e, path);
  } finally {
    await handle.close();
  }
}

/** The same, synchronously (model-folder scans). */
export function readPthHeaderSync(path: string): PthHeader {
  let real: string;
  let info: ReturnType<typeof statSync>;
  let fd: number;
  try {
    real = realpathSync(path);
    info = statSync(real);
    if (!info.isFile()) throw new WeightFileError('not_found', `${path} is not a file`);
    fd = openSync(real, 'r');
  } catch (e) {
    if (e instanceof WeightFileError) throw e;
    throw WeightFileError.fromFs(e, path);
  }
  try {
    return runReadPlanSync(pthPlan({ path, realPath: real, size: info.size, mtimeMs: info.mtimeMs }), fd);
  } catch (e) {
    if (e instanceof WeightFileError) throw e;
    throw WeightFileError.fromFs(e, path);
  } finally {
    closeSync(fd);
  }
}

/**
 * Tensors as references into the archive under their (renamed) names: contiguous views as byte
 * ranges, transposed 2-D views as transposed references. A strided view that `rename` keeps is
 * refused in a sentence that names it.
 */
export function pthTensorRefs(header: PthHeader, rename: (name: string) => string | null = (n) => n): Map<string, TensorRef> {
  const refs = new Map<string, TensorRef>();
  const file = basename(header.path);
  for (const t of header.tensors.values()) {
    const canonical = rename(t.name);
    if (canonical === null) continue;
    const origin = `${file}: ${t.name}`;
    if (t.layout === 'contiguous') {
      refs.set(canonical, { file: header.realPath, offset: t.offset, length: t.length, dtype: t.dtype, shape: t.shape, origin });
    } else if (t.layout === 'transposed') {
      refs.set(canonical, { file: header.realPath, offset: t.offset, length: t.length, dtype: t.dtype, shape: [t.shape[1]!, t.shape[0]!], transposed: true, origin });
    } else {
      throw new WeightFileError(
        'unsupported',
        `${file}: tensor "${t.name}" is a strided view of a larger tensor (shape [${t.shape.join(', ')}], stride [${t.stride.join(', ')}]), which the studio cannot read in place — use the .safetensors release instead`,
      );
    }
  }
  return refs;
}

/** One tensor's elements in row-major order (gathered from a strided view when needed); for small tensors and tests. */
export async function readPthTensorBytes(header: PthHeader, name: string): Promise<Buffer> {
  const t = header.tensors.get(name);
  if (!t) throw new WeightFileError('corrupt', `${basename(header.path)} has no tensor "${name}"`);
  const item = DTYPE_BYTES[t.dtype];
  const elements = t.length / item;
  if (t.layout === 'contiguous') {
    const parts: Buffer[] = [];
    for await (const chunk of readRange(header.realPath, t.offset, t.length)) parts.push(chunk);
    return Buffer.concat(parts, t.length);
  }
  // The span of the storage the view reaches, then each element by its strides.
  let last = 0;
  t.shape.forEach((d, i) => (last += (d - 1) * t.stride[i]!));
  const span = elements === 0 ? 0 : (last + 1) * item;
  const parts: Buffer[] = [];
  for await (const chunk of readRange(header.realPath, t.offset, span)) parts.push(chunk);
  const source = Buffer.concat(parts, span);
  const out = Buffer.alloc(t.length);
  const index = new Array<number>(t.shape.length).fill(0);
  for (let e = 0; e < elements; e++) {
    let at = 0;
    for (let d = 0; d < index.length; d++) at += index[d]! * t.stride[d]!;
    source.copy(out, e * item, at * item, at * item + item);
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d]! < t.shape[d]!) break;
      index[d] = 0;
    }
  }
  return out;
}
