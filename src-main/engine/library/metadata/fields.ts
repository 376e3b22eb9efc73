/**
 * The generation settings every reader produces, and the type-checked lookups they share. Input
 * is hostile: a value is taken only when it has the expected type (numbers may come as the decimal
 * text some tools write, e.g. SwarmUI's `"seed": "42"`).
 */

export interface GenerationFields {
  prompt?: string;
  negativePrompt?: string;
  seed?: number;
  steps?: number;
  /** The classifier-free guidance scale. */
  cfg?: number;
  /** Distilled guidance (Flux's FluxGuidance, SwarmUI's Flux guidance scale), apart from the CFG. */
  guidance?: number;
  /** The sampler as the tool names it (`euler`, `DPM++ 2M`, `k_lms`). */
  sampler?: string;
  /** The noise schedule when the tool keeps it apart from the sampler (`karras`, `normal`, `simple`). */
  scheduler?: string;
  model?: string;
  width?: number;
  height?: number;
}

/** What the library keeps of a file's settings: the generation fields, and this studio's own. */
export interface MediaFields extends GenerationFields {
  enhancedPrompt?: string;
  jobType?: string;
  jobId?: string;
  batchIndex?: number;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** A seed: an integer a JS number holds exactly (some tools write 64-bit seeds as text). */
export function seedOf(v: unknown): number | undefined {
  const n = num(v);
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** JSON.parse that answers undefined instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The JSON object a text holds, when it is one (the text may carry a UTF-8 BOM or spaces). `parse`
 * is the caller's parser (the library's bounds what one file's JSON may build); it may throw.
 */
export function jsonObject(text: string | undefined, parse: (text: string) => unknown = parseJson): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.replace(/^\uFEFF/u, '').trim();
  if (!trimmed.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = parse(trimmed);
  } catch {
    return undefined;
  }
  return isRecord(value) ? value : undefined;
}

/** Sets each defined value; the readers' way of never writing `undefined` into a record. */
export function assignDefined<T extends object>(target: T, values: { [K in keyof T]?: T[K] | undefined }): T {
  for (const [k, v] of Object.entries(values)) {
    if (v !== undefined) (target as Record<string, unknown>)[k] = v;
  }
  return target;
}
