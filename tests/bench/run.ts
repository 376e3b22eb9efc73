/**
 * `npm run bench [-- name…]`: runs the benchmarks, prints each figure with its target, and writes
 * them to bench-results.json. Figures live here, never in timed tests.
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { Bench, Figure } from './harness.ts';
import { meets } from './harness.ts';
import { queueBench } from './queue.bench.ts';
import { libraryBench } from './library.bench.ts';
import { libraryUiBench } from './library-ui.bench.ts';
import { engineBench } from './engine.bench.ts';
import { sdxlBench } from './sdxl.bench.ts';
import { videoBench } from './video.bench.ts';
import { enhancerBench } from './enhancer.bench.ts';
import { wanBench } from './wan.bench.ts';
import { checkpointBench } from './checkpoint.bench.ts';
import { hardeningBench } from './hardening.bench.ts';
import { syncBench } from './sync.bench.ts';
import { syncSoakBench } from './sync-soak.bench.ts';
import { syncFilesBench } from './sync-files.bench.ts';
import { wanFullBench } from './wan-full.bench.ts';
import { sheetBench } from './sheet.bench.ts';

const benches: Bench[] = [queueBench, libraryBench, libraryUiBench, engineBench, sdxlBench, wanBench, videoBench, enhancerBench, checkpointBench, hardeningBench, syncBench, syncSoakBench, syncFilesBench, wanFullBench, sheetBench];
const only = process.argv.slice(2);
const results: Record<string, Figure[]> = {};
let missed = 0;

console.log(`node ${process.version} · ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'} · ${Math.round(totalmem() / 2 ** 30)} GiB`);
for (const bench of benches) {
  if (only.length && !only.includes(bench.name)) continue;
  console.log(`\n## ${bench.name}`);
  const figures = await bench.run();
  results[bench.name] = figures;
  for (const f of figures) {
    const ok = meets(f);
    if (ok === false) missed++;
    const target = f.target ? ` (target ${f.target.op} ${f.target.value} ${f.unit}) ${ok ? 'ok' : 'MISSED'}` : '';
    const value = f.value >= 100 ? f.value.toFixed(0) : f.value.toPrecision(3);
    console.log(`- ${f.name}: ${value} ${f.unit}${target}${f.note ? ` — ${f.note}` : ''}`);
  }
}
writeFileSync('bench-results.json', JSON.stringify({ at: new Date().toISOString(), node: process.version, results }, null, 2));
if (missed) {
  console.log(`\n${missed} figure(s) missed their target`);
  process.exitCode = 1;
}
