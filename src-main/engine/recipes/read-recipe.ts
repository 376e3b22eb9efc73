/**
 * `recipes.fromFile` and `recipes.fromText`: how a dropped picture or clip, or a pasted text, says
 * it was made — through the very readers the Library's import uses (read-media.ts, precedence.ts),
 * so a file reads the same here as once imported, with the same hostile-file bounds.
 *
 * The bytes are written to a private temporary file (sharp and ffprobe read files), read without
 * decoding pixels, and removed. An MP4 too large to send whole arrives as its two ends, laid out at
 * their places in a sparse file of the full size: the box tree and the `moov` box are there, the
 * media data between them reads as zeros, which nothing here looks at.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParamsOut } from '../../../src-preload/contract/channels.ts';
import { JOB_TYPES } from '../../../src-preload/contract/catalog.ts';
import type { JobType } from '../../../src-preload/contract/catalog.ts';
import { RECIPE_LIMITS } from '../../../src-preload/contract/recipes.ts';
import type { RecipeFields, RecipeReading, RecipeSource } from '../../../src-preload/contract/recipes.ts';
import { StudioError } from '../errors.ts';
import { parseA1111Parameters } from '../media/a1111.ts';
import { jsonBudget, parseJsonBounded } from '../media/bounded-json.ts';
import type { FfmpegSource } from '../library/metadata/ffmpeg.ts';
import type { MediaFields } from '../library/metadata/fields.ts';
import { jsonObject } from '../library/metadata/fields.ts';
import { chooseGeneration } from '../library/metadata/precedence.ts';
import { MediaRejected, MEDIA_LIMITS, readMediaFacts, sniffFormat } from '../library/metadata/read-media.ts';
import type { MediaFacts } from '../library/metadata/read-media.ts';
import { keepInRange } from '../library/metadata/setting-ranges.ts';

export interface RecipeReaderOptions {
  /** The ffprobe that reads MP4 tags (the engine's: Settings → Video, else PATH). */
  readonly ffmpeg?: FfmpegSource;
}

const SOURCE_LABELS: Readonly<Record<RecipeSource, string>> = {
  ourvidz: 'this studio',
  invokeai: 'InvokeAI',
  novelai: 'NovelAI',
  swarmui: 'SwarmUI',
  fooocus: 'Fooocus',
  ruinedfooocus: 'RuinedFooocus',
  comfyui: 'ComfyUI',
  a1111: 'A1111 / Forge',
  json: 'a JSON record',
};

/**
 * A1111 infotext keys the form reads (or that say nothing about the picture: the program's
 * version, where the noise came from); every other key is a setting this studio has no field for.
 */
const A1111_READ = new Set([
  'Steps', 'Sampler', 'Schedule type', 'CFG scale', 'Seed', 'Size', 'Model hash', 'Model', 'Version', 'RNG',
  'Batch size', 'Batch pos', 'Frames', 'FPS', 'Original prompt', 'Distilled CFG Scale', 'VAE hash', 'VAE', 'Job type',
]);

function decode(base64: string): Buffer {
  return Buffer.from(base64, 'base64');
}

/** The A1111 text the record came from, when it did: the unused keys and the model hash are read off it. */
function a1111Text(facts: MediaFacts): string | null {
  const raw = facts.raw;
  const tags = (raw.tags ?? {}) as Record<string, unknown>;
  for (const candidate of [raw.parameters, raw.exifUserComment, raw.xmpParameters, raw.exifImageDescription, tags.description, tags.parameters, tags.comment]) {
    if (typeof candidate !== 'string') continue;
    const parsed = parseA1111Parameters(candidate);
    if (Object.keys(parsed.params).length >= 3) return candidate;
  }
  return null;
}

interface A1111Extras {
  readonly unused: string[];
  readonly modelHash: string | null;
  /** A1111 1.9+'s `Schedule type: Automatic` is the sampler's own default: Karras for DPM++ 2M. */
  readonly sampler: string | null;
}

function a1111Extras(text: string | null): A1111Extras {
  if (text === null) return { unused: [], modelHash: null, sampler: null };
  const p = parseA1111Parameters(text);
  const unused = Object.keys(p.params).filter((k) => !A1111_READ.has(k));
  const automatic = p.scheduleType !== undefined && /^automatic$/i.test(p.scheduleType.trim());
  const sampler = automatic && p.sampler !== undefined && /^dpm\+\+ 2m$/i.test(p.sampler.trim()) ? `${p.sampler.trim()} Karras` : null;
  return { unused, modelHash: p.modelHash ?? null, sampler };
}

function jobTypeOf(value: string | undefined): JobType | null {
  return value !== undefined && (JOB_TYPES as readonly string[]).includes(value) ? (value as JobType) : null;
}

function toFields(f: MediaFields, extra: { frames: number | null; modelHash: string | null; sampler: string | null }): RecipeFields {
  return {
    prompt: f.prompt ?? null,
    negativePrompt: f.negativePrompt ?? null,
    enhancedPrompt: f.enhancedPrompt ?? null,
    seed: f.seed ?? null,
    steps: f.steps ?? null,
    guidance: f.cfg ?? f.guidance ?? null,
    sampler: extra.sampler ?? f.sampler ?? null,
    model: f.model ?? null,
    modelHash: extra.modelHash,
    width: f.width ?? null,
    height: f.height ?? null,
    frames: extra.frames,
    jobType: jobTypeOf(f.jobType),
  };
}

/** Writes what was sent into `path`: the whole file, or its two ends in a sparse file of the full size. */
async function writeSent(path: string, head: Buffer, tail: Buffer | null, size: number): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.write(head, 0, head.length, 0);
    if (tail) {
      await handle.truncate(size);
      await handle.write(tail, 0, tail.length, size - tail.length);
    }
  } finally {
    await handle.close();
  }
}

export async function readRecipeFile(params: ParamsOut<'recipes.fromFile'>, options: RecipeReaderOptions = {}): Promise<RecipeReading> {
  const name = params.name.trim() || 'the file';
  const head = decode(params.head);
  const tail = params.tail !== undefined ? decode(params.tail) : null;
  const format = sniffFormat(head.subarray(0, 32));
  if (format === null) {
    throw new StudioError('unsupported_file', `${name} is not a PNG, JPEG, WebP or MP4 file (whatever its name says), so it holds no settings to read`);
  }
  if (tail === null ? head.length !== params.size : head.length + tail.length > params.size) {
    throw new StudioError('invalid_params', `the bytes sent for ${name} do not add up to its size (${params.size} bytes); drop it again`, { field: 'size' });
  }
  if (tail !== null && format !== 'mp4') {
    throw new StudioError(
      'file_too_large',
      `${name} is ${Math.round(params.size / 2 ** 20)} MB; settings are read from pictures up to ${RECIPE_LIMITS.maxWholeBytes / 2 ** 20} MB — import it into the Library instead`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'ourvidz-recipe-'));
  try {
    const path = join(dir, `dropped.${format === 'jpeg' ? 'jpg' : format}`);
    await writeSent(path, head, tail, params.size);
    let facts: MediaFacts;
    try {
      facts = await readMediaFacts(path, { name, size: params.size, decode: false, ...(options.ffmpeg ? { ffmpeg: options.ffmpeg } : {}) });
    } catch (error) {
      if (error instanceof MediaRejected) throw new StudioError('unreadable_file', error.message.replace(/; skipped$/, ''));
      throw error;
    }
    const extras = facts.source === 'a1111' || facts.source === 'fooocus' ? a1111Extras(a1111Text(facts)) : a1111Extras(null);
    const source = facts.source as RecipeSource | null;
    return {
      source,
      sourceLabel: source ? SOURCE_LABELS[source] : null,
      format,
      kind: facts.kind,
      fields: toFields(facts.fields, { frames: facts.kind === 'video' ? facts.frameCount : null, modelHash: extras.modelHash, sampler: extras.sampler }),
      unused: extras.unused,
      notes: facts.notes.map((n) => n.replace(/, so it was not kept as a setting; the file's own text is kept in the asset's recipe$/, ', so it was left out')),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A pasted A1111 infotext, or a JSON record a tool writes (a ComfyUI graph in API or editor form, InvokeAI, SwarmUI…). */
export async function readRecipeText(params: ParamsOut<'recipes.fromText'>): Promise<RecipeReading> {
  const text = params.text;
  const budget = jsonBudget(MEDIA_LIMITS.maxJsonValues);
  const parse = (t: string): unknown => parseJsonBounded(t, budget).value;
  const record = jsonObject(text, parse);
  const generation = chooseGeneration(
    {
      ...(record ? { comfyPrompt: record, comfyWorkflow: record } : {}),
      texts: [{ text, strict: record === undefined }],
    },
    parse,
  );
  const { fields, notes } = keepInRange(generation.fields);
  const source = generation.source as RecipeSource | null;
  const extras = source === 'a1111' ? a1111Extras(text) : a1111Extras(null);
  return {
    source,
    sourceLabel: source ? SOURCE_LABELS[source] : null,
    format: 'text',
    kind: null,
    fields: toFields(fields, { frames: null, modelHash: extras.modelHash, sampler: extras.sampler }),
    unused: extras.unused,
    notes: notes.map((n) => n.replace(/, so it was not kept as a setting; the file's own text is kept in the asset's recipe$/, ', so it was left out')),
  };
}
