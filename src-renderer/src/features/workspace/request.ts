/**
 * The Workspace form ↔ requests: the draft as a GenerateRequest (checked with the engine's own
 * rules, so a mistake is named at its field before anything is sent), a job or a library asset
 * back into the draft, and the requests behind Re-run and the accepted Enhance rewrite.
 */
import { GenerateRequestSchema, JOB_TYPES, PRESETS, ParamError, describeIssues, resolveRequest } from '../../contract.ts';
import type { AssetView, GenerateRequest, JobParams, JobType, JobView, SamplerName } from '../../contract.ts';
import { enhancedTwin, samplersFor } from './options.ts';
import type { WorkspaceDraft } from './store.ts';

export interface FieldError {
  readonly field: string;
  readonly message: string;
}

export function isJobType(value: string): value is JobType {
  return (JOB_TYPES as readonly string[]).includes(value);
}

/** Empty means "use the default"; other text is sent as a number (NaN included, which the schema refuses with the field's range). */
function optionalNumber(text: string): number | undefined {
  const t = text.trim();
  return t === '' ? undefined : Number(t);
}

/** The values a job from this draft would run with: what is typed, else the type's preset. */
export function effectiveSettings(draft: WorkspaceDraft) {
  const p = PRESETS[draft.type];
  const num = (text: string, fallback: number) => {
    const n = optionalNumber(text);
    return n === undefined || !Number.isFinite(n) ? fallback : n;
  };
  const sampler = samplersFor(p.family).find((s) => s === draft.sampler) ?? p.scheduler;
  return {
    preset: p,
    steps: num(draft.steps, p.steps),
    guidance: num(draft.guidance, p.guidance),
    sampler,
    width: num(draft.width, p.width),
    height: num(draft.height, p.height),
    frames: p.kind === 'video' ? num(draft.frames, p.frames) : 1,
  };
}

/** The draft as the request the engine receives: only what differs from "the preset decides". */
export function buildRequest(draft: WorkspaceDraft): GenerateRequest {
  const kind = PRESETS[draft.type].kind;
  const entries: [keyof GenerateRequest, number | string | undefined][] = [
    ['seed', optionalNumber(draft.seed)],
    ['steps', optionalNumber(draft.steps)],
    ['guidance', optionalNumber(draft.guidance)],
    ['width', optionalNumber(draft.width)],
    ['height', optionalNumber(draft.height)],
    ['frames', kind === 'video' ? optionalNumber(draft.frames) : undefined],
    ['scheduler', draft.sampler === '' ? undefined : draft.sampler],
    ['model', draft.model === '' ? undefined : draft.model],
  ];
  const request: Record<string, unknown> = { type: draft.type, prompt: draft.prompt };
  if (draft.negativePrompt.trim()) request.negativePrompt = draft.negativePrompt;
  for (const [key, value] of entries) if (value !== undefined) request[key] = value;
  return request as GenerateRequest;
}

/** Checks a request with the engine's schema and its cross-field rules (size multiples, 4k+1 frames, the family's samplers). */
export function checkRequest(request: GenerateRequest): FieldError | null {
  const parsed = GenerateRequestSchema.safeParse(request);
  if (!parsed.success) {
    const e = describeIssues(parsed.error);
    return { field: e.field, message: e.message };
  }
  try {
    resolveRequest(request, () => 0);
  } catch (e) {
    if (e instanceof ParamError) return { field: e.field, message: e.message };
    throw e;
  }
  return null;
}

export function draftToRequest(draft: WorkspaceDraft): { request: GenerateRequest } | { error: FieldError } {
  const request = buildRequest(draft);
  const error = checkRequest(request);
  return error ? { error } : { request };
}

/**
 * The accepted Enhance rewrite as a request: the *_enhanced twin of the chosen WAN type, carrying
 * the reviewed text so the engine uses it instead of running the enhancer again. SDXL has no
 * enhanced type, so there the rewrite can only replace the prompt.
 */
export function enhancedRequest(draft: WorkspaceDraft, text: string): { request: GenerateRequest } | { error: FieldError } | null {
  const twin = enhancedTwin(draft.type);
  if (!twin) return null;
  const request: GenerateRequest = { ...buildRequest({ ...draft, type: twin }), enhancedPrompt: text };
  const error = checkRequest(request);
  return error ? { error: error.field === 'enhancedPrompt' ? { ...error, field: 'enhancement' } : error } : { request };
}

/** Re-run one image of a batch alone: the job's exact settings, one image, that image's place in the seed's batch noise. */
export function rerunRequest(job: JobView, batchIndex: number): GenerateRequest {
  const p = job.params;
  const preset = PRESETS[job.type];
  return {
    type: job.type,
    prompt: p.prompt,
    ...(p.negativePrompt ? { negativePrompt: p.negativePrompt } : {}),
    seed: p.seed,
    steps: p.steps,
    guidance: p.guidance,
    width: p.width,
    height: p.height,
    ...(preset.kind === 'video' ? { frames: p.frames } : {}),
    scheduler: p.scheduler,
    ...(p.model ? { model: p.model } : {}),
    ...(preset.enhance && job.enhancedPrompt ? { enhancedPrompt: job.enhancedPrompt } : {}),
    count: 1,
    batchIndex,
  };
}

/** Settings to put back into the form: a job's params, a library asset's recipe, or anything with some of these. */
export interface Recipe {
  readonly type?: JobType | null;
  readonly prompt?: string | null;
  readonly negativePrompt?: string | null;
  readonly seed?: number | null;
  readonly steps?: number | null;
  readonly guidance?: number | null;
  /** Sampler name; ignored when the job type's family does not have it (e.g. an imported A1111 name). */
  readonly scheduler?: string | null;
  readonly width?: number | null;
  readonly height?: number | null;
  readonly frames?: number | null;
  /** A reviewed rewrite: offered again in the Enhance box, ready to accept. */
  readonly enhancedPrompt?: string | null;
  /** The model id the job asked for (null: the default). */
  readonly model?: string | null;
}

export function recipeFromJob(job: JobView): Recipe {
  const p: JobParams = job.params;
  return {
    type: job.type,
    prompt: p.prompt,
    negativePrompt: p.negativePrompt,
    seed: p.seed,
    steps: p.steps,
    guidance: p.guidance,
    scheduler: p.scheduler,
    width: p.width,
    height: p.height,
    frames: p.frames,
    enhancedPrompt: job.enhancedPrompt ?? p.enhancedPrompt,
    model: p.model,
  };
}

/** What a library asset knows of the settings that made it (the Library's "Use these settings"). */
export function recipeFromAsset(asset: AssetView): Recipe {
  return {
    type: asset.jobType,
    prompt: asset.prompt,
    negativePrompt: asset.negativePrompt,
    seed: asset.seed,
    steps: asset.steps,
    guidance: asset.guidance,
    scheduler: asset.scheduler,
    width: asset.width,
    height: asset.height,
    frames: asset.kind === 'video' ? asset.frameCount : null,
    enhancedPrompt: asset.enhancedPrompt,
  };
}

/** The draft after switching job type: steps follow the new preset; size, sampler and model reset across families, frames across kinds. */
export function draftForType(draft: WorkspaceDraft, type: JobType): WorkspaceDraft {
  const from = PRESETS[draft.type];
  const to = PRESETS[type];
  const sameFamily = from.family === to.family;
  return {
    ...draft,
    type,
    steps: '',
    guidance: sameFamily ? draft.guidance : '',
    sampler: sameFamily ? draft.sampler : '',
    width: sameFamily ? draft.width : '',
    height: sameFamily ? draft.height : '',
    frames: from.kind === to.kind ? draft.frames : '',
    model: sameFamily ? draft.model : '',
  };
}

const text = (n: number | null | undefined, preset: number) => (n === null || n === undefined || n === preset ? '' : String(n));

/**
 * A recipe as the form: every known value is put in; values equal to the preset stay empty so the
 * form shows them as "preset". The seed is always filled (locked), since reproducing it is the point.
 */
export function draftFromRecipe(current: WorkspaceDraft, recipe: Recipe): { draft: WorkspaceDraft; enhancedPrompt: string | null } {
  const type = recipe.type && isJobType(recipe.type) ? recipe.type : current.type;
  const p = PRESETS[type];
  const sampler = samplersFor(p.family).find((s: SamplerName) => s === recipe.scheduler);
  const draft: WorkspaceDraft = {
    type,
    prompt: recipe.prompt ?? current.prompt,
    negativePrompt: recipe.negativePrompt ?? '',
    seed: recipe.seed === null || recipe.seed === undefined ? '' : String(recipe.seed),
    steps: text(recipe.steps, p.steps),
    guidance: text(recipe.guidance, p.guidance),
    sampler: sampler && sampler !== p.scheduler ? sampler : '',
    width: text(recipe.width, p.width),
    height: text(recipe.height, p.height),
    frames: p.kind === 'video' ? text(recipe.frames, p.frames) : '',
    model: recipe.model ?? '',
  };
  // Width and height go together: one side differing from the preset means both are kept.
  if (draft.width !== '' || draft.height !== '') {
    return {
      draft: { ...draft, width: String(recipe.width ?? p.width), height: String(recipe.height ?? p.height) },
      enhancedPrompt: recipe.enhancedPrompt ?? null,
    };
  }
  return { draft, enhancedPrompt: recipe.enhancedPrompt ?? null };
}
