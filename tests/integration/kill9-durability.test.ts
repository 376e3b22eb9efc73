/**
 * Kill -9 durability: a real engine process is killed mid-job and started again. The job is put
 * back in the queue (or failed) exactly once, never runs twice at once, and the database passes
 * PRAGMA integrity_check.
 */
import { describe, expect, it, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Database } from '../../src-main/engine/db/database.ts';
import { JobQueue } from '../../src-main/engine/jobs/queue.ts';
import { resolveRequest } from '../../src-preload/contract/catalog.ts';

const HOST = new URL('../fixtures/engine-host.ts', import.meta.url).pathname;
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function startHost(data: string, maxAttempts = 3): Promise<ChildProcess> {
  const child = spawn(process.execPath, [HOST, '--data', data, '--max-attempts', String(maxAttempts)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => {
      const msg = JSON.parse(line) as { ready: boolean; role: string };
      if (msg.ready && msg.role === 'runner') resolve(child);
      else reject(new Error(`host did not become the runner: ${line}`));
    });
    child.once('exit', (code) => reject(new Error(`host exited early with ${code}`)));
  });
}

async function until<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The test's own connection, enqueuing as a CLI client would; attempts are fixed per job at enqueue. */
function client(data: string, maxAttempts = 3): { db: Database; queue: JobQueue } {
  const db = new Database(join(data, 'studio.db'));
  return { db, queue: new JobQueue(db, { instanceId: 'test-client', maxAttempts }) };
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('kill -9 of the engine mid-job', () => {
  it('requeues the interrupted job exactly once and then finishes it, with an intact database', async () => {
    const data = mkdtempSync(join(tmpdir(), 'kill9-'));
    dirs.push(data);
    const first = await startHost(data);
    const { db, queue } = client(data);
    const { type, params } = resolveRequest({ type: 'sdxl_image_fast', prompt: 'slow job', steps: 40, count: 2 }, () => 42);
    const job = queue.enqueue(type, params);

    await until('the job to be mid-run', () => {
      const s = queue.get(job.id)?.status;
      return s?.state === 'running' && s.step >= 2;
    });
    await killHard(first);
    expect(queue.get(job.id)?.status.state).toBe('running'); // the dead process could not say otherwise

    await startHost(data);
    const done = await until('the job to finish after restart', () => {
      const j = queue.get(job.id);
      return j?.status.state === 'done' ? j : null;
    }, 60_000);

    expect(done.attempts).toBe(2);
    const events = db
      .all<{ from_status: string | null; to_status: string; detail: string | null }>(
        'SELECT from_status, to_status, detail FROM job_events WHERE job_id = ? ORDER BY id',
        job.id,
      )
      .map((e) => `${e.from_status}->${e.to_status}`);
    expect(events).toEqual(['null->queued', 'queued->running', 'running->queued', 'queued->running', 'running->done']);
    const assets = db.all<{ file_path: string }>('SELECT file_path FROM assets WHERE job_id = ?', job.id);
    expect(assets).toHaveLength(2);
    for (const a of assets) expect(existsSync(join(data, 'library', a.file_path))).toBe(true);
    expect(readdirSync(join(data, 'staging'))).toEqual([]);
    expect(db.integrityCheck()).toEqual(['ok']);
    db.close();
  });

  it('fails the interrupted job with the reason when it has no attempts left', async () => {
    const data = mkdtempSync(join(tmpdir(), 'kill9-'));
    dirs.push(data);
    const first = await startHost(data, 1);
    const { db, queue } = client(data, 1);
    const { type, params } = resolveRequest({ type: 'video_fast', prompt: 'slow video', steps: 40 }, () => 1);
    const job = queue.enqueue(type, params);
    await until('the job to be mid-run', () => {
      const s = queue.get(job.id)?.status;
      return s?.state === 'running' && s.step >= 1;
    });
    await killHard(first);
    await startHost(data, 1);
    const failed = await until('the job to be failed after restart', () => {
      const j = queue.get(job.id);
      return j?.status.state === 'failed' ? j : null;
    });
    expect(failed.status).toMatchObject({ code: 'interrupted' });
    expect((failed.status as { message: string }).message).toMatch(/stopped while this job ran/);
    const transitions = db.all<{ n: number }>(
      "SELECT count(*) AS n FROM job_events WHERE job_id = ? AND to_status = 'failed'",
      job.id,
    );
    expect(transitions[0]!.n).toBe(1);
    expect(db.integrityCheck()).toEqual(['ok']);
    db.close();
  });
});
