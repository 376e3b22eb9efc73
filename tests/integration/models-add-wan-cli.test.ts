/**
 * WAN 2.1 from the command line, from the files creators have: a ComfyUI models/ folder and a
 * diffusers folder in the model folders are listed "to prepare" as WAN models; `studio models add`
 * of one ComfyUI part says what it is and which parts are still needed; the three parts added
 * together prepare into a WAN model that `studio generate` runs (a 5-frame video).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeComfyModels, writeWanDiffusers } from '../fixtures/checkpoints/wan-layouts.ts';
import { studio } from '../helpers/cli.ts';

let root: string;
let models: string;
let data: string;
let comfy: { transformer: string; textEncoder: string; vae: string };

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'models-add-wan-'));
  models = join(root, 'models');
  data = join(root, 'data');
  mkdirSync(models);
  comfy = await writeComfyModels(join(models, 'ComfyUI-models'), { transformerDtype: 'F16', textDtype: 'F16', vaeDtype: 'F32' });
  await writeWanDiffusers(join(models, 'Wan2.1-T2V-tiny-Diffusers'));
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const run = (args: string[]) => studio(['--data', data, '--models', models, ...args], { timeoutMs: 240_000 });

interface ModelJson {
  id: string;
  family: string;
  status: string;
  name: string;
  description: string | null;
}

describe('studio models add (WAN 2.1)', () => {
  it('lists a ComfyUI models folder and a diffusers folder as WAN models to prepare', async () => {
    const r = await run(['models', 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as ModelJson[];
    expect(list.map((m) => [m.id, m.family, m.status])).toEqual([
      ['checkpoint:ComfyUI-models', 'wan', 'needs_preparation'],
      ['checkpoint:Wan2.1-T2V-tiny-Diffusers', 'wan', 'needs_preparation'],
    ]);
    expect(list[0]!.description).toMatch(/^WAN 2\.1 model \(ComfyUI files: WAN 2\.1 T2V .*transformer.*, fp16, .*, with its text encoder and VAE\)$/);
  });

  it('says what one part is and which parts are still needed', async () => {
    const r = await run(['models', 'add', comfy.transformer]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^WAN 2\.1 T2V .*transformer.*, fp16, \d+ (KB|MB) — choose its text encoder and VAE too: add them in one command/);
    const two = await run(['models', 'add', comfy.transformer, comfy.vae, '--json']);
    expect(two.code).toBe(3);
    expect(JSON.parse(two.stdout)).toMatchObject({ error: { code: 'incomplete', message: expect.stringMatching(/— choose its text encoder too/) }, found: [{ part: 'transformer' }, { part: 'vae' }] });
  });

  it('prepares the three parts added together, and generates a video with it', async () => {
    const r = await run(['models', 'add', comfy.transformer, comfy.textEncoder, comfy.vae, '--name', 'Tiny WAN']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^Found: WAN 2\.1 T2V .*, fp16, .* \(chosen files\)\n/);
    expect(r.stdout).toMatch(/^Prepared: tiny-wan \(model hash [0-9a-f]{10}\) — /);
    expect(r.stdout).toContain('studio generate --type video_fast --model tiny-wan');

    const list = JSON.parse((await run(['models', 'list', '--json'])).stdout) as ModelJson[];
    expect(list.find((m) => m.id === 'tiny-wan')).toMatchObject({ family: 'wan', status: 'ready', name: 'Tiny WAN' });
    // The ComfyUI folder those files came from is no longer offered for preparation; the diffusers folder still is.
    expect(list.map((m) => m.id)).toEqual(['tiny-wan', 'checkpoint:Wan2.1-T2V-tiny-Diffusers']);

    // The test tokenizer's ids run past the tiny encoder's 512: a prompt whose ids stay below.
    const job = await run(['generate', '--type', 'video_fast', '--model', 'tiny-wan', '--prompt', 'A red fox runs through a snowy forest', '--seed', '3', '--steps', '2', '--frames', '5', '--width', '256', '--height', '256', '--wait', '--json']);
    expect(job.code, job.stderr).toBe(0);
    expect((JSON.parse(job.stdout) as { files: string[] }).files).toHaveLength(1);
  });
});
