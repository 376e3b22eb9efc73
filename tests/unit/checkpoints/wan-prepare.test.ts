/**
 * WAN 2.1 prepared from the files creators have: the tiny model written in each layout the
 * fixtures know (wan-layouts.ts) is prepared into the pipeline's layout and runs a job in-process
 * through WanPipeline; each layout gives the diffusers layout's frames for the same weights (the
 * fp8-scaled text encoder: close, within a bound). Reuse, cancel, refusals and a moved file.
 *
 * The test tokenizer's ids run to 1499 and the tiny encoder has 512, so the prompts are ones whose
 * ids stay below 512.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareCheckpoint, PrepareCancelledError } from '../../../src-main/engine/checkpoints/prepare.ts';
import type { PrepareProgress } from '../../../src-main/engine/checkpoints/prepare.ts';
import { readPreparedManifest } from '../../../src-main/engine/checkpoints/prepared.ts';
import { OrtRuntime } from '../../../src-main/engine/inference/runtime.ts';
import { decodePng } from '../../../src-main/engine/media/png.ts';
import { validateWan } from '../../../src-main/engine/models/wan-validator.ts';
import { WanPipeline } from '../../../src-main/engine/pipelines/wan/index.ts';
import { loadWanModel } from '../../../src-main/engine/pipelines/wan/model.ts';
import { PipelineError } from '../../../src-main/engine/pipelines/types.ts';
import { floatTensor, inputSpec, intTensor, outputFloat32 } from '../../../src-main/engine/pipelines/common/session-io.ts';
import type { JobParams } from '../../../src-preload/contract/catalog.ts';
import { ModelPreparer } from '../../../src-main/engine/checkpoints/preparer.ts';
import { inWanNaming, writeComfyModels, writeHeaderOnly, writeSharded, writeWanAiRelease, writeWanDiffusers, tinyCanonical } from '../../fixtures/checkpoints/wan-layouts.ts';
import { statePickle } from '../../fixtures/checkpoints/pth-write.ts';
import { writeZip } from '../../fixtures/checkpoints/pth-zip.ts';
import { fakeContext, tempDir, wanParams, wanRequest } from '../wan/helpers.ts';

let tmp: { dir: string; cleanup: () => Promise<void> };
let runtime: OrtRuntime;
let pipeline: WanPipeline;
let jobs = 0;

const PROMPT = 'A red fox runs through a snowy forest';
const NEGATIVE = 'the sea at night';

beforeAll(async () => {
  tmp = await tempDir('wan-prepare');
  runtime = new OrtRuntime({ sessionOptions: { intraOpNumThreads: 2, logSeverityLevel: 3 } });
  pipeline = new WanPipeline({ runtime, x264Preset: 'ultrafast' });
});
afterAll(async () => {
  await pipeline.unload();
  await tmp.cleanup();
});

const modelsDir = (): string => join(tmp.dir, 'models');

function params(overrides: Partial<JobParams> = {}): JobParams {
  return wanParams({ prompt: PROMPT, negativePrompt: NEGATIVE, steps: 2, guidance: 5, width: 32, height: 32, frames: 1, ...overrides });
}

async function run(folder: string, p: JobParams) {
  const dir = join(tmp.dir, `staging-${jobs++}`);
  await mkdir(dir, { recursive: true });
  const ctx = fakeContext();
  const result = await pipeline.run(wanRequest(folder, dir, p), ctx);
  return { dir, ctx, result };
}

/** The RGB pixels of a one-frame job's PNG. */
async function imagePixels(folder: string): Promise<Uint8Array> {
  const { result } = await run(folder, params());
  const png = decodePng(await readFile(result.outputs[0]!.file));
  return png.data;
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('a diffusers folder', () => {
  let source: string;
  let prepared: string;
  let reference: Uint8Array;

  beforeAll(async () => {
    source = join(tmp.dir, 'Wan2.1-T2V-tiny-Diffusers');
    await writeWanDiffusers(source);
  });

  it('prepares into the WAN layout, loads, and runs a 2-step 5-frame video job', async () => {
    const progress: PrepareProgress[] = [];
    const result = await prepareCheckpoint({ source, modelsDir: modelsDir(), onProgress: (p) => progress.push(p) });
    prepared = result.folder;
    expect(result.reused).toBe(false);
    expect(result.id).toBe('wan2.1-t2v-tiny-diffusers');
    const files = (await readdir(prepared)).sort();
    expect(files).toEqual(['model_index.json', 'prepared.json', 'scheduler', 'text_encoder', 'tokenizer', 'transformer', 'vae_decoder']);
    for (const c of ['text_encoder', 'transformer', 'vae_decoder']) expect((await readdir(join(prepared, c))).sort()).toEqual(c === 'vae_decoder' ? ['config.json', 'model.gpu.onnx', 'model.onnx', 'weights.json'] : ['model.gpu.onnx', 'model.onnx', 'weights.json']);
    expect((await readdir(join(prepared, 'tokenizer'))).sort()).toEqual(['spiece.model', 'tokenizer.json', 'tokenizer_config.json']);
    expect(JSON.parse(await readFile(join(prepared, 'model_index.json'), 'utf8'))).toMatchObject({ _class_name: 'WanPipeline' });
    const weights = JSON.parse(await readFile(join(prepared, 'transformer', 'weights.json'), 'utf8')) as { folder: string };
    expect(weights.folder).toBe(join(source, 'transformer'));
    const manifest = readPreparedManifest(prepared)!;
    expect(manifest).toMatchObject({ kind: 'wan_diffusers', input: source, prediction: 'flow_prediction', precision: 'fp32', wan: { size: null, textDim: 64, tokenizer: 'tokenizer.json' } });
    expect(manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
    // transformer (1 file), text encoder (2 shards), VAE (1 file)
    expect(manifest.sources.map((s) => s.path.slice(source.length + 1))).toEqual([
      'transformer/diffusion_pytorch_model.safetensors',
      'text_encoder/model-00001-of-00002.safetensors',
      'text_encoder/model-00002-of-00002.safetensors',
      'vae/diffusion_pytorch_model.safetensors',
    ]);
    expect(progress.at(-1)).toMatchObject({ phase: 'writing', fraction: 1 });
    expect(validateWan(prepared)).toEqual({ problems: [], precision: 'fp32' });

    const model = await loadWanModel(runtime, prepared, ['cpu']);
    expect(model.text.width).toBe(64);

    const { ctx, result: job } = await run(prepared, params({ frames: 5, steps: 2 }));
    expect(job.outputs).toHaveLength(1);
    expect(job.outputs[0]).toMatchObject({ kind: 'video', frameCount: 5, width: 32, height: 32 });
    expect(existsSync(job.outputs[0]!.file)).toBe(true);
    expect(ctx.updates.filter((u) => u.stage === 'denoising').map((u) => [u.step, u.of])).toEqual([[1, 2], [2, 2]]);
    reference = await imagePixels(prepared);
  });

  it('writes GPU graphs (fp16, fused attention) that load with their weights and agree with the fp32 graphs', async () => {
    // Run here on the CPU provider: the same graphs a GPU provider gets, checked for their inputs, outputs and values.
    const pair = async (component: string) => {
      const { folder } = JSON.parse(await readFile(join(prepared, component, 'weights.json'), 'utf8')) as { folder: string };
      const cpu = (await runtime.session(join(prepared, component, 'model.onnx'), { providers: ['cpu'], externalDataFolder: folder })).session;
      const gpu = (await runtime.session(join(prepared, component, 'model.gpu.onnx'), { providers: ['cpu'], externalDataFolder: folder })).session;
      return { cpu, gpu };
    };
    const noise = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.8);
    const relative = (a: Float32Array, b: Float32Array) => {
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < a.length; i++) {
        diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
        scale = Math.max(scale, Math.abs(b[i]!));
      }
      return diff / scale;
    };

    const text = await pair('text_encoder');
    expect(inputSpec(text.gpu, 'input_ids', 'text_encoder').type).toBe('int64');
    const ids = new Int32Array([266, 472, 505, 344, 259, 1, 0, 0]);
    const mask = new Int32Array([1, 1, 1, 1, 1, 1, 0, 0]);
    const textOut = async (session: typeof text.cpu) =>
      outputFloat32(
        await session.run({ input_ids: intTensor(inputSpec(session, 'input_ids', 't'), ids, [1, 8]), attention_mask: intTensor(inputSpec(session, 'attention_mask', 't'), mask, [1, 8]) }),
        'last_hidden_state',
        'text_encoder',
      ).data;
    const states32 = await textOut(text.cpu);
    // fp16 against fp32, relative to the largest value: 1.0e-3 measured for the text states, 6.7e-4 for the velocity.
    expect(relative(await textOut(text.gpu), states32)).toBeLessThan(3e-3);

    const transformer = await pair('transformer');
    expect(inputSpec(transformer.gpu, 'hidden_states', 'transformer').type).toBe('float16');
    const latents = noise(16 * 2 * 4 * 4, 1);
    const velocity = async (session: typeof transformer.cpu) =>
      outputFloat32(
        await session.run({
          hidden_states: floatTensor(inputSpec(session, 'hidden_states', 't'), latents, [1, 16, 2, 4, 4]),
          timestep: floatTensor(inputSpec(session, 'timestep', 't'), new Float32Array([700]), [1]),
          encoder_hidden_states: floatTensor(inputSpec(session, 'encoder_hidden_states', 't'), states32, [1, 8, 64]),
        }),
        'sample',
        'transformer',
      ).data;
    expect(relative(await velocity(transformer.gpu), await velocity(transformer.cpu))).toBeLessThan(3e-3);
    for (const c of ['text_encoder', 'transformer', 'vae_decoder']) {
      expect((await readFile(join(prepared, c, 'model.gpu.onnx'))).includes('MultiHeadAttention'), c).toBe(true);
      expect((await readFile(join(prepared, c, 'model.onnx'))).includes('MultiHeadAttention'), c).toBe(false);
    }

    const vae = await pair('vae_decoder');
    expect(inputSpec(vae.gpu, 'latent_sample', 'vae_decoder').type).toBe('float32');
  });

  it('is reused when the same unchanged folder is added again', async () => {
    const again = await prepareCheckpoint({ source, modelsDir: modelsDir() });
    expect(again).toMatchObject({ reused: true, id: 'wan2.1-t2v-tiny-diffusers' });
    expect((await readdir(modelsDir())).filter((f) => !f.startsWith('.'))).toEqual(['wan2.1-t2v-tiny-diffusers']);
  });

  it("gives the same frames from ComfyUI's files and Wan-AI's release of the same weights", async () => {
    // The same weights as a diffusers folder whose text encoder has the precision the other layout stores.
    const twin = async (textDtype: 'F16' | 'BF16'): Promise<Uint8Array> => {
      const dir = join(tmp.dir, `diffusers-${textDtype.toLowerCase()}-text`);
      await writeWanDiffusers(dir);
      await writeSharded(join(dir, 'text_encoder'), 'model', tinyCanonical('text_encoder', textDtype), 2);
      return imagePixels((await prepareCheckpoint({ source: dir, modelsDir: modelsDir() })).folder);
    };

    // ComfyUI's files chosen one by one (Wan-AI naming; fp16 UMT5 with spiece_model inside).
    const comfy = join(tmp.dir, 'comfy', 'models');
    const files = await writeComfyModels(comfy, { transformerDtype: 'F32', textDtype: 'F16', vaeDtype: 'F32' });
    const fromFiles = await prepareCheckpoint({ source: files.transformer, sources: [files.transformer, files.textEncoder, files.vae], modelsDir: modelsDir() });
    expect(readPreparedManifest(fromFiles.folder)).toMatchObject({ kind: 'wan_files', wan: { tokenizer: 'spiece_model' } });
    expect(await readdir(join(fromFiles.folder, 'tokenizer'))).toEqual(['spiece.model']);
    expect(validateWan(fromFiles.folder).problems).toEqual([]);
    expect(maxDiff(await imagePixels(fromFiles.folder), await twin('F16'))).toBe(0);

    // The models/ folder holding the same three files is the same model: the preparation is reused.
    const tree = await prepareCheckpoint({ source: comfy, modelsDir: modelsDir(), name: 'comfy tree' });
    expect(tree).toMatchObject({ reused: true, id: fromFiles.id });

    // Wan-AI's release: fp32 transformer and VAE (.pth), bf16 text encoder (.pth), google/umt5-xxl/.
    const wanAi = join(tmp.dir, 'Wan2.1-T2V-tiny');
    await writeWanAiRelease(wanAi);
    const fromWanAi = await prepareCheckpoint({ source: wanAi, modelsDir: modelsDir() });
    expect(readPreparedManifest(fromWanAi.folder)).toMatchObject({ kind: 'wan_ai', wan: { tokenizer: 'tokenizer.json' } });
    expect(maxDiff(await imagePixels(fromWanAi.folder), await twin('BF16'))).toBe(0);
  });

  it('gives close frames from the fp8-scaled ComfyUI text encoder', async () => {
    const comfy = join(tmp.dir, 'comfy-fp8', 'models');
    const files = await writeComfyModels(comfy, { transformerDtype: 'F32', textDtype: 'F8_E4M3', vaeDtype: 'F32' });
    expect(files.textEncoder).toMatch(/fp8_e4m3fn_scaled/);
    const result = await prepareCheckpoint({ source: comfy, modelsDir: modelsDir(), name: 'comfy fp8' });
    expect(readPreparedManifest(result.folder)).toMatchObject({ kind: 'wan_comfyui', name: 'comfy fp8', wan: { tokenizer: 'spiece_model' } });
    expect(readPreparedManifest(result.folder)!.wan!.parts.textEncoder.precision).toMatch(/scaled/);
    const diff = maxDiff(await imagePixels(result.folder), reference);
    expect(diff).toBeGreaterThan(0);
    expect(diff).toBeLessThanOrEqual(FP8_BOUND);
  });
});

/**
 * Max pixel difference (0–255) of a one-frame job with the fp8-scaled text encoder against its
 * fp32 weights: 3 measured (e4m3 keeps 3 mantissa bits; the text states differ by a few percent and
 * the tiny transformer carries that into the frame); twice that allowed.
 */
const FP8_BOUND = 6;

describe('refusals, cancel and moved files', () => {
  it('refuses a set with a part missing, in the sentence wan-sets gives', async () => {
    const files = await writeComfyModels(join(tmp.dir, 'comfy-missing', 'models'), {});
    await expect(prepareCheckpoint({ source: files.transformer, sources: [files.transformer, files.vae], modelsDir: join(tmp.dir, 'models-missing') })).rejects.toThrow(
      /^The chosen files have no WAN text encoder: a WAN 2\.1 model needs its transformer, text encoder and VAE — add /,
    );
    await expect(prepareCheckpoint({ source: files.transformer, modelsDir: join(tmp.dir, 'models-missing') })).rejects.toThrow(/^The chosen files have no WAN text encoder/);
    expect(existsSync(join(tmp.dir, 'models-missing')) ? await readdir(join(tmp.dir, 'models-missing')) : []).toEqual([]);
  });

  it('leaves nothing behind when cancelled', async () => {
    const source = join(tmp.dir, 'cancel-me');
    await writeWanDiffusers(source);
    const dir = join(tmp.dir, 'models-cancel');
    const controller = new AbortController();
    const pending = prepareCheckpoint({
      source,
      modelsDir: dir,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'hashing' || p.phase === 'writing') controller.abort();
      },
    });
    await expect(pending).rejects.toBeInstanceOf(PrepareCancelledError);
    expect(existsSync(dir) ? await readdir(dir) : []).toEqual([]);
  });

  it('says so when a file the model was prepared from has moved', async () => {
    const source = join(tmp.dir, 'will-move');
    await writeWanDiffusers(source);
    const dir = join(tmp.dir, 'models-move');
    const { folder } = await prepareCheckpoint({ source, modelsDir: dir });
    await rename(join(source, 'vae', 'diffusion_pytorch_model.safetensors'), join(source, 'vae', 'moved.safetensors'));
    const expected = `vae_decoder: ${join(source, 'vae', 'diffusion_pytorch_model.safetensors')}, which this model was prepared from, is gone (moved, renamed, or its drive is not connected) — put it back or add the model again`;
    expect(validateWan(folder).problems).toEqual([expected]);
    await expect(loadWanModel(runtime, folder, ['cpu'])).rejects.toEqual(new PipelineError('model_invalid', expected));
  });

  it("refuses a .pth whose tensor data is compressed (it cannot be read in place)", async () => {
    const source = join(tmp.dir, 'wan-ai-deflated');
    await writeWanAiRelease(source);
    const tensors = inWanNaming('vae', tinyCanonical('vae', 'F32')).map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: t.data as Uint8Array }));
    const folder = 'Wan2.1_VAE';
    const records = [
      { name: `${folder}/data.pkl`, data: statePickle(tensors) },
      { name: `${folder}/byteorder`, data: Buffer.from('little') },
      ...tensors.map((t, key) => ({ name: `${folder}/data/${key}`, data: t.data, method: 8 as const })),
      { name: `${folder}/version`, data: Buffer.from('3\n') },
    ];
    await writeFile(join(source, 'Wan2.1_VAE.pth'), writeZip(records, { descriptors: true, align: 64 }).bytes);
    await expect(prepareCheckpoint({ source, modelsDir: join(tmp.dir, 'models-deflated') })).rejects.toThrow(/Wan2\.1_VAE\.pth: its tensor data ".*" is compressed, so the studio cannot read it in place/);
  });
});

describe('Add model (the preparer)', () => {
  it('says what one WAN part is and which parts are still needed, then checks the three together', async () => {
    const files = await writeComfyModels(join(tmp.dir, 'comfy-inspect', 'models'), { transformerDtype: 'BF16', textDtype: 'F16', vaeDtype: 'BF16' });
    const preparer = new ModelPreparer({ modelsDir: join(tmp.dir, 'models-inspect'), onChange: () => undefined, onPrepared: () => undefined });
    const one = await preparer.inspect(files.transformer);
    expect(one).toMatchObject({ ok: true, kind: 'wan_part', suggestedName: 'wan2.1_t2v_tiny_bf16', wan: { missing: ['textEncoder', 'vae'] } });
    expect(one.ok && one.description).toMatch(/^WAN 2\.1 T2V transformer \(256 wide, 2 blocks\), bf16, \d+ MB — choose its text encoder and VAE too$/);
    const two = await preparer.inspect(files.vae, [files.vae, files.textEncoder]);
    expect(two.ok && two.description).toMatch(/^WAN 2\.1 VAE, bf16, .* — choose its transformer too$/);
    const all = await preparer.inspect(files.transformer, [files.transformer, files.textEncoder, files.vae]);
    expect(all).toMatchObject({ ok: true, kind: 'wan_model', preparedAs: null, wan: { missing: [] } });
    expect(all.ok && all.wan!.parts.map((p) => p.part)).toEqual(['transformer', 'textEncoder', 'vae']);
    expect(all.ok && all.description).toMatch(/^WAN 2\.1 T2V \(256 wide, 2 blocks\), bf16, \d+ MB \(chosen files\)$/);
    const gone = await preparer.inspect(files.transformer, [files.transformer, join(tmp.dir, 'nope.safetensors')]);
    expect(gone.ok).toBe(false);
  });

  it("names a released transformer's size and precision, and the parts it still needs", async () => {
    // ComfyUI's wan2.1_t2v_1.3B_bf16.safetensors as a header with the real shapes (a sparse file: no data written).
    const names = JSON.parse(readFileSync(new URL('../../fixtures/reference/wan/layouts-names.json', import.meta.url), 'utf8')) as Record<string, Record<string, { pairs?: [string, string, number[]][]; canonical?: [string, number[]][] }>>;
    const part = names['1.3B']!.transformer!;
    const shapes = part.pairs ? part.pairs.map(([, c, shape]) => [c, shape] as const) : part.canonical!;
    const path = join(tmp.dir, 'full', 'wan2.1_t2v_1.3B_bf16.safetensors');
    await writeHeaderOnly(path, inWanNaming('transformer', shapes.map(([name, shape]) => ({ name, dtype: 'BF16' as const, shape: [...shape], data: new Uint8Array(0) }))));
    const preparer = new ModelPreparer({ modelsDir: join(tmp.dir, 'models-inspect'), onChange: () => undefined, onPrepared: () => undefined });
    expect(await preparer.inspect(path)).toMatchObject({ ok: true, kind: 'wan_part', description: 'WAN 2.1 T2V 1.3B transformer, bf16, 2.8 GB — choose its text encoder and VAE too' });

    // With the tiny model's text encoder and VAE: parts of different models, refused in wan-sets' sentence (by Add model and by preparing).
    const tiny = await writeComfyModels(join(tmp.dir, 'comfy-mismatch', 'models'));
    const mismatch = /^wan2\.1_t2v_1\.3B_bf16\.safetensors reads 4096-wide text states but the text encoder .* gives 64-wide ones: they belong to different models — use the UMT5-XXL encoder WAN 2\.1 ships$/;
    const inspected = await preparer.inspect(path, [path, tiny.textEncoder, tiny.vae]);
    expect(inspected.ok).toBe(false);
    expect(!inspected.ok && inspected.message).toMatch(mismatch);
    await expect(prepareCheckpoint({ source: path, sources: [path, tiny.textEncoder, tiny.vae], modelsDir: join(tmp.dir, 'models-mismatch') })).rejects.toThrow(mismatch);
  });
});
