/**
 * SDXL's UNet as an ONNX graph, built from the weights' shapes with the weights left in the
 * user's file (external data). The architecture is diffusers' `UNet2DConditionModel` as SDXL
 * configures it (models/unets/unet_2d_condition.py): a sinusoidal timestep embedding and time MLP,
 * the `text_time` added conditioning (`get_aug_embed`), then DownBlock2D / CrossAttnDownBlock2D
 * levels, UNetMidBlock2DCrossAttn and CrossAttnUpBlock2D / UpBlock2D levels
 * (models/unets/unet_2d_blocks.py).
 *
 * Graph contract (the Optimum export's names, which the studio's SDXL pipeline feeds):
 *   sample [batch_size, 4, height, width], timestep float32 [batch_size],
 *   encoder_hidden_states [batch_size, sequence_length, 2048], text_embeds [batch_size, 1280],
 *   time_ids float32 [batch_size, 6] → out_sample [batch_size, 4, height, width];
 * float tensors other than timestep/time_ids are in the compute type.
 */
import { GraphBuilder } from '../../onnx/graph-builder.ts';
import type { ModelProto } from '../../onnx/onnx-proto.ts';
import { WeightBinder, type ComputeType } from '../../onnx/weights.ts';
import type { WeightSet } from '../../weights/tensor-ref.ts';
import { attention, castTo, gelu, groupNorm, layerNorm, reshape, silu, sinusoidalEmbedding, transpose, type AttentionMode } from '../ops.ts';
import { addEmbeddingInput, unetLayout, type LevelPlan, type ResnetPlan, type TransformerPlan, type UnetConfig } from './unet-config.ts';

export * from './unet-config.ts';

export interface UnetBuildOptions {
  readonly computeType: ComputeType;
  /** 'fused' uses onnxruntime's com.microsoft.MultiHeadAttention; default plain ONNX (opset 17). */
  readonly attention?: AttentionMode;
  /** The folder onnxruntime resolves the weights' external data against. */
  readonly folder: string;
}

/** diffusers ResnetBlock2D (norm1 eps 1e-5) and Transformer2DModel (norm eps 1e-6), as SDXL sets them. */
const RESNET_NORM_EPS = 1e-5;
const TRANSFORMER_NORM_EPS = 1e-6;
const LAYER_NORM_EPS = 1e-5;

interface UnetContext {
  readonly b: WeightBinder;
  readonly g: GraphBuilder;
  readonly config: UnetConfig;
  readonly attention: AttentionMode;
  /** SiLU of the summed time embedding, [batch, timeEmbedDim]: every resnet projects it. */
  readonly timeAct: string;
  /** encoder_hidden_states, [batch, sequence, crossAttentionDim]. */
  readonly context: string;
}

/** diffusers TimestepEmbedding (models/embeddings.py): linear_1 → SiLU → linear_2. */
function timestepMlp(b: WeightBinder, x: string, prefix: string, inFeatures: number, width: number): string {
  const hidden = silu(b.g, b.linear(x, `${prefix}.linear_1`, inFeatures, width));
  return b.linear(hidden, `${prefix}.linear_2`, width, width);
}

/**
 * The time embedding plus SDXL's added conditioning (diffusers `UNet2DConditionModel.get_aug_embed`,
 * "text_time"): each time id gets its own sinusoid, flattened after the pooled text embedding. Both
 * sinusoids are computed in float32 from the float32 inputs, then cast to the compute type, as
 * diffusers does.
 */
function timeEmbedding(b: WeightBinder, config: UnetConfig, timestep: string, timeIds: string, textEmbeds: string): string {
  const g = b.g;
  const sinusoid = { flipSinToCos: true, freqShift: 0 };
  const toCompute = (x: string): string => (b.computeType === 'float32' ? x : castTo(g, x, b.computeType));
  const tEmb = toCompute(sinusoidalEmbedding(g, timestep, config.timeProjDim, sinusoid));
  const emb = timestepMlp(b, tEmb, 'time_embedding', config.timeProjDim, config.timeEmbedDim);
  const idEmb = toCompute(reshape(g, sinusoidalEmbedding(g, timeIds, config.addTimeEmbedDim, sinusoid), [0, -1]));
  const added = g.op('Concat', [textEmbeds, idEmb], { axis: -1 });
  const aug = timestepMlp(b, added, 'add_embedding', addEmbeddingInput(config), config.timeEmbedDim);
  return g.op('Add', [emb, aug]);
}

/** diffusers ResnetBlock2D (models/resnet.py), "default" time-embedding norm, output scale 1. */
function resnet(ctx: UnetContext, x: string, plan: ResnetPlan): string {
  const { b, g, config } = ctx;
  const { prefix, inChannels: cin, outChannels: cout } = plan;
  let h = silu(g, groupNorm(b, x, `${prefix}.norm1`, cin, config.normGroups, RESNET_NORM_EPS));
  h = b.conv2d(h, `${prefix}.conv1`, { inChannels: cin, outChannels: cout, kernel: 3 });
  const time = b.linear(ctx.timeAct, `${prefix}.time_emb_proj`, config.timeEmbedDim, cout);
  h = g.op('Add', [h, reshape(g, time, [0, cout, 1, 1])]);
  h = silu(g, groupNorm(b, h, `${prefix}.norm2`, cout, config.normGroups, RESNET_NORM_EPS));
  h = b.conv2d(h, `${prefix}.conv2`, { inChannels: cout, outChannels: cout, kernel: 3 });
  const shortcut = cin === cout ? x : b.conv2d(x, `${prefix}.conv_shortcut`, { inChannels: cin, outChannels: cout, kernel: 1 });
  return g.op('Add', [shortcut, h]);
}

/** diffusers Attention with q from `x` and k/v from `kv` (self-attention when they are the same). */
function attentionLayer(ctx: UnetContext, x: string, kv: string, kvDim: number, prefix: string, channels: number, heads: number): string {
  const { b } = ctx;
  const q = b.linear(x, `${prefix}.to_q`, channels, channels, { bias: false });
  const k = b.linear(kv, `${prefix}.to_k`, kvDim, channels, { bias: false });
  const v = b.linear(kv, `${prefix}.to_v`, kvDim, channels, { bias: false });
  const out = attention(b.g, q, k, v, { heads, headDim: channels / heads, mode: ctx.attention });
  return b.linear(out, `${prefix}.to_out.0`, channels, channels);
}

/** diffusers FeedForward with GEGLU (models/attention.py, activations.py): value · gelu(gate), 4× wide. */
function gegluFeedForward(ctx: UnetContext, x: string, prefix: string, channels: number): string {
  const { b, g } = ctx;
  const inner = 4 * channels;
  const projected = b.linear(x, `${prefix}.net.0.proj`, channels, 2 * inner);
  const [value, gate] = g.node('Split', [projected, g.int64([inner, inner])], { axis: -1 }, { outputs: 2 }) as [string, string];
  return b.linear(g.op('Mul', [value, gelu(g, gate)]), `${prefix}.net.2`, inner, channels);
}

/** diffusers BasicTransformerBlock (pre-LayerNorm self-attention, cross-attention, feed-forward; residuals). */
function transformerBlock(ctx: UnetContext, x: string, prefix: string, channels: number, heads: number): string {
  const { b, g } = ctx;
  let h = x;
  const selfIn = layerNorm(b, h, `${prefix}.norm1`, channels, LAYER_NORM_EPS);
  h = g.op('Add', [attentionLayer(ctx, selfIn, selfIn, channels, `${prefix}.attn1`, channels, heads), h]);
  const crossIn = layerNorm(b, h, `${prefix}.norm2`, channels, LAYER_NORM_EPS);
  h = g.op('Add', [attentionLayer(ctx, crossIn, ctx.context, ctx.config.crossAttentionDim, `${prefix}.attn2`, channels, heads), h]);
  const ffIn = layerNorm(b, h, `${prefix}.norm3`, channels, LAYER_NORM_EPS);
  return g.op('Add', [gegluFeedForward(ctx, ffIn, `${prefix}.ff`, channels), h]);
}

/** diffusers Transformer2DModel, use_linear_projection=True path (models/transformers/transformer_2d.py). */
function spatialTransformer(ctx: UnetContext, x: string, plan: TransformerPlan): string {
  const { b, g, config } = ctx;
  const c = plan.channels;
  const normed = groupNorm(b, x, `${plan.prefix}.norm`, c, config.normGroups, TRANSFORMER_NORM_EPS);
  // [b, c, h, w] → [b, h·w, c]: one token per latent position.
  let h = reshape(g, transpose(g, normed, [0, 2, 3, 1]), [0, -1, c]);
  h = b.linear(h, `${plan.prefix}.proj_in`, c, c);
  for (let k = 0; k < plan.depth; k++) h = transformerBlock(ctx, h, `${plan.prefix}.transformer_blocks.${k}`, c, plan.heads);
  h = b.linear(h, `${plan.prefix}.proj_out`, c, c);
  const back = reshape(g, transpose(g, h, [0, 2, 1]), g.op('Shape', [x]));
  return g.op('Add', [back, x]);
}

/**
 * Nearest-neighbour upsampling to the spatial size of `like` (diffusers Upsample2D with
 * `upsample_size`): ×2 when the latent halved evenly, and the exact skip size when it did not
 * (125 → 63 → 32 comes back as 32 → 63 → 125). torch's "nearest" picks source index
 * floor(dst · in/out), which is ONNX Resize's asymmetric / floor mode given output sizes.
 */
function upsampleTo(g: GraphBuilder, x: string, like: string): string {
  const batchChannels = g.op('Slice', [g.op('Shape', [x]), g.int64([0]), g.int64([2])]);
  const spatial = g.op('Slice', [g.op('Shape', [like]), g.int64([2]), g.int64([4])]);
  const sizes = g.op('Concat', [batchChannels, spatial], { axis: 0 });
  return g.op('Resize', [x, '', '', sizes], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
}

function downLevel(ctx: UnetContext, x: string, level: LevelPlan, skips: string[]): string {
  let h = x;
  level.resnets.forEach((plan, j) => {
    h = resnet(ctx, h, plan);
    const transformer = level.transformers[j];
    if (transformer) h = spatialTransformer(ctx, h, transformer);
    skips.push(h);
  });
  if (level.resample) {
    const ch = level.resample.channels;
    h = ctx.b.conv2d(h, level.resample.prefix, { inChannels: ch, outChannels: ch, kernel: 3, stride: 2, padding: 1 });
    skips.push(h);
  }
  return h;
}

function upLevel(ctx: UnetContext, x: string, level: LevelPlan, skips: string[]): string {
  const { b, g } = ctx;
  let h = x;
  level.resnets.forEach((plan, j) => {
    const skip = skips.pop();
    if (skip === undefined) throw new Error(`${plan.prefix}: no skip connection left (layout and skips disagree)`);
    h = resnet(ctx, g.op('Concat', [h, skip], { axis: 1 }), plan);
    const transformer = level.transformers[j];
    if (transformer) h = spatialTransformer(ctx, h, transformer);
  });
  if (level.resample) {
    const ch = level.resample.channels;
    h = upsampleTo(g, h, skips[skips.length - 1]!);
    h = b.conv2d(h, level.resample.prefix, { inChannels: ch, outChannels: ch, kernel: 3 });
  }
  return h;
}

/** The UNet graph for `config` (from {@link unetConfigFromWeights}), weights bound from `weights`. */
export function buildUnet(weights: WeightSet, config: UnetConfig, options: UnetBuildOptions): ModelProto {
  const computeType = options.computeType;
  const g = new GraphBuilder({ name: 'sdxl_unet', floatType: computeType, producerName: 'ourvidz-studio' });
  const b = new WeightBinder(g, weights, { computeType, folder: options.folder });
  const sample = g.input('sample', computeType, ['batch_size', config.inChannels, 'height', 'width']);
  const timestep = g.input('timestep', 'float32', ['batch_size']);
  const context = g.input('encoder_hidden_states', computeType, ['batch_size', 'sequence_length', config.crossAttentionDim]);
  const textEmbeds = g.input('text_embeds', computeType, ['batch_size', config.pooledDim]);
  const timeIds = g.input('time_ids', 'float32', ['batch_size', config.timeIdCount]);

  const emb = timeEmbedding(b, config, timestep, timeIds, textEmbeds);
  const ctx: UnetContext = { b, g, config, attention: options.attention ?? 'plain', timeAct: silu(g, emb), context };
  const layout = unetLayout(config);
  const c0 = config.blockOutChannels[0]!;

  let h = b.conv2d(sample, 'conv_in', { inChannels: config.inChannels, outChannels: c0, kernel: 3 });
  const skips = [h];
  for (const level of layout.down) h = downLevel(ctx, h, level, skips);
  h = resnet(ctx, h, layout.mid.resnets[0]);
  h = spatialTransformer(ctx, h, layout.mid.transformer);
  h = resnet(ctx, h, layout.mid.resnets[1]);
  for (const level of layout.up) h = upLevel(ctx, h, level, skips);

  h = silu(g, groupNorm(b, h, 'conv_norm_out', c0, config.normGroups, RESNET_NORM_EPS));
  h = b.conv2d(h, 'conv_out', { inChannels: c0, outChannels: config.outChannels, kernel: 3 });
  g.output(h, 'out_sample', computeType, ['batch_size', config.outChannels, 'height', 'width']);
  return g.build({ 'ourvidz.architecture': 'sdxl-unet', 'ourvidz.attention': ctx.attention });
}
