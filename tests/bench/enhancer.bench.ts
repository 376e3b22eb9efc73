/**
 * Prompt-enhancer figures on the Qwen fixture (CPU): tokens per second through the enhancer, and
 * what transformers.js costs per token over the decoder's own `session.run` — measured against a
 * plain onnxruntime-node greedy loop over the same model with Qwen2.5's real vocabulary width
 * (151,936 logits a token), since that width is what makes per-token work in JS expensive.
 *
 * Real-model figures (Qwen2.5-7B/3B/0.5B Instruct on a GPU) are in docs/models.md; they need a
 * GPU machine and the model files, which CI has neither of. `QWEN_BENCH_MODEL=/path/to/folder`
 * adds the same tokens-per-second figure for a real export on this machine's best provider.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { buildQwenFixture } from '../fixtures/qwen/build-qwen.ts';
import { QwenEnhancer } from '../../src-main/engine/pipelines/qwen/enhancer.ts';
import type { EnhanceResult, SamplingSettings } from '../../src-main/engine/pipelines/qwen/enhancer.ts';
import { enhancementMessages } from '../../src-main/engine/pipelines/qwen/prompts.ts';
import type { Bench, Figure } from './harness.ts';
import { median } from './harness.ts';

const GREEDY: SamplingSettings = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1 };
const PROMPT = 'a fox in the snow at dawn';
const TOKENS = 96;
const RUNS = 5;

function perToken(r: EnhanceResult): number {
  return (r.timings.generateMs - r.timings.sessionRunMs) / r.tokens;
}
interface LoopTimes {
  /** From the start to the first token chosen (prompt pass included). */
  readonly prefillMs: number;
  /** Wall time per later token. */
  readonly decodeMsPerToken: number;
  /** Of which inside session.run. */
  readonly runMsPerToken: number;
}

/** Greedy decoding with the cache and nothing else: the floor any generation loop pays. */
async function rawGreedy(session: ort.InferenceSession, prompt: readonly number[], layers: number, kvHeads: number, headDim: number, steps: number): Promise<LoopTimes> {
  const started = performance.now();
  let firstAt = started;
  let runMs = 0;
  let past: Record<string, ort.Tensor> = {};
  for (let i = 0; i < layers; i++) {
    for (const kind of ['key', 'value']) past[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]);
  }
  let input = [...prompt];
  let total = 0;
  for (let n = 0; n < steps; n++) {
    const seq = input.length;
    const feeds = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(input, BigInt), [1, seq]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(total + seq).fill(1n), [1, total + seq]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: seq }, (_, i) => BigInt(total + i)), [1, seq]),
      ...past,
    };
    const r0 = performance.now();
    const out = await session.run(feeds);
    if (n > 0) runMs += performance.now() - r0;
    total += seq;
    const logits = out.logits!.data as Float32Array;
    const vocab = out.logits!.dims[2]!;
    let best = logits.length - vocab;
    for (let i = best + 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
    input = [best - (logits.length - vocab)];
    past = {};
    for (let i = 0; i < layers; i++) {
      past[`past_key_values.${i}.key`] = out[`present.${i}.key`]!;
      past[`past_key_values.${i}.value`] = out[`present.${i}.value`]!;
    }
    if (n === 0) firstAt = performance.now();
  }
  return { prefillMs: firstAt - started, decodeMsPerToken: (performance.now() - firstAt) / (steps - 1), runMsPerToken: runMs / (steps - 1) };
}

export const enhancerBench: Bench = {
  name: 'enhancer',
  async run(): Promise<Figure[]> {
    const figures: Figure[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'bench-enhancer-'));
    const enhancer = new QwenEnhancer();
    try {
      // Tokens per second through the whole enhancer (chat template, sampling, checks).
      const tiny = await buildQwenFixture(join(dir, 'tiny'), { variant: 'rambling' });
      const base = { modelPath: tiny.dir, prompt: PROMPT, target: 'wan' as const, providers: ['cpu'], maxNewTokens: TOKENS };
      await enhancer.enhance({ ...base, seed: 0 });
      const sampled: EnhanceResult[] = [];
      for (let i = 0; i < RUNS; i++) sampled.push(await enhancer.enhance({ ...base, seed: i + 1 }));
      const prompt = sampled[0]!.timings.promptTokens;
      figures.push({
        name: `enhancer tokens/s, tiny fixture, CPU, sampled, WAN prompt (${prompt} prompt + ${TOKENS} new tokens)`,
        value: median(sampled.map((r) => r.tokensPerSecond)),
        unit: 'tokens/s',
        note: 'fixture model: plumbing speed only; real-model figures need a GPU (docs/models.md)',
      });
      figures.push({ name: `prompt processing (${prompt} tokens), tiny fixture`, value: median(sampled.map((r) => r.timings.prefillMs)), unit: 'ms' });
      await enhancer.unload();

      // transformers.js per-token cost at Qwen2.5's vocabulary width, against a plain loop over
      // the same file. One thread each and the runs interleaved, so other load hits both alike.
      const wide = await buildQwenFixture(join(dir, 'wide'), { variant: 'rambling', vocabSize: 151936 });
      const wideBase = { ...base, modelPath: wide.dir, sessionOptions: { intraOpNumThreads: 1, interOpNumThreads: 1 } };
      await enhancer.enhance({ ...wideBase, seed: 0 });
      const ids = Array.from(
        enhancer.loaded!.tokenizer.apply_chat_template(enhancementMessages(PROMPT, 'wan').map((m) => ({ ...m })), {
          add_generation_prompt: true,
          return_tensor: false,
          return_dict: false,
        }) as unknown as number[],
        Number,
      );
      const session = await ort.InferenceSession.create(wide.modelFile, { intraOpNumThreads: 1, interOpNumThreads: 1 });
      await rawGreedy(session, ids, wide.layers, wide.kvHeads, wide.headDim, 4);
      const greedy: EnhanceResult[] = [];
      const nucleus: EnhanceResult[] = [];
      const raw: LoopTimes[] = [];
      for (let i = 0; i < 2 * RUNS; i++) {
        greedy.push(await enhancer.enhance({ ...wideBase, seed: i, sampling: GREEDY }));
        raw.push(await rawGreedy(session, ids, wide.layers, wide.kvHeads, wide.headDim, TOKENS));
        nucleus.push(await enhancer.enhance({ ...wideBase, seed: i }));
      }
      await session.release();
      await enhancer.unload();

      const decode = (r: EnhanceResult): number => r.timings.decodeMs / (r.tokens - 1);
      const tjsDecode = median(greedy.map(decode));
      const plainDecode = median(raw.map((r) => r.decodeMsPerToken));
      figures.push({
        name: 'decode step, transformers.js greedy (151,936-wide logits, 1 thread)',
        value: tjsDecode,
        unit: 'ms/token',
        note: `of which ${median(greedy.map((r) => (r.timings.decodeMs - (r.timings.sessionRunMs - r.timings.prefillMs)) / (r.tokens - 1))).toFixed(2)} ms outside session.run (approx.)`,
      });
      figures.push({
        name: 'decode step, plain onnxruntime-node greedy loop (same file, prompt and tokens)',
        value: plainDecode,
        unit: 'ms/token',
        note: `of which ${median(raw.map((r) => r.decodeMsPerToken - r.runMsPerToken)).toFixed(2)} ms outside session.run`,
      });
      figures.push({
        name: 'transformers.js cost over the plain loop per token',
        value: tjsDecode - plainDecode,
        unit: 'ms/token',
        target: { op: '<', value: 2 },
        note: 'a 7B token takes ~15–30 ms on a desktop GPU',
      });
      figures.push({
        name: 'decode step, enhancer sampled (repetition penalty, temperature, top-k 20, top-p 0.8)',
        value: median(nucleus.map(decode)),
        unit: 'ms/token',
      });
      figures.push({
        name: `prompt pass (${ids.length} tokens, logits for every position as exports without num_logits_to_keep return), transformers.js`,
        value: median(greedy.map((r) => r.timings.prefillMs)),
        unit: 'ms',
        note: `plain loop ${median(raw.map((r) => r.prefillMs)).toFixed(0)} ms`,
      });
    } finally {
      await enhancer.unload();
      rmSync(dir, { recursive: true, force: true });
    }

    const real = process.env.QWEN_BENCH_MODEL;
    if (real) {
      const e = new QwenEnhancer();
      try {
        const opts = { modelPath: real, prompt: PROMPT, target: 'wan' as const, maxNewTokens: 200 };
        await e.enhance({ ...opts, seed: 0 });
        const runs: EnhanceResult[] = [];
        for (let i = 0; i < 3; i++) runs.push(await e.enhance({ ...opts, seed: i + 1 }));
        const r = runs[0]!;
        figures.push({
          name: `enhancer tokens/s, ${real.split(/[\\/]/).pop()} (${r.dtype}) on ${r.provider}`,
          value: median(runs.map((x) => x.tokensPerSecond)),
          unit: 'tokens/s',
          note: `prompt ${r.timings.promptTokens} tokens in ${Math.round(median(runs.map((x) => x.timings.prefillMs)))} ms; overhead ${median(runs.map(perToken)).toFixed(2)} ms/token`,
        });
      } finally {
        await e.unload();
      }
    }
    return figures;
  },
};
