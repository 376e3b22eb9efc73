/**
 * Validates a Qwen2.5 Instruct export (the prompt enhancer) in the layout transformers.js reads,
 * before the app offers it: `config.json` (model_type qwen2), `tokenizer.json` with Qwen's special
 * tokens, `tokenizer_config.json` with a chat template (a base model has none and writes poor
 * rewrites), and `onnx/model{,_fp16,_q4f16,…}.onnx` whose graph has the decoder-with-cache contract:
 * inputs input_ids, attention_mask, position_ids and past_key_values.{i}.key/value; outputs logits
 * and present.{i}.key/value. Graphs are read with onnx-header.ts, so weights are never loaded.
 * No onnxruntime import: main runs this.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readOnnxHeader } from './onnx-header.ts';
import { ggufKvMbPerToken, inspectQwenGguf } from './qwen-gguf.ts';
import type { OnnxHeader, OnnxValueInfo } from './onnx-header.ts';
import type { ValidationReport } from './registry.ts';

/** transformers.js dtype names and the file each reads (`onnx/model<suffix>.onnx`). */
export const QWEN_DTYPE_FILES = {
  fp32: 'model.onnx',
  fp16: 'model_fp16.onnx',
  q4f16: 'model_q4f16.onnx',
  q4: 'model_q4.onnx',
  q8: 'model_quantized.onnx',
  int8: 'model_int8.onnx',
  uint8: 'model_uint8.onnx',
  bnb4: 'model_bnb4.onnx',
} as const;
export type QwenDtype = keyof typeof QWEN_DTYPE_FILES;

export interface QwenModelFile {
  readonly dtype: QwenDtype;
  /** Absolute path. */
  readonly file: string;
}

/** The decoder files transformers.js could load from this folder, in QWEN_DTYPE_FILES order. */
export function qwenModelFiles(folder: string): QwenModelFile[] {
  const dir = join(folder, 'onnx');
  return (Object.entries(QWEN_DTYPE_FILES) as [QwenDtype, string][])
    .filter(([, name]) => existsSync(join(dir, name)))
    .map(([dtype, name]) => ({ dtype, file: join(dir, name) }));
}

/**
 * Decoder files in order of preference: GPUs run fp16 activations with 4-bit weights best, CPUs
 * integer weights (fp16 on a CPU is emulated and slow). The pipeline loads by this order, and
 * the scheduler sizes the model by the file it will pick.
 */
export const QWEN_GPU_ORDER: readonly QwenDtype[] = ['q4f16', 'fp16', 'q4', 'fp32', 'q8', 'int8', 'uint8', 'bnb4'];
export const QWEN_CPU_ORDER: readonly QwenDtype[] = ['q4', 'q8', 'int8', 'uint8', 'fp32', 'bnb4', 'q4f16', 'fp16'];

/** The decoder file a provider would load (`requested` first when present), or null when the folder has none. */
export function preferredQwenFile(files: readonly QwenModelFile[], provider: string, requested?: QwenDtype): QwenModelFile | null {
  const order = requested ? [requested] : provider === 'cpu' ? QWEN_CPU_ORDER : QWEN_GPU_ORDER;
  for (const dtype of order) {
    const file = files.find((f) => f.dtype === dtype);
    if (file) return file;
  }
  return null;
}

const MB = 1024 * 1024;
/** Prompt (system prompt, example, idea ≈ 900 tokens) plus the longest rewrite. */
const PLANNED_TOKENS = 1400;

/**
 * VRAM the enhancer needs on a provider, sized from the one decoder file it will load (a folder
 * from onnx-community holds all eight variants, so the folder size would overstate it several
 * times): weights = that file and its external data; working memory = the KV cache for
 * PLANNED_TOKENS in the cache's type, the prompt pass's logits (exports without
 * num_logits_to_keep return them for all ~900 prompt positions), and 512 MB of activations.
 */
export function estimateQwenVram(folder: string, provider: string, requested?: QwenDtype): { weightsMb: number; perItemMb: number } | null {
  if (statSync(folder, { throwIfNoEntry: false })?.isFile()) return estimateGgufVram(folder);
  const file = preferredQwenFile(qwenModelFiles(folder), provider, requested);
  if (!file) return null;
  let bytes = statSync(file.file).size;
  let cacheBytes = file.dtype === 'fp16' || file.dtype === 'q4f16' ? 2 : 4;
  let vocab = 151936;
  let perTokenKv = 0;
  try {
    const header = readOnnxHeader(file.file);
    for (const [location] of header.externalData) {
      const data = join(folder, 'onnx', location);
      if (existsSync(data)) bytes += statSync(data).size;
    }
    const past = header.inputs.filter((i) => i.name.startsWith('past_key_values.'));
    for (const p of past) {
      const [, heads, , dim] = p.shape;
      if (typeof heads === 'number' && typeof dim === 'number') perTokenKv += heads * dim;
    }
    if (past[0]?.dtype === 'float32') cacheBytes = 4;
    const logits = header.outputs.find((o) => o.name === 'logits')?.shape[2];
    if (typeof logits === 'number') vocab = logits;
  } catch {
    // An unreadable file is the validator's to report; size it by its bytes alone.
  }
  const kv = perTokenKv * cacheBytes * PLANNED_TOKENS;
  const promptLogits = 900 * vocab * cacheBytes;
  return { weightsMb: Math.ceil((bytes * 1.1) / MB), perItemMb: Math.ceil((kv + promptLogits) / MB) + 512 };
}

/** Context llama.cpp allocates for the enhancer (llama.ts GGUF_CONTEXT_TOKENS; main does not import llama.cpp). */
const GGUF_CONTEXT_TOKENS = 4096;

/**
 * A GGUF on llama.cpp: its weights (every part of a split file) as stored, an f16 KV cache for the
 * whole context it allocates, and 512 MB of compute buffers (the logits of a 512-token batch
 * over Qwen's 152k vocabulary are 300 MB of it).
 */
function estimateGgufVram(path: string): { weightsMb: number; perItemMb: number } | null {
  const info = inspectQwenGguf(path);
  if (!info.ok) return null;
  const bytes = [info.path, ...info.parts].reduce((sum, p) => sum + (statSync(p, { throwIfNoEntry: false })?.size ?? 0), 0);
  return { weightsMb: Math.ceil((bytes * 1.05) / MB), perItemMb: Math.ceil(ggufKvMbPerToken(info.hyper) * GGUF_CONTEXT_TOKENS) + 512 };
}

const INTS = new Set(['int64', 'int32']);
const FLOATS = new Set(['float32', 'float16']);

interface QwenConfig {
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
}

function readJson(folder: string, name: string, problems: string[]): Record<string, unknown> | null {
  const path = join(folder, name);
  if (!existsSync(path)) {
    problems.push(`${name} is missing`);
    return null;
  }
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    problems.push(`${name} does not hold a JSON object`);
  } catch {
    problems.push(`${name} is not valid JSON (a truncated download?)`);
  }
  return null;
}

function positiveInt(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null;
}

function checkConfig(folder: string, problems: string[]): QwenConfig | null {
  const config = readJson(folder, 'config.json', problems);
  if (!config) return null;
  const type = String(config.model_type ?? '');
  if (type !== 'qwen2') {
    problems.push(
      `config.json has model_type "${type || 'none'}": the prompt enhancer runs Qwen2.5 text models (model_type qwen2)` +
        (/vl/.test(type) ? ', not vision-language ones' : ''),
    );
    return null;
  }
  const layers = positiveInt(config.num_hidden_layers);
  const heads = positiveInt(config.num_attention_heads);
  const hidden = positiveInt(config.hidden_size);
  const kvHeads = positiveInt(config.num_key_value_heads) ?? heads;
  if (layers === null || heads === null || hidden === null || kvHeads === null) {
    problems.push('config.json lacks num_hidden_layers, num_attention_heads or hidden_size');
    return null;
  }
  return { layers, kvHeads, headDim: positiveInt(config.head_dim) ?? hidden / heads };
}

function checkTokenizer(folder: string, problems: string[]): void {
  const tokenizer = readJson(folder, 'tokenizer.json', problems);
  if (tokenizer) {
    const added = Array.isArray(tokenizer.added_tokens) ? (tokenizer.added_tokens as { content?: unknown }[]) : [];
    const names = new Set(added.map((t) => String(t.content)));
    const model = tokenizer.model as Record<string, unknown> | undefined;
    if (!model || typeof model.vocab !== 'object') problems.push('tokenizer.json has no vocabulary (model.vocab)');
    const missing = ['<|im_start|>', '<|im_end|>'].filter((t) => !names.has(t));
    if (missing.length) problems.push(`tokenizer.json lacks Qwen's chat tokens ${missing.join(' and ')}: this is not a Qwen2.5 Instruct tokenizer`);
  }
  const config = readJson(folder, 'tokenizer_config.json', problems);
  if (config && !config.chat_template) {
    const separate = existsSync(join(folder, 'chat_template.jinja')) || existsSync(join(folder, 'chat_template.json'));
    if (!separate) {
      problems.push(
        'tokenizer_config.json has no chat_template: this looks like a base model — use a Qwen2.5 *Instruct* export (base models do not follow the rewrite instructions)',
      );
    }
  }
}

function describe(v: OnnxValueInfo): string {
  return `${v.dtype}[${v.shape.map((d) => d ?? '?').join(', ')}]`;
}

function checkDecoder(folder: string, entry: QwenModelFile, config: QwenConfig | null, problems: string[]): OnnxHeader | null {
  const rel = `onnx/${QWEN_DTYPE_FILES[entry.dtype]}`;
  let header: OnnxHeader;
  try {
    header = readOnnxHeader(entry.file);
  } catch (e) {
    problems.push(`${rel} cannot be read: ${(e as Error).message}`);
    return null;
  }
  for (const [location, needed] of header.externalData) {
    const data = join(folder, 'onnx', location);
    if (!existsSync(data)) problems.push(`onnx/${location} (the weights of ${rel}) is missing`);
    else if (statSync(data).size < needed) {
      problems.push(`onnx/${location} is shorter than ${rel} expects (${statSync(data).size} of ${needed} bytes): the download is incomplete`);
    }
  }
  const inputs = new Map(header.inputs.map((i) => [i.name, i]));
  const outputs = new Map(header.outputs.map((o) => [o.name, o]));
  for (const name of ['input_ids', 'attention_mask', 'position_ids']) {
    const input = inputs.get(name);
    if (!input) problems.push(`${rel} has no input '${name}' (inputs: ${[...inputs.keys()].slice(0, 6).join(', ') || 'none'})`);
    else if (!INTS.has(input.dtype)) problems.push(`${rel} input '${name}' is ${input.dtype}, expected int64`);
  }
  if (!outputs.has('logits')) problems.push(`${rel} has no output 'logits': export the model with its language-model head (text-generation-with-past)`);
  const pastNames = [...inputs.keys()].filter((n) => n.startsWith('past_key_values.'));
  if (pastNames.length === 0) {
    problems.push(`${rel} has no past_key_values inputs: export it with the KV cache (Optimum task text-generation-with-past), or generation is far too slow`);
    return header;
  }
  const layers = config?.layers ?? pastNames.length / 2;
  const missing: string[] = [];
  for (let i = 0; i < layers; i++) {
    for (const kind of ['key', 'value']) {
      const past = inputs.get(`past_key_values.${i}.${kind}`);
      const present = outputs.get(`present.${i}.${kind}`);
      if (!past) missing.push(`past_key_values.${i}.${kind}`);
      if (!present) missing.push(`present.${i}.${kind}`);
      if (!past || !config) continue;
      if (!FLOATS.has(past.dtype)) problems.push(`${rel} input 'past_key_values.${i}.${kind}' is ${past.dtype}, expected float32 or float16`);
      const [, heads, , dim] = past.shape;
      if (past.shape.length !== 4 || (typeof heads === 'number' && heads !== config.kvHeads) || (typeof dim === 'number' && dim !== config.headDim)) {
        problems.push(
          `${rel} input 'past_key_values.${i}.${kind}' is ${describe(past)}, expected [batch, ${config.kvHeads}, past_length, ${config.headDim}] from config.json`,
        );
      }
    }
  }
  if (missing.length) {
    problems.push(`${rel} lacks ${missing.length} cache tensor(s) for the ${layers} layers config.json names (first: ${missing.slice(0, 2).join(', ')}): the export does not match this config.json`);
  }
  return header;
}

export function validateQwen(folder: string): ValidationReport {
  const problems: string[] = [];
  const config = checkConfig(folder, problems);
  checkTokenizer(folder, problems);
  const files = qwenModelFiles(folder);
  if (files.length === 0) {
    const onnxDir = join(folder, 'onnx');
    const present = existsSync(onnxDir) ? readdirSync(onnxDir).filter((f) => f.endsWith('.onnx')) : [];
    const atRoot = existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith('.onnx')) : [];
    if (present.length) {
      problems.push(
        `onnx/ holds ${present.join(', ')} but transformers.js reads onnx/model.onnx or onnx/model_<dtype>.onnx (model_fp16, model_q4f16, model_q4, model_quantized…): rename the decoder with its cache to one of those`,
      );
    } else if (atRoot.length) {
      problems.push(`${atRoot.join(', ')} lies at the top of the folder; transformers.js reads it from onnx/ — move it (and its .onnx_data files) into onnx/`);
    } else {
      problems.push('onnx/model.onnx (or model_fp16.onnx, model_q4f16.onnx, model_q4.onnx…) is missing: no decoder to run');
    }
    return { problems, precision: 'unknown' };
  }
  const cacheTypes = new Set<string>();
  for (const entry of files) {
    const header = checkDecoder(folder, entry, config, problems);
    const past = header?.inputs.find((i) => i.name === 'past_key_values.0.key');
    if (past) cacheTypes.add(past.dtype);
  }
  const precision = cacheTypes.size > 1 ? 'mixed' : cacheTypes.has('float16') ? 'fp16' : cacheTypes.has('float32') ? 'fp32' : 'unknown';
  return { problems, precision };
}
