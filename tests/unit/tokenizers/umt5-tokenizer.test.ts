/**
 * WAN's UMT5 tokenizer from its two file forms against the reference implementations, on a small
 * UMT5-style SentencePiece model trained for the test (tests/fixtures/reference/wan/umt5-tokenizer,
 * made by make_umt5_tokenizer.py, see umt5-tokenizer.md): the spiece.model path gives exactly
 * sentencepiece's ids, the tokenizer.json path exactly huggingface/tokenizers' ids for three
 * tokenizer.json layouts, on 44 written prompts and 400 seeded random strings; the two paths agree
 * wherever the references do.
 */
import { mkdtemp, readFile, rm, writeFile, copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtoWriter } from '../../../src-main/engine/onnx/protobuf.ts';
import {
  SPIECE_TENSOR,
  TokenizerFileError,
  Umt5UnigramTokenizer,
  loadUmt5Tokenizer,
  umt5TokenizerFromSafetensors,
} from '../../../src-main/engine/tokenizers/umt5-tokenizer.ts';
import { readSafetensorsHeader } from '../../../src-main/engine/weights/safetensors.ts';
import { writeSafetensors } from '../../../src-main/engine/weights/safetensors-write.ts';

const DIR = fileURLToPath(new URL('../../fixtures/reference/wan/umt5-tokenizer/', import.meta.url));

interface Variant {
  readonly normalizer_append?: unknown[];
  readonly pre_tokenizer?: unknown;
  readonly byte_fallback?: boolean;
}

interface Cases {
  readonly meta: Record<string, string>;
  readonly variants: Record<string, Variant>;
  readonly prompts: string[];
  readonly written: number;
  readonly ids: Record<string, number[][]>;
  readonly padded512: Array<{ prompt: number; input_ids: number[]; real: number }>;
}

let cases: Cases;
let base: Record<string, unknown>;
let config: Record<string, unknown>;
let spieceBytes: Uint8Array;
let spiece: Umt5UnigramTokenizer;
let tmp: string;

/** tokenizer.json with one variant's changes, as make_umt5_tokenizer.py's apply_variant makes it. */
function variantJson(changes: Variant): Record<string, unknown> {
  const json = structuredClone(base) as Record<string, Record<string, unknown>>;
  if (changes.normalizer_append) json.normalizer = { type: 'Sequence', normalizers: [base.normalizer, ...changes.normalizer_append] };
  if (changes.pre_tokenizer) json.pre_tokenizer = changes.pre_tokenizer as Record<string, unknown>;
  if (changes.byte_fallback !== undefined) json.model!.byte_fallback = changes.byte_fallback;
  return json;
}

/** Indices of the prompts a tokenizer gives other ids for than `expected`. */
function mismatches(tokenizer: Umt5UnigramTokenizer, expected: number[][]): number[] {
  const bad: number[] = [];
  cases.prompts.forEach((prompt, i) => {
    const ids = tokenizer.ids(prompt);
    if (ids.length !== expected[i]!.length || ids.some((id, k) => id !== expected[i]![k])) bad.push(i);
  });
  return bad;
}

beforeAll(async () => {
  cases = JSON.parse(await readFile(join(DIR, 'cases.json'), 'utf8')) as Cases;
  base = JSON.parse(await readFile(join(DIR, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  config = JSON.parse(await readFile(join(DIR, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  spieceBytes = new Uint8Array(await readFile(join(DIR, 'spiece.model')));
  spiece = Umt5UnigramTokenizer.fromSpieceModel(spieceBytes);
  tmp = await mkdtemp(join(tmpdir(), 'ourvidz-umt5-tok-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('UMT5 tokenizer against sentencepiece and huggingface/tokenizers', () => {
  it('reads the files the ids were computed from', async () => {
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(spieceBytes).digest('hex')).toBe(cases.meta['spiece.model']);
    expect(createHash('sha256').update(await readFile(join(DIR, 'tokenizer.json'))).digest('hex')).toBe(cases.meta['tokenizer.json']);
    expect(cases.prompts).toHaveLength(cases.written + 400);
    expect(spiece.vocabSize).toBe(1200);
    expect([spiece.padId, spiece.eosId]).toEqual([0, 1]);
  });

  it('spiece.model: exactly sentencepiece\'s ids (encode + </s>) on every prompt', () => {
    expect(mismatches(spiece, cases.ids.sentencepiece!)).toEqual([]);
  });

  it('a SentencePiece model without byte fallback, normalization map or whitespace removal: exactly sentencepiece\'s ids too', async () => {
    const bytes = new Uint8Array(await readFile(join(DIR, 'spiece-plain.model')));
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(cases.meta['spiece-plain.model']);
    const plain = Umt5UnigramTokenizer.fromSpieceModel(bytes, 'spiece-plain.model');
    expect(mismatches(plain, cases.ids.sentencepiece_plain!)).toEqual([]);
    // Unknown characters in a row are one <unk> (2) there: "▁", <unk>, </s>.
    const ids = plain.ids('🦊🔥');
    expect([ids.length, ids[1], ids[2]]).toEqual([3, 2, 1]);
  });

  for (const name of ['transformers5', 't5converter', 'byte_fallback']) {
    it(`tokenizer.json (${name} layout): exactly huggingface/tokenizers' ids on every prompt`, () => {
      const tokenizer = Umt5UnigramTokenizer.fromTokenizerJson(variantJson(cases.variants[name]!), config);
      expect(tokenizer.vocabSize).toBe(1500);
      expect(mismatches(tokenizer, cases.ids[name]!)).toEqual([]);
    });
  }

  it("transformers' own tokenizer for the folder is the transformers5 layout's (what diffusers' WanPipeline loads)", () => {
    expect(cases.ids.transformers).toEqual(cases.ids.transformers5);
  });

  it('the two file forms give identical ids wherever the references agree', () => {
    const json = Umt5UnigramTokenizer.fromTokenizerJson(variantJson(cases.variants.byte_fallback!), config);
    // The references disagree on text spelling a special token, on combining marks, half-width
    // voiced kana and Hangul jamo (tokenizers normalizes per grapheme cluster), and on U+0085 (a
    // space to tokenizers' WhitespaceSplit): every other prompt must match.
    const disagreement = /<\/s>|<pad>|<unk>|<extra_id_\d+>|<0x[0-9A-F]{2}>|\p{M}|[\u1100-\u11ff\uff9e\uff9f\u0085]/u;
    const agreeing = cases.prompts.map((p, i) => (disagreement.test(p) ? -1 : i)).filter((i) => i >= 0);
    expect(agreeing.length).toBeGreaterThan(80);
    for (const i of agreeing) expect(json.ids(cases.prompts[i]!), JSON.stringify(cases.prompts[i])).toEqual(spiece.ids(cases.prompts[i]!));
    const written = cases.prompts.slice(0, cases.written);
    const differ = written.map((p, i) => (JSON.stringify(json.ids(p)) === JSON.stringify(spiece.ids(p)) ? -1 : i)).filter((i) => i >= 0);
    expect(differ.map((i) => written[i])).toEqual([
      'e\u0301\u0302\u0303 a\u0308\u0304 o\u0328\u0301',
      'ﬁ\u0301 ﬂ\u0308',
      'ｶﾀｶﾅ ﾊﾟﾋﾟ and ㈱ ㊤ ㋿',
      '\u1100\u1161\u11a8 \u1112\u1161\u11ab\u1100\u1173\u11af',
      'a </s> b <pad> c <unk> d <extra_id_0> e <extra_id_299> f',
      '</s></s>',
      '<0x41> <0xF0> literal byte names',
    ]);
  });

  it("a converter's tokenizer.json without byte fallback gives <unk> where the characters' bytes would be (as diffusers gets)", () => {
    const converted = Umt5UnigramTokenizer.fromTokenizerJson(variantJson(cases.variants.t5converter!), config);
    const withBytes = Umt5UnigramTokenizer.fromTokenizerJson(variantJson(cases.variants.byte_fallback!), config);
    const fox = '🦊🔥✨ a fox 🦊 in the snow ❄️';
    expect(converted.ids(fox)).toContain(2);
    expect(withBytes.ids(fox)).not.toContain(2);
    expect(withBytes.ids(fox)).toEqual(spiece.ids(fox));
  });

  it("encode(prompt, 512) gives transformers' padded, truncated ids and length (diffusers' call)", () => {
    const tokenizer = Umt5UnigramTokenizer.fromTokenizerJson(base, config);
    for (const row of cases.padded512) {
      const prompt = cases.prompts[row.prompt]!;
      const encoded = tokenizer.encode(prompt, 512);
      expect(Array.from(encoded.ids)).toEqual(row.input_ids);
      expect(encoded.length).toBe(row.real);
      expect(encoded.truncated).toBe(tokenizer.ids(prompt).length > 512);
      // The same cut from the spiece.model form: its tokens, </s> last, then <pad>.
      const ids = spiece.ids(prompt);
      const fromSpiece = spiece.encode(prompt, 512);
      const kept = ids.length > 512 ? [...ids.slice(0, 511), 1] : ids;
      expect(Array.from(fromSpiece.ids)).toEqual([...kept, ...new Array<number>(512 - kept.length).fill(0)]);
      expect([fromSpiece.length, fromSpiece.truncated]).toEqual([kept.length, ids.length > 512]);
    }
    expect(cases.padded512.map((r) => r.real)).toEqual([19, 13, 512, 512]);
  });
});

describe('UMT5 tokenizer files', () => {
  it('loads a folder from tokenizer.json when it has one, else from spiece.model', async () => {
    const withJson = join(tmp, 'tokenizer');
    await mkdir(withJson, { recursive: true });
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'spiece.model']) await copyFile(join(DIR, f), join(withJson, f));
    expect((await loadUmt5Tokenizer(withJson)).source).toBe('tokenizer.json');
    const onlySpiece = join(tmp, 'spiece-only');
    await mkdir(onlySpiece, { recursive: true });
    await copyFile(join(DIR, 'spiece.model'), join(onlySpiece, 'spiece.model'));
    const loaded = await loadUmt5Tokenizer(onlySpiece);
    expect(loaded.source).toBe('spiece.model');
    expect(loaded.ids(cases.prompts[0]!)).toEqual(cases.ids.sentencepiece![0]);
    const empty = join(tmp, 'empty');
    await mkdir(empty, { recursive: true });
    await expect(loadUmt5Tokenizer(empty)).rejects.toThrow(`${empty} has no tokenizer.json or spiece.model: add the UMT5 tokenizer files (google/umt5-xxl's) to the model`);
  });

  it("reads the SentencePiece model ComfyUI stores in a checkpoint's spiece_model tensor", async () => {
    const path = join(tmp, 'umt5_xxl_fp16.safetensors');
    await writeSafetensors(path, [
      { name: 'shared.weight', dtype: 'F16', shape: [2, 2], data: new Uint8Array(8) },
      { name: SPIECE_TENSOR, dtype: 'U8', shape: [spieceBytes.length], data: spieceBytes },
    ]);
    const tokenizer = await umt5TokenizerFromSafetensors(await readSafetensorsHeader(path));
    expect(mismatches(tokenizer, cases.ids.sentencepiece!)).toEqual([]);
    const bare = join(tmp, 'bare.safetensors');
    await writeSafetensors(bare, [{ name: 'shared.weight', dtype: 'F16', shape: [2, 2], data: new Uint8Array(8) }]);
    await expect(umt5TokenizerFromSafetensors(await readSafetensorsHeader(bare))).rejects.toThrow(
      "bare.safetensors carries no tokenizer (no spiece_model tensor): add the UMT5 tokenizer files (google/umt5-xxl's tokenizer.json or spiece.model)",
    );
  });

  it('refuses, in one sentence each, what is not a UMT5 unigram tokenizer', async () => {
    const bpe = new ProtoWriter()
      .message(1, new ProtoWriter().string(1, '<unk>').float(2, 0).varint(3, 2))
      .message(2, new ProtoWriter().varint(3, 2));
    expect(() => Umt5UnigramTokenizer.fromSpieceModel(bpe.finish(), 'llama.model')).toThrow(
      "llama.model is a SentencePiece BPE model, not a unigram one like UMT5's: it is another model's tokenizer",
    );
    expect(() => Umt5UnigramTokenizer.fromSpieceModel(spieceBytes.subarray(0, 1000), 'cut.model')).toThrow(
      'cut.model is not a readable SentencePiece model: the file is damaged or of another kind',
    );
    const bpeJson = { ...base, model: { type: 'BPE', vocab: {}, merges: [] } };
    expect(() => Umt5UnigramTokenizer.fromTokenizerJson(bpeJson, config, 'clip/tokenizer.json')).toThrow(
      'clip/tokenizer.json is a "BPE" tokenizer, not the SentencePiece unigram one UMT5 uses: it belongs to another model',
    );
    const bert = { ...base, normalizer: { type: 'BertNormalizer' } };
    expect(() => Umt5UnigramTokenizer.fromTokenizerJson(bert, config, 't.json')).toThrow(
      't.json uses the normalizer "BertNormalizer", which the studio\'s UMT5 tokenizer does not implement',
    );
    try {
      Umt5UnigramTokenizer.fromTokenizerJson(bert, config, 't.json');
    } catch (e) {
      expect(e).toBeInstanceOf(TokenizerFileError);
    }
    const damaged = join(tmp, 'damaged');
    await mkdir(damaged, { recursive: true });
    await writeFile(join(damaged, 'tokenizer.json'), '{"model": ');
    await expect(loadUmt5Tokenizer(damaged)).rejects.toThrow(`${join(damaged, 'tokenizer.json')} is not valid JSON: the file is damaged; get the tokenizer files again`);
  });
});
