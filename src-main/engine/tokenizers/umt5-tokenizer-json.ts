/**
 * A Hugging Face `tokenizer.json` of a SentencePiece unigram tokenizer (T5 / mT5 / UMT5: what
 * transformers' converters write) read into the unigram model of umt5-unigram.ts and run as
 * huggingface/tokenizers runs it — the reference diffusers' WanPipeline uses — rather than through
 * sentencepiece's rules: added tokens (`</s>`, `<extra_id_N>`…) split out of the text first
 * (tokenizer/added_vocabulary.rs, leftmost-longest), then the normalizer pipeline (Precompiled,
 * applied per grapheme cluster as normalizers/precompiled.rs does; Strip; Replace; Unicode forms),
 * the pre-tokenizers (WhitespaceSplit, Metaspace), the unigram model per word in tokenizers' flavor
 * (float64 scores, the file's own `byte_fallback`), and the post-processor's template (`$A </s>`).
 *
 * Only the components these files use are implemented; any other one is refused with a sentence
 * that names it, so a tokenizer is never run half-understood.
 */
import { PrecompiledCharsmap, TokenizerFileError, UnigramModel, fromUtf8, toUtf8, type UnigramPiece } from './umt5-unigram.ts';

type Json = Record<string, unknown>;

/** Unicode White_Space, as Rust's `char::is_whitespace` and the regex crate's `\s`. */
const WHITE_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const LEADING_SPACE = new RegExp(`^[${WHITE_SPACE}]+`, 'u');
const TRAILING_SPACE = new RegExp(`[${WHITE_SPACE}]+$`, 'u');
const SPLIT_SPACE = new RegExp(`[${WHITE_SPACE}]+`, 'u');
/** The regex crate's Unicode `\w`. */
const WORD_START = /^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\u200c\u200d]/u;
const WORD_END = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\u200c\u200d]$/u;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

type Normalize = (text: string) => string;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function base64Bytes(value: unknown, origin: string): Uint8Array {
  if (typeof value !== 'string') throw new TokenizerFileError(`${origin}: its Precompiled normalizer has no precompiled_charsmap; get the tokenizer files again`);
  return new Uint8Array(Buffer.from(value, 'base64'));
}

/** normalizers/precompiled.rs: per grapheme cluster under 6 bytes the first (shortest) rule matching its start, else per character. */
function precompiled(charsmap: PrecompiledCharsmap): Normalize {
  const transform = (bytes: Uint8Array): string | null => {
    const found = charsmap.prefixes(bytes, 0, bytes.length, true);
    return found.length ? fromUtf8(charsmap.normalizedAt(found[0]!.value)) : null;
  };
  return (text) => {
    let out = '';
    for (const { segment } of graphemes.segment(text)) {
      const bytes = toUtf8(segment);
      if (bytes.length < 6) {
        const whole = transform(bytes);
        if (whole !== null) {
          out += whole;
          continue;
        }
      }
      for (const char of segment) out += transform(toUtf8(char)) ?? char;
    }
    return out;
  };
}

function normalizer(spec: unknown, origin: string): Normalize {
  if (spec === null || spec === undefined) return (t) => t;
  if (!isObject(spec)) throw new TokenizerFileError(`${origin}: its normalizer is not an object; the file is damaged`);
  switch (spec.type) {
    case 'Sequence': {
      const steps = (Array.isArray(spec.normalizers) ? spec.normalizers : []).map((n) => normalizer(n, origin));
      return (t) => steps.reduce((acc, step) => step(acc), t);
    }
    case 'Precompiled':
      return precompiled(new PrecompiledCharsmap(base64Bytes(spec.precompiled_charsmap, origin), `${origin} (Precompiled)`));
    case 'Strip': {
      const left = spec.strip_left === true;
      const right = spec.strip_right === true;
      return (t) => {
        let s = t;
        if (left) s = s.replace(LEADING_SPACE, '');
        if (right) s = s.replace(TRAILING_SPACE, '');
        return s;
      };
    }
    case 'Replace': {
      const pattern = isObject(spec.pattern) ? spec.pattern : {};
      const content = typeof spec.content === 'string' ? spec.content : '';
      if (typeof pattern.String === 'string') {
        const literal = pattern.String;
        return (t) => (literal === '' ? t : t.split(literal).join(content));
      }
      if (typeof pattern.Regex === 'string') {
        let re: RegExp;
        try {
          re = new RegExp(pattern.Regex, 'gu');
        } catch {
          throw new TokenizerFileError(`${origin}: its Replace normalizer's pattern ${JSON.stringify(pattern.Regex)} is not one the studio can run`);
        }
        return (t) => t.replace(re, () => content);
      }
      throw new TokenizerFileError(`${origin}: its Replace normalizer has no pattern; the file is damaged`);
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = spec.type;
      return (t) => t.normalize(form);
    }
    case 'Lowercase':
      return (t) => t.toLowerCase();
    default:
      throw new TokenizerFileError(`${origin} uses the normalizer ${JSON.stringify(spec.type)}, which the studio's UMT5 tokenizer does not implement`);
  }
}

/** A pre-token and whether it starts at the beginning of the whole input (Metaspace's "first" scheme). */
interface Piece {
  readonly text: string;
  readonly atStart: boolean;
}

type PreTokenize = (pieces: Piece[]) => Piece[];

function preTokenizer(spec: unknown, origin: string): PreTokenize {
  if (spec === null || spec === undefined) return (p) => p;
  if (!isObject(spec)) throw new TokenizerFileError(`${origin}: its pre_tokenizer is not an object; the file is damaged`);
  switch (spec.type) {
    case 'Sequence': {
      const steps = (Array.isArray(spec.pretokenizers) ? spec.pretokenizers : []).map((p) => preTokenizer(p, origin));
      return (pieces) => steps.reduce((acc, step) => step(acc), pieces);
    }
    case 'WhitespaceSplit':
      return (pieces) =>
        pieces.flatMap((p) => {
          const words = p.text.split(SPLIT_SPACE);
          const leading = p.text.length > 0 && LEADING_SPACE.test(p.text);
          return words.filter((w) => w !== '').map((w, i) => ({ text: w, atStart: p.atStart && i === 0 && !leading }));
        });
    case 'Metaspace': {
      const replacement = typeof spec.replacement === 'string' ? spec.replacement : '\u2581';
      let scheme = typeof spec.prepend_scheme === 'string' ? spec.prepend_scheme : 'always';
      if (spec.add_prefix_space === false) scheme = 'never';
      if (scheme !== 'always' && scheme !== 'first' && scheme !== 'never') {
        throw new TokenizerFileError(`${origin}: its Metaspace prepend_scheme ${JSON.stringify(scheme)} is not one tokenizers knows; the file is damaged`);
      }
      const split = spec.split !== false;
      return (pieces) =>
        pieces.flatMap((p) => {
          let text = p.text.split(' ').join(replacement);
          if (!text.startsWith(replacement) && (scheme === 'always' || (scheme === 'first' && p.atStart))) text = replacement + text;
          if (!split) return [{ text, atStart: p.atStart }];
          // SplitDelimiterBehavior::MergedWithNext: each replacement starts a new word.
          const words: Piece[] = [];
          let current = '';
          for (const char of text) {
            if (char === replacement && current !== '') {
              words.push({ text: current, atStart: p.atStart && words.length === 0 });
              current = '';
            }
            current += char;
          }
          if (current !== '') words.push({ text: current, atStart: p.atStart && words.length === 0 });
          return words;
        });
    }
    default:
      throw new TokenizerFileError(`${origin} uses the pre-tokenizer ${JSON.stringify(spec.type)}, which the studio's UMT5 tokenizer does not implement`);
  }
}

interface AddedToken {
  readonly id: number;
  readonly content: string;
  readonly lstrip: boolean;
  readonly rstrip: boolean;
  readonly singleWord: boolean;
}

/** Added tokens by their first UTF-16 unit, for the scan. */
type AddedIndex = ReadonlyMap<string, readonly AddedToken[]>;

function addedIndex(tokens: readonly AddedToken[]): AddedIndex {
  const index = new Map<string, AddedToken[]>();
  for (const t of tokens) {
    if (t.content === '') continue;
    const list = index.get(t.content[0]!) ?? [];
    list.push(t);
    index.set(t.content[0]!, list);
  }
  return index;
}

/** AddedVocabulary::find_matches: leftmost-longest matches, with their lstrip/rstrip/single_word rules; text between them as null. */
function splitAdded(text: string, tokens: AddedIndex): Array<{ text: string; token: AddedToken | null; start: number }> {
  if (tokens.size === 0 || text === '') return text === '' ? [] : [{ text, token: null, start: 0 }];
  const out: Array<{ text: string; token: AddedToken | null; start: number }> = [];
  let done = 0;
  let pos = 0;
  while (pos < text.length) {
    let found: AddedToken | null = null;
    for (const t of tokens.get(text[pos]!) ?? []) if (text.startsWith(t.content, pos) && (!found || t.content.length > found.content.length)) found = t;
    if (!found) {
      pos++;
      continue;
    }
    let start = pos;
    let stop = pos + found.content.length;
    if (found.singleWord && ((start > 0 && WORD_END.test(text.slice(0, start))) || (stop < text.length && WORD_START.test(text.slice(stop))))) {
      pos = stop; // the matcher's iteration goes on after a discarded match
      continue;
    }
    if (found.lstrip) start = Math.max(done, start - (text.slice(0, start).match(TRAILING_SPACE)?.[0].length ?? 0));
    if (found.rstrip) stop += text.slice(stop).match(LEADING_SPACE)?.[0].length ?? 0;
    if (done < start) out.push({ text: text.slice(done, start), token: null, start: done });
    out.push({ text: text.slice(start, stop), token: found, start });
    done = stop;
    pos = stop;
  }
  if (done < text.length) out.push({ text: text.slice(done), token: null, start: done });
  return out;
}

export interface TokenizerJsonParts {
  readonly model: UnigramModel;
  /** Ids of the text without special tokens, as tokenizers encodes it. */
  readonly encode: (text: string) => number[];
  /** The template's special tokens before and after the text (`$A </s>`: [] and [</s>]). */
  readonly prefix: readonly number[];
  readonly suffix: readonly number[];
}

function template(spec: unknown, origin: string): { prefix: number[]; suffix: number[] } {
  if (spec === null || spec === undefined) return { prefix: [], suffix: [] };
  if (!isObject(spec) || spec.type !== 'TemplateProcessing' || !Array.isArray(spec.single)) {
    const type = isObject(spec) ? spec.type : spec;
    throw new TokenizerFileError(`${origin} uses the post-processor ${JSON.stringify(type)}, which the studio's UMT5 tokenizer does not implement`);
  }
  const specials = isObject(spec.special_tokens) ? spec.special_tokens : {};
  const prefix: number[] = [];
  const suffix: number[] = [];
  let seenText = false;
  for (const item of spec.single as unknown[]) {
    if (isObject(item) && isObject(item.Sequence)) {
      seenText = true;
      continue;
    }
    const name = isObject(item) && isObject(item.SpecialToken) ? item.SpecialToken.id : undefined;
    const special = typeof name === 'string' && isObject(specials[name]) ? (specials[name] as Json) : null;
    const ids = special && Array.isArray(special.ids) ? (special.ids as unknown[]).filter((v): v is number => typeof v === 'number') : null;
    if (!ids) throw new TokenizerFileError(`${origin}: its post-processor template names a special token it does not define; the file is damaged`);
    (seenText ? suffix : prefix).push(...ids);
  }
  return { prefix, suffix };
}

/** Reads a parsed tokenizer.json (`origin` names it in messages). */
export function tokenizerJsonParts(json: unknown, origin: string): TokenizerJsonParts {
  if (!isObject(json) || !isObject(json.model)) throw new TokenizerFileError(`${origin} is not a tokenizer.json: it has no model`);
  const m = json.model;
  if (m.type !== 'Unigram') {
    throw new TokenizerFileError(`${origin} is a ${JSON.stringify(m.type)} tokenizer, not the SentencePiece unigram one UMT5 uses: it belongs to another model`);
  }
  if (!Array.isArray(m.vocab) || m.vocab.length === 0 || typeof m.unk_id !== 'number') {
    throw new TokenizerFileError(`${origin}: its unigram model has no vocabulary or no unknown id; get the tokenizer files again`);
  }
  const pieces: UnigramPiece[] = (m.vocab as unknown[]).map((entry) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') {
      throw new TokenizerFileError(`${origin}: its vocabulary has an entry that is not [piece, score]; the file is damaged`);
    }
    return { piece: entry[0], score: entry[1], type: 'normal' };
  });
  const model = new UnigramModel({ pieces, unkId: m.unk_id, byteFallback: m.byte_fallback === true, flavor: 'tokenizers' });
  const normalize = normalizer(json.normalizer, origin);
  const preTokenize = preTokenizer(json.pre_tokenizer, origin);
  const added = (Array.isArray(json.added_tokens) ? json.added_tokens : []).filter(isObject).map((t) => ({
    id: Number(t.id),
    content: String(t.content ?? ''),
    lstrip: t.lstrip === true,
    rstrip: t.rstrip === true,
    singleWord: t.single_word === true,
    // tokenizers' default when the file does not say: special tokens match the raw text, others the normalized one.
    normalized: typeof t.normalized === 'boolean' ? t.normalized : t.special !== true,
  }));
  const raw = addedIndex(added.filter((t) => !t.normalized));
  // A normalized added token matches its normalized form in the normalized text.
  const normalizedTokens = addedIndex(added.filter((t) => t.normalized).map((t) => ({ ...t, content: normalize(t.content) })));
  const { prefix, suffix } = template(json.post_processor, origin);

  const encode = (text: string): number[] => {
    const ids: number[] = [];
    for (const part of splitAdded(text, raw)) {
      if (part.token) {
        ids.push(part.token.id);
        continue;
      }
      for (const inner of splitAdded(normalize(part.text), normalizedTokens)) {
        if (inner.token) {
          ids.push(inner.token.id);
          continue;
        }
        for (const word of preTokenize([{ text: inner.text, atStart: part.start === 0 && inner.start === 0 }])) ids.push(...model.encode(word.text));
      }
    }
    return ids;
  };
  return { model, encode, prefix, suffix };
}
