/**
 * What the WAN 2.1 layouts share: a layout is ONE table of (canonical name, stored name) pairs
 * (STYLE.md §13), sized by a structure counted from key names, read forward — a user's tensors
 * into canonical `TensorRef`s, no copy — and backward — canonical tensors renamed into the layout,
 * for the tests' fixture writers. The tables themselves are wan-transformer-table.ts,
 * wan-vae-table.ts and wan-t5-table.ts.
 *
 * Every WAN rename keeps the bytes and the shape, so an entry has no view. What a layout may add
 * around its tables is read here too: ComfyUI's "scaled" fp8 files give each fp8 linear weight a
 * one-element `<layer>.scale_weight` (ComfyUI's newer spelling: `<layer>.weight_scale`), which
 * becomes the reference's `scale` (weight = fp8 value × scale).
 */
import { WeightFileError } from '../../weights/errors.ts';
import { elementCount } from '../../weights/dtypes.ts';
import type { TensorToWrite } from '../../weights/safetensors-write.ts';
import type { TensorRef } from '../../weights/tensor-ref.ts';

export interface WanLayoutEntry {
  readonly canonical: string;
  /** The name in the layout (without a file-wide prefix such as ComfyUI's `model.diffusion_model.`). */
  readonly stored: string;
  /** Other spellings of the same tensor found in real files, read (in this order) when `stored` is absent, never written. */
  readonly alternates?: readonly string[];
}

export type WanLayoutTable = readonly WanLayoutEntry[];

/** The per-tensor scale names of ComfyUI's fp8 files, legacy spelling first (what its repackaged files carry). */
export const FP8_SCALE_SUFFIXES = ['.scale_weight', '.weight_scale'] as const;
/** ComfyUI's marker of a scaled-fp8 file: an empty tensor whose dtype is the fp8 format. */
export const SCALED_FP8_MARKER = 'scaled_fp8';

export interface LayoutReading {
  /** Canonical name → reference into the user's file (with its fp8 scale, when it has one). */
  readonly refs: Map<string, TensorRef>;
  /** Stored names (prefix included) of entries the tensors do not have. */
  readonly missing: string[];
  /** Stored names the table read, scales included. */
  readonly used: Set<string>;
  /** Whether any weight carries a per-tensor fp8 scale. */
  readonly scaled: boolean;
}

/** The one-element scale stored beside `<layer>.weight`, if any; a scale of more elements is refused by name. */
function scaleOf(stored: ReadonlyMap<string, TensorRef>, key: string): { name: string; ref: TensorRef } | null {
  if (!key.endsWith('.weight')) return null;
  const layer = key.slice(0, -'.weight'.length);
  for (const suffix of FP8_SCALE_SUFFIXES) {
    const name = `${layer}${suffix}`;
    const ref = stored.get(name);
    if (!ref) continue;
    if (elementCount(ref.shape) !== 1) {
      throw new WeightFileError(
        'unsupported',
        `${ref.origin} holds ${elementCount(ref.shape)} scales for one weight (block-wise quantisation), which the studio does not read: use the fp16, bf16 or per-tensor fp8 file instead`,
      );
    }
    return { name, ref };
  }
  return null;
}

/**
 * The stored tensors read through a table: each entry's tensor under its canonical name, with its
 * fp8 scale attached. `prefix` is prepended to every stored name (ComfyUI's `model.diffusion_model.`).
 */
export function readThroughTable(table: WanLayoutTable, stored: ReadonlyMap<string, TensorRef>, prefix = ''): LayoutReading {
  const refs = new Map<string, TensorRef>();
  const missing: string[] = [];
  const used = new Set<string>();
  let scaled = false;
  for (const entry of table) {
    const key = [entry.stored, ...(entry.alternates ?? [])].map((n) => prefix + n).find((n) => stored.has(n));
    if (key === undefined) {
      missing.push(prefix + entry.stored);
      continue;
    }
    used.add(key);
    const ref = stored.get(key)!;
    const scale = scaleOf(stored, key);
    if (scale) {
      used.add(scale.name);
      scaled = true;
      refs.set(entry.canonical, { ...ref, scale: scale.ref });
    } else {
      refs.set(entry.canonical, ref);
    }
  }
  return { refs, missing, used, scaled };
}

/**
 * Canonical tensors renamed into the layout, in the table's order (the inverse of
 * `readThroughTable`, for fixture writers): a canonical `<layer>.scale_weight` follows its weight
 * under the stored layer's name. Throws on a canonical name the table has no place for, and on a
 * table entry with no tensor given.
 */
export function writeThroughTable(table: WanLayoutTable, tensors: readonly TensorToWrite[], prefix = ''): TensorToWrite[] {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const out: TensorToWrite[] = [];
  const placed = new Set<string>();
  for (const entry of table) {
    const t = byName.get(entry.canonical);
    if (!t) throw new Error(`no tensor for ${entry.canonical} (stored as ${prefix}${entry.stored})`);
    out.push({ ...t, name: prefix + entry.stored });
    placed.add(entry.canonical);
    if (!entry.canonical.endsWith('.weight')) continue;
    for (const suffix of FP8_SCALE_SUFFIXES) {
      const scaleName = `${entry.canonical.slice(0, -'.weight'.length)}${suffix}`;
      const scale = byName.get(scaleName);
      if (!scale) continue;
      out.push({ ...scale, name: `${prefix}${entry.stored.slice(0, -'.weight'.length)}${suffix}` });
      placed.add(scaleName);
    }
  }
  const unplaced = tensors.filter((t) => !placed.has(t.name)).map((t) => t.name);
  if (unplaced.length) throw new Error(`no place in this layout for ${unplaced.length} tensor(s): ${unplaced.slice(0, 5).join(', ')}`);
  return out;
}

/** Distinct values of the first capture group over the names, ascending. */
export function indicesOf(names: Iterable<string>, pattern: RegExp): number[] {
  const found = new Set<number>();
  for (const name of names) {
    const m = pattern.exec(name);
    if (m) found.add(Number(m[1]));
  }
  return [...found].sort((a, b) => a - b);
}

/** How many consecutive blocks 0…n−1 the names hold; a gap is named as a missing block. */
export function countBlocks(names: Iterable<string>, pattern: RegExp, what: string, where: string): number {
  const found = indicesOf(names, pattern);
  found.forEach((n, i) => {
    if (n !== i) throw new WeightFileError('incomplete', `${where}: its ${what} ${i} is missing while later ones are there — the file is incomplete or damaged; download it again`);
  });
  return found.length;
}
