/**
 * A whole SDXL job — 4 steps, 6 images, guidance 5, prompt and negative prompt, 256 × 320 — run by
 * the studio on a checkpoint it prepared (the tiny model as a diffusers folder and as an A1111 single
 * file) lands within ±1 of diffusers' StableDiffusionXLPipeline on every value of every image, for
 * Euler and DPM++ 2M Karras, and for a v-prediction model with an empty negative prompt (the zero
 * embedding). The reference pictures and how they were made: tests/fixtures/reference/sdxl/pipeline.md.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareCheckpoint } from '../../../src-main/engine/checkpoints/prepare.ts';
import { SdxlPipeline } from '../../../src-main/engine/pipelines/sdxl/index.ts';
import { decodePng } from '../../../src-main/engine/media/png-decode.ts';
import { resolveRequest } from '../../../src-preload/contract/catalog.ts';
import { PIPELINE_JOBS, PIPELINE_MODELS, writePipelineDiffusers, writePipelineSingleFile } from '../../fixtures/reference/sdxl/pipeline-cases.ts';
import type { PipelineJob, PipelineModel } from '../../fixtures/reference/sdxl/pipeline-cases.ts';
import { makeTempDir } from '../fixtures/ort-helpers.ts';

interface ReferenceRecord {
  checkpoints: Record<PipelineModel, { diffusers_sha256: Record<string, string>; single_file_sha256: string }>;
  jobs: (PipelineJob & {
    png: string;
    png_sha256: string;
    /** diffusers' pixels of this job against those of the same job a little off (see pipeline.md). */
    sensitivity: Record<string, { max_diff: number; fraction_off_by_more_than_1: number }>;
  })[];
}

const referenceDir = fileURLToPath(new URL('../../fixtures/reference/sdxl/', import.meta.url));
const record = JSON.parse(readFileSync(join(referenceDir, 'pipeline-reference.json'), 'utf8')) as ReferenceRecord;

type Layout = 'diffusers' | 'single_file';

/**
 * Where each job runs: both layouts, both samplers and both predictions in three runs (the
 * reference script checked that diffusers gives the same bytes from the folder and from the single
 * file for every job). The v-prediction model is the single file, known as such by its `v_pred` key.
 */
const RUNS: readonly { readonly job: PipelineJob; readonly layout: Layout }[] = [
  { job: jobNamed('euler'), layout: 'diffusers' },
  { job: jobNamed('dpmpp_2m_karras'), layout: 'single_file' },
  { job: jobNamed('vpred_dpmpp_2m_karras'), layout: 'single_file' },
];

function jobNamed(name: string): PipelineJob {
  const job = PIPELINE_JOBS.find((j) => j.name === name);
  if (!job) throw new Error(`no pipeline job ${name}`);
  return job;
}

const CHECKPOINTS = [...new Map(RUNS.map(({ job, layout }) => [`${layout}/${job.model}`, { layout, model: job.model }])).values()];

let tmp: { dir: string; cleanup: () => Promise<void> };
const pipeline = new SdxlPipeline();
const prepared = new Map<string, Promise<string>>();

const checkpointPath = (layout: Layout, model: PipelineModel): string =>
  join(tmp.dir, 'checkpoints', layout === 'diffusers' ? model : `${model}.safetensors`);

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function folderHashes(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[relative(folder, path)] = sha256(readFileSync(path));
  }
  return out;
}

beforeAll(async () => {
  tmp = await makeTempDir('sdxl-pipeline-reference');
  await mkdir(join(tmp.dir, 'checkpoints'));
  for (const { layout, model } of CHECKPOINTS) {
    const path = checkpointPath(layout, model);
    await (layout === 'diffusers' ? writePipelineDiffusers(path, model) : writePipelineSingleFile(path, model));
  }
}, 60_000);

afterAll(async () => {
  await pipeline.unload();
  await tmp?.cleanup();
});

/** One preparation per checkpoint, shared by the jobs run on it. */
function prepare(layout: Layout, model: PipelineModel): Promise<string> {
  const key = `${layout}/${model}`;
  let folder = prepared.get(key);
  if (!folder) {
    folder = prepareCheckpoint({ source: checkpointPath(layout, model), modelsDir: join(tmp.dir, 'models'), variants: ['cpu'] }).then((r) => {
      expect(r.manifest.prediction).toBe(model);
      return r.folder;
    });
    prepared.set(key, folder);
  }
  return folder;
}

async function runJob(folder: string, job: PipelineJob, name: string): Promise<Uint8Array[]> {
  const stagingDir = join(tmp.dir, `out-${name}`);
  await mkdir(stagingDir);
  const { type, params } = resolveRequest(
    {
      type: 'sdxl_image_fast',
      prompt: job.prompt,
      negativePrompt: job.negativePrompt,
      seed: job.seed,
      steps: job.steps,
      guidance: job.guidance,
      width: job.width,
      height: job.height,
      count: job.count,
      scheduler: job.sampler,
    },
    () => 0,
  );
  const result = await pipeline.run(
    { jobId: name, jobType: type, params, model: { id: name, family: 'sdxl', path: folder }, enhancer: null, stagingDir, maxBatch: job.count, providers: ['cpu'] },
    { signal: new AbortController().signal, progress: () => undefined, log: () => undefined },
  );
  expect(result.outputs).toHaveLength(job.count);
  return result.outputs.map((o) => {
    const png = decodePng(readFileSync(o.file));
    expect([png.width, png.height, png.channels]).toEqual([job.width, job.height, 3]);
    return png.data;
  });
}

/** diffusers' images, stacked top to bottom in pipeline-<job>.png, one RGB array each. */
function referenceImages(job: ReferenceRecord['jobs'][number]): Uint8Array[] {
  const bytes = readFileSync(join(referenceDir, job.png));
  expect(sha256(bytes)).toBe(job.png_sha256);
  const png = decodePng(bytes);
  expect([png.width, png.height, png.channels]).toEqual([job.width, job.height * job.count, 3]);
  const size = job.width * job.height * 3;
  return Array.from({ length: job.count }, (_, i) => png.data.subarray(i * size, (i + 1) * size));
}

describe("a whole SDXL job on a prepared checkpoint, against diffusers' StableDiffusionXLPipeline", () => {
  it('writes the same checkpoints the reference was made from (sha256)', () => {
    expect(Object.keys(record.checkpoints).sort()).toEqual([...PIPELINE_MODELS].sort());
    for (const { layout, model } of CHECKPOINTS) {
      const expected = record.checkpoints[model];
      const path = checkpointPath(layout, model);
      if (layout === 'diffusers') expect(folderHashes(path), model).toEqual(expected.diffusers_sha256);
      else expect(sha256(readFileSync(path)), model).toBe(expected.single_file_sha256);
    }
    // The jobs the reference ran are the jobs this test runs.
    expect(record.jobs).toMatchObject(PIPELINE_JOBS);
  });

  it('has reference pictures that span most of 0–255, differ from image to image, and move with sampler, guidance and negative prompt', () => {
    for (const job of record.jobs) {
      // diffusers' own pictures of the job with the other sigma spacing, guidance 4.5, or the zero
      // negative embedding swapped for text (or back) are far outside ±1 of these.
      expect(Object.keys(job.sensitivity).sort(), job.name).toEqual(['guidance_4.5', 'negative_zero_vs_text', 'other_sigma_spacing']);
      for (const [variant, s] of Object.entries(job.sensitivity)) {
        expect(s.fraction_off_by_more_than_1, `${job.name}, ${variant}`).toBeGreaterThan(0.2);
      }
      const images = referenceImages(job);
      const all = new Uint8Array(images.length * images[0]!.length);
      images.forEach((img, i) => all.set(img, i * img.length));
      const sorted = all.slice().sort();
      const at = (q: number): number => sorted[Math.floor(q * (sorted.length - 1))]!;
      expect(at(0.01), job.name).toBeLessThan(40);
      expect(at(0.99), job.name).toBeGreaterThan(200);
      // A picture landing in another image's place would be far off.
      const first = images[0]!;
      for (let i = 1; i < images.length; i++) {
        let differing = 0;
        for (let k = 0; k < first.length; k++) if (Math.abs(images[i]![k]! - first[k]!) > 1) differing++;
        expect(differing / first.length, `${job.name} image ${i} vs 0`).toBeGreaterThan(0.5);
      }
    }
  });

  for (const { job, layout } of RUNS) {
    it(`${layout}, ${job.name}: every value of the ${job.count} images within ±1 of diffusers`, async () => {
      const reference = referenceImages(record.jobs.find((j) => j.name === job.name)!);
      const images = await runJob(await prepare(layout, job.model), job, `${layout}-${job.name}`);
      let differing = 0;
      const maxPerImage = images.map((ours, i) => {
        const theirs = reference[i]!;
        expect(ours.length).toBe(theirs.length);
        let max = 0;
        for (let k = 0; k < ours.length; k++) {
          const d = Math.abs(ours[k]! - theirs[k]!);
          if (d > 0) differing++;
          if (d > max) max = d;
        }
        return max;
      });
      const summary = `${layout} ${job.name}: max |diff| per image ${maxPerImage.join(' ')}, ${differing} of ${job.count * reference[0]!.length} values differ`;
      console.log(summary);
      expect(Math.max(...maxPerImage), summary).toBeLessThanOrEqual(1);
    }, 120_000);
  }
});
