/**
 * Says what a model file or folder is, from its header and tensor names — never its file name —
 * in one sentence a creator understands: "SDXL checkpoint, fp16, 6.9 GB, VAE included", or why
 * the studio will not take it ("an SD 1.5 checkpoint: …", "a LoRA, not a checkpoint: …").
 * Only headers are read (STYLE.md §12, §15); ComfyUI's `model_detection.py` is the model for
 * telling families apart by key names and shapes. WAN 2.1's parts and folders are told by
 * wan-identify.ts: a part on its own is a `wan_part` ("WAN 2.1 T2V 1.3B transformer, bf16,
 * 2.8 GB"), a whole model's folder a `wan_model`; PyTorch archives are opened (by the restricted
 * reader, which runs nothing) only to find Wan-AI's `.pth` parts — any other is refused unread.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readSafetensorsHeader, readSafetensorsHeaderSync } from '../weights/safetensors.ts';
import type { SafetensorsHeader } from '../weights/safetensors.ts';
import { sniffFile, sniffFileSync } from '../weights/sniff.ts';
import type { WeightFileKind } from '../weights/sniff.ts';
import { WeightFileError } from '../weights/errors.ts';
import type { WeightFileErrorCode } from '../weights/errors.ts';
import { DTYPE_LABEL } from '../weights/dtypes.ts';
import type { WeightDtype } from '../weights/dtypes.ts';
import { readPthHeader, readPthHeaderSync } from '../weights/pytorch-archive.ts';
import type { PthHeader } from '../weights/pytorch-archive.ts';
import { findDiffusersWeights } from './diffusers-folder.ts';
import type { DiffusersComponentFiles } from './diffusers-folder.ts';
import { classifyWanPth, classifyWanSafetensors, identifyWanFolder, wanLora } from './wan-identify.ts';
import type { WanModelFolder, WanPartFile } from './wan-identify.ts';
import { storedFromSafetensors } from './wan-parts.ts';

export type Prediction = 'epsilon' | 'v_prediction';

export interface SdxlSingleFile {
  readonly ok: true;
  readonly kind: 'sdxl_single_file';
  readonly path: string;
  readonly header: SafetensorsHeader;
  readonly sizeBytes: number;
  readonly dtype: WeightDtype | null;
  readonly hasVae: boolean;
  readonly prediction: Prediction;
  /** Trained with zero terminal SNR (a `ztsnr` marker key): the schedule is rescaled as it was trained. */
  readonly zeroSnr: boolean;
  readonly description: string;
}

export interface SdxlDiffusersFolder {
  readonly ok: true;
  readonly kind: 'sdxl_diffusers';
  readonly path: string;
  readonly components: DiffusersComponentFiles;
  readonly sizeBytes: number;
  readonly dtype: WeightDtype | null;
  readonly hasVae: true;
  readonly prediction: Prediction;
  readonly zeroSnr: boolean;
  readonly description: string;
}

export interface SdxlVaeFile {
  readonly ok: true;
  readonly kind: 'sdxl_vae';
  readonly path: string;
  readonly header: SafetensorsHeader;
  readonly sizeBytes: number;
  readonly dtype: WeightDtype | null;
  readonly description: string;
}

export interface Refused {
  readonly ok: false;
  readonly path: string;
  readonly code: WeightFileErrorCode;
  /** What it is, when known ("a LoRA", "an SD 1.5 checkpoint"). */
  readonly what: string | null;
  readonly sentence: string;
}

export type Identified = SdxlSingleFile | SdxlDiffusersFolder | SdxlVaeFile | WanPartFile | WanModelFolder | Refused;

/** 6.9 GB, 335 MB — decimal units, as download pages and file managers on the web show sizes. */
export function formatSize(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} KB`;
}

/** The float type holding most bytes (an fp16 checkpoint keeps a few fp32 tensors). */
export function mainFloatDtype(headers: readonly SafetensorsHeader[]): WeightDtype | null {
  const bytes = new Map<WeightDtype, number>();
  for (const h of headers) for (const t of h.tensors.values()) bytes.set(t.dtype, (bytes.get(t.dtype) ?? 0) + t.length);
  let best: WeightDtype | null = null;
  for (const [dtype, n] of bytes) if (best === null || n > bytes.get(best)!) best = dtype;
  return best;
}

function refused(path: string, code: WeightFileErrorCode, what: string | null, sentence: string): Refused {
  return { ok: false, path, code, what, sentence };
}

const SD_ONLY = 'the studio runs SDXL (and WAN 2.1 for video)';

/** Looks at tensor names (and a few shapes) to say which kind of model a safetensors file holds. */
export function classifySafetensors(header: SafetensorsHeader): Identified {
  const path = header.path;
  const name = basename(path);
  const keys = [...header.tensors.keys()];
  const has = (prefix: string): boolean => keys.some((k) => k.startsWith(prefix));
  const any = (re: RegExp): boolean => keys.some((k) => re.test(k));
  const shape = (key: string): readonly number[] | undefined => header.tensors.get(key)?.shape;
  const dtype = mainFloatDtype([header]);
  const size = formatSize(header.size);

  if (keys.length === 0) return refused(path, 'wrong_kind', null, `${name} holds no tensors: it is not a model`);
  const wanLoraSentence = wanLora(storedFromSafetensors([header]));
  if (wanLoraSentence) return refused(path, 'wrong_kind', 'a LoRA', wanLoraSentence);
  if (any(/(^|[._])lora[._]?(up|down|A|B)[._]|^lora_(unet|te\d?)_|^lycoris_|\.hada_w1_a$|\.lokr_w1$/)) {
    return refused(path, 'wrong_kind', 'a LoRA', `${name} is a LoRA, not a checkpoint: it only adjusts the model it was trained on — add that SDXL checkpoint instead (LoRAs are not applied yet)`);
  }
  if (keys.every((k) => /^(clip_l|clip_g|emb_params|string_to_param\..*|string_to_token|name|step)$/.test(k))) {
    return refused(path, 'wrong_kind', 'a textual-inversion embedding', `${name} is a textual-inversion embedding, not a checkpoint: add the SDXL checkpoint it was made for instead (embeddings are not applied yet)`);
  }
  if (any(/(^|\.)double_blocks\.\d+\./) || any(/(^|\.)single_blocks\.\d+\.linear1/)) {
    return refused(path, 'wrong_kind', 'a Flux model', `${name} is a Flux model; ${SD_ONLY}`);
  }
  if (any(/(^|\.)joint_blocks\.\d+\./)) {
    return refused(path, 'wrong_kind', 'a Stable Diffusion 3 model', `${name} is a Stable Diffusion 3 model; ${SD_ONLY}`);
  }
  const wan = classifyWanSafetensors(header);
  if (wan) return wan;
  if (has('model.diffusion_model.')) {
    const adm = shape('model.diffusion_model.label_emb.0.0.weight');
    if (has('cond_stage_model.transformer.')) {
      return refused(path, 'wrong_kind', 'an SD 1.x checkpoint', `${name} is a Stable Diffusion 1.5 (SD 1.x) checkpoint; ${SD_ONLY} — use an SDXL checkpoint (Pony, Illustrious, NoobAI and other SDXL fine-tunes work)`);
    }
    if (has('cond_stage_model.model.')) {
      return refused(path, 'wrong_kind', 'an SD 2.x checkpoint', `${name} is a Stable Diffusion 2.x checkpoint; ${SD_ONLY} — use an SDXL checkpoint`);
    }
    if (has('conditioner.embedders.0.model.') && !has('conditioner.embedders.1.')) {
      return refused(path, 'wrong_kind', 'the SDXL refiner', `${name} is the SDXL refiner, which only finishes another model's pictures: add an SDXL base checkpoint`);
    }
    if (adm && has('conditioner.embedders.0.transformer.') && has('conditioner.embedders.1.model.')) {
      const hasVae = has('first_stage_model.decoder.');
      const vPred = header.tensors.has('v_pred') || /^v(_prediction)?$/.test(header.metadata['modelspec.prediction_type'] ?? '');
      const zeroSnr = header.tensors.has('ztsnr');
      const parts = [`SDXL checkpoint`, dtype ? DTYPE_LABEL[dtype] : null, size, hasVae ? 'VAE included' : 'no VAE inside (choose a VAE file)'];
      if (vPred) parts.push('v-prediction');
      return {
        ok: true,
        kind: 'sdxl_single_file',
        path,
        header,
        sizeBytes: header.size,
        dtype,
        hasVae,
        prediction: vPred ? 'v_prediction' : 'epsilon',
        zeroSnr,
        description: parts.filter(Boolean).join(', '),
      };
    }
    const context = shape('model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight')?.[1];
    if (adm && context === 2048) {
      return refused(path, 'incomplete', 'an SDXL UNet without text encoders', `${name} holds only an SDXL UNet, without the two text encoders a checkpoint has: add the full checkpoint instead`);
    }
    if (context === 768) return refused(path, 'wrong_kind', 'an SD 1.x UNet', `${name} is a Stable Diffusion 1.5 UNet; ${SD_ONLY}`);
    return refused(path, 'wrong_kind', null, `${name} has a UNet but not the parts of an SDXL checkpoint (no SDXL text encoders); ${SD_ONLY}`);
  }
  if (has('down_blocks.') && has('add_embedding.')) {
    return refused(path, 'incomplete', 'an SDXL UNet (diffusers)', `${name} is only the UNet of a diffusers SDXL model: add the whole folder (with model_index.json) instead`);
  }
  const vaeConvIn = shape('decoder.conv_in.weight') ?? shape('first_stage_model.decoder.conv_in.weight');
  if (vaeConvIn && (has('decoder.up.') || has('decoder.up_blocks.') || has('first_stage_model.decoder.'))) {
    const latent = vaeConvIn[1];
    if (latent === 4) {
      return { ok: true, kind: 'sdxl_vae', path, header, sizeBytes: header.size, dtype, description: `SD/SDXL VAE, ${dtype ? DTYPE_LABEL[dtype] : 'unknown precision'}, ${size}` };
    }
    return refused(path, 'wrong_kind', `a ${latent}-channel VAE`, `${name} is a VAE with ${latent} latent channels (SD3/Flux use 16); SDXL's VAE has 4`);
  }
  if (has('text_model.') || has('transformer.resblocks.') || has('encoder.block.')) {
    return refused(path, 'wrong_kind', 'a text encoder', `${name} is a text encoder on its own, not a checkpoint: add the SDXL checkpoint instead`);
  }
  const examples = keys.slice(0, 3).join(', ');
  return refused(path, 'wrong_kind', null, `${name} is not a model the studio recognises (${keys.length} tensors, e.g. ${examples})`);
}

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

async function identifyFolder(path: string): Promise<Identified> {
  const name = basename(path);
  const wan = await identifyWanFolder(path);
  if (wan) return wan;
  const index = readJson(join(path, 'model_index.json'));
  if (!index) {
    const files = readdirSync(path).filter((f) => f.endsWith('.safetensors'));
    if (files.length === 1) return identifyFile(join(path, files[0]!));
    return refused(path, 'wrong_kind', null, `${name} is a folder without model_index.json: add the checkpoint file itself, or a diffusers folder`);
  }
  const cls = String(index._class_name ?? '');
  if (cls !== 'StableDiffusionXLPipeline') {
    if (/^StableDiffusion(Pipeline|Img2ImgPipeline)$/.test(cls)) return refused(path, 'wrong_kind', 'an SD 1.x/2.x diffusers model', `${name} is a Stable Diffusion 1.x/2.x diffusers model; ${SD_ONLY}`);
    if (/Refiner|StableDiffusionXLImg2ImgPipeline/.test(cls)) return refused(path, 'wrong_kind', 'the SDXL refiner', `${name} is an SDXL img2img/refiner model: add an SDXL base model`);
    return refused(path, 'wrong_kind', null, `${name} is a diffusers ${cls || 'model of unknown kind'}; ${SD_ONLY}`);
  }
  if (existsSync(join(path, 'unet', 'model.onnx'))) {
    return refused(path, 'wrong_kind', 'an ONNX export', `${name} is already an ONNX export: put its folder in a models folder (Settings → Models) and it is used as it is`);
  }
  const components = await findDiffusersWeights(path);
  const headers = [components.unet, components.text_encoder, components.text_encoder_2, components.vae].flatMap((c) => c.headers);
  const sizeBytes = headers.reduce((s, h) => s + h.size, 0);
  const dtype = mainFloatDtype(components.unet.headers);
  const scheduler = readJson(join(path, 'scheduler', 'scheduler_config.json')) ?? {};
  const prediction: Prediction = scheduler.prediction_type === 'v_prediction' ? 'v_prediction' : 'epsilon';
  const parts = ['SDXL diffusers model', dtype ? DTYPE_LABEL[dtype] : null, formatSize(sizeBytes)];
  if (prediction === 'v_prediction') parts.push('v-prediction');
  return {
    ok: true,
    kind: 'sdxl_diffusers',
    path,
    components,
    sizeBytes,
    dtype,
    hasVae: true,
    prediction,
    zeroSnr: scheduler.rescale_betas_zero_snr === true,
    description: parts.filter(Boolean).join(', '),
  };
}

/** The sentence for a file that is not safetensors at all, or null when it is. */
function notSafetensors(path: string, kind: WeightFileKind): Refused | null {
  const name = basename(path);
  switch (kind) {
    case 'pytorch_zip':
    case 'pickle':
      return refused(path, 'unsafe', 'a pickle checkpoint', `${name} is a PyTorch pickle file (.ckpt/.pt/.bin), which can run code when opened: convert it to .safetensors first (or download the .safetensors version)`);
    case 'gguf':
      return refused(path, 'wrong_kind', 'a GGUF file', `${name} is a GGUF file (a language model or a quantised transformer), not an SDXL checkpoint`);
    case 'onnx':
      return refused(path, 'wrong_kind', 'an ONNX graph', `${name} is a single ONNX graph: the studio takes ONNX exports as whole folders (model_index.json with unet/, text_encoder/ …)`);
    case 'unknown':
      return refused(path, 'wrong_kind', null, `${name} is not a safetensors model file (its first bytes match no model format the studio knows)`);
    case 'safetensors':
      return null;
  }
}

/**
 * A PyTorch archive as one of Wan-AI's `.pth` parts (its VAE, its text encoder) or a WAN refusal;
 * null for any other archive — which keeps the pickle sentence, as does one the restricted reader
 * cannot read (damaged, hostile, older format).
 */
function wanArchive(read: () => PthHeader): Identified | null {
  try {
    const wan = classifyWanPth(read());
    return wan && (wan.ok || wan.what !== null) ? wan : null;
  } catch (e) {
    if (e instanceof WeightFileError) return null;
    throw e;
  }
}

async function identifyFile(path: string): Promise<Identified> {
  const sniffed = await sniffFile(path);
  if (sniffed.kind === 'pytorch_zip') {
    const header = await readPthHeader(path).catch((e: unknown) => {
      if (e instanceof WeightFileError) return null;
      throw e;
    });
    const wan = header ? wanArchive(() => header) : null;
    if (wan) return wan;
  }
  return notSafetensors(path, sniffed.kind) ?? classifySafetensors(await readSafetensorsHeader(path));
}

/** A file's identity, synchronously (model-folder scans); errors become a `Refused`. */
export function identifyFileSync(path: string): Identified {
  try {
    const kind = sniffFileSync(path).kind;
    if (kind === 'pytorch_zip') {
      const wan = wanArchive(() => readPthHeaderSync(path));
      if (wan) return wan;
    }
    return notSafetensors(path, kind) ?? classifySafetensors(readSafetensorsHeaderSync(path));
  } catch (e) {
    if (e instanceof WeightFileError) return refused(path, e.code, null, e.message);
    throw e;
  }
}

/** Identifies a checkpoint file, a VAE file or a diffusers folder. Errors become a `Refused`. */
export async function identify(path: string): Promise<Identified> {
  try {
    const info = statSync(path, { throwIfNoEntry: false });
    if (!info) return refused(path, 'not_found', null, `${path} does not exist (moved, renamed or on a drive that is not connected?)`);
    return info.isDirectory() ? await identifyFolder(path) : await identifyFile(path);
  } catch (e) {
    if (e instanceof WeightFileError) return refused(path, e.code, null, e.message);
    throw e;
  }
}
