/**
 * The prompt enhancer end to end on the Qwen fixture: transformers.js loading the folder from disk
 * with no network, generation over the KV cache, seeded determinism, bounded length, the checks
 * and fallbacks, cancellation between tokens, and unload releasing the sessions.
 */
import { existsSync } from 'node:fs';
import { cp, rm, writeFile, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { env } from '@huggingface/transformers';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { GOOD_REPLY, buildQwenFixture, possibleReplies, type QwenFixture, type QwenVariant } from '../../fixtures/qwen/build-qwen.ts';
import { QwenEnhancer } from '../../../src-main/engine/pipelines/qwen/enhancer.ts';
import type { EnhanceOptions } from '../../../src-main/engine/pipelines/qwen/enhancer.ts';
import { enhancementMessages, systemPrompt } from '../../../src-main/engine/pipelines/qwen/prompts.ts';
import { CancelledError, PipelineError } from '../../../src-main/engine/pipelines/types.ts';
import { makeTempDir } from '../fixtures/ort-helpers.ts';

let tmp: { dir: string; cleanup: () => Promise<void> };
const fx = new Map<string, QwenFixture>();
const enhancers: QwenEnhancer[] = [];

const transformersDir = dirname(dirname(createRequire(import.meta.url).resolve('@huggingface/transformers')));
const cacheDir = join(transformersDir, '.cache');
const cacheExisted = existsSync(cacheDir);

beforeAll(async () => {
  tmp = await makeTempDir('qwen-enhancer');
  const variants: QwenVariant[] = ['good', 'wrapped', 'boilerplate', 'refusal', 'junk', 'rambling', 'choices'];
  for (const variant of variants) fx.set(variant, await buildQwenFixture(join(tmp.dir, variant), { variant }));
  fx.set('fp16', await buildQwenFixture(join(tmp.dir, 'fp16'), { dtype: 'fp16' }));
});
afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(async () => {
  for (const e of enhancers) await e.unload();
  await tmp.cleanup();
});

function enhancer(): QwenEnhancer {
  const e = new QwenEnhancer();
  enhancers.push(e);
  return e;
}

function folder(variant: string): string {
  return fx.get(variant)!.dir;
}

function options(variant: string, extra: Partial<EnhanceOptions> = {}): EnhanceOptions {
  return { modelPath: folder(variant), prompt: 'a fox in the snow', target: 'wan', seed: 42, providers: ['cpu'], ...extra };
}

interface CacheCall {
  past: number;
  present: number;
  inputIds: number;
  positions: number[];
  mask: number;
}

/** Records the cache lengths of every decoder call (on top of the enhancer's own timing wrapper). */
function recordCalls(e: QwenEnhancer): CacheCall[] {
  const session = e.loaded!.model.sessions.model as { run: (feeds: Record<string, { dims: number[]; data: ArrayLike<bigint> }>) => Promise<Record<string, { dims: number[] }>> };
  const run = session.run.bind(session);
  const calls: CacheCall[] = [];
  session.run = async (feeds) => {
    const out = await run(feeds);
    calls.push({
      past: feeds['past_key_values.0.key']!.dims[2]!,
      present: out['present.0.key']!.dims[2]!,
      inputIds: feeds.input_ids!.dims[1]!,
      positions: Array.from(feeds.position_ids!.data, Number),
      mask: feeds.attention_mask!.dims[1]!,
    });
    return out;
  };
  return calls;
}

describe('loading', () => {
  it('reads the folder from disk without touching the network or writing a cache', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch').mockRejectedValue(new Error('no network in tests'));
    const e = enhancer();
    const r = await e.enhance(options('good'));
    expect(r.text).toBe(GOOD_REPLY);
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(env.allowRemoteModels).toBe(false);
    expect(env.useFSCache).toBe(false);
    if (!cacheExisted) expect(existsSync(cacheDir)).toBe(false);
    expect(e.loaded?.dtype).toBe('fp32');
    expect(e.loaded?.provider).toBe('cpu');
    expect(r.provider).toBe('cpu');
    expect(r.providerNote).toBeNull();
  });

  it('renders the target system prompt, the worked example and the idea with the ChatML template', async () => {
    const e = enhancer();
    await e.enhance(options('good'));
    const text = e.loaded!.tokenizer.apply_chat_template(enhancementMessages('a fox in the snow', 'sdxl').map((m) => ({ ...m })), {
      tokenize: false,
      add_generation_prompt: true,
    }) as unknown as string;
    expect(text.startsWith(`<|im_start|>system\n${systemPrompt('sdxl')}<|im_end|>\n<|im_start|>user\nIdea: `)).toBe(true);
    expect(text.endsWith('<|im_start|>user\nIdea: a fox in the snow<|im_end|>\n<|im_start|>assistant\n')).toBe(true);
    expect(text.match(/<\|im_start\|>assistant\n/g)).toHaveLength(2);
  });

  it('says which provider it fell back from', async () => {
    const r = await enhancer().enhance(options('good', { providers: ['bogus', 'cpu'] }));
    expect(r.provider).toBe('cpu');
    expect(r.providerNote).toMatch(/^Using CPU: bogus unknown execution provider/);
    expect(r.text).toBe(GOOD_REPLY);
  });

  it('runs an fp16 export (float16 cache fed back through onnxruntime-node on Node 24)', async () => {
    const e = enhancer();
    const r = await e.enhance(options('fp16'));
    expect(e.loaded?.dtype).toBe('fp16');
    expect(r.warning).toBeNull();
    expect(r.text).toBe(GOOD_REPLY);
  });

  it('refuses a folder that is not a usable Qwen Instruct export, in words', async () => {
    const base = join(tmp.dir, 'base-model');
    await cp(folder('good'), base, { recursive: true });
    const config = JSON.parse(await readFile(join(base, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    delete config.chat_template;
    await writeFile(join(base, 'tokenizer_config.json'), JSON.stringify(config));
    const e = enhancer();
    const err = await e.enhance(options('good', { modelPath: base })).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(PipelineError);
    expect((err as PipelineError).code).toBe('model_invalid');
    expect((err as PipelineError).message).toMatch(/no chat_template: this looks like a base model/);

    await rm(join(base, 'onnx'), { recursive: true });
    const missing = await e.enhance(options('good', { modelPath: base })).catch((x: unknown) => x);
    expect((missing as PipelineError).message).toMatch(/onnx\/model\.onnx .* is missing/);
    expect(e.loaded).toBeNull();
  });

  it('reads a chat template kept in chat_template.jinja, as newer exports have it', async () => {
    const dir = join(tmp.dir, 'jinja-template');
    await cp(folder('good'), dir, { recursive: true });
    const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'chat_template.jinja'), String(config.chat_template));
    delete config.chat_template;
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
    const r = await enhancer().enhance(options('good', { modelPath: dir }));
    expect(r.warning).toBeNull();
    expect(r.text).toBe(GOOD_REPLY);
  });

  it('rejects an empty prompt before loading anything', async () => {
    const e = enhancer();
    const err = await e.enhance(options('good', { prompt: '  ' })).catch((x: unknown) => x);
    expect((err as PipelineError).code).toBe('invalid_params');
    expect(e.loaded).toBeNull();
  });
});

describe('generation', () => {
  it('feeds the growing KV cache back: one prompt pass, then one token per call', async () => {
    const e = enhancer();
    await e.enhance(options('good'));
    const calls = recordCalls(e);
    const r = await e.enhance(options('good'));
    const prompt = r.timings.promptTokens;
    expect(calls[0]).toEqual({ past: 0, present: prompt, inputIds: prompt, positions: Array.from({ length: prompt }, (_, i) => i), mask: prompt });
    // Each later call adds exactly one token to the cache, at the next position.
    for (let i = 1; i < calls.length; i++) {
      expect(calls[i]).toEqual({ past: prompt + i - 1, present: prompt + i, inputIds: 1, positions: [prompt + i - 1], mask: prompt + i });
    }
    // One call per token: the prompt pass gives the first, each cached step one more.
    expect(calls).toHaveLength(r.tokens);
    expect(r.stoppedBy).toBe('end');
    expect(r.timings.loadMs).toBe(0);
    expect(r.timings.sessionRunMs).toBeGreaterThan(0);
    expect(r.timings.sessionRunMs).toBeLessThanOrEqual(r.timings.generateMs);
  });

  it('is deterministic for a seed, and the seed matters when tokens are equally likely', async () => {
    const e = enhancer();
    const replies = new Set(possibleReplies('choices'));
    const texts: string[] = [];
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const r = await e.enhance(options('choices', { seed }));
      expect(r.warning).toBeNull();
      expect(replies.has(r.text)).toBe(true);
      texts.push(r.text);
    }
    expect(new Set(texts).size).toBeGreaterThan(1);
    const again = await Promise.all([1, 2, 3, 4].map((seed) => enhancer().enhance(options('choices', { seed }))));
    expect(again.map((r) => r.text)).toEqual(texts.slice(0, 4));
  });

  it('decodes greedily when the temperature is 0', async () => {
    const greedy = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1 };
    const e = enhancer();
    const a = await e.enhance(options('choices', { seed: 1, sampling: greedy }));
    const b = await e.enhance(options('choices', { seed: 999, sampling: greedy }));
    expect(a.text).toBe(GOOD_REPLY);
    expect(b.text).toBe(a.text);
  });

  it('writes SDXL tags on one line without a closing full stop', async () => {
    const r = await enhancer().enhance(options('good', { target: 'sdxl' }));
    expect(r.text).toBe(GOOD_REPLY.replace(/\.$/, ''));
  });

  it('stops at the token limit and keeps the complete sentences', async () => {
    const e = enhancer();
    const r = await e.enhance(options('rambling', { maxNewTokens: 50 }));
    expect(r.tokens).toBe(50);
    expect(r.stoppedBy).toBe('length');
    expect(r.raw.startsWith(`${GOOD_REPLY} A red`)).toBe(true);
    expect(r.text).toBe(GOOD_REPLY);
    const wan = await e.enhance(options('rambling'));
    expect(wan.tokens).toBe(320);
    const capped = await e.enhance(options('rambling', { maxNewTokens: 100_000 }));
    expect(capped.tokens).toBe(1024);
  });

  it('counts tokens and reports a rate', async () => {
    const seen: number[] = [];
    const r = await enhancer().enhance(options('good', { onToken: (n) => seen.push(n) }));
    expect(seen).toEqual(Array.from({ length: r.tokens }, (_, i) => i + 1));
    expect(r.tokensPerSecond).toBeCloseTo((r.tokens * 1000) / r.timings.generateMs, 6);
    expect(r.ms).toBeGreaterThanOrEqual(r.timings.generateMs);
  });
});

describe('checks and fallbacks', () => {
  it('strips a wrapper around a good rewrite', async () => {
    const r = await enhancer().enhance(options('wrapped'));
    expect(r.raw).toBe(`Enhanced prompt: "${GOOD_REPLY}"`);
    expect(r.text).toBe(GOOD_REPLY);
    expect(r.warning).toBeNull();
  });

  it.each([
    ['boilerplate', /chat talk/],
    ['refusal', /the model refused/],
    ['junk', /symbols or numbers/],
  ] as const)('keeps the original prompt with a warning when the model writes %s', async (variant, why) => {
    const r = await enhancer().enhance(options(variant, { prompt: 'a fox in the snow at dawn' }));
    expect(r.text).toBe('a fox in the snow at dawn');
    expect(r.original).toBe('a fox in the snow at dawn');
    expect(r.warning).toMatch(why);
    expect(r.warning).toMatch(/original prompt was kept/);
    expect(r.raw.length).toBeGreaterThan(0);
  });
});

describe('cancellation and unload', () => {
  it('stops between tokens when the signal is aborted', async () => {
    const e = enhancer();
    await e.enhance(options('good'));
    const calls = recordCalls(e);
    const controller = new AbortController();
    const err = await e
      .enhance(options('good', { signal: controller.signal, onToken: (n) => n === 5 && controller.abort() }))
      .catch((x: unknown) => x);
    expect(err).toBeInstanceOf(CancelledError);
    expect(calls).toHaveLength(5);
    // The model stays loaded and usable.
    expect((await e.enhance(options('good'))).text).toBe(GOOD_REPLY);
  });

  it('does not load a model for a job already cancelled', async () => {
    const e = enhancer();
    const controller = new AbortController();
    controller.abort();
    await expect(e.enhance(options('good', { signal: controller.signal }))).rejects.toBeInstanceOf(CancelledError);
    expect(e.loaded).toBeNull();
  });

  it('releases the decoder session on unload and loads again on the next call', async () => {
    const e = enhancer();
    await e.enhance(options('good'));
    const first = e.loaded!;
    const session = first.model.sessions.model as { release: () => Promise<void>; run: (f: unknown) => Promise<unknown> };
    const release = vi.spyOn(session, 'release');
    await e.unload();
    expect(release).toHaveBeenCalledTimes(1);
    expect(e.loaded).toBeNull();
    await expect(session.run({})).rejects.toThrow();
    const r = await e.enhance(options('good'));
    expect(r.text).toBe(GOOD_REPLY);
    expect(e.loaded).not.toBe(first);
    expect(r.timings.loadMs).toBeGreaterThan(0);
  });

  it('swaps models when another folder is asked for, releasing the first', async () => {
    const e = enhancer();
    await e.enhance(options('good'));
    const release = vi.spyOn(e.loaded!.model.sessions.model as { release: () => Promise<void> }, 'release');
    const r = await e.enhance(options('refusal'));
    expect(release).toHaveBeenCalledTimes(1);
    expect(e.loaded?.folder).toBe(folder('refusal'));
    expect(r.warning).toMatch(/refused/);
  });
});
