/**
 * WAN's text encoder, UMT5 (transformers' `UMT5EncoderModel`, models/umt5/modeling_umt5.py), sized
 * from its own weights: vocabulary and width from the token embedding, depth from the numbered
 * blocks, heads and relative-position buckets from each layer's `relative_attention_bias`
 * [buckets, heads], the head width from the query projection, the feed-forward width from `wi_0`.
 * What the weights cannot say — the bucket distance (128) and the norm epsilon (1e-6) — comes from
 * the model's config.json when it has one, else UMT5's defaults (`UMT5Config`).
 *
 * T5-family encoders that are not UMT5 are refused by name: T5 v1.1 and mT5 keep one relative
 * position bias in the first layer only (UMT5 has one in every layer), and the original T5 has a
 * single-matrix ReLU feed-forward instead of the gated GELU.
 */
import { WeightFileError } from '../../weights/errors.ts';
import { canonicalShape, type WeightSet } from '../../weights/tensor-ref.ts';

export interface Umt5Config {
  readonly vocabSize: number;
  /** Width of the residual stream (`d_model`; UMT5-XXL: 4096). */
  readonly dModel: number;
  readonly heads: number;
  /** Width of each head (`d_kv`; UMT5-XXL: 64). heads × dKv need not equal dModel (umt5-small: 6 × 64 vs 512). */
  readonly dKv: number;
  /** Gated feed-forward width (`d_ff`; UMT5-XXL: 10240). */
  readonly dFf: number;
  readonly layers: number;
  /** `relative_attention_num_buckets` (32): half for keys before the query, half for keys after. */
  readonly numBuckets: number;
  /** `relative_attention_max_distance` (128): from this distance on, one bucket per direction. */
  readonly maxDistance: number;
  /** `layer_norm_epsilon` of every RMSNorm (1e-6). */
  readonly eps: number;
  /** Name of the token embedding in these weights: `shared.weight` (transformers saves only it) or `encoder.embed_tokens.weight`. */
  readonly embedding: string;
}

/** What a transformers config.json adds to what the weights say. */
export interface Umt5Hints {
  /** config.json `relative_attention_max_distance`. */
  readonly maxDistance?: number;
  /** config.json `layer_norm_epsilon`. */
  readonly eps?: number;
  /** config.json `feed_forward_proj` (UMT5: "gated-gelu"). */
  readonly feedForwardProj?: string;
}

/** `UMT5Config` defaults (transformers models/umt5/configuration_umt5.py). */
export const UMT5_MAX_DISTANCE = 128;
export const UMT5_EPS = 1e-6;

export const UMT5_SHARED = 'shared.weight';
export const UMT5_EMBED_TOKENS = 'encoder.embed_tokens.weight';
const BLOCK = 'encoder.block';

/** Canonical names of one encoder layer's parameters (transformers' state_dict names). */
export function umt5LayerNames(index: number): {
  q: string;
  k: string;
  v: string;
  o: string;
  bias: string;
  attentionNorm: string;
  wi0: string;
  wi1: string;
  wo: string;
  ffnNorm: string;
} {
  const p = `${BLOCK}.${index}.layer`;
  return {
    q: `${p}.0.SelfAttention.q`,
    k: `${p}.0.SelfAttention.k`,
    v: `${p}.0.SelfAttention.v`,
    o: `${p}.0.SelfAttention.o`,
    bias: `${p}.0.SelfAttention.relative_attention_bias.weight`,
    attentionNorm: `${p}.0.layer_norm.weight`,
    wi0: `${p}.1.DenseReluDense.wi_0`,
    wi1: `${p}.1.DenseReluDense.wi_1`,
    wo: `${p}.1.DenseReluDense.wo`,
    ffnNorm: `${p}.1.layer_norm.weight`,
  };
}

export const UMT5_FINAL_NORM = 'encoder.final_layer_norm.weight';

/** Every parameter of `UMT5EncoderModel` with its shape, in transformers' state_dict order (the tied embedding under both names). */
export function umt5WeightShapes(config: Umt5Config): Record<string, number[]> {
  const { dModel: d, dFf, heads } = config;
  const inner = heads * config.dKv;
  const shapes: Record<string, number[]> = {
    [UMT5_SHARED]: [config.vocabSize, d],
    [UMT5_EMBED_TOKENS]: [config.vocabSize, d],
  };
  for (let i = 0; i < config.layers; i++) {
    const n = umt5LayerNames(i);
    shapes[`${n.q}.weight`] = [inner, d];
    shapes[`${n.k}.weight`] = [inner, d];
    shapes[`${n.v}.weight`] = [inner, d];
    shapes[`${n.o}.weight`] = [d, inner];
    shapes[n.bias] = [config.numBuckets, heads];
    shapes[n.attentionNorm] = [d];
    shapes[`${n.wi0}.weight`] = [dFf, d];
    shapes[`${n.wi1}.weight`] = [dFf, d];
    shapes[`${n.wo}.weight`] = [d, dFf];
    shapes[n.ffnNorm] = [d];
  }
  shapes[UMT5_FINAL_NORM] = [d];
  return shapes;
}

/** "UMT5-XXL" for the encoder WAN 2.1 ships (google/umt5-xxl), else null. */
export function umt5SizeLabel(config: Umt5Config): string | null {
  if (config.dModel === 4096 && config.layers === 24 && config.heads === 64 && config.dFf === 10240) return 'UMT5-XXL';
  return null;
}

function wrongKind(message: string): WeightFileError {
  return new WeightFileError('wrong_kind', message);
}

function shapeOf(weights: WeightSet, name: string): number[] | null {
  const ref = weights.get(name);
  return ref ? canonicalShape(ref) : null;
}

/** Blocks 0…n−1 under `encoder.block.`; a gap means a damaged file. */
function blockCount(weights: WeightSet): number {
  const found = new Set<number>();
  for (const name of weights.names(`${BLOCK}.`)) {
    const m = /^encoder\.block\.(\d+)\./.exec(name);
    if (m) found.add(Number(m[1]));
  }
  const sorted = [...found].sort((a, b) => a - b);
  const missing = sorted.findIndex((v, i) => v !== i);
  if (missing !== -1) {
    throw new WeightFileError('incomplete', `${weights.label} has no weights for encoder block ${missing} but has later blocks; the file is incomplete`);
  }
  return sorted.length;
}

/** UMT5's encoder sized from its weights (canonical transformers names); one sentence (WeightFileError) for anything that does not fit. */
export function umt5ConfigFromWeights(weights: WeightSet, hints: Umt5Hints = {}): Umt5Config {
  const label = weights.label;
  const embedding = weights.has(UMT5_SHARED) ? UMT5_SHARED : UMT5_EMBED_TOKENS;
  const table = shapeOf(weights, embedding);
  const first = umt5LayerNames(0);
  const q = shapeOf(weights, `${first.q}.weight`);
  if (!table || table.length !== 2 || !q || q.length !== 2) {
    throw wrongKind(`${label} is not a T5-family text encoder (it has no token embedding ${UMT5_SHARED} or no self-attention weights ${first.q}.weight)`);
  }
  const [vocabSize, dModel] = table as [number, number];
  if (weights.has(`${BLOCK}.0.layer.1.DenseReluDense.wi.weight`)) {
    throw wrongKind(`${label} is an original T5 encoder (single-matrix ReLU feed-forward), not UMT5 with its gated GELU: WAN needs the UMT5-XXL text encoder (umt5-xxl)`);
  }
  if (hints.feedForwardProj !== undefined && hints.feedForwardProj !== 'gated-gelu') {
    throw new WeightFileError('unsupported', `${label}: its config asks for the feed-forward "${hints.feedForwardProj}" where UMT5 uses "gated-gelu"; the studio implements only UMT5's`);
  }
  const layers = blockCount(weights);
  const biasShape = shapeOf(weights, first.bias);
  if (!biasShape || biasShape.length !== 2) {
    throw wrongKind(`${label} has no relative position bias in its first layer (${first.bias}): it is not a UMT5 encoder`);
  }
  const [numBuckets, heads] = biasShape as [number, number];
  for (let i = 1; i < layers; i++) {
    if (!weights.has(umt5LayerNames(i).bias)) {
      throw wrongKind(
        `${label} has a relative position bias only in its first layer: it is a T5 v1.1 or mT5 encoder, which shares one bias across layers, not UMT5 (one per layer): WAN needs the UMT5-XXL text encoder (umt5-xxl)`,
      );
    }
  }
  const [inner, qIn] = q as [number, number];
  if (qIn !== dModel) throw wrongKind(`${label}: ${first.q}.weight reads ${qIn} channels where the token embedding is ${dModel} wide; the file mixes two models`);
  const dKv = inner / heads;
  if (!Number.isInteger(dKv) || dKv <= 0) throw wrongKind(`${label}: its ${inner}-wide attention does not split into the ${heads} heads its relative position bias has`);
  if (numBuckets % 2 !== 0 || numBuckets < 4) throw wrongKind(`${label}: ${numBuckets} relative position buckets cannot be split into UMT5's two directions`);
  const wi0 = shapeOf(weights, `${first.wi0}.weight`);
  if (!wi0 || wi0.length !== 2) throw new WeightFileError('incomplete', `${label} has no gated feed-forward weight ${first.wi0}.weight: the file is incomplete or not UMT5`);
  const maxDistance = hints.maxDistance ?? UMT5_MAX_DISTANCE;
  if (!Number.isInteger(maxDistance) || maxDistance <= numBuckets / 4) {
    throw wrongKind(`${label}: a relative_attention_max_distance of ${maxDistance} does not fit ${numBuckets} buckets`);
  }
  return { vocabSize, dModel, heads, dKv, dFf: wi0[0]!, layers, numBuckets, maxDistance, eps: hints.eps ?? UMT5_EPS, embedding };
}

/**
 * transformers' `UMT5Attention._relative_position_bucket` for an encoder (bidirectional) at every
 * relative position −maxRelative…maxRelative (key position − query position), index i holding
 * position i − maxRelative. Half the buckets are for keys after the query; within each half,
 * distances below a quarter of the buckets get their own bucket and the rest share logarithmic
 * ones up to maxDistance. Each float step is rounded to float32 as torch computes it
 * (`log(n.float() / max_exact) / log(max_distance / max_exact) · (half − max_exact)`, truncated),
 * so the buckets are exactly transformers'.
 */
export function umt5RelativeBuckets(numBuckets: number, maxDistance: number, maxRelative: number): number[] {
  const half = numBuckets / 2;
  const maxExact = half / 2;
  const logRange = Math.fround(Math.log(maxDistance / maxExact));
  const out: number[] = [];
  for (let rel = -maxRelative; rel <= maxRelative; rel++) {
    const n = Math.abs(rel);
    let bucket: number;
    if (n < maxExact) bucket = n;
    else {
      const ratio = Math.fround(Math.fround(Math.log(Math.fround(n / maxExact))) / logRange);
      bucket = Math.min(maxExact + Math.trunc(Math.fround(ratio * (half - maxExact))), half - 1);
    }
    out.push(bucket + (rel > 0 ? half : 0));
  }
  return out;
}
