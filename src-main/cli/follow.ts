/**
 * `generate --wait`: follows one job to its end with progress on stderr. Ctrl-C cancels the job
 * (it stops at its next step) and waits for the cancellation to land; a second Ctrl-C quits at once.
 */
import type { JobView } from '../../src-preload/contract/status.ts';
import { invoke } from './dispatch.ts';
import type { CliEngine, Io } from './io.ts';
import { ProgressReporter } from './progress.ts';
import type { ProgressSnapshot } from './progress.ts';

export interface FollowResult {
  readonly job: JobView;
  /** True when the user pressed Ctrl-C (the job was asked to cancel). */
  readonly interrupted: boolean;
}

export function snapshotOf(job: JobView): ProgressSnapshot {
  const s = job.status;
  return {
    state: s.state,
    step: s.state === 'running' ? s.step : 0,
    of: s.state === 'running' ? s.of : 0,
    stage: s.state === 'running' ? s.stage : null,
    position: job.position,
    etaMs: null,
  };
}

/** The command reports the outcome itself; the progress display covers the way there. */
function isFinal(job: JobView): boolean {
  return job.status.state === 'done' || job.status.state === 'failed' || job.status.state === 'cancelled';
}

export async function followJob(
  engine: CliEngine,
  first: JobView,
  io: Io,
  options: { quiet: boolean; forceExit: (code: number) => never },
): Promise<FollowResult> {
  const reporter = new ProgressReporter(io.stderr, io.now);
  const show = (s: ProgressSnapshot): void => {
    if (!options.quiet) reporter.update(s);
  };
  let interrupted = false;
  const offInterrupt = io.onInterrupt(() => {
    if (interrupted) {
      reporter.note('quitting without waiting for the job to stop');
      options.forceExit(130);
    }
    interrupted = true;
    reporter.note('cancelling: the job stops at its next step (Ctrl-C again to quit now)');
    invoke(engine.handlers, 'jobs.cancel', { id: first.id }).catch(() => {
      // Already finished: waitFor resolves with its final state.
    });
  });
  const offProgress = engine.on('jobs.progress', (p) => {
    if (p.jobId === first.id) show({ state: 'running', step: p.step, of: p.of, stage: p.stage, position: null, etaMs: p.etaMs });
  });
  const offChanged = engine.on('jobs.changed', (j) => {
    if (j.id === first.id && !isFinal(j)) show(snapshotOf(j));
  });
  // A client hears no events from the runner process: read the shared queue instead.
  let polling = false;
  const poll =
    engine.role === 'client'
      ? setInterval(() => {
          if (polling) return;
          polling = true;
          engine.handlers['jobs.get']({ id: first.id })
            .then((j) => {
              if (j && !isFinal(j)) show(snapshotOf(j));
            })
            .catch(() => undefined)
            .finally(() => {
              polling = false;
            });
        }, 300)
      : null;
  show(snapshotOf(first));
  try {
    const job = await engine.waitFor(first.id);
    return { job, interrupted };
  } finally {
    if (poll) clearInterval(poll);
    offProgress();
    offChanged();
    offInterrupt();
    reporter.finish();
  }
}
