/**
 * Writes a real CLIP tokenizer folder, laid out as a Hugging Face / Optimum export
 * (`tokenizer/` or `tokenizer_2/` of an SDXL model), built from the CLIP merge list the app ships
 * (resources/clip). Single-file checkpoints carry no tokenizer, so model preparation writes these;
 * the tests use the same function. No download.
 *
 * Vocabulary layout follows openai/CLIP `clip/simple_tokenizer.py` (SimpleTokenizer.__init__):
 *   ids 0..255      the 256 byte-level unicode characters, in bytes_to_unicode() order
 *   ids 256..511    the same characters with `</w>` appended
 *   ids 512..49405  the 48,894 merges (lines 1..48894 of the merge file), each pair joined
 *   49406           <|startoftext|>
 *   49407           <|endoftext|>
 * SDXL's `tokenizer` pads with `<|endoftext|>`; its `tokenizer_2` pads with `!` (id 0).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { resourcePath } from '../resources.ts';

/** The merge list shipped in resources/clip (a copy of ../shared/data/clip, MIT-licensed). */
export const CLIP_MERGES_GZ = resourcePath('clip/bpe_simple_vocab_16e6.txt.gz');

export const CLIP_VOCAB_SIZE = 49408;
export const CLIP_BOS_ID = 49406;
export const CLIP_EOS_ID = 49407;

export interface ClipTokenizerFileOptions {
  padToken: '<|endoftext|>' | '!';
}

/** GPT-2 / CLIP byte→unicode table, as a list indexed by insertion order (the vocab order). */
function byteUnicodeOrder(): string[] {
  const printable: number[] = [];
  const range = (a: number, b: number): void => {
    for (let c = a; c <= b; c++) printable.push(c);
  };
  range(0x21, 0x7e); // '!'..'~'
  range(0xa1, 0xac); // '¡'..'¬'
  range(0xae, 0xff); // '®'..'ÿ'
  const inPrintable = new Set(printable);
  const bytes = [...printable];
  const chars = printable.map((c) => String.fromCodePoint(c));
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!inPrintable.has(b)) {
      bytes.push(b);
      chars.push(String.fromCodePoint(256 + n));
      n++;
    }
  }
  return chars;
}

let cached: { vocab: Record<string, number>; merges: string[] } | undefined;

async function buildClipVocab(): Promise<{ vocab: Record<string, number>; merges: string[] }> {
  if (cached) return cached;
  const text = gunzipSync(await readFile(CLIP_MERGES_GZ)).toString('utf8');
  // Line 0 is the file's header; CLIP keeps lines 1 .. 49152-256-2 (48,894 merges).
  const merges = text.split('\n').slice(1, 49152 - 256 - 2 + 1);
  const chars = byteUnicodeOrder();
  const tokens = [...chars, ...chars.map((c) => `${c}</w>`)];
  for (const m of merges) tokens.push(m.split(' ').join(''));
  tokens.push('<|startoftext|>', '<|endoftext|>');
  if (tokens.length !== CLIP_VOCAB_SIZE) {
    throw new Error(`CLIP vocabulary has ${tokens.length} tokens, expected ${CLIP_VOCAB_SIZE}`);
  }
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => {
    vocab[t] = i;
  });
  cached = { vocab, merges };
  return cached;
}

function addedToken(content: string): Record<string, unknown> {
  return { __type: 'AddedToken', content, lstrip: false, normalized: true, rstrip: false, single_word: false };
}

export async function writeClipTokenizerFiles(dir: string, opts: ClipTokenizerFileOptions): Promise<void> {
  const { vocab, merges } = await buildClipVocab();
  await mkdir(dir, { recursive: true });
  const bos = addedToken('<|startoftext|>');
  const eos = addedToken('<|endoftext|>');
  const unk = addedToken('<|endoftext|>');
  const tokenizerConfig = {
    add_prefix_space: false,
    bos_token: bos,
    clean_up_tokenization_spaces: true,
    do_lower_case: true,
    eos_token: eos,
    errors: 'replace',
    model_max_length: 77,
    pad_token: opts.padToken,
    tokenizer_class: 'CLIPTokenizer',
    unk_token: unk,
  };
  const specialTokensMap = {
    bos_token: { content: '<|startoftext|>', lstrip: false, normalized: true, rstrip: false, single_word: false },
    eos_token: { content: '<|endoftext|>', lstrip: false, normalized: true, rstrip: false, single_word: false },
    pad_token: opts.padToken,
    unk_token: { content: '<|endoftext|>', lstrip: false, normalized: true, rstrip: false, single_word: false },
  };
  await Promise.all([
    writeFile(join(dir, 'vocab.json'), JSON.stringify(vocab)),
    writeFile(join(dir, 'merges.txt'), `#version: 0.2\n${merges.join('\n')}\n`),
    writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2)),
    writeFile(join(dir, 'special_tokens_map.json'), JSON.stringify(specialTokensMap, null, 2)),
  ]);
}
