/**
 * What a shared file says, from the command line as a user makes and exports them: generated PNGs
 * and MP4s and export sidecars carry the shareable recipe (prompt, negative, seed, steps, sampler
 * and schedule, CFG, size, model name and hash, job type, app version) and nothing about the
 * machine — no absolute path, no provider note, no timings, which stay on the local job and asset
 * rows; an MP4 says a model made it and when; `--strip-metadata` copies carry no generation data
 * at all, the picture and frames unchanged; the A1111 text names its schedule, the job's true batch
 * size and `RNG: CPU`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { Database } from '../../src-main/engine/db/database.ts';
import { readPngChunks } from '../../src-main/engine/media/png-chunks.ts';
import { readImageRecipeMetadata } from '../../src-main/engine/media/png-generated.ts';
import { probeVideo } from '../../src-main/engine/media/video-probe.ts';
import { readVideoRecipeMetadata } from '../../src-main/engine/media/video-metadata.ts';
import { samplerFromA1111 } from '../../src-main/engine/numerics/schedulers/index.ts';
import { writeTinySdxlSingleFile } from '../fixtures/checkpoints/sdxl-single-file.ts';
import { buildWanFixture } from '../fixtures/wan/build-wan.ts';
import { studio } from '../helpers/cli.ts';

let root: string;
let models: string;
let data: string;
let hash: string;

interface JobJson {
  id: string;
  status: { state: string; assets?: string[]; message?: string };
  files?: string[];
  provider: string | null;
  providerNote: string | null;
}

const run = (args: string[]) => studio(['--data', data, '--models', models, ...args], { timeoutMs: 240_000 });

async function generate(args: string[]): Promise<JobJson> {
  const r = await run(['generate', '--wait', '--json', '--steps', '2', '--width', '256', '--height', '256', ...args]);
  if (r.code !== 0) throw new Error(`generate exited ${r.code}: ${r.stderr}\n${r.stdout}`);
  const job = JSON.parse(r.stdout) as JobJson;
  expect(job.status.state, job.status.message).toBe('done');
  return job;
}

beforeAll(async () => {
  // Everything private lives under this one folder: the data folder and the model files.
  root = mkdtempSync(join(tmpdir(), 'shared-private-'));
  models = join(root, 'models');
  data = join(root, 'data');
  mkdirSync(models);
  await writeTinySdxlSingleFile(join(models, 'tinyXL_v10.safetensors'), { dtype: 'F16', withVae: true, extras: true });
  await buildWanFixture(join(models, 'wan-tiny'));
  const added = await run(['models', 'add', join(models, 'tinyXL_v10.safetensors'), '--name', 'Tiny XL v1.0', '--json']);
  expect(added.code, added.stderr).toBe(0);
  const list = JSON.parse((await run(['models', 'list', '--json'])).stdout) as { id: string; hash: string | null }[];
  hash = list.find((m) => m.id === 'tiny-xl-v1.0')!.hash!;
  expect(hash).toMatch(/^[0-9a-f]{10}$/);
}, 300_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * Every metadata field exiftool finds in the file, with its group (decoded: compressed or encoded
 * text too) — not what it says about the file system (name, folder, dates of the copy).
 */
function exiftool(file: string): Record<string, unknown> {
  const all = (JSON.parse(execFileSync('exiftool', ['-j', '-a', '-u', '-G1', '-b', file], { encoding: 'utf8', maxBuffer: 1 << 26 })) as Record<string, unknown>[])[0]!;
  return Object.fromEntries(Object.entries(all).filter(([k]) => k !== 'SourceFile' && !k.startsWith('System:') && !k.startsWith('ExifTool:')));
}

/** The file's bytes and everything exiftool reads from it hold nothing about the machine. */
function expectNothingPrivate(file: string, job: JobJson | null): void {
  const seen = [readFileSync(file).toString('latin1'), readFileSync(file).toString('utf8'), JSON.stringify(exiftool(file))];
  const secrets = [root, data, models, 'model.onnx', '/unet', 'providerNote', '"provider"', 'timings', 'sessionRunMs', 'modelLoadMs', 'wallMs', 'RssMb', 'vaeDecode', '"params"'];
  if (job?.providerNote) secrets.push(job.providerNote);
  for (const text of seen) for (const secret of secrets) expect(text.includes(secret), `${file} carries ${JSON.stringify(secret)}`).toBe(false);
}

function expectRecipe(recipe: unknown, expected: Record<string, unknown>): void {
  expect(recipe).toMatchObject({ app: 'OurVidz Studio', appVersion: pkg.version, ...expected });
  const r = recipe as Record<string, unknown>;
  for (const key of ['prompt', 'negativePrompt', 'seed', 'steps', 'scheduler', 'sampler', 'scheduleType', 'guidance', 'width', 'height', 'jobType', 'model']) {
    expect(r, key).toHaveProperty(key);
  }
  expect(r.model).toHaveProperty('name');
  expect(r.model).toHaveProperty('hash');
}

function idat(file: string): Buffer {
  return Buffer.concat(readPngChunks(readFileSync(file)).filter((c) => c.type === 'IDAT').map((c) => Buffer.from(c.data)));
}

function frames(file: string): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 26 });
}

let sdxl: JobJson;
let single: JobJson;
let video: JobJson;

describe('generated files carry the recipe and nothing about the machine', () => {
  it('SDXL PNGs: the recipe by model name and hash, no path, provider note or timings; the machine side stays in the database', async () => {
    sdxl = await generate(['--type', 'sdxl_image_fast', '--model', 'tiny-xl-v1.0', '--prompt', 'a lighthouse at dusk', '--negative-prompt', 'blurry', '--seed', '42', '--count', '2', '--scheduler', 'dpmpp_2m']);
    expect(sdxl.files).toHaveLength(2);
    for (const [i, file] of sdxl.files!.entries()) {
      expectNothingPrivate(file, sdxl);
      const meta = readImageRecipeMetadata(readFileSync(file));
      expectRecipe(meta.recipe!.value, {
        jobType: 'sdxl_image_fast',
        prompt: 'a lighthouse at dusk',
        negativePrompt: 'blurry',
        seed: 42,
        batchIndex: i,
        count: 2,
        steps: 2,
        scheduler: 'dpmpp_2m',
        sampler: 'DPM++ 2M',
        scheduleType: 'Uniform',
        width: 256,
        height: 256,
        model: { id: 'tiny-xl-v1.0', name: 'Tiny XL v1.0', hash, family: 'sdxl' },
        noise: { kind: 'torch.randn', device: 'cpu', batch: 6 },
      });
      expect(meta.digitalSourceType).toBe('http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia');
    }
    // The provider and the timings are kept, locally.
    expect(sdxl.provider).toBe('cpu');
    const db = new Database(join(data, 'studio.db'));
    try {
      const row = db.get<{ timings: string; recipe: string }>('SELECT timings, recipe FROM assets WHERE job_id = ? AND batch_index = 0', sdxl.id)!;
      expect(JSON.parse(row.timings)).toHaveProperty('denoiseMs');
      // The library keeps what the file carries.
      expect(JSON.parse(row.recipe)).toEqual(readImageRecipeMetadata(readFileSync(sdxl.files![0]!)).recipe!.value);
    } finally {
      db.close();
    }
  });

  it('A1111 text: the schedule named, the true batch size and RNG: CPU, which read back as the same sampler', async () => {
    for (const [i, file] of sdxl.files!.entries()) {
      const p = readImageRecipeMetadata(readFileSync(file)).parameters!;
      expect(p.text).toContain('Sampler: DPM++ 2M, Schedule type: Uniform');
      expect(p.text).not.toContain('Automatic');
      expect(p.parsed.params).toMatchObject({ 'Batch size': '2', 'Batch pos': String(i), RNG: 'CPU', 'Model hash': hash, Model: 'Tiny XL v1.0' });
      expect(p.parsed.params).not.toHaveProperty('Noise');
      expect(samplerFromA1111(p.parsed.sampler!, p.parsed.scheduleType)).toBe('dpmpp_2m');
    }
    single = await generate(['--type', 'sdxl_image_fast', '--model', 'tiny-xl-v1.0', '--prompt', 'one', '--seed', '5', '--count', '1', '--scheduler', 'euler_karras']);
    const p = readImageRecipeMetadata(readFileSync(single.files![0]!)).parameters!;
    // A single image: no batch fields (A1111 would draw that many), the noise source as A1111 reads it.
    expect(p.parsed.params).not.toHaveProperty('Batch size');
    expect(p.parsed.params).not.toHaveProperty('Batch pos');
    expect(p.parsed.params).toMatchObject({ Sampler: 'Euler', 'Schedule type': 'Karras', RNG: 'CPU' });
  });

  it('WAN MP4: the recipe without the model path, marked AI-made (XMP) with a real creation time', async () => {
    const before = Date.now();
    video = await generate(['--type', 'video_fast', '--model', 'wan-tiny', '--prompt', 'a fox in snow', '--negative-prompt', 'still', '--seed', '9', '--frames', '5']);
    const file = video.files![0]!;
    expectNothingPrivate(file, video);
    const probe = await probeVideo(file);
    const read = readVideoRecipeMetadata(probe.tags);
    expectRecipe(read.recipe, {
      jobType: 'video_fast',
      prompt: 'a fox in snow',
      negativePrompt: 'still',
      seed: 9,
      steps: 2,
      scheduler: 'unipc',
      sampler: 'UniPC',
      width: 256,
      height: 256,
      frames: 5,
      model: { id: 'wan-tiny', name: 'wan-tiny', hash: null, family: 'wan' },
    });
    expect(read.parameters).toContain('RNG: CPU');
    const tags = exiftool(file);
    expect(tags['XMP-iptcExt:DigitalSourceType']).toBe('http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia');
    const created = Date.parse(`${String(tags['QuickTime:CreateDate']).replace(/^(\d+):(\d+):(\d+) /, '$1-$2-$3T')}Z`);
    expect(created).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(created).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(probe.tags.creation_time!)).toBe(created);
  });
});

describe('studio library export', () => {
  const ids = (): string[] => [...sdxl.status.assets!, ...video.status.assets!];

  it('--sidecar writes the shareable recipe, even for a row an older version stored with paths and timings', async () => {
    // A row as the studio stored it before: the model path, provider and note, timings, params.
    const legacy = sdxl.status.assets![1]!;
    const db = new Database(join(data, 'studio.db'));
    try {
      const old = JSON.parse(db.get<{ recipe: string }>('SELECT recipe FROM assets WHERE id = ?', legacy)!.recipe) as Record<string, unknown>;
      const leaky = {
        ...old,
        model: { id: 'tiny-xl-v1.0', family: 'sdxl', transformer: join(models, 'prepared', 'unet', 'model.onnx') },
        provider: 'cuda',
        providerNote: `CUDA: ${join(root, 'libonnxruntime_providers_cuda.so')} on /dev/nvidia0`,
        timings: { sessionRunMs: 12.5, modelLoadMs: 900 },
        params: { prompt: old.prompt, count: 2 },
      };
      db.run('UPDATE assets SET recipe = ? WHERE id = ?', JSON.stringify(leaky), legacy);
    } finally {
      db.close();
    }
    const out = join(root, 'export-sidecar');
    const r = await run(['library', 'export', ...ids(), '--to', out, '--sidecar', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { files: { id: string; file: string; sidecar: string }[] };
    expect(result.files).toHaveLength(3);
    for (const f of result.files) {
      expectNothingPrivate(f.sidecar, null);
      const sidecar = JSON.parse(readFileSync(f.sidecar, 'utf8')) as { id: string; recipe: Record<string, unknown> };
      expect(sidecar.id).toBe(f.id);
      expectRecipe(sidecar.recipe, { seed: f.id === video.status.assets![0] ? 9 : 42 });
    }
    const fromLegacy = JSON.parse(readFileSync(result.files.find((f) => f.id === legacy)!.sidecar, 'utf8')) as { recipe: Record<string, unknown> };
    expect(fromLegacy.recipe).toMatchObject({ batchIndex: 1, count: 2, model: { id: 'tiny-xl-v1.0', name: 'tiny-xl-v1.0', hash: null } });
  });

  it('--strip-metadata writes copies with no generation data, the picture and frames unchanged', async () => {
    const out = join(root, 'export-stripped');
    const r = await run(['library', 'export', ...ids(), '--to', out, '--strip-metadata', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { files: { id: string; file: string; sidecar: string | null }[] };
    expect(result.files.map((f) => f.sidecar)).toEqual([null, null, null]);
    expect(readdirSync(out)).toHaveLength(3);
    const originals = new Map([...sdxl.status.assets!.map((id, i) => [id, sdxl.files![i]!] as const), [video.status.assets![0]!, video.files![0]!]]);
    for (const f of result.files) {
      const tags = exiftool(f.file);
      const groups = new Set(Object.keys(tags).map((k) => k.split(':')[0]));
      for (const g of groups) expect(g, `${f.file} has ${g} tags`).not.toMatch(/^XMP|^IPTC|^EXIF|^IFD|^Photoshop/);
      // (A track's HandlerDescription is its kind, `VideoHandler`.)
      const found = Object.keys(tags).filter((k) => /Parameters|Ourvidz|Recipe|DigitalSource|Software|Comment|(?<!Handler)Description|Title|Prompt|Encoder|CreatorTool/i.test(k));
      expect(found, f.file).toEqual([]);
      const text = readFileSync(f.file).toString('latin1');
      for (const secret of ['a lighthouse', 'a fox in snow', 'ourvidz', 'OurVidz', 'x264', 'Lavf', 'trainedAlgorithmicMedia']) expect(text.includes(secret), `${f.file}: ${secret}`).toBe(false);
      const original = originals.get(f.id)!;
      if (f.file.endsWith('.png')) {
        expect(readPngChunks(readFileSync(f.file)).map((c) => c.type).filter((t) => t !== 'IDAT')).toEqual(['IHDR', 'IEND']);
        expect(idat(f.file).equals(idat(original))).toBe(true);
      } else {
        expect(tags['QuickTime:CreateDate']).toBe('0000:00:00 00:00:00');
        expect(frames(f.file).equals(frames(original))).toBe(true);
      }
    }
  });

  it('refuses --strip-metadata with --sidecar, saying why', async () => {
    const r = await run(['library', 'export', sdxl.status.assets![0]!, '--to', join(root, 'never'), '--strip-metadata', '--sidecar']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--strip-metadata leaves the prompt and recipe out of the files and --sidecar writes them beside the files: use one of them/);
  });
});
