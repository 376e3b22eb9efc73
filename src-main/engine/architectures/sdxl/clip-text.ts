/**
 * SDXL's two text encoders as ONNX graphs built from their weights: transformers' `CLIPTextModel`
 * (text_encoder, OpenAI CLIP ViT-L/14: 768 wide, 12 layers, quick_gelu) and
 * `CLIPTextModelWithProjection` (text_encoder_2, OpenCLIP ViT-bigG/14: 1280 wide, 32 layers, gelu,
 * text_projection without bias). Architecture from transformers models/clip/modeling_clip.py
 * (`CLIPTextEmbeddings`, `CLIPEncoderLayer`, `CLIPTextModel.forward`):
 *
 *   x = token_embedding[ids] + position_embedding[0..S)
 *   each layer (pre-LN):  x += out_proj(causal self-attention(layer_norm1(x)))
 *                         x += fc2(act(fc1(layer_norm2(x))))
 *   last_hidden_state = final_layer_norm(x)
 *   pooler_output = last_hidden_state at argmax(ids) (the highest id is <|endoftext|>; the first one
 *                   wins a tie, so padding with <|endoftext|> still pools at the real end token —
 *                   transformers' rule for configs with the legacy eos_token_id 2, as SDXL's have)
 *   text_embeds = pooler_output · text_projectionᵀ  (projection model only)
 *
 * Outputs are what the studio's SDXL conditioning reads (pipelines/sdxl/conditioning.ts): the
 * penultimate layer `hidden_states.{L-1}`, plus `hidden_states.{L}`, `last_hidden_state`,
 * `pooler_output` and `text_embeds`, numbered as transformers' hidden_states tuple is
 * (0 = embeddings, i = output of layer i), so the highest-but-one index is hidden_states[-2].
 */
import type { ModelProto } from '../../onnx/onnx-proto.ts';
import { GraphBuilder } from '../../onnx/graph-builder.ts';
import { ONNX_DATA_TYPE } from '../../onnx/tensor-data.ts';
import { WeightBinder, type ComputeType } from '../../onnx/weights.ts';
import { WeightFileError } from '../../weights/errors.ts';
import { canonicalShape, type WeightSet } from '../../weights/tensor-ref.ts';
import { attention, gelu, layerNorm, quickGelu, unsqueeze, type AttentionMode } from '../ops.ts';

export type ClipActivation = 'quick_gelu' | 'gelu';

/** The SDXL slot an encoder fills; each slot has one known activation. */
export type ClipEncoderSlot = 'text_encoder' | 'text_encoder_2';

export interface ClipTextConfig {
  readonly hiddenSize: number;
  readonly layers: number;
  readonly heads: number;
  readonly intermediateSize: number;
  readonly vocabSize: number;
  readonly maxPositions: number;
  /** Width of text_projection's output, or null for a model without one (CLIPTextModel). */
  readonly projectionDim: number | null;
  readonly hiddenAct: ClipActivation;
  readonly layerNormEps: number;
}

export interface ClipTextHints {
  /** `hidden_act` from a diffusers/transformers config.json, when the model came with one. */
  readonly hiddenAct?: string;
  /** Which SDXL encoder the weights are for, when no config says the activation. */
  readonly slot?: ClipEncoderSlot;
  /** `layer_norm_eps` from a config.json (1e-5 for both SDXL encoders). */
  readonly layerNormEps?: number;
}

export interface ClipTextBuildOptions {
  readonly computeType: ComputeType;
  /** 'plain' (default): ONNX opset 17 only; 'fused': com.microsoft.MultiHeadAttention. */
  readonly attention?: AttentionMode;
  /** The folder onnxruntime resolves the weights' external data against. */
  readonly folder: string;
}

/** SDXL's encoders have heads of 64 channels (ViT-L 768/12, bigG 1280/20). */
const HEAD_DIM = 64;

const EMBEDDINGS = 'text_model.embeddings';
const LAYERS = 'text_model.encoder.layers';
const TOKEN_EMBEDDING = `${EMBEDDINGS}.token_embedding.weight`;
const POSITION_EMBEDDING = `${EMBEDDINGS}.position_embedding.weight`;
const FINAL_NORM = 'text_model.final_layer_norm';
const PROJECTION = 'text_projection.weight';

/** OpenAI's ViT-L text tower was trained with quick_gelu and OpenCLIP's bigG with exact gelu. */
const SLOT_ACTIVATION: Record<ClipEncoderSlot, ClipActivation> = { text_encoder: 'quick_gelu', text_encoder_2: 'gelu' };

function activationFrom(hints: ClipTextHints, label: string): ClipActivation {
  // Both activations keep every shape the same, so the weights cannot tell them apart: the
  // config.json that came with the model decides, else the SDXL slot the encoder fills.
  if (hints.hiddenAct !== undefined) {
    if (hints.hiddenAct === 'quick_gelu' || hints.hiddenAct === 'gelu') return hints.hiddenAct;
    throw new WeightFileError('unsupported', `${label}: its config asks for the activation "${hints.hiddenAct}", which the studio's CLIP text encoder does not implement (quick_gelu or gelu)`);
  }
  if (hints.slot) return SLOT_ACTIVATION[hints.slot];
  throw new Error(`${label}: a CLIP text encoder needs hints.hiddenAct or hints.slot to know its activation`);
}

/** The shape of a required weight, with a sentence when it is missing. */
function shapeOf(weights: WeightSet, name: string, rank: number): number[] {
  const shape = canonicalShape(weights.require(name));
  if (shape.length !== rank) {
    throw new WeightFileError('wrong_kind', `${weights.label}: ${name} has ${shape.length} dimensions where a CLIP text encoder has ${rank}`);
  }
  return shape;
}

/** Sizes a CLIP text encoder from its weights' shapes (canonical transformers names). */
export function clipTextConfigFromWeights(weights: WeightSet, hints: ClipTextHints = {}): ClipTextConfig {
  const label = weights.label;
  if (!weights.has(TOKEN_EMBEDDING)) {
    throw new WeightFileError('wrong_kind', `${label} is not a CLIP text encoder: it has no ${TOKEN_EMBEDDING}`);
  }
  const [vocabSize, hiddenSize] = shapeOf(weights, TOKEN_EMBEDDING, 2) as [number, number];
  const [maxPositions, positionWidth] = shapeOf(weights, POSITION_EMBEDDING, 2) as [number, number];
  if (positionWidth !== hiddenSize) {
    throw new WeightFileError('wrong_kind', `${label}: position embeddings are ${positionWidth} wide but token embeddings ${hiddenSize}; the file mixes two models`);
  }
  if (hiddenSize % HEAD_DIM !== 0) {
    throw new WeightFileError('wrong_kind', `${label}: a width of ${hiddenSize} does not split into heads of ${HEAD_DIM} channels as SDXL's text encoders do`);
  }
  const indices = new Set<number>();
  for (const name of weights.names(`${LAYERS}.`)) {
    const match = /^(\d+)\./.exec(name.slice(LAYERS.length + 1));
    if (match) indices.add(Number(match[1]));
  }
  const layers = indices.size;
  if (layers === 0) throw new WeightFileError('incomplete', `${label} has no transformer layers (${LAYERS}.N): the file is incomplete`);
  for (let i = 0; i < layers; i++) {
    if (!indices.has(i)) throw new WeightFileError('incomplete', `${label} has ${layers} transformer layers but none numbered ${i}: the file is incomplete`);
  }
  const [intermediateSize] = shapeOf(weights, `${LAYERS}.0.mlp.fc1.weight`, 2) as [number];
  let projectionDim: number | null = null;
  if (weights.has(PROJECTION)) [projectionDim] = shapeOf(weights, PROJECTION, 2) as [number];
  return {
    hiddenSize,
    layers,
    heads: hiddenSize / HEAD_DIM,
    intermediateSize,
    vocabSize,
    maxPositions,
    projectionDim,
    hiddenAct: activationFrom(hints, label),
    layerNormEps: hints.layerNormEps ?? 1e-5,
  };
}

/** Every canonical parameter of the model with its shape, in transformers' state_dict order. */
export function clipTextWeightShapes(config: ClipTextConfig): Record<string, number[]> {
  const h = config.hiddenSize;
  const shapes: Record<string, number[]> = {
    [TOKEN_EMBEDDING]: [config.vocabSize, h],
    [POSITION_EMBEDDING]: [config.maxPositions, h],
  };
  for (let i = 0; i < config.layers; i++) {
    const p = `${LAYERS}.${i}`;
    for (const proj of ['k_proj', 'v_proj', 'q_proj', 'out_proj']) {
      shapes[`${p}.self_attn.${proj}.weight`] = [h, h];
      shapes[`${p}.self_attn.${proj}.bias`] = [h];
    }
    shapes[`${p}.layer_norm1.weight`] = [h];
    shapes[`${p}.layer_norm1.bias`] = [h];
    shapes[`${p}.mlp.fc1.weight`] = [config.intermediateSize, h];
    shapes[`${p}.mlp.fc1.bias`] = [config.intermediateSize];
    shapes[`${p}.mlp.fc2.weight`] = [h, config.intermediateSize];
    shapes[`${p}.mlp.fc2.bias`] = [h];
    shapes[`${p}.layer_norm2.weight`] = [h];
    shapes[`${p}.layer_norm2.bias`] = [h];
  }
  shapes[`${FINAL_NORM}.weight`] = [h];
  shapes[`${FINAL_NORM}.bias`] = [h];
  if (config.projectionDim !== null) shapes[PROJECTION] = [config.projectionDim, h];
  return shapes;
}

/** The lowest finite value of the compute type: masked scores vanish in softmax without an inf. */
const MASKED_SCORE: Record<ComputeType, number> = { float32: -3.4028234663852886e38, float16: -65504 };

/**
 * Additive causal mask [S, S] for the sequence length of `ids`: 0 where a token may look (itself
 * and earlier tokens), the lowest finite value where it may not (later tokens).
 */
function causalMask(g: GraphBuilder, ids: string, computeType: ComputeType): string {
  const length = g.op('Squeeze', [g.op('Shape', [ids], { start: 1, end: 2 }), g.int64([0])]);
  const positions = g.op('Range', [g.int64([0], []), length, g.int64([1], [])]);
  const later = g.op('Greater', [unsqueeze(g, positions, [0]), unsqueeze(g, positions, [1])]);
  return g.op('Where', [later, g.floatConst([MASKED_SCORE[computeType]], []), g.floatConst([0], [])]);
}

function encoderLayer(b: WeightBinder, x: string, index: number, config: ClipTextConfig, attend: (q: string, k: string, v: string) => string): string {
  const g = b.g;
  const h = config.hiddenSize;
  const p = `${LAYERS}.${index}`;
  const normed = layerNorm(b, x, `${p}.layer_norm1`, h, config.layerNormEps);
  const q = b.linear(normed, `${p}.self_attn.q_proj`, h, h);
  const k = b.linear(normed, `${p}.self_attn.k_proj`, h, h);
  const v = b.linear(normed, `${p}.self_attn.v_proj`, h, h);
  const attended = b.linear(attend(q, k, v), `${p}.self_attn.out_proj`, h, h);
  const afterAttention = g.op('Add', [x, attended]);
  const normed2 = layerNorm(b, afterAttention, `${p}.layer_norm2`, h, config.layerNormEps);
  const up = b.linear(normed2, `${p}.mlp.fc1`, h, config.intermediateSize);
  const activated = config.hiddenAct === 'quick_gelu' ? quickGelu(g, up) : gelu(g, up);
  return g.op('Add', [afterAttention, b.linear(activated, `${p}.mlp.fc2`, config.intermediateSize, h)]);
}

/** The text encoder graph: input_ids int64 [batch_size, sequence_length ≤ maxPositions] → outputs in the compute type. */
export function buildClipText(weights: WeightSet, config: ClipTextConfig, options: ClipTextBuildOptions): ModelProto {
  const computeType = options.computeType;
  const mode = options.attention ?? 'plain';
  const g = new GraphBuilder({ name: config.projectionDim === null ? 'clip_text_model' : 'clip_text_model_with_projection', floatType: computeType });
  const b = new WeightBinder(g, weights, { computeType, folder: options.folder });
  const h = config.hiddenSize;
  const batch = 'batch_size';
  const sequence = 'sequence_length';

  const ids = g.input('input_ids', 'int64', [batch, sequence]);
  const tokens = g.op('Gather', [b.tensor(TOKEN_EMBEDDING, [config.vocabSize, h]), ids]);
  const positionTable = b.tensor(POSITION_EMBEDDING, [config.maxPositions, h]);
  const positions = g.op('Slice', [positionTable, g.int64([0]), g.op('Shape', [ids], { start: 1, end: 2 }), g.int64([0])]);
  let x = g.op('Add', [tokens, positions]);

  const mask = causalMask(g, ids, computeType);
  const bias = mode === 'fused' ? unsqueeze(g, mask, [0, 1]) : undefined;
  const attend = (q: string, k: string, v: string): string =>
    attention(g, q, k, v, { heads: config.heads, headDim: HEAD_DIM, mode, mask: mode === 'plain' ? mask : undefined, bias });

  const hidden: string[] = [x];
  for (let i = 0; i < config.layers; i++) {
    x = encoderLayer(b, x, i, config, attend);
    hidden.push(x);
  }
  const last = layerNorm(b, x, FINAL_NORM, h, config.layerNormEps);

  // ArgMax over int32 ids: onnxruntime's CPU ArgMax has no int64 kernel; CLIP's ids fit easily.
  const endPosition = g.op('ArgMax', [g.op('Cast', [ids], { to: ONNX_DATA_TYPE.int32 })], { axis: 1, keepdims: 0 });
  const pooled = g.op('GatherND', [last, unsqueeze(g, endPosition, [1])], { batch_dims: 1 });

  const L = config.layers;
  g.output(last, 'last_hidden_state', computeType, [batch, sequence, h]);
  g.output(hidden[L - 1]!, `hidden_states.${L - 1}`, computeType, [batch, sequence, h]);
  g.output(hidden[L]!, `hidden_states.${L}`, computeType, [batch, sequence, h]);
  g.output(pooled, 'pooler_output', computeType, [batch, h]);
  if (config.projectionDim !== null) {
    const embeds = b.linear(pooled, 'text_projection', h, config.projectionDim, { bias: false });
    g.output(embeds, 'text_embeds', computeType, [batch, config.projectionDim]);
  }
  return g.build();
}
