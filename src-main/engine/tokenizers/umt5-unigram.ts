/**
 * The parts of a SentencePiece unigram tokenizer (UMT5's) that its two file forms share: the
 * precompiled normalization map both carry (`precompiled_charsmap`, a darts-clone double-array trie
 * of byte sequences to their normalized forms), and the unigram model — Viterbi segmentation of the
 * normalized text into the pieces of highest total log-probability, unknown characters, byte
 * fallback. Facts from google/sentencepiece (src/normalizer.cc, src/unigram_model.cc
 * `EncodeOptimized`, src/sentencepiece_processor.cc, third_party/darts_clone/darts.h) and
 * huggingface/tokenizers (models/unigram/model.rs `encode_optimized`, `tokenize`); the two differ
 * in small ways, and each file form follows its own reference (see {@link UnigramFlavor}).
 *
 * Normalization works on UTF-8 bytes, as both references do; the segmentation on the normalized
 * text's code points, with the pieces in one Map (no trie), so a 256k-piece vocabulary loads in a
 * fraction of a second.
 */

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

export function toUtf8(text: string): Uint8Array {
  return utf8.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/** Length of the UTF-8 sequence a lead byte starts (sentencepiece's OneCharLen: continuation bytes count 1). */
export function utf8Length(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead < 0xc0) return 1;
  if (lead < 0xe0) return 2;
  if (lead < 0xf0) return 3;
  return 4;
}

export class TokenizerFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerFileError';
  }
}

/**
 * sentencepiece's precompiled normalization map: `<uint32 trie bytes><double-array trie><normalized
 * strings, NUL-terminated>`; the trie maps byte sequences to offsets into the strings.
 */
export class PrecompiledCharsmap {
  readonly #units: Uint32Array;
  readonly #normalized: Uint8Array;

  constructor(blob: Uint8Array, origin: string) {
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieBytes = blob.byteLength >= 4 ? view.getUint32(0, true) : 0;
    if (blob.byteLength <= 4 || trieBytes >= blob.byteLength || trieBytes % 4 !== 0 || trieBytes === 0) {
      throw new TokenizerFileError(`${origin}: its normalization map (precompiled_charsmap) is damaged; get the tokenizer files again`);
    }
    const units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < units.length; i++) units[i] = view.getUint32(4 + i * 4, true);
    this.#units = units;
    this.#normalized = blob.subarray(4 + trieBytes);
  }

  /**
   * darts-clone `commonPrefixSearch`: every key that is a prefix of bytes[start, end), shortest
   * first, as (length, value). Stops at a NUL byte when `stopAtNul` (the Rust port does).
   */
  prefixes(bytes: Uint8Array, start: number, end: number, stopAtNul: boolean): Array<{ length: number; value: number }> {
    const units = this.#units;
    const results: Array<{ length: number; value: number }> = [];
    let unit = units[0]!;
    let node = offsetOf(unit);
    for (let i = start; i < end; i++) {
      const c = bytes[i]!;
      if (stopAtNul && c === 0) break;
      node ^= c;
      unit = units[node] ?? 0;
      // A leaf unit's label has its top bit set, so it never equals a byte.
      if ((unit & 0x800000ff) >>> 0 !== c) return results;
      node ^= offsetOf(unit);
      if ((unit >>> 8) & 1) results.push({ length: i - start + 1, value: (units[node] ?? 0) & 0x7fffffff });
    }
    return results;
  }

  /** The NUL-terminated normalized bytes at `offset`. */
  normalizedAt(offset: number): Uint8Array {
    let end = offset;
    while (end < this.#normalized.length && this.#normalized[end] !== 0) end++;
    return this.#normalized.subarray(offset, end);
  }
}

function offsetOf(unit: number): number {
  return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
}

/** Where a piece came from in a SentencePiece model (ModelProto.SentencePiece.Type). */
export type PieceType = 'normal' | 'unknown' | 'control' | 'user_defined' | 'unused' | 'byte';

/**
 * How the two references differ:
 *  - 'sentencepiece': only normal, user-defined (with a bonus) and unused (skipped) pieces are
 *    matched; path scores are stored as float32; consecutive unknown pieces merge into one unknown
 *    id unless byte fallback writes each unknown character's bytes.
 *  - 'tokenizers': every vocabulary entry is matched (control tokens and `<0x41>` too); scores are
 *    float64; consecutive unknown characters fuse, and the fused text becomes byte pieces when byte
 *    fallback is on and every byte has a piece, else one unknown id.
 */
export type UnigramFlavor = 'sentencepiece' | 'tokenizers';

export interface UnigramPiece {
  readonly piece: string;
  readonly score: number;
  readonly type: PieceType;
}

export interface UnigramModelOptions {
  readonly pieces: readonly UnigramPiece[];
  readonly unkId: number;
  readonly byteFallback: boolean;
  readonly flavor: UnigramFlavor;
}

const UNK_PENALTY = 10;

/** A path node: characters [start, end) of the text (indices into its code points) as piece `id`. */
interface PathNode {
  readonly start: number;
  readonly end: number;
  readonly id: number;
}

export class UnigramModel {
  readonly size: number;
  readonly unkId: number;
  readonly byteFallback: boolean;
  readonly flavor: UnigramFlavor;
  /** Matchable pieces → id. */
  readonly #match = new Map<string, number>();
  /** Every piece → id (byte pieces, control tokens). */
  readonly #byText = new Map<string, number>();
  readonly #scores: Float64Array;
  readonly #userDefined: Uint8Array;
  /** Longest matchable piece, in code points. */
  readonly #maxChars: number;
  readonly #unkScore: number;
  readonly #maxScore: number;
  /** Id of `<0xXX>` per byte, or -1. */
  readonly #bytePieces = new Int32Array(256).fill(-1);

  constructor(options: UnigramModelOptions) {
    const { pieces, flavor } = options;
    this.size = pieces.length;
    this.unkId = options.unkId;
    this.byteFallback = options.byteFallback;
    this.flavor = flavor;
    this.#scores = new Float64Array(pieces.length);
    this.#userDefined = new Uint8Array(pieces.length);
    let maxChars = 1;
    let min = Infinity;
    // sentencepiece starts max_score_ at FLT_MIN (the smallest positive float), not at −∞.
    let max = flavor === 'sentencepiece' ? 1.1754943508222875e-38 : -Infinity;
    for (let id = 0; id < pieces.length; id++) {
      const p = pieces[id]!;
      this.#scores[id] = p.score;
      // A repeated piece: sentencepiece refuses the model (checked by its reader); tokenizers keeps the last id.
      if (flavor === 'tokenizers' || !this.#byText.has(p.piece)) this.#byText.set(p.piece, id);
      if (flavor === 'tokenizers' || p.type === 'normal' || p.type === 'user_defined') {
        if (flavor === 'tokenizers' || !this.#match.has(p.piece)) this.#match.set(p.piece, id);
        // Code points: UTF-16 length is an upper bound that costs nothing to take.
        maxChars = Math.max(maxChars, p.piece.length);
      }
      if (p.type === 'user_defined') this.#userDefined[id] = 1;
      // sentencepiece takes the score range over normal pieces; tokenizers over the whole vocabulary.
      if (flavor === 'tokenizers' || p.type === 'normal') {
        min = Math.min(min, p.score);
        max = Math.max(max, p.score);
      }
    }
    for (let b = 0; b < 256; b++) {
      const id = this.#byText.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
      if (id !== undefined) this.#bytePieces[b] = id;
    }
    this.#maxChars = maxChars;
    this.#maxScore = max;
    this.#unkScore = flavor === 'sentencepiece' ? Math.fround(Math.fround(min) - UNK_PENALTY) : min - UNK_PENALTY;
  }

  idOf(piece: string): number | undefined {
    return this.#byText.get(piece);
  }

  /**
   * Ids of one normalized span. The lattice runs over code points: both references walk UTF-8 bytes,
   * but every piece is whole characters, so the candidates, their order and the one-character
   * unknown steps are the same.
   */
  encode(text: string): number[] {
    if (text === '') return [];
    const bounds: number[] = [0];
    for (let i = 0; i < text.length; ) {
      i += text.codePointAt(i)! > 0xffff ? 2 : 1;
      bounds.push(i);
    }
    const size = bounds.length - 1;
    const spm = this.flavor === 'sentencepiece';
    const best = new Float64Array(size + 1);
    const from = new Int32Array(size + 1).fill(-1);
    const ids = new Int32Array(size + 1);
    for (let start = 0; start < size; start++) {
      const base = best[start]!;
      let single = false;
      const longest = Math.min(this.#maxChars, size - start);
      for (let length = 1; length <= longest; length++) {
        const end = start + length;
        const id = this.#match.get(text.substring(bounds[start]!, bounds[end]!));
        if (id === undefined) continue;
        // sentencepiece: a user-defined piece scores length · max_score − 0.1 (as a double; length in bytes), so it is always taken.
        const score = spm && this.#userDefined[id] ? Math.fround(utf8ByteLength(text, bounds[start]!, bounds[end]!) * this.#maxScore) - 0.1 : this.#scores[id]!;
        const candidate = score + base;
        if (from[end] === -1 || candidate > best[end]!) {
          best[end] = spm ? Math.fround(candidate) : candidate;
          from[end] = start;
          ids[end] = id;
        }
        if (length === 1) single = true;
      }
      if (!single) {
        const end = start + 1;
        const candidate = spm ? Math.fround(this.#unkScore + base) : this.#unkScore + base;
        if (from[end] === -1 || candidate > best[end]!) {
          best[end] = candidate;
          from[end] = start;
          ids[end] = this.unkId;
        }
      }
    }
    const path: PathNode[] = [];
    for (let end = size; end > 0; end = from[end]!) path.push({ start: bounds[from[end]!]!, end: bounds[end]!, id: ids[end]! });
    path.reverse();
    return spm ? this.#sentencepieceIds(text, path) : this.#tokenizersIds(text, path);
  }

  #bytes(text: string): number[] {
    return Array.from(toUtf8(text), (b) => this.#bytePieces[b]!);
  }

  /** sentencepiece_processor.cc PopulateSentencePieceText: byte fallback per unknown piece, else consecutive unknowns merge. */
  #sentencepieceIds(text: string, path: readonly PathNode[]): number[] {
    const out: number[] = [];
    let prevUnknown = false;
    for (const node of path) {
      const unknown = node.id === this.unkId;
      if (unknown && this.byteFallback) out.push(...this.#bytes(text.slice(node.start, node.end)));
      else if (!(unknown && prevUnknown)) out.push(node.id);
      prevUnknown = unknown;
    }
    return out;
  }

  /** tokenizers' Unigram: fuse consecutive unknowns, then look each string up (byte pieces for an unknown one when all exist). */
  #tokenizersIds(text: string, path: readonly PathNode[]): number[] {
    const spans: Array<{ start: number; end: number; unknown: boolean }> = [];
    for (const node of path) {
      const unknown = node.id === this.unkId;
      const last = spans[spans.length - 1];
      if (unknown && last?.unknown) last.end = node.end;
      else spans.push({ start: node.start, end: node.end, unknown });
    }
    const out: number[] = [];
    for (const span of spans) {
      const piece = text.slice(span.start, span.end);
      const id = this.#match.get(piece);
      if (id !== undefined) {
        out.push(id);
        continue;
      }
      if (this.byteFallback) {
        const pieces = this.#bytes(piece);
        if (pieces.every((p) => p >= 0)) {
          out.push(...pieces);
          continue;
        }
      }
      out.push(this.unkId);
    }
    return out;
  }
}

function utf8ByteLength(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
