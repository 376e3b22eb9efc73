/**
 * WAN 2.1's VAE decoder (diffusers `AutoencoderKLWan`, models/autoencoders/autoencoder_kl_wan.py:
 * `post_quant_conv` + `WanDecoder3d`) sized from its own weights, the frame caches its
 * frame-cached graph carries, and the `vae_decoder/config.json` the WAN pipeline reads beside it.
 *
 * The decoder, as diffusers builds it for WAN 2.1 (`is_residual` false): `conv_in` (causal 3×3×3,
 * z_dim → the widest width), a `WanMidBlock` (residual block, per-frame attention, residual block),
 * one `WanUpBlock` per width, each `num_res_blocks + 1` residual blocks and, except the last, a
 * `WanResample` — 'upsample3d' (a causal 3×1×1 time conv doubling the frames, then nearest ×2 and a
 * 3×3 conv to half the channels) or 'upsample2d' (without the time conv) — then RMS norm, SiLU and
 * the causal `conv_out` to RGB. WAN 2.1 upsamples time in the first two up blocks and space in the
 * first three: 1 latent frame → 4 frames, and 8× the size.
 *
 * Other VAEs are refused by name with one sentence: WAN 2.2's 48-channel VAE (TI2V 5B) and its
 * residual layout, image VAEs (SDXL, Flux), other video VAEs.
 */
import { WeightFileError } from '../../weights/errors.ts';
import { canonicalShape, type WeightSet } from '../../weights/tensor-ref.ts';

export type WanVaeUpsample = 'upsample3d' | 'upsample2d' | null;

export interface WanVaeUpBlockConfig {
  /** Channels into the block's first residual block. */
  readonly inChannels: number;
  /** Channels of its residual blocks (its upsampler halves them). */
  readonly outChannels: number;
  /** diffusers `upsample_mode`; null for the last block. */
  readonly upsample: WanVaeUpsample;
}

export interface WanVaeDecoderConfig {
  /** Latent channels (WAN 2.1: 16). */
  readonly zDim: number;
  /** Width of conv_in and the mid block (WAN 2.1: 384 = base_dim 96 × dim_mult 4). */
  readonly midChannels: number;
  /** diffusers `num_res_blocks` (WAN 2.1: 2); each up block has one more residual block. */
  readonly numResBlocks: number;
  /** Widest first (WAN 2.1: 384 → 384 ↑3d, 192 → 384 ↑3d, 192 → 192 ↑2d, 96 → 96). */
  readonly upBlocks: readonly WanVaeUpBlockConfig[];
  /** Channels drawn (3: RGB). */
  readonly outChannels: number;
}

/** One explicit frame cache of the graph: the last two input frames of a causal 3-frame convolution. */
export interface WanVaeFrameCache {
  /** The convolution whose input it holds (its canonical prefix). */
  readonly layer: string;
  readonly channels: number;
  /** Spatial size ÷ the latent's (1, 2, 4 or 8): vae_decoder/config.json `feat_cache_scale`. */
  readonly scale: number;
}

export const WAN21_LATENT_CHANNELS = 16;
/** Frames per latent frame and pixels per latent pixel (the WAN pipeline's TEMPORAL_SCALE and SPATIAL_SCALE). */
export const WAN_VAE_TEMPORAL_SCALE = 4;
export const WAN_VAE_SPATIAL_SCALE = 8;
const IMAGE_CHANNELS = 3;

/** AutoencoderKLWan's default latent statistics, which are WAN 2.1's released `latents_mean` / `latents_std`. */
export const WAN21_LATENTS_MEAN: readonly number[] = [
  -0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508, 0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497,
  0.2503, -0.2921,
];
export const WAN21_LATENTS_STD: readonly number[] = [
  2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743, 3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251,
  1.916,
];

// ---------------------------------------------------------------------------------------------
// Parameters and caches

/** Every canonical parameter the decoder graph binds — `post_quant_conv.*` and `decoder.*` of diffusers' state dict — with its shape. */
export function wanVaeDecoderWeightShapes(config: WanVaeDecoderConfig): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  const conv = (prefix: string, out: number, inp: number, kernel: readonly number[]): void => {
    shapes[`${prefix}.weight`] = [out, inp, ...kernel];
    shapes[`${prefix}.bias`] = [out];
  };
  const residual = (prefix: string, inp: number, out: number): void => {
    shapes[`${prefix}.norm1.gamma`] = [inp, 1, 1, 1];
    conv(`${prefix}.conv1`, out, inp, [3, 3, 3]);
    shapes[`${prefix}.norm2.gamma`] = [out, 1, 1, 1];
    conv(`${prefix}.conv2`, out, out, [3, 3, 3]);
    if (inp !== out) conv(`${prefix}.conv_shortcut`, out, inp, [1, 1, 1]);
  };
  const { zDim, midChannels: mid } = config;
  conv('post_quant_conv', zDim, zDim, [1, 1, 1]);
  conv('decoder.conv_in', mid, zDim, [3, 3, 3]);
  residual('decoder.mid_block.resnets.0', mid, mid);
  shapes['decoder.mid_block.attentions.0.norm.gamma'] = [mid, 1, 1];
  conv('decoder.mid_block.attentions.0.to_qkv', 3 * mid, mid, [1, 1]);
  conv('decoder.mid_block.attentions.0.proj', mid, mid, [1, 1]);
  residual('decoder.mid_block.resnets.1', mid, mid);
  config.upBlocks.forEach((block, i) => {
    const prefix = `decoder.up_blocks.${i}`;
    for (let r = 0; r <= config.numResBlocks; r++) residual(`${prefix}.resnets.${r}`, r === 0 ? block.inChannels : block.outChannels, block.outChannels);
    if (block.upsample) conv(`${prefix}.upsamplers.0.resample.1`, block.outChannels / 2, block.outChannels, [3, 3]);
    if (block.upsample === 'upsample3d') conv(`${prefix}.upsamplers.0.time_conv`, 2 * block.outChannels, block.outChannels, [3, 1, 1]);
  });
  const last = config.upBlocks.at(-1)!.outChannels;
  shapes['decoder.norm_out.gamma'] = [last, 1, 1, 1];
  conv('decoder.conv_out', config.outChannels, last, [3, 3, 3]);
  return shapes;
}

/**
 * The frame caches in the order diffusers' `_feat_map` holds them (its `feat_idx` order): conv_in,
 * each residual block's conv1 and conv2, each upsample3d's time conv after its block's residual
 * blocks, conv_out. 1×1×1 convolutions have no time extent and no cache.
 */
export function wanVaeFrameCaches(config: WanVaeDecoderConfig): WanVaeFrameCache[] {
  const caches: WanVaeFrameCache[] = [];
  let scale = 1;
  const residual = (prefix: string, inp: number, out: number): void => {
    caches.push({ layer: `${prefix}.conv1`, channels: inp, scale }, { layer: `${prefix}.conv2`, channels: out, scale });
  };
  caches.push({ layer: 'decoder.conv_in', channels: config.zDim, scale });
  residual('decoder.mid_block.resnets.0', config.midChannels, config.midChannels);
  residual('decoder.mid_block.resnets.1', config.midChannels, config.midChannels);
  config.upBlocks.forEach((block, i) => {
    for (let r = 0; r <= config.numResBlocks; r++) residual(`decoder.up_blocks.${i}.resnets.${r}`, r === 0 ? block.inChannels : block.outChannels, block.outChannels);
    if (block.upsample === 'upsample3d') caches.push({ layer: `decoder.up_blocks.${i}.upsamplers.0.time_conv`, channels: block.outChannels, scale });
    if (block.upsample) scale *= 2;
  });
  caches.push({ layer: 'decoder.conv_out', channels: config.upBlocks.at(-1)!.outChannels, scale });
  return caches;
}

export interface WanVaeLatentStats {
  readonly latentsMean: readonly number[];
  readonly latentsStd: readonly number[];
}

/**
 * `vae_decoder/config.json` for the frame-cached graph (docs/models.md): the latent statistics the
 * pipeline un-normalises with (the graph does not fold them in) and `feat_cache_scale`, one spatial
 * scale per `feat_cache_in.i`, so the pipeline can make the zero caches for any job size.
 */
export function wanVaeDecoderConfigJson(
  config: WanVaeDecoderConfig,
  stats: WanVaeLatentStats = { latentsMean: WAN21_LATENTS_MEAN, latentsStd: WAN21_LATENTS_STD },
): Record<string, unknown> {
  return {
    _class_name: 'AutoencoderKLWan',
    z_dim: config.zDim,
    latents_mean: [...stats.latentsMean],
    latents_std: [...stats.latentsStd],
    scale_factor_temporal: WAN_VAE_TEMPORAL_SCALE,
    scale_factor_spatial: WAN_VAE_SPATIAL_SCALE,
    feat_cache_scale: wanVaeFrameCaches(config).map((c) => c.scale),
  };
}

// ---------------------------------------------------------------------------------------------
// Sizing from the weights

function wrongKind(message: string): WeightFileError {
  return new WeightFileError('wrong_kind', message);
}

function shapeOf(weights: WeightSet, name: string): number[] | null {
  const ref = weights.get(name);
  return ref ? canonicalShape(ref) : null;
}

/** Indices N of `${prefix}N.` among the weight names, checked to run 0…n−1. */
function childIndices(weights: WeightSet, prefix: string): number[] {
  const found = new Set<number>();
  for (const name of weights.names(prefix)) {
    const index = /^(\d+)\./.exec(name.slice(prefix.length));
    if (index) found.add(Number(index[1]));
  }
  const indices = [...found].sort((a, b) => a - b);
  const gap = indices.findIndex((n, i) => n !== i);
  if (gap !== -1) throw new WeightFileError('incomplete', `${weights.label} has ${prefix}${indices[gap]} but no ${prefix}${gap}: the file is incomplete`);
  return indices;
}

const CHOOSE = "choose WAN 2.1's VAE (Wan2.1_VAE, wan_2.1_vae.safetensors), which the WAN 2.1 models use";

/** One sentence for a file that is not WAN 2.1's VAE decoder, judged from conv_in and the layout; null when it may be. */
function otherKind(weights: WeightSet, convIn: number[] | null): string | null {
  const label = weights.label;
  const residualLayout = weights.names('decoder.up_blocks.').some((n) => /^decoder\.up_blocks\.\d+\.(upsampler|avg_shortcut)\./.test(n));
  if (convIn?.length === 5 && convIn[1] === 48) {
    return `${label} is WAN 2.2's VAE (48-channel latents, made for the TI2V 5B model), not WAN 2.1's 16-channel VAE: ${CHOOSE}`;
  }
  if (residualLayout) return `${label} has WAN 2.2's residual up blocks, not WAN 2.1's VAE decoder: ${CHOOSE}`;
  if (!convIn) {
    if (weights.has('decoder.conv_in.conv.weight')) return `${label} is a video VAE of another family (its decoder.conv_in wraps a conv), not WAN's: ${CHOOSE}`;
    if (weights.names('encoder.').length > 0 && weights.names('decoder.').length === 0) return `${label} holds only a VAE encoder; decoding needs the decoder: ${CHOOSE}`;
    return `${label} is not a WAN VAE (it has no decoder.conv_in weight): ${CHOOSE}`;
  }
  if (convIn.length === 4) return `${label} is an image VAE (2-D convolutions, as SDXL's or Flux's), not WAN's video VAE: ${CHOOSE}`;
  if (convIn.length !== 5 || convIn[2] !== 3 || convIn[3] !== 3 || convIn[4] !== 3) {
    return `${label}: decoder.conv_in.weight is [${convIn.join(', ')}], not WAN's causal 3×3×3 convolution: ${CHOOSE}`;
  }
  if (convIn[1] !== WAN21_LATENT_CHANNELS) return `${label} decodes ${convIn[1]}-channel latents where WAN 2.1's VAE decodes ${WAN21_LATENT_CHANNELS}: ${CHOOSE}`;
  return null;
}

/** WAN 2.1's VAE decoder sized from its weights; one sentence (WeightFileError) for anything that does not fit. */
export function wanVaeDecoderConfigFromWeights(weights: WeightSet): WanVaeDecoderConfig {
  const label = weights.label;
  const convIn = shapeOf(weights, 'decoder.conv_in.weight');
  const refusal = otherKind(weights, convIn);
  if (refusal) throw wrongKind(refusal);
  const [midChannels, zDim] = convIn as [number, number];

  const blocks = childIndices(weights, 'decoder.up_blocks.');
  if (blocks.length === 0) throw new WeightFileError('incomplete', `${label} has no decoder.up_blocks: the VAE decoder is incomplete`);
  let resnetsPerBlock = -1;
  const upBlocks: WanVaeUpBlockConfig[] = blocks.map((i) => {
    const prefix = `decoder.up_blocks.${i}`;
    const resnets = childIndices(weights, `${prefix}.resnets.`).length;
    if (resnets === 0) throw new WeightFileError('incomplete', `${label} has no residual blocks in decoder up block ${i}: the VAE decoder is incomplete`);
    if (resnetsPerBlock === -1) resnetsPerBlock = resnets;
    if (resnets !== resnetsPerBlock) throw wrongKind(`${label}: decoder up block ${i} has ${resnets} residual blocks where block 0 has ${resnetsPerBlock}; this is not WAN 2.1's VAE`);
    const conv1 = weights.require(`${prefix}.resnets.0.conv1.weight`);
    const [outChannels, inChannels] = canonicalShape(conv1) as [number, number];
    const upsample: WanVaeUpsample = weights.has(`${prefix}.upsamplers.0.time_conv.weight`)
      ? 'upsample3d'
      : weights.has(`${prefix}.upsamplers.0.resample.1.weight`)
        ? 'upsample2d'
        : null;
    return { inChannels, outChannels, upsample };
  });

  // The pipeline's contract: one latent frame → 4 frames, 8× the size (two upsample3d, three upsamples).
  const temporal = upBlocks.filter((b) => b.upsample === 'upsample3d').length;
  const spatial = upBlocks.filter((b) => b.upsample).length;
  if (2 ** temporal !== WAN_VAE_TEMPORAL_SCALE || 2 ** spatial !== WAN_VAE_SPATIAL_SCALE) {
    throw wrongKind(`${label} upsamples ${2 ** temporal}× in time and ${2 ** spatial}× in space where WAN 2.1's VAE does 4× and 8×: ${CHOOSE}`);
  }
  upBlocks.forEach((block, i) => {
    // diffusers (WAN 2.1): each block after the first takes what the previous block's upsampler gives, half its width.
    const given = i === 0 ? midChannels : upBlocks[i - 1]!.outChannels / 2;
    if (block.inChannels !== given) {
      throw wrongKind(`${label}: decoder up block ${i} takes ${block.inChannels} channels where the layer before it gives ${given}; this is not WAN 2.1's VAE`);
    }
    if (i < upBlocks.length - 1 && !block.upsample) {
      throw wrongKind(`${label}: decoder up block ${i} has no upsampler, which every WAN 2.1 up block but the last has; this is not WAN 2.1's VAE`);
    }
  });
  const convOut = shapeOf(weights, 'decoder.conv_out.weight');
  if (!convOut) throw new WeightFileError('incomplete', `${label} has no weight for decoder.conv_out.weight: the file is incomplete or not this architecture`);
  if (convOut[0] !== IMAGE_CHANNELS) throw wrongKind(`${label} draws ${convOut[0]} channels where WAN 2.1's VAE draws RGB (3): ${CHOOSE}`);

  const config: WanVaeDecoderConfig = { zDim, midChannels, numResBlocks: resnetsPerBlock - 1, upBlocks, outChannels: IMAGE_CHANNELS };
  // Every parameter the graph binds must be there with its shape: a truncated or mixed file fails
  // here, naming the first weight that does not fit.
  for (const [name, shape] of Object.entries(wanVaeDecoderWeightShapes(config))) weights.require(name, shape);
  return config;
}

/** "WAN 2.1 VAE" for the released size (base_dim 96, two residual blocks a stage), else null. */
export function wanVaeSizeLabel(config: WanVaeDecoderConfig): string | null {
  const widths = config.upBlocks.map((b) => `${b.inChannels}>${b.outChannels}`).join(',');
  return config.midChannels === 384 && config.numResBlocks === 2 && widths === '384>384,192>384,192>192,96>96' ? 'WAN 2.1 VAE' : null;
}
