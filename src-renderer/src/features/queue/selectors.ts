/**
 * Derived lists for the Queue view. Each returns an array of ids, so components read them through
 * useShallow and re-render only when the membership or order changes.
 */
import type { JobView } from '../../contract.ts';
import type { StudioState } from '../../store-types.ts';

export const FINISHED_SHOWN = 50;

function jobsIn(s: StudioState, state: JobView['status']['state']): JobView[] {
  const out: JobView[] = [];
  for (const id of s.jobOrder) {
    const job = s.jobs[id];
    if (job && job.status.state === state) out.push(job);
  }
  return out;
}

export function selectRunningIds(s: StudioState): string[] {
  return jobsIn(s, 'running')
    .sort((a, b) => (a.startedAt ?? a.status.at) - (b.startedAt ?? b.status.at))
    .map((j) => j.id);
}

/** Queued jobs in the order they will run (the engine's position; unknown positions last). */
export function selectQueuedIds(s: StudioState): string[] {
  return jobsIn(s, 'queued')
    .sort((a, b) => (a.position ?? Infinity) - (b.position ?? Infinity) || a.createdAt - b.createdAt)
    .map((j) => j.id);
}

export function isFinished(job: JobView): boolean {
  return job.status.state === 'done' || job.status.state === 'failed' || job.status.state === 'cancelled';
}

/** Done, failed and cancelled jobs not cleared from the list, most recently finished first. */
export function selectFinishedIds(s: StudioState): string[] {
  const finished: JobView[] = [];
  for (const id of s.jobOrder) {
    const job = s.jobs[id];
    if (job && isFinished(job) && !s.clearedJobs[id]) {
      finished.push(job);
    }
  }
  return finished
    .sort((a, b) => (b.finishedAt ?? b.status.at) - (a.finishedAt ?? a.status.at))
    .slice(0, FINISHED_SHOWN)
    .map((j) => j.id);
}

/** How many finished jobs the list holds beyond the ones shown. */
export function selectFinishedCount(s: StudioState): number {
  let n = 0;
  for (const id of s.jobOrder) {
    const job = s.jobs[id];
    if (job && isFinished(job) && !s.clearedJobs[id]) n += 1;
  }
  return n;
}

/** Jobs waiting or running, for the navigation badge. */
export function selectActiveCount(s: StudioState): number {
  let n = 0;
  for (const id of s.jobOrder) {
    const state = s.jobs[id]?.status.state;
    if (state === 'queued' || state === 'running') n += 1;
  }
  return n;
}
