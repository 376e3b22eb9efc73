/**
 * The Queue's pure parts: what "Run again" queues, where a moved job lands, and what the header
 * says about how jobs share the GPU.
 */
import { PRESETS } from '../../contract.ts';
import type { GenerateRequest, JobView } from '../../contract.ts';
import { formatMb } from '../../format.ts';

/**
 * A finished job queued again as it was: the same prompt, settings, model and seed (so a done job
 * comes out the same; Load settings is there to change something first). An enhanced job keeps the
 * rewrite it ran with, and a re-run of one image of a batch stays that one image.
 */
export function runAgainRequest(job: JobView): GenerateRequest {
  const p = job.params;
  const preset = PRESETS[job.type];
  const enhanced = preset.enhance ? (job.enhancedPrompt ?? p.enhancedPrompt) : null;
  return {
    type: job.type,
    prompt: p.prompt,
    ...(p.negativePrompt ? { negativePrompt: p.negativePrompt } : {}),
    seed: p.seed,
    steps: p.steps,
    guidance: p.guidance,
    width: p.width,
    height: p.height,
    ...(preset.kind === 'video' ? { frames: p.frames } : {}),
    scheduler: p.scheduler,
    ...(p.model ? { model: p.model } : {}),
    ...(enhanced ? { enhancedPrompt: enhanced } : {}),
    count: p.count,
    ...(p.batchIndex !== null ? { batchIndex: p.batchIndex } : {}),
  };
}

/** A move in the waiting list, as the engine's `jobs.reorder` takes it: ahead of `before`, or last (null). */
export interface Placement {
  readonly id: string;
  readonly before: string | null;
}

/**
 * The placement that puts the job at `from` into slot `to` of `ids` (the waiting jobs in order), or
 * null when it would not move. `to` counts slots in the list as it is now, the job still in it.
 */
export function placementFor(ids: readonly string[], from: number, to: number): Placement | null {
  const id = ids[from];
  if (id === undefined) return null;
  const slot = Math.max(0, Math.min(ids.length, to));
  if (slot === from || slot === from + 1) return null;
  return { id, before: ids[slot] ?? null };
}

/** Move up / Move down / to the front / to the back, from the keyboard. */
export type KeyMove = 'up' | 'down' | 'first' | 'last';

export function keyPlacement(ids: readonly string[], index: number, move: KeyMove): Placement | null {
  switch (move) {
    case 'up':
      return placementFor(ids, index, index - 1);
    case 'down':
      return placementFor(ids, index, index + 2);
    case 'first':
      return placementFor(ids, index, 0);
    case 'last':
      return placementFor(ids, index, ids.length);
  }
}

/** The waiting list after a placement (what the engine will answer with), for showing it at once. */
export function applyPlacement(ids: readonly string[], placement: Placement): string[] {
  const rest = ids.filter((id) => id !== placement.id);
  const at = placement.before === null ? rest.length : rest.indexOf(placement.before);
  if (at < 0) return [...ids];
  return [...rest.slice(0, at), placement.id, ...rest.slice(at)];
}

/**
 * How jobs share the GPU, as the scheduler does it: one SDXL and one WAN job side by side when
 * both fit the VRAM budget, jobs of one family one after another.
 */
export function sharingRule(budgetMb: number | null): string {
  const budget = budgetMb !== null ? `the ${formatMb(budgetMb)} VRAM budget` : 'the VRAM budget';
  return `One SDXL and one WAN job can run at the same time when both fit ${budget}; jobs of the same family run one after another.`;
}
