/**
 * The shareable recipe: what a generated file says about how it was made, and nothing about the
 * machine that made it. Every writer of a shared file — the PNG's `ourvidz_recipe` chunk, the MP4's
 * `comment` tag, an export's JSON sidecar — embeds the object built here, and the asset row keeps
 * the same object, so what the library shows is what a shared file carries.
 *
 * In it: the prompts, seed and batch position, the noise source, steps, sampler and schedule, CFG,
 * size (frames and fps for video), the model by name and A1111 hash, the job type and id, the app
 * and its version, and facts of the model's own configuration that change the picture (flow
 * shift, scheduler_config values the studio does not reproduce).
 *
 * Not in it: file paths (the model's folder, the data folder), the execution provider and its
 * note (library paths, device files), timings and memory. Those stay on the local job record
 * (`jobs.provider`, `jobs.provider_note`) and the asset's `timings` column, which no file carries.
 *
 * The fields are copied one by one from an allow-list, never spread from a larger object, so a
 * value added to a job or a pipeline later cannot reach a shared file by accident. The job id is
 * a random UUID: it lets `studio library check` re-attach a file to its job and says nothing
 * about the machine.
 */
import { FLOW_SAMPLERS } from '../numerics/flow/index.ts';
import type { FlowSamplerName } from '../numerics/flow/index.ts';
import { SAMPLERS } from '../numerics/schedulers/index.ts';
import type { SamplerName } from '../numerics/schedulers/index.ts';
import { APP_NAME, APP_VERSION } from '../version.ts';

export type ShareableRecipe = {
  readonly app: string;
  readonly appVersion: string;
  readonly jobId: string | null;
  readonly jobType: string | null;
  /** The model by name and A1111's short hash (what A1111 and Civitai match on); never a path. */
  readonly model: { readonly id: string | null; readonly name: string | null; readonly hash: string | null; readonly family: string | null };
  /** The prompt the model was given: the enhanced prompt when the job had one. */
  readonly prompt: string;
  /** The user's prompt, when an enhancer rewrote it. */
  readonly originalPrompt?: string;
  readonly enhancedPrompt: string | null;
  readonly negativePrompt: string;
  readonly seed: number;
  /** Which of the job's images this is (its noise is this row of the seed's draw). */
  readonly batchIndex: number;
  /** How many images the job made. */
  readonly count: number;
  /** The starting noise: torch.randn on a CPU generator seeded with `seed`, `batch` rows drawn at once. */
  readonly noise: { readonly kind: 'torch.randn'; readonly device: 'cpu'; readonly dtype: 'float32'; readonly batch?: number };
  readonly steps: number;
  readonly guidance: number;
  /** The studio's sampler name (what `studio generate --scheduler` takes). */
  readonly scheduler: string;
  /** The sampler as A1111 (SDXL) or diffusers' menus (WAN) name it, e.g. `DPM++ 2M`, `UniPC`. */
  readonly sampler: string | null;
  /** A1111's schedule type for the SDXL samplers (`Karras`, `Uniform`); null for flow samplers. */
  readonly scheduleType: string | null;
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  /** Frames per second of a video; null for images. */
  readonly fps: number | null;
  /** WAN: the flow shift of the model's scheduler_config.json. */
  readonly flowShift?: number;
  /** WAN: tokens the prompt took, and whether it was cut at the encoder's limit. */
  readonly promptTokens?: number;
  readonly promptTruncated?: boolean;
  /** Values of the model's scheduler_config.json the studio does not reproduce, one sentence each. */
  readonly schedulerNotes?: readonly string[];
};

/** What a recipe is built from: the job as queued and the model that ran it. */
export interface RecipeJob {
  /** The version that made the file (default: this one). */
  readonly appVersion?: string;
  readonly jobId: string | null;
  readonly jobType: string | null;
  readonly params: {
    readonly prompt: string;
    readonly negativePrompt: string;
    readonly seed: number;
    readonly steps: number;
    readonly guidance: number;
    readonly scheduler: string;
    readonly width: number;
    readonly height: number;
    readonly frames?: number;
    readonly fps?: number | null;
    readonly count?: number;
    readonly enhancedPrompt?: string | null;
  };
  readonly model: { readonly id: string | null; readonly name?: string | null; readonly hash?: string | null; readonly family: string | null };
}

/** What is known of one output besides the job: its position and facts of the model's config. */
export interface RecipeOutput {
  readonly batchIndex?: number;
  /** Rows of noise drawn from the seed at once (SDXL draws 6, so image k is the same alone or in its batch). */
  readonly noiseBatch?: number;
  readonly flowShift?: number;
  readonly promptTokens?: number;
  readonly promptTruncated?: boolean;
  readonly schedulerNotes?: readonly string[];
}

/** The sampler's display name and A1111 schedule type for a studio sampler name. */
export function samplerLabels(scheduler: string): { sampler: string | null; scheduleType: string | null } {
  const sdxl = Object.hasOwn(SAMPLERS, scheduler) ? SAMPLERS[scheduler as SamplerName] : undefined;
  if (sdxl) return { sampler: sdxl.a1111Sampler, scheduleType: sdxl.a1111ScheduleType };
  const flow = Object.hasOwn(FLOW_SAMPLERS, scheduler) ? FLOW_SAMPLERS[scheduler as FlowSamplerName] : undefined;
  if (flow) return { sampler: flow.label, scheduleType: null };
  return { sampler: null, scheduleType: null };
}

/** The recipe a generated file carries, built from its job and model. */
export function shareableRecipe(job: RecipeJob, output: RecipeOutput = {}): ShareableRecipe {
  const p = job.params;
  const enhanced = p.enhancedPrompt ?? null;
  const frames = p.frames ?? 1;
  const { sampler, scheduleType } = samplerLabels(p.scheduler);
  const recipe: { -readonly [K in keyof ShareableRecipe]: ShareableRecipe[K] } = {
    app: APP_NAME,
    appVersion: job.appVersion ?? APP_VERSION,
    jobId: job.jobId,
    jobType: job.jobType,
    model: { id: job.model.id, name: job.model.name ?? job.model.id, hash: job.model.hash ?? null, family: job.model.family },
    prompt: enhanced ?? p.prompt,
    enhancedPrompt: enhanced,
    negativePrompt: p.negativePrompt,
    seed: p.seed,
    batchIndex: output.batchIndex ?? 0,
    count: p.count ?? 1,
    noise: { kind: 'torch.randn', device: 'cpu', dtype: 'float32', ...(output.noiseBatch !== undefined ? { batch: output.noiseBatch } : {}) },
    steps: p.steps,
    guidance: p.guidance,
    scheduler: p.scheduler,
    sampler,
    scheduleType,
    width: p.width,
    height: p.height,
    frames,
    fps: frames > 1 ? (p.fps ?? null) : null,
  };
  if (enhanced !== null) recipe.originalPrompt = p.prompt;
  if (output.flowShift !== undefined) recipe.flowShift = output.flowShift;
  if (output.promptTokens !== undefined) recipe.promptTokens = output.promptTokens;
  if (output.promptTruncated !== undefined) recipe.promptTruncated = output.promptTruncated;
  if (output.schedulerNotes !== undefined && output.schedulerNotes.length > 0) recipe.schedulerNotes = [...output.schedulerNotes];
  return recipe;
}

/** The columns of an asset row a stored recipe falls back on. */
export interface RecipeRow {
  readonly job_id: string | null;
  readonly bucket: string;
  readonly prompt: string | null;
  readonly negative_prompt: string | null;
  readonly enhanced_prompt: string | null;
  readonly seed: number | null;
  readonly model: string | null;
  readonly steps: number | null;
  readonly guidance: number | null;
  readonly scheduler: string | null;
  readonly batch_index: number | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly fps: number | null;
  readonly frame_count: number | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * The shareable form of a recipe as stored on an asset row by any version of the studio (rows made
 * before this module carry the model's path, the provider note, timings and the raw params), for
 * writers of shared files about existing assets (export sidecars).
 *
 * A file another tool made keeps what was read from it (its settings and its own metadata, which
 * the file itself carries) without where and when it was imported from.
 */
export function shareableFromStored(stored: unknown, row: RecipeRow): Record<string, unknown> {
  const r = isRecord(stored) ? stored : {};
  const ours = row.job_id !== null || r.app === APP_NAME || typeof r.jobType === 'string';
  if (!ours) {
    const from = isRecord(r.imported) ? r.imported : isRecord(r.adopted) ? r.adopted : {};
    return {
      imported: { format: str(from.format) ?? null, tool: str(from.tool) ?? null },
      settings: isRecord(r.settings) ? r.settings : {},
      metadata: isRecord(r.metadata) ? r.metadata : {},
    };
  }
  const params = isRecord(r.params) ? r.params : {};
  const model = isRecord(r.model) ? r.model : {};
  const noise = isRecord(r.noise) ? r.noise : {};
  const enhanced = str(r.enhancedPrompt) ?? str(params.enhancedPrompt) ?? row.enhanced_prompt ?? null;
  const prompt = str(r.originalPrompt) ?? (enhanced === null ? str(r.prompt) : undefined) ?? str(params.prompt) ?? row.prompt ?? '';
  const modelId = str(model.id) ?? str(r.model) ?? row.model;
  const notes = Array.isArray(r.schedulerNotes) ? r.schedulerNotes.filter((n): n is string => typeof n === 'string') : undefined;
  return shareableRecipe(
    {
      ...(str(r.appVersion) !== undefined ? { appVersion: str(r.appVersion)! } : {}),
      jobId: str(r.jobId) ?? row.job_id,
      jobType: str(r.jobType) ?? row.bucket,
      params: {
        prompt,
        negativePrompt: str(r.negativePrompt) ?? row.negative_prompt ?? '',
        seed: num(r.seed) ?? row.seed ?? 0,
        steps: num(r.steps) ?? row.steps ?? 0,
        guidance: num(r.guidance) ?? row.guidance ?? 0,
        scheduler: str(r.scheduler) ?? row.scheduler ?? '',
        width: num(r.width) ?? row.width ?? 0,
        height: num(r.height) ?? row.height ?? 0,
        frames: num(r.frames) ?? row.frame_count ?? 1,
        fps: num(r.fps) ?? row.fps,
        count: num(r.count) ?? num(params.count) ?? 1,
        enhancedPrompt: enhanced,
      },
      model: { id: modelId, name: str(model.name) ?? null, hash: str(model.hash) ?? null, family: str(model.family) ?? null },
    },
    {
      batchIndex: num(r.batchIndex) ?? row.batch_index ?? 0,
      ...(num(noise.batch) !== undefined ? { noiseBatch: num(noise.batch)! } : {}),
      ...(num(r.flowShift) !== undefined ? { flowShift: num(r.flowShift)! } : {}),
      ...(num(r.promptTokens) !== undefined ? { promptTokens: num(r.promptTokens)! } : {}),
      ...(typeof r.promptTruncated === 'boolean' ? { promptTruncated: r.promptTruncated } : {}),
      ...(notes ? { schedulerNotes: notes } : {}),
    },
  );
}
