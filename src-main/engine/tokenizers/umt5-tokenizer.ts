/**
 * WAN's UMT5 tokenizer from whichever file a model brings: a diffusers folder's
 * `tokenizer/tokenizer.json` (run as huggingface/tokenizers runs it: what diffusers' WanPipeline
 * gets), a `spiece.model`, or the `spiece_model` bytes ComfyUI stores inside
 * `umt5_xxl_fp16.safetensors` (run as sentencepiece runs it: what ComfyUI gets). Both end in the
 * same unigram model; the ids are identical wherever the two references agree, which is every
 * prompt except four kinds (tests/fixtures/reference/wan/umt5-tokenizer.md): characters outside
 * the vocabulary when the tokenizer.json turned SentencePiece's byte fallback off (transformers'
 * converters do: `<unk>` instead of the character's bytes), combining marks, half-width kana and
 * Hangul jamo that tokenizers' per-grapheme normalization treats differently, U+0085 (a space to
 * tokenizers' WhitespaceSplit), and text spelling a special token ("</s>").
 *
 * `encode` gives the ids WAN's pipeline feeds (diffusers `_get_t5_prompt_embeds`): the prompt's
 * tokens cut to fit, `</s>`, then `<pad>` up to the length.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readTensorBytes, type SafetensorsHeader } from '../weights/safetensors.ts';
import { spieceTokenizerParts } from './umt5-spiece.ts';
import { tokenizerJsonParts } from './umt5-tokenizer-json.ts';
import { TokenizerFileError, fromUtf8 } from './umt5-unigram.ts';

export { TokenizerFileError } from './umt5-unigram.ts';

export type Umt5TokenizerSource = 'tokenizer.json' | 'spiece.model';

export interface Umt5TokenizedPrompt {
  /** Exactly `maxLength` ids: the tokens, `</s>`, then `<pad>`. */
  readonly ids: Int32Array;
  /** Real tokens including `</s>` (diffusers' seq_len = attention_mask.sum()). */
  readonly length: number;
  /** True when the prompt was cut to fit. */
  readonly truncated: boolean;
}

/** The tensor ComfyUI's UMT5 checkpoints carry their SentencePiece model in. */
export const SPIECE_TENSOR = 'spiece_model';

function tokenName(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && 'content' in value) return String((value as { content: unknown }).content);
  return null;
}

export class Umt5UnigramTokenizer {
  readonly source: Umt5TokenizerSource;
  readonly padId: number;
  readonly eosId: number | null;
  readonly vocabSize: number;
  readonly #encode: (text: string) => number[];
  readonly #prefix: readonly number[];
  readonly #suffix: readonly number[];

  private constructor(parts: {
    source: Umt5TokenizerSource;
    padId: number;
    eosId: number | null;
    vocabSize: number;
    encode: (text: string) => number[];
    prefix: readonly number[];
    suffix: readonly number[];
  }) {
    this.source = parts.source;
    this.padId = parts.padId;
    this.eosId = parts.eosId;
    this.vocabSize = parts.vocabSize;
    this.#encode = parts.encode;
    this.#prefix = parts.prefix;
    this.#suffix = parts.suffix;
  }

  /** From a parsed tokenizer.json and, when the folder has one, its tokenizer_config.json (pad and end tokens). */
  static fromTokenizerJson(json: unknown, config: Record<string, unknown> = {}, origin = 'tokenizer.json'): Umt5UnigramTokenizer {
    const parts = tokenizerJsonParts(json, origin);
    const pad = tokenName(config.pad_token) ?? '<pad>';
    const padId = parts.model.idOf(pad);
    if (padId === undefined) throw new TokenizerFileError(`${origin} has no padding token ${pad}: it is not UMT5's tokenizer`);
    return new Umt5UnigramTokenizer({
      source: 'tokenizer.json',
      padId,
      eosId: parts.model.idOf(tokenName(config.eos_token) ?? '</s>') ?? null,
      vocabSize: parts.model.size,
      encode: parts.encode,
      prefix: parts.prefix,
      suffix: parts.suffix,
    });
  }

  /** From a SentencePiece ModelProto; `</s>` is appended as T5 and ComfyUI (add_eos) do. */
  static fromSpieceModel(bytes: Uint8Array, origin = 'spiece.model'): Umt5UnigramTokenizer {
    const { model, normalizer, eosId, padId } = spieceTokenizerParts(bytes, origin);
    return new Umt5UnigramTokenizer({
      source: 'spiece.model',
      padId,
      eosId,
      vocabSize: model.size,
      encode: (text) => model.encode(fromUtf8(normalizer.normalize(text))),
      prefix: [],
      suffix: [eosId],
    });
  }

  /** The prompt's ids, with the end token unless `addSpecialTokens` is false. */
  ids(text: string, addSpecialTokens = true): number[] {
    const ids = this.#encode(text);
    return addSpecialTokens ? [...this.#prefix, ...ids, ...this.#suffix] : ids;
  }

  /** `maxLength` ids as WAN's pipeline feeds them; the prompt's tokens are cut first, the end token kept (tokenizers' truncation). */
  encode(text: string, maxLength: number): Umt5TokenizedPrompt {
    const tokens = this.#encode(text);
    const room = Math.max(0, maxLength - this.#prefix.length - this.#suffix.length);
    const kept = [...this.#prefix, ...tokens.slice(0, room), ...this.#suffix].slice(0, maxLength);
    const ids = new Int32Array(maxLength).fill(this.padId);
    ids.set(kept);
    return { ids, length: kept.length, truncated: tokens.length > room };
  }
}

/**
 * The tokenizer of a model folder: `tokenizer.json` when there is one (with `tokenizer_config.json`),
 * else `spiece.model`. Looks in `dir` itself (a diffusers `tokenizer/` folder or a google/umt5-xxl one).
 */
export async function loadUmt5Tokenizer(dir: string): Promise<Umt5UnigramTokenizer> {
  const jsonPath = join(dir, 'tokenizer.json');
  if (existsSync(jsonPath)) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(jsonPath, 'utf8'));
    } catch {
      throw new TokenizerFileError(`${jsonPath} is not valid JSON: the file is damaged; get the tokenizer files again`);
    }
    const configPath = join(dir, 'tokenizer_config.json');
    const config = existsSync(configPath) ? (JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>) : {};
    return Umt5UnigramTokenizer.fromTokenizerJson(json, config, jsonPath);
  }
  const spiecePath = join(dir, 'spiece.model');
  if (existsSync(spiecePath)) return Umt5UnigramTokenizer.fromSpieceModel(new Uint8Array(await readFile(spiecePath)), spiecePath);
  throw new TokenizerFileError(`${dir} has no tokenizer.json or spiece.model: add the UMT5 tokenizer files (google/umt5-xxl's) to the model`);
}

/** The SentencePiece model a ComfyUI UMT5 checkpoint carries as its `spiece_model` tensor. */
export async function umt5TokenizerFromSafetensors(header: SafetensorsHeader): Promise<Umt5UnigramTokenizer> {
  const entry = header.tensors.get(SPIECE_TENSOR);
  const name = basename(header.path);
  if (!entry) throw new TokenizerFileError(`${name} carries no tokenizer (no ${SPIECE_TENSOR} tensor): add the UMT5 tokenizer files (google/umt5-xxl's tokenizer.json or spiece.model)`);
  if ((entry.dtype !== 'U8' && entry.dtype !== 'I8') || entry.shape.length !== 1) {
    throw new TokenizerFileError(`${name}: its ${SPIECE_TENSOR} tensor is ${entry.dtype} [${entry.shape.join(', ')}] where a SentencePiece model is a 1-D byte tensor; the file is damaged`);
  }
  const bytes = await readTensorBytes(header, SPIECE_TENSOR);
  return Umt5UnigramTokenizer.fromSpieceModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), `${name}: ${SPIECE_TENSOR}`);
}
