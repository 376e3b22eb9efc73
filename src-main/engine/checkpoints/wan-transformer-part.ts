/**
 * The WAN 2.1 transformer read from its file(s): diffusers' names as they are, Wan-AI's (the
 * original release, ComfyUI's repackaged files, with or without `model.diffusion_model.`) through
 * wan-transformer-table.ts; image-to-video, first-last-frame, VACE and Animate transformers named
 * in Wan-AI's naming here, in diffusers' by the builder's own sizing (transformer-config.ts), which
 * then checks every weight's shape and tells the size (1.3B, 14B).
 */
import { wanTransformerConfigFromWeights, wanTransformerSizeLabel } from '../architectures/wan/transformer-config.ts';
import type { WanTransformerConfig, WanTransformerHints } from '../architectures/wan/transformer-config.ts';
import { WeightFileError } from '../weights/errors.ts';
import { WeightSet } from '../weights/tensor-ref.ts';
import type { TensorRef } from '../weights/tensor-ref.ts';
import { FP8_SCALE_SUFFIXES, readThroughTable, SCALED_FP8_MARKER } from './layouts/wan-layout.ts';
import { wanTransformerStructureFromOriginal, wanTransformerTable } from './layouts/wan-transformer-table.ts';
import { CHOOSE_T2V, formatBytes, guessWanPart, ignoredNames, incomplete, precisionLabel } from './wan-parts.ts';
import type { StoredTensors, WanTransformerPart } from './wan-parts.ts';

/** A per-tensor fp8 scale (read with its weight) or ComfyUI's input scale (not needed when computing in float). */
function isScaleName(name: string): boolean {
  return FP8_SCALE_SUFFIXES.some((s) => name.endsWith(s)) || /\.(scale_input|input_scale)$/.test(name);
}

/** One sentence for a Wan-AI-named transformer of another kind (diffusers-named ones are told by the builder's sizing). */
function wanNamedVariant(label: string, names: readonly string[]): string | null {
  const any = (re: RegExp): boolean => names.some((n) => re.test(n));
  if (any(/^vace_/)) return `${label} is a WAN VACE transformer (it has vace_blocks for reference and control videos), not a text-to-video one: ${CHOOSE_T2V}`;
  if (any(/^(motion_encoder|face_adapter|face_encoder)\./)) return `${label} is a WAN Animate transformer (it has a motion and face encoder), not a text-to-video one: ${CHOOSE_T2V}`;
  if (names.includes('img_emb.emb_pos')) {
    return `${label} is a WAN first-last-frame-to-video transformer (FLF2V: an image embedder with frame positions), not a text-to-video one: ${CHOOSE_T2V}`;
  }
  const embedder = any(/^img_emb\./);
  const imageKv = any(/^blocks\.\d+\.cross_attn\.(k_img|v_img)\./);
  if (embedder || imageKv) {
    const what = embedder && imageKv ? 'an image embedder, img_emb, and image key/value projections' : embedder ? 'an image embedder, img_emb' : 'image key/value projections (k_img, v_img)';
    return `${label} is a WAN image-to-video transformer (it has ${what}); the studio's WAN pipeline makes video from text only: ${CHOOSE_T2V}`;
  }
  return null;
}

/** The transformer as canonical weights, sized and checked by the builder's own sizing (every weight's shape). */
export function readWanTransformer(stored: StoredTensors, hints?: WanTransformerHints): WanTransformerPart {
  const guess = guessWanPart([...stored.refs.keys()]);
  if (!guess || guess.part !== 'transformer') throw new WeightFileError('wrong_kind', `${stored.label} is not a WAN transformer (it has no patch embedding or transformer blocks in diffusers' or Wan-AI's naming)`);
  let refs: Map<string, TensorRef>;
  let used: Set<string>;
  let scaled = false;
  if (guess.naming === 'diffusers') {
    // Canonical already: every tensor is read under its own name (the builder's sizing names image embedders and other variants).
    const own = [...stored.refs.keys()].filter((n) => n !== SCALED_FP8_MARKER && !isScaleName(n));
    const reading = readThroughTable(own.map((n) => ({ canonical: n, stored: n })), stored.refs);
    refs = reading.refs;
    used = reading.used;
    scaled = reading.scaled;
  } else {
    const names = [...stored.refs.keys()].filter((n) => n.startsWith(guess.prefix)).map((n) => n.slice(guess.prefix.length));
    const variant = wanNamedVariant(stored.label, names);
    if (variant) throw new WeightFileError('wrong_kind', variant);
    const table = wanTransformerTable(wanTransformerStructureFromOriginal(names, stored.label));
    const reading = readThroughTable(table, stored.refs, guess.prefix);
    if (reading.missing.length) throw incomplete(stored, 'a WAN video transformer', reading);
    refs = reading.refs;
    used = reading.used;
    scaled = reading.scaled;
  }
  used.add(SCALED_FP8_MARKER);
  const weights = new WeightSet(stored.label, refs);
  let config: WanTransformerConfig;
  try {
    config = wanTransformerConfigFromWeights(weights, hints);
  } catch (e) {
    // A file with some WAN names but not the rest reads "is a WAN video transformer, but …".
    if (e instanceof WeightFileError && e.code === 'incomplete') {
      throw new WeightFileError('incomplete', `${stored.label} is a WAN video transformer, but ${e.message.replace(`${stored.label} `, '')}`);
    }
    throw e;
  }
  const size = wanTransformerSizeLabel(config) as '1.3B' | '14B' | null;
  const dtype = weights.mainDtype();
  const what = size ? `WAN 2.1 T2V ${size} transformer` : `WAN 2.1 T2V transformer (${config.dim} wide, ${config.numLayers} blocks)`;
  return {
    part: 'transformer',
    weights,
    naming: guess.naming,
    prefix: guess.prefix,
    config,
    size,
    dtype,
    scaledFp8: scaled,
    precision: precisionLabel(dtype, scaled),
    files: stored.files,
    sizeBytes: stored.sizeBytes,
    ignored: ignoredNames(stored, used),
    description: `${what}, ${precisionLabel(dtype, scaled)}, ${formatBytes(stored.sizeBytes)}`,
  };
}

