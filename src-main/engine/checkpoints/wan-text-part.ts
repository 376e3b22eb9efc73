/**
 * WAN's UMT5 text encoder read from its file: transformers' names (a diffusers `text_encoder/`,
 * ComfyUI's `umt5_xxl_*` with its `spiece_model` and fp8 scales) as they are, Wan-AI's `T5Encoder`
 * (`models_t5_umt5-xxl-enc-bf16.pth`) through wan-t5-table.ts; sized from its shapes, every weight
 * checked, and a T5 whose layers share one position bias (T5-XXL, mT5) named.
 */
import { WeightFileError } from '../weights/errors.ts';
import { canonicalShape, WeightSet } from '../weights/tensor-ref.ts';
import { SPIECE_TENSOR } from '../tokenizers/umt5-tokenizer.ts';
import { readThroughTable, SCALED_FP8_MARKER } from './layouts/wan-layout.ts';
import type { WanLayoutTable } from './layouts/wan-layout.ts';
import { umt5StructureFromCanonical, umt5StructureFromWan, umt5TransformersTable, umt5WanTable, UMT5_TIED_EMBEDDING } from './layouts/wan-t5-table.ts';
import { CHOOSE_TEXT, formatBytes, guessWanPart, ignoredNames, incomplete, precisionLabel } from './wan-parts.ts';
import type { StoredTensors, Umt5Dims, WanNaming, WanTextEncoderPart } from './wan-parts.ts';

/** UMT5-XXL as every WAN 2.1 release ships it (google/umt5-xxl). */
const UMT5_XXL: Umt5Dims = { dModel: 4096, vocab: 256384, layers: 24, heads: 64, inner: 4096, dFf: 10240, buckets: 32 };

function umt5Shapes(d: Umt5Dims): Record<string, number[]> {
  const shapes: Record<string, number[]> = { 'shared.weight': [d.vocab, d.dModel], 'encoder.final_layer_norm.weight': [d.dModel] };
  for (let n = 0; n < d.layers; n++) {
    const b = `encoder.block.${n}.layer`;
    for (const p of ['q', 'k', 'v']) shapes[`${b}.0.SelfAttention.${p}.weight`] = [d.inner, d.dModel];
    shapes[`${b}.0.SelfAttention.o.weight`] = [d.dModel, d.inner];
    shapes[`${b}.0.SelfAttention.relative_attention_bias.weight`] = [d.buckets, d.heads];
    shapes[`${b}.0.layer_norm.weight`] = [d.dModel];
    shapes[`${b}.1.DenseReluDense.wi_0.weight`] = [d.dFf, d.dModel];
    shapes[`${b}.1.DenseReluDense.wi_1.weight`] = [d.dFf, d.dModel];
    shapes[`${b}.1.DenseReluDense.wo.weight`] = [d.dModel, d.dFf];
    shapes[`${b}.1.layer_norm.weight`] = [d.dModel];
  }
  return shapes;
}

/** One sentence for a T5 whose layers share one position bias (T5 v1.1 as Flux/SD3 use it, mT5), null for UMT5. */
function sharedPositionBias(stored: StoredTensors, naming: WanNaming, layers: number): string | null {
  const has = (n: string): boolean => stored.refs.has(n);
  const perLayer = (n: number): string =>
    naming === 'wan' ? `blocks.${n}.pos_embedding.embedding.weight` : `encoder.block.${n}.layer.0.SelfAttention.relative_attention_bias.weight`;
  const shared = naming === 'wan' ? has('pos_embedding.embedding.weight') : has(perLayer(0)) && layers > 1 && !has(perLayer(1));
  if (!shared) return null;
  return `${stored.label} is a T5 text encoder whose layers share one position bias (T5-XXL as Flux and SD3 use it, or mT5), not the UMT5-XXL encoder WAN was trained with, which has one per layer: ${CHOOSE_TEXT}`;
}

export function readWanTextEncoder(stored: StoredTensors): WanTextEncoderPart {
  const names = [...stored.refs.keys()];
  const guess = guessWanPart(names);
  if (!guess || guess.part !== 'textEncoder') throw new WeightFileError('wrong_kind', `${stored.label} is not a UMT5 text encoder (it has no encoder layers in transformers' or Wan-AI's naming): ${CHOOSE_TEXT}`);
  const structure = guess.naming === 'wan' ? umt5StructureFromWan(names, stored.label) : umt5StructureFromCanonical(names, stored.label);
  let table: WanLayoutTable;
  if (guess.naming === 'wan') {
    const refusal = sharedPositionBias(stored, 'wan', structure.layers);
    if (refusal) throw new WeightFileError('wrong_kind', refusal);
    table = umt5WanTable(structure);
  } else {
    const refusal = sharedPositionBias(stored, 'transformers', structure.layers);
    if (refusal) throw new WeightFileError('wrong_kind', refusal);
    if (!names.some((n) => n.endsWith('.DenseReluDense.wi_0.weight')) && names.some((n) => n.endsWith('.DenseReluDense.wi.weight'))) {
      throw new WeightFileError('wrong_kind', `${stored.label} is an original T5 text encoder (a plain ReLU feed-forward, no gated wi_0/wi_1), not WAN's UMT5-XXL: ${CHOOSE_TEXT}`);
    }
    table = umt5TransformersTable(structure);
  }
  const reading = readThroughTable(table, stored.refs);
  if (reading.missing.length) throw incomplete(stored, 'a UMT5 text encoder', reading);
  const weights = new WeightSet(stored.label, reading.refs);
  const embedding = canonicalShape(weights.require('shared.weight'));
  const bias = canonicalShape(weights.require('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight'));
  const q = canonicalShape(weights.require('encoder.block.0.layer.0.SelfAttention.q.weight'));
  const wi = canonicalShape(weights.require('encoder.block.0.layer.1.DenseReluDense.wi_0.weight'));
  if (embedding.length !== 2 || bias.length !== 2 || q.length !== 2 || wi.length !== 2) {
    throw new WeightFileError('wrong_kind', `${stored.label}: its embedding, attention or feed-forward weights are not matrices, as a UMT5 encoder's are; the file is damaged`);
  }
  const dims: Umt5Dims = { dModel: embedding[1]!, vocab: embedding[0]!, layers: structure.layers, heads: bias[1]!, inner: q[0]!, dFf: wi[0]!, buckets: bias[0]! };
  // A header that lies about one tensor's shape is named here, before anything is built.
  for (const [name, shape] of Object.entries(umt5Shapes(dims))) weights.require(name, shape);

  const used = new Set(reading.used);
  used.add(SCALED_FP8_MARKER);
  if (guess.naming === 'transformers' && stored.refs.has('shared.weight')) used.add(UMT5_TIED_EMBEDDING);
  const spieceRef = stored.refs.get(SPIECE_TENSOR);
  const spiece = spieceRef && (spieceRef.dtype === 'U8' || spieceRef.dtype === 'I8') && spieceRef.shape.length === 1 && spieceRef.length > 0 ? spieceRef : null;
  if (spiece) used.add(SPIECE_TENSOR);
  const isXxl = (Object.keys(UMT5_XXL) as (keyof Umt5Dims)[]).every((k) => UMT5_XXL[k] === dims[k]);
  const dtype = weights.mainDtype();
  const what = isXxl ? 'UMT5-XXL text encoder' : `UMT5 text encoder (${dims.dModel} wide, ${dims.layers} layers)`;
  const parts = [what, precisionLabel(dtype, reading.scaled), formatBytes(stored.sizeBytes)];
  if (spiece) parts.push('tokenizer inside');
  return {
    part: 'textEncoder',
    weights,
    naming: guess.naming,
    dims,
    isXxl,
    spiece,
    dtype,
    scaledFp8: reading.scaled,
    precision: precisionLabel(dtype, reading.scaled),
    files: stored.files,
    sizeBytes: stored.sizeBytes,
    ignored: ignoredNames(stored, used),
    description: parts.join(', '),
  };
}

