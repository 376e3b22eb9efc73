/**
 * Hardening figures: the request fuzzer at 20,000 seeded requests against a real `studio serve`,
 * and the kill -9 soak with 60 SIGKILLs of a real runner (at steps, staging writes, library commits
 * and start-up). Failures must be 0; the counts, wall times and the server's peak memory go in
 * docs/benchmarks.md ("Hostile requests and kill -9"). The CI tests run the same code smaller
 * (tests/integration/serve-fuzz.test.ts, kill9-soak.test.ts).
 *
 *   npm run bench -- hardening          (HARDENING_REQUESTS / HARDENING_KILLS / FUZZ_SEED override)
 */
import { describeFailures, runServeFuzz } from '../helpers/serve-fuzz/run.ts';
import { runKill9Soak } from '../helpers/soak/kill9.ts';
import type { Bench, Figure } from './harness.ts';

const REQUESTS = Number(process.env.HARDENING_REQUESTS ?? 20_000);
const KILLS = Number(process.env.HARDENING_KILLS ?? 60);
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_207);

export const hardeningBench: Bench = {
  name: 'hardening',
  async run(): Promise<Figure[]> {
    const log = (line: string): void => console.log(`  ${line}`);
    const fuzz = await runServeFuzz({ seed: SEED, requests: REQUESTS, batch: 1000, log: (l) => (/\d+000\//.test(l) ? log(l) : undefined) });
    if (fuzz.failures.length) console.log(describeFailures(fuzz, 'npm run bench -- hardening'));
    const kinds = Object.entries(fuzz.byKind).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
    const statuses = Object.entries(fuzz.statuses).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}×${n}`).join(' ');
    const soak = await runKill9Soak({ seed: SEED, kills: KILLS, jobs: 24, log: (l) => (/^kill \d*0\//.test(l) ? log(l) : undefined) });
    if (soak.failures.length) console.log(soak.failures.slice(0, 25).join('\n'));
    const moments = Object.entries(soak.byMoment).map(([k, n]) => `${k} ${n}`).join(', ');
    return [
      { name: 'requests fuzzed', value: fuzz.sent, unit: 'requests', note: `seed ${SEED}; ${kinds}; answers ${statuses}` },
      { name: 'fuzz failures (a death, reset, silence, 5xx, leak or untrusted success)', value: fuzz.failures.length, unit: 'failures', target: { op: '<', value: 1 } },
      { name: 'fuzz wall time', value: fuzz.durationMs / 1000, unit: 's', note: `${fuzz.healthChecks} health checks between batches, ${fuzz.jobsAcknowledged} fuzzed jobs accepted and run` },
      { name: 'studio serve peak RSS under fuzzing', value: fuzz.peakRssMb, unit: 'MB' },
      { name: 'kill -9 injections survived', value: soak.failures.length === 0 ? soak.kills : 0, unit: 'kills', note: `${moments}; ${soak.interruptedRuns} landed mid-job, ${soak.strandedKills} left outputs in the library without rows (removed by the next runner), ${soak.progressed} came after letting a job finish, ${soak.fallbacks} by the fallback delay` },
      { name: 'kill -9 soak failures (a job lost, duplicated or not done once, an orphan file, staging left, a bad database)', value: soak.failures.length, unit: 'failures', target: { op: '<', value: 1 } },
      { name: 'kill -9 soak: jobs and outputs checked', value: soak.jobs, unit: 'jobs', note: `${soak.outputs} outputs, each in the library once with its hash` },
      { name: 'kill -9 soak wall time', value: soak.durationMs / 1000, unit: 's' },
    ];
  },
};
