/**
 * A model whose scheduler_config.json asks for what the studio does not reproduce (SDE-DPM++ third
 * order, dynamic thresholding) still runs, and says so on the finished job and in each image's
 * recipe, through the CLI as a user runs it. The real SDXL base config says nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSdxlFixture } from '../fixtures/sdxl/build-sdxl.ts';
import { readImageRecipeMetadata } from '../../src-main/engine/media/png-generated.ts';
import { studio } from '../helpers/cli.ts';

interface JobJson {
  status: { state: string; message?: string };
  files?: string[];
  providerNote: string | null;
}

let root: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sdxl-scheduler-notes-'));
  await buildSdxlFixture(join(root, 'base', 'sdxl-tiny'));
  await buildSdxlFixture(join(root, 'sde', 'sdxl-sde'), {
    scheduler: {
      _class_name: 'DPMSolverMultistepScheduler',
      algorithm_type: 'sde-dpmsolver++',
      solver_order: 3,
      solver_type: 'midpoint',
      thresholding: true,
      lower_order_final: true,
    },
  });
}, 120_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

async function generate(models: string, sampler: string): Promise<JobJson> {
  const data = join(root, `data-${models}-${sampler}`);
  // CPU only: no note about skipped GPU providers, so the job's note is the scheduler's alone.
  const cpu = await studio(['--data', data, 'settings', 'set', 'providers', 'cpu']);
  if (cpu.code !== 0) throw new Error(`settings set exited ${cpu.code}: ${cpu.stderr}`);
  const r = await studio([
    '--data', data, 'generate', '--type', 'sdxl_image_fast', '--models', join(root, models),
    '--prompt', 'a harbour at night', '--seed', '3', '--steps', '3', '--width', '256', '--height', '256', '--count', '2',
    '--scheduler', sampler, '--wait', '--json',
  ]);
  if (r.code !== 0) throw new Error(`generate exited ${r.code}: ${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout) as JobJson;
}

/** The recipe's scheduler sentences (facts of the model, shared); the provider's note is not shared. */
function recipeNote(file: string): unknown {
  const recipe = readImageRecipeMetadata(readFileSync(file)).recipe!.value as Record<string, unknown>;
  expect(recipe).not.toHaveProperty('providerNote');
  const notes = recipe.schedulerNotes as string[] | undefined;
  return notes === undefined ? null : notes.join('; ');
}

describe('scheduler_config.json values the studio does not reproduce', () => {
  it('are said on the finished DPM++ 2M job and in its images, naming key, value and what ran instead', async () => {
    const job = await generate('sde', 'dpmpp_2m');
    expect(job.status.state).toBe('done');
    expect(job.files).toHaveLength(2);
    expect(job.providerNote).toBe(
      [
        'scheduler_config.json sets thresholding true, which the studio does not reproduce: DPM++ 2M does not clip its predicted image (no dynamic thresholding) instead',
        'scheduler_config.json sets algorithm_type "sde-dpmsolver++", which the studio does not reproduce: DPM++ 2M runs the deterministic "dpmsolver++" algorithm instead',
        'scheduler_config.json sets solver_order 3, which the studio does not reproduce: DPM++ 2M is a second-order solver (solver_order 2) instead',
      ].join('; '),
    );
    for (const file of job.files!) expect(recipeNote(file)).toBe(job.providerNote);
  });

  it('are not said on an Euler job, whose diffusers class reads no solver settings', async () => {
    const job = await generate('sde', 'euler');
    expect(job.status.state).toBe('done');
    expect(job.providerNote).toBeNull();
  });

  it('leave the SDXL base config silent', async () => {
    const job = await generate('base', 'dpmpp_2m');
    expect(job.status.state).toBe('done');
    expect(job.providerNote).toBeNull();
    expect(recipeNote(job.files![0]!)).toBeNull();
  });
});
