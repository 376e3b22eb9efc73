/**
 * WAN 2.1's transformer in Wan-AI's own naming — the `WanModel` of Wan-AI's wan/modules/model.py,
 * as the original release's `diffusion_pytorch_model*.safetensors` and ComfyUI's repackaged
 * `wan2.1_t2v_*.safetensors` hold it (ComfyUI's, when saved from a whole model, under
 * `model.diffusion_model.`) — against diffusers' `WanTransformer3DModel` names, the canonical ones,
 * as ONE table (STYLE.md §13) sized by the number of blocks and whether they normalise the
 * cross-attention input.
 *
 * Facts carried over, not code: the renames of diffusers' scripts/convert_wan_to_diffusers.py
 * (`TRANSFORMER_KEYS_RENAME_DICT`) and loaders/single_file_utils.py
 * (`convert_wan_transformer_to_diffusers`) — time/text embedders, `modulation` →
 * `scale_shift_table`, self/cross attention → attn1/attn2, `ffn.0/2` → `ffn.net.0.proj/net.2`, the
 * head — and Wan-AI's block order norm1 (self-attention), norm3 (cross-attention, with weights),
 * norm2 (feed-forward), which diffusers renumbers norm1, norm2, norm3: Wan's `norm3` is diffusers'
 * `norm2`. Checked name for name against both, and against the module Wan-AI builds, in
 * tests/fixtures/reference/wan/layouts.md.
 */
import { WeightFileError } from '../../weights/errors.ts';
import { countBlocks } from './wan-layout.ts';
import type { WanLayoutEntry } from './wan-layout.ts';

/** ComfyUI's prefix for the diffusion model in files saved from a whole model. */
export const COMFY_DIFFUSION_PREFIX = 'model.diffusion_model.';

export interface WanTransformerStructure {
  readonly blocks: number;
  /** Each block LayerNorms (with weights) the stream before cross-attention (every WAN 2.1 release: yes). */
  readonly crossAttnNorm: boolean;
}

/** Counted from Wan-AI names (any file-wide prefix removed). */
export function wanTransformerStructureFromOriginal(names: readonly string[], where: string): WanTransformerStructure {
  const blocks = countBlocks(names, /^blocks\.(\d+)\./, 'transformer block', where);
  return { blocks, crossAttnNorm: blocks > 0 && names.includes('blocks.0.norm3.weight') };
}

/** Counted from diffusers names. */
export function wanTransformerStructureFromCanonical(names: readonly string[], where: string): WanTransformerStructure {
  const blocks = countBlocks(names, /^blocks\.(\d+)\./, 'transformer block', where);
  return { blocks, crossAttnNorm: blocks > 0 && names.includes('blocks.0.norm2.weight') };
}

/** [Wan-AI attention leaf, diffusers leaf]; the q/k RMSNorms have weights only. */
const ATTENTION: readonly (readonly [string, string, boolean])[] = [
  ['q', 'to_q', true],
  ['k', 'to_k', true],
  ['v', 'to_v', true],
  ['o', 'to_out.0', true],
  ['norm_q', 'norm_q', false],
  ['norm_k', 'norm_k', false],
];

/** Every transformer weight: diffusers name ↔ Wan-AI name, in the order Wan-AI's `WanModel.state_dict()` lists them. */
export function wanTransformerTable(structure: WanTransformerStructure): WanLayoutEntry[] {
  if (structure.blocks < 0) throw new WeightFileError('corrupt', 'a transformer cannot have a negative number of blocks');
  const entries: WanLayoutEntry[] = [];
  const add = (canonical: string, stored: string): void => void entries.push({ canonical, stored });
  const linear = (canonical: string, stored: string, bias = true): void => {
    add(`${canonical}.weight`, `${stored}.weight`);
    if (bias) add(`${canonical}.bias`, `${stored}.bias`);
  };
  linear('patch_embedding', 'patch_embedding');
  linear('condition_embedder.text_embedder.linear_1', 'text_embedding.0');
  linear('condition_embedder.text_embedder.linear_2', 'text_embedding.2');
  linear('condition_embedder.time_embedder.linear_1', 'time_embedding.0');
  linear('condition_embedder.time_embedder.linear_2', 'time_embedding.2');
  linear('condition_embedder.time_proj', 'time_projection.1');
  for (let n = 0; n < structure.blocks; n++) {
    const block = `blocks.${n}`;
    add(`${block}.scale_shift_table`, `${block}.modulation`);
    for (const [attn, stored] of [['attn1', 'self_attn'], ['attn2', 'cross_attn']] as const) {
      if (attn === 'attn2' && structure.crossAttnNorm) linear(`${block}.norm2`, `${block}.norm3`);
      for (const [leaf, canonical, bias] of ATTENTION) linear(`${block}.${attn}.${canonical}`, `${block}.${stored}.${leaf}`, bias);
    }
    linear(`${block}.ffn.net.0.proj`, `${block}.ffn.0`);
    linear(`${block}.ffn.net.2`, `${block}.ffn.2`);
  }
  add('scale_shift_table', 'head.modulation');
  linear('proj_out', 'head.head');
  return entries;
}
