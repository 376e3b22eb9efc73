/**
 * What the Workspace form offers for each job type: the picker's groups, the sizes each model was
 * trained on, the frame counts WAN accepts, the samplers of each family. Pure data and arithmetic,
 * shared by the form and its tests.
 */
import { JOB_TYPES, PRESETS, SDXL_SAMPLERS, WAN_SAMPLERS } from '../../contract.ts';
import type { JobPreset, JobType, ModelFamily, SamplerName } from '../../contract.ts';

export interface JobTypeGroup {
  readonly label: string;
  readonly types: readonly JobType[];
}

/** The picker's groups, as OurVidz shows them: SDXL · WAN Image · WAN Video · Enhanced. */
export function jobTypeGroups(presets: readonly JobPreset[]): readonly JobTypeGroup[] {
  const known = presets.length > 0 ? presets : JOB_TYPES.map((t) => PRESETS[t]);
  const pick = (test: (p: JobPreset) => boolean) => known.filter(test).map((p) => p.jobType);
  return [
    { label: 'SDXL', types: pick((p) => p.family === 'sdxl') },
    { label: 'WAN Image', types: pick((p) => p.family === 'wan' && p.kind === 'image' && !p.enhance) },
    { label: 'WAN Video', types: pick((p) => p.family === 'wan' && p.kind === 'video' && !p.enhance) },
    { label: 'Enhanced · Qwen rewrites the prompt first', types: pick((p) => p.enhance) },
  ].filter((g) => g.types.length > 0);
}

/** The *_enhanced twin of a plain WAN type (itself for an enhanced type); null for SDXL, which has none. */
export function enhancedTwin(type: JobType): JobType | null {
  const p = PRESETS[type];
  if (p.enhance) return type;
  const twin = JOB_TYPES.find((t) => {
    const q = PRESETS[t];
    return q.enhance && q.family === p.family && q.kind === p.kind && q.quality === p.quality;
  });
  return twin ?? null;
}

export function samplersFor(family: ModelFamily): readonly SamplerName[] {
  return family === 'sdxl' ? SDXL_SAMPLERS : WAN_SAMPLERS;
}

export const SAMPLER_LABELS: Readonly<Record<SamplerName, string>> = {
  euler: 'Euler',
  euler_karras: 'Euler Karras',
  dpmpp_2m: 'DPM++ 2M',
  dpmpp_2m_karras: 'DPM++ 2M Karras',
  unipc: 'UniPC (flow)',
  flow_euler: 'Flow-match Euler',
};

export interface SizeOption {
  readonly width: number;
  readonly height: number;
  /** The ratio a person recognises ("16:9"), the exact one when it differs. */
  readonly ratio: string;
  readonly exact: string | null;
}

const size = (width: number, height: number, ratio: string, exact: string | null = null): SizeOption => ({
  width,
  height,
  ratio,
  exact,
});

/** SDXL's training buckets (about one megapixel each); anything else drifts from what it learned. */
export const SDXL_SIZES: readonly SizeOption[] = [
  size(1024, 1024, '1:1'),
  size(1152, 896, '4:3', '9:7'),
  size(896, 1152, '3:4', '7:9'),
  size(1216, 832, '3:2', '19:13'),
  size(832, 1216, '2:3', '13:19'),
  size(1344, 768, '16:9', '7:4'),
  size(768, 1344, '9:16', '4:7'),
  size(1536, 640, '21:9', '12:5'),
  size(640, 1536, '9:21', '5:12'),
];

/** WAN 2.1 sizes: 480p is what the 1.3B model was trained for; 720p works but is slower and softer. */
export const WAN_SIZES: readonly SizeOption[] = [
  size(480, 832, '9:16', '15:26'),
  size(832, 480, '16:9', '26:15'),
  size(624, 624, '1:1'),
  size(720, 1280, '9:16'),
  size(1280, 720, '16:9'),
];

export function sizesFor(family: ModelFamily): readonly SizeOption[] {
  return family === 'sdxl' ? SDXL_SIZES : WAN_SIZES;
}

/** WAN's VAE packs 4 frames per latent after the first, so clips are 4k+1 frames long. */
export const FRAME_CHOICES: readonly number[] = [17, 33, 49, 65, 81];

export function isValidFrameCount(frames: number): boolean {
  return Number.isInteger(frames) && frames >= 5 && (frames - 1) % 4 === 0;
}

/** "1.1 s" for 17 frames at 16 fps. */
export function clipDuration(frames: number, fps: number): string {
  const seconds = frames / fps;
  return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
}

/** The nearest whole ratio of two sides, for sizes typed by hand ("1000×600" → "5:3"). */
export function ratioLabel(width: number, height: number): string {
  const known = [...SDXL_SIZES, ...WAN_SIZES].find((s) => s.width === width && s.height === height);
  if (known) return known.ratio;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(width, height);
  const w = width / g;
  const h = height / g;
  if (w <= 32 && h <= 32) return `${w}:${h}`;
  return width >= height ? `${(width / height).toFixed(2)}:1` : `1:${(height / width).toFixed(2)}`;
}

/** Token budgets: CLIP reads 75 tokens per chunk (longer prompts are split), UMT5 reads 512. */
export function tokenBudget(family: ModelFamily): { readonly window: number; readonly chunked: boolean } {
  return family === 'sdxl' ? { window: 75, chunked: true } : { window: 512, chunked: false };
}

/**
 * A quick estimate of how many tokens a prompt costs, split as CLIP's pre-tokenizer splits (runs of
 * letters, single digits, runs of punctuation): a word is one token, a very long one two or more,
 * a digit or a punctuation run one. Within a few tokens of CLIP's count on ordinary prompts, which is
 * all a hint needs; the engine tokenizes for real.
 */
export function estimateTokens(text: string): number {
  let n = 0;
  for (const m of text.matchAll(/\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/gu)) {
    const piece = m[0];
    n += /^\p{L}/u.test(piece) ? Math.max(1, Math.ceil(piece.length / 9)) : 1;
  }
  return n;
}
