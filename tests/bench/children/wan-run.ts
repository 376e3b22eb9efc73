/**
 * Runs the WAN pipeline twice in this process (cold, then warm with the model resident) on a
 * fixture folder and prints the warm run's timings and this process's peak RSS as JSON.
 *   node wan-run.ts MODEL_DIR TYPE WIDTH HEIGHT FRAMES STEPS
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPipeline } from '../../../src-main/engine/pipelines/wan/index.ts';
import { resolveRequest } from '../../../src-preload/contract/catalog.ts';
import type { JobType } from '../../../src-preload/contract/catalog.ts';

const [modelPath, type, width, height, frames, steps] = process.argv.slice(2);
const pipeline = createPipeline();
const runs: Record<string, number>[] = [];
for (const seed of [1, 2]) {
  const staging = mkdtempSync(join(tmpdir(), 'bench-wan-'));
  const { params } = resolveRequest(
    { type: type as JobType, prompt: 'waves breaking on black sand at dusk, slow dolly shot', seed, width: Number(width), height: Number(height), frames: Number(frames), steps: Number(steps) },
    () => seed,
  );
  const r = await pipeline.run(
    { jobId: `bench-${seed}`, jobType: type as JobType, params, model: { id: 'fixture', family: 'wan', path: modelPath! }, enhancer: null, stagingDir: staging, maxBatch: 1, providers: ['cpu'] },
    { signal: new AbortController().signal, progress: () => undefined, log: () => undefined },
  );
  runs.push(r.timings);
  rmSync(staging, { recursive: true, force: true });
}
await pipeline.unload();
process.stdout.write(`${JSON.stringify({ cold: runs[0], warm: runs[1], maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
