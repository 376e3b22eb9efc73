/**
 * The kill -9 soak, short: a real runner (the engine with the test pipeline in real workers) is
 * killed with SIGKILL mid-step, the instant an output lands in staging, the instant an output is
 * renamed into the library before its row is committed, the instant a thumbnail is being written,
 * and while it recovers, and started again each time. Every job must
 * end done exactly once with exactly its outputs, the library must hold no file without its row (the
 * killed attempt's files are removed, not left beside the re-run's; a half-written thumbnail goes
 * when the next runner starts), staging must be empty and the
 * database intact. kill9-durability.test.ts follows one kill step by step; `npm run bench -- hardening`
 * runs this soak with 60 kills.
 */
import { describe, expect, it } from 'vitest';
import { runKill9Soak } from '../helpers/soak/kill9.ts';

describe('kill -9 soak', () => {
  it('loses and duplicates nothing over seven kills at steps, staging writes, library commits, thumbnail writes and start-up', async () => {
    const moments = ['step', 'staging', 'library', 'thumbnail', 'library', 'startup', 'library'] as const;
    const report = await runKill9Soak({ seed: 1, kills: moments.length, jobs: 5, moments });
    expect(report.failures, report.failures.join('\n')).toEqual([]);
    // Each watched moment came (none fell back to the delay), and kills landed while jobs ran.
    expect(report.byMoment).toEqual({ step: 1, staging: 1, library: 3, thumbnail: 1, startup: 1 });
    expect(report.fallbacks).toBe(0);
    expect(report.interruptedRuns).toBeGreaterThan(0);
    // At least one kill landed between an output's move into the library and its commit (three
    // tries: each lands there about nine times in ten on two busy cores).
    expect(report.strandedKills).toBeGreaterThan(0);
    expect(report.jobs).toBeGreaterThanOrEqual(5);
    expect(report.outputs).toBeGreaterThanOrEqual(report.jobs);
  }, 240_000);
});
