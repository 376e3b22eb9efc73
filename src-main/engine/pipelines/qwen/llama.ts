/**
 * Runs a Qwen2.5 Instruct GGUF through llama.cpp (node-llama-cpp), inside the enhancer's worker:
 *
 * - llama.cpp comes from node-llama-cpp's prebuilt binaries (@node-llama-cpp/* packages: CUDA,
 *   Vulkan, Metal, CPU). `build: 'never'` and `skipDownload` forbid building or fetching one, so
 *   a machine without a working binary gets a sentence, never a compile or a download.
 * - The GPU follows the provider setting: CPU only when the user chose the CPU, else the best
 *   backend llama.cpp finds, with as many layers as fit (a note says when none was usable).
 * - The conversation goes through the model's own chat template (node-llama-cpp resolves it from
 *   tokenizer.chat_template), and the answer is held to a JSON-schema grammar (prompts.ts), so a
 *   0.5B–7B model cannot write anything but the asked-for object.
 * - Sampling is Qwen2.5 Instruct's (temperature, top-k, top-p, repetition penalty) drawn from the
 *   job's seed; each call starts from an empty KV cache, so the same seed, model, prompt and
 *   thread count give the same answer whatever ran before (llama.cpp's sums differ in the last
 *   bits between thread counts, which can change a sampled token).
 * - On the CPU llama.cpp uses the CPU's math cores; STUDIO_LLAMA_THREADS overrides that (its
 *   threads spin while they wait, so on a machine busy with other work fewer threads run faster).
 */
import { availableParallelism } from 'node:os';
import type { Llama, LlamaContext, LlamaContextSequence, LlamaGrammar, LlamaModel } from 'node-llama-cpp';
import { inspectQwenGguf } from '../../models/qwen-gguf.ts';
import type { QwenGgufInfo } from '../../models/qwen-gguf.ts';
import { CancelledError, PipelineError } from '../types.ts';
import { rewriteSchema } from './prompts.ts';
import type { ChatMessage, EnhanceTarget, RewriteShape } from './prompts.ts';

/** Context window the enhancer asks for: the instructions and example (~900 Qwen tokens) plus the answer. */
export const GGUF_CONTEXT_TOKENS = 4096;

export interface LoadedGguf {
  readonly path: string;
  readonly info: QwenGgufInfo;
  readonly llama: Llama;
  readonly model: LlamaModel;
  readonly context: LlamaContext;
  readonly sequence: LlamaContextSequence;
  /** "llama.cpp cuda", "llama.cpp vulkan", "llama.cpp metal" or "llama.cpp cpu". */
  readonly provider: string;
  readonly note: string | null;
  readonly gpuLayers: number;
  readonly loadMs: number;
  readonly grammars: Map<string, LlamaGrammar>;
}

export interface GgufLoadOptions {
  /** The provider setting, in order ('cpu' alone keeps llama.cpp on the CPU). */
  readonly providers?: readonly string[];
  /** Threads for evaluation (default: the CPU's cores as llama.cpp counts them for math). */
  readonly threads?: number;
}

type LlamaModule = typeof import('node-llama-cpp');
let llamaModule: Promise<LlamaModule> | null = null;
/** Threads from STUDIO_LLAMA_THREADS, when it is a positive integer. */
function threadsFromEnvironment(): number | undefined {
  const value = Number(process.env.STUDIO_LLAMA_THREADS);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/** One llama.cpp backend per GPU choice in this process (loading a backend takes a second). */
const backends = new Map<string, Promise<Llama>>();

function wantsGpu(providers: readonly string[] | undefined): boolean {
  if (!providers || providers.length === 0) return true;
  return providers.some((p) => p !== 'cpu');
}

async function backend(gpu: boolean): Promise<Llama> {
  const key = gpu ? 'auto' : 'cpu';
  let found = backends.get(key);
  if (!found) {
    llamaModule ??= import('node-llama-cpp');
    const { getLlama, LlamaLogLevel } = await llamaModule;
    found = getLlama({
      gpu: gpu ? 'auto' : false,
      build: 'never',
      skipDownload: true,
      usePrebuiltBinaries: true,
      progressLogs: false,
      logLevel: LlamaLogLevel.error,
      // More threads than cores spin against each other on a busy machine (llama.cpp's floor is 4).
      maxThreads: availableParallelism(),
    });
    found.catch(() => backends.delete(key));
    backends.set(key, found);
  }
  try {
    return await found;
  } catch (e) {
    throw new PipelineError(
      'enhancer_failed',
      `llama.cpp could not start on this machine (${(e as Error).message.split('\n')[0]}): reinstall the studio so its prebuilt llama.cpp binaries are present, or use a Qwen2.5 Instruct ONNX folder instead`,
    );
  }
}

/** Validates the file, then loads it with the best backend the provider setting allows. */
export async function loadQwenGguf(path: string, options: GgufLoadOptions = {}): Promise<LoadedGguf> {
  const started = performance.now();
  const info = inspectQwenGguf(path);
  if (!info.ok) throw new PipelineError('model_invalid', `The prompt-enhancer model cannot be used: ${info.sentence}`);
  const gpu = wantsGpu(options.providers);
  const llama = await backend(gpu);
  let model: LlamaModel;
  try {
    model = await llama.loadModel({ modelPath: path, gpuLayers: llama.gpu === false ? 0 : 'auto' });
  } catch (e) {
    throw new PipelineError('model_invalid', `llama.cpp could not load ${info.description}: ${(e as Error).message.split('\n')[0]} — download the file again, or try a smaller quantisation`);
  }
  let context: LlamaContext;
  try {
    context = await model.createContext({
      contextSize: Math.min(GGUF_CONTEXT_TOKENS, model.trainContextSize),
      sequences: 1,
      threads: options.threads ?? threadsFromEnvironment() ?? llama.cpuMathCores,
    });
  } catch (e) {
    await model.dispose();
    throw new PipelineError('enhancer_failed', `llama.cpp could not make room for the enhancer's context (${(e as Error).message.split('\n')[0]}): close other GPU programs or use a smaller Qwen2.5 model`, true);
  }
  const note =
    gpu && llama.gpu === false
      ? 'llama.cpp found no usable GPU (CUDA, Vulkan or Metal), so the prompt enhancer ran on the CPU.'
      : gpu && model.gpuLayers < info.hyper.layers + 1
        ? `Only ${model.gpuLayers} of ${info.hyper.layers + 1} layers of the prompt enhancer fit in GPU memory; the rest ran on the CPU.`
        : null;
  return {
    path,
    info,
    llama,
    model,
    context,
    sequence: context.getSequence(),
    provider: `llama.cpp ${llama.gpu === false ? 'cpu' : llama.gpu}`,
    note,
    gpuLayers: model.gpuLayers,
    loadMs: performance.now() - started,
    grammars: new Map(),
  };
}

/** Frees the context and the weights (GPU memory included); the backend stays for the next load. */
export async function disposeQwenGguf(loaded: LoadedGguf): Promise<void> {
  await loaded.context.dispose();
  await loaded.model.dispose();
}

export interface GgufSampling {
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  readonly repetitionPenalty: number;
}

export interface GgufGenerateOptions {
  readonly messages: readonly ChatMessage[];
  readonly target: EnhanceTarget;
  readonly shape: RewriteShape;
  readonly seed: number;
  readonly sampling: GgufSampling;
  readonly maxTokens: number;
  readonly signal?: AbortSignal;
  readonly onToken?: (generated: number, limit: number) => void;
}

export interface GgufGeneration {
  readonly raw: string;
  readonly tokens: number;
  readonly stoppedBy: 'end' | 'length';
  readonly promptTokens: number;
  /** From the call until the first generated token (the prompt's evaluation). */
  readonly prefillMs: number;
  readonly generateMs: number;
}

async function grammarFor(loaded: LoadedGguf, target: EnhanceTarget, shape: RewriteShape): Promise<LlamaGrammar> {
  const key = `${target}/${shape}`;
  let grammar = loaded.grammars.get(key);
  if (!grammar) {
    grammar = await loaded.llama.createGrammarForJsonSchema(rewriteSchema(target, shape) as never);
    loaded.grammars.set(key, grammar);
  }
  return grammar;
}

/** One answer: the conversation in the model's chat template, sampled under the JSON grammar. */
export async function generateGguf(loaded: LoadedGguf, options: GgufGenerateOptions): Promise<GgufGeneration> {
  const { LlamaChatSession } = await (llamaModule ??= import('node-llama-cpp'));
  const grammar = await grammarFor(loaded, options.target, options.shape);
  const [system, ...turns] = options.messages;
  const last = turns.pop();
  if (!system || system.role !== 'system' || !last || last.role !== 'user') throw new PipelineError('internal', 'the enhancer conversation must start with a system message and end with the idea');
  await loaded.sequence.clearHistory();
  const session = new LlamaChatSession({ contextSequence: loaded.sequence, autoDisposeSequence: false });
  session.setChatHistory([
    { type: 'system', text: system.content },
    ...turns.map((t) => (t.role === 'assistant' ? { type: 'model' as const, response: [t.content] } : { type: 'user' as const, text: t.content })),
  ]);
  const meter = loaded.sequence.tokenMeter;
  const inputBefore = meter.usedInputTokens;
  let generated = 0;
  let firstTokenAt: number | null = null;
  const started = performance.now();
  let result: Awaited<ReturnType<typeof session.promptWithMeta>>;
  try {
    const { temperature, topK, topP, repetitionPenalty } = options.sampling;
    result = await session.promptWithMeta(last.content, {
      grammar,
      seed: options.seed >>> 0,
      temperature,
      topK,
      topP,
      repeatPenalty: repetitionPenalty === 1 ? false : { penalty: repetitionPenalty },
      maxTokens: options.maxTokens,
      signal: options.signal,
      stopOnAbortSignal: true,
      onToken: (tokens) => {
        firstTokenAt ??= performance.now();
        generated += tokens.length;
        options.onToken?.(generated, options.maxTokens);
      },
    });
  } catch (e) {
    if (options.signal?.aborted) throw new CancelledError();
    throw new PipelineError('enhancer_failed', `The prompt enhancer failed while generating on llama.cpp: ${(e as Error).message}`, true);
  } finally {
    session.dispose({ disposeSequence: false });
  }
  if (options.signal?.aborted || result.stopReason === 'abort') throw new CancelledError();
  const generateMs = performance.now() - started;
  return {
    raw: result.responseText,
    tokens: generated,
    stoppedBy: result.stopReason === 'maxTokens' ? 'length' : 'end',
    promptTokens: meter.usedInputTokens - inputBefore,
    prefillMs: firstTokenAt !== null ? firstTokenAt - started : generateMs,
    generateMs,
  };
}
