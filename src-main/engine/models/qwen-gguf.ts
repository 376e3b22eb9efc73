/**
 * Says whether a GGUF file is a Qwen2.5 Instruct model the prompt enhancer can run on llama.cpp,
 * from its header alone (weights/gguf.ts): architecture qwen2, the qwen2.* hyperparameters, a
 * byte-level BPE vocabulary, a chat template (a base model has none and does not follow the
 * rewrite instructions), and the tensors those hyperparameters call for, with their shapes. The
 * size is named from the hyperparameters (Qwen2.5's config.json files), never the file name.
 *
 * Refused, each in one sentence: another architecture (named), a vision model or a vision
 * projector (mmproj), a base model, a file cut short, a damaged one. No llama.cpp import: main
 * runs this while listing models.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { WeightFileError } from '../weights/errors.ts';
import { GGUF_FILE_TYPES, ggufArray, ggufNumber, ggufString, readGgufHeaderSync } from '../weights/gguf.ts';
import type { GgufHeader } from '../weights/gguf.ts';

export interface QwenGgufHyper {
  readonly layers: number;
  readonly hidden: number;
  readonly ffn: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly contextLength: number;
  readonly vocab: number;
}

export interface QwenGgufInfo {
  readonly ok: true;
  readonly path: string;
  readonly sizeBytes: number;
  /** "7B" from the hyperparameters, or "1.2B-parameter" for a size Qwen2.5 does not come in. */
  readonly size: string;
  /** How the weights are stored, as file names say it (Q4_K_M, Q8_0, F16…). */
  readonly quantization: string;
  readonly name: string | null;
  readonly hyper: QwenGgufHyper;
  readonly parameters: number;
  /** What the studio found, in a sentence for the Models view. */
  readonly description: string;
  /** Other parts of a split file (…-00001-of-00002.gguf), which llama.cpp reads with this one. */
  readonly parts: readonly string[];
}

export interface QwenGgufRefusal {
  readonly ok: false;
  readonly path: string;
  /** What the file is, when known ("a llama model", "a vision projector"). */
  readonly what: string | null;
  readonly sentence: string;
  /** A later part of a split model: listed with its first part, not on its own. */
  readonly laterPart?: boolean;
}

export type QwenGgufInspection = QwenGgufInfo | QwenGgufRefusal;

/** Qwen2.5 sizes by (hidden, layers) — the Qwen2.5 Instruct config.json files. */
const QWEN25_SIZES: readonly (readonly [hidden: number, layers: number, size: string])[] = [
  [896, 24, '0.5B'],
  [1536, 28, '1.5B'],
  [2048, 36, '3B'],
  [3584, 28, '7B'],
  [5120, 48, '14B'],
  [5120, 64, '32B'],
  [8192, 80, '72B'],
];

/** The Qwen2.5 size with this width and depth ("7B"), or null for one Qwen2.5 does not come in. */
export function qwen25Size(hidden: number, layers: number): string | null {
  return QWEN25_SIZES.find(([h, l]) => h === hidden && l === layers)?.[2] ?? null;
}

const VISION_ARCHES = new Set(['clip', 'mmproj', 'qwen2vl', 'qwen25vl', 'qwen2_5_vl', 'qwen3vl', 'qwen3vlmoe', 'llava', 'mllama', 'minicpmv', 'cogvlm', 'qwen25omni', 'qwen2audio']);

const HELP = 'use a Qwen2.5 Instruct GGUF such as Qwen2.5-7B-Instruct-Q4_K_M.gguf';

function refuse(path: string, what: string | null, sentence: string): QwenGgufRefusal {
  return { ok: false, path, what, sentence };
}

function sizeLabel(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GB` : `${Math.max(1, Math.round(bytes / 1024 ** 2))} MB`;
}

/** The file-type label: general.file_type when present, else the most common matrix type. */
function quantization(header: GgufHeader): string {
  const ft = ggufNumber(header, 'general.file_type');
  const named = ft === null ? undefined : GGUF_FILE_TYPES.get(ft);
  if (named) return named;
  const counts = new Map<string, number>();
  for (const t of header.tensors.values()) if (t.dims.length >= 2) counts.set(t.type.name, (counts.get(t.type.name) ?? 0) + t.bytes);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'unknown';
}

const SPLIT = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i;

/** The sibling parts a split file's first part needs, and which are missing. */
function splitParts(path: string, count: number): { parts: string[]; missing: string[] } {
  const m = SPLIT.exec(basename(path));
  if (!m) return { parts: [], missing: [`the other ${count - 1} part(s)`] };
  const dir = dirname(path);
  const present = new Set(existsSync(dir) ? readdirSync(dir) : []);
  const parts: string[] = [];
  const missing: string[] = [];
  for (let i = 2; i <= count; i++) {
    const name = `${m[1]}-${String(i).padStart(5, '0')}-of-${m[3]}.gguf`;
    if (present.has(name)) parts.push(join(dir, name));
    else missing.push(name);
  }
  return { parts, missing };
}

function hyperparameters(header: GgufHeader, name: string): QwenGgufHyper | string {
  const need = (key: string): number | null => {
    const v = ggufNumber(header, `qwen2.${key}`);
    return v !== null && Number.isInteger(v) && v > 0 ? v : null;
  };
  const layers = need('block_count');
  const hidden = need('embedding_length');
  const ffn = need('feed_forward_length');
  const heads = need('attention.head_count');
  const kvHeads = need('attention.head_count_kv') ?? heads;
  const contextLength = need('context_length') ?? 32768;
  if (layers === null || hidden === null || ffn === null || heads === null || kvHeads === null) {
    return `${name} lacks Qwen2's hyperparameters (qwen2.block_count, embedding_length, feed_forward_length, attention.head_count): it was not converted by llama.cpp's converter — ${HELP}`;
  }
  if (hidden % heads !== 0 || heads % kvHeads !== 0) return `${name} is damaged: its ${heads} attention heads do not divide its width ${hidden} into key/value groups of ${kvHeads}`;
  const tokens = ggufArray(header, 'tokenizer.ggml.tokens');
  const vocab = tokens?.length ?? header.tensors.get('token_embd.weight')?.dims[1] ?? 0;
  return { layers, hidden, ffn, heads, kvHeads, headDim: hidden / heads, contextLength, vocab };
}

/** Tensors the hyperparameters call for that are missing or of another shape (first few). */
function tensorProblems(header: GgufHeader, h: QwenGgufHyper): string[] {
  const kv = h.kvHeads * h.headDim;
  const expected: [string, number[]][] = [
    ['token_embd.weight', [h.hidden, h.vocab]],
    ['output_norm.weight', [h.hidden]],
  ];
  for (let i = 0; i < h.layers; i++) {
    expected.push(
      [`blk.${i}.attn_norm.weight`, [h.hidden]],
      [`blk.${i}.attn_q.weight`, [h.hidden, h.hidden]],
      [`blk.${i}.attn_k.weight`, [h.hidden, kv]],
      [`blk.${i}.attn_v.weight`, [h.hidden, kv]],
      [`blk.${i}.attn_output.weight`, [h.hidden, h.hidden]],
      [`blk.${i}.ffn_norm.weight`, [h.hidden]],
      [`blk.${i}.ffn_gate.weight`, [h.hidden, h.ffn]],
      [`blk.${i}.ffn_up.weight`, [h.hidden, h.ffn]],
      [`blk.${i}.ffn_down.weight`, [h.ffn, h.hidden]],
    );
  }
  const problems: string[] = [];
  for (const [tensor, dims] of expected) {
    const found = header.tensors.get(tensor);
    if (!found) problems.push(`${tensor} is missing`);
    else if (found.dims.length !== dims.length || found.dims.some((d, i) => d !== dims[i])) {
      problems.push(`${tensor} is [${found.dims.join(', ')}], expected [${dims.join(', ')}]`);
    }
    if (problems.length >= 3) break;
  }
  return problems;
}

/** Reads the file's header and says whether it is a Qwen2.5 Instruct GGUF the enhancer can run. */
export function inspectQwenGguf(path: string): QwenGgufInspection {
  const name = basename(path);
  let header: GgufHeader;
  try {
    header = readGgufHeaderSync(path);
  } catch (e) {
    if (e instanceof WeightFileError) return refuse(path, e.code === 'wrong_kind' ? null : 'a GGUF file', e.message);
    throw e;
  }
  const arch = ggufString(header, 'general.architecture') ?? '';
  const type = ggufString(header, 'general.type') ?? '';
  const modelName = ggufString(header, 'general.name');
  const called = modelName ? ` (${modelName})` : '';
  if (type === 'mmproj' || arch === 'clip' || arch === 'mmproj') {
    return refuse(path, 'a vision projector', `${name} is a vision projector (mmproj${called}) that goes beside a vision model, not a language model: the prompt enhancer needs a Qwen2.5 Instruct text model — ${HELP}`);
  }
  if (VISION_ARCHES.has(arch) || /vl$|vision/.test(arch)) {
    return refuse(path, `a ${arch} model`, `${name} is a vision model (architecture ${arch}${called}), not a Qwen2.5 text model: the prompt enhancer runs text-only Qwen2.5 Instruct — ${HELP}`);
  }
  if (arch !== 'qwen2') {
    const what = arch ? `a ${arch} model` : 'a GGUF without an architecture';
    return refuse(path, what, `${name} is ${what}${called}, not Qwen2.5 (architecture qwen2): the prompt enhancer runs Qwen2.5 Instruct only — ${HELP}`);
  }
  const splitCount = ggufNumber(header, 'split.count') ?? 1;
  const splitNo = ggufNumber(header, 'split.no') ?? 0;
  if (splitCount > 1 && splitNo > 0) {
    return { ...refuse(path, 'a later part of a split model', `${name} is part ${splitNo + 1} of ${splitCount} of a split model: add its first part (…-00001-of-${String(splitCount).padStart(5, '0')}.gguf), which reads the rest`), laterPart: true };
  }
  const hyper = hyperparameters(header, name);
  if (typeof hyper === 'string') return refuse(path, 'a qwen2 model', hyper);
  const tokenizerModel = ggufString(header, 'tokenizer.ggml.model');
  if (tokenizerModel !== 'gpt2' || hyper.vocab === 0) {
    return refuse(path, 'a qwen2 model', `${name} has no byte-level BPE vocabulary (tokenizer.ggml.model is ${tokenizerModel ?? 'missing'}, expected gpt2): it was converted without its tokenizer — ${HELP}`);
  }
  const template = ggufString(header, 'tokenizer.chat_template');
  if (!template || !template.includes('<|im_start|>')) {
    return refuse(
      path,
      'a base model',
      template
        ? `${name} has a chat template without Qwen's <|im_start|> turns: it is not a Qwen2.5 Instruct model — ${HELP}`
        : `${name} is a base model, not Instruct: it has no chat template (tokenizer.chat_template), and base models do not follow the rewrite instructions — ${HELP}`,
    );
  }
  let parts: string[] = [];
  if (splitCount > 1) {
    const split = splitParts(path, splitCount);
    if (split.missing.length) {
      return refuse(path, 'a split model', `${name} is the first of ${splitCount} parts, but ${split.missing.join(', ')} ${split.missing.length > 1 ? 'are' : 'is'} not beside it: put every part in the same folder`);
    }
    parts = split.parts;
  } else {
    const problems = tensorProblems(header, hyper);
    if (problems.length) return refuse(path, 'a qwen2 model', `${name} does not match its own hyperparameters (${problems.join('; ')}): the file is damaged or mis-converted — download it again`);
  }
  let parameters = 0;
  for (const t of header.tensors.values()) parameters += t.dims.reduce((a, b) => a * b, 1);
  const size = qwen25Size(hyper.hidden, hyper.layers) ?? `${parameters >= 1e9 ? `${(parameters / 1e9).toFixed(1)}B` : `${Math.max(1, Math.round(parameters / 1e6))}M`}-parameter`;
  const quant = quantization(header);
  return {
    ok: true,
    path,
    sizeBytes: header.size,
    size,
    quantization: quant,
    name: modelName,
    hyper,
    parameters,
    description: `Qwen2.5 ${size} Instruct, GGUF ${quant}, ${sizeLabel(header.size)}${parts.length ? ` in ${parts.length + 1} parts` : ''} (runs on llama.cpp)`,
    parts,
  };
}

/** MB of KV cache per token at f16 (llama.cpp's default cache type): K and V for every layer. */
export function ggufKvMbPerToken(h: QwenGgufHyper): number {
  return (2 * h.layers * h.kvHeads * h.headDim * 2) / (1024 * 1024);
}
