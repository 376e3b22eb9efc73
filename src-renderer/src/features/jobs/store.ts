import type { JobView, ProgressEvent } from '../../contract.ts';
import type { SliceCreator } from '../../store-types.ts';

/** Workspace cards kept: enough for a few X/Y grids (up to 64 jobs each) and their neighbours. */
export const SUBMITTED_KEPT = 200;

export interface JobProgress {
  readonly preview: string | null;
  readonly etaMs: number | null;
  /** Progress within the current stage, when the engine counts it (a clip's decode, frame by frame). */
  readonly stageProgress?: { readonly done: number; readonly of: number } | null;
}

export interface JobsSlice {
  /** Every job this window knows, by id. */
  readonly jobs: Readonly<Record<string, JobView>>;
  /** Ids, newest first (by creation time). */
  readonly jobOrder: readonly string[];
  /** Live extras of running jobs that the JobView does not carry. */
  readonly progress: Readonly<Record<string, JobProgress>>;
  /** Jobs enqueued from this window's Workspace, newest first (the last SUBMITTED_KEPT; a grid is many). */
  readonly submitted: readonly string[];
  upsertJobs(jobs: readonly JobView[]): void;
  applyProgress(event: ProgressEvent): void;
  markSubmitted(id: string): void;
}

/**
 * Whether `incoming` may replace `current`. Events and list answers can cross on the wire, so an
 * answer fetched before a job started must not put it back to queued.
 */
export function isFresher(incoming: JobView, current: JobView): boolean {
  const a = incoming.status;
  const b = current.status;
  if (a.at !== b.at) return a.at > b.at;
  if (a.state === 'running' && b.state === 'running') return a.step >= b.step;
  return true;
}

function byNewest(jobs: Readonly<Record<string, JobView>>) {
  return (x: string, y: string) => {
    const a = jobs[x]!;
    const b = jobs[y]!;
    return b.createdAt - a.createdAt || (x < y ? 1 : x > y ? -1 : 0);
  };
}

export const createJobsSlice: SliceCreator<JobsSlice> = (set) => ({
  jobs: {},
  jobOrder: [],
  progress: {},
  submitted: [],

  upsertJobs(incoming) {
    set((s) => {
      let jobs: Record<string, JobView> | null = null;
      let progress: Record<string, JobProgress> | null = null;
      let added = false;
      for (const job of incoming) {
        const current = (jobs ?? s.jobs)[job.id];
        if (current && !isFresher(job, current)) continue;
        jobs ??= { ...s.jobs };
        // Change events leave the place in line out (null: "not computed"); keep the last one read
        // until the next list answer says otherwise.
        const keepPosition = job.position === null && job.status.state === 'queued' && current?.status.state === 'queued';
        jobs[job.id] = keepPosition ? { ...job, position: current.position } : job;
        if (!current) added = true;
        if (job.status.state !== 'running' && s.progress[job.id]) {
          progress ??= { ...s.progress };
          delete progress[job.id];
        }
      }
      if (!jobs) return {};
      const jobOrder = added ? Object.keys(jobs).sort(byNewest(jobs)) : s.jobOrder;
      return { jobs, jobOrder, ...(progress ? { progress } : {}) };
    });
  },

  applyProgress(event) {
    set((s) => {
      const job = s.jobs[event.jobId];
      const extras = { preview: event.preview ?? s.progress[event.jobId]?.preview ?? null, etaMs: event.etaMs, stageProgress: event.stageProgress ?? null };
      // Progress for a job we have not seen running yet (its jobs.changed is still on the way),
      // or one already finished, only keeps the extras; the status comes from jobs.changed.
      if (!job || job.status.state !== 'running') {
        return job && job.status.state !== 'queued' ? {} : { progress: { ...s.progress, [event.jobId]: extras } };
      }
      if (event.step < job.status.step) return {};
      const status = { ...job.status, step: event.step, of: event.of, stage: event.stage };
      return {
        jobs: { ...s.jobs, [job.id]: { ...job, status } },
        progress: { ...s.progress, [event.jobId]: extras },
      };
    });
  },

  markSubmitted(id) {
    set((s) => ({ submitted: [id, ...s.submitted.filter((x) => x !== id)].slice(0, SUBMITTED_KEPT) }));
  },
});
