/**
 * UMT5 tokenization for WAN through @huggingface/tokenizers reading the export's
 * `tokenizer/tokenizer.json` (+ `tokenizer_config.json`), as diffusers' WanPipeline calls the
 * fast T5 tokenizer: `padding="max_length", max_length=512, truncation=True,
 * add_special_tokens=True`. Truncation keeps the end-of-sequence token, as the Rust tokenizers'
 * truncation does (special tokens are added after truncating).
 *
 * A folder without tokenizer.json — a model the studio prepared from ComfyUI's UMT5 file, whose
 * SentencePiece model it wrote out as `tokenizer/spiece.model` — is read by the project's unigram
 * tokenizer (tokenizers/umt5-tokenizer.ts, run as sentencepiece runs it: what ComfyUI gets).
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { Umt5UnigramTokenizer } from '../../tokenizers/umt5-tokenizer.ts';

export interface TokenizedPrompt {
  /** Exactly `maxLength` ids: the tokens, `</s>`, then `<pad>`. */
  readonly ids: Int32Array;
  /** Real tokens including `</s>` (diffusers' seq_len = attention_mask.sum()). */
  readonly length: number;
  /** True when the prompt was cut to fit. */
  readonly truncated: boolean;
}

export class Umt5Tokenizer {
  readonly padId: number;
  readonly eosId: number | null;
  readonly #tokenizer: Tokenizer | null = null;
  readonly #spiece: Umt5UnigramTokenizer | null = null;

  constructor(tokenizerJson: Record<string, unknown>, config: Record<string, unknown>);
  constructor(spiece: Umt5UnigramTokenizer);
  constructor(source: Record<string, unknown> | Umt5UnigramTokenizer, config: Record<string, unknown> = {}) {
    if (source instanceof Umt5UnigramTokenizer) {
      this.#spiece = source;
      this.padId = source.padId;
      this.eosId = source.eosId;
      return;
    }
    this.#tokenizer = new Tokenizer(source, config);
    const tokenName = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'object' && v && 'content' in v ? String((v as { content: unknown }).content) : null);
    const pad = tokenName(config.pad_token) ?? '<pad>';
    const eos = tokenName(config.eos_token) ?? '</s>';
    const padId = this.#tokenizer.token_to_id(pad);
    if (padId === undefined) throw new Error(`the tokenizer has no pad token '${pad}'`);
    this.padId = padId;
    this.eosId = this.#tokenizer.token_to_id(eos) ?? null;
  }

  /** tokenizer.json (+ tokenizer_config.json) when the folder has it, else spiece.model. */
  static async fromDirectory(dir: string): Promise<Umt5Tokenizer> {
    if (!existsSync(join(dir, 'tokenizer.json')) && existsSync(join(dir, 'spiece.model'))) {
      const bytes = await readFile(join(dir, 'spiece.model'));
      return new Umt5Tokenizer(Umt5UnigramTokenizer.fromSpieceModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), join(dir, 'spiece.model')));
    }
    const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    const configPath = join(dir, 'tokenizer_config.json');
    const config = existsSync(configPath) ? (JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>) : {};
    return new Umt5Tokenizer(json, config);
  }

  encode(text: string, maxLength: number): TokenizedPrompt {
    if (this.#spiece) return this.#spiece.encode(text, maxLength);
    if (!this.#tokenizer) throw new Error('no tokenizer');
    let ids = this.#tokenizer.encode(text, { add_special_tokens: true }).ids;
    let truncated = false;
    if (ids.length > maxLength) {
      // Cut the text's tokens, then add the special tokens back (T5's template appends `</s>`).
      const plain = this.#tokenizer.encode(text, { add_special_tokens: false }).ids;
      const specials = ids.length - plain.length;
      const tail = ids.slice(plain.length);
      ids = [...plain.slice(0, Math.max(0, maxLength - specials)), ...tail].slice(0, maxLength);
      truncated = true;
    }
    const out = new Int32Array(maxLength).fill(this.padId);
    out.set(ids);
    return { ids: out, length: ids.length, truncated };
  }
}
