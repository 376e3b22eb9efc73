/**
 * SDXL's VAE decoder as an ONNX graph built from the weights: diffusers `AutoencoderKL.decode`
 * (models/autoencoders/autoencoder_kl.py) = `post_quant_conv` (1×1), then `Decoder`
 * (models/autoencoders/vae.py): conv_in → `UNetMidBlock2D` (resnet, one self-attention over the
 * H·W positions, resnet; unets/unet_2d_blocks.py) → one `UpDecoderBlock2D` per width, widest first,
 * each layers_per_block + 1 resnets and, except the last, a nearest ×2 + 3×3 conv `Upsample2D` →
 * GroupNorm → SiLU → conv_out. Every GroupNorm of the VAE uses eps 1e-6; there is no time
 * embedding, and diffusers' output scale factors are all 1 here.
 *
 * Graph contract (pipelines/sdxl): `latent_sample` [batch_size, 4, latent_height, latent_width],
 * already divided by the scaling factor, → `sample` [batch_size, 3, 8·h, 8·w], unclamped. Weights
 * stay in the user's file (WeightBinder). SDXL's original VAE overflows in float16 (diffusers
 * `force_upcast`), so the studio builds it in float32 unless a VAE is known to be fp16-safe.
 */
import { GraphBuilder } from '../../onnx/graph-builder.ts';
import type { ModelProto } from '../../onnx/onnx-proto.ts';
import { WeightBinder, type ComputeType } from '../../onnx/weights.ts';
import { WeightFileError } from '../../weights/errors.ts';
import { canonicalShape, type WeightSet } from '../../weights/tensor-ref.ts';
import { attention, groupNorm, reshape, silu, transpose, type AttentionMode } from '../ops.ts';

export interface VaeDecoderConfig {
  /** Channels of the latent it decodes (SDXL: 4). */
  latentChannels: number;
  /** diffusers `block_out_channels`, in encoder order (SDXL: 128, 256, 512, 512); the decoder runs them widest first. */
  blockOutChannels: number[];
  /** diffusers `layers_per_block` (SDXL: 2); each decoder up block has one resnet more. */
  layersPerBlock: number;
  /** GroupNorm groups (SDXL: 32). The weights do not show it. */
  normGroups: number;
}

export interface VaeDecoderHints {
  normGroups?: number;
}

export interface VaeDecoderBuildOptions {
  computeType: ComputeType;
  /** 'plain' (default): ONNX operators; 'fused': com.microsoft.MultiHeadAttention with one head. */
  attention?: AttentionMode;
  /** The folder onnxruntime resolves the weights' files against. */
  folder: string;
}

export const SDXL_VAE_NORM_GROUPS = 32;
/** The decoder draws RGB. */
export const IMAGE_CHANNELS = 3;
const NORM_EPS = 1e-6;
const SDXL_LATENT_CHANNELS = 4;

/** Indices N of `${prefix}N.` among the weight names, checked to run 0…n−1. */
function childIndices(weights: WeightSet, prefix: string): number[] {
  const found = new Set<number>();
  for (const name of weights.names(prefix)) {
    const index = /^(\d+)\./.exec(name.slice(prefix.length));
    if (index) found.add(Number(index[1]));
  }
  const indices = [...found].sort((a, b) => a - b);
  indices.forEach((n, i) => {
    if (n !== i) throw new WeightFileError('incomplete', `${weights.label} has ${prefix}${n} but no ${prefix}${i}: the file is incomplete`);
  });
  return indices;
}

/**
 * The decoder sized from the weights' shapes: latent channels from conv_in, the widths from each up
 * block's first resnet, the depth from the resnets per block. Every weight the graph binds is then
 * checked against the shape this config implies, so a file that does not fit fails here with one
 * sentence rather than inside onnxruntime.
 */
export function vaeDecoderConfigFromWeights(weights: WeightSet, hints: VaeDecoderHints = {}): VaeDecoderConfig {
  const label = weights.label;
  const convIn = weights.get('decoder.conv_in.weight');
  if (!convIn) {
    throw new WeightFileError('wrong_kind', `${label} has no VAE decoder (decoder.conv_in.weight is missing): it is not an image VAE, or holds only the encoder`);
  }
  const convInShape = canonicalShape(convIn);
  if (convInShape.length === 5) {
    throw new WeightFileError('wrong_kind', `${label} is a video VAE with 3-D convolutions (WAN's), not SDXL's image VAE`);
  }
  if (convInShape.length !== 4) {
    throw new WeightFileError('wrong_kind', `${label}: decoder.conv_in.weight is [${convInShape.join(', ')}], not a 2-D convolution; this is not SDXL's VAE`);
  }
  const latentChannels = convInShape[1]!;
  if (latentChannels === 16) {
    throw new WeightFileError('wrong_kind', `${label} decodes 16-channel latents (the SD3/Flux VAE); SDXL needs its own 4-channel VAE`);
  }
  if (latentChannels !== SDXL_LATENT_CHANNELS) {
    throw new WeightFileError('wrong_kind', `${label} decodes ${latentChannels}-channel latents; SDXL's VAE decodes 4`);
  }

  const upBlocks = childIndices(weights, 'decoder.up_blocks.');
  if (upBlocks.length === 0) throw new WeightFileError('incomplete', `${label} has no decoder.up_blocks: the VAE decoder is incomplete`);
  const widestFirst: number[] = [];
  let resnetsPerBlock = -1;
  for (const i of upBlocks) {
    const resnets = childIndices(weights, `decoder.up_blocks.${i}.resnets.`).length;
    if (resnets === 0) throw new WeightFileError('incomplete', `${label} has no resnets in decoder up block ${i}: the VAE decoder is incomplete`);
    if (resnetsPerBlock === -1) resnetsPerBlock = resnets;
    if (resnets !== resnetsPerBlock) {
      throw new WeightFileError('wrong_kind', `${label}: decoder up block ${i} has ${resnets} resnets where block 0 has ${resnetsPerBlock}; this is not SDXL's VAE`);
    }
    widestFirst.push(canonicalShape(weights.require(`decoder.up_blocks.${i}.resnets.0.conv1.weight`))[0]!);
  }

  const normGroups = hints.normGroups ?? SDXL_VAE_NORM_GROUPS;
  for (const channels of new Set(widestFirst)) {
    if (channels % normGroups !== 0) {
      throw new WeightFileError('wrong_kind', `${label}: ${channels} decoder channels do not split into ${normGroups} norm groups; this is not SDXL's VAE`);
    }
  }
  const config: VaeDecoderConfig = {
    latentChannels,
    blockOutChannels: [...widestFirst].reverse(),
    layersPerBlock: resnetsPerBlock - 1,
    normGroups,
  };
  requireVaeDecoderWeights(weights, config);
  return config;
}

/** Every weight the graph binds, present with the shape the config implies (or one sentence saying which is not). */
export function requireVaeDecoderWeights(weights: WeightSet, config: VaeDecoderConfig): void {
  for (const [name, shape] of Object.entries(vaeDecoderWeightShapes(config))) weights.require(name, shape);
}

/** The canonical parameters the decoder graph uses (post_quant_conv and decoder.*), as diffusers names them. */
export function vaeDecoderWeightShapes(config: VaeDecoderConfig): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  const conv = (prefix: string, inChannels: number, outChannels: number, kernel: number): void => {
    shapes[`${prefix}.weight`] = [outChannels, inChannels, kernel, kernel];
    shapes[`${prefix}.bias`] = [outChannels];
  };
  const norm = (prefix: string, channels: number): void => {
    shapes[`${prefix}.weight`] = [channels];
    shapes[`${prefix}.bias`] = [channels];
  };
  const resnet = (prefix: string, inChannels: number, outChannels: number): void => {
    norm(`${prefix}.norm1`, inChannels);
    conv(`${prefix}.conv1`, inChannels, outChannels, 3);
    norm(`${prefix}.norm2`, outChannels);
    conv(`${prefix}.conv2`, outChannels, outChannels, 3);
    if (inChannels !== outChannels) conv(`${prefix}.conv_shortcut`, inChannels, outChannels, 1);
  };
  const { latentChannels, blockOutChannels, layersPerBlock } = config;
  const widestFirst = [...blockOutChannels].reverse();
  const top = widestFirst[0]!;
  conv('post_quant_conv', latentChannels, latentChannels, 1);
  conv('decoder.conv_in', latentChannels, top, 3);
  resnet('decoder.mid_block.resnets.0', top, top);
  const attn = 'decoder.mid_block.attentions.0';
  norm(`${attn}.group_norm`, top);
  for (const projection of ['to_q', 'to_k', 'to_v', 'to_out.0']) {
    shapes[`${attn}.${projection}.weight`] = [top, top];
    shapes[`${attn}.${projection}.bias`] = [top];
  }
  resnet('decoder.mid_block.resnets.1', top, top);
  let channels = top;
  widestFirst.forEach((width, i) => {
    for (let r = 0; r <= layersPerBlock; r++) resnet(`decoder.up_blocks.${i}.resnets.${r}`, r === 0 ? channels : width, width);
    if (i < widestFirst.length - 1) conv(`decoder.up_blocks.${i}.upsamplers.0.conv`, width, width, 3);
    channels = width;
  });
  norm('decoder.conv_norm_out', channels);
  conv('decoder.conv_out', channels, IMAGE_CHANNELS, 3);
  return shapes;
}

/** diffusers `ResnetBlock2D` (models/resnet.py) without a time embedding: GN → SiLU → conv, twice, plus the (1×1-projected) input. */
function resnetBlock(b: WeightBinder, x: string, prefix: string, inChannels: number, outChannels: number, groups: number): string {
  const g = b.g;
  let h = silu(g, groupNorm(b, x, `${prefix}.norm1`, inChannels, groups, NORM_EPS));
  h = b.conv2d(h, `${prefix}.conv1`, { inChannels, outChannels, kernel: 3 });
  h = silu(g, groupNorm(b, h, `${prefix}.norm2`, outChannels, groups, NORM_EPS));
  h = b.conv2d(h, `${prefix}.conv2`, { inChannels: outChannels, outChannels, kernel: 3 });
  const shortcut = inChannels === outChannels ? x : b.conv2d(x, `${prefix}.conv_shortcut`, { inChannels, outChannels, kernel: 1 });
  return g.op('Add', [shortcut, h]);
}

/**
 * The mid block's attention (diffusers `Attention` as the VAE builds it, models/attention_processor.py):
 * GroupNorm, then one head as wide as the channels over the H·W positions, the output projection,
 * and the input added back (rescale factor 1).
 */
function midAttention(b: WeightBinder, x: string, prefix: string, channels: number, groups: number, mode: AttentionMode): string {
  const g = b.g;
  const normed = groupNorm(b, x, `${prefix}.group_norm`, channels, groups, NORM_EPS);
  const tokens = transpose(g, reshape(g, normed, [0, channels, -1]), [0, 2, 1]);
  const q = b.linear(tokens, `${prefix}.to_q`, channels, channels);
  const k = b.linear(tokens, `${prefix}.to_k`, channels, channels);
  const v = b.linear(tokens, `${prefix}.to_v`, channels, channels);
  const attended = attention(g, q, k, v, { heads: 1, headDim: channels, mode });
  const projected = b.linear(attended, `${prefix}.to_out.0`, channels, channels);
  const spatial = reshape(g, transpose(g, projected, [0, 2, 1]), g.op('Shape', [x]));
  return g.op('Add', [spatial, x]);
}

/** diffusers `Upsample2D` with a conv: nearest-neighbour ×2 (torch's `interpolate(mode="nearest")`), then 3×3. */
function upsample(b: WeightBinder, x: string, prefix: string, channels: number): string {
  const doubled = b.g.op('Resize', [x, '', b.g.float32([1, 1, 2, 2])], {
    mode: 'nearest',
    coordinate_transformation_mode: 'asymmetric',
    nearest_mode: 'floor',
  });
  return b.conv2d(doubled, `${prefix}.conv`, { inChannels: channels, outChannels: channels, kernel: 3 });
}

export function buildVaeDecoder(weights: WeightSet, config: VaeDecoderConfig, options: VaeDecoderBuildOptions): ModelProto {
  requireVaeDecoderWeights(weights, config);
  const { computeType } = options;
  const mode = options.attention ?? 'plain';
  const g = new GraphBuilder({ name: 'sdxl_vae_decoder', floatType: computeType, producerName: 'ourvidz-studio' });
  const b = new WeightBinder(g, weights, { computeType, folder: options.folder });
  const { latentChannels, layersPerBlock, normGroups } = config;
  const widestFirst = [...config.blockOutChannels].reverse();

  const latent = g.input('latent_sample', computeType, ['batch_size', latentChannels, 'latent_height', 'latent_width']);
  let h = b.conv2d(latent, 'post_quant_conv', { inChannels: latentChannels, outChannels: latentChannels, kernel: 1 });
  let channels = widestFirst[0]!;
  h = b.conv2d(h, 'decoder.conv_in', { inChannels: latentChannels, outChannels: channels, kernel: 3 });

  h = resnetBlock(b, h, 'decoder.mid_block.resnets.0', channels, channels, normGroups);
  h = midAttention(b, h, 'decoder.mid_block.attentions.0', channels, normGroups, mode);
  h = resnetBlock(b, h, 'decoder.mid_block.resnets.1', channels, channels, normGroups);

  widestFirst.forEach((width, i) => {
    for (let r = 0; r <= layersPerBlock; r++) {
      h = resnetBlock(b, h, `decoder.up_blocks.${i}.resnets.${r}`, channels, width, normGroups);
      channels = width;
    }
    if (i < widestFirst.length - 1) h = upsample(b, h, `decoder.up_blocks.${i}.upsamplers.0`, width);
  });

  h = silu(g, groupNorm(b, h, 'decoder.conv_norm_out', channels, normGroups, NORM_EPS));
  h = b.conv2d(h, 'decoder.conv_out', { inChannels: channels, outChannels: IMAGE_CHANNELS, kernel: 3 });
  g.output(h, 'sample', computeType, ['batch_size', IMAGE_CHANNELS, 'height', 'width']);
  return g.build();
}
