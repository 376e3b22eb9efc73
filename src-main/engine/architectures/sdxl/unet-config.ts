/**
 * SDXL's UNet (diffusers `UNet2DConditionModel` with `addition_embed_type: "text_time"`, linear
 * transformer projections) sized from its own weights: levels, channels, resnets per level, which
 * levels have spatial transformers and how deep, context width, time-embedding widths. What the
 * weights cannot say (heads of 64 channels, GroupNorm of 32 groups, the six size/crop numbers) is
 * SDXL's rule, overridable by a diffusers config.json through {@link UnetHints}.
 *
 * `unetLayout` is the one place the block wiring's channel arithmetic lives (the skip stack of
 * diffusers `UNet2DConditionModel.forward`, models/unets/unet_2d_condition.py); both the parameter
 * list and the graph builder walk it.
 */
import { WeightFileError } from '../../weights/errors.ts';
import { canonicalShape, type WeightSet } from '../../weights/tensor-ref.ts';

export interface UnetConfig {
  readonly inChannels: number;
  readonly outChannels: number;
  /** Channels per level, top to bottom (SDXL: 320, 640, 1280). */
  readonly blockOutChannels: readonly number[];
  /** Resnets per down level; up levels have one more (SDXL: 2). */
  readonly layersPerBlock: number;
  /** Transformer blocks in each spatial transformer of a down level; 0 = no attention there (SDXL: 0, 2, 10). */
  readonly downTransformerDepth: readonly number[];
  /** The same for the up levels, in up order, bottom first (SDXL: 10, 2, 0). */
  readonly upTransformerDepth: readonly number[];
  readonly midTransformerDepth: number;
  /** Attention heads per level, top to bottom (SDXL: 5, 10, 20 — 64 channels each). */
  readonly heads: readonly number[];
  /** Width of encoder_hidden_states (SDXL: 768 + 1280 = 2048). */
  readonly crossAttentionDim: number;
  /** Sinusoidal timestep width (SDXL: 320) and the time MLP's width (SDXL: 1280). */
  readonly timeProjDim: number;
  readonly timeEmbedDim: number;
  /** Sinusoidal width of each time id (SDXL: 256), how many there are (6) and the pooled text width (1280). */
  readonly addTimeEmbedDim: number;
  readonly timeIdCount: number;
  readonly pooledDim: number;
  readonly normGroups: number;
}

/** What a diffusers config.json can add to what the weights say. */
export interface UnetHints {
  /** config.json `attention_head_dim`, which for these UNets counts heads (SDXL: [5, 10, 20]); one number = every level. */
  readonly heads?: number | readonly number[];
  /** config.json `addition_time_embed_dim`. */
  readonly addTimeEmbedDim?: number;
  /** Width of the pooled text embedding (`text_embeds`). */
  readonly pooledDim?: number;
}

/** SDXL's head width (ComfyUI's model_detection: num_head_channels 64). */
const HEAD_CHANNELS = 64;
/** original size, crop top-left, target size (diffusers `StableDiffusionXLPipeline._get_add_time_ids`). */
const TIME_ID_COUNT = 6;
const SDXL_ADD_INPUT = 2816;
const SDXL_ADD_TIME_EMBED_DIM = 256;

export interface ResnetPlan {
  readonly prefix: string;
  readonly inChannels: number;
  readonly outChannels: number;
}

export interface TransformerPlan {
  readonly prefix: string;
  readonly channels: number;
  readonly heads: number;
  readonly depth: number;
}

export interface LevelPlan {
  /** Resnet i is followed by transformer i when the level has attention. */
  readonly resnets: readonly ResnetPlan[];
  readonly transformers: readonly TransformerPlan[];
  /** Up levels: channels of the skip each resnet concatenates before it runs. */
  readonly skipChannels: readonly number[];
  /** Prefix and channels of the stride-2 downsampler / nearest-×2 upsampler conv, if the level has one. */
  readonly resample: { readonly prefix: string; readonly channels: number } | null;
}

export interface UnetLayout {
  readonly down: readonly LevelPlan[];
  readonly mid: { readonly resnets: readonly [ResnetPlan, ResnetPlan]; readonly transformer: TransformerPlan };
  readonly up: readonly LevelPlan[];
}

function transformers(prefix: string, count: number, channels: number, heads: number, depth: number): TransformerPlan[] {
  if (depth === 0) return [];
  return Array.from({ length: count }, (_, i) => ({ prefix: `${prefix}.attentions.${i}`, channels, heads, depth }));
}

/** diffusers `get_down_block` / `get_up_block` wiring for SDXL's block types (models/unets/unet_2d_blocks.py). */
export function unetLayout(config: UnetConfig): UnetLayout {
  const channels = config.blockOutChannels;
  const levels = channels.length;
  const skips: number[] = [channels[0]!]; // conv_in's output is the first skip
  const down: LevelPlan[] = [];
  let current = channels[0]!;
  for (let i = 0; i < levels; i++) {
    const prefix = `down_blocks.${i}`;
    const out = channels[i]!;
    const resnets: ResnetPlan[] = [];
    for (let j = 0; j < config.layersPerBlock; j++) {
      resnets.push({ prefix: `${prefix}.resnets.${j}`, inChannels: current, outChannels: out });
      current = out;
      skips.push(out);
    }
    const final = i === levels - 1;
    if (!final) skips.push(out);
    down.push({
      resnets,
      transformers: transformers(prefix, config.layersPerBlock, out, config.heads[i]!, config.downTransformerDepth[i]!),
      skipChannels: [],
      resample: final ? null : { prefix: `${prefix}.downsamplers.0.conv`, channels: out },
    });
  }
  const bottom = channels[levels - 1]!;
  const mid = {
    resnets: [
      { prefix: 'mid_block.resnets.0', inChannels: bottom, outChannels: bottom },
      { prefix: 'mid_block.resnets.1', inChannels: bottom, outChannels: bottom },
    ] as const,
    transformer: { prefix: 'mid_block.attentions.0', channels: bottom, heads: config.heads[levels - 1]!, depth: config.midTransformerDepth },
  };
  const up: LevelPlan[] = [];
  for (let i = 0; i < levels; i++) {
    const prefix = `up_blocks.${i}`;
    const level = levels - 1 - i;
    const out = channels[level]!;
    const resnets: ResnetPlan[] = [];
    const skipChannels: number[] = [];
    for (let j = 0; j <= config.layersPerBlock; j++) {
      const skip = skips.pop()!;
      skipChannels.push(skip);
      resnets.push({ prefix: `${prefix}.resnets.${j}`, inChannels: current + skip, outChannels: out });
      current = out;
    }
    up.push({
      resnets,
      transformers: transformers(prefix, config.layersPerBlock + 1, out, config.heads[level]!, config.upTransformerDepth[i]!),
      skipChannels,
      resample: i === levels - 1 ? null : { prefix: `${prefix}.upsamplers.0.conv`, channels: out },
    });
  }
  return { down, mid, up };
}

function addResnet(shapes: Record<string, number[]>, r: ResnetPlan, timeEmbedDim: number): void {
  const { prefix, inChannels: cin, outChannels: cout } = r;
  shapes[`${prefix}.norm1.weight`] = [cin];
  shapes[`${prefix}.norm1.bias`] = [cin];
  shapes[`${prefix}.conv1.weight`] = [cout, cin, 3, 3];
  shapes[`${prefix}.conv1.bias`] = [cout];
  shapes[`${prefix}.time_emb_proj.weight`] = [cout, timeEmbedDim];
  shapes[`${prefix}.time_emb_proj.bias`] = [cout];
  shapes[`${prefix}.norm2.weight`] = [cout];
  shapes[`${prefix}.norm2.bias`] = [cout];
  shapes[`${prefix}.conv2.weight`] = [cout, cout, 3, 3];
  shapes[`${prefix}.conv2.bias`] = [cout];
  if (cin !== cout) {
    shapes[`${prefix}.conv_shortcut.weight`] = [cout, cin, 1, 1];
    shapes[`${prefix}.conv_shortcut.bias`] = [cout];
  }
}

function addTransformer(shapes: Record<string, number[]>, t: TransformerPlan, contextDim: number): void {
  const c = t.channels;
  const linear = (name: string, out: number, inp: number, bias = true): void => {
    shapes[`${name}.weight`] = [out, inp];
    if (bias) shapes[`${name}.bias`] = [out];
  };
  const norm = (name: string): void => {
    shapes[`${name}.weight`] = [c];
    shapes[`${name}.bias`] = [c];
  };
  norm(`${t.prefix}.norm`);
  linear(`${t.prefix}.proj_in`, c, c);
  for (let k = 0; k < t.depth; k++) {
    const block = `${t.prefix}.transformer_blocks.${k}`;
    for (const [attn, kvDim] of [['attn1', c], ['attn2', contextDim]] as const) {
      norm(`${block}.${attn === 'attn1' ? 'norm1' : 'norm2'}`);
      linear(`${block}.${attn}.to_q`, c, c, false);
      linear(`${block}.${attn}.to_k`, c, kvDim, false);
      linear(`${block}.${attn}.to_v`, c, kvDim, false);
      linear(`${block}.${attn}.to_out.0`, c, c);
    }
    norm(`${block}.norm3`);
    linear(`${block}.ff.net.0.proj`, 8 * c, c); // GEGLU: value and gate, 4·c each
    linear(`${block}.ff.net.2`, c, 4 * c);
  }
  linear(`${t.prefix}.proj_out`, c, c);
}

/** Every canonical parameter of the UNet with its shape (diffusers state_dict names). */
export function unetWeightShapes(config: UnetConfig): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  const c0 = config.blockOutChannels[0]!;
  const t = config.timeEmbedDim;
  shapes['conv_in.weight'] = [c0, config.inChannels, 3, 3];
  shapes['conv_in.bias'] = [c0];
  shapes['time_embedding.linear_1.weight'] = [t, config.timeProjDim];
  shapes['time_embedding.linear_1.bias'] = [t];
  shapes['time_embedding.linear_2.weight'] = [t, t];
  shapes['time_embedding.linear_2.bias'] = [t];
  shapes['add_embedding.linear_1.weight'] = [t, addEmbeddingInput(config)];
  shapes['add_embedding.linear_1.bias'] = [t];
  shapes['add_embedding.linear_2.weight'] = [t, t];
  shapes['add_embedding.linear_2.bias'] = [t];
  const layout = unetLayout(config);
  for (const level of [...layout.down, ...layout.up]) {
    for (const r of level.resnets) addResnet(shapes, r, t);
    for (const tr of level.transformers) addTransformer(shapes, tr, config.crossAttentionDim);
    if (level.resample) {
      const ch = level.resample.channels;
      shapes[`${level.resample.prefix}.weight`] = [ch, ch, 3, 3];
      shapes[`${level.resample.prefix}.bias`] = [ch];
    }
  }
  for (const r of layout.mid.resnets) addResnet(shapes, r, t);
  addTransformer(shapes, layout.mid.transformer, config.crossAttentionDim);
  shapes['conv_norm_out.weight'] = [c0];
  shapes['conv_norm_out.bias'] = [c0];
  shapes['conv_out.weight'] = [config.outChannels, c0, 3, 3];
  shapes['conv_out.bias'] = [config.outChannels];
  return shapes;
}

export function addEmbeddingInput(config: UnetConfig): number {
  return config.pooledDim + config.timeIdCount * config.addTimeEmbedDim;
}

// ---------------------------------------------------------------------------------------------
// Sizing from the weights

/** Distinct values of the first numbered segment after `prefix` (`down_blocks.` → 0, 1, 2). */
function indices(weights: WeightSet, prefix: string): number[] {
  const found = new Set<number>();
  for (const name of weights.names(prefix)) {
    const m = /^(\d+)\./.exec(name.slice(prefix.length));
    if (m) found.add(Number(m[1]));
  }
  const sorted = [...found].sort((a, b) => a - b);
  return sorted.every((v, i) => v === i) ? sorted : [];
}

function shapeOf(weights: WeightSet, name: string): number[] | null {
  const ref = weights.get(name);
  return ref ? canonicalShape(ref) : null;
}

/** What a UNet without SDXL's added conditioning probably is, for the refusal sentence. */
function describeOtherUnet(weights: WeightSet, levels: number, contextDim: number | null): string {
  const linear = weights.names().some((n) => /\.attentions\.0\.proj_in\.weight$/.test(n) && shapeOf(weights, n)!.length === 2);
  const context = contextDim === null ? '' : `, ${contextDim}-wide text context`;
  const looks = contextDim === 768 && !linear ? 'a Stable Diffusion 1.x' : contextDim === 1024 ? 'a Stable Diffusion 2.x' : 'an earlier Stable Diffusion';
  return (
    `${weights.label} looks like ${looks} UNet (no size/crop conditioning "add_embedding", ${levels} levels${context}), ` +
    'not an SDXL UNet: choose an SDXL checkpoint, or use this one with a pipeline for its own family'
  );
}

function wrongKind(message: string): WeightFileError {
  return new WeightFileError('wrong_kind', message);
}

/** Transformer depth shared by every spatial transformer of one block (0 when it has none). */
function blockDepth(weights: WeightSet, block: string, count: number): number {
  const attentions = indices(weights, `${block}.attentions.`);
  if (attentions.length === 0) return 0;
  if (attentions.length !== count) {
    throw wrongKind(`${weights.label}: ${block} has ${attentions.length} spatial transformers where its ${count} resnets need ${count}`);
  }
  const depths = attentions.map((a) => indices(weights, `${block}.attentions.${a}.transformer_blocks.`).length);
  if (depths.some((d) => d !== depths[0]) || depths[0] === 0) {
    throw wrongKind(`${weights.label}: ${block}'s transformers have ${depths.join(', ')} blocks; this builder needs the same depth throughout a level, as SDXL has`);
  }
  const projIn = shapeOf(weights, `${block}.attentions.0.proj_in.weight`);
  if (projIn && projIn.length !== 2) {
    throw wrongKind(`${weights.label}: ${block} projects into its transformers with convolutions (an SD 1.x layout), not SDXL's linear projections`);
  }
  return depths[0]!;
}

function headsFor(channels: readonly number[], hints: UnetHints | undefined, label: string): number[] {
  const given = hints?.heads;
  const heads = given === undefined ? channels.map((c) => c / HEAD_CHANNELS) : typeof given === 'number' ? channels.map(() => given) : [...given];
  if (heads.length !== channels.length || heads.some((h, i) => !Number.isInteger(h) || h <= 0 || channels[i]! % h !== 0)) {
    throw wrongKind(`${label}: ${channels.join('/')} channels do not split into attention heads ${given === undefined ? 'of 64' : `[${heads.join(', ')}]`}`);
  }
  return heads;
}

/** The added-conditioning split: pooled text width + six sinusoids of `addTimeEmbedDim` each. */
function additionSizes(input: number, hints: UnetHints | undefined, label: string): { addTimeEmbedDim: number; pooledDim: number } {
  let addTimeEmbedDim: number;
  if (hints?.addTimeEmbedDim !== undefined) addTimeEmbedDim = hints.addTimeEmbedDim;
  else if (hints?.pooledDim !== undefined) addTimeEmbedDim = (input - hints.pooledDim) / TIME_ID_COUNT;
  else if (input === SDXL_ADD_INPUT) addTimeEmbedDim = SDXL_ADD_TIME_EMBED_DIM;
  else {
    throw wrongKind(
      `${label}: its added conditioning takes ${input} values, not SDXL's ${SDXL_ADD_INPUT}, and without the model's config.json ` +
        '(addition_time_embed_dim) there is no telling how they split between text and size/crop numbers',
    );
  }
  const pooledDim = input - TIME_ID_COUNT * addTimeEmbedDim;
  if (!Number.isInteger(addTimeEmbedDim) || addTimeEmbedDim <= 0 || addTimeEmbedDim % 2 !== 0 || pooledDim <= 0) {
    throw wrongKind(`${label}: its added conditioning (${input} values) does not split into a pooled text embedding and six size/crop embeddings of ${addTimeEmbedDim}`);
  }
  return { addTimeEmbedDim, pooledDim };
}

/** SDXL's UNet sized from its weights; one sentence (WeightFileError) for anything that does not fit. */
export function unetConfigFromWeights(weights: WeightSet, hints?: UnetHints): UnetConfig {
  const label = weights.label;
  const convIn = shapeOf(weights, 'conv_in.weight');
  const timeLinear = shapeOf(weights, 'time_embedding.linear_1.weight');
  const convOut = shapeOf(weights, 'conv_out.weight');
  if (!convIn || !timeLinear || !convOut || convIn.length !== 4 || timeLinear.length !== 2) {
    throw wrongKind(`${label} is not a diffusion UNet (it has no conv_in, conv_out or time_embedding weights)`);
  }
  const levels = indices(weights, 'down_blocks.');
  const contextName = weights.names().find((n) => n.endsWith('.attn2.to_k.weight'));
  const contextDim = contextName ? shapeOf(weights, contextName)![1]! : null;
  const addLinear = shapeOf(weights, 'add_embedding.linear_1.weight');
  if (!addLinear) throw wrongKind(describeOtherUnet(weights, levels.length, contextDim));
  if (levels.length < 2 || indices(weights, 'up_blocks.').length !== levels.length) {
    throw new WeightFileError('incomplete', `${label}: its down and up blocks do not match (${levels.length} down levels); the file is incomplete`);
  }
  if (contextDim === null) throw wrongKind(`${label} has no cross-attention to text, which an SDXL UNet needs`);

  const blockOutChannels = levels.map((i) => weights.require(`down_blocks.${i}.resnets.0.conv1.weight`).shape[0]!);
  const layersPerBlock = indices(weights, 'down_blocks.0.resnets.').length;
  for (const i of levels) {
    const down = indices(weights, `down_blocks.${i}.resnets.`).length;
    const up = indices(weights, `up_blocks.${i}.resnets.`).length;
    if (down !== layersPerBlock || up !== layersPerBlock + 1) {
      throw wrongKind(`${label}: level ${i} has ${down} down and ${up} up resnets where SDXL's layout needs ${layersPerBlock} and ${layersPerBlock + 1}`);
    }
  }
  const downTransformerDepth = levels.map((i) => blockDepth(weights, `down_blocks.${i}`, layersPerBlock));
  const upTransformerDepth = levels.map((i) => blockDepth(weights, `up_blocks.${i}`, layersPerBlock + 1));
  const midTransformerDepth = blockDepth(weights, 'mid_block', 1);
  if (midTransformerDepth === 0) throw wrongKind(`${label} has no transformer in its middle block, which an SDXL UNet has`);

  const config: UnetConfig = {
    inChannels: convIn[1]!,
    outChannels: convOut[0]!,
    blockOutChannels,
    layersPerBlock,
    downTransformerDepth,
    upTransformerDepth,
    midTransformerDepth,
    heads: headsFor(blockOutChannels, hints, label),
    crossAttentionDim: contextDim,
    timeProjDim: timeLinear[1]!,
    timeEmbedDim: timeLinear[0]!,
    ...additionSizes(addLinear[1]!, hints, label),
    timeIdCount: TIME_ID_COUNT,
    normGroups: 32,
  };
  if (config.timeProjDim % 2 !== 0) throw wrongKind(`${label}: its timestep embedding is ${config.timeProjDim} wide; a sinusoidal one must be even`);
  if (blockOutChannels.some((c) => c % config.normGroups !== 0)) {
    throw wrongKind(`${label}: its ${blockOutChannels.join('/')} channels do not split into SDXL's ${config.normGroups} normalization groups`);
  }
  // Every parameter the layout implies must be there with its shape: a truncated or mixed file fails
  // here, naming the first weight that does not fit, rather than halfway through building.
  for (const [name, shape] of Object.entries(unetWeightShapes(config))) weights.require(name, shape);
  return config;
}
