/**
 * Binds canonical weights (TensorRef: bytes in the user's own file) into a graph as ONNX external
 * data, so the graph points into the checkpoint instead of holding a copy. What the stored bytes
 * need before they are the canonical weight in the graph's compute type — a Cast (fp16/bf16/fp8 →
 * compute type), a Transpose, a per-tensor scale — is written as graph nodes on the initializer;
 * onnxruntime folds such constant subgraphs once when the session is created, so nothing of it runs
 * per step and no converted copy is written to disk.
 *
 * onnxruntime resolves external data against one folder per session and refuses locations that
 * leave it (after following links), so every weight of a component must lie under `folder`; the
 * session is then created from the model's bytes with that folder in its options
 * (`session.model_external_initializers_file_folder_path`).
 */
import { relative, sep } from 'node:path';
import type { GraphBuilder } from './graph-builder.ts';
import { ONNX_DATA_TYPE } from './tensor-data.ts';
import { DTYPE_ONNX } from '../weights/dtypes.ts';
import { canonicalShape } from '../weights/tensor-ref.ts';
import type { TensorRef, WeightSet } from '../weights/tensor-ref.ts';

export type ComputeType = 'float32' | 'float16';

const COMPUTE_DTYPE = { float32: 'F32', float16: 'F16' } as const;

export interface BinderOptions {
  readonly computeType: ComputeType;
  /** The folder onnxruntime will resolve external data against (every weight must be inside it). */
  readonly folder: string;
}

export class WeightBinder {
  readonly g: GraphBuilder;
  readonly weights: WeightSet;
  readonly computeType: ComputeType;
  readonly folder: string;
  readonly #bound = new Map<string, string>();
  readonly #raw = new Map<string, string>();
  readonly #leads = new Map<string, string>();
  readonly #shapes = new Map<string, string>();

  constructor(g: GraphBuilder, weights: WeightSet, options: BinderOptions) {
    this.g = g;
    this.weights = weights;
    this.computeType = options.computeType;
    this.folder = options.folder;
  }

  #location(ref: TensorRef): string {
    const rel = relative(this.folder, ref.file);
    if (rel === '' || rel.startsWith('..') || rel.startsWith(sep) || /^[A-Za-z]:/.test(rel)) {
      throw new Error(`${ref.origin} is outside ${this.folder}; one component's weights must share a folder`);
    }
    return rel.split(sep).join('/');
  }

  /** The stored tensor as an initializer (no conversion), shared when bound twice. */
  #initializer(key: string, ref: TensorRef): string {
    const existing = this.#raw.get(key);
    if (existing) return existing;
    const name = this.g.externalInitializer(key, DTYPE_ONNX[ref.dtype], ref.shape, {
      location: this.#location(ref),
      offset: ref.offset,
      length: ref.length,
    });
    this.#raw.set(key, name);
    return name;
  }

  /** A reference's value in the compute type, in its stored orientation (cast and scaled as needed). */
  #converted(key: string, ref: TensorRef): string {
    let value = this.#initializer(key, ref);
    const target = COMPUTE_DTYPE[this.computeType];
    if (ref.scale) {
      // fp8 × per-tensor scale: compute in float32 (the scale's precision), then to the compute type.
      value = this.g.op('Cast', [value], { to: ONNX_DATA_TYPE.float32 }, { prefix: `${key}_f32` });
      let scale = this.#initializer(`${key}.__scale`, ref.scale);
      if (ref.scale.dtype !== 'F32') scale = this.g.op('Cast', [scale], { to: ONNX_DATA_TYPE.float32 });
      value = this.g.op('Mul', [value, scale], {}, { prefix: `${key}_scaled` });
      if (target !== 'F32') value = this.g.op('Cast', [value], { to: DTYPE_ONNX[target] }, { prefix: `${key}_cast` });
    } else if (ref.dtype !== target) {
      value = this.g.op('Cast', [value], { to: DTYPE_ONNX[target] }, { prefix: `${key}_cast` });
    }
    return value;
  }

  /** A reference's value in the compute type with its canonical shape (cast, scaled, transposed as needed). */
  ref(key: string, ref: TensorRef): string {
    const value = this.#converted(key, ref);
    return ref.transposed ? this.g.op('Transpose', [value], { perm: [1, 0] }, { prefix: `${key}_t` }) : value;
  }

  /** A canonical weight in the compute type, optionally checked against the shape the builder needs. */
  tensor(name: string, shape?: readonly number[]): string {
    const done = this.#bound.get(name);
    if (done) return done;
    const value = this.ref(name, this.weights.require(name, shape));
    this.#bound.set(name, value);
    return value;
  }

  /** The canonical shape of a weight (for sizing the architecture from the checkpoint). */
  shape(name: string): number[] {
    return canonicalShape(this.weights.require(name));
  }

  /** `[...leading dims of x, width]`, made once per (x, width). */
  #outShape(x: string, width: number): string {
    const key = `${x}\u0000${width}`;
    const done = this.#shapes.get(key);
    if (done) return done;
    let lead = this.#leads.get(x);
    if (!lead) {
      lead = this.g.op('Slice', [this.g.op('Shape', [x]), this.g.int64([0]), this.g.int64([-1])]);
      this.#leads.set(x, lead);
    }
    const shape = this.g.op('Concat', [lead, this.g.int64([width])], { axis: 0 });
    this.#shapes.set(key, shape);
    return shape;
  }

  /**
   * y = x·Wᵀ + b for a torch Linear `prefix.weight` [out, in] (and `prefix.bias` when present), on
   * x of any rank. The weight is used as stored — Gemm reads it transposed (transB) — so loading
   * never makes a transposed copy of it: on a GPU an fp16 checkpoint's bytes are used as they are,
   * and on the CPU the only copy is the cast to float32. x is viewed as [-1, in] for Gemm and the
   * result given x's leading dimensions back (both reshapes are free in onnxruntime).
   */
  linear(x: string, prefix: string, inFeatures: number, outFeatures: number, options: { bias?: boolean } = {}): string {
    const name = `${prefix}.weight`;
    const ref = this.weights.require(name, [outFeatures, inFeatures]);
    const key = `${name}::stored`;
    let w = this.#bound.get(key);
    if (!w) {
      w = this.#converted(name, ref);
      this.#bound.set(key, w);
    }
    const useBias = options.bias ?? this.weights.has(`${prefix}.bias`);
    const inputs = [this.g.op('Reshape', [x, this.g.int64([-1, inFeatures])]), w];
    if (useBias) inputs.push(this.tensor(`${prefix}.bias`, [outFeatures]));
    // A reference marked transposed is stored [in, out] already (open_clip's text_projection).
    const y = this.g.op('Gemm', inputs, { transB: ref.transposed ? 0 : 1 });
    return this.g.op('Reshape', [y, this.#outShape(x, outFeatures)]);
  }

  /** A torch Conv2d (`prefix.weight` [out, in, k, k], `prefix.bias`). */
  conv2d(x: string, prefix: string, options: { inChannels: number; outChannels: number; kernel: number; stride?: number; padding?: number }): string {
    const k = options.kernel;
    const pad = options.padding ?? Math.floor(k / 2);
    const stride = options.stride ?? 1;
    const inputs = [x, this.tensor(`${prefix}.weight`, [options.outChannels, options.inChannels, k, k])];
    if (this.weights.has(`${prefix}.bias`)) inputs.push(this.tensor(`${prefix}.bias`, [options.outChannels]));
    return this.g.op('Conv', inputs, { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] });
  }
}
