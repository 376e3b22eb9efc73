/**
 * Loads a Qwen2.5 Instruct ONNX folder through transformers.js on onnxruntime-node, strictly from
 * disk: remote models, the download cache and fetch are switched off before anything is read, so
 * a missing file is an error naming it, never a download (and nothing is written under
 * node_modules). The execution provider is chosen with the app's own fallback order and notes
 * (providers.ts); the decoder file (fp32, fp16, q4f16, q4…) is chosen per provider, preferring
 * half-precision 4-bit weights on a GPU and 4/8-bit integer weights on the CPU.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, LogLevel, env } from '@huggingface/transformers';
import type { PreTrainedModel, PreTrainedTokenizer } from '@huggingface/transformers';
import { currentPlatform, openSession, RunTimer, SessionLoadError } from '../../inference/runtime.ts';
import type { OpenedSession, SessionOptions } from '../../inference/runtime.ts';
import { QWEN_DTYPE_FILES, preferredQwenFile, qwenModelFiles, validateQwen } from '../../models/qwen-validator.ts';
import type { QwenDtype, QwenModelFile } from '../../models/qwen-validator.ts';
import { PipelineError } from '../types.ts';

export interface LoadedQwen {
  readonly folder: string;
  readonly model: PreTrainedModel;
  readonly tokenizer: PreTrainedTokenizer;
  readonly provider: string;
  /** Why a faster provider was not used, or null. */
  readonly note: string | null;
  readonly dtype: QwenDtype;
  readonly file: string;
  readonly loadMs: number;
  /** Time spent inside the decoder's `session.run`. */
  readonly timer: RunTimer;
  /** Tokens that end the reply (`<|im_end|>`, `<|endoftext|>`, generation_config's). */
  readonly endIds: readonly number[];
}

export interface LoadOptions {
  readonly providers?: readonly string[];
  /** A decoder file to use instead of the per-provider preference. */
  readonly dtype?: QwenDtype;
  /** onnxruntime session options (threads…), the providers aside. */
  readonly sessionOptions?: Omit<SessionOptions, 'executionProviders'>;
}

/** Providers that failed to initialise in this process, so a later load does not try them again. */
const providerFailures = new Map<string, string>();

export function pickDtype(files: readonly QwenModelFile[], provider: string, requested?: QwenDtype): QwenModelFile {
  const file = preferredQwenFile(files, provider, requested);
  if (file) return file;
  if (requested) {
    throw new PipelineError(
      'model_invalid',
      `onnx/${QWEN_DTYPE_FILES[requested]} is not in the enhancer model folder (it has ${files.map((f) => QWEN_DTYPE_FILES[f.dtype]).join(', ') || 'no decoder'})`,
    );
  }
  throw new PipelineError('model_invalid', 'the enhancer model folder has no onnx/model*.onnx decoder');
}

/** transformers.js reads local files only; nothing is fetched and no cache is written. */
export function configureOffline(folder: string): void {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dirname(folder);
  env.useFSCache = false;
  env.useBrowserCache = false;
  env.useWasmCache = false;
  env.useCustomCache = false;
  env.cacheDir = null;
  env.fetch = (input: string | URL) => Promise.reject(new Error(`network access is disabled for the prompt enhancer (asked for ${String(input)})`));
  env.logLevel = LogLevel.ERROR;
}

function providerName(options: SessionOptions): string {
  const ep = options.executionProviders?.[0];
  if (!ep) return 'cpu';
  return typeof ep === 'string' ? ep : ep.name;
}

function numbers(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === 'number') : [];
}

function endTokenIds(model: PreTrainedModel, tokenizer: PreTrainedTokenizer): number[] {
  const ids = new Set<number>();
  const generation = (model.generation_config ?? {}) as Record<string, unknown>;
  for (const id of numbers(generation.eos_token_id)) ids.add(id);
  for (const id of numbers((model.config as unknown as Record<string, unknown>).eos_token_id)) ids.add(id);
  for (const token of ['<|im_end|>', '<|endoftext|>']) {
    const id = tokenizer.convert_tokens_to_ids(token);
    if (typeof id === 'number' && id >= 0) ids.add(id);
  }
  return [...ids];
}

/**
 * Newer exports keep the template in chat_template.jinja (or chat_template.json) instead of
 * tokenizer_config.json, and transformers.js reads only the latter: take it from the side file.
 */
function adoptSeparateChatTemplate(folder: string, tokenizer: PreTrainedTokenizer): void {
  const holder = tokenizer as unknown as { chat_template: unknown };
  if (holder.chat_template) return;
  const jinja = join(folder, 'chat_template.jinja');
  const json = join(folder, 'chat_template.json');
  if (existsSync(jinja)) holder.chat_template = readFileSync(jinja, 'utf8');
  else if (existsSync(json)) holder.chat_template = (JSON.parse(readFileSync(json, 'utf8')) as { chat_template?: unknown }).chat_template ?? null;
}

/** Validates the folder, then loads tokenizer and decoder with the first provider that works. */
export async function loadQwen(folder: string, options: LoadOptions = {}): Promise<LoadedQwen> {
  const started = performance.now();
  const report = validateQwen(folder);
  if (report.problems.length) {
    throw new PipelineError('model_invalid', `The prompt-enhancer model in ${folder} cannot be used: ${report.problems.join('; ')}`);
  }
  configureOffline(folder);
  const files = qwenModelFiles(folder);
  let tokenizer: PreTrainedTokenizer;
  try {
    tokenizer = await AutoTokenizer.from_pretrained(folder, { local_files_only: true });
  } catch (e) {
    throw new PipelineError('model_invalid', `The enhancer's tokenizer in ${folder} cannot be read: ${(e as Error).message}`);
  }
  adoptSeparateChatTemplate(folder, tokenizer);
  let chosen: QwenModelFile | null = null;
  let opened: OpenedSession<PreTrainedModel>;
  try {
    opened = await openSession<PreTrainedModel>(folder, {
      providers: options.providers,
      platform: currentPlatform(),
      sessionOptions: options.sessionOptions,
      knownFailures: providerFailures,
      factory: async (_path, sessionOptions) => {
        const provider = providerName(sessionOptions);
        const file = pickDtype(files, provider, options.dtype);
        const model = await AutoModelForCausalLM.from_pretrained(folder, {
          dtype: file.dtype,
          // WebGPU keeps the KV cache on the GPU between tokens when transformers.js knows the device.
          device: provider === 'webgpu' ? 'webgpu' : undefined,
          session_options: sessionOptions,
          local_files_only: true,
        });
        chosen = file;
        return model;
      },
    });
  } catch (e) {
    if (e instanceof PipelineError) throw e;
    const detail = e instanceof SessionLoadError ? e.message : (e as Error).message;
    throw new PipelineError('model_invalid', `The prompt-enhancer model could not be loaded: ${detail}`);
  }
  const model = opened.session;
  const file = chosen as QwenModelFile | null;
  if (!file) throw new PipelineError('model_invalid', 'the enhancer decoder loaded without a file (internal error)');
  const timer = new RunTimer();
  for (const session of Object.values(model.sessions) as { run: (...args: unknown[]) => Promise<unknown> }[]) {
    const run = session.run.bind(session);
    session.run = (...args: unknown[]) => timer.time(() => run(...args));
  }
  return {
    folder,
    model,
    tokenizer,
    provider: opened.provider,
    note: opened.note,
    dtype: file.dtype,
    file: file.file,
    loadMs: performance.now() - started,
    timer,
    endIds: endTokenIds(model, tokenizer),
  };
}

/** Releases the decoder's sessions (native and GPU memory). */
export async function disposeQwen(loaded: LoadedQwen): Promise<void> {
  await loaded.model.dispose();
}
