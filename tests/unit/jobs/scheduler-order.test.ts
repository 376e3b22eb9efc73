/**
 * The scheduler starts jobs in the queue's order as it is when a job is claimed, not as it was when
 * a scheduling pass began. A pass can wait a long time before it claims (the worker confirming that
 * an idle model was released, ffmpeg being located): a job moved to the front, a reorder or a pause
 * made during that wait must win.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../../../src-main/engine/db/database.ts';
import { JobQueue } from '../../../src-main/engine/jobs/queue.ts';
import type { ModelRegistry } from '../../../src-main/engine/models/registry.ts';
import { Scheduler } from '../../../src-main/engine/scheduler/scheduler.ts';
import type { GpuPort, RunEnd, SupervisorPort } from '../../../src-main/engine/scheduler/scheduler.ts';
import type { RunRequest } from '../../../src-main/engine/pipelines/types.ts';
import { resolveRequest } from '../../../src-preload/contract/catalog.ts';
import type { GenerateRequest, JobType } from '../../../src-preload/contract/catalog.ts';

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A supervisor whose runs and unloads end when the test says so. */
class FakeSupervisor implements SupervisorPort {
  readonly started: { slot: string; prompt: string; end: Deferred<RunEnd> }[] = [];
  readonly unloads: { slot: string | undefined; done: Deferred<void> }[] = [];
  run(slot: string, request: RunRequest): Promise<RunEnd> {
    const end = deferred<RunEnd>();
    this.started.push({ slot, prompt: request.params.prompt, end });
    return end.promise;
  }
  cancel(): void {}
  unload(slot?: string): Promise<void> {
    const done = deferred<void>();
    this.unloads.push({ slot, done });
    return done.promise;
  }
  resetCrashes(): void {}
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

let dir: string;
let db: Database;
let queue: JobQueue;
let supervisor: FakeSupervisor;
let scheduler: Scheduler;

function enqueue(type: JobType, prompt: string, extra: Partial<GenerateRequest> = {}) {
  const { params } = resolveRequest({ type, prompt, ...extra }, () => 7);
  const job = queue.enqueue(type, params);
  scheduler.kick();
  return job;
}

const FAILED: RunEnd = { kind: 'failed', code: 'test', message: 'ended by the test', transient: false };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scheduler-order-'));
  db = new Database(join(dir, 'studio.db'));
  queue = new JobQueue(db, { instanceId: 'test', maxAttempts: 1 });
  supervisor = new FakeSupervisor();
  const gpu: GpuPort = { budgetMb: () => 1024, startJob: () => {}, endJob: () => null };
  const models = { list: () => [], find: () => ({ missing: 'none' }) } as unknown as ModelRegistry;
  scheduler = new Scheduler({
    db,
    queue,
    models,
    supervisor,
    gpu,
    libraryRoot: () => join(dir, 'library'),
    stagingRoot: join(dir, 'staging'),
    modelsHint: dir,
    providers: () => ['cpu'],
    modelOverrides: {
      sdxl: { id: 'test-sdxl', family: 'sdxl', path: dir },
      wan: { id: 'test-wan', family: 'wan', path: dir },
    },
    ffmpeg: async () => ({ ok: false, message: 'no ffmpeg in this test' }) as never,
    onProgress: () => {},
    onResidencyChange: () => {},
  });
});

afterEach(async () => {
  for (const s of supervisor.started) s.end.resolve(FAILED);
  for (const u of supervisor.unloads) u.done.resolve();
  await scheduler.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A WAN job has run, so its model stays loaded; an SDXL job too big to share the 1 GB budget with
 * it then has to wait for the WAN model's release before it can be claimed.
 */
async function startReleasingWan(): Promise<void> {
  enqueue('image_fast', 'wan first');
  await settle();
  expect(supervisor.started.map((s) => s.prompt)).toEqual(['wan first']);
  supervisor.started[0]!.end.resolve(FAILED);
  await settle();
}

describe('the scheduler claims in the order of the moment it claims', () => {
  it('starts a job moved to the front while the pass waited for a model release, not the one the pass began with', async () => {
    await startReleasingWan();
    const a = enqueue('sdxl_image_fast', 'A', { width: 1024, height: 1024, count: 1 });
    const b = enqueue('sdxl_image_fast', 'B', { width: 1024, height: 1024, count: 1 });
    await settle();
    // The pass is at A, waiting for the WAN worker to confirm the release.
    expect(supervisor.unloads.map((u) => u.slot)).toEqual(['wan']);
    expect(queue.get(a.id)!.status.state).toBe('queued');

    queue.setPaused(true);
    queue.moveToFront(b.id);
    queue.setPaused(false);
    scheduler.kick();
    for (const u of supervisor.unloads) u.done.resolve();
    await settle();

    expect(supervisor.started.slice(1).map((s) => s.prompt)).toEqual(['B']);
    expect(queue.get(b.id)!.status.state).toBe('running');
    expect(queue.get(a.id)!.status.state).toBe('queued');
  });

  it('claims nothing when the queue was paused while the pass waited', async () => {
    await startReleasingWan();
    const a = enqueue('sdxl_image_fast', 'A', { width: 1024, height: 1024, count: 1 });
    await settle();
    expect(supervisor.unloads).toHaveLength(1);

    queue.setPaused(true);
    for (const u of supervisor.unloads) u.done.resolve();
    await settle();

    expect(supervisor.started).toHaveLength(1);
    expect(queue.get(a.id)!.status.state).toBe('queued');

    queue.setPaused(false);
    scheduler.kick();
    await settle();
    expect(supervisor.started.slice(1).map((s) => s.prompt)).toEqual(['A']);
  });
});
