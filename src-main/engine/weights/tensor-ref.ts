/**
 * Where a weight's bytes are, under its canonical name. Every layout a checkpoint comes in (A1111
 * single file, diffusers folder, ComfyUI repackage, original release) is mapped by one table onto
 * one canonical naming — diffusers' and transformers' parameter names — and the architecture
 * builders only ever see that naming (STYLE.md §13).
 *
 * A reference never holds bytes. Views that need no copy are expressed on the reference itself:
 * a run of rows (OpenCLIP's fused q/k/v projection is three row blocks of one tensor), a new shape
 * over the same bytes (a 1×1 convolution used as a linear layer), a 2-D transpose done by the
 * graph (OpenCLIP's text_projection is stored [in, out]), and a per-tensor scale (fp8 weights).
 */
import { DTYPE_BYTES, DTYPE_LABEL, elementCount } from './dtypes.ts';
import type { WeightDtype } from './dtypes.ts';
import { WeightFileError } from './errors.ts';

export interface TensorRef {
  /** Real path of the file holding the bytes (links resolved). */
  readonly file: string;
  /** Absolute byte offset and length in that file. */
  readonly offset: number;
  readonly length: number;
  readonly dtype: WeightDtype;
  /** Shape of the stored bytes as the canonical weight reads them (row-major). */
  readonly shape: readonly number[];
  /** The canonical tensor is the transpose of the stored 2-D one; `shape` is the stored shape. */
  readonly transposed?: boolean;
  /** Multiply by this one-element tensor to get the weight (fp8 "scaled" checkpoints). */
  readonly scale?: TensorRef;
  /** "model.safetensors: conditioner.embedders.1.model.ln_final.weight", for messages. */
  readonly origin: string;
}

/** The canonical shape: the stored shape, transposed when the reference says so. */
export function canonicalShape(ref: TensorRef): number[] {
  if (ref.transposed) return [ref.shape[1]!, ref.shape[0]!];
  return [...ref.shape];
}

/** Rows [start, start + count) of a tensor along its first axis: contiguous bytes, no copy. */
export function rowSlice(ref: TensorRef, start: number, count: number, originSuffix = `[${start}:${start + count}]`): TensorRef {
  if (ref.transposed) throw new Error(`${ref.origin}: cannot take rows of a transposed view`);
  const rows = ref.shape[0]!;
  if (start < 0 || count < 0 || start + count > rows) throw new Error(`${ref.origin}: rows ${start}..${start + count} outside ${rows}`);
  const rowBytes = ref.length / rows;
  return {
    ...ref,
    offset: ref.offset + start * rowBytes,
    length: count * rowBytes,
    shape: [count, ...ref.shape.slice(1)],
    origin: `${ref.origin}${originSuffix}`,
  };
}

/** The same bytes read with another shape of the same element count. */
export function reshapedRef(ref: TensorRef, shape: readonly number[]): TensorRef {
  if (elementCount(shape) !== elementCount(ref.shape)) {
    throw new Error(`${ref.origin}: cannot view [${ref.shape.join(', ')}] as [${shape.join(', ')}]`);
  }
  return { ...ref, shape: [...shape] };
}

export function transposedRef(ref: TensorRef): TensorRef {
  if (ref.shape.length !== 2) throw new Error(`${ref.origin}: only 2-D tensors can be transposed by reference`);
  return { ...ref, transposed: !ref.transposed };
}

/** The canonical weights of one model component (a UNet, a text encoder, a VAE). */
export class WeightSet {
  readonly label: string;
  readonly #refs: ReadonlyMap<string, TensorRef>;

  constructor(label: string, refs: ReadonlyMap<string, TensorRef>) {
    this.label = label;
    this.#refs = refs;
  }

  get size(): number {
    return this.#refs.size;
  }

  has(name: string): boolean {
    return this.#refs.has(name);
  }

  get(name: string): TensorRef | undefined {
    return this.#refs.get(name);
  }

  /** The weight, checked against the canonical shape a builder expects; throws a sentence if absent or wrong. */
  require(name: string, shape?: readonly number[]): TensorRef {
    const ref = this.#refs.get(name);
    if (!ref) throw new WeightFileError('incomplete', `${this.label} has no weight for ${name}: the file is incomplete or not this architecture`);
    if (shape) {
      const actual = canonicalShape(ref);
      if (actual.length !== shape.length || actual.some((d, i) => d !== shape[i])) {
        throw new WeightFileError(
          'wrong_kind',
          `${this.label}: ${name} is [${actual.join(', ')}] where this architecture needs [${shape.join(', ')}] (${ref.origin})`,
        );
      }
    }
    return ref;
  }

  names(prefix = ''): string[] {
    return [...this.#refs.keys()].filter((n) => n.startsWith(prefix));
  }

  refs(): IterableIterator<[string, TensorRef]> {
    return this.#refs.entries();
  }

  /** Bytes of all weights (scales included once each). */
  bytes(): number {
    let total = 0;
    for (const ref of this.#refs.values()) total += ref.length;
    return total;
  }

  /** The float dtype most of the bytes are in ('fp16', 'bf16'…), for "SDXL checkpoint, fp16". */
  mainDtype(): WeightDtype | null {
    const byDtype = new Map<WeightDtype, number>();
    for (const ref of this.#refs.values()) byDtype.set(ref.dtype, (byDtype.get(ref.dtype) ?? 0) + ref.length);
    let best: WeightDtype | null = null;
    for (const [dtype, bytes] of byDtype) if (best === null || bytes > byDtype.get(best)!) best = dtype;
    return best;
  }

  /** Distinct files the weights live in. */
  files(): string[] {
    const files = new Set<string>();
    for (const ref of this.#refs.values()) {
      files.add(ref.file);
      if (ref.scale) files.add(ref.scale.file);
    }
    return [...files];
  }
}

export function dtypeLabel(dtype: WeightDtype | null): string {
  return dtype ? DTYPE_LABEL[dtype] : 'unknown precision';
}

export function refBytesPerElement(ref: TensorRef): number {
  return DTYPE_BYTES[ref.dtype];
}
