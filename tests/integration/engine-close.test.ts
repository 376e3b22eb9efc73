/**
 * Closing a runner (the app quitting, a `studio generate --wait` finishing) while other jobs run
 * puts them back in the queue with their attempt given back; nothing is cancelled or lost, and the
 * next runner finishes them.
 */
import { describe, expect, it, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src-main/engine/engine.ts';
import { testPipelineOverrides } from '../fixtures/pipelines/overrides.ts';
import type { EngineOptions } from '../../src-main/engine/engine.ts';
import { untilTrue } from '../helpers/cli.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});


function options(dataDir: string): EngineOptions {
  return {
    dataDir,
    frontDoor: 'cli',
    role: 'runner',
    pipelineOverrides: testPipelineOverrides(),
  };
}

describe('closing a runner with jobs in flight', () => {
  it('requeues running jobs without spending an attempt, and a new runner finishes them', async () => {
    const data = mkdtempSync(join(tmpdir(), 'close-'));
    dirs.push(data);
    const engine = await Engine.open(options(data));
    const a = await engine.handlers['jobs.enqueue']({ request: { type: 'sdxl_image_fast', prompt: 'a', steps: 150, width: 1024, height: 1024, count: 1 } });
    const b = await engine.handlers['jobs.enqueue']({ request: { type: 'video_fast', prompt: 'b', steps: 150 } });
    await untilTrue('both to run', () => engine.queue.state().running === 2);
    await engine.close();

    const next = await Engine.open({ ...options(data), role: 'client' });
    for (const id of [a.id, b.id]) {
      const job = next.queue.get(id)!;
      expect(job.status.state).toBe('queued');
      expect(job.attempts).toBe(0);
      expect((job.status as { reason: string }).reason).toMatch(/the app stopped while this job ran/);
    }
    await next.close();

    // The next runner's workers may be quick: the point here is that the jobs finish at all.
    process.env.OURVIDZ_TEST_STEP_MS = '1';
    const runner = await Engine.open(options(data));
    const [doneA, doneB] = await Promise.all([runner.waitFor(a.id), runner.waitFor(b.id)]);
    expect(doneA.status.state).toBe('done');
    expect(doneB.status.state).toBe('done');
    expect(doneA.attempts).toBe(1);
    await runner.close();
    delete process.env.OURVIDZ_TEST_STEP_MS;
  });
});
