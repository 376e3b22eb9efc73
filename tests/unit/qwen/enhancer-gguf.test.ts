/**
 * The enhancer on a GGUF: the project's tiny Qwen2 GGUF (random weights, a small BPE vocabulary,
 * Qwen's ChatML template) runs through node-llama-cpp on the CPU and answers in the JSON the
 * grammar holds it to — {prompt} for an image, {prompt, subject, motion, camera, light} for a
 * video — the same answer for the same seed, another for another seed; cancel stops it between
 * tokens; a refused file fails in words before llama.cpp sees it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QwenEnhancer } from '../../../src-main/engine/pipelines/qwen/enhancer.ts';
import type { EnhanceOptions } from '../../../src-main/engine/pipelines/qwen/enhancer.ts';
import { MAX_ASPECT_CHARS, MAX_PROMPT_CHARS } from '../../../src-main/engine/pipelines/qwen/prompts.ts';
import { CancelledError, PipelineError } from '../../../src-main/engine/pipelines/types.ts';
import { writeQwenGguf } from '../../fixtures/qwen/gguf-writer.ts';

let dir: string;
let tiny: string;
const enhancer = new QwenEnhancer();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'enhancer-gguf-'));
  tiny = join(dir, 'Qwen2.5-Tiny-Instruct-F16.gguf');
  writeQwenGguf(tiny);
});
afterAll(async () => {
  await enhancer.unload();
  rmSync(dir, { recursive: true, force: true });
});

function options(extra: Partial<EnhanceOptions> = {}): EnhanceOptions {
  return { modelPath: tiny, prompt: 'a fox in the snow at dawn', target: 'wan', seed: 7, providers: ['cpu'], threads: 1, ...extra };
}

describe('enhancer on a GGUF through llama.cpp', () => {
  it('writes a video rewrite as the JSON object the grammar asks for, and uses its prompt', async () => {
    const r = await enhancer.enhance(options());
    expect(r).toMatchObject({ format: 'gguf', provider: 'llama.cpp cpu', dtype: 'F16', providerNote: null, stoppedBy: 'end', warning: null });
    const answer = JSON.parse(r.raw) as Record<string, string>;
    expect(Object.keys(answer)).toEqual(['prompt', 'subject', 'motion', 'camera', 'light']);
    expect(r.fields).toEqual(answer);
    expect(answer.prompt!.length).toBeLessThanOrEqual(MAX_PROMPT_CHARS.wan);
    for (const aspect of ['subject', 'motion', 'camera', 'light']) expect(answer[aspect]!.length).toBeLessThanOrEqual(MAX_ASPECT_CHARS);
    // The checked prompt: the JSON's prompt field, folded into one paragraph.
    expect(r.text).toBe(answer.prompt!.replace(/\s+/g, ' ').trim());
    expect(r.text).not.toBe(r.original);
    expect(r.tokens).toBeGreaterThan(20);
    expect(r.timings.promptTokens).toBeGreaterThan(300);
    expect(r.timings.prefillMs).toBeGreaterThan(0);
    expect(enhancer.loadedGguf?.info.quantization).toBe('F16');
  });

  it('writes an image rewrite as {prompt} alone', async () => {
    const r = await enhancer.enhance(options({ target: 'sdxl', shape: 'image' }));
    expect(Object.keys(JSON.parse(r.raw) as object)).toEqual(['prompt']);
    expect(r.fields).toEqual({ prompt: expect.any(String) });
    expect(r.warning).toBeNull();
  });

  it('gives the same rewrite for the same seed, after a reload too, and another for another seed', async () => {
    const first = await enhancer.enhance(options({ seed: 11 }));
    const again = await enhancer.enhance(options({ seed: 11 }));
    await enhancer.unload();
    expect(enhancer.loadedGguf).toBeNull();
    const reloaded = await enhancer.enhance(options({ seed: 11 }));
    expect(reloaded.timings.loadMs).toBeGreaterThan(0);
    const other = await enhancer.enhance(options({ seed: 12 }));
    expect(again.raw).toBe(first.raw);
    expect(reloaded.raw).toBe(first.raw);
    expect(other.raw).not.toBe(first.raw);
  });

  it('stops between tokens when cancelled, and runs again afterwards', async () => {
    const controller = new AbortController();
    let seen = 0;
    const cancelled = enhancer.enhance(
      options({
        signal: controller.signal,
        onToken: (n) => {
          seen = n;
          if (n >= 5) controller.abort();
        },
      }),
    );
    await expect(cancelled).rejects.toBeInstanceOf(CancelledError);
    expect(seen).toBeGreaterThanOrEqual(5);
    expect(seen).toBeLessThan(40);
    const after = await enhancer.enhance(options());
    expect(after.warning).toBeNull();
  });

  it('keeps the original with a warning when the answer is cut at the token limit', async () => {
    const r = await enhancer.enhance(options({ maxNewTokens: 12 }));
    expect(r.stoppedBy).toBe('length');
    expect(r.text).toBe(r.original);
    expect(r.warning).toBe('Prompt enhancement was not used because it ran past the length limit before its answer was complete; the original prompt was kept.');
  });

  it('refuses a base model in words before loading it', async () => {
    const base = join(dir, 'Qwen2.5-Tiny-F16.gguf');
    writeQwenGguf(base, { chatTemplate: false });
    const fresh = new QwenEnhancer();
    const failure = await fresh.enhance(options({ modelPath: base })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PipelineError);
    expect(failure).toMatchObject({ code: 'model_invalid', message: expect.stringMatching(/^The prompt-enhancer model cannot be used: Qwen2\.5-Tiny-F16\.gguf is a base model, not Instruct/) });
  });
});
