import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipTokenizer, normalizeClipText } from '../../../src-main/engine/tokenizers/clip.ts';
import { writeClipTokenizerFiles } from '../../fixtures/clip-tokenizer-files.ts';

interface ReferenceCase {
  name: string;
  text: string;
  ids: number[];
}

let root: string;
let tokenizer: ClipTokenizer;
let tokenizer2: ClipTokenizer;
let reference: ReferenceCase[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'clip-tok-'));
  await writeClipTokenizerFiles(join(root, 'tokenizer'), { padToken: '<|endoftext|>' });
  await writeClipTokenizerFiles(join(root, 'tokenizer_2'), { padToken: '!' });
  tokenizer = await ClipTokenizer.fromDirectory(join(root, 'tokenizer'));
  tokenizer2 = await ClipTokenizer.fromDirectory(join(root, 'tokenizer_2'));
  const file = new URL('../../fixtures/reference/clip/tokens.json', import.meta.url);
  reference = (JSON.parse(await readFile(file, 'utf8')) as { cases: ReferenceCase[] }).cases;
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('ClipTokenizer against openai/CLIP simple_tokenizer.py', () => {
  it('has the reference set loaded', () => {
    expect(reference.length).toBeGreaterThanOrEqual(15);
  });

  it('gives the reference ids for every prompt, with both SDXL tokenizers', () => {
    for (const c of reference) {
      expect(tokenizer.encode(c.text), c.name).toEqual(c.ids);
      expect(tokenizer2.encode(c.text), c.name).toEqual(c.ids);
    }
  });

  it('gives the same ids a second time (cache) as the first', () => {
    const long = reference.find((c) => c.name === 'long')!;
    expect(long.ids.length).toBeGreaterThan(75);
    expect(tokenizer.encode(long.text)).toEqual(long.ids);
    expect(tokenizer.encode(long.text)).toEqual(long.ids);
  });
});

describe('ClipTokenizer special tokens come from the files', () => {
  it('tokenizer pads with <|endoftext|>, tokenizer_2 with ! (id 0)', () => {
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.padId]).toEqual([49406, 49407, 49407]);
    expect([tokenizer2.bosId, tokenizer2.eosId, tokenizer2.padId]).toEqual([49406, 49407, 0]);
    expect(tokenizer.modelMaxLength).toBe(77);
    expect(tokenizer.vocabSize).toBe(49408);
  });

  it('does not split ! out as the pad token in tokenizer_2 (open_clip behaviour, not diffusers#4153)', () => {
    // open_clip: "! !! !!!" → 256, 748, 995 (quoted in huggingface/diffusers#4153)
    expect(tokenizer2.encode('! !! !!!')).toEqual([256, 748, 995]);
  });

  it('reads model_max_length and the pad token from the config files', async () => {
    const dir = join(root, 'custom');
    await writeClipTokenizerFiles(dir, { padToken: '<|endoftext|>' });
    const configPath = join(dir, 'tokenizer_config.json');
    const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
    await writeFile(configPath, JSON.stringify({ ...config, model_max_length: 64, pad_token: 'a</w>' }));
    await unlink(join(dir, 'special_tokens_map.json'));
    const t = await ClipTokenizer.fromDirectory(dir);
    expect(t.modelMaxLength).toBe(64);
    expect(t.padId).toBe(320);
  });

  it('lets special_tokens_map.json override tokenizer_config.json, as transformers does', async () => {
    const dir = join(root, 'override');
    await writeClipTokenizerFiles(dir, { padToken: '<|endoftext|>' });
    await writeFile(join(dir, 'special_tokens_map.json'), JSON.stringify({ pad_token: { content: '!' } }));
    expect((await ClipTokenizer.fromDirectory(dir)).padId).toBe(0);
  });

  it('explains a missing model_max_length and a missing vocab.json', async () => {
    const dir = join(root, 'broken');
    await writeClipTokenizerFiles(dir, { padToken: '!' });
    const configPath = join(dir, 'tokenizer_config.json');
    const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
    delete config['model_max_length'];
    await writeFile(configPath, JSON.stringify(config));
    await expect(ClipTokenizer.fromDirectory(dir)).rejects.toThrow(/model_max_length/);
    await unlink(join(dir, 'vocab.json'));
    await expect(ClipTokenizer.fromDirectory(dir)).rejects.toThrow(/vocab\.json/);
  });
});

describe('ClipTokenizer text cleanup (transformers without ftfy)', () => {
  it('collapses whitespace and lower-cases', () => {
    expect(normalizeClipText('  A\tBig\n\n CAT  ')).toBe('a big cat');
    expect(normalizeClipText('')).toBe('');
  });

  it('drops control and format characters but keeps tab/newline as spaces', () => {
    expect(normalizeClipText('a\u0000b\u200bc\u0007d\ufffde\tf')).toBe('abcde f');
    expect(tokenizer.encode('c\u200bat')).toEqual(tokenizer.encode('cat'));
  });

  it('turns other space separators into spaces and composes to NFC', () => {
    expect(normalizeClipText('a\u00a0b\u3000c')).toBe('a b c');
    expect(normalizeClipText('E\u0301COLE')).toBe('\u00e9cole');
  });

  it('puts spaces around CJK ideographs (so each is its own word)', () => {
    expect(normalizeClipText('東京tower')).toBe('東 京 tower');
    expect(tokenizer.encode('東京')).toEqual(tokenizer.encode('東 京'));
    expect(tokenizer.encode('東京')).not.toEqual([]);
  });

  it('keeps Hangul and kana words whole (not CJK ideographs)', () => {
    expect(normalizeClipText('안녕 カタカナ')).toBe('안녕 カタカナ');
  });
});

describe('ClipTokenizer id ↔ token', () => {
  it('maps ids to vocabulary tokens and back', () => {
    expect(tokenizer.idToToken(320)).toBe('a</w>');
    expect(tokenizer.idToToken(0)).toBe('!');
    expect(tokenizer.idToToken(49406)).toBe('<|startoftext|>');
    expect(tokenizer.idToToken(49408)).toBeUndefined();
    expect(tokenizer.tokenToId(',</w>')).toBe(267);
  });

  it('decodes back to the cleaned text, word by word', () => {
    expect(tokenizer.decode(tokenizer.encode('A photo of a café 🐱'))).toBe('a photo of a café 🐱');
  });
});

describe('ClipTokenizer speed', () => {
  it('encodes a 75-token prompt in well under 1 ms after warm-up', () => {
    const text = reference.find((c) => c.name === 'long')!.text.split(' ').slice(0, 50).join(' ');
    const n = tokenizer.encode(text).length;
    expect(n).toBeGreaterThanOrEqual(70);
    for (let i = 0; i < 50; i++) tokenizer.encode(text);
    const runs = 500;
    const start = performance.now();
    for (let i = 0; i < runs; i++) tokenizer.encode(text);
    const perPromptMs = (performance.now() - start) / runs;
    expect(perPromptMs).toBeLessThan(0.25);
  });
});
