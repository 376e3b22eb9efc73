/**
 * `studio generate` flags, derived from the contract's GenerateRequestSchema so the CLI can never
 * drift from what the engine accepts: every schema key is a kebab-case flag, typed by its zod kind.
 */
import { GenerateRequestSchema, JOB_TYPES, LIMITS, SAMPLERS } from '../../src-preload/contract/catalog.ts';
import type { GenerateRequest } from '../../src-preload/contract/catalog.ts';
import { UsageError } from './exit-codes.ts';

export type RequestKey = keyof GenerateRequest;
export type FlagKind = 'string' | 'number' | 'integer' | 'choice';

export interface ParamFlag {
  readonly key: RequestKey;
  /** As typed on the command line, without dashes: `negative-prompt`. */
  readonly flag: string;
  readonly kind: FlagKind;
  readonly required: boolean;
  readonly choices: readonly string[] | null;
  readonly help: string;
}

/** One line of help per request key; the mapped type makes a new schema key without help a type error. */
const PARAM_HELP: { readonly [K in RequestKey]-?: string } = {
  type: 'job type: one of the types listed under "Job types" in `studio generate --help`',
  prompt: `what to generate (at most ${LIMITS.promptMax} characters)`,
  negativePrompt: 'what to avoid',
  seed: `noise seed, 0 to ${LIMITS.seedMax} (random when left out); same seed = same picture`,
  steps: `denoising steps, ${LIMITS.stepsMin} to ${LIMITS.stepsMax} (preset when left out)`,
  guidance: `classifier-free guidance, ${LIMITS.guidanceMin} to ${LIMITS.guidanceMax}`,
  width: `width in pixels, ${LIMITS.sizeMin} to ${LIMITS.sizeMax} (multiple of 8 for SDXL, 16 for WAN)`,
  height: `height in pixels, ${LIMITS.sizeMin} to ${LIMITS.sizeMax} (multiple of 8 for SDXL, 16 for WAN)`,
  frames: `video frames, 4k+1 up to ${LIMITS.framesMax} (1 for images)`,
  count: 'images in the batch (SDXL up to 12, WAN 1)',
  batchIndex: 're-run one image of a seeded batch alone: its index 0 to 11 (needs --count 1)',
  scheduler: `sampler: ${SAMPLERS.join(', ')}`,
  model: 'model id to use instead of the default for the job type (see `studio models list`)',
  enhancedPrompt: 'an already reviewed prompt rewrite for *_enhanced types (skips the enhancer)',
};

export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

interface ZodLike {
  readonly def: { readonly type: string; readonly innerType?: ZodLike };
  readonly isInt?: boolean;
  readonly options?: readonly unknown[];
}

function flagFor(key: RequestKey, schema: ZodLike): ParamFlag {
  const required = schema.def.type !== 'optional';
  const inner = !required && schema.def.innerType ? schema.def.innerType : schema;
  let kind: FlagKind;
  let choices: readonly string[] | null = null;
  switch (inner.def.type) {
    case 'number':
      kind = inner.isInt ? 'integer' : 'number';
      break;
    case 'enum':
      kind = 'choice';
      choices = (inner.options ?? []).map(String);
      break;
    case 'string':
      kind = 'string';
      break;
    default:
      // A new kind of field in the schema needs a parser here; failing loudly beats a silent drop.
      throw new Error(`generate flag --${kebab(key)}: no CLI parser for zod type '${inner.def.type}'`);
  }
  return { key, flag: kebab(key), kind, required, choices, help: PARAM_HELP[key] };
}

export const PARAM_FLAGS: readonly ParamFlag[] = Object.entries(GenerateRequestSchema.shape).map(([key, schema]) =>
  flagFor(key as RequestKey, schema as unknown as ZodLike),
);

const FLAG_BY_KEY = new Map(PARAM_FLAGS.map((f) => [f.key as string, f]));

/** The flag a request field is set with, for error messages: `steps` → `--steps`. */
export function flagForField(field: string | undefined): string | undefined {
  if (!field) return undefined;
  const f = FLAG_BY_KEY.get(field.split('.').pop() ?? field);
  return f ? `--${f.flag}` : undefined;
}

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses a number strictly: the whole text must be a decimal number (no `12abc`, no hex, no empty).
 * Range and whole-number checks are left to the contract schema so the message is the engine's.
 */
export function parseStrictNumber(text: string, flag: string): number {
  const t = text.trim();
  if (!DECIMAL.test(t)) {
    throw new UsageError(`${flag} must be a number (got ${JSON.stringify(text)})`, flag);
  }
  const n = Number(t);
  if (!Number.isFinite(n)) throw new UsageError(`${flag} must be a finite number (got ${JSON.stringify(text)})`, flag);
  return n;
}

/** parseArgs option config for every generate parameter (all take a value). */
export function paramParseOptions(): Record<string, { type: 'string' }> {
  return Object.fromEntries(PARAM_FLAGS.map((f) => [f.flag, { type: 'string' as const }]));
}

/**
 * Builds the request object from parsed flag values. Unknown-to-schema values never get here
 * (parseArgs is strict); values are converted by kind, and the range checks are the schema's.
 */
export function requestFromFlags(values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const request: Record<string, unknown> = {};
  for (const f of PARAM_FLAGS) {
    const raw = values[f.flag];
    if (raw === undefined) continue;
    if (typeof raw !== 'string') throw new UsageError(`--${f.flag} takes a value`, `--${f.flag}`);
    if (f.kind === 'number' || f.kind === 'integer') request[f.key] = parseStrictNumber(raw, `--${f.flag}`);
    else request[f.key] = raw;
  }
  for (const f of PARAM_FLAGS) {
    if (f.required && request[f.key] === undefined) {
      const hint = f.key === 'type' ? ` (one of: ${JOB_TYPES.join(', ')})` : '';
      throw new UsageError(`--${f.flag} is required${hint}`, `--${f.flag}`);
    }
  }
  return request;
}
