/**
 * CLIP byte-level BPE tokenizer, loaded from the `tokenizer/` or `tokenizer_2/` folder of an
 * Optimum/diffusers SDXL export (vocab.json, merges.txt, tokenizer_config.json,
 * special_tokens_map.json).
 *
 * Behaviour follows, read as references (no code copied):
 * - openai/CLIP `clip/simple_tokenizer.py`: byte→unicode table, pre-tokenizer regex, BPE merge loop,
 *   `</w>` end-of-word marker, special tokens written in the text map to their own ids.
 * - transformers `models/clip/tokenization_clip.py`, the path taken without ftfy (BasicTokenizer with
 *   strip_accents=False, do_split_on_punc=False): drop control characters, space out CJK ideographs,
 *   NFC, whitespace collapse, lower-case. Like transformers, the text is always lower-cased;
 *   `do_lower_case` in tokenizer_config.json is not consulted by the reference either.
 *
 * One deliberate difference from transformers: SDXL's tokenizer_2 declares `!` as its pad token, and
 * transformers then also splits every `!` in the prompt out as that special token
 * (huggingface/diffusers#4153). SDXL was trained with open_clip's tokenizer, which does not, and
 * AUTOMATIC1111 and ComfyUI follow open_clip; so do we: the pad token only matters for padding.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The files of a tokenizer folder, as text. The two config files are optional. */
export interface ClipTokenizerFiles {
  vocabJson: string;
  mergesTxt: string;
  tokenizerConfigJson?: string;
  specialTokensMapJson?: string;
}

/** GPT-2/CLIP reversible byte→unicode table: printable bytes map to themselves, the rest to 256+n. */
function buildByteToUnicode(): string[] {
  const table = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCodePoint(printable ? b : 256 + extra++);
  }
  return table;
}

const BYTE_TO_UNICODE = buildByteToUnicode();
const UNICODE_TO_BYTE = new Map(BYTE_TO_UNICODE.map((ch, b) => [ch, b]));
const UTF8 = new TextEncoder();

/**
 * CLIP's pre-tokenizer: the two special tokens, English contractions, runs of letters, single digits,
 * runs of anything else that is not whitespace.
 */
const PRE_TOKENIZER = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/giu;

/** transformers BasicTokenizer `_is_chinese_char`: the CJK Unified Ideographs blocks. */
function isCjkIdeograph(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

const CONTROL = /\p{C}/u;
const SPACE_SEPARATOR = /\p{Zs}/u;
const NEEDS_SLOW_CLEAN = /[^\x20-\x7e]/;

/**
 * Text cleanup of transformers' CLIPTokenizer without ftfy: control and format characters
 * (category C, except tab/newline/CR) and U+FFFD are dropped, whitespace becomes a space, CJK
 * ideographs get spaces around them, NFC, lower-case, runs of whitespace collapse to one space,
 * no leading/trailing space.
 */
export function normalizeClipText(text: string): string {
  let cleaned = text;
  if (NEEDS_SLOW_CLEAN.test(text)) {
    let out = '';
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || SPACE_SEPARATOR.test(ch)) {
        out += ' ';
      } else if (cp === 0 || cp === 0xfffd || CONTROL.test(ch)) {
        continue;
      } else if (isCjkIdeograph(cp)) {
        out += ` ${ch} `;
      } else {
        out += ch;
      }
    }
    cleaned = out.normalize('NFC');
  }
  return cleaned
    .split(/\s+/u)
    .filter((word) => word.length > 0)
    .map((word) => word.toLowerCase())
    .join(' ');
}

/** A special token in a config file is either a plain string or an AddedToken object. */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

function parseJsonObject(text: string, file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}). Re-export or re-download the model.`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${file} should hold a JSON object. Re-export or re-download the model.`);
  }
  return parsed as Record<string, unknown>;
}

const CACHE_LIMIT = 50_000;

export class ClipTokenizer {
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly unkId: number;
  /** Sequence length the text encoder takes, start and end tokens included (77 for CLIP). */
  readonly modelMaxLength: number;
  readonly vocabSize: number;

  private readonly tokenToIdMap: Map<string, number>;
  private readonly idToTokenList: string[];
  private readonly mergeRanks: Map<string, number>;
  private readonly cache = new Map<string, readonly number[]>();

  private constructor(
    vocab: Map<string, number>,
    mergeRanks: Map<string, number>,
    special: { bos: number; eos: number; pad: number; unk: number },
    modelMaxLength: number,
  ) {
    this.tokenToIdMap = vocab;
    this.mergeRanks = mergeRanks;
    this.bosId = special.bos;
    this.eosId = special.eos;
    this.padId = special.pad;
    this.unkId = special.unk;
    this.modelMaxLength = modelMaxLength;
    this.idToTokenList = [];
    for (const [token, id] of vocab) this.idToTokenList[id] = token;
    this.vocabSize = this.idToTokenList.length;
  }

  /** Loads a tokenizer folder such as `<model>/tokenizer_2`. */
  static async fromDirectory(dir: string): Promise<ClipTokenizer> {
    const read = async (name: string, required: boolean): Promise<string | undefined> => {
      try {
        return await readFile(join(dir, name), 'utf8');
      } catch (err) {
        if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new Error(`Cannot read ${name} in the tokenizer folder ${dir}: ${(err as Error).message}. ` +
          'Check that the model folder is a complete SDXL export.');
      }
    };
    const [vocabJson, mergesTxt, tokenizerConfigJson, specialTokensMapJson] = await Promise.all([
      read('vocab.json', true),
      read('merges.txt', true),
      read('tokenizer_config.json', false),
      read('special_tokens_map.json', false),
    ]);
    return ClipTokenizer.fromFiles({ vocabJson: vocabJson!, mergesTxt: mergesTxt!, tokenizerConfigJson, specialTokensMapJson });
  }

  static fromFiles(files: ClipTokenizerFiles): ClipTokenizer {
    const vocabObject = parseJsonObject(files.vocabJson, 'vocab.json');
    const vocab = new Map<string, number>();
    for (const [token, id] of Object.entries(vocabObject)) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
        throw new Error(`vocab.json maps "${token}" to ${String(id)}, not a token id. Re-export the model.`);
      }
      vocab.set(token, id);
    }

    const mergeRanks = new Map<string, number>();
    const lines = files.mergesTxt.split('\n');
    let rank = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === '' || (i === 0 && line.startsWith('#version'))) continue;
      const parts = line.split(' ');
      if (parts.length !== 2) {
        throw new Error(`merges.txt line ${i + 1} should hold two symbols: "${line}". Re-export the model.`);
      }
      mergeRanks.set(line, rank++);
    }

    const config = files.tokenizerConfigJson ? parseJsonObject(files.tokenizerConfigJson, 'tokenizer_config.json') : {};
    const specialMap = files.specialTokensMapJson ? parseJsonObject(files.specialTokensMapJson, 'special_tokens_map.json') : {};

    // Tokens declared only in tokenizer_config's added_tokens_decoder still have ids.
    const addedDecoder = config['added_tokens_decoder'];
    if (addedDecoder && typeof addedDecoder === 'object') {
      for (const [idText, entry] of Object.entries(addedDecoder as Record<string, unknown>)) {
        const content = tokenContent(entry);
        const id = Number(idText);
        if (content !== undefined && Number.isInteger(id) && !vocab.has(content)) vocab.set(content, id);
      }
    }

    // As in transformers' from_pretrained, special_tokens_map.json overrides tokenizer_config.json;
    // the CLIPTokenizer defaults apply only where neither file names the token.
    const defaults = { bos: '<|startoftext|>', eos: '<|endoftext|>', pad: '<|endoftext|>', unk: '<|endoftext|>' };
    const resolve = (key: 'bos' | 'eos' | 'pad' | 'unk'): number => {
      const name = `${key}_token`;
      const content = tokenContent(specialMap[name]) ?? tokenContent(config[name]) ?? defaults[key];
      const id = vocab.get(content);
      if (id === undefined) {
        throw new Error(`The tokenizer's ${name} "${content}" is not in vocab.json. Re-export the model.`);
      }
      return id;
    };
    const special = { bos: resolve('bos'), eos: resolve('eos'), pad: resolve('pad'), unk: resolve('unk') };

    const maxLength = config['model_max_length'];
    if (typeof maxLength !== 'number' || !Number.isInteger(maxLength) || maxLength < 3 || maxLength > 1_000_000) {
      throw new Error('tokenizer_config.json has no usable model_max_length (CLIP exports say 77). ' +
        'Re-export the model with its tokenizer config.');
    }
    return new ClipTokenizer(vocab, mergeRanks, special, maxLength);
  }

  /** Token ids of `text`, without start, end or padding tokens. */
  encode(text: string): number[] {
    const ids: number[] = [];
    const normalized = normalizeClipText(text);
    if (normalized === '') return ids;
    for (const match of normalized.matchAll(PRE_TOKENIZER)) {
      const word = match[0];
      let wordIds = this.cache.get(word);
      if (wordIds === undefined) {
        wordIds = this.encodeWord(word);
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
        this.cache.set(word, wordIds);
      }
      for (const id of wordIds) ids.push(id);
    }
    return ids;
  }

  idToToken(id: number): string | undefined {
    return this.idToTokenList[id];
  }

  tokenToId(token: string): number | undefined {
    return this.tokenToIdMap.get(token);
  }

  /** Text of token ids (as transformers' convert_tokens_to_string: `</w>` becomes a space, trimmed). */
  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    for (const id of ids) {
      const token = this.idToTokenList[id];
      if (token === undefined) continue;
      if (token === '<|startoftext|>' || token === '<|endoftext|>') {
        for (const b of UTF8.encode(token)) bytes.push(b);
        continue;
      }
      const body = token.endsWith('</w>') ? token.slice(0, -4) : token;
      for (const ch of body) bytes.push(UNICODE_TO_BYTE.get(ch) ?? 0x3f);
      if (body !== token) bytes.push(0x20);
    }
    return new TextDecoder('utf-8', { fatal: false }).decode(new Uint8Array(bytes)).trim();
  }

  private encodeWord(word: string): readonly number[] {
    if (word === '<|startoftext|>' || word === '<|endoftext|>') {
      return [this.tokenToIdMap.get(word) ?? this.unkId];
    }
    let symbols: string[] = [];
    for (const byte of UTF8.encode(word)) symbols.push(BYTE_TO_UNICODE[byte]!);
    symbols[symbols.length - 1] += '</w>';
    symbols = this.bpe(symbols);
    return symbols.map((s) => this.tokenToIdMap.get(s) ?? this.unkId);
  }

  /** Repeatedly merges the adjacent pair with the lowest merge rank, every occurrence at once. */
  private bpe(symbols: string[]): string[] {
    let word = symbols;
    while (word.length > 1) {
      let bestRank = Infinity;
      let bestFirst = '';
      let bestSecond = '';
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.mergeRanks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          bestFirst = word[i]!;
          bestSecond = word[i + 1]!;
        }
      }
      if (bestRank === Infinity) break;
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i < word.length - 1 && word[i] === bestFirst && word[i + 1] === bestSecond) {
          merged.push(bestFirst + bestSecond);
          i++;
        } else {
          merged.push(word[i]!);
        }
      }
      word = merged;
    }
    return word;
  }
}
