/**
 * The ten OurVidz job types, their presets, and the one parameter schema every front door uses.
 *
 * Pure data + zod: imported by the engine (validation), the preload contract, the CLI (flags) and the
 * renderer (forms). No Node or Electron imports here.
 */
import { z } from 'zod';

export const JOB_TYPES = [
  'sdxl_image_fast',
  'sdxl_image_high',
  'image_fast',
  'image_high',
  'video_fast',
  'video_high',
  'image7b_fast_enhanced',
  'image7b_high_enhanced',
  'video7b_fast_enhanced',
  'video7b_high_enhanced',
] as const;
export type JobType = (typeof JOB_TYPES)[number];

/** Local folders and cloud buckets: one per job type, plus the two upload buckets OurVidz has. */
export const BUCKETS = [...JOB_TYPES, 'reference_images', 'user_uploads'] as const;
export type Bucket = (typeof BUCKETS)[number];

export type ModelFamily = 'sdxl' | 'wan';
export type Quality = 'fast' | 'high';
export type OutputKind = 'image' | 'video';

export const SDXL_SAMPLERS = ['euler', 'euler_karras', 'dpmpp_2m', 'dpmpp_2m_karras'] as const;
export const WAN_SAMPLERS = ['unipc', 'flow_euler'] as const;
export const SAMPLERS = [...SDXL_SAMPLERS, ...WAN_SAMPLERS] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export interface JobPreset {
  readonly jobType: JobType;
  readonly label: string;
  readonly family: ModelFamily;
  readonly quality: Quality;
  readonly kind: OutputKind;
  readonly enhance: boolean;
  readonly steps: number;
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  readonly count: number;
  readonly guidance: number;
  readonly scheduler: SamplerName;
  /** Queue priority: fast job types run before high ones (lower runs first). */
  readonly priority: number;
  /** Size granularity the model needs (SDXL latents are /8, WAN's VAE+patching needs /16). */
  readonly sizeMultiple: number;
  readonly maxCount: number;
  readonly fps: number;
}

function preset(
  jobType: JobType,
  label: string,
  p: Pick<JobPreset, 'family' | 'quality' | 'kind' | 'enhance' | 'steps' | 'frames' | 'width' | 'height' | 'count'>,
): JobPreset {
  const sdxl = p.family === 'sdxl';
  return {
    jobType,
    label,
    ...p,
    guidance: sdxl ? 7 : 5,
    scheduler: sdxl ? 'euler' : 'unipc',
    priority: p.quality === 'fast' ? 0 : 1,
    sizeMultiple: sdxl ? 8 : 16,
    maxCount: sdxl ? 12 : 1,
    fps: 16,
  };
}

const wanImage = { family: 'wan', kind: 'image', frames: 1, width: 480, height: 832, count: 1 } as const;
const wanVideo = { family: 'wan', kind: 'video', frames: 17, width: 480, height: 832, count: 1 } as const;

/** Defaults from ARCHITECTURE.md's table; every value is a preset the user can override. */
export const PRESETS: Readonly<Record<JobType, JobPreset>> = {
  sdxl_image_fast: preset('sdxl_image_fast', 'SDXL image · fast', {
    family: 'sdxl', quality: 'fast', kind: 'image', enhance: false, steps: 15, frames: 1, width: 1024, height: 1024, count: 6,
  }),
  sdxl_image_high: preset('sdxl_image_high', 'SDXL image · high', {
    family: 'sdxl', quality: 'high', kind: 'image', enhance: false, steps: 25, frames: 1, width: 1024, height: 1024, count: 6,
  }),
  image_fast: preset('image_fast', 'WAN image · fast', { ...wanImage, quality: 'fast', enhance: false, steps: 4 }),
  image_high: preset('image_high', 'WAN image · high', { ...wanImage, quality: 'high', enhance: false, steps: 6 }),
  video_fast: preset('video_fast', 'WAN video · fast', { ...wanVideo, quality: 'fast', enhance: false, steps: 4 }),
  video_high: preset('video_high', 'WAN video · high', { ...wanVideo, quality: 'high', enhance: false, steps: 6 }),
  image7b_fast_enhanced: preset('image7b_fast_enhanced', 'WAN image · fast · enhanced', {
    ...wanImage, quality: 'fast', enhance: true, steps: 4,
  }),
  image7b_high_enhanced: preset('image7b_high_enhanced', 'WAN image · high · enhanced', {
    ...wanImage, quality: 'high', enhance: true, steps: 6,
  }),
  video7b_fast_enhanced: preset('video7b_fast_enhanced', 'WAN video · fast · enhanced', {
    ...wanVideo, quality: 'fast', enhance: true, steps: 4,
  }),
  video7b_high_enhanced: preset('video7b_high_enhanced', 'WAN video · high · enhanced', {
    ...wanVideo, quality: 'high', enhance: true, steps: 6,
  }),
};

export const LIMITS = {
  promptMax: 4000,
  stepsMin: 1,
  stepsMax: 150,
  guidanceMin: 0,
  guidanceMax: 30,
  sizeMin: 256,
  sizeMax: 2048,
  framesMax: 129,
  seedMax: Number.MAX_SAFE_INTEGER,
} as const;

const int = (field: string, min: number, max: number) =>
  z
    .number({ error: `${field} must be a number from ${min} to ${max}` })
    .int({ error: `${field} must be a whole number from ${min} to ${max}` })
    .min(min, { error: (i) => `${field} must be from ${min} to ${max} (got ${String(i.input)})` })
    .max(max, { error: (i) => `${field} must be from ${min} to ${max} (got ${String(i.input)})` });

/** What a caller may send. Everything but type and prompt falls back to the job type's preset. */
export const GenerateRequestSchema = z.strictObject({
  type: z.enum(JOB_TYPES, { error: () => `type must be one of: ${JOB_TYPES.join(', ')}` }),
  prompt: z
    .string({ error: 'prompt is required' })
    .trim()
    .min(1, { error: 'prompt must not be empty' })
    .max(LIMITS.promptMax, { error: `prompt must be at most ${LIMITS.promptMax} characters` }),
  negativePrompt: z
    .string()
    .max(LIMITS.promptMax, { error: `negativePrompt must be at most ${LIMITS.promptMax} characters` })
    .optional(),
  seed: int('seed', 0, LIMITS.seedMax).optional(),
  steps: int('steps', LIMITS.stepsMin, LIMITS.stepsMax).optional(),
  guidance: z
    .number({ error: `guidance must be a number from ${LIMITS.guidanceMin} to ${LIMITS.guidanceMax}` })
    .min(LIMITS.guidanceMin, { error: (i) => `guidance must be from 0 to 30 (got ${String(i.input)})` })
    .max(LIMITS.guidanceMax, { error: (i) => `guidance must be from 0 to 30 (got ${String(i.input)})` })
    .optional(),
  width: int('width', LIMITS.sizeMin, LIMITS.sizeMax).optional(),
  height: int('height', LIMITS.sizeMin, LIMITS.sizeMax).optional(),
  frames: int('frames', 1, LIMITS.framesMax).optional(),
  count: int('count', 1, 12).optional(),
  /** Re-run one image of a batch alone: its index in the seed's batch noise. */
  batchIndex: int('batchIndex', 0, 11).optional(),
  scheduler: z.enum(SAMPLERS, { error: () => `scheduler must be one of: ${SAMPLERS.join(', ')}` }).optional(),
  model: z.string().min(1).max(200).optional(),
  /** A rewrite the user already reviewed (Enhance button): used instead of running the enhancer. */
  enhancedPrompt: z.string().trim().min(1).max(LIMITS.promptMax).optional(),
});
export type GenerateRequest = z.input<typeof GenerateRequestSchema>;

/** A request with every preset filled in: what is stored on the job and handed to a pipeline. */
export interface JobParams {
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly seed: number;
  readonly steps: number;
  readonly guidance: number;
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly count: number;
  readonly batchIndex: number | null;
  readonly scheduler: SamplerName;
  readonly model: string | null;
  readonly enhancedPrompt: string | null;
  readonly fps: number;
}

export class ParamError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'ParamError';
    this.field = field;
  }
}

/** Turns zod issues into one sentence naming each field and its allowed range. */
export function describeIssues(error: z.ZodError): ParamError {
  const first = error.issues[0];
  const field = first ? first.path.join('.') || 'request' : 'request';
  const message = error.issues
    .map((i) => {
      const path = i.path.join('.');
      return i.message.startsWith(path) || path === '' ? i.message : `${path}: ${i.message}`;
    })
    .join('; ');
  return new ParamError(field, message);
}

/** Validates a request and fills presets. Throws ParamError naming the field and the allowed range. */
export function resolveRequest(input: unknown, randomSeed: () => number): { type: JobType; params: JobParams } {
  const parsed = GenerateRequestSchema.safeParse(input);
  if (!parsed.success) throw describeIssues(parsed.error);
  const r = parsed.data;
  const p = PRESETS[r.type];
  const width = r.width ?? p.width;
  const height = r.height ?? p.height;
  const frames = r.frames ?? p.frames;
  const count = r.count ?? p.count;
  const scheduler = r.scheduler ?? p.scheduler;
  for (const [field, v] of [['width', width], ['height', height]] as const) {
    if (v % p.sizeMultiple !== 0) {
      throw new ParamError(field, `${field} must be a multiple of ${p.sizeMultiple} for ${r.type} (got ${v})`);
    }
  }
  if (p.kind === 'image' && frames !== 1) {
    throw new ParamError('frames', `frames must be 1 for the image job type ${r.type} (got ${frames})`);
  }
  if (p.kind === 'video' && (frames < 5 || (frames - 1) % 4 !== 0)) {
    throw new ParamError(
      'frames',
      `frames must be 4k+1 (5, 9, 13, 17, 21, …, up to ${LIMITS.framesMax}) for ${r.type} — WAN's VAE packs 4 frames per latent after the first (got ${frames})`,
    );
  }
  if (count > p.maxCount) {
    throw new ParamError('count', `count must be from 1 to ${p.maxCount} for ${r.type} (got ${count})`);
  }
  const allowed: readonly string[] = p.family === 'sdxl' ? SDXL_SAMPLERS : WAN_SAMPLERS;
  if (!allowed.includes(scheduler)) {
    throw new ParamError('scheduler', `scheduler must be one of ${allowed.join(', ')} for ${r.type} (got ${scheduler})`);
  }
  if (r.batchIndex !== undefined && count !== 1) {
    throw new ParamError('batchIndex', `batchIndex re-runs one image, so count must be 1 (got ${count})`);
  }
  if (r.enhancedPrompt !== undefined && !p.enhance) {
    throw new ParamError('enhancedPrompt', `enhancedPrompt applies to the *_enhanced job types only, not ${r.type}`);
  }
  return {
    type: r.type,
    params: {
      prompt: r.prompt,
      negativePrompt: r.negativePrompt ?? '',
      seed: r.seed ?? randomSeed(),
      steps: r.steps ?? p.steps,
      guidance: r.guidance ?? p.guidance,
      width,
      height,
      frames,
      count,
      batchIndex: r.batchIndex ?? null,
      scheduler,
      model: r.model ?? null,
      enhancedPrompt: r.enhancedPrompt ?? null,
      fps: p.fps,
    },
  };
}
