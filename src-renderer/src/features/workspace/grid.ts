/**
 * Runs and the X/Y grid, A1111's "Batch count" and "X/Y/Z plot" in their plainest form: what one
 * press of Generate queues. Pure, so the form, its checks and the tests share it.
 *
 * - Runs: N jobs of the form as it is. With a locked seed the seeds continue from run to run
 *   (run 2 starts where run 1's batch ended, as A1111 does), so no picture repeats; unlocked,
 *   each run gets its own random seed.
 * - X/Y grid: one job per cell, one image each, over one or two of seed, steps, guidance,
 *   sampler and prompt S/R (search and replace: the first value is the text to find). Every cell
 *   shares one seed unless seed is an axis, so the cells differ only in what the axes say.
 *   Values are written as A1111 writes them: `20, 30, 40`, ranges `1-5`, `10-40 (+10)` and
 *   `3-7 [3]` (three values from 3 to 7).
 */
import { LIMITS, PRESETS } from '../../contract.ts';
import type { GenerateRequest, ModelFamily, SamplerName } from '../../contract.ts';
import { studioSampler } from '../../contract.ts';
import { SAMPLER_LABELS, samplersFor } from './options.ts';

export const GRID_PARAMS = ['seed', 'steps', 'guidance', 'sampler', 'prompt'] as const;
export type GridParam = (typeof GRID_PARAMS)[number];

export const GRID_PARAM_LABELS: Readonly<Record<GridParam, string>> = {
  seed: 'Seed',
  steps: 'Steps',
  guidance: 'Guidance (CFG)',
  sampler: 'Sampler',
  prompt: 'Prompt S/R',
};

export const GRID_MAX_CELLS = 64;
export const RUNS_MAX = 50;

/** One axis value: what goes into the request, and how the sheet labels it. */
export interface AxisValue {
  readonly label: string;
  readonly apply: (request: GenerateRequest) => GenerateRequest;
}

export type AxisParse = { readonly values: readonly AxisValue[] } | { readonly error: string };

/** Splits on commas outside double quotes (A1111 reads axis values as one CSV row). */
export function splitValues(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  out.push(current.trim());
  return out.filter((v) => v !== '');
}

const NUMBER = String.raw`[+-]?(?:\d+(?:\.\d*)?|\.\d+)`;
const RANGE_STEP = new RegExp(String.raw`^(${NUMBER})\s*-\s*(${NUMBER})\s*\(\s*([+-]?\s*${NUMBER})\s*\)$`);
const RANGE_COUNT = new RegExp(String.raw`^(${NUMBER})\s*-\s*(${NUMBER})\s*\[\s*(\d+)\s*\]$`);
const RANGE = new RegExp(String.raw`^(${NUMBER})\s*-\s*(${NUMBER})$`);

/** Numbers from A1111's syntax; null with a reason for anything else. */
export function expandNumbers(items: readonly string[], integer: boolean): { numbers: number[] } | { error: string } {
  const numbers: number[] = [];
  const round = (n: number) => (integer ? Math.round(n) : Math.round(n * 1000) / 1000);
  for (const item of items) {
    let m: RegExpExecArray | null;
    if ((m = RANGE_STEP.exec(item))) {
      const [a, b, step] = [Number(m[1]), Number(m[2]), Number(m[3]!.replace(/\s/g, ''))];
      if (step === 0 || Math.sign(b - a) * Math.sign(step) < 0) return { error: `“${item}” never reaches ${b} in steps of ${step}` };
      for (let v = a; step > 0 ? v <= b + 1e-9 : v >= b - 1e-9; v += step) {
        numbers.push(round(v));
        if (numbers.length > GRID_MAX_CELLS * 4) return { error: `“${item}” makes too many values` };
      }
    } else if ((m = RANGE_COUNT.exec(item))) {
      const [a, b, n] = [Number(m[1]), Number(m[2]), Number(m[3])];
      if (n < 1 || n > GRID_MAX_CELLS) return { error: `“${item}” asks for ${n} values; 1 to ${GRID_MAX_CELLS}` };
      for (let i = 0; i < n; i++) numbers.push(round(n === 1 ? a : a + ((b - a) * i) / (n - 1)));
    } else if ((m = RANGE.exec(item)) && integer) {
      const [a, b] = [Number(m[1]), Number(m[2])];
      const step = a <= b ? 1 : -1;
      for (let v = a; step > 0 ? v <= b : v >= b; v += step) {
        numbers.push(v);
        if (numbers.length > GRID_MAX_CELLS * 4) return { error: `“${item}” makes too many values` };
      }
    } else if (new RegExp(`^${NUMBER}$`).test(item)) {
      numbers.push(Number(item));
    } else {
      return { error: `“${item}” is not a number or a range such as 10-40 (+10)` };
    }
  }
  return { numbers };
}

/** The values of one axis, for a prompt and a family; an error names the value at fault. */
export function parseAxis(param: GridParam, text: string, context: { prompt: string; family: ModelFamily }): AxisParse {
  const items = splitValues(text);
  if (items.length === 0) return { error: `list the ${GRID_PARAM_LABELS[param].toLowerCase()} values to compare, separated by commas` };
  switch (param) {
    case 'seed':
    case 'steps': {
      const got = expandNumbers(items, true);
      if ('error' in got) return got;
      return { values: got.numbers.map((n) => ({ label: `${param === 'seed' ? 'seed' : 'steps'} ${n}`, apply: (r) => ({ ...r, [param]: n }) })) };
    }
    case 'guidance': {
      const got = expandNumbers(items, false);
      if ('error' in got) return got;
      return { values: got.numbers.map((n) => ({ label: `CFG ${n}`, apply: (r) => ({ ...r, guidance: n }) })) };
    }
    case 'sampler': {
      const values: AxisValue[] = [];
      const offered = samplersFor(context.family);
      for (const item of items) {
        const byLabel = offered.find((s) => SAMPLER_LABELS[s].toLowerCase() === item.toLowerCase());
        const match: SamplerName | undefined = byLabel ?? studioSampler(item, context.family)?.sampler;
        if (!match || !offered.includes(match)) {
          return { error: `“${item}” is not a sampler for ${context.family === 'sdxl' ? 'SDXL' : 'WAN'}; use ${offered.map((s) => SAMPLER_LABELS[s]).join(', ')}` };
        }
        values.push({ label: SAMPLER_LABELS[match], apply: (r) => ({ ...r, scheduler: match }) });
      }
      return { values };
    }
    case 'prompt': {
      const search = items[0]!;
      if (!context.prompt.includes(search)) return { error: `the prompt does not contain “${search}”, the first value, which each value replaces` };
      return {
        values: items.map((item) => ({ label: item, apply: (r) => ({ ...r, prompt: r.prompt.split(search).join(item) }) })),
      };
    }
  }
}

/** A fresh seed: any 32-bit number, as the engine draws them. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

/** Seeds of N runs from a locked seed: each run starts where the previous run's batch ended. */
export function runSeeds(seed: number, runs: number, count: number): number[] {
  return Array.from({ length: runs }, (_, i) => Math.min(LIMITS.seedMax, seed + i * count));
}

/** Images a job of this draft makes: what is typed, else the preset (video types make one clip). */
export function imagesPerJob(type: GenerateRequest['type'], count: string): number {
  const p = PRESETS[type];
  if (p.kind === 'video') return 1;
  const n = Number(count.trim());
  return count.trim() !== '' && Number.isInteger(n) ? n : p.count;
}
