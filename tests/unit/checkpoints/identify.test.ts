/**
 * What the studio says about a file a creator points it at: the kind read from tensor names and
 * shapes (never the file name), one sentence for each kind it will not take.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { identify } from '../../../src-main/engine/checkpoints/identify.ts';
import { writeSafetensors } from '../../../src-main/engine/weights/safetensors-write.ts';
import type { WeightDtype } from '../../../src-main/engine/weights/dtypes.ts';

const dir = mkdtempSync(join(tmpdir(), 'identify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file holding the named tensors (tiny, zero-filled): identification reads names and shapes only. */
async function fileWith(name: string, tensors: Record<string, readonly number[]>, dtype: WeightDtype = 'F16'): Promise<string> {
  const path = join(dir, name);
  const bytes = dtype === 'F32' ? 4 : 2;
  await writeSafetensors(
    path,
    Object.entries(tensors).map(([n, shape]) => ({ name: n, dtype, shape, data: new Uint8Array(shape.reduce((a, b) => a * b, 1) * bytes) })),
  );
  return path;
}

const SDXL_KEYS = {
  'model.diffusion_model.label_emb.0.0.weight': [1280, 2816],
  'model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight': [640, 2048],
  'conditioner.embedders.0.transformer.text_model.final_layer_norm.weight': [768],
  'conditioner.embedders.1.model.ln_final.weight': [1280],
};

describe('identify', () => {
  it('describes an SDXL checkpoint by its tensors, whatever its name', async () => {
    const path = await fileWith('lustify_v40.ckpt.safetensors', { ...SDXL_KEYS, 'first_stage_model.decoder.conv_in.weight': [512, 4, 3, 3] });
    const found = await identify(path);
    expect(found).toMatchObject({ ok: true, kind: 'sdxl_single_file', hasVae: true, dtype: 'F16', prediction: 'epsilon' });
    expect(found.ok && found.description).toBe('SDXL checkpoint, fp16, 10 MB, VAE included');
  });

  it('sees v-prediction and zero-SNR markers (NoobAI-style) and a missing VAE', async () => {
    const path = await fileWith('noob.safetensors', { ...SDXL_KEYS, v_pred: [0], ztsnr: [0] }, 'BF16');
    const found = await identify(path);
    expect(found).toMatchObject({ ok: true, hasVae: false, prediction: 'v_prediction', zeroSnr: true, dtype: 'BF16' });
    expect(found.ok && found.description).toBe('SDXL checkpoint, bf16, 10 MB, no VAE inside (choose a VAE file), v-prediction');
  });

  it.each([
    ['sd15.safetensors', { 'model.diffusion_model.input_blocks.0.0.weight': [320, 4, 3, 3], 'cond_stage_model.transformer.text_model.final_layer_norm.weight': [768] }, /is a Stable Diffusion 1\.5 \(SD 1\.x\) checkpoint; the studio runs SDXL/],
    ['sd21.safetensors', { 'model.diffusion_model.input_blocks.0.0.weight': [320, 4, 3, 3], 'cond_stage_model.model.ln_final.weight': [1024] }, /is a Stable Diffusion 2\.x checkpoint/],
    ['refiner.safetensors', { 'model.diffusion_model.label_emb.0.0.weight': [1536, 2560], 'conditioner.embedders.0.model.ln_final.weight': [1280] }, /is the SDXL refiner/],
    ['flux1-dev.safetensors', { 'double_blocks.0.img_attn.qkv.weight': [9, 3], 'img_in.weight': [3, 64] }, /is a Flux model/],
    ['sd3.5.safetensors', { 'model.diffusion_model.joint_blocks.0.x_block.attn.qkv.weight': [9, 3] }, /is a Stable Diffusion 3 model/],
    ['add_detail.safetensors', { 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight': [4, 320], 'lora_unet_down_blocks_0_attentions_0_proj_in.alpha': [] }, /is a LoRA, not a checkpoint/],
    ['peft.safetensors', { 'unet.down_blocks.0.attentions.0.proj_in.lora_A.weight': [4, 320] }, /is a LoRA, not a checkpoint/],
    ['negative.safetensors', { clip_l: [8, 768], clip_g: [8, 1280] }, /is a textual-inversion embedding/],
    ['wan.safetensors', { 'patch_embedding.weight': [1536, 16, 1, 2, 2], 'blocks.0.self_attn.q.weight': [1536, 1536] }, /is a WAN video transformer/],
    ['unet-only.safetensors', { 'model.diffusion_model.label_emb.0.0.weight': [1280, 2816], 'model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight': [640, 2048] }, /holds only an SDXL UNet, without the two text encoders/],
    ['flux-ae.safetensors', { 'decoder.conv_in.weight': [512, 16, 3, 3], 'decoder.up.0.block.0.conv1.weight': [128, 256, 3, 3] }, /VAE with 16 latent channels/],
    ['clip_l.safetensors', { 'text_model.final_layer_norm.weight': [768] }, /is a text encoder on its own/],
    ['random.safetensors', { 'foo.bar': [2] }, /is not a model the studio recognises \(1 tensors, e\.g\. foo\.bar\)/],
  ] as const)('refuses %s in one sentence naming what it is', async (name, tensors, sentence) => {
    const found = await identify(await fileWith(name, tensors));
    expect(found.ok).toBe(false);
    expect(!found.ok && found.sentence).toMatch(sentence);
  });

  it('takes a separate SDXL VAE file as a VAE', async () => {
    const found = await identify(await fileWith('sdxl_vae.safetensors', { 'decoder.conv_in.weight': [512, 4, 3, 3], 'decoder.up.0.block.0.conv1.weight': [128, 256, 3, 3] }, 'F32'));
    expect(found).toMatchObject({ ok: true, kind: 'sdxl_vae' });
  });

  it('refuses pickles without opening them, whatever their extension', async () => {
    const zip = join(dir, 'model.ckpt');
    writeFileSync(zip, Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(60)]));
    const pickle = join(dir, 'old.safetensors');
    writeFileSync(pickle, Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]));
    for (const path of [zip, pickle]) {
      const found = await identify(path);
      expect(found).toMatchObject({ ok: false, code: 'unsafe' });
      expect(!found.ok && found.sentence).toMatch(/PyTorch pickle file .* can run code when opened: convert it to \.safetensors first/);
    }
  });

  it('says a missing path is missing and a damaged file is damaged', async () => {
    expect(await identify(join(dir, 'nope.safetensors'))).toMatchObject({ ok: false, code: 'not_found' });
    const cut = join(dir, 'cut.safetensors');
    const header = Buffer.from(JSON.stringify({ w: { dtype: 'F16', shape: [100], data_offsets: [0, 200] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(cut, Buffer.concat([len, header, Buffer.alloc(50)]));
    const found = await identify(cut);
    expect(found).toMatchObject({ ok: false, code: 'truncated' });
  });

  it('refuses diffusers folders of other pipelines and pickle-only folders', async () => {
    const sd15 = join(dir, 'sd15-diffusers');
    mkdirSync(sd15);
    writeFileSync(join(sd15, 'model_index.json'), JSON.stringify({ _class_name: 'StableDiffusionPipeline' }));
    expect(await identify(sd15)).toMatchObject({ ok: false, what: 'an SD 1.x/2.x diffusers model' });
    const pickles = join(dir, 'sdxl-bin');
    for (const c of ['unet', 'text_encoder', 'text_encoder_2', 'vae']) mkdirSync(join(pickles, c), { recursive: true });
    writeFileSync(join(pickles, 'model_index.json'), JSON.stringify({ _class_name: 'StableDiffusionXLPipeline' }));
    writeFileSync(join(pickles, 'unet', 'diffusion_pytorch_model.bin'), Buffer.from([0x50, 0x4b, 3, 4]));
    const found = await identify(pickles);
    expect(found).toMatchObject({ ok: false, code: 'unsafe' });
    expect(!found.ok && found.sentence).toMatch(/unet\/diffusion_pytorch_model\.bin is a PyTorch pickle/);
  });
});
