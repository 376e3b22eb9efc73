/**
 * Preparing a creator's SDXL checkpoint — as A1111/ComfyUI/Civitai single files (fp32, bf16, with
 * and without a VAE inside, a separate VAE file) and as a diffusers folder (fp16 variant, sharded
 * UNet) — and generating with it: the same tiny weights give the same pictures whatever layout
 * they arrive in, nothing is copied, a second preparation reuses the first, and a cancelled or
 * failed one leaves nothing behind.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareCheckpoint, PrepareCancelledError } from '../../../src-main/engine/checkpoints/prepare.ts';
import type { PrepareProgress } from '../../../src-main/engine/checkpoints/prepare.ts';
import { readPreparedManifest } from '../../../src-main/engine/checkpoints/prepared.ts';
import { validateSdxl } from '../../../src-main/engine/models/sdxl-validator.ts';
import { SdxlPipeline } from '../../../src-main/engine/pipelines/sdxl/index.ts';
import { decodePng } from '../../../src-main/engine/media/png-decode.ts';
import { resolveRequest } from '../../../src-preload/contract/catalog.ts';
import { writeSafetensors } from '../../../src-main/engine/weights/safetensors-write.ts';
import { WeightFileError } from '../../../src-main/engine/weights/errors.ts';
import { writeTinySdxlDiffusers } from '../../fixtures/checkpoints/sdxl-tiny.ts';
import { tinySdxlSingleFileTensors, writeTinySdxlSingleFile } from '../../fixtures/checkpoints/sdxl-single-file.ts';
import { makeTempDir } from '../fixtures/ort-helpers.ts';

let tmp: { dir: string; cleanup: () => Promise<void> };
const pipeline = new SdxlPipeline();
const models = (): string => join(tmp.dir, 'models');

beforeAll(async () => {
  tmp = await makeTempDir('prepare');
});
afterAll(async () => {
  await pipeline.unload();
  await tmp.cleanup();
});

async function generate(folder: string, name: string): Promise<Uint8Array[]> {
  const stagingDir = join(tmp.dir, `out-${name}`);
  await mkdir(stagingDir);
  const { type, params } = resolveRequest(
    { type: 'sdxl_image_fast', prompt: 'a lighthouse at dusk', negativePrompt: 'blurry', seed: 42, steps: 3, width: 256, height: 256, guidance: 5 },
    () => 0,
  );
  const result = await pipeline.run(
    { jobId: name, jobType: type, params, model: { id: name, family: 'sdxl', path: folder }, enhancer: null, stagingDir, maxBatch: 6, providers: ['cpu'] },
    { signal: new AbortController().signal, progress: () => undefined, log: () => undefined },
  );
  expect(result.outputs).toHaveLength(6);
  return result.outputs.map((o) => decodePng(readFileSync(o.file)).data);
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function onlyPreparedFolders(): string[] {
  return existsSync(models()) ? readdirSync(models()).sort() : [];
}

describe('preparing SDXL checkpoints', () => {
  let reference: Uint8Array[];

  it('prepares a single-file checkpoint (fp32, VAE inside) by pointing graphs into it, and generates', async () => {
    const ckpt = join(tmp.dir, 'tinyXL_v1.safetensors');
    await writeTinySdxlSingleFile(ckpt, { dtype: 'F32', withVae: true, extras: true });
    const progress: PrepareProgress[] = [];
    const result = await prepareCheckpoint({ source: ckpt, modelsDir: models(), onProgress: (p) => progress.push(p) });
    expect(result.reused).toBe(false);
    expect(result.id).toBe('tinyxl_v1');
    const m = result.manifest;
    expect(m).toMatchObject({ kind: 'sdxl_single_file', name: 'tinyXL_v1', prediction: 'epsilon', precision: 'fp32' });
    expect(m.sha256).toBe(sha256(ckpt));
    expect(m.shortHash).toBe(m.sha256.slice(0, 10));
    expect(m.description).toMatch(/^SDXL checkpoint, fp32, \d+ MB, VAE included$/);
    // Progress runs from 0 to 1 through hashing; the last report is complete.
    expect(progress.some((p) => p.phase === 'hashing')).toBe(true);
    expect(progress.at(-1)).toMatchObject({ fraction: 1 });
    expect(progress.map((p) => p.fraction)).toEqual([...progress.map((p) => p.fraction)].sort((a, b) => a - b));
    // Nothing copied: the graphs and configs are a small fraction of the checkpoint.
    const folderBytes = (dir: string): number =>
      readdirSync(dir, { withFileTypes: true }).reduce((s, e) => s + (e.isDirectory() ? folderBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);
    const tokenizers = folderBytes(join(result.folder, 'tokenizer')) + folderBytes(join(result.folder, 'tokenizer_2'));
    expect(folderBytes(result.folder) - tokenizers).toBeLessThan(statSync(ckpt).size / 20);
    for (const c of ['unet', 'text_encoder', 'text_encoder_2', 'vae_decoder']) {
      expect(existsSync(join(result.folder, c, 'model.onnx')), c).toBe(true);
      expect(existsSync(join(result.folder, c, 'model.gpu.onnx')), c).toBe(true);
    }
    expect(validateSdxl(result.folder).problems).toEqual([]);
    reference = await generate(result.folder, 'single-f32');
    expect(new Set(reference.map((p) => Buffer.from(p).toString('base64'))).size).toBe(6);
  }, 120_000);

  it('reuses the first preparation of an unchanged file', async () => {
    const ckpt = join(tmp.dir, 'tinyXL_v1.safetensors');
    const again = await prepareCheckpoint({ source: ckpt, modelsDir: models(), name: 'another name' });
    expect(again).toMatchObject({ reused: true, id: 'tinyxl_v1' });
    expect(onlyPreparedFolders()).toEqual(['tinyxl_v1']);
  });

  it('gives the same pictures from a diffusers folder (sharded UNet) of the same weights', async () => {
    const dir = join(tmp.dir, 'tiny-diffusers');
    await writeTinySdxlDiffusers(dir, { dtype: 'F32', shards: { unet: 3 } });
    const result = await prepareCheckpoint({ source: dir, modelsDir: models(), variants: ['cpu'] });
    expect(result.manifest).toMatchObject({ kind: 'sdxl_diffusers', name: 'tiny-diffusers', precision: 'fp32' });
    expect(result.manifest.sources).toHaveLength(6);
    expect(existsSync(join(result.folder, 'unet', 'model.gpu.onnx'))).toBe(false);
    const images = await generate(result.folder, 'diffusers-f32');
    for (let i = 0; i < 6; i++) expect(Buffer.from(images[i]!).equals(Buffer.from(reference[i]!)), `image ${i}`).toBe(true);
  }, 120_000);

  it('needs a VAE for a checkpoint without one, and takes a separate VAE file (LDM naming)', async () => {
    const ckpt = join(tmp.dir, 'novae_bf16.safetensors');
    await writeTinySdxlSingleFile(ckpt, { dtype: 'BF16', withVae: false });
    const refusal = await prepareCheckpoint({ source: ckpt, modelsDir: models() }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(WeightFileError);
    expect((refusal as Error).message).toBe('novae_bf16.safetensors has no VAE inside: choose a VAE file for it (the standard SDXL VAE, sdxl_vae.safetensors, or the fp16-fix VAE)');
    expect(onlyPreparedFolders()).toEqual(['tiny-diffusers', 'tinyxl_v1']);

    const vaeFile = join(tmp.dir, 'vae', 'sdxl_vae.safetensors');
    await mkdir(join(tmp.dir, 'vae'));
    const vaeTensors = tinySdxlSingleFileTensors({ dtype: 'F32', withVae: true })
      .filter((t) => t.name.startsWith('first_stage_model.'))
      .map((t) => ({ ...t, name: t.name.slice('first_stage_model.'.length) }));
    await writeSafetensors(vaeFile, vaeTensors);
    const result = await prepareCheckpoint({ source: ckpt, vae: vaeFile, modelsDir: models(), variants: ['cpu'] });
    expect(result.manifest).toMatchObject({ precision: 'bf16', vae: { realPath: vaeFile } });
    const weights = JSON.parse(readFileSync(join(result.folder, 'vae_decoder', 'weights.json'), 'utf8')) as { folder: string };
    expect(weights.folder).toBe(join(tmp.dir, 'vae'));
    const images = await generate(result.folder, 'single-bf16-vae');
    expect(images).toHaveLength(6);
  }, 120_000);

  it('refuses what is not an SDXL checkpoint with its sentence, leaving nothing', async () => {
    const lora = join(tmp.dir, 'add_detail.safetensors');
    await writeSafetensors(lora, [{ name: 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight', dtype: 'F16', shape: [4, 8], data: new Uint8Array(64) }]);
    await expect(prepareCheckpoint({ source: lora, modelsDir: models() })).rejects.toThrow(/add_detail\.safetensors is a LoRA, not a checkpoint/);
    expect(onlyPreparedFolders().filter((n) => n.startsWith('.') || n.includes('add_detail'))).toEqual([]);
  });

  it('a cancelled preparation leaves nothing and can be started again', async () => {
    const ckpt = join(tmp.dir, 'cancel_me.safetensors');
    await writeTinySdxlSingleFile(ckpt, { dtype: 'F16', withVae: true });
    const controller = new AbortController();
    const cancelled = await prepareCheckpoint({
      source: ckpt,
      modelsDir: models(),
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'hashing') controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(cancelled).toBeInstanceOf(PrepareCancelledError);
    expect(onlyPreparedFolders().filter((n) => n.startsWith('.') || n.startsWith('cancel'))).toEqual([]);
    const done = await prepareCheckpoint({ source: ckpt, modelsDir: models(), variants: ['cpu'] });
    expect(readPreparedManifest(done.folder)).toMatchObject({ name: 'cancel_me', precision: 'fp16' });
  });
});
