/**
 * The single-file SDXL layout of A1111, Forge, ComfyUI's CheckpointSave and Civitai (Stability's
 * "SGM" checkpoint) against the canonical diffusers / transformers parameter names, as ONE table
 * that sdxl-single-file.ts reads checkpoints through and writes them with (STYLE.md §13).
 *
 * The table is sized by a structure counted from key names — levels, resnets per level,
 * transformer depth of every attention block, text encoder depth, VAE levels — read from either
 * naming, so the same code covers SDXL itself, the tiny test model and SDXL-shaped variants
 * (SSD-1B, Vega: other depths, same layout).
 *
 * Facts carried over, not code: LDM's UNetModel numbering (input_blocks / middle_block /
 * output_blocks; a resnet at `.0`, a transformer at `.1`, a down-sampler alone in its block, an
 * up-sampler after them), the VAE's up blocks numbered in reverse, open_clip's fused q/k/v and
 * `[width, embed]` text_projection, and the leaf renames — as diffusers' loaders/single_file_utils.py
 * (convert_ldm_unet_checkpoint, convert_ldm_vae_checkpoint, convert_open_clip_checkpoint) and
 * scripts/convert_diffusers_to_original_sdxl.py apply them.
 */
import { WeightFileError } from '../../weights/errors.ts';

export type SdxlPart = 'unet' | 'textEncoder' | 'textEncoder2' | 'vae';

export const SDXL_PARTS: readonly SdxlPart[] = ['unet', 'textEncoder', 'textEncoder2', 'vae'];

/** Where each part lives in a single file. */
export const SINGLE_FILE_PREFIX: Readonly<Record<SdxlPart, string>> = {
  unet: 'model.diffusion_model.',
  textEncoder: 'conditioner.embedders.0.transformer.',
  textEncoder2: 'conditioner.embedders.1.model.',
  vae: 'first_stage_model.',
};

/** How the stored tensor is the canonical one, without copying it. */
export type StoredView =
  | { readonly kind: 'same' }
  /** One third of open_clip's fused in_proj (rows q, then k, then v). */
  | { readonly kind: 'qkvRows'; readonly third: 0 | 1 | 2 }
  /** open_clip's text_projection is a Parameter [width, embed] used as `x @ P`: a Linear weight transposed. */
  | { readonly kind: 'transposed' }
  /** The LDM VAE's attention projections are 1×1 convolutions [C, C, 1, 1]; diffusers' are Linear [C, C]. */
  | { readonly kind: 'conv1x1' };

export interface LayoutEntry {
  readonly part: SdxlPart;
  readonly canonical: string;
  /** The full key in the single file (prefix included). */
  readonly stored: string;
  readonly view: StoredView;
  /** Only some blocks have it: a resnet's shortcut exists where its channel count changes. */
  readonly optional: boolean;
  /** An older spelling found in real files, read with no view (never written). */
  readonly legacyStored?: string;
}

export interface UnetStructure {
  /** Transformer depth of each down block's attention, [level][layer]; 0 where the block has none. */
  readonly down: readonly (readonly number[])[];
  /** The same for the up blocks in diffusers' order (deepest level first), one layer more per level. */
  readonly up: readonly (readonly number[])[];
  readonly mid: number;
}

export interface VaeStructure {
  readonly levels: number;
  /** Resnets per encoder level; the decoder has one more per level. */
  readonly layersPerBlock: number;
}

/** A part with no keys counts as absent (no levels, no layers, no VAE) and gets no table entries. */
export interface SdxlStructure {
  readonly unet: UnetStructure;
  readonly textEncoderLayers: number;
  readonly textEncoder2Layers: number;
  readonly vae: VaeStructure | null;
}

/** Key names of each part, without the part's single-file prefix. */
export type NamesByPart = Readonly<Record<SdxlPart, readonly string[]>>;

/** Distinct values of the first capture group over the names, sorted. */
function indices(names: readonly string[], pattern: RegExp): number[] {
  const found = new Set<number>();
  for (const name of names) {
    const m = pattern.exec(name);
    if (m) found.add(Number(m[1]));
  }
  return [...found].sort((a, b) => a - b);
}

/** How many consecutive blocks 0..n-1 there are; a gap means blocks are missing. */
function countBlocks(names: readonly string[], pattern: RegExp, what: string, where: string): number {
  const found = indices(names, pattern);
  found.forEach((n, i) => {
    if (n !== i) throw new WeightFileError('incomplete', `${where}: ${what} ${i} is missing (the file is incomplete or damaged)`);
  });
  return found.length;
}

/** Transformer blocks under one attention prefix (0 when the block has no attention). */
function depthAt(names: readonly string[], prefix: string, where: string): number {
  const under = names.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length));
  return countBlocks(under, /^transformer_blocks\.(\d+)\./, `transformer block of ${prefix.slice(0, -1)}`, where);
}

const NO_UNET: UnetStructure = { down: [], up: [], mid: 0 };

function unetFromSingleFile(names: readonly string[], where: string): UnetStructure {
  if (names.length === 0) return NO_UNET;
  const inputs = countBlocks(names, /^input_blocks\.(\d+)\./, 'UNet input block', where);
  const downsamplers = indices(names, /^input_blocks\.(\d+)\.0\.op\.weight$/);
  const levels = downsamplers.length + 1;
  const perLevel = inputs / levels;
  // Block 0 is conv_in, each level has `layers` resnet blocks, each level but the last a down-sampler block.
  const fits = Number.isInteger(perLevel) && perLevel >= 2 && downsamplers.every((b, l) => b === (l + 1) * perLevel);
  if (!fits) {
    throw new WeightFileError('wrong_kind', `${where}: its UNet's input blocks (${inputs}, down-samplers at ${downsamplers.join(', ') || 'none'}) are not laid out as an SDXL UNet's`);
  }
  const layers = perLevel - 1;
  const outputs = countBlocks(names, /^output_blocks\.(\d+)\./, 'UNet output block', where);
  if (outputs !== levels * perLevel) {
    throw new WeightFileError('wrong_kind', `${where}: its UNet has ${outputs} output blocks where ${levels} levels of ${layers} need ${levels * perLevel}`);
  }
  const level = (count: number, block: (j: number) => string): number[] => Array.from({ length: count }, (_, j) => depthAt(names, block(j), where));
  return {
    down: Array.from({ length: levels }, (_, l) => level(layers, (j) => `input_blocks.${1 + l * perLevel + j}.1.`)),
    up: Array.from({ length: levels }, (_, i) => level(layers + 1, (j) => `output_blocks.${i * perLevel + j}.1.`)),
    mid: depthAt(names, 'middle_block.1.', where),
  };
}

function unetFromCanonical(names: readonly string[], where: string): UnetStructure {
  if (names.length === 0) return NO_UNET;
  const levels = countBlocks(names, /^down_blocks\.(\d+)\./, 'UNet down block', where);
  const layers = countBlocks(names, /^down_blocks\.0\.resnets\.(\d+)\./, 'resnet of down block 0', where);
  const upLevels = countBlocks(names, /^up_blocks\.(\d+)\./, 'UNet up block', where);
  const upLayers = countBlocks(names, /^up_blocks\.0\.resnets\.(\d+)\./, 'resnet of up block 0', where);
  if (upLevels !== levels || upLayers !== layers + 1) {
    throw new WeightFileError('wrong_kind', `${where}: its UNet has ${upLevels} up blocks of ${upLayers} resnets for ${levels} down blocks of ${layers}; SDXL's up blocks mirror its down blocks with one resnet more`);
  }
  const level = (count: number, block: (j: number) => string): number[] => Array.from({ length: count }, (_, j) => depthAt(names, block(j), where));
  return {
    down: Array.from({ length: levels }, (_, l) => level(layers, (j) => `down_blocks.${l}.attentions.${j}.`)),
    up: Array.from({ length: levels }, (_, i) => level(layers + 1, (j) => `up_blocks.${i}.attentions.${j}.`)),
    mid: depthAt(names, 'mid_block.attentions.0.', where),
  };
}

function vaeStructure(names: readonly string[], level: RegExp, block: RegExp, where: string): VaeStructure | null {
  if (names.length === 0) return null;
  const levels = countBlocks(names, level, 'VAE encoder level', where);
  const layersPerBlock = countBlocks(names, block, 'resnet of VAE encoder level 0', where);
  if (levels === 0 || layersPerBlock === 0) throw new WeightFileError('incomplete', `${where}: its VAE has no encoder blocks (the file is incomplete or damaged)`);
  return { levels, layersPerBlock };
}

/** The structure of a single file's parts, counted from its key names (prefixes removed). */
export function structureFromSingleFile(names: NamesByPart, where: string): SdxlStructure {
  return {
    unet: unetFromSingleFile(names.unet, where),
    textEncoderLayers: countBlocks(names.textEncoder, /^text_model\.encoder\.layers\.(\d+)\./, 'layer of text encoder 1', where),
    textEncoder2Layers: countBlocks(names.textEncoder2, /^transformer\.resblocks\.(\d+)\./, 'layer of text encoder 2', where),
    vae: vaeStructure(names.vae, /^encoder\.down\.(\d+)\./, /^encoder\.down\.0\.block\.(\d+)\./, where),
  };
}

/** The structure of canonical (diffusers / transformers) weights, counted from their names. */
export function structureFromCanonical(names: NamesByPart, where: string): SdxlStructure {
  return {
    unet: unetFromCanonical(names.unet, where),
    textEncoderLayers: countBlocks(names.textEncoder, /^text_model\.encoder\.layers\.(\d+)\./, 'layer of text encoder 1', where),
    textEncoder2Layers: countBlocks(names.textEncoder2, /^text_model\.encoder\.layers\.(\d+)\./, 'layer of text encoder 2', where),
    vae: vaeStructure(names.vae, /^encoder\.down_blocks\.(\d+)\./, /^encoder\.down_blocks\.0\.resnets\.(\d+)\./, where),
  };
}

const SAME: StoredView = { kind: 'same' };
const WEIGHT_AND_BIAS = ['weight', 'bias'] as const;

/** [canonical leaf, stored leaf, optional] of a UNet resnet (diffusers ResnetBlock2D ↔ LDM ResBlock). */
const UNET_RESNET: readonly (readonly [string, string, boolean])[] = [
  ['norm1', 'in_layers.0', false],
  ['conv1', 'in_layers.2', false],
  ['time_emb_proj', 'emb_layers.1', false],
  ['norm2', 'out_layers.0', false],
  ['conv2', 'out_layers.3', false],
  ['conv_shortcut', 'skip_connection', true],
];

/** The same for a VAE resnet (LDM's ResnetBlock names its shortcut nin_shortcut). */
const VAE_RESNET: readonly (readonly [string, string, boolean])[] = [
  ['norm1', 'norm1', false],
  ['conv1', 'conv1', false],
  ['norm2', 'norm2', false],
  ['conv2', 'conv2', false],
  ['conv_shortcut', 'nin_shortcut', true],
];

/** Leaves of one transformer block, named alike in LDM's BasicTransformerBlock and diffusers'. */
const TRANSFORMER_BLOCK_LEAVES: readonly string[] = [
  ...['norm1', 'norm2', 'norm3'].flatMap((n) => [`${n}.weight`, `${n}.bias`]),
  ...['attn1', 'attn2'].flatMap((a) => [`${a}.to_q.weight`, `${a}.to_k.weight`, `${a}.to_v.weight`, `${a}.to_out.0.weight`, `${a}.to_out.0.bias`]),
  'ff.net.0.proj.weight',
  'ff.net.0.proj.bias',
  'ff.net.2.weight',
  'ff.net.2.bias',
];

/** Linear leaves of a CLIP encoder layer: [transformers name, open_clip name]. */
const CLIP_LAYER: readonly (readonly [string, string])[] = [
  ['layer_norm1', 'ln_1'],
  ['self_attn.out_proj', 'attn.out_proj'],
  ['layer_norm2', 'ln_2'],
  ['mlp.fc1', 'mlp.c_fc'],
  ['mlp.fc2', 'mlp.c_proj'],
];

class TableBuilder {
  readonly entries: LayoutEntry[] = [];

  add(part: SdxlPart, canonical: string, stored: string, view: StoredView = SAME, optional = false, legacyStored?: string): void {
    const entry: LayoutEntry = { part, canonical, stored: SINGLE_FILE_PREFIX[part] + stored, view, optional };
    this.entries.push(legacyStored ? { ...entry, legacyStored: SINGLE_FILE_PREFIX[part] + legacyStored } : entry);
  }

  /** `<canonical>.weight/.bias` ↔ `<stored>.weight/.bias`. */
  linear(part: SdxlPart, canonical: string, stored: string, optional = false): void {
    for (const p of WEIGHT_AND_BIAS) this.add(part, `${canonical}.${p}`, `${stored}.${p}`, SAME, optional);
  }

  resnet(part: SdxlPart, leaves: typeof UNET_RESNET, canonical: string, stored: string): void {
    for (const [c, s, optional] of leaves) this.linear(part, `${canonical}.${c}`, `${stored}.${s}`, optional);
  }

  transformer(canonical: string, stored: string, depth: number): void {
    for (const leaf of ['norm', 'proj_in']) this.linear('unet', `${canonical}.${leaf}`, `${stored}.${leaf}`);
    for (let d = 0; d < depth; d++) {
      for (const leaf of TRANSFORMER_BLOCK_LEAVES) this.add('unet', `${canonical}.transformer_blocks.${d}.${leaf}`, `${stored}.transformer_blocks.${d}.${leaf}`);
    }
    this.linear('unet', `${canonical}.proj_out`, `${stored}.proj_out`);
  }
}

function unetEntries(t: TableBuilder, s: UnetStructure): void {
  const levels = s.down.length;
  const perLevel = s.down[0]!.length + 1;
  t.linear('unet', 'time_embedding.linear_1', 'time_embed.0');
  t.linear('unet', 'time_embedding.linear_2', 'time_embed.2');
  t.linear('unet', 'add_embedding.linear_1', 'label_emb.0.0');
  t.linear('unet', 'add_embedding.linear_2', 'label_emb.0.2');
  t.linear('unet', 'conv_in', 'input_blocks.0.0');
  s.down.forEach((depths, l) => {
    depths.forEach((depth, j) => {
      const block = `input_blocks.${1 + l * perLevel + j}`;
      t.resnet('unet', UNET_RESNET, `down_blocks.${l}.resnets.${j}`, `${block}.0`);
      if (depth > 0) t.transformer(`down_blocks.${l}.attentions.${j}`, `${block}.1`, depth);
    });
    if (l < levels - 1) t.linear('unet', `down_blocks.${l}.downsamplers.0.conv`, `input_blocks.${(l + 1) * perLevel}.0.op`);
  });
  t.resnet('unet', UNET_RESNET, 'mid_block.resnets.0', 'middle_block.0');
  if (s.mid > 0) t.transformer('mid_block.attentions.0', 'middle_block.1', s.mid);
  t.resnet('unet', UNET_RESNET, 'mid_block.resnets.1', s.mid > 0 ? 'middle_block.2' : 'middle_block.1');
  s.up.forEach((depths, i) => {
    depths.forEach((depth, j) => {
      const block = `output_blocks.${i * perLevel + j}`;
      t.resnet('unet', UNET_RESNET, `up_blocks.${i}.resnets.${j}`, `${block}.0`);
      if (depth > 0) t.transformer(`up_blocks.${i}.attentions.${j}`, `${block}.1`, depth);
      // The up-sampler follows the last resnet (and its transformer, when the level has one).
      if (i < levels - 1 && j === depths.length - 1) t.linear('unet', `up_blocks.${i}.upsamplers.0.conv`, `${block}.${depth > 0 ? 2 : 1}.conv`);
    });
  });
  t.linear('unet', 'conv_norm_out', 'out.0');
  t.linear('unet', 'conv_out', 'out.2');
}

function textEncoderEntries(t: TableBuilder, layers: number): void {
  t.add('textEncoder', 'text_model.embeddings.token_embedding.weight', 'text_model.embeddings.token_embedding.weight');
  t.add('textEncoder', 'text_model.embeddings.position_embedding.weight', 'text_model.embeddings.position_embedding.weight');
  for (let n = 0; n < layers; n++) {
    const layer = `text_model.encoder.layers.${n}`;
    for (const proj of ['q_proj', 'k_proj', 'v_proj']) t.linear('textEncoder', `${layer}.self_attn.${proj}`, `${layer}.self_attn.${proj}`);
    for (const [leaf] of CLIP_LAYER) t.linear('textEncoder', `${layer}.${leaf}`, `${layer}.${leaf}`);
  }
  t.linear('textEncoder', 'text_model.final_layer_norm', 'text_model.final_layer_norm');
}

function textEncoder2Entries(t: TableBuilder, layers: number): void {
  t.add('textEncoder2', 'text_model.embeddings.token_embedding.weight', 'token_embedding.weight');
  t.add('textEncoder2', 'text_model.embeddings.position_embedding.weight', 'positional_embedding');
  for (let n = 0; n < layers; n++) {
    const layer = `text_model.encoder.layers.${n}`;
    const block = `transformer.resblocks.${n}`;
    for (const p of WEIGHT_AND_BIAS) {
      (['q_proj', 'k_proj', 'v_proj'] as const).forEach((proj, third) => {
        t.add('textEncoder2', `${layer}.self_attn.${proj}.${p}`, `${block}.attn.in_proj_${p}`, { kind: 'qkvRows', third: third as 0 | 1 | 2 });
      });
    }
    for (const [leaf, stored] of CLIP_LAYER) t.linear('textEncoder2', `${layer}.${leaf}`, `${block}.${stored}`);
  }
  t.linear('textEncoder2', 'text_model.final_layer_norm', 'ln_final');
  // diffusers' conversion script wrote a Linear-oriented `text_projection.weight` until February 2024
  // (huggingface/diffusers#6933); ComfyUI reads that spelling as a Linear weight too.
  t.add('textEncoder2', 'text_projection.weight', 'text_projection', { kind: 'transposed' }, false, 'text_projection.weight');
}

function vaeMidEntries(t: TableBuilder, coder: 'encoder' | 'decoder'): void {
  t.resnet('vae', VAE_RESNET, `${coder}.mid_block.resnets.0`, `${coder}.mid.block_1`);
  const attention = `${coder}.mid_block.attentions.0`;
  const stored = `${coder}.mid.attn_1`;
  t.linear('vae', `${attention}.group_norm`, `${stored}.norm`);
  for (const [c, s] of [['to_q', 'q'], ['to_k', 'k'], ['to_v', 'v'], ['to_out.0', 'proj_out']] as const) {
    t.add('vae', `${attention}.${c}.weight`, `${stored}.${s}.weight`, { kind: 'conv1x1' });
    t.add('vae', `${attention}.${c}.bias`, `${stored}.${s}.bias`);
  }
  t.resnet('vae', VAE_RESNET, `${coder}.mid_block.resnets.1`, `${coder}.mid.block_2`);
}

function vaeEntries(t: TableBuilder, s: VaeStructure): void {
  t.linear('vae', 'encoder.conv_in', 'encoder.conv_in');
  for (let l = 0; l < s.levels; l++) {
    for (let j = 0; j < s.layersPerBlock; j++) t.resnet('vae', VAE_RESNET, `encoder.down_blocks.${l}.resnets.${j}`, `encoder.down.${l}.block.${j}`);
    if (l < s.levels - 1) t.linear('vae', `encoder.down_blocks.${l}.downsamplers.0.conv`, `encoder.down.${l}.downsample.conv`);
  }
  vaeMidEntries(t, 'encoder');
  t.linear('vae', 'encoder.conv_norm_out', 'encoder.norm_out');
  t.linear('vae', 'encoder.conv_out', 'encoder.conv_out');
  t.linear('vae', 'quant_conv', 'quant_conv');
  t.linear('vae', 'post_quant_conv', 'post_quant_conv');
  t.linear('vae', 'decoder.conv_in', 'decoder.conv_in');
  vaeMidEntries(t, 'decoder');
  // LDM numbers the decoder's levels from the full-resolution end; diffusers from the latent end.
  for (let i = 0; i < s.levels; i++) {
    const up = `decoder.up.${s.levels - 1 - i}`;
    for (let j = 0; j <= s.layersPerBlock; j++) t.resnet('vae', VAE_RESNET, `decoder.up_blocks.${i}.resnets.${j}`, `${up}.block.${j}`);
    if (i < s.levels - 1) t.linear('vae', `decoder.up_blocks.${i}.upsamplers.0.conv`, `${up}.upsample.conv`);
  }
  t.linear('vae', 'decoder.conv_norm_out', 'decoder.norm_out');
  t.linear('vae', 'decoder.conv_out', 'decoder.conv_out');
}

/** Every weight of an SDXL checkpoint of this structure (its present parts): canonical name ↔ single-file key. */
export function sdxlSingleFileTable(structure: SdxlStructure): LayoutEntry[] {
  const t = new TableBuilder();
  if (structure.unet.down.length > 0) unetEntries(t, structure.unet);
  if (structure.textEncoderLayers > 0) textEncoderEntries(t, structure.textEncoderLayers);
  if (structure.textEncoder2Layers > 0) textEncoder2Entries(t, structure.textEncoder2Layers);
  if (structure.vae) vaeEntries(t, structure.vae);
  return t.entries;
}
