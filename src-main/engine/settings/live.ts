/**
 * Applying settings while the engine runs: every change reaches the part that uses it, without a
 * restart. Model folders are rescanned, the VRAM budget moves, the next job gets the new provider
 * order (the scheduler reads it per job), ffmpeg is looked up again, workers started from now on get
 * the new idle timeout, and previews are thinned to the new interval.
 */
import type { ProgressEvent } from '../../../src-preload/contract/status.ts';
import type { SettingsChange } from '../../../src-preload/contract/settings.ts';

export interface LivePorts {
  readonly models: { setDirs(dirs: readonly string[]): void };
  readonly gpu: { setBudget(mb: number | null): void };
  /** null in a client engine (it runs no workers). */
  readonly workers: { setIdleMs(ms: number): void } | null;
  /** Forget the ffmpeg found before and look again with this setting. */
  readonly relocateFfmpeg: (ffmpegPath: string | null) => void;
  /** The engine was given a fixed idle timeout (tests): the setting does not replace it. */
  readonly fixedIdleMs?: boolean;
}

export function applySettingsChange(change: SettingsChange, ports: LivePorts): void {
  const effective = change.state.effective;
  const changed = new Set(change.changed);
  if (changed.has('modelDirs')) ports.models.setDirs(effective.modelDirs);
  if (changed.has('vramBudgetMb')) ports.gpu.setBudget(effective.vramBudgetMb);
  if (changed.has('ffmpegPath')) ports.relocateFfmpeg(effective.ffmpegPath);
  if (changed.has('workerIdleMinutes') && !ports.fixedIdleMs) ports.workers?.setIdleMs(effective.workerIdleMinutes * 60_000);
}

/**
 * Keeps a preview every `every` steps (and at the last step); the step counts still go out on every
 * step, so progress stays smooth while fewer images are sent to the window.
 */
export function thinPreview(event: ProgressEvent, every: number): ProgressEvent {
  if (event.preview === null || every <= 1) return event;
  if (event.step % every === 0 || event.step === event.of) return event;
  return { ...event, preview: null };
}
