/**
 * The kill -9 soak, short: a real runner (the engine with the test pipeline in real workers) is
 * killed with SIGKILL mid-step, the instant an output lands in staging, and the instant an output is
 * renamed into the library before its row is committed, and started again each time. Every job must
 * end done exactly once with exactly its outputs, the library must hold no file without its row (the
 * killed attempt's files are removed, not left beside the re-run's), staging must be empty and the
 * database intact. kill9-durability.test.ts follows one kill step by step; `npm run bench -- hardening`
 * runs this soak with 60 kills.
 */
import { describe, expect, it } from 'vitest';
import { runKill9Soak } from '../helpers/soak/kill9.ts';

describe('kill -9 soak', () => {
  it('loses and duplicates nothing over six kills at steps, staging writes and library commits', async () => {
    const report = await runKill9Soak({ seed: 1, kills: 6, jobs: 5 });
    expect(report.failures, report.failures.join('\n')).toEqual([]);
    // The seed puts kills at every watched moment, and they landed while jobs ran.
    expect(report.byMoment.step).toBeGreaterThan(0);
    expect(report.byMoment.staging).toBeGreaterThan(0);
    expect(report.byMoment.library).toBeGreaterThan(0);
    expect(report.fallbacks).toBe(0);
    expect(report.interruptedRuns).toBeGreaterThanOrEqual(report.kills - report.byMoment.startup);
    expect(report.jobs).toBeGreaterThanOrEqual(5);
    expect(report.outputs).toBeGreaterThanOrEqual(report.jobs);
  }, 240_000);
});
