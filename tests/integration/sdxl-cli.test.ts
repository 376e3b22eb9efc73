/**
 * SDXL end to end from the command line on the CPU, with the project's tiny SDXL-contract models:
 * 6 PNGs in the library whose metadata reads back (ours and exiftool), the same seed gives the same
 * images, one image re-runs alone, a cancelled job leaves no partial file, and broken model folders
 * give plain errors while the queue moves on.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSdxlFixture } from '../fixtures/sdxl/build-sdxl.ts';
import { readImageRecipeMetadata } from '../../src-main/engine/media/png-generated.ts';
import { readPngChunks } from '../../src-main/engine/media/png-chunks.ts';
import { decodePng } from '../../src-main/engine/media/png-decode.ts';
import { Database } from '../../src-main/engine/db/database.ts';
import { studio, studioChild, untilTrue } from '../helpers/cli.ts';

let root: string;
let models: string;

interface JobJson {
  id: string;
  status: { state: string; code?: string; message?: string; assets?: string[] };
  files?: string[];
  providerNote: string | null;
  provider: string | null;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sdxl-cli-'));
  models = join(root, 'models');
  await buildSdxlFixture(join(models, 'sdxl-tiny'));
}, 120_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

const small = ['--steps', '3', '--width', '256', '--height', '256'];

async function generate(data: string, extra: string[]): Promise<JobJson> {
  const r = await studio(['--data', data, 'generate', '--type', 'sdxl_image_fast', '--models', models, '--wait', '--json', ...extra]);
  if (r.code !== 0) throw new Error(`generate exited ${r.code}: ${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout) as JobJson;
}

function idat(file: string): Buffer {
  const chunks = readPngChunks(readFileSync(file));
  return Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => Buffer.from(c.data)));
}

describe('studio generate --type sdxl_image_fast', () => {
  it('makes 6 PNGs in the library whose metadata reads back', async () => {
    const data = join(root, 'data-meta');
    const job = await generate(data, ['--prompt', 'a lighthouse at dusk, (storm:1.2)', '--negative-prompt', 'blurry', '--seed', '42', ...small]);
    expect(job.status.state).toBe('done');
    expect(job.files).toHaveLength(6);
    for (const [i, file] of job.files!.entries()) {
      expect(file.startsWith(join(data, 'library', 'sdxl_image_fast'))).toBe(true);
      const meta = readImageRecipeMetadata(readFileSync(file));
      expect(meta.width).toBe(256);
      const p = meta.parameters!.parsed;
      expect(p.prompt).toBe('a lighthouse at dusk, (storm:1.2)');
      expect(p.negativePrompt).toBe('blurry');
      expect(p.steps).toBe(3);
      expect(p.sampler).toBe('Euler');
      expect(p.seed).toBe('42');
      expect(p.width).toBe(256);
      expect(p.model).toBe('sdxl-tiny');
      expect(p.params['Batch pos']).toBe(String(i));
      expect(meta.digitalSourceType).toBe('http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia');
      const recipe = meta.recipe!.value as Record<string, unknown>;
      expect(recipe).toMatchObject({ jobType: 'sdxl_image_fast', seed: 42, batchIndex: i, steps: 3, app: 'OurVidz Studio' });
      // The machine's side stays on the job record (below: provider; the row: timings), not in the file.
      expect(recipe).not.toHaveProperty('provider');
      expect(recipe).not.toHaveProperty('timings');
    }
    // exiftool, as a user's own tools would read it.
    const exif = JSON.parse(execFileSync('exiftool', ['-j', '-Parameters', '-DigitalSourceType', '-Ourvidz_recipe', job.files![0]!], { encoding: 'utf8' })) as Record<string, string>[];
    expect(exif[0]!.Parameters).toContain('Steps: 3, Sampler: Euler, Schedule type: Uniform, CFG scale: 7, Seed: 42, Size: 256x256, Model: sdxl-tiny');
    expect(exif[0]!.DigitalSourceType).toContain('trainedAlgorithmicMedia');
    expect(JSON.parse(exif[0]!.Ourvidz_recipe!)).toMatchObject({ seed: 42, batchIndex: 0 });

    const db = new Database(join(data, 'studio.db'));
    const rows = db.all<{ batch_index: number; prompt: string; seed: number; model: string; thumb_path: string; sha256: string; timings: string }>(
      'SELECT * FROM assets WHERE job_id = ? ORDER BY batch_index',
      job.id,
    );
    db.close();
    expect(rows.map((r) => r.batch_index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rows[0]).toMatchObject({ prompt: 'a lighthouse at dusk, (storm:1.2)', seed: 42, model: 'sdxl-tiny' });
    expect(JSON.parse(rows[0]!.timings)).toHaveProperty('denoiseMs');
    for (const r of rows) expect(existsSync(join(data, 'library', r.thumb_path))).toBe(true);
    // Six different images: each batch position has its own noise.
    expect(new Set(rows.map((r) => r.sha256)).size).toBe(6);
  });

  it('gives the same images for the same seed, and re-runs one image of the batch alone', async () => {
    const data = join(root, 'data-seed');
    const a = await generate(data, ['--prompt', 'red fox', '--seed', '7', ...small]);
    const b = await generate(data, ['--prompt', 'red fox', '--seed', '7', ...small]);
    const c = await generate(data, ['--prompt', 'red fox', '--seed', '8', ...small]);
    for (let i = 0; i < 6; i++) expect(idat(b.files![i]!).equals(idat(a.files![i]!))).toBe(true);
    expect(idat(c.files![0]!).equals(idat(a.files![0]!))).toBe(false);
    const one = await generate(data, ['--prompt', 'red fox', '--seed', '7', '--count', '1', '--batch-index', '3', ...small]);
    expect(one.files).toHaveLength(1);
    expect(decodePng(readFileSync(one.files![0]!)).data).toEqual(decodePng(readFileSync(a.files![3]!)).data);
  });

  it('leaves no partial file when a running job is cancelled', async () => {
    const data = join(root, 'data-cancel');
    const runner = studioChild(['--data', data, 'generate', '--type', 'sdxl_image_fast', '--models', models, '--prompt', 'long one', '--steps', '150', '--width', '512', '--height', '512', '--wait', '--json']);
    let out = '';
    runner.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const closed = new Promise<number | null>((r) => runner.on('close', r));
    let jobId = '';
    await untilTrue('the job to run', async () => {
      if (!existsSync(join(data, 'studio.db'))) return false;
      const list = await studio(['--data', data, 'jobs', 'list', '--json']);
      const jobs = JSON.parse(list.stdout || '[]') as { id: string; status: { state: string; step?: number } }[];
      const running = jobs.find((j) => j.status.state === 'running' && (j.status.step ?? 0) >= 2);
      if (running) jobId = running.id;
      return !!running;
    });
    const cancel = await studio(['--data', data, 'jobs', 'cancel', jobId]);
    expect(cancel.code).toBe(0);
    await closed;
    const job = JSON.parse(out) as JobJson;
    expect(job.status.state).toBe('cancelled');
    const bucket = join(data, 'library', 'sdxl_image_fast');
    expect(existsSync(bucket) ? readdirSync(bucket, { recursive: true }).filter((f) => String(f).endsWith('.png')) : []).toEqual([]);
    expect(readdirSync(join(data, 'staging'))).toEqual([]);
  });

  it('names what is wrong with a broken or wrong-kind model folder, and the queue moves on', async () => {
    const broken = join(root, 'broken-models');
    await buildSdxlFixture(join(broken, 'looks-sd15'), { variant: 'sd15' });
    const truncated = join(broken, 'truncated');
    await buildSdxlFixture(truncated);
    const unet = join(truncated, 'unet', 'model.onnx');
    writeFileSync(unet, readFileSync(unet).subarray(0, Math.floor(statSync(unet).size / 2)));
    const data = join(root, 'data-broken');

    const list = await studio(['--data', data, 'models', 'list', '--models', broken, '--json']);
    const infos = JSON.parse(list.stdout) as { id: string; status: string; problems: string[] }[];
    const sd15 = infos.find((m) => m.id === 'looks-sd15')!;
    expect(sd15.status).toBe('invalid');
    expect(sd15.problems.join(' ')).toMatch(/SD 1\.5/);
    const trunc = infos.find((m) => m.id === 'truncated')!;
    expect(trunc.status).toBe('invalid');
    expect(trunc.problems.join(' ')).toMatch(/unet\/model\.onnx cannot be read: .*truncated/);

    const bad = await studio(['--data', data, 'generate', '--type', 'sdxl_image_fast', '--models', broken, '--prompt', 'x', '--wait', '--json', ...small]);
    expect(bad.code).toBe(1);
    const failed = JSON.parse(bad.stdout) as JobJson;
    expect(failed.status).toMatchObject({ state: 'failed', code: 'model_not_installed' });
    expect(failed.status.message).toMatch(/model not installed: no usable sdxl model .*looks-sd15: .*SD 1\.5.*truncated: unet\/model\.onnx/);
    expect(failed.status.message).toMatch(/Put an SDXL ONNX export \(Optimum layout\)|Put an SDXL ONNX export in the Hugging Face Optimum layout/);

    const good = await generate(data, ['--prompt', 'after the failure', '--seed', '1', ...small]);
    expect(good.status.state).toBe('done');
  });
});
