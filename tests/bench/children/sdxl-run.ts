/**
 * Runs the SDXL pipeline twice in this process (cold: loads the model; warm: the model resident, as
 * between jobs of the same type) on a fixture folder and prints the warm run's timings and this
 * process's peak RSS as JSON — the same work an inference worker does for one job.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SdxlPipeline } from '../../../src-main/engine/pipelines/sdxl/index.ts';
import { resolveRequest } from '../../../src-preload/contract/catalog.ts';

const [modelPath, size, steps, count] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const pipeline = new SdxlPipeline();
const results: Record<string, number>[] = [];
for (const seed of [1, 2]) {
  const staging = mkdtempSync(join(tmpdir(), 'bench-sdxl-'));
  const { type, params } = resolveRequest({ type: 'sdxl_image_fast', prompt: 'a lighthouse on a cliff at dusk, volumetric light', seed, steps, width: size, height: size, count }, () => seed);
  const r = await pipeline.run(
    { jobId: `bench-${seed}`, jobType: type, params, model: { id: 'fixture', family: 'sdxl', path: modelPath }, enhancer: null, stagingDir: staging, maxBatch: count, providers: ['cpu'] },
    { signal: new AbortController().signal, progress: () => undefined, log: () => undefined },
  );
  results.push(r.timings);
  rmSync(staging, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify({ cold: results[0], warm: results[1], maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
