/**
 * WAN 2.1's VAE in Wan-AI's own naming — the `WanVAE_` of Wan-AI's wan/modules/vae.py, as
 * `Wan2.1_VAE.pth` and ComfyUI's `wan_2.1_vae.safetensors` hold it — against diffusers'
 * `AutoencoderKLWan` names, the canonical ones, as ONE table (STYLE.md §13) sized by a structure
 * counted from key names: the encoder's blocks in order (residual blocks, with a shortcut where
 * the width changes; spatial or spatio-temporal down-samplers) and the decoder's levels (residual
 * blocks, then an up-sampler with or without its time convolution).
 *
 * Facts carried over, not code: Wan-AI numbers the encoder's and the decoder's blocks in one flat
 * list each (`encoder.downsamples.N`, `decoder.upsamples.N`); diffusers keeps the encoder's flat
 * (`encoder.down_blocks.N`) and groups the decoder's per level (`decoder.up_blocks.i.resnets.j`,
 * `decoder.up_blocks.i.upsamplers.0`); a residual block is RMS norm (`residual.0`), SiLU, conv
 * (`residual.2`), RMS norm (`residual.3`), SiLU, dropout, conv (`residual.6`) and `shortcut`; the
 * middle is residual, attention, residual; the head is RMS norm and conv; `conv1` / `conv2` of the
 * whole model are diffusers' `quant_conv` / `post_quant_conv` — as diffusers'
 * scripts/convert_wan_to_diffusers.py (`convert_vae`) and loaders/single_file_utils.py
 * (`convert_wan_vae_to_diffusers`) apply them for the released structure. Checked in
 * tests/fixtures/reference/wan/layouts.md.
 */
import { WeightFileError } from '../../weights/errors.ts';
import { countBlocks, indicesOf } from './wan-layout.ts';
import type { WanLayoutEntry } from './wan-layout.ts';

export type WanVaeBlock =
  | { readonly kind: 'residual'; readonly shortcut: boolean }
  | { readonly kind: 'attention' }
  /** A down- or up-sampler; `time` when it also halves or doubles the frames (a causal time convolution). */
  | { readonly kind: 'resample'; readonly time: boolean };

export interface WanVaeLevel {
  /** Shortcut or not, per residual block. */
  readonly resnets: readonly boolean[];
  /** The up-sampler closing the level (null for the last one). */
  readonly upsample: { readonly time: boolean } | null;
}

export interface WanVaeStructure {
  readonly encoder: readonly WanVaeBlock[];
  readonly decoder: readonly WanVaeLevel[];
}

function notWan21(where: string, detail: string): WeightFileError {
  return new WeightFileError('wrong_kind', `${where}: ${detail}, which WAN 2.1's VAE does not have — choose WAN 2.1's VAE (Wan2.1_VAE.pth or wan_2.1_vae.safetensors)`);
}

/** The kind of block N under `prefix` (e.g. `encoder.downsamples.`), from the leaves its names hold. */
function blockAt(names: readonly string[], prefix: string, leaves: { residual: string; shortcut: string }, where: string): WanVaeBlock {
  const under = names.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length));
  if (under.some((n) => n.startsWith(leaves.residual))) return { kind: 'residual', shortcut: under.includes(`${leaves.shortcut}.weight`) };
  if (under.some((n) => n.startsWith('to_qkv.'))) return { kind: 'attention' };
  if (under.some((n) => n.startsWith('resample.'))) return { kind: 'resample', time: under.includes('time_conv.weight') };
  throw notWan21(where, `its block ${prefix.slice(0, -1)} holds ${under.slice(0, 2).join(', ') || 'nothing'}`);
}

/** Counted from Wan-AI names. */
export function wanVaeStructureFromOriginal(names: readonly string[], where: string): WanVaeStructure {
  const leaves = { residual: 'residual.', shortcut: 'shortcut' };
  const encoderCount = countBlocks(names, /^encoder\.downsamples\.(\d+)\./, 'VAE encoder block', where);
  const encoder = Array.from({ length: encoderCount }, (_, n) => blockAt(names, `encoder.downsamples.${n}.`, leaves, where));
  const decoderCount = countBlocks(names, /^decoder\.upsamples\.(\d+)\./, 'VAE decoder block', where);
  const decoder: WanVaeLevel[] = [];
  let resnets: boolean[] = [];
  for (let n = 0; n < decoderCount; n++) {
    const block = blockAt(names, `decoder.upsamples.${n}.`, leaves, where);
    if (block.kind === 'attention') throw notWan21(where, `its decoder has an attention block (decoder.upsamples.${n})`);
    if (block.kind === 'residual') {
      resnets.push(block.shortcut);
    } else {
      decoder.push({ resnets, upsample: { time: block.time } });
      resnets = [];
    }
  }
  if (resnets.length) decoder.push({ resnets, upsample: null });
  return { encoder, decoder };
}

/** Counted from diffusers names. */
export function wanVaeStructureFromCanonical(names: readonly string[], where: string): WanVaeStructure {
  const leaves = { residual: 'conv1.', shortcut: 'conv_shortcut' };
  const encoderCount = countBlocks(names, /^encoder\.down_blocks\.(\d+)\./, 'VAE encoder block', where);
  const encoder = Array.from({ length: encoderCount }, (_, n) => blockAt(names, `encoder.down_blocks.${n}.`, leaves, where));
  const levels = countBlocks(names, /^decoder\.up_blocks\.(\d+)\./, 'VAE decoder level', where);
  const decoder = Array.from({ length: levels }, (_, i): WanVaeLevel => {
    const prefix = `decoder.up_blocks.${i}.`;
    const count = countBlocks(names, new RegExp(`^decoder\\.up_blocks\\.${i}\\.resnets\\.(\\d+)\\.`), `residual block of decoder level ${i},`, where);
    const upsamplers = indicesOf(names, new RegExp(`^decoder\\.up_blocks\\.${i}\\.upsamplers\\.(\\d+)\\.`));
    return {
      resnets: Array.from({ length: count }, (_, j) => names.includes(`${prefix}resnets.${j}.conv_shortcut.weight`)),
      upsample: upsamplers.length ? { time: names.includes(`${prefix}upsamplers.0.time_conv.weight`) } : null,
    };
  });
  return { encoder, decoder };
}

const WEIGHT_AND_BIAS = ['weight', 'bias'] as const;

/** [diffusers leaf, Wan-AI leaf] of a residual block; the shortcut only where the width changes. */
const RESIDUAL: readonly (readonly [string, string])[] = [
  ['norm1.gamma', 'residual.0.gamma'],
  ...WEIGHT_AND_BIAS.map((p) => [`conv1.${p}`, `residual.2.${p}`] as const),
  ['norm2.gamma', 'residual.3.gamma'],
  ...WEIGHT_AND_BIAS.map((p) => [`conv2.${p}`, `residual.6.${p}`] as const),
];
const ATTENTION_LEAVES = ['norm.gamma', 'to_qkv.weight', 'to_qkv.bias', 'proj.weight', 'proj.bias'];

/** Every VAE weight: diffusers name ↔ Wan-AI name, in the order Wan-AI's `WanVAE_.state_dict()` lists them. */
export function wanVaeTable(structure: WanVaeStructure): WanLayoutEntry[] {
  const entries: WanLayoutEntry[] = [];
  const add = (canonical: string, stored: string): void => void entries.push({ canonical, stored });
  const conv = (canonical: string, stored: string): void => WEIGHT_AND_BIAS.forEach((p) => add(`${canonical}.${p}`, `${stored}.${p}`));
  const residual = (canonical: string, stored: string, shortcut: boolean): void => {
    for (const [c, s] of RESIDUAL) add(`${canonical}.${c}`, `${stored}.${s}`);
    if (shortcut) conv(`${canonical}.conv_shortcut`, `${stored}.shortcut`);
  };
  const attention = (canonical: string, stored: string): void => ATTENTION_LEAVES.forEach((leaf) => add(`${canonical}.${leaf}`, `${stored}.${leaf}`));
  const resample = (canonical: string, stored: string, time: boolean): void => {
    conv(`${canonical}.resample.1`, `${stored}.resample.1`);
    if (time) conv(`${canonical}.time_conv`, `${stored}.time_conv`);
  };
  const middle = (coder: 'encoder' | 'decoder'): void => {
    residual(`${coder}.mid_block.resnets.0`, `${coder}.middle.0`, false);
    attention(`${coder}.mid_block.attentions.0`, `${coder}.middle.1`);
    residual(`${coder}.mid_block.resnets.1`, `${coder}.middle.2`, false);
  };
  const head = (coder: 'encoder' | 'decoder'): void => {
    add(`${coder}.norm_out.gamma`, `${coder}.head.0.gamma`);
    conv(`${coder}.conv_out`, `${coder}.head.2`);
  };

  if (structure.encoder.length > 0) {
    conv('encoder.conv_in', 'encoder.conv1');
    structure.encoder.forEach((block, n) => {
      const canonical = `encoder.down_blocks.${n}`;
      const stored = `encoder.downsamples.${n}`;
      if (block.kind === 'residual') residual(canonical, stored, block.shortcut);
      else if (block.kind === 'attention') attention(canonical, stored);
      else resample(canonical, stored, block.time);
    });
    middle('encoder');
    head('encoder');
    conv('quant_conv', 'conv1');
  }
  conv('post_quant_conv', 'conv2');
  conv('decoder.conv_in', 'decoder.conv1');
  middle('decoder');
  let flat = 0;
  structure.decoder.forEach((level, i) => {
    level.resnets.forEach((shortcut, j) => residual(`decoder.up_blocks.${i}.resnets.${j}`, `decoder.upsamples.${flat++}`, shortcut));
    if (level.upsample) resample(`decoder.up_blocks.${i}.upsamplers.0`, `decoder.upsamples.${flat++}`, level.upsample.time);
  });
  head('decoder');
  return entries;
}
