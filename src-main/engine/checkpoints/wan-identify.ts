/**
 * WAN 2.1 text-to-video models as they are published, told apart from their headers (STYLE.md
 * §12, §15) and read as one model of three parts plus a tokenizer:
 *
 * - a **diffusers folder** (`Wan-AI/Wan2.1-T2V-1.3B-Diffusers`, the 14B one): `model_index.json`
 *   (`WanPipeline`), `transformer/`, `text_encoder/`, `vae/` (each a safetensors file or shards),
 *   `tokenizer/`, `scheduler/`;
 * - **Wan-AI's original release** (`Wan-AI/Wan2.1-T2V-1.3B`, what OurVidz's worker loads):
 *   `config.json` (`WanModel`) with `diffusion_pytorch_model.safetensors` (or shards), the VAE and
 *   text encoder as PyTorch archives (`Wan2.1_VAE.pth`, `models_t5_umt5-xxl-enc-bf16.pth`, read
 *   by the restricted reader, which runs nothing) and the `google/umt5-xxl/` tokenizer;
 * - **ComfyUI's repackaged files**, picked one by one or found in a ComfyUI `models/` folder
 *   (`diffusion_models/`, `text_encoders/`, `vae/`): the transformer
 *   (`wan2.1_t2v_1.3B_fp16.safetensors`, bf16, 14B fp8), UMT5 (`umt5_xxl_fp16.safetensors`,
 *   `umt5_xxl_fp8_e4m3fn_scaled.safetensors`, with the sentencepiece model inside as
 *   `spiece_model`) and `wan_2.1_vae.safetensors`.
 *
 * Which file is which part comes from its tensors, never its name (a folder's own conventions —
 * diffusers' component folders, the file names Wan-AI's loader opens — only say where to look).
 * Everything the studio will not take is one sentence: other WAN models (image-to-video,
 * first-last-frame, VACE, WAN 2.2), a LoRA, a part missing from the set, parts of two different
 * models, a truncated or lying file. `readWanParts` is the API the preparation builds on.
 *
 * Modules: this one answers identify.ts (a file's part or a folder's model, as a description or a
 * refusal); wan-sets.ts makes one model of a folder or of files chosen one by one, wan-folders.ts
 * reads each kind of folder, wan-part-file.ts one file, wan-{transformer,text,vae}-part.ts each
 * part through its table (layouts/wan-*.ts), wan-parts.ts what they share.
 */
import { basename } from 'node:path';
import type { WeightDtype } from '../weights/dtypes.ts';
import { WeightFileError } from '../weights/errors.ts';
import type { WeightFileErrorCode } from '../weights/errors.ts';
import type { PthHeader } from '../weights/pytorch-archive.ts';
import type { SafetensorsHeader } from '../weights/safetensors.ts';
import { PART_NAME, PART_WHAT, readFolderSet } from './wan-folders.ts';
import type { WanSetLayout } from './wan-folders.ts';
import { partOf, wanLora } from './wan-part-file.ts';
import { guessWanPart, storedFromPth, storedFromSafetensors } from './wan-parts.ts';
import type { StoredTensors, WanNaming, WanPart, WanPartReading } from './wan-parts.ts';
import { assemble } from './wan-sets.ts';
import type { WanSize } from './wan-sets.ts';

export { readWanParts } from './wan-sets.ts';
export type { WanParts, WanSetLayout, WanSize, WanTokenizerSource } from './wan-sets.ts';
export { wanLora } from './wan-part-file.ts';

/** One WAN part on its own ("WAN 2.1 T2V 1.3B transformer, bf16, 2.8 GB"). */
export interface WanPartFile {
  readonly ok: true;
  readonly kind: 'wan_part';
  readonly path: string;
  readonly part: WanPart;
  readonly naming: WanNaming;
  /** The transformer's size; null for the parts every size shares (text encoder, VAE) and for other widths. */
  readonly size: WanSize | null;
  readonly dtype: WeightDtype | null;
  readonly sizeBytes: number;
  readonly description: string;
}

/** A folder holding a whole WAN 2.1 T2V model. */
export interface WanModelFolder {
  readonly ok: true;
  readonly kind: 'wan_model';
  readonly path: string;
  readonly layout: WanSetLayout;
  readonly size: WanSize | null;
  readonly dtype: WeightDtype | null;
  readonly sizeBytes: number;
  readonly description: string;
}

export interface WanRefused {
  readonly ok: false;
  readonly path: string;
  readonly code: WeightFileErrorCode;
  readonly what: string | null;
  readonly sentence: string;
}

function partFile(path: string, part: WanPartReading): WanPartFile {
  return {
    ok: true,
    kind: 'wan_part',
    path,
    part: part.part,
    naming: part.naming,
    size: part.part === 'transformer' ? part.size : null,
    dtype: part.dtype,
    sizeBytes: part.sizeBytes,
    description: part.description,
  };
}

function refusedFrom(path: string, e: WeightFileError, what: string | null): WanRefused {
  return { ok: false, path, code: e.code, what, sentence: e.message };
}

/**
 * What a file's tensors say it is as a WAN part: the part, a refusal that names it, or null when
 * the file is no WAN file (identify.ts goes on with the other families).
 */
export function classifyWanStored(path: string, stored: StoredTensors): WanPartFile | WanRefused | null {
  const guess = guessWanPart([...stored.refs.keys()]);
  try {
    const part = partOf(stored);
    return part ? partFile(path, part) : null;
  } catch (e) {
    if (!(e instanceof WeightFileError)) throw e;
    return refusedFrom(path, e, guess ? PART_WHAT[guess.part] : wanLora(stored) ? 'a LoRA' : null);
  }
}

export function classifyWanSafetensors(header: SafetensorsHeader): WanPartFile | WanRefused | null {
  return classifyWanStored(header.path, storedFromSafetensors([header]));
}

export function classifyWanPth(header: PthHeader): WanPartFile | WanRefused | null {
  return classifyWanStored(header.path, storedFromPth(header));
}
/**
 * A folder as a WAN model ("WAN 2.1 T2V 1.3B, bf16, 17.4 GB (Wan-AI release)"), its refusal, or
 * null when it is no WAN folder at all.
 */
export async function identifyWanFolder(path: string): Promise<WanModelFolder | WanRefused | null> {
  try {
    const found = await readFolderSet(path);
    if (!found) return null;
    const parts = assemble(basename(path), found, true);
    return { ok: true, kind: 'wan_model', path, layout: parts.layout, size: parts.size, dtype: parts.dtype, sizeBytes: parts.sizeBytes, description: parts.description };
  } catch (e) {
    if (!(e instanceof WeightFileError)) throw e;
    return refusedFrom(path, e, 'a WAN model');
  }
}

/**
 * The sentence for a WAN file or folder where only SDXL checkpoints are prepared yet (the SDXL
 * preparation and the Models view's inspection), until the WAN preparation reads `readWanParts`.
 */
export function wanNotPreparedYet(found: WanPartFile | WanModelFolder): string {
  const what = found.kind === 'wan_model' ? 'a WAN 2.1 model' : `a WAN 2.1 model part (its ${PART_NAME[found.part]})`;
  return `${basename(found.path)} is ${what} — ${found.description} — which this version recognises but cannot prepare yet: add SDXL checkpoints here for now`;
}
