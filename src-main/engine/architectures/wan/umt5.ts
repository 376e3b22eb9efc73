/**
 * WAN's text encoder as an ONNX graph built from its weights, left in the user's file (external
 * data): transformers' `UMT5EncoderModel` (models/umt5/modeling_umt5.py):
 *
 *   x = shared[input_ids]
 *   each block:  x += o(attention(q, k, v of rms_norm(x)) + bias)     layer.0, bias per block
 *                x += wo(gelu_tanh(wi_0(h)) · wi_1(h)),  h = rms_norm(x)  layer.1
 *   last_hidden_state = rms_norm(x)                                     final_layer_norm
 *
 * T5's RMSNorm has no mean subtraction and no bias: x · rsqrt(mean(x²) + eps) in float32, then
 * cast to the weight's type and scaled. Attention is not scaled by 1/√d (T5 folds it into the
 * query weights at initialisation); its scores get the relative position bias of the block, looked
 * up per head from a bucket of each key − query distance, and padded keys are masked out.
 *
 * Graph contract (docs/models.md "text_encoder/model.onnx"; pipelines/wan/text.ts):
 *   input_ids int64 [batch_size, sequence_length], attention_mask int64 [batch_size, sequence_length]
 *   → last_hidden_state [batch_size, sequence_length, d_model] in the compute type.
 * Any sequence length runs: the bucket of each distance is computed in the graph from the length
 * (distances clipped to ±max_distance, beyond which the bucket no longer changes, then looked up
 * in a table of the 2·max_distance + 1 buckets computed here exactly as transformers computes them).
 *
 * Precision. T5-family activations overflow float16: the residual stream of the large models
 * grows past 65504, which is why transformers keeps UMT5's `wo` in float32
 * (`_keep_in_fp32_modules = ["wo"]`; the residual then becomes float32 after the first block) and
 * clamps float16 states, and why diffusers and Wan-AI run it in bf16 or float32. The float16 graph
 * follows transformers' float16 model rather than clamping: the residual stream, every RMSNorm's
 * statistics, the attention softmax (and the scores it adds the bias to) and `wo` are float32;
 * the q/k/v/o and wi projections, the GELU gate and the attention products run in float16. On the
 * tiny model with its feed-forward output scaled until the residual reaches 1.3e5, the float16
 * graph stays within 3e-3 of float32 — as close as on normal weights and as transformers' own
 * float16 model — where an all-float16 one (clamped as transformers clamps) is 0.4–0.5 off
 * (tests/fixtures/reference/wan/umt5.md). The price is `wo` held in float32 (UMT5-XXL: 4.0 GB
 * instead of 2.0 GB on the GPU).
 *
 * fp8 weights (ComfyUI's `umt5_xxl_fp8_e4m3fn_scaled.safetensors`) are bound through the weight
 * binder's per-tensor scale (a Cast from float8 and a Mul, folded at load); a graph with float8
 * initializers is written in opset 19, the first whose Cast reads float8 (opset 17 otherwise).
 */
import { float, GraphBuilder } from '../../onnx/graph-builder.ts';
import type { ModelProto } from '../../onnx/onnx-proto.ts';
import { ONNX_DATA_TYPE } from '../../onnx/tensor-data.ts';
import { WeightBinder, type ComputeType } from '../../onnx/weights.ts';
import type { WeightSet } from '../../weights/tensor-ref.ts';
import { castTo, geluTanh, reshape, transpose, unsqueeze, type AttentionMode } from '../ops.ts';
import { UMT5_FINAL_NORM, umt5LayerNames, umt5RelativeBuckets, type Umt5Config } from './umt5-config.ts';

export * from './umt5-config.ts';

export interface Umt5BuildOptions {
  readonly computeType: ComputeType;
  /** 'fused' runs attention as onnxruntime's com.microsoft.MultiHeadAttention (scale 1, bias and mask as attention_bias); default plain ONNX. */
  readonly attention?: AttentionMode;
  /** The folder onnxruntime resolves the weights' external data against. */
  readonly folder: string;
}

/** Opset whose Cast reads FLOAT8E4M3FN / FLOAT8E5M2 (onnx/docs/Changelog.md, Cast-19). */
const FLOAT8_OPSET = 19;
const DEFAULT_OPSET = 17;

/** Lowest finite value per attention type: a masked key's score, which softmax turns into exactly 0. */
const LOWEST = { float32: -3.4028234663852886e38, float16: -65504 } as const;

interface Ctx {
  readonly g: GraphBuilder;
  /** Binds weights in the compute type. */
  readonly b: WeightBinder;
  /** Binds the weights the float16 graph keeps in float32 (`wo`, the position biases); `b` in a float32 graph. */
  readonly b32: WeightBinder;
  readonly config: Umt5Config;
  readonly mode: AttentionMode;
  /** Bucket of each (query, key) pair, int64 [S, S]. */
  readonly buckets: string;
  /** Whether each key is a real token, bool [batch, 1, 1, S]. */
  readonly keep: string;
  /** 0 for real keys, the lowest float32 for padding: float32 [batch, 1, 1, S] (plain mode only). */
  readonly maskAdd: string | null;
}

function to32(ctx: Pick<Ctx, 'g' | 'b'>, x: string): string {
  return ctx.b.computeType === 'float32' ? x : castTo(ctx.g, x, 'float32');
}

function toCompute(ctx: Pick<Ctx, 'g' | 'b'>, x: string): string {
  return ctx.b.computeType === 'float32' ? x : castTo(ctx.g, x, ctx.b.computeType);
}

/** Mean over the last axis, keeping it (ReduceMean took its axes as an attribute until opset 18). */
function meanLast(g: GraphBuilder, x: string): string {
  if (g.opset >= 18) return g.op('ReduceMean', [x, g.int64([-1])], { keepdims: 1 });
  return g.op('ReduceMean', [x], { axes: [-1], keepdims: 1 });
}

/**
 * transformers' `UMT5LayerNorm` on the float32 residual: x · rsqrt(mean(x²) + eps) in float32, cast
 * to the compute type, times the weight. Written as Pow → ReduceMean → Add → Sqrt → Div, the
 * pattern onnxruntime fuses into SimplifiedLayerNormalization.
 */
function rmsNorm(ctx: Ctx, x32: string, weight: string): string {
  const g = ctx.g;
  const meanSquare = meanLast(g, g.op('Pow', [x32, g.float32([2], [])]));
  const rms = g.op('Sqrt', [g.op('Add', [meanSquare, g.float32([ctx.config.eps], [])])]);
  return g.op('Mul', [toCompute(ctx, g.op('Div', [x32, rms])), ctx.b.tensor(weight, [ctx.config.dModel])]);
}

/**
 * Bucket of every (query, key) pair for the sequence length of `ids`: key − query clipped to
 * ±max_distance, looked up in {@link umt5RelativeBuckets}' table. int64 [S, S].
 */
function relativeBuckets(g: GraphBuilder, ids: string, config: Umt5Config): string {
  const length = g.op('Squeeze', [g.op('Shape', [ids], { start: 1, end: 2 }), g.int64([0])]);
  const positions = g.op('Range', [g.int64([0], []), length, g.int64([1], [])]);
  const relative = g.op('Sub', [unsqueeze(g, positions, [0]), unsqueeze(g, positions, [1])]);
  const max = config.maxDistance;
  const clipped = g.op('Min', [g.op('Max', [relative, g.int64([-max], [])]), g.int64([max], [])]);
  const table = g.int64(umt5RelativeBuckets(config.numBuckets, max, max));
  return g.op('Gather', [table, g.op('Add', [clipped, g.int64([max], [])])]);
}

/** The block's position bias, float32 [1, heads, S, S] (`compute_bias`: embedding[bucket], permuted). */
function positionBias(ctx: Ctx, name: string): string {
  const { g, config } = ctx;
  const table = ctx.b32.tensor(name, [config.numBuckets, config.heads]);
  return unsqueeze(g, transpose(g, g.op('Gather', [table, ctx.buckets]), [2, 0, 1]), [0]);
}

/** `UMT5Attention` on normalized states (compute type) → attention output before `o` (compute type, [b, S, heads·dKv]). */
function selfAttention(ctx: Ctx, h: string, names: ReturnType<typeof umt5LayerNames>): string {
  const { g, b, config } = ctx;
  const inner = config.heads * config.dKv;
  const q = b.linear(h, names.q, config.dModel, inner);
  const k = b.linear(h, names.k, config.dModel, inner);
  const v = b.linear(h, names.v, config.dModel, inner);
  const bias32 = positionBias(ctx, names.bias);
  if (ctx.mode === 'fused') {
    // Position bias and padding in one attention_bias [b, heads, S, S] in the compute type; a
    // padded key gets the type's lowest value instead of bias + lowest (which is −inf in float16).
    const lowest = g.floatConst([LOWEST[b.computeType]], []);
    const attentionBias = g.op('Where', [ctx.keep, toCompute(ctx, bias32), lowest]);
    return g.op('MultiHeadAttention', [q, k, v, '', '', attentionBias], { num_heads: config.heads, scale: float(1) }, { domain: 'com.microsoft' });
  }
  const split = [0, 0, config.heads, config.dKv];
  const qh = transpose(g, reshape(g, q, split), [0, 2, 1, 3]);
  const kt = transpose(g, reshape(g, k, split), [0, 2, 3, 1]);
  const vh = transpose(g, reshape(g, v, split), [0, 2, 1, 3]);
  // eager_attention_forward with scaling 1: scores + position_bias + mask, softmax (here in float32).
  const scores = g.op('Add', [g.op('Add', [to32(ctx, g.op('MatMul', [qh, kt])), bias32]), ctx.maskAdd!]);
  const probs = toCompute(ctx, g.op('Softmax', [scores], { axis: -1 }));
  return reshape(g, transpose(g, g.op('MatMul', [probs, vh]), [0, 2, 1, 3]), [0, 0, inner]);
}

/** `UMT5Block` on the float32 residual stream. */
function block(ctx: Ctx, x32: string, index: number): string {
  const { g, b, config } = ctx;
  const names = umt5LayerNames(index);
  const inner = config.heads * config.dKv;
  const attended = b.linear(selfAttention(ctx, rmsNorm(ctx, x32, names.attentionNorm), names), names.o, inner, config.dModel);
  const afterAttention = g.op('Add', [x32, to32(ctx, attended)]);
  // UMT5DenseGatedActDense: gelu_new(wi_0(h)) · wi_1(h) → wo, with wo in float32 as transformers keeps it.
  const h = rmsNorm(ctx, afterAttention, names.ffnNorm);
  const gated = g.op('Mul', [geluTanh(g, b.linear(h, names.wi0, config.dModel, config.dFf)), b.linear(h, names.wi1, config.dModel, config.dFf)]);
  return g.op('Add', [afterAttention, ctx.b32.linear(to32(ctx, gated), names.wo, config.dFf, config.dModel)]);
}

function usesFloat8(weights: WeightSet): boolean {
  for (const [, ref] of weights.refs()) if (ref.dtype === 'F8_E4M3' || ref.dtype === 'F8_E5M2') return true;
  return false;
}

/** The UMT5 encoder graph for `config` (from {@link umt5ConfigFromWeights}), weights bound from `weights`. */
export function buildUmt5Encoder(weights: WeightSet, config: Umt5Config, options: Umt5BuildOptions): ModelProto {
  const computeType = options.computeType;
  const opset = usesFloat8(weights) ? FLOAT8_OPSET : DEFAULT_OPSET;
  const g = new GraphBuilder({ name: 'umt5_encoder', floatType: computeType, opset, producerName: 'ourvidz-studio' });
  const b = new WeightBinder(g, weights, { computeType, folder: options.folder });
  const b32 = computeType === 'float32' ? b : new WeightBinder(g, weights, { computeType: 'float32', folder: options.folder });
  const batch = 'batch_size';
  const sequence = 'sequence_length';

  const ids = g.input('input_ids', 'int64', [batch, sequence]);
  const mask = g.input('attention_mask', 'int64', [batch, sequence]);
  const keep = g.op('Cast', [unsqueeze(g, mask, [1, 2])], { to: ONNX_DATA_TYPE.bool });
  const mode = options.attention ?? 'plain';
  const maskAdd = mode === 'plain' ? g.op('Where', [keep, g.float32([0], []), g.float32([LOWEST.float32], [])]) : null;
  const ctx: Ctx = { g, b, b32, config, mode, buckets: relativeBuckets(g, ids, config), keep, maskAdd };

  let x = to32(ctx, g.op('Gather', [b.tensor(config.embedding, [config.vocabSize, config.dModel]), ids]));
  for (let i = 0; i < config.layers; i++) x = block(ctx, x, i);
  g.output(rmsNorm(ctx, x, UMT5_FINAL_NORM), 'last_hidden_state', computeType, [batch, sequence, config.dModel]);
  return g.build({ 'ourvidz.architecture': 'umt5-encoder', 'ourvidz.attention': mode });
}
