/**
 * A creator's SDXL checkpoint from the command line: `studio models list` shows it as "to prepare"
 * where it lies, `studio models add` says what it is and prepares it (a second add reuses the
 * first), `studio generate --model` runs it, and each picture names the model and A1111's model
 * hash — never a path on this machine. A file that is not an SDXL checkpoint gets its sentence.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPngChunks } from '../../src-main/engine/media/png-chunks.ts';
import { writeSafetensors } from '../../src-main/engine/weights/safetensors-write.ts';
import { writeTinySdxlSingleFile } from '../fixtures/checkpoints/sdxl-single-file.ts';
import { studio } from '../helpers/cli.ts';

let root: string;
let ckpts: string;
let data: string;
let ckpt: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'models-add-'));
  ckpts = join(root, 'Stable-diffusion');
  data = join(root, 'data');
  mkdirSync(ckpts);
  ckpt = join(ckpts, 'tinyXL_v10.safetensors');
  await writeTinySdxlSingleFile(ckpt, { dtype: 'F16', withVae: true, extras: true });
  await writeSafetensors(join(ckpts, 'detail_slider.safetensors'), [{ name: 'lora_unet_mid_block_attentions_0_proj_in.lora_up.weight', dtype: 'F16', shape: [8, 4], data: new Uint8Array(64) }]);
  await writeSafetensors(join(ckpts, 'v1-5-pruned.safetensors'), [
    { name: 'model.diffusion_model.input_blocks.0.0.weight', dtype: 'F16', shape: [4], data: new Uint8Array(8) },
    { name: 'cond_stage_model.transformer.text_model.final_layer_norm.weight', dtype: 'F16', shape: [4], data: new Uint8Array(8) },
  ]);
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const run = (args: string[]) => studio(['--data', data, '--models', ckpts, ...args], { timeoutMs: 180_000 });

interface ModelJson {
  id: string;
  status: string;
  name: string;
  hash: string | null;
  description: string | null;
  problems: string[];
  path: string;
}

describe('studio models add', () => {
  it('lists the checkpoint as "to prepare" and an SD 1.5 file with its reason, not the LoRA', async () => {
    const r = await run(['models', 'list', '--json']);
    expect(r.code).toBe(0);
    const models = JSON.parse(r.stdout) as ModelJson[];
    expect(models.map((m) => [m.id, m.status])).toEqual([
      ['checkpoint:tinyXL_v10.safetensors', 'needs_preparation'],
      ['checkpoint:v1-5-pruned.safetensors', 'invalid'],
    ]);
    expect(models[0]!.description).toMatch(/^SDXL checkpoint, fp16, \d+ MB, VAE included$/);
    expect(models[1]!.problems[0]).toMatch(/Stable Diffusion 1\.5/);
    const text = await run(['models', 'list']);
    expect(text.stdout).toContain(`1 checkpoint is not prepared yet: studio models add "${ckpt}"`);
  });

  it('a job for a model that is not prepared says how to prepare it', async () => {
    const r = await run(['generate', '--type', 'sdxl_image_fast', '--prompt', 'x', '--wait', '--json', '--steps', '2', '--width', '256', '--height', '256']);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/tinyXL_v10 \(SDXL checkpoint, fp16, \d+ MB, VAE included\) has not been prepared yet: add it in the Models view, or run studio models add/);
  });

  it('prepares it with progress, then generates with it; pictures carry its name and model hash, no path', async () => {
    const r = await run(['models', 'add', ckpt, '--name', 'Tiny XL v1.0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^Found: SDXL checkpoint, fp16, \d+ MB, VAE included\n/);
    expect(r.stderr).toMatch(/preparing \[.*\] \d+% reading \(model hash\)/);
    const hash = createHash('sha256').update(readFileSync(ckpt)).digest('hex').slice(0, 10);
    expect(r.stdout).toContain(`Prepared: tiny-xl-v1.0 (model hash ${hash})`);

    const list = JSON.parse((await run(['models', 'list', '--json'])).stdout) as ModelJson[];
    expect(list.map((m) => [m.id, m.status, m.name, m.hash])).toEqual([
      ['tiny-xl-v1.0', 'ready', 'Tiny XL v1.0', hash],
      ['checkpoint:v1-5-pruned.safetensors', 'invalid', 'v1-5-pruned', null],
    ]);
    // The table says which model a job runs on when it names none.
    const table = (await run(['models', 'list'])).stdout;
    expect(table).toMatch(/^ID\s+FAMILY\s+DEFAULT\s+STATUS/m);
    expect(table).toMatch(/^tiny-xl-v1\.0\s+\S+\s+default\s+ready/m);
    expect(table).not.toMatch(/^checkpoint:v1-5-pruned\.safetensors\s+\S+\s+default/m);

    const again = await run(['models', 'add', ckpt, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ state: 'done', reused: true, modelId: 'tiny-xl-v1.0' });

    const job = await run(['generate', '--type', 'sdxl_image_fast', '--model', 'tiny-xl-v1.0', '--prompt', 'a lighthouse at dusk', '--seed', '7', '--steps', '2', '--width', '256', '--height', '256', '--count', '1', '--wait', '--json']);
    expect(job.code, job.stderr).toBe(0);
    const files = (JSON.parse(job.stdout) as { files: string[] }).files;
    expect(files).toHaveLength(1);
    const text = Object.fromEntries(
      readPngChunks(readFileSync(files[0]!))
        .filter((c) => c.type === 'tEXt' || c.type === 'iTXt')
        .map((c) => {
          const raw = Buffer.from(c.data);
          const key = raw.subarray(0, raw.indexOf(0)).toString('latin1');
          return [key, raw.toString('utf8')];
        }),
    );
    expect(text.parameters).toContain(`Model hash: ${hash}, Model: Tiny XL v1.0`);
    expect(text.ourvidz_recipe).toContain(`"hash":"${hash}"`);
    for (const chunk of Object.values(text)) {
      expect(chunk).not.toContain(root);
      expect(chunk).not.toContain('model.onnx');
    }
  });

  it('refuses a LoRA with its sentence and exit code 3', async () => {
    const r = await run(['models', 'add', join(ckpts, 'detail_slider.safetensors')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^detail_slider\.safetensors is a LoRA, not a checkpoint/);
  });
});
