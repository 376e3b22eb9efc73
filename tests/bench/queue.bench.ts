/**
 * Queue figures: enqueue throughput, claim/complete cost in the store, and restart recovery with
 * 10,000 jobs in the table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Database } from '../../src-main/engine/db/database.ts';
import { JobQueue } from '../../src-main/engine/jobs/queue.ts';
import { resolveRequest } from '../../src-preload/contract/catalog.ts';
import type { JobType } from '../../src-preload/contract/catalog.ts';
import type { Bench, Figure } from './harness.ts';
import { median } from './harness.ts';

const TYPES: JobType[] = ['sdxl_image_fast', 'sdxl_image_high', 'video_fast', 'image_high'];

function fresh(): { dir: string; db: Database; queue: JobQueue } {
  const dir = mkdtempSync(join(tmpdir(), 'bench-queue-'));
  const db = new Database(join(dir, 'studio.db'));
  return { dir, db, queue: new JobQueue(db, { instanceId: 'bench' }) };
}

export const queueBench: Bench = {
  name: 'queue',
  async run(): Promise<Figure[]> {
    const figures: Figure[] = [];
    {
      const { dir, db, queue } = fresh();
      const requests = Array.from({ length: 10_000 }, (_, i) => resolveRequest({ type: TYPES[i % 4]!, prompt: `prompt ${i}` }, () => i));
      const t0 = performance.now();
      for (const r of requests) queue.enqueue(r.type, r.params);
      const secs = (performance.now() - t0) / 1000;
      figures.push({ name: 'enqueue throughput (10,000 jobs, one transaction each)', value: Math.round(10_000 / secs), unit: 'jobs/s', target: { op: '>', value: 5000 } });

      const claims: number[] = [];
      const completes: number[] = [];
      for (let i = 0; i < 2000; i++) {
        const a = performance.now();
        const next = queue.runnable(1)[0]!;
        queue.claim(next.id);
        const b = performance.now();
        queue.complete(next.id, []);
        const c = performance.now();
        claims.push(b - a);
        completes.push(c - b);
      }
      figures.push({ name: 'store: pick + claim the next job (median)', value: median(claims), unit: 'ms' });
      figures.push({ name: 'store: complete a job (median)', value: median(completes), unit: 'ms' });
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
    {
      // 10,000 jobs in the table, 200 of them interrupted mid-run, then a cold open + recovery.
      const { dir, db, queue } = fresh();
      db.transaction(() => {
        for (let i = 0; i < 10_000; i++) {
          const r = resolveRequest({ type: TYPES[i % 4]!, prompt: `prompt ${i}` }, () => i);
          queue.enqueue(r.type, r.params);
        }
      });
      for (const row of queue.runnable(200)) queue.claim(row.id);
      db.close();
      const t0 = performance.now();
      const reopened = new Database(join(dir, 'studio.db'));
      const q2 = new JobQueue(reopened, { instanceId: 'after' });
      const out = q2.recoverInterrupted();
      q2.runnable(1);
      const ms = performance.now() - t0;
      if (out.requeued.length !== 200) throw new Error(`recovery requeued ${out.requeued.length}, expected 200`);
      figures.push({ name: 'restart recovery, 10,000 jobs in the table (open + recover 200 interrupted)', value: ms, unit: 'ms', target: { op: '<', value: 1000 } });
      reopened.close();
      rmSync(dir, { recursive: true, force: true });
    }
    return figures;
  },
};
