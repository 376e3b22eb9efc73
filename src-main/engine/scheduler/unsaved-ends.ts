/**
 * Job ends (failed, cancelled, released) that the database refused to record — its disk was full.
 * Each is kept and written again before anything new starts, so the queue never says a job runs
 * that has ended, and no job starts on a disk that cannot record it. A job whose end is still
 * unsaved when the runner stops is recovered at the next start like any interrupted job.
 */
import { StudioError, diskError } from '../errors.ts';

export class UnsavedEnds {
  readonly #writes = new Map<string, () => unknown>();
  readonly #tell: (message: string) => void;

  /** tell: says why an end waits (for the log and a notice). */
  constructor(tell: (message: string) => void) {
    this.#tell = tell;
  }

  get size(): number {
    return this.#writes.size;
  }

  /** Writes a job's end; true when written, false when it was kept for flush(). */
  save(jobId: string, write: () => unknown): boolean {
    try {
      write();
      this.#writes.delete(jobId);
      return true;
    } catch (e) {
      if (isAlreadyEnded(e)) {
        this.#writes.delete(jobId);
        return true;
      }
      this.#writes.set(jobId, write);
      const disk = diskError(e, {
        what: `job ${jobId} has ended, but the studio database could not record it`,
        next: 'its end is saved by itself (no new job starts until then)',
      });
      this.#tell(disk?.message ?? `job ${jobId} has ended, but that could not be saved yet (${(e as Error).message}); it is tried again shortly.`);
      return false;
    }
  }

  /** Writes the kept ends, oldest first; true when none is left. */
  flush(): boolean {
    for (const [jobId, write] of [...this.#writes]) {
      try {
        write();
      } catch (e) {
        if (!isAlreadyEnded(e)) return false;
      }
      this.#writes.delete(jobId);
    }
    return true;
  }
}

/** The job's end was recorded already (or by someone else): nothing left to save. */
function isAlreadyEnded(e: unknown): boolean {
  return e instanceof StudioError && e.code === 'job_not_running';
}

/** Runs a write whose failure loses only a note (progress, provider, peak VRAM); undefined when it failed. */
export function bestEffort<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
