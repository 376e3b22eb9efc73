/**
 * Prompt enhancement with a local Qwen2.5 Instruct model: the user's idea is rewritten for the
 * target model (WAN: one descriptive paragraph; SDXL: comma-separated tags), generated with
 * Qwen's own sampling settings from a PRNG seeded with the job's seed — the same seed, model and
 * provider give the same rewrite — bounded in length, then checked (check.ts). Output that is not
 * a usable prompt is never returned as one: the original comes back with a warning saying why.
 *
 * Two backends, chosen by what `modelPath` is. A `.gguf` file (Qwen2.5 Instruct as LM Studio,
 * Ollama and Hugging Face share it) runs on llama.cpp through node-llama-cpp (llama.ts), its answer
 * held to a JSON-schema grammar: {prompt}, and for video also subject, motion, camera and light.
 * An ONNX folder runs through transformers.js (tokenizer, chat template, KV-cache loop, sampling)
 * on the same onnxruntime-node as the other pipelines, answering in plain text. Either way
 * cancellation is checked between tokens, the prompt it keeps is checked the same way (check.ts),
 * and the model stays loaded between calls until `unload()` releases it.
 */
import { statSync } from 'node:fs';
import { LogitsProcessor, LogitsProcessorList, StoppingCriteria, random } from '@huggingface/transformers';
import type { Tensor } from '@huggingface/transformers';
import { CancelledError, PipelineError } from '../types.ts';
import { checkEnhancement, fallbackWarning } from './check.ts';
import { DEFAULT_MAX_JSON_TOKENS, DEFAULT_MAX_NEW_TOKENS, enhancementMessages, jsonEnhancementMessages, parseRewrite } from './prompts.ts';
import type { EnhanceTarget, RewriteFields, RewriteShape } from './prompts.ts';
import { disposeQwen, loadQwen } from './model.ts';
import type { LoadedQwen, LoadOptions } from './model.ts';
import { disposeQwenGguf, generateGguf, loadQwenGguf } from './llama.ts';
import type { LoadedGguf } from './llama.ts';
import type { QwenDtype } from '../../models/qwen-validator.ts';

export type { EnhanceTarget, RewriteShape } from './prompts.ts';

/** Qwen2.5 Instruct's recommended sampling (its generation_config.json); temperature 0 means greedy. */
export interface SamplingSettings {
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  readonly repetitionPenalty: number;
}

export const DEFAULT_SAMPLING: SamplingSettings = { temperature: 0.7, topK: 20, topP: 0.8, repetitionPenalty: 1.05 };

/** Hard cap on maxNewTokens whatever the caller asks. */
export const MAX_NEW_TOKENS_LIMIT = 1024;

export interface EnhanceOptions {
  /** A Qwen2.5 Instruct GGUF file, or folder (config.json, tokenizer.json, onnx/model*.onnx). */
  readonly modelPath: string;
  readonly prompt: string;
  readonly target: EnhanceTarget;
  /** What the job makes (GGUF answers: video adds subject, motion, camera, light). Default: video for WAN, image for SDXL. */
  readonly shape?: RewriteShape;
  readonly seed: number;
  /** Default: 320 for WAN, 160 for SDXL (GGUF's JSON answers: 480 and 220). */
  readonly maxNewTokens?: number;
  /** llama.cpp evaluation threads for a GGUF (default: the CPU's math cores). */
  readonly threads?: number;
  readonly signal?: AbortSignal;
  /** Execution providers in order (default: the platform's GPU providers, then CPU). */
  readonly providers?: readonly string[];
  /** A decoder file to use (default: the best one for the provider). */
  readonly dtype?: QwenDtype;
  /** onnxruntime session options (threads…); used when the model is loaded. */
  readonly sessionOptions?: LoadOptions['sessionOptions'];
  readonly sampling?: SamplingSettings;
  /** Called after each generated token. */
  readonly onToken?: (generated: number, limit: number) => void;
}

export interface EnhanceResult {
  /** The prompt to use: the rewrite, or the original when `warning` is set. */
  readonly text: string;
  readonly original: string;
  /** Why the rewrite was not used, in words for the user; null when it was. */
  readonly warning: string | null;
  /** Tokens generated. */
  readonly tokens: number;
  /** Tokens generated per second of generation (prompt processing included, model loading not). */
  readonly tokensPerSecond: number;
  /** Wall time of the call, model loading included. */
  readonly ms: number;
  /** What the model wrote, before checks. */
  readonly raw: string;
  readonly stoppedBy: 'end' | 'length';
  readonly provider: string;
  readonly providerNote: string | null;
  readonly format: 'onnx' | 'gguf';
  /** Decoder file used (fp32, fp16, q4f16…), or a GGUF's quantisation (Q4_K_M…). */
  readonly dtype: QwenDtype | string;
  /** A GGUF answer's fields (prompt; for video subject, motion, camera, light), or null. */
  readonly fields: RewriteFields | null;
  readonly timings: {
    readonly loadMs: number;
    readonly promptTokens: number;
    readonly prefillMs: number;
    readonly decodeMs: number;
    readonly generateMs: number;
    readonly sessionRunMs: number;
  };
}

/**
 * Hugging Face transformers' sampling for one token — repetition penalty, then temperature, top-k,
 * top-p, and a draw from the renormalised distribution — done in one pass over the logits with a
 * PRNG of this generation's own (Python's `random.Random(seed)`), so the seed alone decides the
 * draws whatever else runs in the process. The chosen token's logit is set to +∞ and
 * transformers.js's greedy step picks it. This replaces transformers.js's multinomial path, which
 * lacks top-p and costs a full-vocabulary TopK session and temperature pass per token
 * (tests/bench/enhancer.bench.ts); with temperature 0 it is plain greedy decoding.
 */
class QwenSampling extends LogitsProcessor {
  readonly settings: SamplingSettings;
  readonly rng: InstanceType<typeof random.Random>;
  /** Ids already in each row (prompt and generated), kept up to date one token at a time. */
  seen: Set<number>[] | null = null;

  constructor(settings: SamplingSettings, seed: number) {
    super();
    this.settings = settings;
    this.rng = new random.Random(seed);
  }

  override _call(inputIds: bigint[][], logits: Tensor): Tensor {
    const data = logits.data as Float32Array;
    const vocab = logits.dims.at(-1) ?? data.length;
    if (this.seen === null) this.seen = inputIds.map((ids) => new Set(ids.map(Number)));
    else inputIds.forEach((ids, b) => this.seen![b]!.add(Number(ids.at(-1))));
    inputIds.forEach((_, b) => {
      const row = data.subarray(b * vocab, (b + 1) * vocab);
      penalise(row, this.seen![b]!, this.settings.repetitionPenalty);
      if (this.settings.temperature > 0) row[sampleToken(row, this.settings, () => this.rng.random())] = Number.POSITIVE_INFINITY;
    });
    return logits;
  }
}

/** HF's RepetitionPenaltyLogitsProcessor: seen tokens' logits divided by the penalty (multiplied when negative). */
export function penalise(row: Float32Array, seen: ReadonlySet<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const id of seen) {
    if (id < 0 || id >= row.length) continue;
    const v = row[id]!;
    row[id] = v < 0 ? v * penalty : v / penalty;
  }
}

/**
 * Temperature, top-k and top-p as HF's warpers apply them, then one draw: the k largest logits
 * (temperature keeps their order), softmax of logit ÷ temperature over them, the smallest prefix
 * whose mass reaches top_p, renormalised. Returns the chosen token id. If every logit is −∞ or
 * NaN, returns the first token (the caller's checks then reject the output).
 */
export function sampleToken(row: Float32Array, settings: SamplingSettings, draw: () => number): number {
  const k = Math.max(1, Math.min(settings.topK > 0 ? settings.topK : row.length, row.length));
  // Tokens more than 30·temperature below the best have relative weight < e^-30 ≈ 1e-13 and can
  // never be drawn: the first pass finds the best, the second keeps the k largest of the rest.
  let best = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < row.length; i++) if (row[i]! > best) best = row[i]!;
  if (!(best > Number.NEGATIVE_INFINITY)) return 0;
  let threshold = best - 30 * settings.temperature;
  const idx: number[] = [];
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (idx.length === k ? !(v > threshold) : !(v >= threshold)) continue;
    let at = idx.length;
    while (at > 0 && row[idx[at - 1]!]! < v) at--;
    idx.splice(at, 0, i);
    if (idx.length > k) idx.pop();
    if (idx.length === k) threshold = Math.max(threshold, row[idx[k - 1]!]!);
  }
  const max = row[idx[0]!]!;
  const weights = idx.map((i) => Math.exp((row[i]! - max) / settings.temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let keep = weights.length;
  if (settings.topP < 1) {
    let cumulative = 0;
    for (let j = 0; j < weights.length; j++) {
      cumulative += weights[j]! / total;
      if (cumulative >= settings.topP) {
        keep = j + 1;
        break;
      }
    }
  }
  const kept = weights.slice(0, keep);
  let r = draw() * kept.reduce((a, b) => a + b, 0);
  for (let j = 0; j < kept.length; j++) {
    r -= kept[j]!;
    if (r < 0) return idx[j]!;
  }
  return idx[keep - 1]!;
}

/** Stops generation at the next token boundary once the signal is aborted, and reports each token. */
class TokenWatch extends StoppingCriteria {
  readonly signal: AbortSignal | undefined;
  readonly promptLength: number;
  readonly limit: number;
  readonly onToken: ((generated: number, limit: number) => void) | undefined;
  firstTokenAt: number | null = null;
  generated = 0;

  constructor(signal: AbortSignal | undefined, promptLength: number, limit: number, onToken?: (generated: number, limit: number) => void) {
    super();
    this.signal = signal;
    this.promptLength = promptLength;
    this.limit = limit;
    this.onToken = onToken;
  }

  override _call(inputIds: number[][]): boolean[] {
    this.firstTokenAt ??= performance.now();
    this.generated = (inputIds[0]?.length ?? this.promptLength) - this.promptLength;
    this.onToken?.(this.generated, this.limit);
    const stop = this.signal?.aborted === true;
    return inputIds.map(() => stop);
  }
}

function tokenIds(tensor: Tensor): number[] {
  return Array.from(tensor.data as BigInt64Array, (v) => Number(v));
}

type Loaded = { readonly kind: 'onnx'; readonly m: LoadedQwen } | { readonly kind: 'gguf'; readonly m: LoadedGguf };

/** A GGUF is one file (Ollama's blobs have no extension); an ONNX export is a folder. */
export function isGgufModel(path: string): boolean {
  return /\.gguf$/i.test(path) || statSync(path, { throwIfNoEntry: false })?.isFile() === true;
}

function load(options: EnhanceOptions): Promise<Loaded> {
  if (isGgufModel(options.modelPath)) {
    const threads = options.threads ?? options.sessionOptions?.intraOpNumThreads;
    return loadQwenGguf(options.modelPath, { providers: options.providers, threads }).then((m) => ({ kind: 'gguf', m }));
  }
  return loadQwen(options.modelPath, { providers: options.providers, dtype: options.dtype, sessionOptions: options.sessionOptions }).then((m) => ({ kind: 'onnx', m }));
}

export class QwenEnhancer {
  #loaded: Loaded | null = null;
  #loading: Promise<Loaded> | null = null;
  #key: string | null = null;

  /** The loaded ONNX model (tests and benchmarks look at its sessions), or null. */
  get loaded(): LoadedQwen | null {
    return this.#loaded?.kind === 'onnx' ? this.#loaded.m : null;
  }

  /** The loaded GGUF model, or null. */
  get loadedGguf(): LoadedGguf | null {
    return this.#loaded?.kind === 'gguf' ? this.#loaded.m : null;
  }

  async #model(options: EnhanceOptions): Promise<Loaded> {
    const key = `${options.modelPath}\u0000${options.dtype ?? ''}`;
    if (this.#key !== key) {
      await this.unload();
      this.#key = key;
      this.#loading = load(options);
      this.#loading.then(
        (m) => {
          if (this.#key === key) this.#loaded = m;
        },
        () => {
          if (this.#key === key) {
            this.#key = null;
            this.#loading = null;
          }
        },
      );
    }
    return this.#loading!;
  }

  /** Releases the model's sessions so their memory (GPU memory included) returns. */
  async unload(): Promise<void> {
    const loading = this.#loading;
    this.#key = null;
    this.#loading = null;
    this.#loaded = null;
    const loaded = await loading?.catch(() => null);
    if (loaded?.kind === 'onnx') await disposeQwen(loaded.m);
    else if (loaded?.kind === 'gguf') await disposeQwenGguf(loaded.m);
  }

  async enhance(options: EnhanceOptions): Promise<EnhanceResult> {
    const started = performance.now();
    const original = options.prompt;
    if (!original.trim()) throw new PipelineError('invalid_params', 'there is no prompt to enhance');
    if (options.signal?.aborted) throw new CancelledError();
    const wasLoaded = this.#loaded !== null && this.#key === `${options.modelPath}\u0000${options.dtype ?? ''}`;
    const loaded = await this.#model(options);
    const loadMs = wasLoaded ? 0 : loaded.m.loadMs;
    if (options.signal?.aborted) throw new CancelledError();
    if (loaded.kind === 'gguf') return enhanceWithGguf(loaded.m, options, started, loadMs);
    const m = loaded.m;

    const limit = Math.max(1, Math.min(options.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS[options.target], MAX_NEW_TOKENS_LIMIT));
    const sampling = options.sampling ?? DEFAULT_SAMPLING;
    const messages = enhancementMessages(original, options.target);
    const inputs = m.tokenizer.apply_chat_template(messages.map((x) => ({ ...x })), {
      add_generation_prompt: true,
      return_dict: true,
    }) as unknown as { input_ids: Tensor; attention_mask: Tensor };
    const promptLength = inputs.input_ids.dims.at(-1) ?? 0;
    const watch = new TokenWatch(options.signal, promptLength, limit, options.onToken);
    const processors = new LogitsProcessorList();
    processors.push(new QwenSampling(sampling, options.seed));

    const run0 = m.timer.ms;
    const generateStart = performance.now();
    let sequences: Tensor;
    try {
      // Sampling happens in QwenSampling; transformers.js's own warpers stay off and its greedy step takes the pick.
      sequences = (await m.model.generate({
        input_ids: inputs.input_ids,
        attention_mask: inputs.attention_mask,
        max_new_tokens: limit,
        do_sample: false,
        repetition_penalty: 1,
        eos_token_id: [...m.endIds],
        logits_processor: processors,
        stopping_criteria: [watch],
      })) as Tensor;
    } catch (e) {
      if (e instanceof PipelineError) throw e;
      throw new PipelineError('enhancer_failed', `The prompt enhancer failed while generating: ${(e as Error).message}`, true);
    }
    const generateEnd = performance.now();
    if (options.signal?.aborted) throw new CancelledError();

    const all = tokenIds(sequences);
    const generated = all.slice(promptLength);
    const last = generated.at(-1);
    const stoppedBy = last !== undefined && m.endIds.includes(last) ? 'end' : 'length';
    const tokens = generated.length;
    const raw = m.tokenizer.decode(generated, { skip_special_tokens: true });
    const checked = checkEnhancement({
      raw,
      original,
      target: options.target,
      truncated: stoppedBy === 'length',
      example: messages[2]?.content,
    });
    const generateMs = generateEnd - generateStart;
    const prefillMs = watch.firstTokenAt !== null ? watch.firstTokenAt - generateStart : generateMs;
    return {
      text: checked.ok ? checked.text : original,
      original,
      warning: checked.ok ? null : fallbackWarning(checked.reason),
      tokens,
      tokensPerSecond: generateMs > 0 ? (tokens * 1000) / generateMs : 0,
      ms: performance.now() - started,
      raw,
      stoppedBy,
      provider: m.provider,
      providerNote: m.note,
      format: 'onnx',
      dtype: m.dtype,
      fields: null,
      timings: {
        loadMs,
        promptTokens: promptLength,
        prefillMs,
        decodeMs: generateMs - prefillMs,
        generateMs,
        sessionRunMs: m.timer.ms - run0,
      },
    };
  }
}

/** The GGUF path: a JSON answer under the grammar, its prompt checked like a plain-text one. */
async function enhanceWithGguf(m: LoadedGguf, options: EnhanceOptions, started: number, loadMs: number): Promise<EnhanceResult> {
  const original = options.prompt;
  const shape = options.shape ?? (options.target === 'wan' ? 'video' : 'image');
  const limit = Math.max(1, Math.min(options.maxNewTokens ?? DEFAULT_MAX_JSON_TOKENS[options.target], MAX_NEW_TOKENS_LIMIT));
  const messages = jsonEnhancementMessages(original, options.target, shape);
  const generation = await generateGguf(m, {
    messages,
    target: options.target,
    shape,
    seed: options.seed,
    sampling: options.sampling ?? DEFAULT_SAMPLING,
    maxTokens: limit,
    signal: options.signal,
    onToken: options.onToken,
  });
  const parsed = parseRewrite(generation.raw, shape, generation.stoppedBy === 'length');
  const checked = parsed.ok
    ? checkEnhancement({ raw: parsed.fields.prompt!, original, target: options.target, truncated: false, example: enhancementMessages(original, options.target)[2]?.content })
    : parsed;
  return {
    text: checked.ok ? checked.text : original,
    original,
    warning: checked.ok ? null : fallbackWarning(checked.reason),
    tokens: generation.tokens,
    tokensPerSecond: generation.generateMs > 0 ? (generation.tokens * 1000) / generation.generateMs : 0,
    ms: performance.now() - started,
    raw: generation.raw,
    stoppedBy: generation.stoppedBy,
    provider: m.provider,
    providerNote: m.note,
    format: 'gguf',
    dtype: m.info.quantization,
    fields: parsed.ok ? parsed.fields : null,
    timings: {
      loadMs,
      promptTokens: generation.promptTokens,
      prefillMs: generation.prefillMs,
      decodeMs: generation.generateMs - generation.prefillMs,
      generateMs: generation.generateMs,
      sessionRunMs: generation.generateMs,
    },
  };
}

let shared: QwenEnhancer | null = null;

/** The enhancer of this process (a worker), shared by the Qwen pipeline and in-process callers. */
export function sharedEnhancer(): QwenEnhancer {
  shared ??= new QwenEnhancer();
  return shared;
}

/** Rewrites a prompt for `target` with the Qwen model at `modelPath` (loaded once, kept until unloadEnhancer()). */
export function enhancePrompt(options: EnhanceOptions): Promise<EnhanceResult> {
  return sharedEnhancer().enhance(options);
}

/** Releases the shared enhancer's model. */
export async function unloadEnhancer(): Promise<void> {
  await shared?.unload();
}
