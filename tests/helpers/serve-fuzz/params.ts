/**
 * Params for a contract channel, read off its zod schema: values the schema accepts (so the
 * handler runs), values at and just past each bound, and values mutated into the wrong type,
 * oversized, deeply nested or carrying keys no schema names. Path fields get paths from the
 * fuzzer's own sandbox, or paths that cannot be written (a request may move the library or write
 * an export there, so nothing outside the sandbox is ever offered that could be created).
 */
import type { z } from 'zod';
import type { Random } from './random.ts';

export interface ParamContext {
  /** Paths for fields that name a file or folder. */
  readonly paths: readonly string[];
  /** Ids that exist (an asset, a project) mixed with ones that do not. */
  readonly ids: readonly string[];
  /** Put at the start of every prompt, so a job can be traced to the request that made it. */
  readonly marker: string;
  /** Base64 of small files, for fields that carry a file's bytes. */
  readonly files: readonly string[];
}

interface Def {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly shape?: Record<string, z.ZodType>;
  readonly element?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly entries?: Record<string, string | number>;
  readonly values?: readonly unknown[];
  readonly in?: z.ZodType;
  readonly checks?: readonly { _zod: { def: { check: string; format?: string; pattern?: RegExp } } }[];
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

interface Bounds {
  minLength?: number | null;
  maxLength?: number | null;
  minValue?: number | null;
  maxValue?: number | null;
  isInt?: boolean;
  format?: string | null;
}

export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  'a',
  '\u0000',
  'nul\u0000inside',
  '\r\nSet-Cookie: x=1',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%2e%2e%2f',
  '\u202eevil\u202c',
  '\u001b[31mred\u001b[0m',
  '😀'.repeat(40),
  '\ud800',
  '\udfff\ud800',
  'e\u0301'.repeat(50),
  '__proto__',
  'constructor',
  "'; DROP TABLE jobs; --",
  '" OR 1=1 --',
  'NEAR(a b) OR "c"* AND -d ^e',
  '*',
  '"',
  '{"a":1}',
  '<script>alert(1)</script>',
  '${7*7}{{7*7}}',
  'null',
  '0',
  '-1',
  '\t\n\v\f\r',
  '\u00a0\u2028\u2029\ufeff',
];

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
const PATH_FIELDS = new Set(['path', 'dir', 'to', 'vae', 'ffmpegPath', 'modelDirs']);

function hostileText(r: Random, max: number): string {
  const s = r.chance(0.7) ? r.pick(HOSTILE_STRINGS) : r.text(r.int(1, 40), 'ab c\u00e9\u4e2d\u0000"\\/\n😀');
  return s.length > max ? s.slice(0, max) : s;
}

function stringFor(s: z.ZodType, r: Random, ctx: ParamContext, field: string): string {
  const b = s as unknown as Bounds;
  const checks = defOf(s).checks ?? [];
  const max = b.maxLength ?? 10_000;
  const min = b.minLength ?? 0;
  if (b.format === 'base64') return r.pick(ctx.files);
  if (checks.some((c) => c._zod.def.format === 'regex')) {
    return r.chance(0.6) ? r.pick(ctx.ids) : r.text(r.int(1, 64), ID_ALPHABET);
  }
  if (PATH_FIELDS.has(field)) return r.pick(ctx.paths);
  if (field === 'prompt' || field === 'enhancedPrompt' || field === 'text') return `${ctx.marker} ${hostileText(r, max - ctx.marker.length - 1)}`;
  const pick = r.weighted<() => string>([
    [6, () => hostileText(r, max)],
    [1, () => r.text(Math.max(min, Math.min(max, 1)), 'x')],
    [1, () => r.text(Math.min(max, 10_000), 'y')],
  ]);
  const v = pick();
  return v.length < min ? v.padEnd(min, 'z') : v;
}

function numberFor(s: z.ZodType, r: Random): number {
  const b = s as unknown as Bounds;
  const lo = b.minValue ?? -1e6;
  const hi = b.maxValue ?? 1e6;
  const safeLo = Number.isFinite(lo) ? Math.max(lo, -Number.MAX_SAFE_INTEGER) : -1e6;
  const safeHi = Number.isFinite(hi) ? Math.min(hi, Number.MAX_SAFE_INTEGER) : 1e6;
  return r.weighted<number>([
    [3, b.isInt ? r.int(Math.max(safeLo, -1000), Math.min(safeHi, Math.max(safeLo, -1000) + 2000)) : safeLo + r.float() * Math.min(safeHi - safeLo, 1e6)],
    [1, safeLo],
    [1, safeHi],
    [1, safeLo - 1],
    [1, safeHi + 1],
    [1, 0.5],
    [1, -0],
    [1, 1e300],
    [1, Number.MAX_SAFE_INTEGER + 2],
  ]);
}

/** A value of the schema's shape: usually accepted, sometimes just past a bound. */
export function valueFor(s: z.ZodType, r: Random, ctx: ParamContext, field = '', depth = 0): unknown {
  const def = defOf(s);
  switch (def.type) {
    case 'optional':
      return r.chance(0.35) ? undefined : valueFor(def.innerType!, r, ctx, field, depth);
    case 'nullable':
      return r.chance(0.15) ? null : valueFor(def.innerType!, r, ctx, field, depth);
    case 'default':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      return valueFor(def.innerType!, r, ctx, field, depth);
    case 'pipe':
      return valueFor(def.in!, r, ctx, field, depth);
    case 'string':
      return stringFor(s, r, ctx, field);
    case 'number':
      return numberFor(s, r);
    case 'boolean':
      return r.chance(0.5);
    case 'null':
      return null;
    case 'literal':
      return r.pick(def.values!);
    case 'enum':
      return r.chance(0.9) ? r.pick(Object.values(def.entries!)) : r.pick(['', 'x', 'CPU', 'sdxl_image_FAST']);
    case 'union':
      return valueFor(r.pick(def.options!), r, ctx, field, depth);
    case 'never':
      return undefined;
    case 'array': {
      const b = s as unknown as Bounds;
      const min = b.minLength ?? 0;
      const max = Math.min(b.maxLength ?? 8, 8);
      const n = r.chance(0.9) ? r.int(Math.min(min, max), Math.max(min, max)) : min === 0 ? 0 : min - 1;
      return Array.from({ length: n }, () => valueFor(def.element!, r, ctx, field, depth + 1));
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, sub] of Object.entries(def.shape ?? {})) {
        const v = valueFor(sub, r, ctx, key, depth + 1);
        if (v !== undefined) out[key] = v;
      }
      return out;
    }
    default:
      return null;
  }
}

/** Something of the wrong kind in place of a value: the fuzzer's garbage. */
export function garbage(r: Random, depth = 0): unknown {
  return r.weighted<() => unknown>([
    [2, () => hostileText(r, 10_000)],
    [2, () => r.pick([0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 53, -0])],
    [1, () => r.chance(0.5)],
    [1, () => null],
    [1, () => (depth < 3 ? Array.from({ length: r.int(0, 5) }, () => garbage(r, depth + 1)) : [])],
    [
      1,
      () =>
        depth < 3
          ? Object.fromEntries(Array.from({ length: r.int(0, 4) }, () => [hostileText(r, 40), garbage(r, depth + 1)]))
          : {},
    ],
    [1, () => r.text(r.int(10_000, 200_000), 'q')],
    [1, () => Array.from({ length: r.int(1000, 20_000) }, () => 'x')],
  ])();
}

/** The value with one part replaced: a wrong type, an extra key, a prototype key, an oversize. */
export function mutate(value: unknown, r: Random): unknown {
  if (value === null || typeof value !== 'object' || r.chance(0.25)) return garbage(r);
  if (Array.isArray(value)) {
    const copy = [...value];
    if (copy.length === 0 || r.chance(0.3)) copy.push(garbage(r));
    else {
      const i = r.int(0, copy.length - 1);
      copy[i] = mutate(copy[i], r);
    }
    return copy;
  }
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const op = r.int(0, 3);
  if (op === 0 || keys.length === 0) {
    // defineProperty, so `__proto__` becomes a key of the JSON rather than the copy's prototype.
    const key = r.pick(['__proto__', 'constructor', 'prototype', 'extra', '', 'toString', 'hasOwnProperty']);
    Object.defineProperty(copy, key, { value: garbage(r), enumerable: true, writable: true, configurable: true });
  }
  else if (op === 1) delete copy[r.pick(keys)];
  else {
    const k = r.pick(keys);
    copy[k] = mutate(copy[k], r);
  }
  return copy;
}

/** `[[[…]]]` or `{"a":{"a":…}}` nested `depth` deep, as text (JSON.stringify would recurse). */
export function deeplyNested(depth: number, objects: boolean): string {
  return objects ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`;
}
