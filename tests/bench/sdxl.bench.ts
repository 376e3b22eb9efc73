/**
 * SDXL pipeline figures on the CPU with the project's mid-size fixture (one UNet call ≥ 50 ms at
 * 1024², so model compute dominates as it does with real weights): pipeline overhead = wall time
 * minus time inside session.run, as a share of the job; per-stage times; peak RSS of the process
 * doing the work (what a worker holds).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSdxlFixture } from '../fixtures/sdxl/build-sdxl.ts';
import type { Bench, Figure } from './harness.ts';

const CACHE = fileURLToPath(new URL('../../.fixtures/', import.meta.url));

export const sdxlBench: Bench = {
  name: 'sdxl',
  async run(): Promise<Figure[]> {
    const model = join(CACHE, 'sdxl-mid');
    if (!existsSync(join(model, 'model_index.json'))) await buildSdxlFixture(model, { size: 'mid' });
    const child = fileURLToPath(new URL('./children/sdxl-run.ts', import.meta.url));
    const figures: Figure[] = [];
    for (const [size, steps, count] of [[1024, 15, 6]] as const) {
      const out = execFileSync(process.execPath, [child, model, String(size), String(steps), String(count)], { encoding: 'utf8', maxBuffer: 1 << 20 });
      const r = JSON.parse(out) as { cold: Record<string, number>; warm: Record<string, number>; maxRssMb: number };
      const w = r.warm;
      const label = `${size}² ×${count}, ${steps} steps, CPU`;
      figures.push(
        { name: `overhead share of the job (wall − session.run) / wall, warm model, ${label}`, value: (100 * w.overheadMs!) / w.wallMs!, unit: '%', target: { op: '<', value: 3 } },
        { name: `job wall time, ${label}`, value: w.wallMs! / 1000, unit: 's' },
        { name: 'time inside session.run', value: w.sessionRunMs! / 1000, unit: 's' },
        { name: 'stage: encode prompt (both encoders, prompt + negative)', value: w.encodeMs!, unit: 'ms' },
        { name: 'stage: one denoising step (CFG, whole batch)', value: w.stepMsMean!, unit: 'ms' },
        {
          name: 'mid fixture: UNet time per latent per step (the fixture must stand for real compute)',
          value: w.stepMsMean! / (2 * count),
          unit: 'ms',
          target: { op: '>', value: 50 },
        },
        { name: 'stage: VAE decode, all images', value: w.decodeMs!, unit: 'ms' },
        { name: 'stage: PNG encode with metadata + thumbnail, all images', value: w.pngEncodeMs!, unit: 'ms' },
        { name: 'stage: atomic write, all images', value: w.writeMs!, unit: 'ms' },
        { name: 'model load (cold run only)', value: r.cold.modelLoadMs!, unit: 'ms' },
        { name: 'peak RSS of the process running the pipeline', value: r.maxRssMb, unit: 'MB' },
      );
    }
    return figures;
  },
};
