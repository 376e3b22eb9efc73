/**
 * Decides which of a pipeline's progress reports go over the wire. A pipeline may report as often
 * as it likes; the UI needs every step change but only a few previews a second (each is a PNG
 * that becomes a data: URL in the renderer).
 *
 * Rules: a report is sent when its step, total, stage or progress within the stage differs from
 * the last one sent. Its
 * preview travels only if at least `previewIntervalMs` passed since the last preview sent,
 * otherwise it is dropped (a newer one follows). A report that changes nothing is sent only to
 * carry a preview that is due.
 */
import type { ProgressUpdate } from '../pipelines/types.ts';

export class ProgressThrottle {
  readonly #previewIntervalMs: number;
  readonly #now: () => number;
  #lastKey: string | null = null;
  #lastPreviewAt = Number.NEGATIVE_INFINITY;

  constructor(previewIntervalMs: number, now: () => number = () => performance.now()) {
    this.#previewIntervalMs = previewIntervalMs;
    this.#now = now;
  }

  /** The update to send now, or null to send nothing. */
  admit(update: ProgressUpdate): ProgressUpdate | null {
    const within = update.stageProgress ? `${update.stageProgress.done}/${update.stageProgress.of}` : '';
    const key = `${update.step}/${update.of}/${update.stage ?? ''}/${within}`;
    const changed = key !== this.#lastKey;
    let preview = update.preview;
    if (preview !== null) {
      const now = this.#now();
      if (now - this.#lastPreviewAt >= this.#previewIntervalMs) this.#lastPreviewAt = now;
      else preview = null;
    }
    if (!changed && preview === null) return null;
    this.#lastKey = key;
    return preview === update.preview ? update : { ...update, preview };
  }
}
