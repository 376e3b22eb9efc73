/**
 * Prompt-enhancer figures on the Qwen fixture (CPU): tokens per second through the enhancer, and
 * what transformers.js costs per token over the decoder's own `session.run` — measured against a
 * plain onnxruntime-node greedy loop over the same model with Qwen2.5's real vocabulary width
 * (151,936 logits a token), since that width is what makes per-token work in JS expensive.
 *
 * llama.cpp (node-llama-cpp) against transformers.js on one model (gguf.bench-part below): the
 * tiny Qwen2 GGUF and its ONNX twin (tests/fixtures/qwen/gguf-twin.ts — the same F16 weights,
 * tokenizer and prompt), one thread each, interleaved: time to the first token and decode
 * tokens/s, and their ratios; then the GGUF enhancer as jobs run it (chat template, JSON grammar,
 * sampling); then a synthetic GGUF of Qwen2.5-0.5B-Instruct's shapes (Q8_0, 151,936-token
 * embedding, tied output; written once to .fixtures/enhancer-bench/). Last, each backend alone in
 * a fresh process (children/enhancer-backend.ts): load time, decode tokens/s and peak RSS of the
 * ONNX twin on transformers.js, the tiny GGUF and the synthetic 0.5B GGUF on node-llama-cpp
 * (`node tests/bench/enhancer.bench.ts backends` runs only these).
 *
 * Real-model figures (Qwen2.5-7B/3B/0.5B Instruct on a GPU) are in docs/models.md; they need a
 * GPU machine and the model files, which CI has neither of. `QWEN_BENCH_MODEL=/path/to/folder`
 * (or a .gguf file) adds the same tokens-per-second figure for a real model on this machine's
 * best provider.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Token } from 'node-llama-cpp';
import * as ort from 'onnxruntime-node';
import { buildQwenFixture } from '../fixtures/qwen/build-qwen.ts';
import { buildGgufTwin } from '../fixtures/qwen/gguf-twin.ts';
import { QWEN25_05B, QWEN25_VOCAB, writeQwenGguf } from '../fixtures/qwen/gguf-writer.ts';
import { inspectQwenGguf } from '../../src-main/engine/models/qwen-gguf.ts';
import { QwenEnhancer } from '../../src-main/engine/pipelines/qwen/enhancer.ts';
import type { EnhanceResult, SamplingSettings } from '../../src-main/engine/pipelines/qwen/enhancer.ts';
import { enhancementMessages } from '../../src-main/engine/pipelines/qwen/prompts.ts';
import type { Bench, Figure } from './harness.ts';
import { median } from './harness.ts';

const GREEDY: SamplingSettings = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1 };
const PROMPT = 'a fox in the snow at dawn';
const TOKENS = 96;
const RUNS = 5;
const CACHE = fileURLToPath(new URL('../../.fixtures/enhancer-bench/', import.meta.url));
const SYNTHETIC_05B = join(CACHE, 'qwen2.5-0.5b-instruct-synthetic-q8_0.gguf');

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

    figures.push(...(await llamaFigures()));
    figures.push(...(await backendFigures()));

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

interface Timed {
  readonly firstTokenMs: number;
  readonly tokensPerSecond: number;
  readonly tokens: readonly number[];
}

/**
 * node-llama-cpp with nothing around it: the prompt's ids into an empty sequence, then `steps`
 * greedy tokens (end tokens included: the count is fixed, as transformers.js's is below).
 */
async function llamaGreedy(sequence: import('node-llama-cpp').LlamaContextSequence, ids: readonly number[], steps: number): Promise<Timed> {
  await sequence.clearHistory();
  const started = performance.now();
  let firstAt = started;
  const tokens: number[] = [];
  for await (const token of sequence.evaluate(ids as Token[], { temperature: 0 })) {
    tokens.push(token);
    if (tokens.length === 1) firstAt = performance.now();
    if (tokens.length === steps) break;
  }
  return { firstTokenMs: firstAt - started, tokensPerSecond: ((steps - 1) * 1000) / (performance.now() - firstAt), tokens };
}

/** transformers.js generate (the enhancer's model object) with the same ids and a fixed token count. */
async function transformersGreedy(enhancer: QwenEnhancer, ids: readonly number[], steps: number): Promise<Timed> {
  const m = enhancer.loaded!;
  const { Tensor, StoppingCriteria } = await import('@huggingface/transformers');
  let firstAt = 0;
  class FirstToken extends StoppingCriteria {
    override _call(inputIds: number[][]): boolean[] {
      firstAt ||= performance.now();
      return inputIds.map(() => false);
    }
  }
  const input = new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
  const mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
  const started = performance.now();
  const out = (await m.model.generate({ input_ids: input, attention_mask: mask, max_new_tokens: steps, min_new_tokens: steps, do_sample: false, stopping_criteria: [new FirstToken()] })) as InstanceType<typeof Tensor>;
  const end = performance.now();
  const tokens = Array.from(out.data as BigInt64Array, Number).slice(ids.length);
  return { firstTokenMs: firstAt - started, tokensPerSecond: ((tokens.length - 1) * 1000) / (end - firstAt), tokens };
}

function agreeing(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

export async function llamaFigures(): Promise<Figure[]> {
  const figures: Figure[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'bench-enhancer-gguf-'));
  const enhancer = new QwenEnhancer();
  const gguf = new QwenEnhancer();
  try {
    // One model two ways: the tiny GGUF and its ONNX twin, the same ids, one thread each.
    const file = join(dir, 'tiny.gguf');
    writeQwenGguf(file);
    const twin = await buildGgufTwin(join(dir, 'twin'));
    const oneThread = { providers: ['cpu'], sessionOptions: { intraOpNumThreads: 1, interOpNumThreads: 1 }, threads: 1 };
    await enhancer.enhance({ modelPath: twin.dir, prompt: PROMPT, target: 'wan', seed: 0, maxNewTokens: 4, sampling: GREEDY, ...oneThread });
    await gguf.enhance({ modelPath: file, prompt: PROMPT, target: 'wan', seed: 0, maxNewTokens: 4, ...oneThread });
    const ids = Array.from(
      enhancer.loaded!.tokenizer.apply_chat_template(enhancementMessages(PROMPT, 'wan').map((m) => ({ ...m })), { add_generation_prompt: true, return_tensor: false, return_dict: false }) as unknown as number[],
      Number,
    );
    const llamaIds = [...gguf.loadedGguf!.model.tokenize(enhancer.loaded!.tokenizer.decode(ids, { skip_special_tokens: false }), true)];
    const sequence = gguf.loadedGguf!.sequence;
    const tjs: Timed[] = [];
    const cpp: Timed[] = [];
    for (let i = 0; i < RUNS; i++) {
      tjs.push(await transformersGreedy(enhancer, ids, TOKENS));
      cpp.push(await llamaGreedy(sequence, ids, TOKENS));
    }
    const load = loadavg()[0]!.toFixed(1);
    const sameIds = llamaIds.length === ids.length && llamaIds.every((t, i) => t === ids[i]);
    const ttftT = median(tjs.map((t) => t.firstTokenMs));
    const ttftL = median(cpp.map((t) => t.firstTokenMs));
    const tpsT = median(tjs.map((t) => t.tokensPerSecond));
    const tpsL = median(cpp.map((t) => t.tokensPerSecond));
    const same = `tiny Qwen2 (hidden 64, 2 layers, F16 weights), ${ids.length}-token WAN prompt, greedy, ${TOKENS} tokens, 1 thread`;
    figures.push({ name: `time to first token, transformers.js (ONNX twin), ${same}`, value: ttftT, unit: 'ms', note: `load average ${load}` });
    figures.push({ name: `time to first token, node-llama-cpp (GGUF), ${same}`, value: ttftL, unit: 'ms', note: `llama.cpp tokenises the same text to the same ids: ${sameIds ? 'yes' : 'no'}` });
    figures.push({ name: 'time to first token, transformers.js ÷ node-llama-cpp', value: ttftT / ttftL, unit: 'x' });
    figures.push({ name: `decode, transformers.js (ONNX twin), ${same}`, value: tpsT, unit: 'tokens/s' });
    figures.push({ name: `decode, node-llama-cpp (GGUF), ${same}`, value: tpsL, unit: 'tokens/s', note: `greedy tokens equal to transformers.js' for the first ${agreeing(tjs[0]!.tokens, cpp[0]!.tokens)} of ${TOKENS} (llama.cpp rounds activations to F16 for F16 weights)` });
    figures.push({ name: 'decode tokens/s, node-llama-cpp ÷ transformers.js', value: tpsL / tpsT, unit: 'x' });
    await enhancer.unload();

    // The GGUF enhancer as a video job runs it: chat template, JSON grammar, sampling, checks.
    console.log('  tiny model: transformers.js and node-llama-cpp timed; now the GGUF enhancer');
    const jobs = [];
    for (let i = 0; i < RUNS; i++) jobs.push(await gguf.enhance({ modelPath: file, prompt: PROMPT, target: 'wan', shape: 'video', seed: i + 1, ...oneThread }));
    figures.push({
      name: `GGUF enhancer, tiny model, video JSON under the grammar, sampled (${jobs[0]!.timings.promptTokens} prompt tokens): time to first token`,
      value: median(jobs.map((r) => r.timings.prefillMs)),
      unit: 'ms',
    });
    figures.push({ name: 'GGUF enhancer, tiny model, video JSON: tokens/s (first token to last)', value: median(jobs.map((r) => (r.tokens - 1) / (r.timings.decodeMs / 1000))), unit: 'tokens/s', note: `${median(jobs.map((r) => r.tokens))} tokens per answer; ${jobs.filter((r) => r.warning === null).length}/${RUNS} rewrites passed the checks` });
    await gguf.unload();

    // Qwen2.5-0.5B-Instruct's shapes (random Q8_0 weights), on the CPU's cores.
    if (!existsSync(SYNTHETIC_05B)) {
      const t0 = performance.now();
      writeQwenGguf(SYNTHETIC_05B, { shape: QWEN25_05B, type: 'Q8_0', vocabSize: QWEN25_VOCAB, name: 'Qwen2.5 0.5B Instruct (synthetic shapes)' });
      console.log(`  wrote ${SYNTHETIC_05B} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    const info = inspectQwenGguf(SYNTHETIC_05B);
    if (!info.ok) throw new Error(info.sentence);
    console.log('  now the synthetic Qwen2.5-0.5B');
    // llama.cpp's own thread count (the CPU's math cores) unless STUDIO_LLAMA_THREADS says otherwise.
    const real = { modelPath: SYNTHETIC_05B, prompt: PROMPT, target: 'wan' as const, shape: 'video' as const, providers: ['cpu'], maxNewTokens: 160 };
    const first = await gguf.enhance({ ...real, seed: 0 });
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await gguf.enhance({ ...real, seed: i + 1 }));
    const raw = [];
    for (let i = 0; i < 3; i++) raw.push(await llamaGreedy(gguf.loadedGguf!.sequence, llamaIds, 64));
    const threads = gguf.loadedGguf!.context.currentThreads;
    figures.push({
      name: `${info.description}: load`,
      value: first.timings.loadMs,
      unit: 'ms',
      note: `${info.parameters.toLocaleString('en')} parameters; load average ${loadavg()[0]!.toFixed(1)}`,
    });
    figures.push({
      name: `synthetic Qwen2.5-0.5B Q8_0 on llama.cpp CPU (${threads} threads), video JSON, sampled: time to first token (${first.timings.promptTokens} prompt tokens)`,
      value: median(runs.map((r) => r.timings.prefillMs)),
      unit: 'ms',
    });
    figures.push({ name: 'synthetic Qwen2.5-0.5B Q8_0, enhancer: tokens/s (first token to last, grammar and sampling included)', value: median(runs.map((r) => (r.tokens - 1) / (r.timings.decodeMs / 1000))), unit: 'tokens/s' });
    figures.push({ name: 'synthetic Qwen2.5-0.5B Q8_0, plain greedy decode (no grammar, no sampling)', value: median(raw.map((r) => r.tokensPerSecond)), unit: 'tokens/s', note: `time to first token ${median(raw.map((r) => r.firstTokenMs)).toFixed(0)} ms` });
  } finally {
    await enhancer.unload();
    await gguf.unload();
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

interface BackendRun {
  readonly format: string;
  readonly dtype: string;
  readonly provider: string;
  readonly loadMs: number;
  readonly rssBeforeMb: number;
  readonly rssAfterLoadMb: number;
  readonly maxRssMb: number;
  readonly runs: readonly { tokens: number; promptTokens: number; firstTokenMs: number; decodeTokensPerSecond: number; tokensPerSecond: number }[];
}

/**
 * Each backend alone in a fresh process (children/enhancer-backend.ts), so its load time and peak
 * RSS are its own: the tiny GGUF on node-llama-cpp and its ONNX twin on transformers.js (one
 * thread each, the same weights), and the synthetic Qwen2.5-0.5B GGUF on llama.cpp (one thread, then two).
 * Greedy, a fixed token budget, the WAN prompt; RSS is the whole process's (Node and the enhancer's
 * modules included, their baseline given in the note).
 */
export async function backendFigures(): Promise<Figure[]> {
  const figures: Figure[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'bench-enhancer-backends-'));
  const script = fileURLToPath(new URL('./children/enhancer-backend.ts', import.meta.url));
  const run = (model: string, threads: number, tokens: number, runs = RUNS): BackendRun => {
    const out = execFileSync(process.execPath, [script, model, String(threads), String(runs), String(tokens)], { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
    return JSON.parse(out.trim().split('\n').at(-1)!) as BackendRun;
  };
  const report = (label: string, r: BackendRun): void => {
    const tokens = r.runs.map((x) => x.tokens);
    figures.push(
      { name: `${label}: load (fresh process)`, value: r.loadMs, unit: 'ms', note: `${r.format} ${r.dtype} on ${r.provider}` },
      {
        name: `${label}: decode tokens/s (first token to last), median of ${r.runs.length}`,
        value: median(r.runs.map((x) => x.decodeTokensPerSecond)),
        unit: 'tokens/s',
        note: `${Math.min(...tokens)}–${Math.max(...tokens)} tokens an answer; time to first token ${median(r.runs.map((x) => x.firstTokenMs)).toFixed(0)} ms (${r.runs[0]!.promptTokens} prompt tokens); load average ${loadavg()[0]!.toFixed(1)}`,
      },
      { name: `${label}: peak RSS`, value: r.maxRssMb, unit: 'MB', note: `${r.rssBeforeMb} MB before loading (Node and the enhancer's modules), ${r.rssAfterLoadMb} MB after` },
    );
  };
  try {
    const file = join(dir, 'tiny.gguf');
    writeQwenGguf(file);
    const twin = await buildGgufTwin(join(dir, 'twin'));
    report('tiny Qwen2 ONNX twin on transformers.js (1 thread)', run(twin.dir, 1, TOKENS));
    report('tiny Qwen2 GGUF on node-llama-cpp (1 thread)', run(file, 1, TOKENS));
    if (existsSync(SYNTHETIC_05B)) {
      // Both thread counts: llama.cpp's threads meet at a barrier every operation, so on shared,
      // oversubscribed cores two threads can be slower than one.
      report('synthetic Qwen2.5-0.5B Q8_0 GGUF on node-llama-cpp (1 thread)', run(SYNTHETIC_05B, 1, 64, 3));
      report('synthetic Qwen2.5-0.5B Q8_0 GGUF on node-llama-cpp (2 threads)', run(SYNTHETIC_05B, 2, 64, 3));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

// `node tests/bench/enhancer.bench.ts backends` prints only the per-backend figures (load, tokens/s, peak RSS).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const figures = process.argv[2] === 'backends' ? await backendFigures() : await enhancerBench.run();
  for (const f of figures) console.log(`- ${f.name}: ${f.value >= 100 ? f.value.toFixed(0) : f.value.toPrecision(3)} ${f.unit}${f.note ? ` — ${f.note}` : ''}`);
}
