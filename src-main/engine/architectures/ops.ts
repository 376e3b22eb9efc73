/**
 * Building blocks the architecture builders share, written on a GraphBuilder with weights bound
 * through a WeightBinder (canonical names, bytes in the user's file). Plain ONNX operators (opset
 * 17) everywhere; attention can instead use onnxruntime's fused `com.microsoft.MultiHeadAttention`
 * (kernels on CPU, CUDA, DirectML and WebGPU), which the GPU graphs use.
 *
 * Numerics follow PyTorch's modules: LayerNorm and GroupNorm normalise with the biased variance
 * and add eps inside the square root; GELU is the exact erf form unless a model asks for tanh.
 */
import { float } from '../onnx/graph-builder.ts';
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import { ONNX_DATA_TYPE } from '../onnx/tensor-data.ts';
import type { WeightBinder } from '../onnx/weights.ts';

export type AttentionMode = 'plain' | 'fused';

export function reshape(g: GraphBuilder, x: string, shape: readonly number[] | string): string {
  return g.op('Reshape', [x, typeof shape === 'string' ? shape : g.int64(shape)]);
}

export function transpose(g: GraphBuilder, x: string, perm: readonly number[]): string {
  return g.op('Transpose', [x], { perm });
}

export function unsqueeze(g: GraphBuilder, x: string, axes: readonly number[]): string {
  return g.op('Unsqueeze', [x, g.int64(axes)]);
}

export function castTo(g: GraphBuilder, x: string, to: 'float32' | 'float16'): string {
  return g.op('Cast', [x], { to: ONNX_DATA_TYPE[to] });
}

/** A scalar in the graph's float type. */
export function scalar(g: GraphBuilder, value: number): string {
  return g.floatConst([value], []);
}

export function silu(g: GraphBuilder, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [x])]);
}

/** GELU, exact: x · ½ · (1 + erf(x / √2)) (torch.nn.functional.gelu, approximate='none'). */
export function gelu(g: GraphBuilder, x: string): string {
  const erf = g.op('Erf', [g.op('Mul', [x, scalar(g, Math.SQRT1_2)])]);
  return g.op('Mul', [g.op('Mul', [x, scalar(g, 0.5)]), g.op('Add', [erf, scalar(g, 1)])]);
}

/**
 * GELU, tanh approximation: ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) — torch `gelu(approximate="tanh")`,
 * transformers' `gelu_new` (T5/UMT5's gated-GELU) and diffusers' "gelu-approximate" (WAN).
 */
export function geluTanh(g: GraphBuilder, x: string): string {
  const cube = g.op('Mul', [g.op('Mul', [x, x]), x]);
  const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [cube, scalar(g, 0.044715)])]), scalar(g, Math.sqrt(2 / Math.PI))]);
  return g.op('Mul', [g.op('Mul', [x, scalar(g, 0.5)]), g.op('Add', [g.op('Tanh', [inner]), scalar(g, 1)])]);
}

/** CLIP's quick_gelu: x · sigmoid(1.702 · x). */
export function quickGelu(g: GraphBuilder, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, scalar(g, 1.702)])])]);
}

/** torch.nn.LayerNorm over the last axis with `prefix.weight` / `prefix.bias`. */
export function layerNorm(b: WeightBinder, x: string, prefix: string, dim: number, eps: number): string {
  const gamma = b.tensor(`${prefix}.weight`, [dim]);
  const beta = b.tensor(`${prefix}.bias`, [dim]);
  return b.g.op('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: float(eps) });
}

/**
 * torch.nn.GroupNorm over [b, C, ...] with `prefix.weight` / `prefix.bias`: the torch.onnx pattern
 * Reshape [b, groups, -1] → InstanceNormalization → Reshape back → per-channel affine, which every
 * provider runs (opset 18's GroupNormalization is not implemented by all of them).
 */
export function groupNorm(b: WeightBinder, x: string, prefix: string, channels: number, groups: number, eps: number, rank = 4): string {
  const g = b.g;
  if (channels % groups !== 0) throw new Error(`${prefix}: ${channels} channels do not split into ${groups} groups`);
  const affine = [channels, ...Array.from({ length: rank - 2 }, () => 1)];
  const gamma = reshape(g, b.tensor(`${prefix}.weight`, [channels]), affine);
  const beta = reshape(g, b.tensor(`${prefix}.bias`, [channels]), affine);
  const unit = g.floatConst(new Float32Array(groups).fill(1), [groups]);
  const zero = g.floatConst(new Float32Array(groups), [groups]);
  const grouped = reshape(g, x, [0, groups, -1]);
  const normalized = g.op('InstanceNormalization', [grouped, unit, zero], { epsilon: float(eps) });
  const restored = reshape(g, normalized, g.op('Shape', [x]));
  return g.op('Add', [g.op('Mul', [restored, gamma]), beta]);
}

export interface AttentionOptions {
  heads: number;
  headDim: number;
  mode: AttentionMode;
  /** Additive mask broadcastable to [b, heads, Sq, Skv] (plain mode), e.g. CLIP's causal mask [Sq, Skv]. */
  mask?: string;
  /** The same mask as MultiHeadAttention's attention_bias input, shaped [1, 1, Sq, Skv] (fused mode). */
  bias?: string;
}

/**
 * softmax(Q·Kᵀ/√d + mask)·V for projected q [b, Sq, h·d] and k, v [b, Skv, h·d] → [b, Sq, h·d]
 * (torch's scaled_dot_product_attention). Fused mode hands the same tensors to
 * com.microsoft.MultiHeadAttention, which splits the heads itself.
 */
export function attention(g: GraphBuilder, q: string, k: string, v: string, options: AttentionOptions): string {
  const { heads, headDim } = options;
  if (options.mode === 'fused') {
    const inputs = [q, k, v];
    if (options.bias) inputs.push('', '', options.bias);
    return g.op('MultiHeadAttention', inputs, { num_heads: heads, scale: float(1 / Math.sqrt(headDim)) }, { domain: 'com.microsoft' });
  }
  const split = [0, 0, heads, headDim];
  const qh = transpose(g, reshape(g, q, split), [0, 2, 1, 3]);
  const kt = transpose(g, reshape(g, k, split), [0, 2, 3, 1]);
  const vh = transpose(g, reshape(g, v, split), [0, 2, 1, 3]);
  let scores = g.op('Mul', [g.op('MatMul', [qh, kt]), scalar(g, 1 / Math.sqrt(headDim))]);
  if (options.mask) scores = g.op('Add', [scores, options.mask]);
  const probs = g.op('Softmax', [scores], { axis: -1 });
  const out = transpose(g, g.op('MatMul', [probs, vh]), [0, 2, 1, 3]);
  return reshape(g, out, [0, 0, heads * headDim]);
}

export interface SinusoidalOptions {
  /** [cos | sin] instead of [sin | cos] (diffusers `flip_sin_to_cos`; SDXL: true). */
  flipSinToCos: boolean;
  /** diffusers `downscale_freq_shift` (SDXL: 0). */
  freqShift: number;
  maxPeriod?: number;
}

/**
 * diffusers `get_timestep_embedding` (models/embeddings.py): frequencies exp(−ln(P)·i/(half − shift)),
 * arguments t·freq, then [sin | cos] or flipped, computed in float32 whatever the graph's type
 * (as diffusers does before casting to the sample dtype). `t` is any float32 tensor; the result has
 * one more axis of size `dim`.
 */
export function sinusoidalEmbedding(g: GraphBuilder, t: string, dim: number, options: SinusoidalOptions): string {
  if (dim % 2 !== 0) throw new Error(`sinusoidal embedding width ${dim} must be even`);
  const half = dim / 2;
  const maxPeriod = options.maxPeriod ?? 10000;
  const freqs = new Float32Array(half);
  // Each step rounded to float32 as torch computes it: arange·(−ln P) → / (half − shift) → exp.
  const logP = Math.fround(-Math.log(maxPeriod));
  for (let i = 0; i < half; i++) freqs[i] = Math.exp(Math.fround(Math.fround(i * logP) / (half - options.freqShift)));
  const args = g.op('Mul', [unsqueeze(g, t, [-1]), g.float32(freqs)]);
  const sin = g.op('Sin', [args]);
  const cos = g.op('Cos', [args]);
  return g.op('Concat', options.flipSinToCos ? [cos, sin] : [sin, cos], { axis: -1 });
}
