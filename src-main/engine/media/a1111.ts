// The AUTOMATIC1111 "parameters" infotext: the de-facto recipe format that Civitai, image browsers
// and most SD tools read from PNG files. Writer mirrors A1111's create_infotext (modules/processing.py),
// reader mirrors parse_generation_parameters (modules/infotext_utils.py), including their quirks:
//
//   <prompt, may span lines>
//   Negative prompt: <negative prompt, may span lines>      (line omitted when empty)
//   Steps: 15, Sampler: Euler, Schedule type: Karras, CFG scale: 7, Seed: 42, Size: 1024x1024, …
//
// A value is JSON-quoted (json.dumps, ensure_ascii=False) when its text contains `,`, `:` or a
// newline; nothing else is escaped. Every line of the prompt is stripped on reading, as A1111 does.

export type A1111Value = string | number | bigint | boolean;

export interface A1111Generation {
  prompt: string;
  negativePrompt?: string;
  steps: number;
  /** A1111 sampler name, e.g. `Euler`, `Euler a`, `DPM++ 2M`. */
  sampler: string;
  /** A1111 schedule type, e.g. `Karras`, `Automatic`, `Exponential`. */
  scheduleType?: string;
  cfgScale: number;
  seed: number | bigint;
  width: number;
  height: number;
  /** Short model hash as A1111 shows it (first 10 hex digits of the file's SHA-256). */
  modelHash?: string;
  model?: string;
  vaeHash?: string;
  vae?: string;
  denoisingStrength?: number;
  /** Written only when above 1, as A1111 does. */
  clipSkip?: number;
  /** Images the job made; written only when 2 or more, as A1111 does. */
  batchSize?: number;
  /** This image's place in its batch; written when the batch has 2 or more, or the place is not the first. */
  batchPos?: number;
  /**
   * Where the starting noise was drawn, as A1111's `RNG` setting reads it: `CPU` is torch.randn on a
   * CPU generator seeded with the seed (what this studio, ComfyUI and diffusers draw). A1111 leaves
   * the field out for its GPU default, so an image without it reproduces there only on its GPU noise.
   */
  rng?: 'CPU' | 'GPU' | 'NV';
  /** Further `Key: value` pairs, written after the standard keys and before `Version`. */
  extra?: ReadonlyArray<readonly [string, A1111Value | null | undefined]>;
  /** Program version, last on the line (A1111 writes e.g. `v1.10.1`). */
  version?: string;
}

/** A1111's quote(): JSON-encode when the value's text holds a comma, colon or newline. */
export function quoteA1111Value(value: A1111Value): string {
  const text = pythonStr(value);
  if (!text.includes(',') && !text.includes('\n') && !text.includes(':')) return text;
  // JSON.stringify on a string matches Python's json.dumps(ensure_ascii=False): both escape only
  // `"`, `\` and control characters, with the same short forms and lowercase \u00xx.
  return JSON.stringify(text);
}

/** Text of a value as Python's str() prints the types A1111 puts on the line. */
function pythonStr(value: A1111Value): string {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return String(value);
}

/**
 * The `Key: value, Key: value` line. Null/undefined values are skipped; a string value equal to
 * its key is written as the bare key (A1111's `k if k == v`).
 */
export function formatA1111ParamsLine(
  entries: ReadonlyArray<readonly [string, A1111Value | null | undefined]>,
): string {
  const parts: string[] = [];
  for (const [key, value] of entries) {
    if (value === null || value === undefined) continue;
    parts.push(typeof value === 'string' && value === key ? key : `${key}: ${quoteA1111Value(value)}`);
  }
  return parts.join(', ');
}

/**
 * `Batch size` and `Batch pos` as A1111 writes them: nothing for a single image (a `Batch size`
 * there would make A1111 draw that many), except the place of an image re-run alone from a batch.
 */
export function a1111BatchFields(batchSize: number | undefined, batchPos: number | undefined): Array<[string, number | undefined]> {
  const batch = batchSize !== undefined && batchSize >= 2;
  return [
    ['Batch size', batch ? batchSize : undefined],
    ['Batch pos', batchPos !== undefined && (batch || batchPos > 0) ? batchPos : undefined],
  ];
}

/** Build the full `parameters` text in A1111's key order. */
export function buildA1111Parameters(gen: A1111Generation): string {
  const line = formatA1111ParamsLine([
    ['Steps', gen.steps],
    ['Sampler', gen.sampler],
    ['Schedule type', gen.scheduleType],
    ['CFG scale', gen.cfgScale],
    ['Seed', gen.seed],
    ['Size', `${gen.width}x${gen.height}`],
    ['Model hash', gen.modelHash],
    ['Model', gen.model],
    ['VAE hash', gen.vaeHash],
    ['VAE', gen.vae],
    ['Denoising strength', gen.denoisingStrength],
    ['Clip skip', gen.clipSkip !== undefined && gen.clipSkip > 1 ? gen.clipSkip : undefined],
    ...a1111BatchFields(gen.batchSize, gen.batchPos),
    ['RNG', gen.rng],
    ...(gen.extra ?? []),
    ['Version', gen.version],
  ]);
  const negative = gen.negativePrompt ? `\nNegative prompt: ${gen.negativePrompt}` : '';
  return pythonStrip(`${gen.prompt}${negative}\n${line}`);
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Characters Python's str.isspace() accepts (what strip() and `\s` remove), unlike JS trim(). */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** Python's Unicode `\w`: letters, numbers, underscore. */
const PY_WORD = '\\p{L}\\p{N}_';

// re_param from infotext_utils.py: \s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)
// (as a reference: findParams below does what `line.matchAll(PARAM_PATTERN)` does, in linear time)
export const PARAM_PATTERN = new RegExp(
  `[${PY_SPACE}]*([${PY_WORD}][${PY_WORD} \\-/]+):[${PY_SPACE}]*("(?:\\\\[^\\n]|[^\\\\"])+"|[^,]*)(?:,|$)`,
  'gu',
);
const LEADING_SPACE = new RegExp(`^[${PY_SPACE}]+`, 'u');
const SPACE = new RegExp(`[${PY_SPACE}]`, 'u');
const IMAGE_SIZE = /^(\d+)x(\d+)$/;

/**
 * Python's str.strip(). Not a `[…]+$` regex: that tries every position of every inner run of
 * spaces against the end, quadratic in the run (80,000 spaces took 23 s).
 */
export function pythonStrip(text: string): string {
  const start = LEADING_SPACE.exec(text)?.[0].length ?? 0;
  let end = text.length;
  while (end > start && SPACE.test(text[end - 1]!)) end--;
  return text.slice(start, end);
}

export interface ParsedA1111Parameters {
  prompt: string;
  negativePrompt: string;
  /** Every `Key: value` of the last line, unquoted, in order; a later duplicate key wins. */
  params: Record<string, string>;
  steps?: number;
  sampler?: string;
  scheduleType?: string;
  cfgScale?: number;
  /** A string: A1111 seeds fit in 32 bits, other tools' may not fit a JS number. */
  seed?: string;
  width?: number;
  height?: number;
  modelHash?: string;
  model?: string;
  version?: string;
}

const SPACES_AT = new RegExp(`[${PY_SPACE}]*`, 'uy');
const KEY_AT = new RegExp(`[${PY_WORD}][${PY_WORD} \\-/]*`, 'uy');
const QUOTED_AT = /"(?:\\[^\n]|[^\\"])+"/uy;
const UNQUOTED_AT = /[^,]*/uy;

function endOf(pattern: RegExp, text: string, at: number): number {
  pattern.lastIndex = at;
  return pattern.exec(text) === null ? -1 : pattern.lastIndex;
}

/**
 * `re.findall(re_param, line)`, matching PARAM_PATTERN exactly (tests/unit/media/a1111-linear.test.ts
 * compares the two), in time linear in the line. The regex itself is quadratic on a long line
 * without a colon: from every position of a run of key characters it scans to the run's end (an
 * 80,000-character line took 15 s). Here each run is scanned once: a key can only end at the
 * run's end, so when no colon follows, no position inside the run starts a match either.
 */
export function findParams(line: string): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  let at = 0;
  while (at < line.length) {
    const keyStart = endOf(SPACES_AT, line, at);
    const keyEnd = endOf(KEY_AT, line, keyStart);
    if (keyEnd < 0) {
      // No key can start here, nor anywhere in the spaces before it.
      at = keyStart + (keyStart < line.length && line.codePointAt(keyStart)! > 0xffff ? 2 : 1);
      continue;
    }
    const key = line.slice(keyStart, keyEnd);
    if (line[keyEnd] !== ':' || [...key.slice(0, 4)].length < 2) {
      at = keyEnd;
      continue;
    }
    const valueStart = endOf(SPACES_AT, line, keyEnd + 1);
    let valueEnd = endOf(QUOTED_AT, line, valueStart);
    if (valueEnd < 0 || (valueEnd < line.length && line[valueEnd] !== ',')) valueEnd = endOf(UNQUOTED_AT, line, valueStart);
    found.push([key, line.slice(valueStart, valueEnd)]);
    at = valueEnd < line.length ? valueEnd + 1 : valueEnd;
  }
  return found;
}

/** A1111's unquote(): JSON-decode a double-quoted value, or keep it as written if that fails. */
function unquote(text: string): string {
  if (text.length === 0 || text[0] !== '"' || text[text.length - 1] !== '"') return text;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'string' ? value : text;
  } catch {
    return text;
  }
}

/**
 * Parse a `parameters` text. Like A1111, the last line counts as the parameter line only when it
 * holds at least three `Key: value` pairs; otherwise it belongs to the prompt.
 */
export function parseA1111Parameters(text: string): ParsedA1111Parameters {
  const lines = pythonStrip(text).split('\n');
  let lastLine = lines.pop()!;
  if (findParams(lastLine).length < 3) {
    lines.push(lastLine);
    lastLine = '';
  }

  let prompt = '';
  let negativePrompt = '';
  let doneWithPrompt = false;
  for (const rawLine of lines) {
    let line = pythonStrip(rawLine);
    if (line.startsWith('Negative prompt:')) {
      doneWithPrompt = true;
      line = pythonStrip(line.slice('Negative prompt:'.length));
    }
    if (doneWithPrompt) negativePrompt += (negativePrompt === '' ? '' : '\n') + line;
    else prompt += (prompt === '' ? '' : '\n') + line;
  }

  const params: Record<string, string> = {};
  for (const [key, value] of findParams(lastLine)) {
    // A1111 indexes v[0] inside a try block, so an empty value is reported and dropped.
    if (value.length === 0) continue;
    params[key] = unquote(value);
  }

  const result: ParsedA1111Parameters = { prompt, negativePrompt, params };
  const int = (key: string): number | undefined => {
    const v = params[key];
    return v !== undefined && /^[+-]?\d+$/.test(v.trim()) ? Number(v) : undefined;
  };
  const num = (key: string): number | undefined => {
    const v = params[key];
    const n = v === undefined || v.trim() === '' ? NaN : Number(v);
    return Number.isFinite(n) ? n : undefined;
  };
  setIfDefined(result, 'steps', int('Steps'));
  setIfDefined(result, 'sampler', params['Sampler']);
  setIfDefined(result, 'scheduleType', params['Schedule type']);
  setIfDefined(result, 'cfgScale', num('CFG scale'));
  const seed = params['Seed'];
  if (seed !== undefined && /^-?\d+$/.test(seed.trim())) result.seed = seed.trim();
  const size = IMAGE_SIZE.exec(params['Size'] ?? '');
  if (size !== null) {
    result.width = Number(size[1]);
    result.height = Number(size[2]);
  }
  setIfDefined(result, 'modelHash', params['Model hash']);
  setIfDefined(result, 'model', params['Model']);
  setIfDefined(result, 'version', params['Version']);
  return result;
}

function setIfDefined<K extends keyof ParsedA1111Parameters>(
  target: ParsedA1111Parameters,
  key: K,
  value: ParsedA1111Parameters[K] | undefined,
): void {
  if (value !== undefined) target[key] = value;
}
