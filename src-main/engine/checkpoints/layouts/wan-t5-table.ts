/**
 * WAN's text encoder, UMT5-XXL's encoder, in its two published namings against transformers'
 * `UMT5EncoderModel` names, the canonical ones — each ONE table (STYLE.md §13) sized by the
 * number of layers:
 *
 * - Wan-AI's own (`models_t5_umt5-xxl-enc-bf16.pth`): the `T5Encoder` of Wan-AI's
 *   wan/modules/t5.py built with `shared_pos=False` (every layer has its own relative position
 *   embedding, as in UMT5): `token_embedding`, `blocks.N.norm1` → attention
 *   (`attn.q/k/v/o`) → `blocks.N.norm2` → gated feed-forward (`ffn.gate.0` under GELU, times
 *   `ffn.fc1`, then `ffn.fc2`), `blocks.N.pos_embedding.embedding`, final `norm`. transformers'
 *   `UMT5DenseGatedActDense` computes act(wi_0 x) · wi_1 x then wo, so gate.0 is wi_0, fc1 is wi_1
 *   and fc2 is wo; the pairing is checked by running both encoders on the same weights
 *   (tests/fixtures/reference/wan/layouts.md).
 * - transformers' own (ComfyUI's `umt5_xxl_*.safetensors`, a diffusers folder's `text_encoder/`):
 *   the canonical names themselves; the token embedding under `shared.weight`, or under its tied
 *   copy `encoder.embed_tokens.weight` in files saved from a state dict.
 */
import { countBlocks } from './wan-layout.ts';
import type { WanLayoutEntry } from './wan-layout.ts';

export interface Umt5Structure {
  readonly layers: number;
}

export const UMT5_EMBEDDING = 'shared.weight';
export const UMT5_TIED_EMBEDDING = 'encoder.embed_tokens.weight';

/** Counted from Wan-AI names. */
export function umt5StructureFromWan(names: readonly string[], where: string): Umt5Structure {
  return { layers: countBlocks(names, /^blocks\.(\d+)\./, 'text encoder layer', where) };
}

/** Counted from transformers names. */
export function umt5StructureFromCanonical(names: readonly string[], where: string): Umt5Structure {
  return { layers: countBlocks(names, /^encoder\.block\.(\d+)\./, 'text encoder layer', where) };
}

/** [transformers leaf under encoder.block.N, Wan-AI leaf under blocks.N], in Wan-AI's state_dict order. */
const LAYER: readonly (readonly [string, string])[] = [
  ['layer.0.layer_norm.weight', 'norm1.weight'],
  ['layer.0.SelfAttention.q.weight', 'attn.q.weight'],
  ['layer.0.SelfAttention.k.weight', 'attn.k.weight'],
  ['layer.0.SelfAttention.v.weight', 'attn.v.weight'],
  ['layer.0.SelfAttention.o.weight', 'attn.o.weight'],
  ['layer.1.layer_norm.weight', 'norm2.weight'],
  ['layer.1.DenseReluDense.wi_0.weight', 'ffn.gate.0.weight'],
  ['layer.1.DenseReluDense.wi_1.weight', 'ffn.fc1.weight'],
  ['layer.1.DenseReluDense.wo.weight', 'ffn.fc2.weight'],
  ['layer.0.SelfAttention.relative_attention_bias.weight', 'pos_embedding.embedding.weight'],
];

/** The same leaves as transformers' `UMT5Block` lists them (self-attention with its position bias, its norm, then the feed-forward's). */
const TRANSFORMERS_LAYER_ORDER: readonly string[] = [
  'layer.0.SelfAttention.q.weight',
  'layer.0.SelfAttention.k.weight',
  'layer.0.SelfAttention.v.weight',
  'layer.0.SelfAttention.o.weight',
  'layer.0.SelfAttention.relative_attention_bias.weight',
  'layer.0.layer_norm.weight',
  'layer.1.DenseReluDense.wi_0.weight',
  'layer.1.DenseReluDense.wi_1.weight',
  'layer.1.DenseReluDense.wo.weight',
  'layer.1.layer_norm.weight',
];

/** Every encoder weight: transformers name ↔ Wan-AI name. */
export function umt5WanTable(structure: Umt5Structure): WanLayoutEntry[] {
  const entries: WanLayoutEntry[] = [{ canonical: UMT5_EMBEDDING, stored: 'token_embedding.weight' }];
  for (let n = 0; n < structure.layers; n++) {
    for (const [canonical, stored] of LAYER) entries.push({ canonical: `encoder.block.${n}.${canonical}`, stored: `blocks.${n}.${stored}` });
  }
  entries.push({ canonical: 'encoder.final_layer_norm.weight', stored: 'norm.weight' });
  return entries;
}

/** Every encoder weight under its transformers name, in transformers' state_dict order (the tied copy read as the embedding). */
export function umt5TransformersTable(structure: Umt5Structure): WanLayoutEntry[] {
  const entries: WanLayoutEntry[] = [{ canonical: UMT5_EMBEDDING, stored: UMT5_EMBEDDING, alternates: [UMT5_TIED_EMBEDDING] }];
  for (let n = 0; n < structure.layers; n++) {
    for (const leaf of TRANSFORMERS_LAYER_ORDER) entries.push({ canonical: `encoder.block.${n}.${leaf}`, stored: `encoder.block.${n}.${leaf}` });
  }
  entries.push({ canonical: 'encoder.final_layer_norm.weight', stored: 'encoder.final_layer_norm.weight' });
  return entries;
}
