/**
 * One prompt-enhancer backend in a fresh process, so its load time and peak RSS are its own
 * (enhancer.bench.ts): the studio's `QwenEnhancer` on MODEL — a `.gguf` file runs on node-llama-cpp,
 * a transformers.js folder (onnx/model.onnx) on onnxruntime — loaded by the first `enhance` call,
 * then RUNS more calls with the same greedy settings and a fixed token budget.
 *
 * Prints JSON: { format, dtype, provider, loadMs, rssBeforeMb, rssAfterLoadMb, maxRssMb, runs: [...] }
 * where each run has its tokens, decode tokens/s (first token to last) and time to the first token.
 *   node tests/bench/children/enhancer-backend.ts MODEL THREADS RUNS MAX_NEW_TOKENS
 */
import { QwenEnhancer } from '../../../src-main/engine/pipelines/qwen/enhancer.ts';
import type { SamplingSettings } from '../../../src-main/engine/pipelines/qwen/enhancer.ts';

const [model, threadsArg, runsArg, tokensArg] = process.argv.slice(2);
if (!model || !threadsArg || !runsArg || !tokensArg) {
  console.error('usage: enhancer-backend.ts MODEL THREADS RUNS MAX_NEW_TOKENS');
  process.exit(2);
}
const threads = Number(threadsArg);
const GREEDY: SamplingSettings = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1 };
const rssMb = (): number => Math.round(process.memoryUsage().rss / 1e6);
const maxRssMb = (): number => Math.round((process.resourceUsage().maxRSS * 1024) / 1e6);

const options = {
  modelPath: model,
  prompt: 'a fox in the snow at dawn',
  target: 'wan' as const,
  providers: ['cpu'],
  maxNewTokens: Number(tokensArg),
  sampling: GREEDY,
  sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  threads,
};
// The enhancer's modules (transformers.js, node-llama-cpp's bindings) are imported above, so this
// baseline is a process ready to load either backend.
const rssBeforeMb = rssMb();
const enhancer = new QwenEnhancer();
const first = await enhancer.enhance({ ...options, seed: 0 });
const rssAfterLoadMb = rssMb();
const runs = [];
for (let i = 0; i < Number(runsArg); i++) {
  const r = await enhancer.enhance({ ...options, seed: i + 1 });
  runs.push({ tokens: r.tokens, promptTokens: r.timings.promptTokens, firstTokenMs: r.timings.prefillMs, decodeTokensPerSecond: r.tokens > 1 ? ((r.tokens - 1) * 1000) / r.timings.decodeMs : 0, tokensPerSecond: r.tokensPerSecond });
}
process.stdout.write(
  `${JSON.stringify({ format: first.format, dtype: first.dtype, provider: first.provider, loadMs: first.timings.loadMs, rssBeforeMb, rssAfterLoadMb, maxRssMb: maxRssMb(), runs })}\n`,
);
await enhancer.unload();
