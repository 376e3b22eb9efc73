/**
 * The Workspace form ↔ requests: the draft as a GenerateRequest (checked with the engine's own
 * rules, so a mistake is named at its field before anything is sent), a job or a library asset
 * back into the draft, and the requests behind Re-run and the accepted Enhance rewrite.
 */
import { runAgainRequest } from '../queue/logic.ts';
import { GenerateRequestSchema, PRESETS, ParamError, describeIssues, resolveRequest } from '../../contract.ts';
import type { GenerateRequest, JobType, JobView } from '../../contract.ts';
import { GRID_MAX_CELLS, GRID_PARAM_LABELS, RUNS_MAX, imagesPerJob, parseAxis, runSeeds } from './grid.ts';
import type { AxisValue, GridParam } from './grid.ts';
import { enhancedTwin, samplersFor } from './options.ts';
import type { WorkspaceDraft } from './store.ts';

export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** Which draft field an error names: the engine's `request.width` and the form's `width` alike; `sampler` for `scheduler`. */
export function fieldOf(field: string): keyof WorkspaceDraft | 'enhancement' | 'other' {
  const name = field.replace(/^request\./, '');
  if (name === 'scheduler') return 'sampler';
  if (name === 'enhancedPrompt' || name === 'enhancement') return 'enhancement';
  const fields: readonly string[] = [
    'type', 'prompt', 'negativePrompt', 'seed', 'steps', 'guidance', 'width', 'height', 'frames', 'model', 'count', 'runs', 'xValues', 'yValues',
  ];
  return fields.includes(name) ? (name as keyof WorkspaceDraft) : 'other';
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
    count: imagesPerJob(draft.type, draft.count),
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
    ['count', PRESETS[draft.type].maxCount > 1 ? optionalNumber(draft.count) : undefined],
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

/** The form's fields in the order they are shown: the first one with a mistake gets the focus. */
export const FIELD_ORDER: readonly (keyof WorkspaceDraft)[] = [
  'prompt', 'negativePrompt', 'type', 'model', 'seed', 'count', 'runs', 'steps', 'sampler', 'guidance', 'width', 'height', 'frames', 'xValues', 'yValues',
];

/** Mistakes by the form field they belong to (`request.scheduler` is the Sampler field's), one sentence each. */
export type FieldErrors = Readonly<Partial<Record<keyof WorkspaceDraft, string>>>;

/**
 * Every mistake in a request, each at its own field: the engine's schema issue by issue, then its
 * cross-field rules (size multiples, 4k+1 frames, a family's samplers, counts), asked again with
 * each faulty value taken out, so two wrong fields are two messages where they belong.
 */
export function requestErrors(request: GenerateRequest): FieldErrors {
  const errors: Partial<Record<keyof WorkspaceDraft, string>> = {};
  const at = (path: string, message: string): boolean => {
    const field = fieldOf(path);
    if (field === 'other' || field === 'enhancement') return false;
    errors[field] ??= message;
    return true;
  };
  const rest: Record<string, unknown> = { ...request };
  const parsed = GenerateRequestSchema.safeParse(request);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String).join('.');
      const message = issue.message.startsWith(path) || path === '' ? issue.message : `${path}: ${issue.message}`;
      if (at(path, message)) delete rest[String(issue.path[0])];
    }
  }
  for (let tries = 0; tries < 8; tries++) {
    try {
      resolveRequest(rest, () => 0);
      break;
    } catch (e) {
      if (!(e instanceof ParamError)) break;
      const key = e.field.split('.')[0]!;
      const placed = at(key, e.message);
      // A value the preset decides (frames of a video type) cannot be taken out; stop there.
      if (!placed || !(key in rest)) break;
      delete rest[key];
    }
  }
  return errors;
}

const isBlank = (text: string) => text.trim() === '';

/** The draft's runs: 1 when empty. */
function runsOf(draft: WorkspaceDraft): number {
  return isBlank(draft.runs) ? 1 : Number(draft.runs.trim());
}

/** An axis as the draft has it: null when off. */
function axisOf(draft: WorkspaceDraft, which: 'x' | 'y'): { param: GridParam; text: string } | null {
  const param = which === 'x' ? draft.xParam : draft.yParam;
  return param === '' ? null : { param, text: which === 'x' ? draft.xValues : draft.yValues };
}

export interface ParsedGrid {
  readonly x: { readonly param: GridParam; readonly values: readonly AxisValue[] };
  readonly y: { readonly param: GridParam; readonly values: readonly AxisValue[] } | null;
}

/** The grid's axes, or the errors of their value fields; null when the grid is off. */
export function parseGrid(draft: WorkspaceDraft): { grid: ParsedGrid | null; errors: FieldErrors } {
  const family = PRESETS[draft.type].family;
  const x = axisOf(draft, 'x');
  const y = x ? axisOf(draft, 'y') : null;
  if (!x) return { grid: null, errors: {} };
  const errors: Partial<Record<keyof WorkspaceDraft, string>> = {};
  const base: GenerateRequest = { ...buildRequest(draft), count: 1 };
  // A value is only blamed when the rest of the form is right (its own fields show the rest).
  const baseIsRight = Object.keys(requestErrors(base)).length === 0;
  const parse = (axis: { param: GridParam; text: string }, field: 'xValues' | 'yValues') => {
    const got = parseAxis(axis.param, axis.text, { prompt: draft.prompt, family });
    if ('error' in got) {
      errors[field] = got.error;
      return null;
    }
    // Each value is checked as the engine will check the cell it makes.
    for (const value of baseIsRight ? got.values : []) {
      const message = Object.values(requestErrors(value.apply(base)))[0];
      if (message !== undefined) {
        errors[field] = `${value.label}: ${message}`;
        return null;
      }
    }
    return { param: axis.param, values: got.values };
  };
  const px = parse(x, 'xValues');
  const py = y ? parse(y, 'yValues') : null;
  if (y && x.param === y.param) errors.yValues ??= `${GRID_PARAM_LABELS[y.param]} is already the X axis; pick another parameter for Y`;
  const cells = (px?.values.length ?? 1) * (py?.values.length ?? 1);
  if (cells > GRID_MAX_CELLS) errors.xValues ??= `that grid has ${cells} cells; a grid is at most ${GRID_MAX_CELLS} (one job each)`;
  if (Object.keys(errors).length > 0 || !px) return { grid: null, errors };
  return { grid: { x: px, y: py }, errors };
}

/**
 * Every mistake in the form, each at its field: what the engine would refuse, the runs and the
 * grid's values. The prompt's "must not be empty" is left to the Generate press (`forSubmit`), so
 * an empty form is not shown as wrong before anything was typed.
 */
export function draftErrors(draft: WorkspaceDraft, options: { readonly forSubmit?: boolean } = {}): FieldErrors {
  const errors: Partial<Record<keyof WorkspaceDraft, string>> = { ...requestErrors(buildRequest(draft)) };
  if (!options.forSubmit && isBlank(draft.prompt)) delete errors.prompt;
  const runs = runsOf(draft);
  if (!Number.isInteger(runs) || runs < 1 || runs > RUNS_MAX) errors.runs = `runs must be a whole number from 1 to ${RUNS_MAX} (got ${draft.runs.trim()})`;
  Object.assign(errors, parseGrid(draft).errors);
  return errors;
}

/** What one press of Generate queues: one job, N runs, or the grid's cells (row by row). */
export interface GeneratePlan {
  readonly requests: readonly GenerateRequest[];
  /** Set for a grid: the sheet its cells make, in the order of `requests`. */
  readonly grid: {
    readonly x: { readonly param: GridParam; readonly labels: readonly string[] };
    readonly y: { readonly param: GridParam; readonly labels: readonly string[] } | null;
  } | null;
}

export function planGenerate(draft: WorkspaceDraft, randomSeed: () => number): { plan: GeneratePlan } | { errors: FieldErrors } {
  const errors = draftErrors(draft, { forSubmit: true });
  if (Object.keys(errors).length > 0) return { errors };
  const base = buildRequest(draft);
  const { grid } = parseGrid(draft);
  if (grid) {
    // One seed for every cell unless seed is an axis, so cells differ only in what the axes say.
    const seeded: GenerateRequest = { ...base, count: 1, seed: base.seed ?? randomSeed() };
    const rows = grid.y?.values ?? [null];
    const requests = rows.flatMap((row) => grid.x.values.map((col) => col.apply(row ? row.apply(seeded) : seeded)));
    return {
      plan: {
        requests,
        grid: {
          x: { param: grid.x.param, labels: grid.x.values.map((v) => v.label) },
          y: grid.y ? { param: grid.y.param, labels: grid.y.values.map((v) => v.label) } : null,
        },
      },
    };
  }
  const runs = runsOf(draft);
  if (runs === 1) return { plan: { requests: [base], grid: null } };
  const seeds = base.seed === undefined ? null : runSeeds(base.seed, runs, imagesPerJob(draft.type, draft.count));
  return {
    plan: {
      requests: Array.from({ length: runs }, (_, i) => (seeds ? { ...base, seed: seeds[i]! } : base)),
      grid: null,
    },
  };
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

/** Re-run one image of a batch alone: the job's exact settings (as Run again queues them), one image, that image's place in the seed's batch noise. */
export function rerunRequest(job: JobView, batchIndex: number): GenerateRequest {
  return { ...runAgainRequest(job), count: 1, batchIndex };
}

export { draftFromRecipe, isJobType, recipeFromAsset, recipeFromJob, recipeFromReading } from './recipe.ts';
export type { Recipe } from './recipe.ts';

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
    count: to.maxCount > 1 && sameFamily ? draft.count : '',
  };
}
