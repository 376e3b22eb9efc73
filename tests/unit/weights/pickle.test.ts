/**
 * The pickle machine and torch's allow-list on hand-written pickles: every way to reach code is
 * refused by name, every bound holds, and damaged bytes (a fuzz of real data.pkl files) only ever
 * give a WeightFileError sentence.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WeightFileError } from '../../../src-main/engine/weights/errors.ts';
import { MAX_PICKLE_OBJECTS, MAX_PICKLE_STACK } from '../../../src-main/engine/weights/pickle.ts';
import type { PyStorage, PyValue } from '../../../src-main/engine/weights/pickle.ts';
import { unpickleTorch } from '../../../src-main/engine/weights/torch-pickle.ts';
import type { TorchUnpickleOptions } from '../../../src-main/engine/weights/torch-pickle.ts';
import { readZipDirectory, readZipEntry, runReadPlanSync } from '../../../src-main/engine/weights/zip.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/reference/pth');

/** Storages of `numel` elements, as the archive reader hands them out. */
const options: TorchUnpickleOptions = {
  file: 'test.pth',
  loadStorage(type, _name, key, _location, numel): PyStorage {
    const dtype = type.dtype === 'untyped' || type.dtype === null ? 'U8' : type.dtype;
    return { type: 'storage', key, dtype, untyped: type.dtype === 'untyped', bytes: numel * (dtype === 'F32' ? 4 : dtype === 'F16' ? 2 : 1) };
  },
};

// Opcodes, written the way pickle writes them.
const b = (...parts: (string | number[] | Buffer)[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const str = (s: string): Buffer => {
  const bytes = Buffer.from(s, 'utf8');
  const n = Buffer.alloc(4);
  n.writeUInt32LE(bytes.length);
  return b('X', n, bytes);
};
const global = (module: string, name: string): Buffer => b(`c${module}\n${name}\n`);
const PROTO = '\x80\x02';

function refused(bytes: Buffer): WeightFileError {
  try {
    unpickleTorch(bytes, options);
  } catch (e) {
    if (!(e instanceof WeightFileError)) throw e;
    return e;
  }
  throw new Error('accepted');
}

/** A _rebuild_tensor_v2 call over storage "0" of `numel` floats. */
const tensorV2 = (numel: number, offset: number, size: number[], stride: number[], metadata = b()): Buffer =>
  b(
    global('torch._utils', '_rebuild_tensor_v2'),
    '(',
    '(', str('storage'), global('torch', 'FloatStorage'), str('0'), str('cpu'), 'J', intLE(numel), 't', 'Q',
    'J', intLE(offset),
    '(', ...size.flatMap((s) => ['J', intLE(s)]), 't',
    '(', ...stride.flatMap((s) => ['J', intLE(s)]), 't',
    '\x89', global('collections', 'OrderedDict'), ')R',
    metadata,
    't', 'R',
  );
function intLE(v: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeInt32LE(v);
  return out;
}

describe('what a state dict needs', () => {
  it('builds numbers, text, OrderedDicts from pairs, torch.Size, tensors and Parameters, and nothing else', () => {
    const long = b('\x8a\x09', [0, 0, 0, 0, 0, 0, 0, 0, 1]); // 2^64
    const negative = b('\x8a\x01', [0xfe]); // -2
    const float = b('G', [0x3f, 0xf8, 0, 0, 0, 0, 0, 0]); // 1.5
    const pairs = b(global('collections', 'OrderedDict'), '(', ']', '(', str('a'), 'K\x01', 't', 'a', 't', 'R');
    const size = b(global('torch', 'Size'), '(', 'K\x02', 'K\x03', '\x86', 't', 'R');
    const param = b(global('torch._utils', '_rebuild_parameter'), '(', tensorV2(6, 0, [2, 3], [3, 1]), '\x88', global('collections', 'OrderedDict'), ')R', 't', 'R');
    const value = unpickleTorch(
      b(PROTO, '}(', str('long'), long, str('neg'), negative, str('f'), float, str('s'), 'U\x03abc', str('od'), pairs, str('size'), size, str('p'), param, 'u.'),
      options,
    ) as Extract<PyValue, { type: 'dict' }>;
    const get = (k: string): PyValue => value.entries.get(`s${k}`)![1];
    expect(get('long')).toBe(2n ** 64n);
    expect(get('neg')).toBe(-2);
    expect(get('f')).toEqual({ type: 'float', value: 1.5 });
    expect(get('s')).toBe('abc');
    expect([...(get('od') as Extract<PyValue, { type: 'dict' }>).entries.values()]).toEqual([['a', 1]]);
    expect(get('size')).toMatchObject({ type: 'tuple', items: [2, 3] });
    expect(get('p')).toMatchObject({ type: 'tensor', dtype: 'F32', shape: [2, 3], stride: [3, 1], parameter: true });
  });
});

describe('every way to code is refused, by name where the pickle names it', () => {
  const runs = (name: string): string => `test.pth asks to run ${name} when opened; the studio never runs code from a model file — use the .safetensors release instead`;
  it('GLOBAL of anything off the list, with Python 2 module names mapped back', () => {
    expect(refused(b(PROTO, global('os', 'system'), str('x'), '\x85R.')).message).toBe(runs('os.system'));
    expect(refused(b(PROTO, global('__builtin__', 'getattr'), '.')).message).toBe(runs('builtins.getattr'));
    expect(refused(b(PROTO, global('subprocess', 'Popen'), '.')).message).toBe(runs('subprocess.Popen'));
    expect(refused(b(PROTO, global('torch', 'load'), '.')).message).toBe(runs('torch.load'));
    expect(refused(b(PROTO, global('torch.nn.modules.linear', 'Linear'), ')\x81.')).message).toBe(runs('torch.nn.modules.linear.Linear'));
    // Names a message shows are printable and short.
    expect(refused(b(PROTO, global('x\x01y', 'z'.repeat(200)), '.')).message).toMatch(/asks to run x\?y\.z{96}… when opened/);
  });

  it('INST and STACK_GLOBAL name their class; OBJ and EXT are refused', () => {
    expect(refused(b(PROTO, '(', str('x'), 'ios\nsystem\n.')).message).toBe(runs('os.system'));
    expect(refused(b(PROTO, str('posix'), str('system'), '\x93', '.')).message).toBe(runs('posix.system'));
    expect(refused(b(PROTO, str('collections'), str('OrderedDict'), '\x93', '.')).message).toMatch(/STACK_GLOBAL, which torch\.save never writes/);
    expect(refused(b(PROTO, '(', 'N', 'o.')).code).toBe('unsafe');
    expect(refused(b(PROTO, '\x82\x01.')).code).toBe('unsafe');
  });

  it('REDUCE/NEWOBJ on anything but an allowed callable, BUILD on anything but an OrderedDict', () => {
    expect(refused(b(PROTO, str('os.system'), str('x'), '\x85R.')).message).toMatch(/calls a str value as a function \(REDUCE\)/);
    expect(refused(b(PROTO, '}', ')', '\x81.')).message).toMatch(/calls a dict value as a function \(NEWOBJ\)/);
    expect(refused(b(PROTO, global('torch', 'FloatStorage'), ')R.')).message).toMatch(/it calls torch\.FloatStorage, which torch\.save never does/);
    expect(refused(b(PROTO, global('torch', 'float32'), ')R.')).code).toBe('corrupt');
    expect(refused(b(PROTO, '}', '}', 'b.')).message).toMatch(/BUILD on a dict/);
    expect(refused(b(PROTO, ']', '}', 'b.')).code).toBe('unsupported');
  });

  it('persistent ids other than storages', () => {
    expect(refused(b(PROTO, str('x'), 'Q.')).message).toMatch(/asks to load a str from outside the pickle/);
    expect(refused(b(PROTO, '(', str('module'), str('os'), 't', 'Q.')).message).toMatch(/asks to load "module" from outside the pickle/);
  });

  it('what torch allows but the studio does not read is unsupported, not code', () => {
    const e = refused(b(PROTO, global('torch._utils', '_rebuild_sparse_tensor'), '.'));
    expect(e.code).toBe('unsupported');
    expect(e.message).toBe('test.pth holds a sparse tensor (torch._utils._rebuild_sparse_tensor), which the studio does not read — use the .safetensors release instead');
    expect(refused(b(PROTO, global('torch', 'device'), '.')).code).toBe('unsupported');
    expect(refused(b(PROTO, global('torch', 'FloatTensor'), '.')).code).toBe('unsupported');
    const complex = b(PROTO, '(', str('storage'), global('torch', 'ComplexFloatStorage'), str('0'), str('cpu'), 'K\x01', 't', 'Q.');
    expect(refused(complex).message).toBe('test.pth holds ComplexFloat tensors (torch.ComplexFloatStorage), which the studio does not read — use the .safetensors release instead');
  });
});

describe('tensors are checked against their storages', () => {
  it('a view reaching past its storage, negative or fractional sizes, mismatched strides', () => {
    expect(unpickleTorch(b(PROTO, tensorV2(12, 6, [2, 3], [3, 1]), '.'), options)).toMatchObject({ type: 'tensor', storageOffset: 6 });
    expect(refused(b(PROTO, tensorV2(12, 7, [2, 3], [3, 1]), '.')).message).toMatch(/a F32 tensor of shape \[2, 3\] reaches past the end of its 48-byte storage "0"/);
    expect(refused(b(PROTO, tensorV2(12, 0, [2, 7], [7, 1]), '.')).code).toBe('corrupt');
    expect(refused(b(PROTO, tensorV2(12, 0, [-2, 3], [3, 1]), '.')).message).toMatch(/size holds a int that is not a whole number/);
    expect(refused(b(PROTO, tensorV2(12, 0, [2, 3], [3]), '.')).message).toMatch(/a size and a stride of different lengths/);
    // An empty tensor reaches nothing, whatever its offset.
    expect(unpickleTorch(b(PROTO, tensorV2(0, 0, [0, 3], [3, 1]), '.'), options)).toMatchObject({ shape: [0, 3] });
  });

  it('tensor metadata (neg / conj bits) is carried as unsupported; all-false metadata is fine', () => {
    const neg = b('}', str('neg'), '\x88', 's');
    expect(unpickleTorch(b(PROTO, tensorV2(2, 0, [2], [1], neg), '.'), options)).toMatchObject({ unsupported: 'is stored as a view with neg set (tensor metadata)' });
    const off = b('}', str('neg'), '\x89', 's');
    expect(unpickleTorch(b(PROTO, tensorV2(2, 0, [2], [1], off), '.'), options)).not.toHaveProperty('unsupported');
  });
});

describe('bounds', () => {
  it('the stack, MARK nesting and container nesting', () => {
    expect(refused(b(PROTO, 'N'.repeat(MAX_PICKLE_STACK + 1), '.')).message).toMatch(/keeps more than 100,000 values on its stack/);
    // MARKs hold their values: the bound counts the values under every MARK.
    expect(refused(b(PROTO, '(NNNN'.repeat(200), 'N'.repeat(MAX_PICKLE_STACK), '.')).message).toMatch(/on its stack/);
    expect(refused(b(PROTO, '('.repeat(300), '.')).message).toMatch(/opens more than 256 nested MARKs/);
    expect(refused(b(PROTO, ']', ']a'.repeat(10), 'K\x01', '\x85'.repeat(300), '.')).message).toMatch(/nests values more than 256 levels deep/);
    expect(refused(Buffer.alloc(16 * 1024 * 1024 + 1)).message).toMatch(/is 16777217 bytes long/);
  });

  it('the object count (2 million empty tuples appended to one list)', { timeout: 60_000 }, () => {
    expect(refused(b(PROTO, ']', ')a'.repeat(MAX_PICKLE_OBJECTS + 1), '.')).message).toMatch(/creates more than 2,000,000 objects/);
  });

  it('instructions that need values that are not there', () => {
    for (const bad of ['\x80\x02.', '\x80\x02t.', '\x80\x02h\x05.', '\x80\x02Na.', '\x80\x02NNs.', '\x80\x02}(Nu.', '\x80\x02X\xff\x00\x00\x00ab', '\x80\x02cos', '\x80\x02']) {
      expect(refused(Buffer.from(bad, 'latin1')).code).toBe('corrupt');
    }
    expect(refused(b(PROTO, '\x94.')).message).toBe("test.pth holds a pickle instruction (0x94) that PyTorch's weights-only loader does not accept either, which the studio does not read — use the .safetensors release instead");
  });
});

describe('damaged data.pkl files', () => {
  /** The data.pkl of a real archive. */
  function dataPkl(name: string): Buffer {
    const path = join(FIXTURES, name);
    const size = readFileSync(path).length;
    const fd = openSync(path, 'r');
    try {
      const zip = runReadPlanSync(readZipDirectory(name, size), fd);
      const entry = zip.order.find((e) => e.name.endsWith('/data.pkl'))!;
      return Buffer.from(runReadPlanSync(readZipEntry(name, size, entry, 1 << 20), fd));
    } finally {
      closeSync(fd);
    }
  }

  it('every cut and thousands of random byte changes give a value or one WeightFileError, never another error', { timeout: 60_000 }, () => {
    let seed = 12345;
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const outcomes = { ok: 0, refused: 0 };
    const attempt = (bytes: Buffer): void => {
      try {
        unpickleTorch(bytes, options);
        outcomes.ok++;
      } catch (e) {
        if (!(e instanceof WeightFileError)) throw new Error(`not a WeightFileError for ${bytes.toString('hex')}: ${String(e)}`);
        expect(e.message.startsWith('test.pth')).toBe(true);
        outcomes.refused++;
      }
    };
    for (const name of ['views.pth', 'state-dict.pth', 'dtypes.pth']) {
      const original = dataPkl(name);
      for (let n = 0; n < original.length; n++) attempt(original.subarray(0, n));
      for (let i = 0; i < 1500; i++) {
        const mutated = Buffer.from(original);
        const changes = 1 + Math.floor(random() * 4);
        for (let c = 0; c < changes; c++) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
        attempt(mutated);
      }
    }
    expect(outcomes.refused).toBeGreaterThan(1000);
    expect(outcomes.ok).toBeGreaterThan(0);
  });
});
