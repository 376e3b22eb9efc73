/**
 * Generation settings read from another tool's file become columns the library sorts, filters and
 * re-runs by, so each number must lie in the range some real tool can produce. A value outside
 * (`Steps: -5`, a cfg of 1e300) is left out of the columns with a note; the file's own text stays
 * untouched in the asset's recipe, so nothing the file said is lost.
 */
import type { GenerationFields } from './generators.ts';

interface Range {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

/** The widest ranges among A1111, ComfyUI and InvokeAI (ComfyUI's KSampler and MAX_RESOLUTION). */
export const SETTING_RANGES = {
  steps: { min: 1, max: 10_000, integer: true },
  cfg: { min: 0, max: 100, integer: false },
  guidance: { min: 0, max: 100, integer: false },
  seed: { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true },
  width: { min: 1, max: 16_384, integer: true },
  height: { min: 1, max: 16_384, integer: true },
  batchIndex: { min: 0, max: 10_000, integer: true },
} as const satisfies Record<string, Range>;

type Ranged = keyof typeof SETTING_RANGES;

const LABELS: Record<Ranged, string> = {
  steps: 'steps',
  cfg: 'CFG scale',
  guidance: 'guidance',
  seed: 'seed',
  width: 'width',
  height: 'height',
  batchIndex: 'batch index',
};

function inRange(value: number, range: Range): boolean {
  return Number.isFinite(value) && value >= range.min && value <= range.max && (!range.integer || Number.isInteger(value));
}

/**
 * The fields with every out-of-range number removed, and one sentence per removal. `width` and
 * `height` go together: a size is kept whole or not at all.
 */
export function keepInRange<F extends GenerationFields & { batchIndex?: number }>(fields: F): { fields: F; notes: string[] } {
  const out = { ...fields };
  const values = out as Record<string, unknown>;
  const notes: string[] = [];
  for (const key of Object.keys(SETTING_RANGES) as Ranged[]) {
    const value = values[key];
    if (typeof value !== 'number') continue;
    const range = SETTING_RANGES[key];
    if (inRange(value, range)) continue;
    delete values[key];
    notes.push(
      `its ${LABELS[key]} ${String(value)} lies outside ${range.min}–${range.max}${range.integer ? ' (whole numbers)' : ''}, so it was not kept as a setting; the file's own text is kept in the asset's recipe`,
    );
  }
  if ((out.width === undefined) !== (out.height === undefined)) {
    delete out.width;
    delete out.height;
  }
  return { fields: out, notes };
}
