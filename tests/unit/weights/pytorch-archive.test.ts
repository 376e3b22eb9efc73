/**
 * The restricted `.pth` reader against archives written by real torch.save (tests/fixtures/reference/pth/,
 * made by make_pth_fixtures.py, see pth.md): tensors read bit-exact; pickles that would run code,
 * pickle bombs, zip bombs and cut archives refused in one sentence each, with nothing run.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WeightFileError } from '../../../src-main/engine/weights/errors.ts';
import { pthTensorRefs, readPthHeader, readPthHeaderSync, readPthTensorBytes } from '../../../src-main/engine/weights/pytorch-archive.ts';
import type { PthHeader } from '../../../src-main/engine/weights/pytorch-archive.ts';
import { sniffFile } from '../../../src-main/engine/weights/sniff.ts';
import { canonicalShape } from '../../../src-main/engine/weights/tensor-ref.ts';
import { readZipDirectory, readZipEntry, runReadPlanSync } from '../../../src-main/engine/weights/zip.ts';
import { writeZip } from '../../fixtures/checkpoints/pth-zip.ts';
import type { ZipInput } from '../../fixtures/checkpoints/pth-zip.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/reference/pth');
const fixture = (name: string): string => join(FIXTURES, name);

interface TensorRecord {
  dtype: string;
  shape: number[];
  stride: number[];
  storage_offset: number;
  storage_bytes: number;
  storage_group: number;
  layout: string;
  parameter: boolean;
  hex: string;
}
interface Reference {
  meta: { torch: string; marker: string };
  files: Record<string, { sha256: string; archive: string; tensors: Record<string, TensorRecord>; values: Record<string, unknown> }>;
  refused: Record<string, { sha256: string; code: string; torch_weights_only: string }>;
  hostile: Record<string, { sha256: string; asks: string | null; code: string; plain_pickle_runs_payload: boolean | null; torch_weights_only: string }>;
  zip64: { size: number; head_sha256: string; tail_sha256: string; big: { offset: number; length: number; shape: number[] }; data_offsets: Record<string, number>; tensors: Record<string, TensorRecord> };
}
const reference = JSON.parse(readFileSync(fixture('pth-reference.json'), 'utf8')) as Reference;

const dir = mkdtempSync(join(tmpdir(), 'pth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function refusalSync(path: string): WeightFileError {
  try {
    readPthHeaderSync(path);
  } catch (e) {
    expect(e).toBeInstanceOf(WeightFileError);
    return e as WeightFileError;
  }
  throw new Error(`${path} was accepted`);
}

/** Refused the same way by the synchronous and the asynchronous reader. */
async function refusal(path: string): Promise<WeightFileError> {
  const sync = refusalSync(path);
  const err = await readPthHeader(path).then(
    () => {
      throw new Error(`${path} was accepted`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WeightFileError);
  expect((err as WeightFileError).message).toBe(sync.message);
  return sync;
}

function fileBytes(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(length);
    expect(readSync(fd, b, 0, length, offset)).toBe(length);
    return b;
  } finally {
    closeSync(fd);
  }
}

/** The records of a real archive, to repack them in other zip shapes. */
function records(path: string): ZipInput[] {
  const size = readFileSync(path).length;
  const fd = openSync(path, 'r');
  try {
    const zip = runReadPlanSync(readZipDirectory('x.pth', size), fd);
    return zip.order.map((e) => ({ name: e.name, data: runReadPlanSync(readZipEntry('x.pth', size, e, 1 << 20), fd) }));
  } finally {
    closeSync(fd);
  }
}

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function expectMatchesReference(header: PthHeader, expected: Reference['files'][string]): void {
  expect([...header.tensors.keys()]).toEqual(Object.keys(expected.tensors));
  const keyOfGroup = new Map<number, string>();
  for (const [name, t] of Object.entries(expected.tensors)) {
    const got = header.tensors.get(name)!;
    expect({ name, dtype: got.dtype, shape: got.shape, stride: got.stride, storageOffset: got.storageOffset, layout: got.layout, parameter: got.parameter }).toEqual({
      name,
      dtype: t.dtype,
      shape: t.shape,
      stride: t.stride,
      storageOffset: t.storage_offset,
      layout: t.layout,
      parameter: t.parameter,
    });
    expect(header.storages.get(got.storageKey)!.length).toBe(t.storage_bytes);
    // Tensors share a storage exactly when torch.load gives them one.
    const key = keyOfGroup.get(t.storage_group);
    if (key === undefined) {
      expect([...keyOfGroup.values()]).not.toContain(got.storageKey);
      keyOfGroup.set(t.storage_group, got.storageKey);
    } else {
      expect(got.storageKey).toBe(key);
    }
    // A contiguous view is exactly its byte range of the file.
    if (got.layout === 'contiguous') expect(fileBytes(header.realPath, got.offset, got.length).toString('hex')).toBe(t.hex);
  }
  const values = Object.fromEntries([...header.values].map(([k, v]) => [k, v]));
  expect(values).toEqual(expected.values);
}

describe('PyTorch archives written by torch.save', () => {
  it('are the files the reference records (sha256)', () => {
    for (const group of [reference.files, reference.refused, reference.hostile]) {
      for (const [name, entry] of Object.entries(group)) expect(sha256(readFileSync(fixture(name))), name).toBe(entry.sha256);
    }
    expect(sha256(readFileSync(fixture('zip64-head.bin')))).toBe(reference.zip64.head_sha256);
    expect(sha256(readFileSync(fixture('zip64-tail.bin')))).toBe(reference.zip64.tail_sha256);
  });

  for (const [name, expected] of Object.entries(reference.files)) {
    it(`${name}: every tensor bit-exact as torch.load reads it (dtype, shape, stride, offset, layout, bytes), values too`, async () => {
      const path = fixture(name);
      expect((await sniffFile(path)).kind).toBe('pytorch_zip');
      const header = await readPthHeader(path);
      expect(header.archive).toBe(expected.archive);
      expect(header.formatVersion).toBe('3');
      expectMatchesReference(header, expected);
      for (const [tensor, t] of Object.entries(expected.tensors)) {
        expect((await readPthTensorBytes(header, tensor)).toString('hex'), tensor).toBe(t.hex);
      }
      const sync = readPthHeaderSync(path);
      expect(sync).toEqual(header);
    });
  }

  it('reads a state dict (OrderedDict with _metadata, int64 0-d buffer) as its names', async () => {
    const header = await readPthHeader(fixture('state-dict.pth'));
    expect([...header.tensors.keys()]).toEqual(expect.arrayContaining(['conv.weight', 'norm.num_batches_tracked', 'blocks.1.weight']));
    expect(header.tensors.get('norm.num_batches_tracked')).toMatchObject({ dtype: 'I64', shape: [], length: 8 });
    // `_metadata` is an attribute of the OrderedDict, not a weight.
    expect([...header.values.keys()]).toEqual([]);
  });

  it('maps every dtype, the untyped storages of float8 (_rebuild_tensor_v3), 0-d and empty tensors', async () => {
    const header = await readPthHeader(fixture('dtypes.pth'));
    const dtypes = Object.fromEntries([...header.tensors].map(([n, t]) => [n, t.dtype]));
    expect(dtypes).toEqual({
      f32: 'F32', f32_specials: 'F32', f16: 'F16', bf16: 'BF16', f64: 'F64', i64: 'I64', i32: 'I32', i16: 'I16',
      i8: 'I8', u8: 'U8', bool: 'BOOL', f8_e4m3: 'F8_E4M3', f8_e5m2: 'F8_E5M2', scalar: 'F32', empty: 'F16',
    });
    expect(header.storages.get(header.tensors.get('f8_e4m3')!.storageKey)).toMatchObject({ untyped: true, dtype: 'U8', length: 4 });
    expect(header.tensors.get('scalar')).toMatchObject({ shape: [], length: 4 });
    expect(header.tensors.get('empty')).toMatchObject({ shape: [0, 3], length: 0, layout: 'contiguous' });
    // torch.save aligns every record's data to 64 bytes.
    for (const s of header.storages.values()) expect(s.offset % 64).toBe(0);
  });

  it('hands out views as references into the file: rows at an offset, tied weights, a transposed view; a strided view is named and refused', async () => {
    const header = await readPthHeader(fixture('views.pth'));
    const tensors = reference.files['views.pth']!.tensors;
    const strided = new Set(['model.cols', 'model.expanded']);
    const refs = pthTensorRefs(header, (n) => (strided.has(n) ? null : n));
    const embed = refs.get('model.embed.weight')!;
    expect(refs.get('model.head.weight')).toMatchObject({ offset: embed.offset, length: embed.length });
    expect(refs.get('model.rows')).toMatchObject({ offset: embed.offset + 16 * 4, length: 3 * 8 * 4, shape: [3, 8], dtype: 'F32' });
    expect(refs.get('model.rows')!.origin).toBe('views.pth: model.rows');
    const t = refs.get('model.proj_t')!;
    expect(t).toMatchObject({ transposed: true, shape: [4, 6] });
    expect(canonicalShape(t)).toEqual([6, 4]);
    // Reading the stored [4, 6] rows and transposing them gives torch's [6, 4] tensor.
    const stored = new Float32Array(new Uint8Array(fileBytes(header.realPath, t.offset, t.length)).buffer);
    const transposed = new Float32Array(24);
    for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) transposed[i * 4 + j] = stored[j * 6 + i]!;
    expect(Buffer.from(transposed.buffer).toString('hex')).toBe(tensors['model.proj_t']!.hex);
    expect(refs.get('model.unit')).toMatchObject({ shape: [1, 4] });
    expect(refs.has('model.cols')).toBe(false);

    expect(() => pthTensorRefs(header)).toThrow(
      'views.pth: tensor "model.cols" is a strided view of a larger tensor (shape [6, 3], stride [8, 1]), which the studio cannot read in place — use the .safetensors release instead',
    );
  });
});

describe('pickles that would run code', () => {
  const marker = reference.meta.marker;
  for (const [name, expected] of Object.entries(reference.hostile).filter(([n]) => n.startsWith('hostile-'))) {
    it(`${name} is refused${expected.asks ? ` naming ${expected.asks}` : ''}, and nothing runs`, async () => {
      const cwdMarker = join(process.cwd(), marker);
      expect(existsSync(cwdMarker)).toBe(false);
      // torch's own weights-only loader refuses it too, and a plain pickle load really runs it.
      expect(expected.torch_weights_only).toMatch(/^refused: UnpicklingError/);
      if (expected.asks && expected.asks !== 'ourvidz_fixture_payload.Plugin') expect(expected.plain_pickle_runs_payload).toBe(true);

      const e = await refusal(fixture(name));
      expect(e.code).toBe('unsafe');
      if (expected.asks) {
        expect(e.message).toBe(`${name} asks to run ${expected.asks} when opened; the studio never runs code from a model file — use the .safetensors release instead`);
      } else {
        expect(e.message).toMatch(new RegExp(`^${name} was not opened: its data\\.pkl .* only a crafted file does; the studio never runs code from a model file`));
      }
      expect(existsSync(cwdMarker)).toBe(false);
      expect(existsSync(join(FIXTURES, marker))).toBe(false);
    });
  }

  it('a REDUCE on a value that is not an allowed function, and a persistent id that is not a storage, say what they are', async () => {
    expect((await refusal(fixture('hostile-reduce-on-value.pth'))).message).toContain('calls a str value as a function (REDUCE)');
    expect((await refusal(fixture('hostile-persistent-id.pth'))).message).toContain('asks to load "module" from outside the pickle');
  });
});

describe('pickle bombs', () => {
  const cases: Record<string, RegExp> = {
    'bomb-marks.pth': /opens more than 256 nested MARKs/,
    'bomb-tuples.pth': /nests values more than 256 levels deep/,
    'bomb-laughs.pth': /names more than 1,000,000 entries/,
    'bomb-cycle.pth': /holds a list that contains itself,/,
  };
  for (const [name, pattern] of Object.entries(cases)) {
    it(`${name} is refused quickly, though torch's weights-only loader takes it`, async () => {
      expect(reference.hostile[name]!.torch_weights_only).toBe('loaded');
      const started = performance.now();
      const e = await refusal(fixture(name));
      // Walking a billion names or a cycle would take hours or never end.
      expect(performance.now() - started).toBeLessThan(3000);
      expect(e.code).toBe('unsafe');
      expect(e.message).toMatch(pattern);
      expect(e.message).toMatch(new RegExp(`^${name} was not opened: .*a pickle bomb built to exhaust memory\\)$`));
    });
  }
});

describe('archives the studio does not read', () => {
  it('the pre-1.6 format (a bare pickle) is named and never unpickled', async () => {
    expect((await sniffFile(fixture('legacy.pth'))).kind).toBe('pickle');
    const e = await refusal(fixture('legacy.pth'));
    expect(e.code).toBe('unsupported');
    expect(e.message).toBe('legacy.pth is a PyTorch file in the format older than torch 1.6 (a bare pickle), which the studio does not open — use the .safetensors release instead');
  });

  it('a negated view (tensor metadata) is named', async () => {
    const e = await refusal(fixture('neg-view.pth'));
    expect(e.code).toBe('unsupported');
    expect(e.message).toBe('neg-view.pth: tensor "x" is stored as a view with neg set (tensor metadata), which the studio does not read — use the .safetensors release instead');
  });

  it('compressed tensor data, a TorchScript program, a zip without data.pkl, big-endian data', async () => {
    const inputs = records(fixture('views.pth'));
    const compressed = write('compressed.pth', writeZip(inputs.map((r) => (r.name.endsWith('/data/0') ? { ...r, method: 8 as const } : r)), { descriptors: true, align: 64 }).bytes);
    expect((await refusal(compressed)).message).toBe('compressed.pth: its tensor data "views/data/0" is compressed, so the studio cannot read it in place — use the .safetensors release instead');
    const script = write('script.pth', writeZip([...inputs, { name: 'views/constants.pkl', data: Buffer.from('\x80\x02).') }]).bytes);
    expect((await refusal(script)).code).toBe('wrong_kind');
    expect((await refusal(script)).message).toMatch(/is a TorchScript program \(torch\.jit\.save\), not a file of weights/);
    const nopickle = write('nopickle.zip', writeZip(inputs.filter((r) => !r.name.endsWith('data.pkl'))).bytes);
    expect((await refusal(nopickle)).message).toBe('nopickle.zip is a zip archive without a data.pkl: not a PyTorch checkpoint');
    const big = write('bigendian.pth', writeZip(inputs.map((r) => (r.name.endsWith('/byteorder') ? { ...r, data: Buffer.from('big') } : r))).bytes);
    expect((await refusal(big)).message).toMatch(/was saved on a big-endian machine/);
  });
});

describe('zip containers', () => {
  it('reads the same tensors from the archive repacked with zip64 records, local-header sizes, descriptors or no alignment, and deflated metadata', async () => {
    const inputs = records(fixture('views.pth'));
    const expected = reference.files['views.pth']!;
    const shapes = {
      zip64: { zip64: true, align: 64 },
      zip64Descriptors: { zip64: true, descriptors: true, align: 64 },
      plain: {},
      descriptors: { descriptors: true },
    };
    for (const [tag, options] of Object.entries(shapes)) {
      const path = write(`repack-${tag}.pth`, writeZip(inputs, options).bytes);
      const header = readPthHeaderSync(path);
      expectMatchesReference(header, expected);
      for (const [tensor, t] of Object.entries(expected.tensors)) expect((await readPthTensorBytes(header, tensor)).toString('hex')).toBe(t.hex);
    }
    const deflated = write('deflated-pickle.pth', writeZip(inputs.map((r) => (r.name.includes('/data/') ? r : { ...r, method: 8 as const }))).bytes);
    expectMatchesReference(readPthHeaderSync(deflated), expected);
  });

  it('reads a real torch.save archive over 4 GiB (zip64 sizes and offsets) from a sparse file, without reading its data', async () => {
    const { size, big, data_offsets: offsets, tensors } = reference.zip64;
    const head = readFileSync(fixture('zip64-head.bin'));
    const tail = readFileSync(fixture('zip64-tail.bin'));
    const path = join(dir, 'zip64.pth');
    const fd = openSync(path, 'w');
    try {
      ftruncateSync(fd, size);
      writeSync(fd, head, 0, head.length, 0);
      writeSync(fd, tail, 0, tail.length, size - tail.length);
    } finally {
      closeSync(fd);
    }
    const header = readPthHeaderSync(path);
    expect(header.tensors.get('big')).toMatchObject({ dtype: 'U8', shape: big.shape, offset: big.offset, length: big.length });
    const after = header.tensors.get('after')!;
    expect(after.offset).toBe(offsets['data/1']);
    expect(after.offset).toBeGreaterThan(2 ** 32);
    expect((await readPthTensorBytes(header, 'after')).toString('hex')).toBe(tensors['after']!.hex);
    expect(pthTensorRefs(header).get('big')).toMatchObject({ offset: big.offset, length: big.length });

    // Cut anywhere, it says it is truncated.
    const cut = join(dir, 'zip64-cut.pth');
    writeFileSync(cut, head);
    const e = await refusal(cut);
    expect(e.code).toBe('truncated');
    rmSync(path);
  });

  it('a truncated archive says so and what to do, wherever it was cut', async () => {
    const whole = readFileSync(fixture('views.pth'));
    for (const length of [0, 3, 100, whole.length >> 1, whole.length - 23, whole.length - 1]) {
      const path = write(`cut-${length}.pth`, whole.subarray(0, length));
      const e = await refusal(path);
      if (length < 4) {
        expect(e.code).toBe('wrong_kind');
        continue;
      }
      expect(e.code).toBe('truncated');
      expect(e.message).toBe(
        `cut-${length}.pth is truncated: the end of its zip archive (the central directory) is missing after ${length} bytes — an interrupted download or copy? Download or copy it again.`,
      );
    }
  });

  it('zip bombs: a directory that claims 100,000 entries, that holds them, or that claims enormous sizes', { timeout: 60_000 }, async () => {
    const inputs = records(fixture('views.pth'));
    // The zip64 end record claims 100,000 entries.
    const claimed = writeZip(inputs, { zip64: true });
    claimed.bytes.writeBigUInt64LE(100_000n, claimed.zip64End! + 24);
    claimed.bytes.writeBigUInt64LE(100_000n, claimed.zip64End! + 32);
    let e = await refusal(write('claims-entries.pth', claimed.bytes));
    expect(e.code).toBe('unsafe');
    expect(e.message).toBe(
      'claims-entries.pth was not opened: its zip directory claims 100000 entries (a model archive has a few thousand at most), which no model file does (a damaged file or a "zip bomb" built to exhaust memory or disk)',
    );
    // 100,000 real entries.
    const many = writeZip(
      [...inputs, ...Array.from({ length: 100_000 }, (_, i) => ({ name: `views/x/${i}`, data: new Uint8Array(0) }))],
      { zip64: true },
    );
    e = await refusal(write('many-entries.pth', many.bytes));
    expect(e.message).toMatch(new RegExp(`its zip directory claims ${inputs.length + 100_000} entries`));
    // An entry whose zip64 size claims a petabyte.
    const huge = writeZip(inputs, { zip64: true });
    const entry = huge.entries.find((x) => x.name === 'views/data/0')!;
    const extra = entry.central + 46 + Buffer.byteLength(entry.name) + 4;
    huge.bytes.writeBigUInt64LE(2n ** 50n, extra);
    huge.bytes.writeBigUInt64LE(2n ** 50n, extra + 8);
    e = await refusal(write('huge-entry.pth', huge.bytes));
    expect(e.code).toBe('unsafe');
    expect(e.message).toMatch(/^huge-entry\.pth was not opened: its entry "views\/data\/0" claims 1125899906842624 bytes, more than the whole \d+-byte file/);
    // A central directory that claims to be larger than the bound.
    const bigDir = writeZip(inputs, { zip64: true });
    bigDir.bytes.writeBigUInt64LE(2n ** 40n, bigDir.zip64End! + 40);
    expect((await refusal(write('huge-directory.pth', bigDir.bytes))).message).toMatch(/its zip directory claims 1099511627776 bytes/);
  });

  it('zip bombs: a deflated pickle that claims gigabytes, or expands past what it declares, is never inflated beyond it', { timeout: 30_000 }, async () => {
    const inputs = records(fixture('views.pth'));
    const declared = writeZip(inputs.map((r) => (r.name.endsWith('data.pkl') ? { ...r, method: 8 as const } : r)), { descriptors: true });
    const pkl = declared.entries.find((x) => x.name.endsWith('data.pkl'))!;
    declared.bytes.writeUInt32LE(0xfffffff0, pkl.central + 24); // the inflated size
    let e = await refusal(write('claims-gigabytes.pth', declared.bytes));
    expect(e.code).toBe('unsafe');
    expect(e.message).toMatch(/its entry "views\/data\.pkl" claims 4294967280 bytes where at most 16777216 are expected/);

    // 64 MB of zeros deflate to ~64 KB; the directory says 1 KB.
    const bomb = writeZip([{ name: 'views/data.pkl', data: new Uint8Array(64 * 1024 * 1024), method: 8 }, ...inputs.filter((r) => !r.name.endsWith('data.pkl'))], {
      descriptors: true,
    });
    const entry = bomb.entries[0]!;
    bomb.bytes.writeUInt32LE(1024, entry.central + 24);
    const before = process.memoryUsage().rss;
    e = await refusal(write('deflate-bomb.pth', bomb.bytes));
    expect(e.message).toMatch(/its entry "views\/data\.pkl" expands past the 1024 bytes it declares/);
    expect(process.memoryUsage().rss - before).toBeLessThan(48 * 1024 * 1024);
  });

  it('entries that overlap, repeat a name, leave their folder, or disagree with their local header', async () => {
    const inputs = records(fixture('views.pth'));
    // data/0 grows (in both size fields) to cover the next entry's header: two entries share bytes.
    const overlap = writeZip(inputs);
    const e0 = overlap.entries.findIndex((x) => x.name === 'views/data/0');
    const grow = overlap.entries[e0 + 1]!.local - overlap.entries[e0]!.data + 8;
    overlap.bytes.writeUInt32LE(grow, overlap.entries[e0]!.central + 20);
    overlap.bytes.writeUInt32LE(grow, overlap.entries[e0]!.central + 24);
    overlap.bytes.writeUInt32LE(grow, overlap.entries[e0]!.local + 18);
    overlap.bytes.writeUInt32LE(grow, overlap.entries[e0]!.local + 22);
    let e = await refusal(write('overlap.pth', overlap.bytes));
    expect(e.code).toBe('unsafe');
    expect(e.message).toMatch(/its entries "views\/data\/0" and "views\/data\/1" overlap/);

    // Two central records pointing at one local header (the classic overlapped-file bomb).
    const shared = writeZip(inputs);
    const a = shared.entries.find((x) => x.name === 'views/data/1')!;
    const b = shared.entries.find((x) => x.name === 'views/data/0')!;
    shared.bytes.writeUInt32LE(b.local, a.central + 42);
    e = await refusal(write('shared.pth', shared.bytes));
    expect(e.message).toMatch(/its entry "views\/data\/1" has another name in its local header/);

    e = await refusal(write('dup.pth', writeZip([...inputs, inputs[1]!]).bytes));
    expect(e.message).toMatch(/it has two entries named "views\/\.format_version"/);
    e = await refusal(write('dotdot.pth', writeZip([...inputs, { name: 'views/../../etc/passwd', data: new Uint8Array(1) }]).bytes));
    expect(e.message).toMatch(/it has an entry named "views\/\.\.\/\.\.\/etc\/passwd", which leaves or repeats its folder/);
    e = await refusal(write('absolute.pth', writeZip([...inputs, { name: '/etc/passwd', data: new Uint8Array(1) }]).bytes));
    expect(e.message).toMatch(/which is not a relative path/);
    e = await refusal(write('two-folders.pth', writeZip([...inputs, { name: 'other/data.pkl', data: new Uint8Array(1) }]).bytes));
    expect(e.message).toMatch(/its entries are not all inside the folder "views"/);

    // A pickle record whose bytes do not match its checksum.
    const flipped = writeZip(inputs);
    flipped.bytes[flipped.entries[0]!.data + 10]! ^= 0xff;
    expect((await refusal(write('flipped.pth', flipped.bytes))).message).toMatch(/its entry "views\/data\.pkl" fails its checksum/);
  });

  it('a storage record of another size than its pickle says, or missing, is refused', async () => {
    const inputs = records(fixture('views.pth'));
    const short = write('short-storage.pth', writeZip(inputs.map((r) => (r.name === 'views/data/0' ? { ...r, data: r.data.subarray(0, 8) } : r))).bytes);
    expect((await refusal(short)).message).toBe(
      'short-storage.pth is not a readable PyTorch archive: its storage "0" holds 8 bytes where its pickle says 48 × torch.FloatStorage; the file is damaged or was not written by torch.save',
    );
    const missing = write('missing-storage.pth', writeZip(inputs.filter((r) => r.name !== 'views/data/1')).bytes);
    expect((await refusal(missing)).message).toMatch(/its pickle refers to storage "1", which the archive does not hold/);
  });
});
