/**
 * The prompt-enhancer pipeline (model family 'qwen'). A run rewrites `params.prompt` for the
 * model the job type targets and returns it as `enhancedPrompt`, with no output files: this is how
 * the engine runs the Enhance button and the first stage of the *_enhanced job types in a worker.
 * `enhanceJobPrompt` is the same step for a pipeline that runs it in its own process (WAN's
 * enhanced job types) before loading its own model. Runs only inside an inference worker.
 */
import { PRESETS } from '../../../../src-preload/contract/catalog.ts';
import type { JobType } from '../../../../src-preload/contract/catalog.ts';
import { PipelineError } from '../types.ts';
import type { Pipeline, PipelineContext, PipelineResult, RunRequest } from '../types.ts';
import { isGgufModel, sharedEnhancer } from './enhancer.ts';
import type { EnhanceResult, EnhanceTarget, QwenEnhancer } from './enhancer.ts';
import { DEFAULT_MAX_JSON_TOKENS, DEFAULT_MAX_NEW_TOKENS } from './prompts.ts';

export { enhancePrompt, unloadEnhancer, sharedEnhancer, QwenEnhancer } from './enhancer.ts';
export type { EnhanceOptions, EnhanceResult, EnhanceTarget } from './enhancer.ts';

/** SDXL job types get SDXL tags; every other job type runs on WAN. */
export function targetForJobType(jobType: JobType): EnhanceTarget {
  return jobType.startsWith('sdxl_') ? 'sdxl' : 'wan';
}

export function isEnhancedJobType(jobType: JobType): boolean {
  return jobType.endsWith('_enhanced');
}

/** Progress at most every 100 ms: a 7B model on a GPU writes dozens of tokens a second. */
function tokenProgress(ctx: PipelineContext, limit: number): (generated: number) => void {
  let last = 0;
  return (generated) => {
    const now = performance.now();
    if (now - last < 100 && generated < limit) return;
    last = now;
    ctx.progress({ step: Math.min(generated, limit), of: limit, stage: 'enhancing prompt', preview: null });
  };
}

async function runEnhancer(enhancer: QwenEnhancer, req: RunRequest, model: RunRequest['model'], ctx: PipelineContext): Promise<EnhanceResult> {
  const target = targetForJobType(req.jobType);
  const limit = (isGgufModel(model.path) ? DEFAULT_MAX_JSON_TOKENS : DEFAULT_MAX_NEW_TOKENS)[target];
  ctx.progress({ step: 0, of: limit, stage: 'loading prompt enhancer', preview: null });
  const result = await enhancer.enhance({
    modelPath: model.path,
    prompt: req.params.prompt,
    target,
    shape: PRESETS[req.jobType].kind,
    seed: req.params.seed,
    maxNewTokens: limit,
    signal: ctx.signal,
    providers: req.providers,
    onToken: tokenProgress(ctx, limit),
  });
  ctx.log(
    `prompt enhancer: ${result.tokens} tokens in ${Math.round(result.timings.generateMs)} ms (${result.tokensPerSecond.toFixed(1)} tokens/s) on ${result.provider}, ${result.dtype}` +
      (result.warning ? ` — ${result.warning}` : ''),
  );
  return result;
}

function note(result: EnhanceResult): string | null {
  return [result.warning, result.providerNote].filter(Boolean).join(' ') || null;
}

function timings(result: EnhanceResult): Record<string, number> {
  return {
    enhanceMs: result.ms,
    enhanceLoadMs: result.timings.loadMs,
    enhancePromptTokens: result.timings.promptTokens,
    enhancePrefillMs: result.timings.prefillMs,
    enhanceDecodeMs: result.timings.decodeMs,
    enhanceTokens: result.tokens,
    enhanceTokensPerSecond: result.tokensPerSecond,
    enhanceSessionRunMs: result.timings.sessionRunMs,
  };
}

export class QwenPipeline implements Pipeline {
  readonly family = 'qwen';
  readonly #enhancer: QwenEnhancer;

  constructor(enhancer: QwenEnhancer = sharedEnhancer()) {
    this.#enhancer = enhancer;
  }

  async run(req: RunRequest, ctx: PipelineContext): Promise<PipelineResult> {
    const result = await runEnhancer(this.#enhancer, req, req.model, ctx);
    return { outputs: [], provider: result.provider, providerNote: note(result), enhancedPrompt: result.text, timings: timings(result) };
  }

  async unload(): Promise<void> {
    await this.#enhancer.unload();
  }
}

export function createPipeline(): Pipeline {
  return new QwenPipeline();
}

export interface JobPrompt {
  /** The prompt the job should render. */
  readonly prompt: string;
  readonly original: string;
  /** The rewrite in use, or null when the original is kept. */
  readonly enhanced: string | null;
  /** Why the original was kept, in words for the user; null otherwise. */
  readonly warning: string | null;
  /** The warning and any provider fall-back note, for the job's provider note; null when neither. */
  readonly note: string | null;
  /** Figures for the job's timings (empty when the user had already reviewed a rewrite). */
  readonly timings: Record<string, number>;
}

export interface JobPromptOptions {
  /** Release the enhancer afterwards, when it and the job's own model do not fit in VRAM together. */
  readonly unloadAfter?: boolean;
  readonly enhancer?: QwenEnhancer;
}

/**
 * The prompt an enhanced job renders: the rewrite the user reviewed (params.enhancedPrompt), else
 * a fresh one from `req.enhancer`. Fails at once when no enhancer model was given — an enhanced
 * job never runs silently unenhanced; a rewrite that fails its checks keeps the original with a
 * warning instead.
 */
export async function enhanceJobPrompt(req: RunRequest, ctx: PipelineContext, options: JobPromptOptions = {}): Promise<JobPrompt> {
  const original = req.params.prompt;
  if (req.params.enhancedPrompt) {
    return { prompt: req.params.enhancedPrompt, original, enhanced: req.params.enhancedPrompt, warning: null, note: null, timings: {} };
  }
  if (!req.enhancer) {
    throw new PipelineError(
      'enhancer_missing',
      `${req.jobType} rewrites its prompt with Qwen 2.5 Instruct, but no prompt-enhancer model is installed. Add a Qwen2.5 Instruct GGUF file (such as Qwen2.5-7B-Instruct-Q4_K_M.gguf) or ONNX folder to a model folder (see docs/models.md), or choose the job type without "enhanced".`,
    );
  }
  const enhancer = options.enhancer ?? sharedEnhancer();
  try {
    const result = await runEnhancer(enhancer, req, req.enhancer, ctx);
    return {
      prompt: result.text,
      original,
      enhanced: result.warning ? null : result.text,
      warning: result.warning,
      note: note(result),
      timings: timings(result),
    };
  } finally {
    if (options.unloadAfter) await enhancer.unload();
  }
}
