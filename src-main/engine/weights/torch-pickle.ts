/**
 * The allow-list the pickle machine (`pickle.ts`) reads `data.pkl` with, and what each allowed
 * name does — modelled on PyTorch's weights-only unpickler (`torch/_weights_only_unpickler.py`,
 * `_get_allowed_globals`) and the rebuild functions in `torch/_utils.py` and `torch/_tensor.py`,
 * whose effects are reproduced here as plain values, never called:
 *
 * - `collections.OrderedDict` (empty, or from pairs; BUILD sets only its attributes, such as a
 *   state dict's `_metadata`), `torch.Size` (a tuple);
 * - storages named in persistent ids ('storage', type, key, location, numel): the typed legacy
 *   classes (`torch.FloatStorage`… and their `torch.cuda.` forms) and `torch.storage.UntypedStorage`;
 * - `torch._utils._rebuild_tensor`, `_rebuild_tensor_v2`, `_rebuild_tensor_v3` (an explicit dtype
 *   over untyped bytes: how float8 tensors are saved), `_rebuild_parameter(_with_state)`,
 *   `torch.nn.parameter.Parameter`, and `torch._tensor._rebuild_from_type_v2` for a plain Tensor or
 *   Parameter with Python attributes (the attributes are dropped);
 * - the dtypes (`torch.float32`…), as values.
 *
 * torch also allows sparse, quantized, nested and meta tensors, devices, Counters and a few
 * builtins; the studio names these as unsupported. Every other name "asks to run" code and is
 * refused — `os.system`, `posix.system`, `builtins.eval`, any unknown class — as torch refuses it.
 */
import { DTYPE_BYTES } from './dtypes.ts';
import type { WeightDtype } from './dtypes.ts';
import { displayName, isObject, runPickle, typeName } from './pickle.ts';
import type { PickleContext, PickleHooks, PyGlobal, PyStorage, PyTensor, PyValue } from './pickle.ts';

type RebuildFn = 'tensor' | 'tensor_v2' | 'tensor_v3' | 'parameter' | 'parameter_with_state' | 'from_type_v2';

export type TorchGlobal =
  | { readonly kind: 'ordered_dict' }
  | { readonly kind: 'size' }
  | { readonly kind: 'rebuild'; readonly fn: RebuildFn }
  | { readonly kind: 'tensor_type'; readonly parameter: boolean }
  | { readonly kind: 'storage_type'; readonly dtype: WeightDtype | 'untyped' | null; readonly label: string }
  | { readonly kind: 'dtype'; readonly dtype: WeightDtype | null; readonly label: string };

export type StorageType = Extract<TorchGlobal, { kind: 'storage_type' }>;

const STORAGE_DTYPES: Readonly<Record<string, WeightDtype | null>> = {
  DoubleStorage: 'F64',
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
  ComplexDoubleStorage: null,
  ComplexFloatStorage: null,
  QInt8Storage: null,
  QInt32Storage: null,
  QUInt8Storage: null,
  QUInt4x2Storage: null,
  QUInt2x4Storage: null,
};

/** torch dtypes by name (`torch.float32` pickles as GLOBAL 'torch float32'); null: known but not read. */
const TORCH_DTYPES: Readonly<Record<string, WeightDtype | null>> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
  float8_e4m3fn: 'F8_E4M3',
  float8_e5m2: 'F8_E5M2',
  ...Object.fromEntries(
    [
      ...['complex32', 'complex64', 'complex128', 'uint16', 'uint32', 'uint64', 'float8_e4m3fnuz', 'float8_e5m2fnuz', 'float8_e8m0fnu'],
      ...['float4_e2m1fn_x2', 'bits8', 'bits16', 'bits1x8', 'bits2x4', 'bits4x2', 'qint8', 'qint32', 'quint8', 'quint4x2', 'quint2x4'],
      ...[1, 2, 3, 4, 5, 6, 7].flatMap((n) => [`int${n}`, `uint${n}`]),
    ].map((n) => [n, null]),
  ),
};

const ALLOWED: ReadonlyMap<string, TorchGlobal> = new Map<string, TorchGlobal>([
  ['collections.OrderedDict', { kind: 'ordered_dict' }],
  ['torch.Size', { kind: 'size' }],
  ['torch._utils._rebuild_tensor', { kind: 'rebuild', fn: 'tensor' }],
  ['torch._utils._rebuild_tensor_v2', { kind: 'rebuild', fn: 'tensor_v2' }],
  ['torch._utils._rebuild_tensor_v3', { kind: 'rebuild', fn: 'tensor_v3' }],
  ['torch._utils._rebuild_parameter', { kind: 'rebuild', fn: 'parameter' }],
  ['torch._utils._rebuild_parameter_with_state', { kind: 'rebuild', fn: 'parameter_with_state' }],
  ['torch._tensor._rebuild_from_type_v2', { kind: 'rebuild', fn: 'from_type_v2' }],
  ['torch.Tensor', { kind: 'tensor_type', parameter: false }],
  ['torch.nn.parameter.Parameter', { kind: 'tensor_type', parameter: true }],
  ['torch.storage.UntypedStorage', { kind: 'storage_type', dtype: 'untyped', label: 'untyped bytes' }],
  ...Object.entries(STORAGE_DTYPES).flatMap(([name, dtype]) =>
    ['torch', 'torch.cuda'].map((m): [string, TorchGlobal] => [`${m}.${name}`, { kind: 'storage_type', dtype, label: name.replace(/Storage$/, '') }]),
  ),
  ...Object.entries(TORCH_DTYPES).map(([name, dtype]): [string, TorchGlobal] => [`torch.${name}`, { kind: 'dtype', dtype, label: `torch.${name}` }]),
]);

/** What torch's weights-only loader also allows but the studio does not read (named as unsupported, not as code). */
function torchAllowsButUnread(name: string): string | null {
  const known: Record<string, string> = {
    'torch._utils._rebuild_qtensor': 'a quantized tensor',
    'torch._utils._rebuild_sparse_tensor': 'a sparse tensor',
    'torch._utils._rebuild_nested_tensor': 'a nested tensor',
    'torch._utils._rebuild_meta_tensor_no_storage': 'a tensor without data (meta device)',
    'torch._utils._rebuild_wrapper_subclass': 'a tensor subclass',
    'torch._utils._rebuild_device_tensor_from_numpy': 'a tensor rebuilt from numpy',
    'torch._utils._rebuild_device_tensor_from_cpu_tensor': 'a tensor for another device',
    'torch.serialization._get_layout': 'a tensor layout',
    'torch.device': 'a device object',
    'collections.Counter': 'a Counter',
    '_codecs.encode': 'a bytes value',
    'builtins.bytearray': 'a bytearray',
    'builtins.set': 'a set',
    'builtins.complex': 'a complex number',
    'torch.storage.TypedStorage': 'a typed storage object',
  };
  if (known[name]) return known[name];
  if (/^torch\.per_(tensor|channel)_/.test(name)) return 'a quantization scheme';
  if (/^torch\.(cuda\.)?(sparse\.)?[A-Z][A-Za-z0-9]*Tensor$/.test(name)) return 'a legacy tensor type';
  return null;
}

function asInt(v: PyValue | undefined): number | null {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

const torchGlobal = (v: PyValue | undefined): TorchGlobal | null => (isObject(v, 'global') ? (v.def as TorchGlobal) : null);
const nameOf = (v: PyValue | undefined): string => (isObject(v, 'global') ? v.name : v === undefined ? 'nothing' : typeName(v));

export interface TorchUnpickleOptions {
  /** The file's name, for sentences. */
  readonly file: string;
  /** The storage a persistent id names: `numel` elements of `type` under `key` (its record data/<key>). */
  readonly loadStorage: (type: StorageType, typeName: string, key: string, location: string, numel: number) => PyStorage;
}

function tensorFrom(ctx: PickleContext, args: readonly PyValue[], dtype: WeightDtype | null, metadata: PyValue | undefined): PyTensor {
  const { refuse } = ctx;
  const [storage, offsetV, sizeV, strideV] = args;
  if (!isObject(storage, 'storage')) throw refuse.damaged(`a tensor is rebuilt from a ${nameOf(storage)} rather than a storage`);
  const ints = (v: PyValue | undefined, what: string): number[] => {
    if (!isObject(v, 'tuple')) throw refuse.damaged(`a tensor's ${what} is a ${nameOf(v)}, not a tuple`);
    if (v.items.length > 64) throw refuse.damaged(`a tensor has ${v.items.length} dimensions`);
    return v.items.map((i) => {
      const n = asInt(i);
      if (n === null || n < 0) throw refuse.damaged(`a tensor's ${what} holds a ${typeName(i)} that is not a whole number`);
      return n;
    });
  };
  const shape = ints(sizeV, 'size');
  const stride = ints(strideV, 'stride');
  const storageOffset = asInt(offsetV);
  if (storageOffset === null || storageOffset < 0) throw refuse.damaged("a tensor's storage offset is not a whole number");
  if (shape.length !== stride.length) throw refuse.damaged('a tensor has a size and a stride of different lengths');
  const elementType = dtype ?? storage.dtype;
  // Every element the view reaches must lie inside its storage (exact arithmetic).
  let numel = 1n;
  let last = BigInt(storageOffset);
  for (let d = 0; d < shape.length; d++) {
    numel *= BigInt(shape[d]!);
    if (shape[d]! > 0) last += BigInt(shape[d]! - 1) * BigInt(stride[d]!);
  }
  if (numel > 0n && (last + 1n) * BigInt(DTYPE_BYTES[elementType]) > BigInt(storage.bytes)) {
    throw refuse.damaged(`a ${elementType} tensor of shape [${shape.join(', ')}] reaches past the end of its ${storage.bytes}-byte storage "${displayName(storage.key)}"`);
  }
  // torch's tensor metadata marks negated and conjugated views (`_utils.set_tensor_metadata`).
  let unsupported: string | undefined;
  if (metadata !== undefined && metadata !== null) {
    if (!isObject(metadata, 'dict')) throw refuse.damaged("a tensor's metadata is not a dictionary");
    const set = [...metadata.entries.values()].filter(([, v]) => v !== false).map(([k]) => displayName(String(k)));
    if (set.length > 0) unsupported = `is stored as a view with ${set.join(', ')} set (tensor metadata)`;
  }
  return ctx.created({ type: 'tensor', storage, dtype: elementType, storageOffset, shape, stride, parameter: false, ...(unsupported ? { unsupported } : {}) });
}

function asTensor(ctx: PickleContext, v: PyValue | undefined, what: string): PyTensor {
  if (!isObject(v, 'tensor')) throw ctx.refuse.damaged(`${what} is given a ${nameOf(v)} rather than a tensor`);
  return v;
}

function rebuild(ctx: PickleContext, fn: RebuildFn, args: readonly PyValue[]): PyTensor {
  const { refuse } = ctx;
  const arity = (min: number, max = min): void => {
    if (args.length < min || args.length > max) throw refuse.damaged(`torch's _rebuild_${fn} is given ${args.length} arguments`);
  };
  const flagsAndHooks = (): void => {
    if (typeof args[4] !== 'boolean') throw refuse.damaged("a tensor's requires_grad is not a bool");
    if (!isObject(args[5], 'dict')) throw refuse.damaged("a tensor's backward hooks are not a dictionary");
  };
  switch (fn) {
    case 'tensor': // _rebuild_tensor(storage, storage_offset, size, stride)
      arity(4);
      return tensorFrom(ctx, args, null, undefined);
    case 'tensor_v2': // _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks, metadata=None)
      arity(6, 7);
      flagsAndHooks();
      return tensorFrom(ctx, args, null, args[6]);
    case 'tensor_v3': {
      // _rebuild_tensor_v3(storage, offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None)
      arity(7, 8);
      flagsAndHooks();
      const dtype = torchGlobal(args[6]);
      if (dtype?.kind !== 'dtype') throw refuse.damaged("a tensor's dtype is not a torch dtype");
      if (dtype.dtype === null) throw refuse.unsupported(`${dtype.label} tensors`);
      return tensorFrom(ctx, args, dtype.dtype, args[7]);
    }
    case 'parameter': // _rebuild_parameter(data, requires_grad, backward_hooks)
    case 'parameter_with_state': // _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state)
      arity(fn === 'parameter' ? 3 : 4);
      return ctx.created({ ...asTensor(ctx, args[0], 'a Parameter'), parameter: true });
    case 'from_type_v2': {
      // _rebuild_from_type_v2(func, new_type, args, state): func(*args) as new_type, with state as attributes.
      arity(4);
      const [func, newType, inner] = args;
      const f = torchGlobal(func);
      if (f?.kind !== 'rebuild' || f.fn === 'from_type_v2') throw refuse.damaged(`a tensor is rebuilt by a ${nameOf(func)}`);
      const type = torchGlobal(newType);
      if (type?.kind !== 'tensor_type') throw refuse.unsupported(`a tensor subclass (${displayName(nameOf(newType))})`);
      if (!isObject(inner, 'tuple')) throw refuse.damaged('a tensor rebuild is given arguments that are not a tuple');
      const tensor = rebuild(ctx, f.fn, inner.items);
      return type.parameter ? ctx.created({ ...tensor, parameter: true }) : tensor;
    }
  }
}

function hooks(options: TorchUnpickleOptions): PickleHooks {
  return {
    isAllowed: (name) => ALLOWED.has(name),

    global(name, ctx) {
      const def = ALLOWED.get(name);
      if (def) return ctx.created<PyGlobal>({ type: 'global', name, def });
      const unread = torchAllowsButUnread(name);
      if (unread) throw ctx.refuse.unsupported(`${unread} (${displayName(name)})`);
      throw ctx.refuse.runs(displayName(name));
    },

    call(callable, args, how, ctx) {
      const { refuse } = ctx;
      const def = torchGlobal(callable);
      // Only a global the list allowed can be called; any other value in that place is an attack.
      if (!def) throw refuse.crafted(`calls a ${typeName(callable)} value as a function (${how})`);
      const name = nameOf(callable);
      if (!isObject(args, 'tuple')) throw refuse.damaged(`${name} is called with ${typeName(args)} arguments`);
      switch (def.kind) {
        case 'ordered_dict': {
          const dict = ctx.dict(true);
          if (args.items.length === 1) {
            const pairs = args.items[0];
            if (!isObject(pairs, 'list') && !isObject(pairs, 'tuple')) throw refuse.damaged('an OrderedDict is built from something other than pairs');
            for (const pair of pairs.items) {
              if (!isObject(pair, 'tuple') || pair.items.length !== 2) throw refuse.damaged('an OrderedDict is built from something other than pairs');
              ctx.setItem(dict, pair.items[0]!, pair.items[1]!);
            }
          } else if (args.items.length !== 0) {
            throw refuse.damaged(`an OrderedDict is built with ${args.items.length} arguments`);
          }
          return dict;
        }
        case 'size': {
          const inner = args.items.length === 0 ? ctx.tuple([]) : args.items[0];
          if (args.items.length > 1 || !isObject(inner, 'tuple')) throw refuse.damaged('a torch.Size is built from something other than a tuple');
          return inner;
        }
        case 'rebuild':
          if (how === 'NEWOBJ') throw refuse.damaged(`${name} is used as a class`);
          return rebuild(ctx, def.fn, args.items);
        case 'tensor_type':
          // Parameter(data, requires_grad) as torch's loader allows it (REDUCE or NEWOBJ).
          if (def.parameter && (args.items.length === 1 || args.items.length === 2)) {
            return ctx.created({ ...asTensor(ctx, args.items[0], 'a Parameter'), parameter: true });
          }
          throw refuse.unsupported(`a tensor built directly by ${name}`);
        case 'storage_type':
        case 'dtype':
          throw refuse.damaged(`it calls ${name}, which torch.save never does`);
      }
    },

    build(instance, state, ctx) {
      // torch sets state on Tensor, Parameter and OrderedDict; torch.save writes it only for an
      // OrderedDict's attributes (`_metadata`), which name no weights.
      if (!isObject(instance, 'dict') || !instance.ordered) throw ctx.refuse.unsupported(`an object whose state is set by BUILD on a ${typeName(instance)}`);
      instance.attributes = state;
    },

    persistentLoad(pid, ctx) {
      const { refuse } = ctx;
      if (!isObject(pid, 'tuple') || pid.items.length === 0) throw refuse.crafted(`asks to load a ${typeName(pid)} from outside the pickle (only storages may be)`);
      const [tag, storageType, key, location, numel] = pid.items;
      const tagText = typeof tag === 'string' ? tag : isObject(tag, 'bytes') ? Buffer.from(tag.bytes).toString('latin1') : typeName(tag!);
      if (tagText !== 'storage') throw refuse.crafted(`asks to load "${displayName(tagText)}" from outside the pickle (only storages may be)`);
      if (pid.items.length !== 5) throw refuse.damaged(`a storage reference has ${pid.items.length} fields`);
      const type = torchGlobal(storageType);
      if (type?.kind !== 'storage_type') throw refuse.damaged('a storage reference does not name a storage type');
      if (type.dtype === null) throw refuse.unsupported(`${type.label} tensors (${nameOf(storageType)})`);
      const n = asInt(numel);
      if (typeof key !== 'string' || typeof location !== 'string' || n === null || n < 0) throw refuse.damaged('a storage reference has a malformed key, location or size');
      return ctx.created(options.loadStorage(type, nameOf(storageType), key, location, n));
    },
  };
}

/** A `data.pkl`'s value, built only from what the allow-list permits. */
export function unpickleTorch(bytes: Uint8Array, options: TorchUnpickleOptions): PyValue {
  return runPickle(bytes, options.file, hooks(options));
}
