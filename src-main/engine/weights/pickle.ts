/**
 * A pickle machine that executes nothing: it interprets the protocol-2 instructions `torch.save`
 * writes and PyTorch's weights-only unpickler accepts (`torch/_weights_only_unpickler.py`, the same
 * opcode list: PROTO, STOP, MARK, the EMPTY_*, TUPLE*, BININT*, LONG1, BINFLOAT, BINUNICODE,
 * SHORT_BINSTRING, NONE/NEWTRUE/NEWFALSE, BINGET/BINPUT and their LONG_ forms, APPEND(S),
 * SETITEM(S), GLOBAL, REDUCE, NEWOBJ, BUILD, BINPERSID) over a value model of plain data, and hands
 * every instruction that would name or call code — GLOBAL, REDUCE, NEWOBJ, BUILD, BINPERSID — to
 * hooks that decide from an allow-list (`torch-pickle.ts`). A name is only ever looked up in that
 * list, never imported; a call only ever builds one of the values below. Instructions that could
 * reach code by other routes (INST, OBJ, STACK_GLOBAL, EXT*) are refused, naming the code where
 * the pickle names it.
 *
 * Everything is bounded before it is allocated: the pickle's size, MARK nesting, values alive on the
 * stack, objects created and container nesting, so a pickle bomb is refused instead of exhausting
 * memory. Errors are `WeightFileError`s with one sentence naming the file.
 */
import type { WeightDtype } from './dtypes.ts';
import { WeightFileError } from './errors.ts';

/** A data.pkl of a 65,535-tensor archive is a few megabytes. */
export const MAX_PICKLE_BYTES = 16 * 1024 * 1024;
/** Objects (containers, strings, tensors) a pickle may create: ~10 per tensor in a state dict. */
export const MAX_PICKLE_OBJECTS = 2_000_000;
/** MARK levels and container nesting: a state dict nests a few levels, three MARKs per level. */
export const MAX_PICKLE_NESTING = 256;
/** Values alive on the stack at once (pickle batches dictionary items by 1,000). */
export const MAX_PICKLE_STACK = 100_000;

export interface PyFloat {
  readonly type: 'float';
  readonly value: number;
}
export interface PyBytes {
  readonly type: 'bytes';
  readonly bytes: Uint8Array;
}
export interface PyTuple {
  readonly type: 'tuple';
  readonly items: readonly PyValue[];
  readonly depth: number;
}
export interface PyList {
  readonly type: 'list';
  readonly items: PyValue[];
  depth: number;
}
export interface PyDict {
  readonly type: 'dict';
  readonly ordered: boolean;
  /** Keyed by the Python key's identity (see `hashKey`), holding the key and the value. */
  readonly entries: Map<string, readonly [PyValue, PyValue]>;
  depth: number;
  /** An OrderedDict's instance attributes (a state dict's `_metadata`), set by BUILD. */
  attributes?: PyValue;
}
export interface PySet {
  readonly type: 'set';
}
/** An allowed global, by its full name; what it is to the hooks is `def`. */
export interface PyGlobal<Def = unknown> {
  readonly type: 'global';
  readonly name: string;
  readonly def: Def;
}
/** Raw bytes under `key`, handed out by a persistent load. */
export interface PyStorage {
  readonly type: 'storage';
  readonly key: string;
  /** The storage's element type; an untyped storage is bytes (U8). */
  readonly dtype: WeightDtype;
  readonly untyped: boolean;
  readonly bytes: number;
}
/** A view of a storage, as torch rebuilds a tensor. */
export interface PyTensor {
  readonly type: 'tensor';
  readonly storage: PyStorage;
  readonly dtype: WeightDtype;
  /** In elements of `dtype`. */
  readonly storageOffset: number;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly parameter: boolean;
  /** Why the studio cannot use this tensor as stored (a negated view…), for the sentence that names it. */
  readonly unsupported?: string;
}
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyFloat
  | PyBytes
  | PyTuple
  | PyList
  | PyDict
  | PySet
  | PyGlobal
  | PyStorage
  | PyTensor;

export function typeName(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  return v.type;
}

export function isObject<T extends Exclude<PyValue, null | boolean | number | bigint | string>['type']>(
  v: PyValue | undefined,
  type: T,
): v is Extract<PyValue, { type: T }> {
  return v !== null && v !== undefined && typeof v === 'object' && v.type === type;
}

/** A name as a message may show it: printable, at most 100 characters. */
export function displayName(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 100 ? `${clean.slice(0, 100)}…` : clean;
}

/** Python 2 module names that protocol 2 writes for Python 3 ones (the reverse of _compat_pickle). */
const PY2_MODULES: Readonly<Record<string, string>> = { __builtin__: 'builtins', copy_reg: 'copyreg', exceptions: 'builtins' };

export function globalName(module: string, name: string): string {
  return `${PY2_MODULES[module] ?? module}.${name}`;
}

/** The sentences a refused pickle gets, each naming the file. */
export class PickleRefusal {
  readonly file: string;
  constructor(file: string) {
    this.file = file;
  }
  damaged(detail: string): WeightFileError {
    return new WeightFileError('corrupt', `${this.file}: its data.pkl is damaged (${detail}); download or copy the file again`);
  }
  runs(what: string): WeightFileError {
    return new WeightFileError('unsafe', `${this.file} asks to run ${what} when opened; the studio never runs code from a model file — use the .safetensors release instead`);
  }
  crafted(detail: string): WeightFileError {
    return new WeightFileError(
      'unsafe',
      `${this.file} was not opened: its data.pkl ${detail}, which only a crafted file does; the studio never runs code from a model file — use the .safetensors release instead`,
    );
  }
  bomb(detail: string): WeightFileError {
    return new WeightFileError('unsafe', `${this.file} was not opened: its data.pkl ${detail}, which no weights file does (a damaged file or a pickle bomb built to exhaust memory)`);
  }
  unsupported(detail: string): WeightFileError {
    return new WeightFileError('unsupported', `${this.file} holds ${detail}, which the studio does not read — use the .safetensors release instead`);
  }
}

/** What hooks may use to build values within the machine's bounds. */
export interface PickleContext {
  readonly refuse: PickleRefusal;
  /** Counts an object against the bound and returns it. */
  created<T extends PyValue>(value: T): T;
  tuple(items: PyValue[]): PyTuple;
  dict(ordered: boolean): PyDict;
  setItem(dict: PyDict, key: PyValue, value: PyValue): void;
}

/** The decisions an allow-list makes; each refuses (throws) what it does not allow. */
export interface PickleHooks {
  /** GLOBAL module\nname\n, as the full name ("collections.OrderedDict"). */
  global(fullName: string, ctx: PickleContext): PyValue;
  isAllowed(fullName: string): boolean;
  /** REDUCE (callable(*args)) and NEWOBJ (cls.__new__(cls, *args)). */
  call(callable: PyValue, args: PyValue, how: 'REDUCE' | 'NEWOBJ', ctx: PickleContext): PyValue;
  /** BUILD: `state` set on `instance`. */
  build(instance: PyValue, state: PyValue, ctx: PickleContext): void;
  /** BINPERSID. */
  persistentLoad(pid: PyValue, ctx: PickleContext): PyValue;
}

function depthOf(v: PyValue): number {
  if (isObject(v, 'tuple') || isObject(v, 'list') || isObject(v, 'dict')) return v.depth;
  return 0;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The pickle's result: one value built only from what the hooks allow. */
export function runPickle(bytes: Uint8Array, file: string, hooks: PickleHooks): PyValue {
  const refuse = new PickleRefusal(file);
  if (bytes.length > MAX_PICKLE_BYTES) throw refuse.bomb(`is ${bytes.length} bytes long`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let stack: PyValue[] = [];
  const metastack: PyValue[][] = [];
  let buried = 0; // values in the stacks under the current MARK
  const memo = new Map<number, PyValue>();
  let objects = 0;

  const take = (n: number): number => {
    if (pos + n > bytes.length) throw refuse.damaged('it ends in the middle of an instruction');
    const at = pos;
    pos += n;
    return at;
  };
  const created = <T extends PyValue>(v: T): T => {
    if (++objects > MAX_PICKLE_OBJECTS) throw refuse.bomb(`creates more than ${MAX_PICKLE_OBJECTS.toLocaleString('en-US')} objects`);
    return v;
  };
  const nested = (depth: number): number => {
    if (depth > MAX_PICKLE_NESTING) throw refuse.bomb(`nests values more than ${MAX_PICKLE_NESTING} levels deep`);
    return depth;
  };
  const hashKey = (k: PyValue, depth = 0): string => {
    if (depth > MAX_PICKLE_NESTING) throw refuse.bomb(`nests a key more than ${MAX_PICKLE_NESTING} levels deep`);
    if (k === null) return 'n';
    if (typeof k === 'string') return `s${k}`;
    if (typeof k === 'number' || typeof k === 'bigint') return `i${k}`;
    if (typeof k === 'boolean') return k ? 'i1' : 'i0';
    if (k.type === 'float') return Number.isInteger(k.value) ? `i${k.value}` : `f${k.value}`;
    if (k.type === 'tuple') return `t(${k.items.map((i) => hashKey(i, depth + 1)).join(',')})`;
    if (k.type === 'bytes') return `b${Buffer.from(k.bytes).toString('hex')}`;
    throw refuse.damaged(`a dictionary key is a ${typeName(k)}, which cannot be a key`);
  };
  const ctx: PickleContext = {
    refuse,
    created,
    tuple(items) {
      let depth = 0;
      for (const item of items) depth = Math.max(depth, depthOf(item));
      return created({ type: 'tuple', items, depth: nested(1 + depth) });
    },
    dict(ordered) {
      return created({ type: 'dict', ordered, entries: new Map(), depth: 1 });
    },
    setItem(dict, k, v) {
      dict.entries.set(hashKey(k), [k, v]);
      dict.depth = nested(Math.max(dict.depth, 1 + depthOf(v)));
    },
  };

  const push = (v: PyValue): void => {
    if (stack.length + buried >= MAX_PICKLE_STACK) throw refuse.bomb(`keeps more than ${MAX_PICKLE_STACK.toLocaleString('en-US')} values on its stack`);
    stack.push(v);
  };
  const pop = (): PyValue => {
    if (stack.length === 0) throw refuse.damaged('an instruction finds its stack empty');
    return stack.pop()!;
  };
  const top = (): PyValue => {
    if (stack.length === 0) throw refuse.damaged('an instruction finds its stack empty');
    return stack[stack.length - 1]!;
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const below = metastack.pop();
    if (!below) throw refuse.damaged('it closes a MARK it never opened');
    stack = below;
    buried -= below.length;
    return items;
  };
  const line = (): string => {
    const end = bytes.subarray(pos, pos + 257).indexOf(0x0a);
    if (end < 0) throw refuse.damaged('a GLOBAL name is not a short line of text');
    let text: string;
    try {
      text = utf8.decode(bytes.subarray(pos, pos + end));
    } catch {
      throw refuse.damaged('a GLOBAL name is not valid UTF-8');
    }
    pos += end + 1;
    return text;
  };
  const text = (n: number): string => {
    const at = take(n);
    try {
      return created(utf8.decode(bytes.subarray(at, at + n)));
    } catch {
      throw refuse.damaged('a string is not valid UTF-8');
    }
  };
  const append = (item: PyValue): void => {
    const list = top();
    if (!isObject(list, 'list')) throw refuse.damaged(`it appends to a ${typeName(list)}`);
    list.items.push(item);
    list.depth = nested(Math.max(list.depth, 1 + depthOf(item)));
  };
  const dictOnTop = (): PyDict => {
    const t = top();
    if (!isObject(t, 'dict')) throw refuse.damaged(`it sets an item on a ${typeName(t)}`);
    return t;
  };

  for (;;) {
    const op = bytes[take(1)]!;
    switch (op) {
      case 0x80: // PROTO
        take(1);
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        if (metastack.length >= MAX_PICKLE_NESTING) throw refuse.bomb(`opens more than ${MAX_PICKLE_NESTING} nested MARKs`);
        metastack.push(stack);
        buried += stack.length;
        stack = [];
        break;
      case 0x7d: // EMPTY_DICT
        push(ctx.dict(false));
        break;
      case 0x5d: // EMPTY_LIST
        push(created({ type: 'list', items: [], depth: 1 }));
        break;
      case 0x29: // EMPTY_TUPLE
        push(ctx.tuple([]));
        break;
      case 0x8f: // EMPTY_SET
        push(created({ type: 'set' }));
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        push(dv.getInt32(take(4), true));
        break;
      case 0x4b: // BININT1
        push(bytes[take(1)]!);
        break;
      case 0x4d: // BININT2
        push(dv.getUint16(take(2), true));
        break;
      case 0x8a: {
        // LONG1: n little-endian two's-complement bytes
        const n = bytes[take(1)]!;
        const at = take(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]!);
        if (n > 0 && bytes[at + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        push(created({ type: 'float', value: dv.getFloat64(take(8), false) }));
        break;
      case 0x58: // BINUNICODE
        push(text(dv.getUint32(take(4), true)));
        break;
      case 0x55: // SHORT_BINSTRING (torch.load decodes these as UTF-8 text)
        push(text(bytes[take(1)]!));
        break;
      case 0x74: // TUPLE
        push(ctx.tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        push(ctx.tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        push(ctx.tuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        push(ctx.tuple([pop(), b, c]));
        break;
      }
      case 0x71: // BINPUT
        memo.set(bytes[take(1)]!, top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(dv.getUint32(take(4), true), top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const index = op === 0x68 ? bytes[take(1)]! : dv.getUint32(take(4), true);
        if (!memo.has(index)) throw refuse.damaged(`it refers to memo entry ${index}, which it never stored`);
        push(memo.get(index)!);
        break;
      }
      case 0x61: // APPEND
        append(pop());
        break;
      case 0x65: // APPENDS
        for (const item of popMark()) append(item);
        break;
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        ctx.setItem(dictOnTop(), k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        if (items.length % 2 !== 0) throw refuse.damaged('SETITEMS is given an odd number of values');
        const dict = dictOnTop();
        for (let i = 0; i < items.length; i += 2) ctx.setItem(dict, items[i]!, items[i + 1]!);
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = line();
        push(hooks.global(globalName(module, line()), ctx));
        break;
      }
      case 0x52: // REDUCE
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const callable = pop();
        push(hooks.call(callable, args, op === 0x52 ? 'REDUCE' : 'NEWOBJ', ctx));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        hooks.build(top(), state, ctx);
        break;
      }
      case 0x51: // BINPERSID
        push(hooks.persistentLoad(pop(), ctx));
        break;
      case 0x69: {
        // INST module\nname\n: builds an instance of any class
        const module = line();
        throw refuse.runs(displayName(globalName(module, line())));
      }
      case 0x93: {
        // STACK_GLOBAL (protocol 4): the module and name are the two strings on top
        const [module, name] = stack.slice(-2);
        if (typeof module === 'string' && typeof name === 'string' && !hooks.isAllowed(globalName(module, name))) {
          throw refuse.runs(displayName(globalName(module, name)));
        }
        throw refuse.crafted('names a global with the protocol-4 instruction STACK_GLOBAL, which torch.save never writes');
      }
      case 0x6f: // OBJ
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        throw refuse.crafted(`builds an object with the pickle instruction 0x${op.toString(16)}, which torch.save never writes`);
      default:
        throw refuse.unsupported(`a pickle instruction (0x${op.toString(16).padStart(2, '0')}) that PyTorch's weights-only loader does not accept either`);
    }
  }
}
