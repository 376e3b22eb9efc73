import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../../../src-main/engine/db/database.ts';
import { JobQueue, backoffDelay } from '../../../src-main/engine/jobs/queue.ts';
import { resolveRequest } from '../../../src-preload/contract/catalog.ts';
import type { GenerateRequest, JobType } from '../../../src-preload/contract/catalog.ts';
import type { JobView } from '../../../src-preload/contract/status.ts';

let dir: string;
let db: Database;
let now: number;
let queue: JobQueue;

function enqueue(type: JobType, prompt = 'a cat', extra: Partial<GenerateRequest> = {}, key?: string): JobView {
  const { params } = resolveRequest({ type, prompt, ...extra }, () => 7);
  return queue.enqueue(type, params, { idempotencyKey: key });
}

function nextRunnable(): string | undefined {
  return queue.runnable(1)[0]?.id;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'queue-'));
  db = new Database(join(dir, 'studio.db'));
  now = 1_000_000;
  queue = new JobQueue(db, { instanceId: 'test', maxAttempts: 3, backoff: { baseMs: 1000, capMs: 5000 }, now: () => now });
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ordering', () => {
  it('runs fast job types before high ones, FIFO within a priority', () => {
    const high1 = enqueue('sdxl_image_high', 'h1');
    const fast1 = enqueue('video_fast', 'f1');
    const high2 = enqueue('image_high', 'h2');
    const fast2 = enqueue('sdxl_image_fast', 'f2');
    expect(queue.runnable(10).map((r) => r.id)).toEqual([fast1.id, fast2.id, high1.id, high2.id]);
    expect(queue.get(high2.id)?.position).toBe(3);
  });

  it('moves any queued job to the front, ahead of fast jobs', () => {
    const fast = enqueue('sdxl_image_fast');
    const high = enqueue('video_high');
    queue.moveToFront(high.id);
    expect(nextRunnable()).toBe(high.id);
    queue.moveToFront(fast.id);
    expect(nextRunnable()).toBe(fast.id);
    expect(queue.list({ states: ['queued'] }).map((j) => [j.id, j.position])).toEqual([
      [fast.id, 0],
      [high.id, 1],
    ]);
  });

  it('refuses to move a job that is not queued', () => {
    const job = enqueue('sdxl_image_fast');
    queue.claim(job.id);
    expect(() => queue.moveToFront(job.id)).toThrow(/running; only queued jobs/);
  });
});

describe('reorder (drag, Move up / Move down)', () => {
  const order = () => queue.runnable(50).map((r) => (JSON.parse(r.params) as { prompt: string }).prompt);
  const positions = () => queue.list({ states: ['queued'] }).map((j) => [j.params.prompt, j.position]);

  it('puts a job just ahead of another, up or down the line, and the order is what runs', () => {
    const a = enqueue('sdxl_image_fast', 'a');
    const b = enqueue('sdxl_image_fast', 'b');
    const c = enqueue('sdxl_image_fast', 'c');
    const d = enqueue('sdxl_image_fast', 'd');
    queue.reorder(d.id, b.id);
    expect(order()).toEqual(['a', 'd', 'b', 'c']);
    queue.reorder(a.id, c.id);
    expect(order()).toEqual(['d', 'b', 'a', 'c']);
    queue.reorder(d.id, null);
    expect(order()).toEqual(['b', 'a', 'c', 'd']);
    expect(positions()).toEqual([['b', 0], ['a', 1], ['c', 2], ['d', 3]]);
    expect(queue.get(c.id)?.position).toBe(2);
    // Every queued key distinct, so the order never depends on a tie.
    const keys = db.all<{ sort_key: number }>("SELECT sort_key FROM jobs WHERE status = 'queued'").map((r) => r.sort_key);
    expect(new Set(keys).size).toBe(4);
  });

  it('keeps a hand-placed job in its place when later jobs arrive, and new jobs keep fast before high', () => {
    const fast1 = enqueue('sdxl_image_fast', 'fast1');
    const high1 = enqueue('sdxl_image_high', 'high1');
    queue.reorder(high1.id, fast1.id);
    expect(order()).toEqual(['high1', 'fast1']);
    enqueue('sdxl_image_fast', 'fast2');
    enqueue('sdxl_image_high', 'high2');
    expect(order()).toEqual(['high1', 'fast1', 'fast2', 'high2']);
    // Put at the back, then a new fast job still goes ahead of the high ones, behind the fast ones.
    queue.reorder(fast1.id, null);
    enqueue('video_fast', 'fast3');
    expect(order()).toEqual(['high1', 'fast2', 'fast3', 'high2', 'fast1']);
    enqueue('image_high', 'high3');
    expect(order()).toEqual(['high1', 'fast2', 'fast3', 'high2', 'fast1', 'high3']);
  });

  it('gives retried jobs distinct places at the back of their band', () => {
    const a = enqueue('sdxl_image_fast', 'a');
    const b = enqueue('sdxl_image_fast', 'b');
    enqueue('sdxl_image_fast', 'c');
    for (const j of [a, b]) {
      queue.claim(j.id);
      queue.fail(j.id, 'x', 'boom', { transient: false });
    }
    queue.retry(b.id);
    queue.retry(a.id);
    expect(order()).toEqual(['c', 'b', 'a']);
  });

  it('survives reopening the database (the order is in SQLite)', () => {
    const a = enqueue('sdxl_image_fast', 'a');
    const b = enqueue('sdxl_image_fast', 'b');
    queue.reorder(b.id, a.id);
    db.close();
    db = new Database(join(dir, 'studio.db'));
    queue = new JobQueue(db, { instanceId: 'again', now: () => now });
    expect(order()).toEqual(['b', 'a']);
  });

  it('refuses what has no place in line, with the reason', () => {
    const a = enqueue('sdxl_image_fast', 'a');
    const b = enqueue('sdxl_image_fast', 'b');
    queue.claim(a.id);
    expect(() => queue.reorder(a.id, null)).toThrow(/running; only queued jobs can be reordered/);
    expect(() => queue.reorder(b.id, a.id)).toThrow(/is running, so a job cannot be put ahead of it/);
    expect(() => queue.reorder(b.id, 'nope')).toThrow(/no job with id nope/);
    expect(queue.reorder(b.id, b.id).position).toBe(0);
  });

  it('tells subscribers of the job and of the queue', () => {
    const a = enqueue('sdxl_image_fast', 'a');
    const b = enqueue('sdxl_image_fast', 'b');
    const jobs: string[] = [];
    let queueChanges = 0;
    queue.onChange((j) => jobs.push(j.id));
    queue.onQueueChange(() => (queueChanges += 1));
    expect(queue.reorder(b.id, a.id).position).toBe(0);
    expect(jobs).toEqual([b.id]);
    expect(queueChanges).toBe(1);
  });
});

describe('clearing finished jobs from the list', () => {
  it('hides done, failed and cancelled jobs from the list, keeps them readable, and a retry brings one back', () => {
    const done = enqueue('sdxl_image_fast', 'done');
    const failed = enqueue('sdxl_image_fast', 'failed');
    const cancelled = enqueue('sdxl_image_fast', 'cancelled');
    const waiting = enqueue('sdxl_image_fast', 'waiting');
    queue.claim(done.id);
    queue.complete(done.id, []);
    queue.claim(failed.id);
    queue.fail(failed.id, 'x', 'boom', { transient: false });
    queue.cancel(cancelled.id);

    expect(queue.clearFinished([done.id]).sort()).toEqual([done.id]);
    expect(queue.list().map((j) => j.id)).not.toContain(done.id);
    expect(queue.clearFinished().sort()).toEqual([failed.id, cancelled.id].sort());
    expect(queue.clearFinished()).toEqual([]);
    expect(queue.list().map((j) => j.id)).toEqual([waiting.id]);
    expect(queue.list({ includeCleared: true })).toHaveLength(4);
    expect(queue.get(done.id)?.status.state).toBe('done');

    queue.retry(failed.id);
    expect(queue.list().map((j) => j.id).sort()).toEqual([waiting.id, failed.id].sort());
    // Queued and running jobs are never cleared.
    expect(queue.clearFinished([waiting.id])).toEqual([]);
  });
});

describe('enqueue', () => {
  it('returns the existing job for a repeated idempotency key and queues nothing new', () => {
    const a = enqueue('sdxl_image_fast', 'one', {}, 'key-1');
    const b = enqueue('sdxl_image_fast', 'two', {}, 'key-1');
    expect(b.id).toBe(a.id);
    expect(b.params.prompt).toBe('one');
    expect(queue.state().queued).toBe(1);
  });

  it('stores the preset-filled parameters and tells subscribers', () => {
    const seen: string[] = [];
    queue.onChange((j) => seen.push(`${j.id}:${j.status.state}`));
    const job = enqueue('video_fast', 'waves');
    expect(job.params).toMatchObject({ steps: 4, frames: 17, width: 480, height: 832, count: 1, scheduler: 'unipc', seed: 7 });
    expect(job.status).toMatchObject({ state: 'queued', at: now });
    expect(seen).toEqual([`${job.id}:queued`]);
  });
});

describe('parameter validation', () => {
  const bad = (req: object) => () => resolveRequest(req, () => 1);
  it('names the field and the allowed range', () => {
    expect(bad({ type: 'sdxl_image_fast', prompt: 'x', steps: 500 })).toThrow(/steps must be from 1 to 150 \(got 500\)/);
    expect(bad({ type: 'sdxl_image_fast', prompt: 'x', guidance: -1 })).toThrow(/guidance must be from 0 to 30/);
    expect(bad({ type: 'sdxl_image_fast', prompt: '  ' })).toThrow(/prompt must not be empty/);
    expect(bad({ type: 'nope', prompt: 'x' })).toThrow(/type must be one of: sdxl_image_fast/);
    expect(bad({ type: 'video_fast', prompt: 'x', frames: 16 })).toThrow(/frames must be 4k\+1/);
    expect(bad({ type: 'image_fast', prompt: 'x', width: 488 })).toThrow(/width must be a multiple of 16/);
    expect(bad({ type: 'image_fast', prompt: 'x', count: 2 })).toThrow(/count must be from 1 to 1 for image_fast/);
    expect(bad({ type: 'sdxl_image_fast', prompt: 'x', scheduler: 'unipc' })).toThrow(/scheduler must be one of euler/);
    expect(bad({ type: 'sdxl_image_fast', prompt: 'x', bogus: 1 })).toThrow(/bogus/);
  });

  it('carries the field name for the UI', () => {
    try {
      resolveRequest({ type: 'sdxl_image_fast', prompt: 'x', seed: -4 }, () => 1);
      expect.unreachable();
    } catch (e) {
      expect((e as { field: string }).field).toBe('seed');
    }
  });
});

describe('lifecycle', () => {
  it('claims, reports steps and completes, stamping each status with its time', () => {
    const job = enqueue('sdxl_image_fast');
    now += 10;
    const running = queue.claim(job.id)!;
    expect(running.status).toEqual({ state: 'running', at: now, step: 0, of: 15, stage: 'starting' });
    expect(running.attempts).toBe(1);
    expect(queue.claim(job.id)).toBeNull(); // never twice
    queue.progress(job.id, 3, 15, 'denoise');
    expect(queue.get(job.id)?.status).toMatchObject({ state: 'running', step: 3, of: 15 });
    now += 10;
    const done = queue.complete(job.id, ['a1', 'a2']);
    expect(done.status).toEqual({ state: 'done', at: now, assets: ['a1', 'a2'] });
    const events = db.all<{ from_status: string | null; to_status: string }>(
      'SELECT from_status, to_status FROM job_events WHERE job_id = ? ORDER BY id',
      job.id,
    );
    expect(events.map((e) => `${e.from_status}->${e.to_status}`)).toEqual(['null->queued', 'queued->running', 'running->done']);
  });

  it('rolls back the completion when the work inside its transaction fails', () => {
    const job = enqueue('sdxl_image_fast');
    queue.claim(job.id);
    expect(() => queue.complete(job.id, ['x'], () => { throw new Error('disk gone'); })).toThrow('disk gone');
    expect(queue.get(job.id)?.status.state).toBe('running');
  });

  it('retries transient failures with capped exponential backoff, then dead-letters with the reason', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay({ baseMs: 1000, capMs: 5000 }, a))).toEqual([1000, 2000, 4000, 5000, 5000]);
    const job = enqueue('sdxl_image_fast');
    queue.claim(job.id);
    let v = queue.fail(job.id, 'worker_crashed', 'worker exited with signal SIGKILL', { transient: true });
    expect(v.status).toMatchObject({ state: 'queued', notBefore: now + 1000 });
    expect(nextRunnable()).toBeUndefined(); // waiting out the backoff
    expect(queue.nextWakeAt()).toBe(now + 1000);
    now += 1000;
    expect(nextRunnable()).toBe(job.id);
    queue.claim(job.id);
    v = queue.fail(job.id, 'worker_crashed', 'again', { transient: true });
    expect(v.status).toMatchObject({ state: 'queued', notBefore: now + 2000 });
    now += 2000;
    queue.claim(job.id);
    v = queue.fail(job.id, 'worker_crashed', 'third time', { transient: true });
    expect(v.status).toMatchObject({ state: 'failed', code: 'worker_crashed', message: 'gave up after 3 attempts: third time' });
    expect(v.attempts).toBe(3);
  });

  it('fails permanent errors at once', () => {
    const job = enqueue('sdxl_image_fast');
    queue.claim(job.id);
    const v = queue.fail(job.id, 'model_invalid', 'unet/model.onnx is truncated', { transient: false });
    expect(v.status).toMatchObject({ state: 'failed', code: 'model_invalid', message: 'unet/model.onnx is truncated' });
  });

  it('cancels queued jobs at once and flags running ones to stop at the next step', () => {
    const a = enqueue('sdxl_image_fast');
    const b = enqueue('sdxl_image_fast');
    expect(queue.cancel(a.id).status.state).toBe('cancelled');
    queue.claim(b.id);
    expect(queue.cancel(b.id).status.state).toBe('running');
    expect(queue.cancelRequested()).toEqual([b.id]);
    expect(queue.markCancelled(b.id)?.status.state).toBe('cancelled');
    expect(() => queue.cancel(b.id)).not.toThrow();
    const c = enqueue('sdxl_image_fast');
    queue.claim(c.id);
    queue.complete(c.id, []);
    expect(() => queue.cancel(c.id)).toThrow(/already done/);
  });

  it('retries a failed or cancelled job with fresh attempts at the back of its priority', () => {
    const a = enqueue('sdxl_image_fast');
    queue.claim(a.id);
    queue.fail(a.id, 'x', 'y', { transient: false });
    const b = enqueue('sdxl_image_fast');
    const r = queue.retry(a.id);
    expect(r.status.state).toBe('queued');
    expect(r.attempts).toBe(0);
    expect(queue.runnable(5).map((j) => j.id)).toEqual([b.id, a.id]);
    expect(() => queue.retry(b.id)).toThrow(/only failed or cancelled/);
  });

  it('keeps the pause across restarts', () => {
    queue.setPaused(true);
    const again = new JobQueue(db, { instanceId: 'other' });
    expect(again.isPaused()).toBe(true);
    expect(again.setPaused(false).paused).toBe(false);
  });
});

describe('recovery after a crash', () => {
  it('requeues an interrupted job with its attempt raised, or fails it when none are left', () => {
    const a = enqueue('sdxl_image_fast', 'a');
    const b = enqueue('sdxl_image_fast', 'b');
    queue.claim(a.id);
    queue.claim(b.id);
    db.run('UPDATE jobs SET attempts = max_attempts WHERE id = ?', b.id);
    const next = new JobQueue(db, { instanceId: 'after-crash', now: () => now });
    const out = next.recoverInterrupted();
    expect(out).toEqual({ requeued: [a.id], failed: [b.id] });
    expect(next.get(a.id)).toMatchObject({ attempts: 1, status: { state: 'queued' } });
    expect((next.get(a.id)!.status as { reason: string }).reason).toMatch(/interrupted/);
    expect(next.get(b.id)?.status).toMatchObject({ state: 'failed', code: 'interrupted' });
    expect(next.recoverInterrupted()).toEqual({ requeued: [], failed: [] });
  });
});

describe('release when this process stops', () => {
  it('puts a running job back without spending its attempt', () => {
    const job = enqueue('sdxl_image_fast');
    queue.claim(job.id);
    const back = queue.release(job.id, 'the app stopped while this job ran; it will run again from the start')!;
    expect(back.status).toMatchObject({ state: 'queued', reason: 'the app stopped while this job ran; it will run again from the start' });
    expect(back.attempts).toBe(0);
    expect(nextRunnable()).toBe(job.id);
    expect(queue.release(job.id, 'x')).toBeNull();
  });
});
