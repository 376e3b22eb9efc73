/**
 * WAN 2.1's text-to-video transformer (diffusers `WanTransformer3DModel`,
 * models/transformers/transformer_wan.py) sized from its own weights: width (`dim`), feed-forward
 * width, number of blocks, text width, timestep-sinusoid width, patch size, latent channels and
 * whether the cross-attention input is normalised (`cross_attn_norm`). What the weights cannot
 * say — the number of heads — follows WAN's rule of 128-channel heads (1.3B: 1536 = 12 × 128,
 * 14B: 5120 = 40 × 128; diffusers scripts/convert_wan_to_diffusers.py `get_transformer_config`),
 * overridable by the model's config.json through {@link WanTransformerHints}.
 *
 * Other WAN transformers are refused by name with one sentence: image-to-video (an image embedder,
 * image key/value projections `add_k_proj`, or 36 input channels), WAN 2.2's 48-channel latent
 * (TI2V 5B) and VACE (its control blocks).
 */
import { WeightFileError } from '../../weights/errors.ts';
import { canonicalShape, type WeightSet } from '../../weights/tensor-ref.ts';

export interface WanTransformerConfig {
  /** Latent channels in and out (WAN 2.1: 16). */
  readonly inChannels: number;
  readonly outChannels: number;
  /** Patch size (frames, height, width) of the patch embedding (WAN 2.1: 1, 2, 2). */
  readonly patchSize: readonly [number, number, number];
  /** Token width, `num_attention_heads × attention_head_dim` (1.3B: 1536, 14B: 5120). */
  readonly dim: number;
  readonly heads: number;
  readonly headDim: number;
  /** Feed-forward inner width (1.3B: 8960, 14B: 13824). */
  readonly ffnDim: number;
  readonly numLayers: number;
  /** Width of the text encoder's states (UMT5-XXL: 4096). */
  readonly textDim: number;
  /** Width of the timestep sinusoid (256). */
  readonly freqDim: number;
  /** Whether each block LayerNorms (with affine weights) the stream before cross-attention (WAN 2.1: yes). */
  readonly crossAttnNorm: boolean;
  /** Epsilon of every LayerNorm and of the q/k RMSNorms (diffusers config `eps`, 1e-6). */
  readonly eps: number;
  /** Channels of each head given to the frame, row and column rotary embeddings (128 → 44, 42, 42). */
  readonly ropeDims: readonly [number, number, number];
  readonly ropeTheta: number;
}

/** What a diffusers config.json can add to what the weights say. */
export interface WanTransformerHints {
  /** config.json `num_attention_heads`. */
  readonly heads?: number;
  /** config.json `attention_head_dim` (used when `heads` is not given). */
  readonly headDim?: number;
  /** config.json `eps`. */
  readonly eps?: number;
}

/** WAN's head width (both released sizes; Wan-AI's configs give dim and num_heads with dim / num_heads = 128). */
export const WAN_HEAD_DIM = 128;
const WAN_EPS = 1e-6;
/** diffusers `WanRotaryPosEmbed(theta=10000.0)`. */
const ROPE_THETA = 10000;
const WAN21_LATENT_CHANNELS = 16;

/**
 * diffusers `WanRotaryPosEmbed.__init__`: the height and width each get 2·⌊d/6⌋ channels of a
 * head and the frames the rest, so 128 splits into 44 (frames), 42 (rows), 42 (columns).
 */
export function wanRopeDims(headDim: number): [number, number, number] {
  const hw = 2 * Math.floor(headDim / 6);
  return [headDim - 2 * hw, hw, hw];
}

/** Every canonical parameter of the transformer with its shape (diffusers state_dict names). */
export function wanTransformerWeightShapes(config: WanTransformerConfig): Record<string, number[]> {
  const { dim, ffnDim } = config;
  const [pt, ph, pw] = config.patchSize;
  const shapes: Record<string, number[]> = {};
  const linear = (name: string, out: number, inp: number): void => {
    shapes[`${name}.weight`] = [out, inp];
    shapes[`${name}.bias`] = [out];
  };
  shapes['scale_shift_table'] = [1, 2, dim];
  shapes['patch_embedding.weight'] = [dim, config.inChannels, pt, ph, pw];
  shapes['patch_embedding.bias'] = [dim];
  linear('condition_embedder.time_embedder.linear_1', dim, config.freqDim);
  linear('condition_embedder.time_embedder.linear_2', dim, dim);
  linear('condition_embedder.time_proj', 6 * dim, dim);
  linear('condition_embedder.text_embedder.linear_1', dim, config.textDim);
  linear('condition_embedder.text_embedder.linear_2', dim, dim);
  for (let i = 0; i < config.numLayers; i++) {
    const block = `blocks.${i}`;
    shapes[`${block}.scale_shift_table`] = [1, 6, dim];
    for (const attn of ['attn1', 'attn2']) {
      for (const proj of ['to_q', 'to_k', 'to_v', 'to_out.0']) linear(`${block}.${attn}.${proj}`, dim, dim);
      shapes[`${block}.${attn}.norm_q.weight`] = [dim];
      shapes[`${block}.${attn}.norm_k.weight`] = [dim];
    }
    if (config.crossAttnNorm) {
      shapes[`${block}.norm2.weight`] = [dim];
      shapes[`${block}.norm2.bias`] = [dim];
    }
    linear(`${block}.ffn.net.0.proj`, ffnDim, dim);
    linear(`${block}.ffn.net.2`, dim, ffnDim);
  }
  linear('proj_out', config.outChannels * pt * ph * pw, dim);
  return shapes;
}

/** "1.3B" / "14B" for the two released WAN 2.1 T2V sizes, else null (for "WAN 2.1 T2V 1.3B, bf16"). */
export function wanTransformerSizeLabel(config: WanTransformerConfig): string | null {
  if (config.dim === 1536 && config.numLayers === 30 && config.ffnDim === 8960) return '1.3B';
  if (config.dim === 5120 && config.numLayers === 40 && config.ffnDim === 13824) return '14B';
  return null;
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

/** Block indices 0…n−1 under `blocks.`; a gap means a damaged file. */
function blockCount(weights: WeightSet): number {
  const found = new Set<number>();
  for (const name of weights.names('blocks.')) {
    const m = /^blocks\.(\d+)\./.exec(name);
    if (m) found.add(Number(m[1]));
  }
  const sorted = [...found].sort((a, b) => a - b);
  const missing = sorted.findIndex((v, i) => v !== i);
  if (missing !== -1) {
    throw new WeightFileError('incomplete', `${weights.label} has no weights for transformer block ${missing} but has later blocks; the file is incomplete`);
  }
  return sorted.length;
}

/** One sentence for a WAN transformer of another kind, or null for a text-to-video one. */
function otherVariant(weights: WeightSet, inChannels: number, outChannels: number): string | null {
  const label = weights.label;
  const choose = 'choose a WAN 2.1 text-to-video model (T2V 1.3B or 14B)';
  if (weights.names('vace_').length > 0) {
    return `${label} is a WAN VACE transformer (it has vace_blocks for reference and control videos), not a text-to-video one: ${choose}`;
  }
  const imageEmbedder = weights.names('condition_embedder.image_embedder.').length > 0;
  const imageKv = weights.names().some((n) => /^blocks\.\d+\.attn2\.add_k_proj\./.test(n));
  if (imageEmbedder || imageKv) {
    const what = imageEmbedder && imageKv ? 'an image embedder and image key/value projections (add_k_proj)' : imageEmbedder ? 'an image embedder' : 'image key/value projections (add_k_proj)';
    return `${label} is a WAN image-to-video transformer (it has ${what}); the studio's WAN pipeline makes video from text only: ${choose}`;
  }
  if (inChannels === 48 || outChannels === 48) {
    return `${label} works on WAN 2.2's 48-channel latent (the TI2V 5B model, with its own VAE), not WAN 2.1's 16 channels: ${choose}`;
  }
  if (inChannels === 36) {
    return `${label} takes 36 input channels (the 16 latent channels plus a first-frame image and its mask): it is an image-to-video model such as WAN 2.2 I2V, not text-to-video: ${choose}`;
  }
  if (inChannels !== WAN21_LATENT_CHANNELS || outChannels !== WAN21_LATENT_CHANNELS) {
    return `${label} takes ${inChannels} and gives ${outChannels} latent channels where WAN 2.1 text-to-video has ${WAN21_LATENT_CHANNELS}: it is another model; ${choose}`;
  }
  return null;
}

function headsFor(dim: number, hints: WanTransformerHints | undefined, label: string): { heads: number; headDim: number } {
  let heads: number;
  let rule: string;
  if (hints?.heads !== undefined) {
    heads = hints.heads;
    rule = `${heads} heads`;
  } else {
    const headDim = hints?.headDim ?? WAN_HEAD_DIM;
    heads = dim / headDim;
    rule = `heads of ${headDim}`;
  }
  const headDim = dim / heads;
  if (!Number.isInteger(heads) || heads <= 0 || !Number.isInteger(headDim)) {
    throw wrongKind(`${label}: its width ${dim} does not split into attention ${rule}`);
  }
  // Each of the three rotary parts pairs channels, so every part must be even and not empty.
  const rope = wanRopeDims(headDim);
  if (rope.some((d) => d <= 0 || d % 2 !== 0)) {
    throw wrongKind(`${label}: its ${headDim}-channel heads do not split into WAN's frame/row/column rotary embeddings (${rope.join(' + ')})`);
  }
  return { heads, headDim };
}

/** WAN 2.1 T2V's transformer sized from its weights; one sentence (WeightFileError) for anything that does not fit. */
export function wanTransformerConfigFromWeights(weights: WeightSet, hints?: WanTransformerHints): WanTransformerConfig {
  const label = weights.label;
  const patch = shapeOf(weights, 'patch_embedding.weight');
  const timeLinear = shapeOf(weights, 'condition_embedder.time_embedder.linear_1.weight');
  const textLinear = shapeOf(weights, 'condition_embedder.text_embedder.linear_1.weight');
  const projOut = shapeOf(weights, 'proj_out.weight');
  if (!patch || patch.length !== 5 || !timeLinear || !projOut) {
    throw wrongKind(`${label} is not a WAN transformer (it has no 3-D patch_embedding, time embedder or proj_out weights)`);
  }
  const [dim, inChannels, pt, ph, pw] = patch as [number, number, number, number, number];
  const patchVolume = pt * ph * pw;
  const outChannels = projOut[0]! / patchVolume;
  if (!Number.isInteger(outChannels)) {
    throw wrongKind(`${label}: its output projection gives ${projOut[0]} values a token, which is not a whole number of channels for its ${pt}×${ph}×${pw} patches`);
  }
  const refusal = otherVariant(weights, inChannels, outChannels);
  if (refusal) throw wrongKind(refusal);
  if (!textLinear) throw wrongKind(`${label} has no text embedder (condition_embedder.text_embedder), which a WAN 2.1 text-to-video transformer has`);

  const numLayers = blockCount(weights);
  if (numLayers === 0) throw new WeightFileError('incomplete', `${label} has no transformer blocks; the file is incomplete`);
  const ffn = shapeOf(weights, 'blocks.0.ffn.net.0.proj.weight');
  if (!ffn) throw new WeightFileError('incomplete', `${label} has no weight for blocks.0.ffn.net.0.proj.weight: the file is incomplete or not this architecture`);
  const freqDim = timeLinear[1]!;
  if (freqDim % 2 !== 0) throw wrongKind(`${label}: its timestep embedding is ${freqDim} wide; a sinusoidal one must be even`);

  const { heads, headDim } = headsFor(dim, hints, label);
  const config: WanTransformerConfig = {
    inChannels,
    outChannels,
    patchSize: [pt, ph, pw],
    dim,
    heads,
    headDim,
    ffnDim: ffn[0]!,
    numLayers,
    textDim: textLinear[1]!,
    freqDim,
    crossAttnNorm: weights.has('blocks.0.norm2.weight'),
    eps: hints?.eps ?? WAN_EPS,
    ropeDims: wanRopeDims(headDim),
    ropeTheta: ROPE_THETA,
  };
  // Every parameter the architecture needs must be there with its shape: a truncated or mixed file
  // fails here, naming the first weight that does not fit, rather than halfway through building.
  for (const [name, shape] of Object.entries(wanTransformerWeightShapes(config))) weights.require(name, shape);
  return config;
}
