/**
 * What the studio says about WAN 2.1 files and folders as they are published — each part on its
 * own, a whole model (diffusers folder, Wan-AI's release, ComfyUI's files), and one sentence for
 * each thing it will not take: image-to-video, first-last-frame, VACE and WAN 2.2 models, a LoRA,
 * a part missing from the set, parts of another model or size, truncated and lying files. Full-size
 * parts are real headers over sparse files (identification reads headers only); the tiny model is
 * written in each layout by tests/fixtures/checkpoints/wan-layouts.ts.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identify } from '../../../src-main/engine/checkpoints/identify.ts';
import { readWanParts } from '../../../src-main/engine/checkpoints/wan-identify.ts';
import { WeightFileError } from '../../../src-main/engine/weights/errors.ts';
import type { WeightDtype } from '../../../src-main/engine/weights/dtypes.ts';
import { writeSafetensors } from '../../../src-main/engine/weights/safetensors-write.ts';
import type { TensorToWrite } from '../../../src-main/engine/weights/safetensors-write.ts';
import {
  comfyUmt5Tensors,
  inWanNaming,
  tinyCanonical,
  wanAiConfig,
  writeComfyModels,
  writeHeaderOnly,
  writeTokenizerFolder,
  writeWanAiRelease,
  writeWanDiffusers,
} from '../../fixtures/checkpoints/wan-layouts.ts';
import type { WanLayoutPart } from '../../fixtures/checkpoints/wan-layouts.ts';
import { WAN_TRANSFORMER_CONFIGS } from '../../fixtures/checkpoints/wan-tiny.ts';

type Named = [string, number[]];
const reference = (file: string): unknown => JSON.parse(readFileSync(new URL(`../../fixtures/reference/wan/${file}`, import.meta.url), 'utf8'));
const names = reference('layouts-names.json') as Record<string, Record<WanLayoutPart, { pairs?: [string, string, number[]][]; canonical?: Named[] }>>;
const variants = reference('transformer-variant-shapes.json') as Record<string, Record<string, number[]>>;

/** Canonical names and shapes of a released part (the reference's diffusers / transformers names). */
function fullShapes(size: '1.3B' | '14B', part: WanLayoutPart): Named[] {
  const p = names[size]![part];
  return p.pairs ? p.pairs.map(([, c, s]) => [c, s]) : p.canonical!;
}

function specs(shapes: readonly Named[], dtype: (name: string, shape: readonly number[]) => WeightDtype): TensorToWrite[] {
  return shapes.map(([name, shape]) => ({ name, dtype: dtype(name, shape), shape, data: new Uint8Array(0) }));
}

const all = (d: WeightDtype) => (): WeightDtype => d;
/** ComfyUI's fp8_e4m3fn transformers: the blocks' linear weights in fp8, the rest in fp16. */
const fp8Linears = (name: string, shape: readonly number[]): WeightDtype => (/^blocks\.\d+\..*\.weight$/.test(name) && shape.length === 2 ? 'F8_E4M3' : 'F16');

/** Zero-filled tensors (identification and refusals read names and shapes). */
function zeros(tensors: readonly { name: string; dtype?: WeightDtype; shape: readonly number[] }[], dtype: WeightDtype = 'F16'): TensorToWrite[] {
  const width: Partial<Record<WeightDtype, number>> = { F32: 4, F16: 2, BF16: 2, U8: 1, F8_E4M3: 1 };
  return tensors.map((t) => ({ name: t.name, dtype: t.dtype ?? dtype, shape: t.shape, data: new Uint8Array(t.shape.reduce((a, b) => a * b, 1) * width[t.dtype ?? dtype]!) }));
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wan-identify-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refusal(paths: string | string[]): Promise<WeightFileError> {
  try {
    await readWanParts(paths);
  } catch (e) {
    if (e instanceof WeightFileError) return e;
    throw e;
  }
  throw new Error(`${String(paths)} was accepted`);
}

describe('WAN parts on their own, told from their headers', () => {
  it('describes the released parts at full size: 1.3B and 14B transformers (fp16, bf16, fp8), UMT5-XXL (fp16, scaled fp8), the VAE', async () => {
    const cases: readonly [string, TensorToWrite[], string, RegExp][] = [
      ['wan2.1_t2v_1.3B_bf16.safetensors', inWanNaming('transformer', specs(fullShapes('1.3B', 'transformer'), all('BF16'))), 'transformer', /^WAN 2\.1 T2V 1\.3B transformer, bf16, 2\.8 GB$/],
      ['wan2.1_t2v_1.3B_fp16.safetensors', specs(fullShapes('1.3B', 'transformer'), all('F16')), 'transformer', /^WAN 2\.1 T2V 1\.3B transformer, fp16, 2\.8 GB$/],
      ['wan2.1_t2v_14B_fp8_e4m3fn.safetensors', inWanNaming('transformer', specs(fullShapes('14B', 'transformer'), fp8Linears)), 'transformer', /^WAN 2\.1 T2V 14B transformer, fp8 e4m3, 14\.\d GB$/],
      ['umt5_xxl_fp16.safetensors', [...specs(fullShapes('14B', 'text_encoder'), all('F16')), { name: 'spiece_model', dtype: 'U8', shape: [4548313], data: new Uint8Array(0) }], 'textEncoder', /^UMT5-XXL text encoder, fp16, 11\.\d GB, tokenizer inside$/],
      ['wan_2.1_vae.safetensors', inWanNaming('vae', specs(fullShapes('1.3B', 'vae'), all('BF16'))), 'vae', /^WAN 2\.1 VAE, bf16, 254 MB$/],
    ];
    for (const [file, tensors, part, description] of cases) {
      const path = join(dir, 'full', file);
      await writeHeaderOnly(path, tensors);
      const found = await identify(path);
      expect(found).toMatchObject({ ok: true, kind: 'wan_part', part });
      expect(found.ok && found.description).toMatch(description);
      if (found.ok && found.kind === 'wan_part' && part === 'transformer') expect(found.size).toBe(file.includes('14B') ? '14B' : '1.3B');
    }
    // ComfyUI's scaled fp8 UMT5: fp8 linear weights, a one-element scale each, the marker.
    const fp8 = specs(fullShapes('1.3B', 'text_encoder'), (n, s) => (s.length === 2 && n.startsWith('encoder.block.') && !n.includes('relative_attention_bias') ? 'F8_E4M3' : 'F16'));
    const scales = fp8.filter((t) => t.dtype === 'F8_E4M3').map((t): TensorToWrite => ({ name: t.name.replace(/\.weight$/, '.scale_weight'), dtype: 'F32', shape: [], data: new Uint8Array(0) }));
    const path = join(dir, 'full', 'umt5_xxl_fp8_e4m3fn_scaled.safetensors');
    await writeHeaderOnly(path, [...fp8, ...scales, { name: 'scaled_fp8', dtype: 'F8_E4M3', shape: [0], data: new Uint8Array(0) }]);
    const found = await identify(path);
    expect(found.ok && found.description).toMatch(/^UMT5-XXL text encoder, fp8 e4m3 scaled, 6\.\d GB$/);
  });

  it("reads Wan-AI's .pth parts with the restricted reader, and keeps refusing every other PyTorch archive unread as a pickle", async () => {
    const release = join(dir, 'pth-release');
    await writeWanAiRelease(release);
    expect(await identify(join(release, 'Wan2.1_VAE.pth'))).toMatchObject({ ok: true, kind: 'wan_part', part: 'vae', naming: 'wan', description: 'WAN 2.1 VAE, fp32, 2 MB' });
    expect(await identify(join(release, 'models_t5_umt5-xxl-enc-bf16.pth'))).toMatchObject({ ok: true, kind: 'wan_part', part: 'textEncoder', naming: 'wan', description: 'UMT5 text encoder (64 wide, 3 layers), bf16, 412 KB' });
    const sdxlLike = join(dir, 'model.ckpt');
    await copyFile(new URL('../../fixtures/reference/pth/state-dict.pth', import.meta.url), sdxlLike);
    const hostile = join(dir, 'hostile.ckpt');
    await copyFile(new URL('../../fixtures/reference/pth/hostile-os-system.pth', import.meta.url), hostile);
    for (const path of [sdxlLike, hostile]) {
      const found = await identify(path);
      expect(found).toMatchObject({ ok: false, code: 'unsafe' });
      expect(!found.ok && found.sentence).toMatch(/is a PyTorch pickle file .* can run code when opened: convert it to \.safetensors first/);
    }
  });

  it.each([
    ['an image-to-video transformer (img_emb, k_img)', { 'img_emb.proj.0.weight': [1280], 'blocks.0.cross_attn.k_img.weight': [256, 256] }, /is a WAN image-to-video transformer \(it has an image embedder, img_emb, and image key\/value projections\)/],
    ['a first-last-frame transformer (img_emb.emb_pos)', { 'img_emb.emb_pos': [1, 514, 1280], 'img_emb.proj.0.weight': [1280] }, /is a WAN first-last-frame-to-video transformer \(FLF2V/],
    ['a VACE transformer', { 'vace_blocks.0.before_proj.weight': [256, 256], 'vace_patch_embedding.weight': [256, 96, 1, 2, 2] }, /is a WAN VACE transformer/],
  ] as const)('refuses %s in Wan-AI naming, in one sentence', async (_, extra, sentence) => {
    const tensors = [...zeros(inWanNaming('transformer', tinyCanonical('transformer', 'F16'))), ...zeros(Object.entries(extra).map(([name, shape]) => ({ name, shape })))];
    const path = join(dir, `variant-${Object.keys(extra)[0]}.safetensors`);
    await writeSafetensors(path, tensors);
    const found = await identify(path);
    expect(found).toMatchObject({ ok: false, code: 'wrong_kind', what: 'a WAN video transformer' });
    expect(!found.ok && found.sentence).toMatch(sentence);
    expect(!found.ok && found.sentence).toMatch(/choose a WAN 2\.1 text-to-video model \(T2V 1\.3B or 14B\)$/);
  });

  it.each([
    ['Wan2.1-I2V-14B-480P', 'diffusers', /is a WAN image-to-video transformer \(it has an image embedder and image key\/value projections/],
    ['Wan2.2-I2V-A14B', 'wan', /takes 36 input channels \(the 16 latent channels plus a first-frame image and its mask\): it is an image-to-video model such as WAN 2\.2 I2V/],
    ['Wan2.2-TI2V-5B', 'wan', /works on WAN 2\.2's 48-channel latent \(the TI2V 5B model/],
    ['Wan2.1-VACE-1.3B', 'diffusers', /is a WAN VACE transformer/],
  ] as const)('refuses the released %s transformer (%s naming, full size) by name', async (model, naming, sentence) => {
    const canonical = specs(Object.entries(variants[model]!), all('BF16'));
    const tensors = naming === 'wan' ? inWanNaming('transformer', canonical) : canonical;
    const path = join(dir, 'variants', `${model}.safetensors`);
    await writeHeaderOnly(path, tensors);
    const found = await identify(path);
    expect(found).toMatchObject({ ok: false, code: 'wrong_kind' });
    expect(!found.ok && found.sentence).toMatch(sentence);
  });

  it("refuses WAN 2.2's 48-channel VAE, a T5 that is not UMT5 (Flux's T5-XXL), a WAN LoRA — and a truncated part or a lying header", async () => {
    const vae22 = join(dir, 'wan2.2_vae.safetensors');
    const vae = zeros(tinyCanonical('vae', 'F16')).map((t) => (t.name === 'decoder.conv_in.weight' ? { ...t, shape: [32, 48, 3, 3, 3], data: new Uint8Array(32 * 48 * 27 * 2) } : t));
    await writeSafetensors(vae22, vae);
    expect(await identify(vae22)).toMatchObject({ ok: false, what: 'a WAN VAE', sentence: expect.stringMatching(/is WAN 2\.2's VAE \(48-channel latents, made for the TI2V 5B model\), not WAN 2\.1's 16-channel VAE/) });

    const t5 = join(dir, 't5xxl_fp16.safetensors');
    await writeSafetensors(t5, zeros(tinyCanonical('text_encoder', 'F16').filter((t) => !/block\.[12]\.layer\.0\.SelfAttention\.relative_attention_bias/.test(t.name))));
    expect(await identify(t5)).toMatchObject({ ok: false, what: 'a text encoder', sentence: expect.stringMatching(/is a T5 text encoder whose layers share one position bias \(T5-XXL as Flux and SD3 use it, or mT5\), not the UMT5-XXL encoder WAN was trained with/) });

    for (const [file, keys] of [
      ['wan_lora_peft.safetensors', { 'diffusion_model.blocks.0.cross_attn.k.lora_A.weight': [4, 256], 'diffusion_model.blocks.0.cross_attn.k.lora_B.weight': [256, 4] }],
      ['wan_lora_kohya.safetensors', { 'lora_unet_blocks_0_self_attn_q.lora_down.weight': [4, 256], 'lora_unet_blocks_0_self_attn_q.lora_up.weight': [256, 4] }],
    ] as const) {
      const path = join(dir, file);
      await writeSafetensors(path, zeros(Object.entries(keys).map(([name, shape]) => ({ name, shape }))));
      expect(await identify(path)).toMatchObject({ ok: false, what: 'a LoRA', sentence: expect.stringMatching(/is a LoRA for WAN, not a model: it only adjusts the WAN transformer it was trained on — add the WAN 2\.1 model itself/) });
    }

    const cut = join(dir, 'cut', 'wan2.1_t2v_tiny.safetensors');
    await mkdir(join(dir, 'cut'), { recursive: true });
    await writeSafetensors(cut, inWanNaming('transformer', tinyCanonical('transformer', 'BF16')));
    await truncate(cut, 1_000_000);
    expect(await identify(cut)).toMatchObject({ ok: false, code: 'truncated', sentence: expect.stringMatching(/is truncated: .* Download or copy it again\./) });

    const lying = join(dir, 'lying_vae.safetensors');
    await writeSafetensors(lying, inWanNaming('vae', zeros(tinyCanonical('vae', 'F16')).map((t) => (t.name === 'decoder.up_blocks.1.resnets.1.conv2.weight' ? { ...t, shape: [24, 23, 3, 3, 3], data: new Uint8Array(24 * 23 * 27 * 2) } : t))));
    expect(await identify(lying)).toMatchObject({ ok: false, code: 'wrong_kind', sentence: expect.stringMatching(/decoder\.up_blocks\.1\.resnets\.1\.conv2\.weight is \[24, 23, 3, 3, 3\] where this architecture needs \[24, 24, 3, 3, 3\] \(lying_vae\.safetensors: decoder\.upsamples\.4\.residual\.6\.weight\)/) });

    const lyingText = join(dir, 'lying_umt5.safetensors');
    await writeSafetensors(lyingText, zeros(tinyCanonical('text_encoder', 'F16')).map((t) => (t.name === 'encoder.block.2.layer.1.DenseReluDense.wo.weight' ? { ...t, shape: [64, 161], data: new Uint8Array(64 * 161 * 2) } : t)));
    expect(await identify(lyingText)).toMatchObject({ ok: false, sentence: expect.stringMatching(/encoder\.block\.2\.layer\.1\.DenseReluDense\.wo\.weight is \[64, 161\] where this architecture needs \[64, 160\]/) });
  });
});

describe('WAN 2.1 models as they are published, read as one model', () => {
  it('a diffusers folder (sharded transformer and text encoder), Wan-AI\'s release (sharded, as the 14B), ComfyUI\'s models folder', async () => {
    await writeWanDiffusers(join(dir, 'Wan2.1-T2V-tiny-Diffusers'), { transformerShards: 3 });
    await writeWanAiRelease(join(dir, 'Wan2.1-T2V-tiny'), { shards: 2 });
    await writeComfyModels(join(dir, 'ComfyUI', 'models'));
    const expected: readonly [string, string, string][] = [
      ['Wan2.1-T2V-tiny-Diffusers', 'diffusers', 'WAN 2.1 T2V (256 wide, 2 blocks), fp32, 12 MB (diffusers folder)'],
      ['Wan2.1-T2V-tiny', 'wan_ai', 'WAN 2.1 T2V (256 wide, 2 blocks), fp32, 12 MB (Wan-AI release)'],
      [join('ComfyUI', 'models'), 'comfyui', 'WAN 2.1 T2V (256 wide, 2 blocks), bf16, 6 MB (ComfyUI files)'],
    ];
    for (const [folder, layout, description] of expected) {
      expect(await identify(join(dir, folder))).toEqual({ ok: true, kind: 'wan_model', path: join(dir, folder), layout, size: null, dtype: layout === 'comfyui' ? 'BF16' : 'F32', sizeBytes: expect.any(Number), description });
    }
    const diffusers = await readWanParts(join(dir, 'Wan2.1-T2V-tiny-Diffusers'));
    expect(diffusers.parts.transformer.files).toHaveLength(3);
    expect(diffusers.parts.textEncoder.files).toHaveLength(2);
    expect(diffusers.tokenizer).toMatchObject({ kind: 'tokenizer.json', folder: join(dir, 'Wan2.1-T2V-tiny-Diffusers', 'tokenizer') });
    expect(diffusers.schedulerConfig).toMatchObject({ _class_name: 'UniPCMultistepScheduler', flow_shift: 3 });
    expect(diffusers.transformerConfig).toMatchObject({ dim: 256, heads: 2, numLayers: 2, textDim: 64 });
    const wanAi = await readWanParts(join(dir, 'Wan2.1-T2V-tiny'));
    expect(wanAi.parts.transformer.files).toHaveLength(2);
    expect(wanAi.files.map((f) => f.path.slice(dir.length + 1)).sort()).toEqual(
      ['Wan2.1_VAE.pth', 'diffusion_pytorch_model-00001-of-00002.safetensors', 'diffusion_pytorch_model-00002-of-00002.safetensors', 'models_t5_umt5-xxl-enc-bf16.pth'].map((f) => join('Wan2.1-T2V-tiny', f)),
    );
  });

  it('the same weights read the same from every layout: each canonical weight is the same tensor', async () => {
    const diffusers = await readWanParts(join(dir, 'Wan2.1-T2V-tiny-Diffusers'));
    const wanAi = await readWanParts(join(dir, 'Wan2.1-T2V-tiny'));
    for (const part of ['transformer', 'vae'] as const) {
      expect(wanAi[part].names().sort()).toEqual(diffusers[part].names().sort());
      for (const name of diffusers[part].names()) {
        const [a, b] = [diffusers[part].require(name), wanAi[part].require(name)];
        expect([name, a.dtype, a.shape, a.length]).toEqual([name, b.dtype, b.shape, b.length]);
        expect((await readFile(a.file)).subarray(a.offset, a.offset + a.length).equals((await readFile(b.file)).subarray(b.offset, b.offset + b.length))).toBe(true);
      }
    }
  });

  it("ComfyUI's three files picked one by one, with a tokenizer folder when the text encoder carries none; a 14B VAE is shared", async () => {
    const picked = await writeComfyModels(join(dir, 'picked'), { textDtype: 'F8_E4M3', noSpiece: true });
    const noTokenizer = await refusal([picked.transformer, picked.textEncoder, picked.vae]);
    expect(noTokenizer.message).toMatch(/^The chosen files have no tokenizer for the text encoder: use ComfyUI's UMT5 file \(its spiece_model is inside\), or add the tokenizer folder/);
    await writeTokenizerFolder(join(dir, 'picked', 'umt5-tokenizer'));
    const parts = await readWanParts([picked.transformer, picked.textEncoder, picked.vae, join(dir, 'picked', 'umt5-tokenizer')]);
    expect(parts).toMatchObject({ layout: 'files', tokenizer: { kind: 'tokenizer.json' }, description: 'WAN 2.1 T2V (256 wide, 2 blocks), bf16, 6 MB (chosen files)' });
    expect(parts.parts.textEncoder).toMatchObject({ scaledFp8: true, dtype: 'F8_E4M3' });

    // A 1.3B transformer with the VAE and text encoder of the 14B release: the same files in both.
    const full = join(dir, 'full-set');
    await writeHeaderOnly(join(full, 'wan2.1_t2v_1.3B_fp16.safetensors'), inWanNaming('transformer', specs(fullShapes('1.3B', 'transformer'), all('F16'))));
    await writeHeaderOnly(join(full, 'umt5_xxl_fp16.safetensors'), [...specs(fullShapes('14B', 'text_encoder'), all('F16')), { name: 'spiece_model', dtype: 'U8', shape: [4548313], data: new Uint8Array(0) }]);
    await writeHeaderOnly(join(full, 'wan_2.1_vae.safetensors'), inWanNaming('vae', specs(fullShapes('14B', 'vae'), all('BF16'))));
    const set = await readWanParts(['wan2.1_t2v_1.3B_fp16.safetensors', 'umt5_xxl_fp16.safetensors', 'wan_2.1_vae.safetensors'].map((f) => join(full, f)));
    expect(set).toMatchObject({ size: '1.3B', dtype: 'F16', tokenizer: { kind: 'spiece_model' } });
    expect(set.description).toMatch(/^WAN 2\.1 T2V 1\.3B, fp16, 14\.\d GB \(chosen files\)$/);
  });

  it('refuses a set with a part missing, two transformers, or parts of different models or sizes, naming them', async () => {
    const comfy = await writeComfyModels(join(dir, 'set'));
    expect((await refusal([comfy.transformer, comfy.vae])).message).toBe(
      'The chosen files have no WAN text encoder: a WAN 2.1 model needs its transformer, text encoder and VAE — add umt5_xxl_fp16.safetensors (ComfyUI) or models_t5_umt5-xxl-enc-bf16.pth (Wan-AI)',
    );
    expect((await refusal([comfy.transformer, comfy.textEncoder])).message).toMatch(/^The chosen files have no WAN VAE: .* — add wan_2\.1_vae\.safetensors \(ComfyUI\) or Wan2\.1_VAE\.pth \(Wan-AI\)$/);
    const full = join(dir, 'full-set', 'wan2.1_t2v_1.3B_fp16.safetensors');
    await writeHeaderOnly(join(dir, 'full-set', 'wan2.1_t2v_14B_bf16.safetensors'), inWanNaming('transformer', specs(fullShapes('14B', 'transformer'), all('BF16'))));
    expect((await refusal([full, join(dir, 'full-set', 'wan2.1_t2v_14B_bf16.safetensors'), comfy.textEncoder, comfy.vae])).message).toBe(
      'The chosen files hold 2 WAN transformers (wan2.1_t2v_1.3B_fp16.safetensors, wan2.1_t2v_14B_bf16.safetensors): choose one of them, with one text encoder and one VAE',
    );
    expect((await refusal([full, comfy.textEncoder, comfy.vae])).message).toBe(
      'wan2.1_t2v_1.3B_fp16.safetensors reads 4096-wide text states but the text encoder umt5_xxl_tiny_f16.safetensors gives 64-wide ones: they belong to different models — use the UMT5-XXL encoder WAN 2.1 ships',
    );
    // Wan-AI's folder with the 14B's config.json beside 1.3B weights.
    const mixed = join(dir, 'Wan2.1-T2V-mixed');
    await writeWanAiRelease(mixed, { config: wanAiConfig(WAN_TRANSFORMER_CONFIGS['14B']) });
    await writeHeaderOnly(join(mixed, 'diffusion_pytorch_model.safetensors'), inWanNaming('transformer', specs(fullShapes('1.3B', 'transformer'), all('F32'))));
    const found = await identify(mixed);
    expect(found).toMatchObject({ ok: false, code: 'wrong_kind', what: 'a WAN model' });
    expect(!found.ok && found.sentence).toBe(
      'Wan2.1-T2V-mixed/config.json describes the 14B model (5120 wide, 40 blocks) but the transformer beside it is the 1.3B model (1536 wide, 30 blocks): the files come from two different WAN downloads — download the model again',
    );
  });

  it('refuses other WAN models by their folders: image-to-video (diffusers, Wan-AI), WAN 2.2 A14B (two transformers)', async () => {
    const i2v = join(dir, 'Wan2.1-I2V-14B-480P-Diffusers');
    await writeWanDiffusers(i2v, { modelIndex: { _class_name: 'WanImageToVideoPipeline' } });
    expect(await identify(i2v)).toMatchObject({ ok: false, sentence: 'Wan2.1-I2V-14B-480P-Diffusers is a WAN image-to-video model (WanImageToVideoPipeline), not a text-to-video one: choose a WAN 2.1 text-to-video model (T2V 1.3B or 14B)' });
    const a14b = join(dir, 'Wan2.2-T2V-A14B-Diffusers');
    await writeWanDiffusers(a14b, { modelIndex: { _class_name: 'WanPipeline', transformer_2: ['diffusers', 'WanTransformer3DModel'], boundary_ratio: 0.875 } });
    expect(await identify(a14b)).toMatchObject({ ok: false, sentence: expect.stringMatching(/^Wan2\.2-T2V-A14B-Diffusers is WAN 2\.2 A14B \(two transformers, for high and low noise\), not WAN 2\.1/) });
    const flf = join(dir, 'Wan2.1-FLF2V-14B-720P');
    await writeWanAiRelease(flf, { modelType: 'flf2v' });
    expect(await identify(flf)).toMatchObject({ ok: false, sentence: expect.stringMatching(/^Wan2\.1-FLF2V-14B-720P is a first-last-frame-to-video model \(its config\.json says model_type "flf2v"\), not a text-to-video one/) });
    const experts = join(dir, 'Wan2.2-T2V-A14B');
    for (const d of ['high_noise_model', 'low_noise_model']) {
      await mkdir(join(experts, d), { recursive: true });
      await writeFile(join(experts, d, 'config.json'), JSON.stringify(wanAiConfig(WAN_TRANSFORMER_CONFIGS['14B'])));
    }
    expect(await identify(experts)).toMatchObject({ ok: false, sentence: expect.stringMatching(/is WAN 2\.2 A14B \(two transformers, high_noise_model\/ and low_noise_model\/\), not WAN 2\.1/) });
  });

  it("refuses a Wan-AI folder with a truncated or hostile .pth part, or a part missing, in the reader's own sentence", async () => {
    const truncated = join(dir, 'Wan2.1-T2V-truncated');
    await writeWanAiRelease(truncated);
    await truncate(join(truncated, 'Wan2.1_VAE.pth'), 600_000);
    expect(await identify(truncated)).toMatchObject({ ok: false, code: 'truncated', sentence: expect.stringMatching(/^Wan2\.1_VAE\.pth is truncated: .*Download or copy it again\.$/) });
    const hostile = join(dir, 'Wan2.1-T2V-hostile');
    await writeWanAiRelease(hostile);
    await copyFile(new URL('../../fixtures/reference/pth/hostile-os-system.pth', import.meta.url), join(hostile, 'Wan2.1_VAE.pth'));
    expect(await identify(hostile)).toMatchObject({ ok: false, code: 'unsafe', sentence: expect.stringMatching(/^Wan2\.1_VAE\.pth .*os\.system/) });
    const missing = join(dir, 'Wan2.1-T2V-no-t5');
    await writeWanAiRelease(missing);
    await rm(join(missing, 'models_t5_umt5-xxl-enc-bf16.pth'));
    expect(await identify(missing)).toMatchObject({ ok: false, code: 'incomplete', sentence: 'Wan2.1-T2V-no-t5 has no WAN text encoder: a WAN 2.1 model needs its transformer, text encoder and VAE — add umt5_xxl_fp16.safetensors (ComfyUI) or models_t5_umt5-xxl-enc-bf16.pth (Wan-AI)' });
  });

  it('a ComfyUI models folder without WAN files is no WAN model; one whose only WAN transformer is refused says why', async () => {
    const sdxlOnly = join(dir, 'ComfyUI-sdxl', 'models');
    await mkdir(join(sdxlOnly, 'diffusion_models'), { recursive: true });
    await mkdir(join(sdxlOnly, 'vae'), { recursive: true });
    await writeSafetensors(join(sdxlOnly, 'vae', 'sdxl_vae.safetensors'), zeros([{ name: 'decoder.conv_in.weight', shape: [512, 4, 3, 3] }, { name: 'decoder.up.0.block.0.conv1.weight', shape: [128, 256, 3, 3] }]));
    expect(await identify(sdxlOnly)).toMatchObject({ ok: false, sentence: 'models is a folder without model_index.json: add the checkpoint file itself, or a diffusers folder' });
    const i2vOnly = join(dir, 'ComfyUI-i2v', 'models');
    await writeComfyModels(i2vOnly);
    const transformer = join(i2vOnly, 'diffusion_models', 'wan2.1_t2v_tiny_bf16.safetensors');
    await writeSafetensors(transformer, [...zeros(inWanNaming('transformer', tinyCanonical('transformer', 'BF16'))), ...zeros([{ name: 'img_emb.proj.0.weight', shape: [1280] }])]);
    expect(await identify(i2vOnly)).toMatchObject({ ok: false, sentence: expect.stringMatching(/^wan2\.1_t2v_tiny_bf16\.safetensors is a WAN image-to-video transformer/) });
  });

  it('tells a picked file that is no WAN part, and a ComfyUI UMT5 file beside a transformer of its own width is accepted in any order', async () => {
    const comfy = await writeComfyModels(join(dir, 'order'));
    const other = join(dir, 'order', 'notes.safetensors');
    await writeSafetensors(other, zeros([{ name: 'foo.bar', shape: [2] }]));
    expect((await refusal([comfy.transformer, comfy.textEncoder, other])).message).toMatch(/^notes\.safetensors is not a part of a WAN model \(its tensors are no WAN transformer, UMT5 text encoder or WAN VAE\)/);
    const parts = await readWanParts([comfy.vae, comfy.textEncoder, comfy.transformer]);
    expect(parts.parts.textEncoder.description).toBe('UMT5 text encoder (64 wide, 3 layers), fp16, 659 KB, tokenizer inside');
    expect(comfyUmt5Tensors('F16').at(-1)!.name).toBe('spiece_model');
  });
});
