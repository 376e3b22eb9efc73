/**
 * Recipes into the form: a job of this studio ("Use settings"), a library asset ("Use these
 * settings"), or what the engine read from a dropped file or pasted text (`recipes.fromFile` /
 * `recipes.fromText`). One mapping for all of them, so a picture from A1111 keeps its DPM++ 2M
 * Karras whichever way it comes in, and whatever the studio cannot take is said, never dropped
 * quietly: a sampler or schedule it lacks, a model not on this machine, a size it must round, a
 * setting it has no field for (`Hires upscale`).
 */
import { JOB_TYPES, LIMITS, PRESETS, samplerFamilyHint, studioSampler } from '../../contract.ts';
import type { AssetView, JobParams, JobType, JobView, ModelFamily, ModelInfo, OutputKind, RecipeReading } from '../../contract.ts';
import { readyModels } from '../models/logic.ts';
import { SAMPLER_LABELS } from './options.ts';
import type { WorkspaceDraft } from './store.ts';

/** Settings to put into the form, in any tool's words; null or absent: not known. */
export interface Recipe {
  readonly type?: JobType | null;
  /** Image or clip, when the recipe comes from a file (it picks the job type when `type` is not known). */
  readonly kind?: OutputKind | null;
  readonly prompt?: string | null;
  readonly negativePrompt?: string | null;
  readonly seed?: number | null;
  readonly steps?: number | null;
  readonly guidance?: number | null;
  /** The sampler by this studio's name or any tool's (`DPM++ 2M Karras`, `dpmpp_2m karras`, `dpmpp_2m_k`). */
  readonly scheduler?: string | null;
  readonly width?: number | null;
  readonly height?: number | null;
  readonly frames?: number | null;
  /** Images per job (this studio's jobs only). */
  readonly count?: number | null;
  /** A reviewed rewrite: offered again in the Enhance box, ready to accept. */
  readonly enhancedPrompt?: string | null;
  /** A model id of this studio, or another tool's model name. */
  readonly model?: string | null;
  /** A1111's short model hash, matched against the prepared models' hashes. */
  readonly modelHash?: string | null;
  /** Settings the record holds that the form has no field for. */
  readonly unused?: readonly string[];
  /** What the reader noticed about the file. */
  readonly readerNotes?: readonly string[];
}

export function isJobType(value: string): value is JobType {
  return (JOB_TYPES as readonly string[]).includes(value);
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
    // A re-run of one image is a batch of one by design; putting it back asks for the batch again.
    count: p.batchIndex === null ? p.count : null,
    enhancedPrompt: job.enhancedPrompt ?? p.enhancedPrompt,
    model: p.model,
  };
}

/** What a library asset knows of the settings that made it (the Library's "Use these settings"). */
export function recipeFromAsset(asset: AssetView): Recipe {
  return {
    type: asset.jobType,
    kind: asset.kind,
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
    model: asset.model,
  };
}

/** What the engine read from a dropped file or a pasted text. */
export function recipeFromReading(reading: RecipeReading): Recipe {
  const f = reading.fields;
  return {
    type: f.jobType,
    // Pasted text says no kind: a record with frames is a clip's, anything else (an A1111 infotext) a picture's.
    kind: reading.kind ?? (f.frames !== null && f.frames > 1 ? 'video' : 'image'),
    prompt: f.prompt,
    negativePrompt: f.negativePrompt,
    seed: f.seed,
    steps: f.steps,
    guidance: f.guidance,
    scheduler: f.sampler,
    width: f.width,
    height: f.height,
    frames: f.frames,
    enhancedPrompt: f.enhancedPrompt,
    model: f.model,
    modelHash: f.modelHash,
    unused: reading.unused,
    readerNotes: reading.notes,
  };
}

/**
 * The job type a recipe asks for: its own when it names one; else the current one when it makes
 * the same kind of output with a family the recipe fits, else the fast type of that family and kind.
 * A clip, a flow sampler (UniPC) or a WAN model name mean WAN; anything else is an SDXL-era picture.
 */
function typeFor(recipe: Recipe, current: JobType): JobType {
  if (recipe.type && isJobType(recipe.type)) return recipe.type;
  const kind: OutputKind = recipe.kind ?? PRESETS[current].kind;
  const family: ModelFamily =
    kind === 'video' || (recipe.scheduler && samplerFamilyHint(recipe.scheduler) === 'wan') || /\bwan[\s_-]?2/i.test(recipe.model ?? '')
      ? 'wan'
      : recipe.kind === undefined || recipe.kind === null
        ? PRESETS[current].family
        : 'sdxl';
  const now = PRESETS[current];
  if (now.family === family && now.kind === kind) return current;
  return JOB_TYPES.find((t) => PRESETS[t].family === family && PRESETS[t].kind === kind && PRESETS[t].quality === 'fast' && !PRESETS[t].enhance)!;
}

/** A file name without its folder or extension, lower-cased: how a checkpoint is recognised across tools. */
function stem(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  return base.replace(/\.(safetensors|ckpt|pt|pth|bin|gguf)$/i, '').trim().toLowerCase();
}

/** The ready model a recipe names: by id, by A1111 hash, by name or by file name. */
function matchModel(recipe: Recipe, models: readonly ModelInfo[]): ModelInfo | null {
  const name = recipe.model?.trim() ?? '';
  const hashes = [recipe.modelHash, /^[0-9a-f]{10}$/i.test(name) ? name : null].filter((h): h is string => !!h).map((h) => h.toLowerCase());
  return (
    models.find((m) => m.id === name) ??
    models.find((m) => m.hash && hashes.includes(m.hash.toLowerCase())) ??
    (name ? models.find((m) => stem(m.name) === stem(name) || (m.source ? stem(m.source) === stem(name) : false)) : undefined) ??
    null
  );
}

const text = (n: number | null | undefined, preset: number) => (n === null || n === undefined || n === preset ? '' : String(n));

/** The nearest multiple within the model's limits. */
function fitSide(v: number, multiple: number): number {
  const rounded = Math.round(v / multiple) * multiple;
  return Math.min(LIMITS.sizeMax - (LIMITS.sizeMax % multiple), Math.max(Math.ceil(LIMITS.sizeMin / multiple) * multiple, rounded));
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export interface FilledDraft {
  readonly draft: WorkspaceDraft;
  readonly enhancedPrompt: string | null;
  /** What could not be taken as it was, one sentence each (empty for this studio's own recipes). */
  readonly notes: readonly string[];
}

/**
 * A recipe as the form: every known value is put in, in this studio's terms; values equal to the
 * preset stay empty so the form shows them as "preset". The seed is always filled (locked), since
 * reproducing it is the point. `models`: the engine's list, to find the model the recipe names.
 */
export function draftFromRecipe(current: WorkspaceDraft, recipe: Recipe, models: readonly ModelInfo[] | null = null): FilledDraft {
  const type = typeFor(recipe, current.type);
  const p = PRESETS[type];
  const notes: string[] = [];

  let sampler = '';
  if (recipe.scheduler) {
    const match = studioSampler(recipe.scheduler, p.family);
    if (!match) notes.push(`Sampler “${recipe.scheduler}” is not one this studio has for ${p.family === 'sdxl' ? 'SDXL' : 'WAN'}; the preset, ${SAMPLER_LABELS[p.scheduler]}, is kept.`);
    else {
      if (!match.exact) notes.push(`Sampler “${recipe.scheduler}” is not here (${match.differs}); the nearest, ${SAMPLER_LABELS[match.sampler]}, is set.`);
      sampler = match.sampler === p.scheduler ? '' : match.sampler;
    }
  }

  let steps = recipe.steps ?? null;
  if (steps !== null && (steps < LIMITS.stepsMin || steps > LIMITS.stepsMax || !Number.isInteger(steps))) {
    const fitted = clamp(Math.round(steps), LIMITS.stepsMin, LIMITS.stepsMax);
    notes.push(`Steps ${steps} are outside ${LIMITS.stepsMin}–${LIMITS.stepsMax}; ${fitted} is set.`);
    steps = fitted;
  }
  let guidance = recipe.guidance ?? null;
  if (guidance !== null && (guidance < LIMITS.guidanceMin || guidance > LIMITS.guidanceMax)) {
    const fitted = clamp(guidance, LIMITS.guidanceMin, LIMITS.guidanceMax);
    notes.push(`Guidance ${guidance} is outside ${LIMITS.guidanceMin}–${LIMITS.guidanceMax}; ${fitted} is set.`);
    guidance = fitted;
  }

  let width: number | null = recipe.width ?? null;
  let height: number | null = recipe.height ?? null;
  if (width !== null && height !== null) {
    const w = fitSide(width, p.sizeMultiple);
    const h = fitSide(height, p.sizeMultiple);
    if (w !== width || h !== height) {
      notes.push(`Size ${width}×${height} does not fit ${p.family === 'sdxl' ? 'SDXL' : 'WAN'} (multiples of ${p.sizeMultiple}, ${LIMITS.sizeMin} to ${LIMITS.sizeMax}); ${w}×${h} is set.`);
    }
    [width, height] = [w, h];
  }

  let frames = p.kind === 'video' ? (recipe.frames ?? null) : null;
  if (frames !== null && (frames < 5 || (frames - 1) % 4 !== 0 || frames > LIMITS.framesMax)) {
    const fitted = clamp(Math.round((frames - 1) / 4) * 4 + 1, 5, LIMITS.framesMax - ((LIMITS.framesMax - 1) % 4));
    notes.push(`A clip of ${frames} frames cannot be made here (WAN makes 4k+1 frames); ${fitted} is set.`);
    frames = fitted;
  }

  let model = '';
  if (recipe.model) {
    const ready = readyModels(models, p.family);
    const found = matchModel(recipe, ready);
    if (found) model = found.id;
    else if (models !== null || !/^[a-z0-9][a-z0-9._-]*$/.test(recipe.model)) {
      notes.push(`Model “${recipe.model}” is not on this machine; the default model is used.`);
    } else model = recipe.model;
  }

  const count = recipe.count !== null && recipe.count !== undefined && p.maxCount > 1 ? text(recipe.count, p.count) : '';
  if (recipe.unused && recipe.unused.length > 0) notes.push(`Not used here: ${recipe.unused.join(', ')}.`);
  for (const n of recipe.readerNotes ?? []) notes.push(n.charAt(0).toUpperCase() + n.slice(1) + (/[.!?]$/.test(n) ? '' : '.'));

  let draft: WorkspaceDraft = {
    ...current,
    type,
    prompt: recipe.prompt ?? current.prompt,
    negativePrompt: recipe.negativePrompt ?? '',
    seed: recipe.seed === null || recipe.seed === undefined ? '' : String(recipe.seed),
    steps: text(steps, p.steps),
    guidance: text(guidance, p.guidance),
    sampler,
    width: text(width, p.width),
    height: text(height, p.height),
    frames: p.kind === 'video' ? text(frames, p.frames) : '',
    model,
    count,
    runs: '',
  };
  // Width and height go together: one side differing from the preset means both are kept.
  if (draft.width !== '' || draft.height !== '') draft = { ...draft, width: String(width ?? p.width), height: String(height ?? p.height) };
  return { draft, enhancedPrompt: recipe.enhancedPrompt ?? null, notes };
}
