/**
 * WAN 2.1's text-to-video transformer as an ONNX graph, built from the weights' shapes with the
 * weights left in the user's file (external data). The architecture is diffusers'
 * `WanTransformer3DModel` (models/transformers/transformer_wan.py): a 3-D patch embedding to
 * tokens; the condition embedder (`WanTimeTextImageEmbedding`: timestep sinusoid → MLP → `temb`,
 * SiLU → linear to six modulation vectors; the text states through a tanh-GELU projection);
 * `WanTransformerBlock`s of modulated LayerNorm → self-attention with q/k RMSNorm across heads and
 * 3-D rotary position embeddings (`WanRotaryPosEmbed`) → gated residual, (affine LayerNorm →)
 * cross-attention to the text → residual, modulated LayerNorm → tanh-GELU feed-forward → gated
 * residual; then the output modulation, projection and unpatchify.
 *
 * Graph contract (what the studio's WAN pipeline feeds, docs/models.md "WAN 2.1 T2V"):
 *   hidden_states [batch_size, 16, num_frames, height, width] (latent frames and size),
 *   timestep float32 [batch_size] (flow-matching timesteps are fractional),
 *   encoder_hidden_states [batch_size, sequence_length, text_dim] → sample, as hidden_states;
 * hidden_states, encoder_hidden_states and sample are in the compute type.
 *
 * Rotary tables are computed in the graph from the latent's shape (Range → × frequency → Cos/Sin),
 * so any number of frames and any size runs with the pipeline unchanged (it feeds only the three
 * inputs above) and nothing is limited to diffusers' precomputed 1024 positions. diffusers builds
 * its tables in float64 and rounds them to float32; here the angle position × frequency is one
 * float32 product, which differs by at most position × 6e-8 radians (3e-6 at 52 columns of patches).
 *
 * Precision follows diffusers with `_keep_in_fp32_modules` (what `from_pretrained(torch_dtype=
 * float16)` gives): the time embedder, both `scale_shift_table`s, every LayerNorm (`FP32LayerNorm`)
 * with its modulation, the gated residual updates and the rotary products are computed in float32
 * whatever the compute type; the linear layers, attention and feed-forward run in the compute type.
 * In a float32 graph every cast between the two disappears.
 */
import { float, GraphBuilder } from '../../onnx/graph-builder.ts';
import type { ModelProto } from '../../onnx/onnx-proto.ts';
import { WeightBinder, type ComputeType } from '../../onnx/weights.ts';
import { reshapedRef, WeightSet, type TensorRef } from '../../weights/tensor-ref.ts';
import { attention, castTo, geluTanh, reshape, silu, sinusoidalEmbedding, transpose, unsqueeze, type AttentionMode } from '../ops.ts';
import type { WanTransformerConfig } from './transformer-config.ts';

export * from './transformer-config.ts';

export interface WanTransformerBuildOptions {
  readonly computeType: ComputeType;
  /**
   * 'fused' runs attention as onnxruntime's com.microsoft.MultiHeadAttention on the already
   * rotated q and k (RoPE is applied before attention, as diffusers does); default plain ONNX.
   */
  readonly attention?: AttentionMode;
  /** The folder onnxruntime resolves the weights' external data against. */
  readonly folder: string;
}

interface WanContext {
  readonly g: GraphBuilder;
  /** Binds weights in the compute type. */
  readonly b: WeightBinder;
  /** Binds the weights diffusers keeps in float32 (the same binder in a float32 graph). */
  readonly b32: WeightBinder;
  readonly config: WanTransformerConfig;
  readonly attention: AttentionMode;
  /** Ones [dim] float32: the scale of LayerNorms without affine weights. */
  readonly ones: string;
  /** Rotary cos / sin, float32 [tokens, 1, headDim/2, 1] (one value per channel pair). */
  readonly rope: { readonly cos: string; readonly sin: string };
  /** The projected text states, [batch, sequence, dim] in the compute type. */
  readonly context: string;
}

function to32(ctx: Pick<WanContext, 'g' | 'b'>, x: string): string {
  return ctx.b.computeType === 'float32' ? x : castTo(ctx.g, x, 'float32');
}

function toCompute(ctx: Pick<WanContext, 'g' | 'b'>, x: string): string {
  return ctx.b.computeType === 'float32' ? x : castTo(ctx.g, x, ctx.b.computeType);
}

/**
 * diffusers `FP32LayerNorm` over the last axis of a float32 tensor; affine when `prefix` names its
 * weight and bias (the cross-attention norm), else scale 1 and no shift.
 */
function layerNorm32(ctx: WanContext, x32: string, prefix?: string): string {
  const { dim, eps } = ctx.config;
  const inputs = prefix ? [x32, ctx.b32.tensor(`${prefix}.weight`, [dim]), ctx.b32.tensor(`${prefix}.bias`, [dim])] : [x32, ctx.ones];
  return ctx.g.op('LayerNormalization', inputs, { axis: -1, epsilon: float(eps) });
}

/**
 * `(norm(h.float()) · (1 + scale) + shift).type_as(h)`: the modulated LayerNorm of every block and
 * of the output head, in float32 (scale and shift are float32 [batch, 1, dim]).
 */
function modulatedNorm(ctx: WanContext, h: string, shift: string, scale: string): string {
  const g = ctx.g;
  const onePlusScale = g.op('Add', [scale, g.float32([1], [])]);
  return toCompute(ctx, g.op('Add', [g.op('Mul', [layerNorm32(ctx, to32(ctx, h)), onePlusScale]), shift]));
}

/** `(h.float() + update · gate).type_as(h)`: a gated residual, in float32. */
function gatedResidual(ctx: WanContext, h: string, update: string, gate: string): string {
  const g = ctx.g;
  return toCompute(ctx, g.op('Add', [to32(ctx, h), g.op('Mul', [to32(ctx, update), gate])]));
}

/**
 * torch.nn.RMSNorm over the whole projection (`rms_norm_across_heads`): x · rsqrt(mean(x²) + eps)
 * computed in float32 and returned in x's type, then times the weight (torch's rms_norm upcasts
 * half inputs the same way). Written as Pow → ReduceMean → Add → Sqrt → Div → Mul, the pattern
 * onnxruntime fuses into SimplifiedLayerNormalization.
 */
function rmsNorm(ctx: WanContext, x: string, weight: string): string {
  const { g, config } = ctx;
  const x32 = to32(ctx, x);
  const meanSquare = g.op('ReduceMean', [g.op('Pow', [x32, g.float32([2], [])])], { axes: [-1], keepdims: 1 });
  const rms = g.op('Sqrt', [g.op('Add', [meanSquare, g.float32([config.eps], [])])]);
  const normalized = toCompute(ctx, g.op('Div', [x32, rms]));
  return g.op('Mul', [normalized, ctx.b.tensor(weight, [config.dim])]);
}

/**
 * diffusers `WanAttnProcessor.apply_rotary_emb` on [batch, tokens, heads·headDim]: each channel
 * pair (2i, 2i+1) of each head is rotated by its angle — x₁·cos − x₂·sin, x₁·sin + x₂·cos — in
 * float32 (diffusers multiplies by float32 tables), returned in the compute type.
 */
function rotary(ctx: WanContext, x: string): string {
  const { g, config } = ctx;
  const pairs = reshape(g, to32(ctx, x), [0, 0, config.heads, config.headDim / 2, 2]);
  const [x1, x2] = g.node('Split', [pairs, g.int64([1, 1])], { axis: -1 }, { outputs: 2 }) as [string, string];
  const { cos, sin } = ctx.rope;
  const first = g.op('Sub', [g.op('Mul', [x1, cos]), g.op('Mul', [x2, sin])]);
  const second = g.op('Add', [g.op('Mul', [x1, sin]), g.op('Mul', [x2, cos])]);
  return toCompute(ctx, reshape(g, g.op('Concat', [first, second], { axis: -1 }), [0, 0, config.dim]));
}

/**
 * diffusers `WanRotaryPosEmbed.forward` for a grid of `grid` = [frames, rows, columns] patches
 * (int64 [3]): the frame, row and column of each token (in flattening order) times each part's
 * frequencies 1 / θ^(2j/d) (`get_1d_rotary_pos_embed`), concatenated per head as
 * [frames | rows | columns] and returned as cos and sin of [tokens, 1, headDim/2, 1].
 */
function rotaryTables(g: GraphBuilder, config: WanTransformerConfig, grid: string): { cos: string; sin: string } {
  const half = config.headDim / 2;
  const broadcast = [
    [-1, 1, 1],
    [1, -1, 1],
    [1, 1, -1],
  ];
  const parts = config.ropeDims.map((d, axis) => {
    const freqs = new Float32Array(d / 2);
    for (let j = 0; j < d / 2; j++) freqs[j] = 1 / config.ropeTheta ** ((2 * j) / d);
    const count = g.op('Gather', [grid, g.int64([axis], [])], { axis: 0 });
    const positions = castTo(g, g.op('Range', [g.int64([0], []), count, g.int64([1], [])]), 'float32');
    const angles = g.op('Mul', [unsqueeze(g, positions, [1]), g.float32(freqs, [1, d / 2])]);
    const placed = reshape(g, angles, [...broadcast[axis]!, d / 2]);
    return g.op('Expand', [placed, g.op('Concat', [grid, g.int64([d / 2])], { axis: 0 })]);
  });
  const angles = reshape(g, g.op('Concat', parts, { axis: -1 }), [-1, 1, half, 1]);
  return { cos: g.op('Cos', [angles]), sin: g.op('Sin', [angles]) };
}

/** diffusers `WanAttention` with `WanAttnProcessor`: q from `x`, k/v from `kv`; rotary on self-attention only. */
function attentionLayer(ctx: WanContext, x: string, kv: string, prefix: string, withRope: boolean): string {
  const { b, config } = ctx;
  const dim = config.dim;
  let q = rmsNorm(ctx, b.linear(x, `${prefix}.to_q`, dim, dim), `${prefix}.norm_q.weight`);
  let k = rmsNorm(ctx, b.linear(kv, `${prefix}.to_k`, dim, dim), `${prefix}.norm_k.weight`);
  const v = b.linear(kv, `${prefix}.to_v`, dim, dim);
  if (withRope) {
    q = rotary(ctx, q);
    k = rotary(ctx, k);
  }
  const out = attention(ctx.g, q, k, v, { heads: config.heads, headDim: config.headDim, mode: ctx.attention });
  return b.linear(out, `${prefix}.to_out.0`, dim, dim);
}

/** diffusers `FeedForward(activation_fn="gelu-approximate")`: linear → tanh-GELU → linear. */
function feedForward(ctx: WanContext, x: string, prefix: string): string {
  const { b, config } = ctx;
  const inner = geluTanh(ctx.g, b.linear(x, `${prefix}.net.0.proj`, config.dim, config.ffnDim));
  return b.linear(inner, `${prefix}.net.2`, config.ffnDim, config.dim);
}

/** diffusers `WanTransformerBlock.forward` (`temb` of [batch, 6, dim]: WAN 2.1). */
function block(ctx: WanContext, h: string, prefix: string, timestepProj32: string): string {
  const g = ctx.g;
  const modulation = g.op('Add', [ctx.b32.tensor(`${prefix}.scale_shift_table`, [1, 6, ctx.config.dim]), timestepProj32]);
  const [shift, scale, gate, cShift, cScale, cGate] = g.node('Split', [modulation, g.int64([1, 1, 1, 1, 1, 1])], { axis: 1 }, { outputs: 6 }) as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  let x = modulatedNorm(ctx, h, shift, scale);
  h = gatedResidual(ctx, h, attentionLayer(ctx, x, x, `${prefix}.attn1`, true), gate);
  x = ctx.config.crossAttnNorm ? toCompute(ctx, layerNorm32(ctx, to32(ctx, h), `${prefix}.norm2`)) : h;
  h = g.op('Add', [h, attentionLayer(ctx, x, ctx.context, `${prefix}.attn2`, false)]);
  x = modulatedNorm(ctx, h, cShift, cScale);
  return gatedResidual(ctx, h, feedForward(ctx, x, `${prefix}.ffn`), cGate);
}

/** Element `i` of a 1-D int64 tensor, as a 1-element tensor (for building shapes). */
function at(g: GraphBuilder, t: string, i: number): string {
  return g.op('Slice', [t, g.int64([i]), g.int64([i + 1])]);
}

interface PatchGrid {
  /** [frames, rows, columns] of patches, int64 [3]. */
  readonly grid: string;
  /** The latent size they cover, grid × patch, int64 [3]. */
  readonly covered: string;
  readonly frames: string;
  readonly rows: string;
  readonly columns: string;
  /** rows × columns, int64 [1]. */
  readonly plane: string;
}

/**
 * The patch grid of a latent [b, C, T, H, W]: ⌊T/pt⌋ × ⌊H/ph⌋ × ⌊W/pw⌋, as diffusers' strided
 * Conv3d gives (a remainder is dropped, so the output then covers only grid × patch).
 */
function patchGrid(g: GraphBuilder, latent: string, patch: readonly number[]): PatchGrid {
  const size = g.op('Slice', [g.op('Shape', [latent]), g.int64([2]), g.int64([5])]);
  const grid = g.op('Div', [size, g.int64(patch)]);
  const rows = at(g, grid, 1);
  const columns = at(g, grid, 2);
  return { grid, covered: g.op('Mul', [grid, g.int64(patch)]), frames: at(g, grid, 0), rows, columns, plane: g.op('Mul', [rows, columns]) };
}

/**
 * Patchify: [b, C, T, H, W] → [b, tokens, C·pt·ph·pw], tokens in (frame, row, column) order and
 * each token's values in the (C, pt, ph, pw) order of the Conv3d weight, so that the patch
 * embedding is one Gemm on the weight as stored. Two transposes of rank ≤ 6 (every provider's limit).
 */
function patchify(g: GraphBuilder, latent: string, p: PatchGrid, channels: number, patch: readonly [number, number, number]): string {
  const [pt, ph, pw] = patch;
  const cropped = g.op('Slice', [latent, g.int64([0, 0, 0]), p.covered, g.int64([2, 3, 4])]);
  const rowsSplit = reshape(g, cropped, g.op('Concat', [g.int64([-1]), p.rows, g.int64([ph]), p.columns, g.int64([pw])], { axis: 0 }));
  const patchesInner = transpose(g, rowsSplit, [0, 1, 3, 2, 4]); // [b·C·T, H', W', ph, pw]
  const framesSplit = reshape(g, patchesInner, g.op('Concat', [g.int64([-1, channels]), p.frames, g.int64([pt]), p.plane, g.int64([ph * pw])], { axis: 0 }));
  const tokensOuter = transpose(g, framesSplit, [0, 2, 4, 1, 3, 5]); // [b, F', H'·W', C, pt, ph·pw]
  return reshape(g, tokensOuter, [0, -1, channels * pt * ph * pw]);
}

/** Unpatchify (diffusers' reshape → permute(0, 7, 1, 4, 2, 5, 3, 6) → flatten), with rank ≤ 6. */
function unpatchify(g: GraphBuilder, tokens: string, p: PatchGrid, channels: number, patch: readonly [number, number, number]): string {
  const [pt, ph, pw] = patch;
  const split = reshape(g, tokens, g.op('Concat', [g.int64([-1]), p.frames, p.plane, g.int64([pt, ph * pw, channels])], { axis: 0 }));
  const channelsFirst = transpose(g, split, [0, 5, 1, 3, 2, 4]); // [b, C, F', pt, H'·W', ph·pw]
  const planes = reshape(g, channelsFirst, g.op('Concat', [g.int64([-1]), p.rows, p.columns, g.int64([ph, pw])], { axis: 0 }));
  const interleaved = transpose(g, planes, [0, 1, 3, 2, 4]); // [b·C·F'·pt, H', ph, W', pw]
  return reshape(g, interleaved, g.op('Concat', [g.int64([-1, channels]), p.covered], { axis: 0 }));
}

/** The weights as the graph reads them: the Conv3d patch weight viewed as a Linear [dim, C·pt·ph·pw] (same bytes). */
function graphWeights(weights: WeightSet, config: WanTransformerConfig): WeightSet {
  const [pt, ph, pw] = config.patchSize;
  const patch = weights.require('patch_embedding.weight', [config.dim, config.inChannels, pt, ph, pw]);
  const refs = new Map<string, TensorRef>(weights.refs());
  refs.set('patch_embedding.weight', reshapedRef(patch, [config.dim, config.inChannels * pt * ph * pw]));
  return new WeightSet(weights.label, refs);
}

/** The transformer graph for `config` (from {@link wanTransformerConfigFromWeights}), weights bound from `weights`. */
export function buildWanTransformer(weights: WeightSet, config: WanTransformerConfig, options: WanTransformerBuildOptions): ModelProto {
  const computeType = options.computeType;
  const g = new GraphBuilder({ name: 'wan21_transformer', floatType: computeType, producerName: 'ourvidz-studio' });
  const bound = graphWeights(weights, config);
  const b = new WeightBinder(g, bound, { computeType, folder: options.folder });
  const b32 = computeType === 'float32' ? b : new WeightBinder(g, bound, { computeType: 'float32', folder: options.folder });
  const { dim, patchSize } = config;
  const [pt, ph, pw] = patchSize;

  const latent = g.input('hidden_states', computeType, ['batch_size', config.inChannels, 'num_frames', 'height', 'width']);
  const timestep = g.input('timestep', 'float32', ['batch_size']);
  const text = g.input('encoder_hidden_states', computeType, ['batch_size', 'sequence_length', config.textDim]);
  const cast = { g, b };

  // Condition embedder: the time MLP in float32, its output in the compute type (`.type_as`).
  const sinusoid = sinusoidalEmbedding(g, timestep, config.freqDim, { flipSinToCos: true, freqShift: 0 });
  const timeHidden = silu(g, b32.linear(sinusoid, 'condition_embedder.time_embedder.linear_1', config.freqDim, dim));
  const temb = toCompute(cast, b32.linear(timeHidden, 'condition_embedder.time_embedder.linear_2', dim, dim));
  const timestepProj = b.linear(silu(g, temb), 'condition_embedder.time_proj', dim, 6 * dim);
  const timestepProj32 = reshape(g, to32(cast, timestepProj), [0, 6, dim]);
  const textHidden = geluTanh(g, b.linear(text, 'condition_embedder.text_embedder.linear_1', config.textDim, dim));
  const context = b.linear(textHidden, 'condition_embedder.text_embedder.linear_2', dim, dim);

  const grid = patchGrid(g, latent, patchSize);
  const ctx: WanContext = {
    g,
    b,
    b32,
    config,
    attention: options.attention ?? 'plain',
    ones: g.float32(new Float32Array(dim).fill(1), [dim]),
    rope: rotaryTables(g, config, grid.grid),
    context,
  };

  let h = b.linear(patchify(g, latent, grid, config.inChannels, patchSize), 'patch_embedding', config.inChannels * pt * ph * pw, dim);
  for (let i = 0; i < config.numLayers; i++) h = block(ctx, h, `blocks.${i}`, timestepProj32);

  // Output head: shift and scale from the shared table plus temb (in the compute type, as diffusers adds it).
  const headModulation = g.op('Add', [b32.tensor('scale_shift_table', [1, 2, dim]), unsqueeze(g, to32(cast, temb), [1])]);
  const [shift, scale] = g.node('Split', [headModulation, g.int64([1, 1])], { axis: 1 }, { outputs: 2 }) as [string, string];
  h = modulatedNorm(ctx, h, shift, scale);
  h = b.linear(h, 'proj_out', dim, config.outChannels * pt * ph * pw);
  const sample = unpatchify(g, h, grid, config.outChannels, patchSize);
  g.output(sample, 'sample', computeType, ['batch_size', config.outChannels, 'num_frames', 'height', 'width']);
  return g.build({ 'ourvidz.architecture': 'wan21-t2v-transformer', 'ourvidz.attention': ctx.attention });
}
