import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../../src-main/engine/tokenizers/clip.ts';
import { chunkPrompt, emptyChunk, equalizeChunkCounts, type PromptChunk } from '../../../src-main/engine/prompts/chunking.ts';
import { writeClipTokenizerFiles } from '../../fixtures/clip-tokenizer-files.ts';

const BOS = 49406;
const EOS = 49407;
const CAT = 2368; // "cat</w>"
const DOG = 1929; // "dog</w>"
const COMMA = 267; // ",</w>"

let root: string;
let tokenizer: ClipTokenizer;
let tokenizer2: ClipTokenizer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'clip-chunk-'));
  await writeClipTokenizerFiles(join(root, 'tokenizer'), { padToken: '<|endoftext|>' });
  await writeClipTokenizerFiles(join(root, 'tokenizer_2'), { padToken: '!' });
  tokenizer = await ClipTokenizer.fromDirectory(join(root, 'tokenizer'));
  tokenizer2 = await ClipTokenizer.fromDirectory(join(root, 'tokenizer_2'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const words = (word: string, n: number): string => Array.from({ length: n }, () => word).join(' ');

/** The prompt tokens of a chunk: between the start token and the first end token. */
function content(chunk: PromptChunk): number[] {
  const ids = Array.from(chunk.ids);
  return ids.slice(1, ids.indexOf(EOS));
}

describe('chunkPrompt layout', () => {
  it('checks the token ids used below', () => {
    expect(tokenizer.encode('cat dog ,')).toEqual([CAT, DOG, COMMA]);
  });

  it('a short prompt is one chunk: start, tokens, end, padding to 77', () => {
    const { chunks, tokenCount } = chunkPrompt('cat dog', tokenizer);
    expect(chunks).toHaveLength(1);
    expect(tokenCount).toBe(2);
    const ids = Array.from(chunks[0]!.ids);
    expect(ids).toHaveLength(77);
    expect(ids.slice(0, 4)).toEqual([BOS, CAT, DOG, EOS]);
    expect(ids.slice(4).every((id) => id === EOS)).toBe(true);
    expect(Array.from(chunks[0]!.weights).every((w) => w === 1)).toBe(true);
  });

  it('pads with each tokenizer\'s own pad id (tokenizer_2: "!" = 0), same prompt tokens', () => {
    const a = chunkPrompt('cat dog', tokenizer).chunks[0]!;
    const b = chunkPrompt('cat dog', tokenizer2).chunks[0]!;
    expect(Array.from(b.ids.slice(0, 4))).toEqual([BOS, CAT, DOG, EOS]);
    expect(Array.from(b.ids.slice(4)).every((id) => id === 0)).toBe(true);
    expect(Array.from(a.ids.slice(4)).every((id) => id === EOS)).toBe(true);
  });

  it('the empty prompt is one chunk of start, end and padding, token count 0', () => {
    const { chunks, tokenCount } = chunkPrompt('', tokenizer2);
    expect(chunks).toHaveLength(1);
    expect(tokenCount).toBe(0);
    expect(Array.from(chunks[0]!.ids.slice(0, 3))).toEqual([BOS, EOS, 0]);
    expect(chunks[0]).toEqual(emptyChunk(tokenizer2));
  });

  it('weights follow the fragments; start, end and padding stay 1', () => {
    const { chunks } = chunkPrompt('(cat:1.5) [dog]', tokenizer);
    const w = Array.from(chunks[0]!.weights);
    expect(w[0]).toBe(1);
    expect(w[1]).toBeCloseTo(1.5, 6);
    expect(w[2]).toBeCloseTo(1 / 1.1, 6);
    expect(w.slice(3).every((x) => x === 1)).toBe(true);
  });

  it('tokenizes each fragment on its own, as A1111 does', () => {
    const { chunks } = chunkPrompt('(important)word', tokenizer);
    expect(content(chunks[0]!)).toEqual([...tokenizer.encode('important'), ...tokenizer.encode('word')]);
    expect(content(chunks[0]!)).not.toEqual(tokenizer.encode('importantword'));
  });
});

describe('chunkPrompt long prompts', () => {
  it('75 tokens fit one chunk, 76 need two', () => {
    expect(chunkPrompt(words('cat', 75), tokenizer).chunks).toHaveLength(1);
    const two = chunkPrompt(words('cat', 76), tokenizer);
    expect(two.chunks).toHaveLength(2);
    expect(two.tokenCount).toBe(76);
  });

  it('an 80-token prompt becomes 75 + 5', () => {
    const { chunks, tokenCount } = chunkPrompt(words('cat', 80), tokenizer);
    expect(chunks).toHaveLength(2);
    expect(tokenCount).toBe(80);
    expect(content(chunks[0]!)).toHaveLength(75);
    expect(chunks[0]!.ids[76]).toBe(EOS);
    expect(content(chunks[1]!)).toEqual(Array(5).fill(CAT));
  });

  it('moves back to a comma at most 20 tokens before the end of a full chunk', () => {
    const { chunks, tokenCount } = chunkPrompt(`${words('cat', 60)}, ${words('dog', 30)}`, tokenizer);
    expect(chunks).toHaveLength(2);
    expect(content(chunks[0]!)).toEqual([...Array(60).fill(CAT), COMMA]);
    expect(content(chunks[1]!)).toEqual(Array(30).fill(DOG));
    expect(tokenCount).toBe(75 + 30);
  });

  it('does not move back to a comma more than 20 tokens back', () => {
    const { chunks } = chunkPrompt(`${words('cat', 50)}, ${words('dog', 40)}`, tokenizer);
    expect(content(chunks[0]!)).toEqual([...Array(50).fill(CAT), COMMA, ...Array(24).fill(DOG)]);
    expect(content(chunks[1]!)).toEqual(Array(16).fill(DOG));
  });

  it('commaBacktrack 0 turns the move off; a larger value reaches further', () => {
    const prompt = `${words('cat', 50)}, ${words('dog', 40)}`;
    expect(content(chunkPrompt(`${words('cat', 60)}, ${words('dog', 30)}`, tokenizer, { commaBacktrack: 0 }).chunks[0]!)).toHaveLength(75);
    expect(content(chunkPrompt(prompt, tokenizer, { commaBacktrack: 30 }).chunks[0]!)).toEqual([...Array(50).fill(CAT), COMMA]);
  });

  it('moved tokens keep their weights', () => {
    const { chunks } = chunkPrompt(`${words('cat', 70)}, (dog dog dog dog dog dog:1.4)`, tokenizer);
    expect(content(chunks[1]!)).toEqual(Array(6).fill(DOG));
    expect(chunks[1]!.weights[1]).toBeCloseTo(1.4, 6);
    expect(chunks[1]!.weights[6]).toBeCloseTo(1.4, 6);
    expect(chunks[1]!.weights[7]).toBe(1);
  });
});

describe('chunkPrompt BREAK', () => {
  it('BREAK starts a new chunk and counts the closed one as 75 tokens', () => {
    const { chunks, tokenCount } = chunkPrompt('cat BREAK dog', tokenizer);
    expect(chunks.map(content)).toEqual([[CAT], [DOG]]);
    expect(tokenCount).toBe(75 + 1);
  });

  it('a leading BREAK or two BREAKs in a row give an empty chunk; a trailing BREAK gives none', () => {
    expect(chunkPrompt('BREAK cat', tokenizer).chunks.map(content)).toEqual([[], [CAT]]);
    expect(chunkPrompt('cat BREAK BREAK dog', tokenizer).chunks.map(content)).toEqual([[CAT], [], [DOG]]);
    expect(chunkPrompt('cat BREAK', tokenizer).chunks.map(content)).toEqual([[CAT]]);
  });

  it('BREAK inside brackets still breaks and the weight carries over', () => {
    const { chunks } = chunkPrompt('(cat BREAK dog:1.5)', tokenizer);
    expect(chunks.map(content)).toEqual([[CAT], [DOG]]);
    expect(chunks[1]!.weights[1]).toBeCloseTo(1.5, 6);
  });
});

describe('equalizeChunkCounts', () => {
  it('pads the shorter prompt with empty chunks and leaves the inputs alone', () => {
    const prompt = chunkPrompt(words('cat', 160), tokenizer2);
    const negative = chunkPrompt('blurry', tokenizer2);
    expect(prompt.chunks).toHaveLength(3);
    const [p, n] = equalizeChunkCounts(prompt, negative, tokenizer2);
    expect(p.chunks).toHaveLength(3);
    expect(n.chunks).toHaveLength(3);
    expect(n.chunks[0]).toBe(negative.chunks[0]);
    expect(n.chunks[1]).toEqual(emptyChunk(tokenizer2));
    expect(n.chunks[2]).toEqual(emptyChunk(tokenizer2));
    expect(negative.chunks).toHaveLength(1);
    expect(n.tokenCount).toBe(negative.tokenCount);
  });

  it('works the other way round too', () => {
    const [p, n] = equalizeChunkCounts(chunkPrompt('cat', tokenizer), chunkPrompt(words('dog', 100), tokenizer), tokenizer);
    expect(p.chunks).toHaveLength(2);
    expect(n.chunks).toHaveLength(2);
    expect(Array.from(p.chunks[1]!.ids.slice(0, 3))).toEqual([BOS, EOS, EOS]);
  });
});
