/**
 * A SentencePiece model file (`spiece.model`, or the `spiece_model` bytes ComfyUI stores inside
 * umt5_xxl_fp16.safetensors) read without the sentencepiece library: the ModelProto protobuf
 * (google/sentencepiece src/sentencepiece_model.proto: pieces with scores and types, TrainerSpec,
 * NormalizerSpec) and sentencepiece's own normalizer (src/normalizer.cc `Normalize`,
 * `NormalizePrefix`): the longest rule of the precompiled map at each position (nmt_nfkc for UMT5),
 * leading, trailing and repeated whitespace removed, a "▁" prefix, spaces escaped as "▁". The
 * unigram segmentation is umt5-unigram.ts's, in sentencepiece's flavor.
 */
import { PrecompiledCharsmap, TokenizerFileError, UnigramModel, fromUtf8, toUtf8, utf8Length, type PieceType, type UnigramPiece } from './umt5-unigram.ts';

const PIECE_TYPES: Readonly<Record<number, PieceType>> = { 1: 'normal', 2: 'unknown', 3: 'control', 4: 'user_defined', 5: 'unused', 6: 'byte' };
const SPACE = 0x20;
/** U+2581 LOWER ONE EIGHTH BLOCK, sentencepiece's escaped space, in UTF-8. */
const SPACE_SYMBOL = [0xe2, 0x96, 0x81];
const REPLACEMENT_CHAR = [0xef, 0xbf, 0xbd];

/** A protobuf wire-format field. */
interface Field {
  readonly number: number;
  readonly wire: number;
  /** Varint or fixed32 value (varints beyond 2^53 are read through BigInt, negative int32 as negative). */
  readonly value: number;
  /** Length-delimited payload. */
  readonly bytes: Uint8Array | null;
}

function* fields(buf: Uint8Array, origin: string): Generator<Field> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  const damaged = (): TokenizerFileError => new TokenizerFileError(`${origin} is not a readable SentencePiece model: the file is damaged or of another kind`);
  const varint = (): number => {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw damaged();
      const b = buf[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return Number(BigInt.asIntN(64, result));
      shift += 7n;
    }
    throw damaged();
  };
  while (pos < buf.length) {
    const key = varint();
    const number = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) yield { number, wire, value: varint(), bytes: null };
    else if (wire === 2) {
      const length = varint();
      if (length < 0 || pos + length > buf.length) throw damaged();
      yield { number, wire, value: 0, bytes: buf.subarray(pos, pos + length) };
      pos += length;
    } else if (wire === 5) {
      if (pos + 4 > buf.length) throw damaged();
      yield { number, wire, value: view.getFloat32(pos, true), bytes: null };
      pos += 4;
    } else if (wire === 1) {
      if (pos + 8 > buf.length) throw damaged();
      yield { number, wire, value: view.getFloat64(pos, true), bytes: null };
      pos += 8;
    } else throw damaged();
  }
}

export interface SpieceTrainerSpec {
  readonly modelType: number;
  readonly byteFallback: boolean;
  readonly treatWhitespaceAsSuffix: boolean;
  readonly unkPiece: string;
  readonly eosPiece: string;
  readonly padPiece: string;
}

export interface SpieceNormalizerSpec {
  readonly name: string;
  readonly charsmap: Uint8Array | null;
  readonly addDummyPrefix: boolean;
  readonly removeExtraWhitespaces: boolean;
  readonly escapeWhitespaces: boolean;
}

export interface SpieceModel {
  readonly pieces: readonly UnigramPiece[];
  readonly trainer: SpieceTrainerSpec;
  readonly normalizer: SpieceNormalizerSpec;
}

function piece(bytes: Uint8Array, origin: string): UnigramPiece {
  let text = '';
  let score = 0;
  let type: PieceType = 'normal';
  for (const f of fields(bytes, origin)) {
    if (f.number === 1 && f.bytes) text = fromUtf8(f.bytes);
    else if (f.number === 2 && f.wire === 5) score = f.value;
    else if (f.number === 3 && f.wire === 0) {
      const t = PIECE_TYPES[f.value];
      if (!t) throw new TokenizerFileError(`${origin} has a piece of unknown type ${f.value}: it is not a SentencePiece model the studio reads`);
      type = t;
    }
  }
  return { piece: text, score, type };
}

function trainerSpec(bytes: Uint8Array | null, origin: string): SpieceTrainerSpec {
  const spec = { modelType: 1, byteFallback: false, treatWhitespaceAsSuffix: false, unkPiece: '<unk>', eosPiece: '</s>', padPiece: '<pad>' };
  if (!bytes) return spec;
  for (const f of fields(bytes, origin)) {
    if (f.number === 3 && f.wire === 0) spec.modelType = f.value;
    else if (f.number === 35 && f.wire === 0) spec.byteFallback = f.value !== 0;
    else if (f.number === 24 && f.wire === 0) spec.treatWhitespaceAsSuffix = f.value !== 0;
    else if (f.number === 45 && f.bytes) spec.unkPiece = fromUtf8(f.bytes);
    else if (f.number === 47 && f.bytes) spec.eosPiece = fromUtf8(f.bytes);
    else if (f.number === 48 && f.bytes) spec.padPiece = fromUtf8(f.bytes);
  }
  return spec;
}

function normalizerSpec(bytes: Uint8Array | null, origin: string): SpieceNormalizerSpec {
  const spec = { name: '', charsmap: null as Uint8Array | null, addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true };
  if (!bytes) return spec;
  for (const f of fields(bytes, origin)) {
    if (f.number === 1 && f.bytes) spec.name = fromUtf8(f.bytes);
    else if (f.number === 2 && f.bytes) spec.charsmap = f.bytes.length ? f.bytes : null;
    else if (f.number === 3 && f.wire === 0) spec.addDummyPrefix = f.value !== 0;
    else if (f.number === 4 && f.wire === 0) spec.removeExtraWhitespaces = f.value !== 0;
    else if (f.number === 5 && f.wire === 0) spec.escapeWhitespaces = f.value !== 0;
  }
  return spec;
}

/** Parses a ModelProto (`origin` names it in messages: "spiece.model", "umt5_xxl_fp16.safetensors: spiece_model"). */
export function parseSpieceModel(bytes: Uint8Array, origin: string): SpieceModel {
  const pieces: UnigramPiece[] = [];
  let trainer: Uint8Array | null = null;
  let normalizer: Uint8Array | null = null;
  for (const f of fields(bytes, origin)) {
    if (f.number === 1 && f.bytes) pieces.push(piece(f.bytes, origin));
    else if (f.number === 2 && f.bytes) trainer = f.bytes;
    else if (f.number === 3 && f.bytes) normalizer = f.bytes;
  }
  if (pieces.length === 0) throw new TokenizerFileError(`${origin} is not a readable SentencePiece model: it has no vocabulary`);
  return { pieces, trainer: trainerSpec(trainer, origin), normalizer: normalizerSpec(normalizer, origin) };
}

/** sentencepiece's Normalizer for one NormalizerSpec (byte in, byte out). */
export class SpieceNormalizer {
  readonly #spec: SpieceNormalizerSpec;
  readonly #charsmap: PrecompiledCharsmap | null;
  /** User-defined pieces pass through unnormalized (sentencepiece's PrefixMatcher). */
  readonly #userDefined: Uint8Array[];

  constructor(spec: SpieceNormalizerSpec, userDefined: readonly string[], origin: string) {
    this.#spec = spec;
    this.#charsmap = spec.charsmap ? new PrecompiledCharsmap(spec.charsmap, origin) : null;
    this.#userDefined = userDefined.map((p) => toUtf8(p));
  }

  /** `NormalizePrefix`: the normalized bytes of the longest rule at `pos` and how many input bytes it consumed. */
  #prefix(input: Uint8Array, pos: number): { out: ArrayLike<number>; consumed: number } {
    let user = 0;
    for (const u of this.#userDefined) {
      if (u.length > user && pos + u.length <= input.length && u.every((b, i) => input[pos + i] === b)) user = u.length;
    }
    if (user > 0) return { out: input.subarray(pos, pos + user), consumed: user };
    let longest = 0;
    let value = 0;
    if (this.#charsmap) {
      for (const r of this.#charsmap.prefixes(input, pos, input.length, false)) {
        if (longest === 0 || r.length > longest) {
          longest = r.length;
          value = r.value;
        }
      }
    }
    if (longest > 0) return { out: this.#charsmap!.normalizedAt(value), consumed: longest };
    const length = validUtf8Length(input, pos);
    if (length === 0) return { out: REPLACEMENT_CHAR, consumed: 1 };
    return { out: input.subarray(pos, pos + length), consumed: length };
  }

  normalize(text: string): Uint8Array {
    const input = toUtf8(text);
    const spec = this.#spec;
    const out: number[] = [];
    let pos = 0;
    if (spec.removeExtraWhitespaces) {
      while (pos < input.length) {
        const p = this.#prefix(input, pos);
        if (!(p.out.length === 1 && p.out[0] === SPACE)) break;
        pos += p.consumed;
      }
    }
    if (pos >= input.length) return new Uint8Array(0);
    const space = spec.escapeWhitespaces ? SPACE_SYMBOL : [SPACE];
    if (spec.addDummyPrefix) out.push(...space);
    let prevSpace = spec.removeExtraWhitespaces;
    while (pos < input.length) {
      const p = this.#prefix(input, pos);
      let i = 0;
      if (prevSpace) while (i < p.out.length && p.out[i] === SPACE) i++;
      if (i < p.out.length) {
        for (; i < p.out.length; i++) {
          if (spec.escapeWhitespaces && p.out[i] === SPACE) out.push(...SPACE_SYMBOL);
          else out.push(p.out[i]!);
        }
        prevSpace = p.out[p.out.length - 1] === SPACE;
      }
      pos += p.consumed;
      if (!spec.removeExtraWhitespaces) prevSpace = false;
    }
    if (spec.removeExtraWhitespaces) {
      while (out.length >= space.length && space.every((b, k) => out[out.length - space.length + k] === b)) out.length -= space.length;
    }
    return Uint8Array.from(out);
  }
}

/** Bytes of the valid UTF-8 character at `pos`, or 0 when it is malformed (string_util::IsValidDecodeUTF8). */
function validUtf8Length(b: Uint8Array, pos: number): number {
  const c = b[pos]!;
  const n = utf8Length(c);
  if (n === 1) return c < 0x80 ? 1 : 0;
  if (pos + n > b.length) return 0;
  let cp = c & (0xff >> (n + 1));
  for (let i = 1; i < n; i++) {
    const x = b[pos + i]!;
    if ((x & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (x & 0x3f);
  }
  const min = n === 2 ? 0x80 : n === 3 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

export interface SpieceTokenizerParts {
  readonly model: UnigramModel;
  readonly normalizer: SpieceNormalizer;
  readonly eosId: number;
  readonly padId: number;
}

/** The unigram model and normalizer of a SentencePiece model, with one sentence for what the studio cannot use. */
export function spieceTokenizerParts(bytes: Uint8Array, origin: string): SpieceTokenizerParts {
  const proto = parseSpieceModel(bytes, origin);
  const { trainer } = proto;
  if (trainer.modelType !== 1) {
    const kind = { 2: 'BPE', 3: 'word', 4: 'character' }[trainer.modelType] ?? `type ${trainer.modelType}`;
    throw new TokenizerFileError(`${origin} is a SentencePiece ${kind} model, not a unigram one like UMT5's: it is another model's tokenizer`);
  }
  if (trainer.treatWhitespaceAsSuffix) {
    throw new TokenizerFileError(`${origin} puts its word boundaries after words (treat_whitespace_as_suffix), which UMT5's tokenizer does not and the studio does not read`);
  }
  const seen = new Set<string>();
  let unkId = -1;
  proto.pieces.forEach((p, id) => {
    if (p.piece === '' || seen.has(p.piece)) throw new TokenizerFileError(`${origin} is damaged: its piece ${JSON.stringify(p.piece)} is empty or defined twice`);
    seen.add(p.piece);
    if (p.type === 'unknown') unkId = id;
  });
  if (unkId < 0) throw new TokenizerFileError(`${origin} is damaged: it defines no unknown piece (<unk>)`);
  // sentencepiece's ModelInterface checks: byte fallback needs all 256 byte pieces, and byte pieces need byte fallback.
  const bytePieces = proto.pieces.filter((p) => p.type === 'byte').length;
  if (trainer.byteFallback ? bytePieces !== 256 : bytePieces > 0) {
    throw new TokenizerFileError(`${origin} is damaged: it has ${bytePieces} byte pieces where byte fallback ${trainer.byteFallback ? 'needs 256' : 'is off and needs none'}`);
  }
  const idOf = (name: string, what: string): number => {
    const id = proto.pieces.findIndex((p) => p.piece === name);
    if (id < 0) throw new TokenizerFileError(`${origin} has no ${what} piece ${name}: it is not UMT5's tokenizer`);
    return id;
  };
  const model = new UnigramModel({ pieces: proto.pieces, unkId, byteFallback: trainer.byteFallback, flavor: 'sentencepiece' });
  const userDefined = proto.pieces.filter((p) => p.type === 'user_defined').map((p) => p.piece);
  const normalizer = new SpieceNormalizer(proto.normalizer, userDefined, origin);
  return { model, normalizer, eosId: idOf(trainer.eosPiece, 'end-of-sequence'), padId: idOf(trainer.padPiece, 'padding') };
}
