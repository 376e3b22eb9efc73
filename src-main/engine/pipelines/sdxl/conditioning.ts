/**
 * SDXL text conditioning, as diffusers' StableDiffusionXLPipeline.encode_prompt builds it:
 * both CLIP encoders' penultimate hidden states (hidden_states[-2]) concatenated to 768 + 1280 =
 * 2048 wide, the pooled `text_embeds` of text_encoder_2, and zeros for an empty negative prompt when
 * the export says force_zeros_for_empty_prompt. Long prompts are 75-token chunks concatenated along
 * the token axis and A1111 weights `(word:1.3)` are applied per chunk with the mean restored, as
 * A1111 does (see prompts/chunking.ts); an unweighted prompt of ≤ 75 tokens is exactly diffusers'.
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { ClipTokenizer } from '../../tokenizers/clip.ts';
import { chunkPrompt, equalizeChunkCounts } from '../../prompts/chunking.ts';
import type { ChunkedPrompt } from '../../prompts/chunking.ts';
import type { OrtRuntime } from '../../inference/runtime.ts';
import { inputSpec, intTensor, outputFloat32 } from '../common/session-io.ts';
import { PipelineError } from '../types.ts';

export interface Encoder {
  readonly component: 'text_encoder' | 'text_encoder_2';
  readonly session: InferenceSession;
  readonly tokenizer: ClipTokenizer;
}

export interface Conditioning {
  /** [chunks·77, 2048] for the prompt and the negative prompt (same length). */
  readonly cond: Float32Array;
  readonly uncond: Float32Array;
  readonly tokens: number;
  /** [1280] pooled embeds. */
  readonly pooledCond: Float32Array;
  readonly pooledUncond: Float32Array;
  readonly width: number;
  readonly promptTokens: number;
}

/** The penultimate hidden-states output name (hidden_states[-2] in transformers' indexing). */
export function penultimateOutput(session: InferenceSession, component: string): string {
  const layers = session.outputNames
    .map((n) => /^hidden_states\.(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  if (layers.length < 2) {
    throw new PipelineError('model_invalid', `${component}/model.onnx has no hidden_states.N outputs; export it with output_hidden_states`);
  }
  return `hidden_states.${Math.max(...layers) - 1}`;
}

/** A1111 "Original" emphasis on one chunk: scale token rows by their weights, restore the mean. */
export function applyWeights(z: Float32Array, offset: number, tokens: number, width: number, weights: Float32Array): void {
  let weighted = false;
  for (let t = 0; t < tokens; t++) if (weights[t] !== 1) weighted = true;
  if (!weighted) return;
  const n = tokens * width;
  let sum0 = 0;
  for (let i = 0; i < n; i++) sum0 += z[offset + i]!;
  for (let t = 0; t < tokens; t++) {
    const w = weights[t]!;
    if (w === 1) continue;
    for (let c = 0; c < width; c++) z[offset + t * width + c]! *= w;
  }
  let sum1 = 0;
  for (let i = 0; i < n; i++) sum1 += z[offset + i]!;
  if (sum1 === 0) return;
  const k = sum0 / sum1;
  for (let i = 0; i < n; i++) z[offset + i]! *= k;
}

interface EncodedChunks {
  /** [chunks·77, width] */
  readonly hidden: Float32Array;
  readonly width: number;
  /** text_embeds of the first chunk, when the encoder has them. */
  readonly pooled: Float32Array | null;
}

async function runEncoder(runtime: OrtRuntime, enc: Encoder, chunked: ChunkedPrompt): Promise<EncodedChunks> {
  const n = chunked.chunks.length;
  const len = chunked.chunks[0]!.ids.length;
  const ids = new Int32Array(n * len);
  chunked.chunks.forEach((c, i) => ids.set(c.ids, i * len));
  const spec = inputSpec(enc.session, 'input_ids', enc.component);
  const hiddenName = penultimateOutput(enc.session, enc.component);
  // One chunk per run: exports with a fixed batch of 1 exist, and chunks are few.
  let width = 0;
  let hidden: Float32Array | null = null;
  let pooled: Float32Array | null = null;
  for (let i = 0; i < n; i++) {
    const out = await runtime.run(enc.session, { input_ids: intTensor(spec, ids.subarray(i * len, (i + 1) * len), [1, len]) });
    const h = outputFloat32(out, hiddenName, enc.component);
    width = h.dims[2] ?? 0;
    hidden ??= new Float32Array(n * len * width);
    hidden.set(h.data, i * len * width);
    applyWeights(hidden, i * len * width, len, width, chunked.chunks[i]!.weights);
    if (i === 0 && out.text_embeds) pooled = outputFloat32(out, 'text_embeds', enc.component).data;
  }
  return { hidden: hidden!, width, pooled };
}

function concatWidth(a: EncodedChunks, b: EncodedChunks, tokens: number): Float32Array {
  const width = a.width + b.width;
  const out = new Float32Array(tokens * width);
  for (let t = 0; t < tokens; t++) {
    out.set(a.hidden.subarray(t * a.width, (t + 1) * a.width), t * width);
    out.set(b.hidden.subarray(t * b.width, (t + 1) * b.width), t * width + a.width);
  }
  return out;
}

export async function encodeSdxlPrompts(
  runtime: OrtRuntime,
  encoders: readonly [Encoder, Encoder],
  prompt: string,
  negativePrompt: string,
  forceZerosForEmptyNegative: boolean,
): Promise<Conditioning> {
  const zeroNegative = negativePrompt.trim() === '' && forceZerosForEmptyNegative;
  const encoded: { cond: EncodedChunks; uncond: EncodedChunks | null }[] = [];
  let promptTokens = 0;
  for (const enc of encoders) {
    const [p, n] = equalizeChunkCounts(chunkPrompt(prompt, enc.tokenizer), chunkPrompt(negativePrompt, enc.tokenizer), enc.tokenizer);
    promptTokens = p.tokenCount;
    encoded.push({ cond: await runEncoder(runtime, enc, p), uncond: zeroNegative ? null : await runEncoder(runtime, enc, n) });
  }
  const [e1, e2] = encoded as [(typeof encoded)[0], (typeof encoded)[0]];
  const tokens = e1.cond.hidden.length / e1.cond.width;
  const width = e1.cond.width + e2.cond.width;
  const cond = concatWidth(e1.cond, e2.cond, tokens);
  const uncond = e1.uncond && e2.uncond ? concatWidth(e1.uncond, e2.uncond, tokens) : new Float32Array(cond.length);
  if (!e2.cond.pooled) throw new PipelineError('model_invalid', "text_encoder_2/model.onnx has no 'text_embeds' output (SDXL's pooled prompt embedding)");
  const pooledCond = e2.cond.pooled;
  const pooledUncond = e2.uncond?.pooled ?? new Float32Array(pooledCond.length);
  return { cond, uncond, tokens, pooledCond, pooledUncond, width, promptTokens };
}
