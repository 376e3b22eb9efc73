/**
 * A stand-in engine for CLI command tests: the contract's handlers over an in-memory queue, and a
 * scripted "runner" that steps a job through progress to done, failed, or cancelled at the next step.
 */
import { resolveRequest } from '../../../src-preload/contract/catalog.ts';
import type { EventName, Events, Handlers } from '../../../src-preload/contract/channels.ts';
import type { JobStatus, JobView, QueueState } from '../../../src-preload/contract/status.ts';
import { StudioError } from '../../../src-main/engine/errors.ts';
import type { CliEngine } from '../../../src-main/cli/io.ts';
import { jobView } from './job-view.ts';

export type Outcome = 'done' | 'failed' | 'hold';

export class FakeEngine implements CliEngine {
  readonly role: 'runner' | 'client';
  readonly dataDir = '/fake/data';
  readonly jobs = new Map<string, JobView>();
  readonly calls: string[] = [];
  closed = false;
  paused = false;
  /** Called at each step of a running job (tests use it to press Ctrl-C mid-run). */
  onStep: ((step: number) => void) | null = null;
  private readonly outcome: Outcome;
  private readonly steps: number;
  private readonly cancelRequested = new Set<string>();
  private readonly listeners = new Map<string, Set<(p: unknown) => void>>();
  private next = 1;

  constructor(options: { role?: 'runner' | 'client'; outcome?: Outcome; steps?: number } = {}) {
    this.role = options.role ?? 'runner';
    this.outcome = options.outcome ?? 'done';
    this.steps = options.steps ?? 4;
  }

  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    this.listeners.set(event, set);
    set.add(listener as (p: unknown) => void);
    return () => set.delete(listener as (p: unknown) => void);
  }

  private emit<E extends EventName>(event: E, payload: Events[E]): void {
    for (const l of this.listeners.get(event) ?? []) l(payload);
  }

  private set(id: string, status: JobStatus, extra: Partial<JobView> = {}): JobView {
    const job = { ...this.jobs.get(id)!, status, position: status.state === 'queued' ? 0 : null, ...extra };
    this.jobs.set(id, job);
    this.emit('jobs.changed', job);
    return job;
  }

  private get queue(): QueueState {
    const all = [...this.jobs.values()];
    return {
      paused: this.paused,
      queued: all.filter((j) => j.status.state === 'queued').length,
      running: all.filter((j) => j.status.state === 'running').length,
    };
  }

  // Partial: channels this fake has no use for (the library's) are left out, so the contract can grow.
  readonly handlers = {
    'app.info': async () => ({ version: '0.0.0', dataDir: this.dataDir, modelDirs: ['/fake/data/models'], providers: ['cpu'], frontDoor: 'cli' }),
    'catalog.list': async () => [],
    'jobs.enqueue': async ({ request }) => {
      this.calls.push('jobs.enqueue');
      const { type, params } = resolveRequest(request, () => 42);
      const id = `job-${this.next++}`;
      const job = jobView({ id, type, params, createdAt: Date.now() });
      this.jobs.set(id, job);
      if (this.role === 'runner') setTimeout(() => void this.run(id), 0);
      return job;
    },
    'jobs.list': async () => {
      this.calls.push('jobs.list');
      return [...this.jobs.values()];
    },
    'jobs.get': async ({ id }) => this.jobs.get(id) ?? null,
    'jobs.cancel': async ({ id }) => {
      this.calls.push(`jobs.cancel ${id}`);
      const job = this.jobs.get(id);
      if (!job) throw new StudioError('not_found', `no job with id ${id}`);
      if (job.status.state === 'queued') return this.set(id, { state: 'cancelled', at: Date.now() });
      if (job.status.state !== 'running') throw new StudioError('not_cancellable', `job ${id} is already ${job.status.state}`);
      this.cancelRequested.add(id);
      return job;
    },
    'jobs.retry': async () => {
      throw new StudioError('not_retryable', 'not in this fake');
    },
    'jobs.moveToFront': async () => {
      throw new StudioError('not_queued', 'not in this fake');
    },
    'jobs.reorder': async () => {
      throw new StudioError('not_queued', 'not in this fake');
    },
    'jobs.clearFinished': async () => ({ ids: [] }),
    'queue.state': async () => this.queue,
    'queue.pause': async () => {
      this.paused = true;
      return this.queue;
    },
    'queue.resume': async () => {
      this.paused = false;
      return this.queue;
    },
    'models.list': async () => [],
    'gpu.status': async () => ({
      source: 'configured',
      name: null,
      memoryUsedMb: null,
      memoryTotalMb: 8192,
      utilizationPct: null,
      budgetMb: 8192,
      loadedModels: [],
      workers: [],
      note: 'nvidia-smi not found',
    }),
  } as Partial<Handlers> as Handlers;

  /** The scripted runner: one step per macrotask, stopping at a step boundary when cancelled. */
  private async run(id: string): Promise<void> {
    this.set(id, { state: 'running', at: Date.now(), step: 0, of: this.steps, stage: 'denoise' }, { startedAt: Date.now() });
    for (let step = 1; step <= this.steps; step++) {
      await new Promise((r) => setTimeout(r, 0));
      if (this.cancelRequested.has(id)) {
        this.set(id, { state: 'cancelled', at: Date.now() }, { finishedAt: Date.now() });
        return;
      }
      this.emit('jobs.progress', { jobId: id, step, of: this.steps, stage: 'denoise', preview: null, etaMs: null });
      this.onStep?.(step);
      if (this.outcome === 'hold' && step === this.steps) step = this.steps - 1; // keep running until cancelled
    }
    if (this.outcome === 'failed') {
      this.set(id, { state: 'failed', at: Date.now(), code: 'oom', message: 'out of GPU memory at 1024×1024: lower the size or the count' }, { finishedAt: Date.now() });
    } else {
      this.set(id, { state: 'done', at: Date.now(), assets: ['asset-a', 'asset-b'] }, { finishedAt: Date.now() });
    }
  }

  waitFor(id: string): Promise<JobView> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const j = this.jobs.get(id)!;
        const final = j.status.state === 'done' || j.status.state === 'failed' || j.status.state === 'cancelled';
        if (final) resolve(j);
        return final;
      };
      if (check()) return;
      const off = this.on('jobs.changed', (j) => {
        if (j.id === id && check()) off();
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
