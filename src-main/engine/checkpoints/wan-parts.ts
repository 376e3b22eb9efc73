/**
 * One part of a WAN 2.1 text-to-video model — the transformer, the UMT5 text encoder or the VAE —
 * read from the tensors of its file(s) in whichever naming it was published in, through that
 * layout's one table (layouts/wan-*.ts), into canonical weights: references into the user's
 * files, nothing copied. Which part, which naming and which size are told from key names and
 * shapes, never from file names (STYLE.md §12); anything that is not a WAN 2.1 T2V part is named
 * in one sentence (a `WeightFileError`).
 *
 * | part | namings read |
 * |---|---|
 * | transformer | diffusers `WanTransformer3DModel` (canonical); Wan-AI's `WanModel` (the original release, ComfyUI's repackaged files), with or without ComfyUI's `model.diffusion_model.` |
 * | text encoder | transformers `UMT5EncoderModel` (canonical: a diffusers `text_encoder/`, ComfyUI's `umt5_xxl_*`, with its `spiece_model` and fp8 scales); Wan-AI's `T5Encoder` (`models_t5_umt5-xxl-enc-bf16.pth`) |
 * | VAE | diffusers `AutoencoderKLWan` (canonical); Wan-AI's `WanVAE_` (`Wan2.1_VAE.pth`, ComfyUI's `wan_2.1_vae.safetensors`) |
 *
 * This module holds what the part readers (wan-transformer-part.ts, wan-text-part.ts,
 * wan-vae-part.ts) share: the readings' types, the stored tensors of safetensors files and
 * PyTorch archives, which part and naming key names point to, and the sentences' pieces.
 */
import { basename } from 'node:path';
import type { WanTransformerConfig } from '../architectures/wan/transformer-config.ts';
import { DTYPE_LABEL } from '../weights/dtypes.ts';
import type { WeightDtype } from '../weights/dtypes.ts';
import { WeightFileError } from '../weights/errors.ts';
import { pthTensorRefs } from '../weights/pytorch-archive.ts';
import type { PthHeader } from '../weights/pytorch-archive.ts';
import { tensorRefs } from '../weights/safetensors.ts';
import type { SafetensorsHeader } from '../weights/safetensors.ts';
import type { TensorRef, WeightSet } from '../weights/tensor-ref.ts';
import type { LayoutReading } from './layouts/wan-layout.ts';
import { COMFY_DIFFUSION_PREFIX } from './layouts/wan-transformer-table.ts';

export type WanPart = 'transformer' | 'textEncoder' | 'vae';

/** Whose parameter names a file uses: diffusers' / transformers' (canonical) or Wan-AI's own. */
export type WanNaming = 'diffusers' | 'transformers' | 'wan';

export interface SourceFile {
  readonly path: string;
  readonly realPath: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** The tensors of one part as its file(s) name them. */
export interface StoredTensors {
  /** For sentences: the file name, or "transformer/ (3 files)". */
  readonly label: string;
  readonly refs: ReadonlyMap<string, TensorRef>;
  readonly files: readonly SourceFile[];
  readonly sizeBytes: number;
}

interface PartCommon {
  readonly weights: WeightSet;
  readonly naming: WanNaming;
  /** The main precision ('F8_E4M3' for fp8 files). */
  readonly dtype: WeightDtype | null;
  /** fp8 weights with a per-tensor scale (ComfyUI's `…_fp8_scaled` / `_fp8_e4m3fn_scaled` files). */
  readonly scaledFp8: boolean;
  /** "bf16", "fp8 e4m3 scaled". */
  readonly precision: string;
  readonly files: readonly SourceFile[];
  readonly sizeBytes: number;
  /** Stored names no canonical weight reads, in file order. */
  readonly ignored: readonly string[];
  readonly description: string;
}

export interface WanTransformerPart extends PartCommon {
  readonly part: 'transformer';
  readonly config: WanTransformerConfig;
  /** '1.3B' / '14B' for the released sizes; null for another width (the tests' tiny model). */
  readonly size: '1.3B' | '14B' | null;
  /** ComfyUI's `model.diffusion_model.` when the file carries it, else ''. */
  readonly prefix: string;
}

export interface Umt5Dims {
  readonly dModel: number;
  readonly vocab: number;
  readonly layers: number;
  readonly heads: number;
  /** heads × d_kv (UMT5-XXL: 64 × 64). */
  readonly inner: number;
  readonly dFf: number;
  readonly buckets: number;
}

export interface WanTextEncoderPart extends PartCommon {
  readonly part: 'textEncoder';
  readonly dims: Umt5Dims;
  /** UMT5-XXL's own dimensions (24 layers of 4096, 256384 ids). */
  readonly isXxl: boolean;
  /** The sentencepiece model ComfyUI stores inside its files (`spiece_model`, uint8). */
  readonly spiece: TensorRef | null;
}

export interface WanVaeDims {
  readonly zDim: number;
  readonly hasEncoder: boolean;
}

export interface WanVaePart extends PartCommon {
  readonly part: 'vae';
  readonly dims: WanVaeDims;
}

export type WanPartReading = WanTransformerPart | WanTextEncoderPart | WanVaePart;

// ---------------------------------------------------------------------------------------------
// Stored tensors from the readers

function sourceOf(h: { path: string; realPath: string; size: number; mtimeMs: number }): SourceFile {
  return { path: h.path, realPath: h.realPath, size: h.size, mtimeMs: h.mtimeMs };
}

/** The tensors of one safetensors file or of the shards of one component; a name in two shards is refused. */
export function storedFromSafetensors(headers: readonly SafetensorsHeader[], label?: string): StoredTensors {
  const refs = new Map<string, TensorRef>();
  for (const header of headers) {
    for (const [name, ref] of tensorRefs(header)) {
      const first = refs.get(name);
      if (first) throw new WeightFileError('corrupt', `${basename(header.path)} and ${first.origin.split(':')[0]} both hold ${name}: the shards are mixed from two downloads — download them again`);
      refs.set(name, ref);
    }
  }
  return {
    label: label ?? (headers.length === 1 ? basename(headers[0]!.path) : `${headers.length} files`),
    refs,
    files: headers.map(sourceOf),
    sizeBytes: headers.reduce((s, h) => s + h.size, 0),
  };
}

/** The tensors of a PyTorch archive (Wan-AI's `.pth` parts). */
export function storedFromPth(header: PthHeader, label?: string): StoredTensors {
  return { label: label ?? basename(header.path), refs: pthTensorRefs(header), files: [sourceOf(header)], sizeBytes: header.size };
}

// ---------------------------------------------------------------------------------------------
// Which part, in which naming

export interface PartGuess {
  readonly part: WanPart;
  readonly naming: WanNaming;
  readonly prefix: string;
}

const WAN_VAE_ORIGINAL = /^(encoder|decoder)\.(downsamples|upsamples|middle)\.\d+\./;
const WAN_VAE_CANONICAL = /^(encoder|decoder)\.(down_blocks|up_blocks|mid_block)\..*\.gamma$/;

/** The WAN part the names belong to, or null when they are not one (a file of another family). */
export function guessWanPart(names: readonly string[]): PartGuess | null {
  const any = (re: RegExp): boolean => names.some((n) => re.test(n));
  const prefixed = names.filter((n) => n.startsWith(COMFY_DIFFUSION_PREFIX)).map((n) => n.slice(COMFY_DIFFUSION_PREFIX.length));
  for (const [list, prefix] of [[names, ''], [prefixed, COMFY_DIFFUSION_PREFIX]] as const) {
    const has = (re: RegExp): boolean => list.some((n) => re.test(n));
    if (has(/^blocks\.\d+\.(self_attn|cross_attn)\./) || (has(/^patch_embedding\.weight$/) && has(/^(head\.head|text_embedding\.0)\./))) {
      return { part: 'transformer', naming: 'wan', prefix };
    }
  }
  if (any(/^condition_embedder\./) || (any(/^patch_embedding\.weight$/) && any(/^blocks\.\d+\.attn1\./))) return { part: 'transformer', naming: 'diffusers', prefix: '' };
  if (any(/^encoder\.block\.\d+\.layer\.0\.SelfAttention\./)) return { part: 'textEncoder', naming: 'transformers', prefix: '' };
  if (any(/^blocks\.\d+\.attn\.[qkvo]\.weight$/) || (names.includes('token_embedding.weight') && any(/^blocks\.\d+\.ffn\.fc1\./))) {
    return { part: 'textEncoder', naming: 'wan', prefix: '' };
  }
  if (any(WAN_VAE_ORIGINAL)) return { part: 'vae', naming: 'wan', prefix: '' };
  if (any(WAN_VAE_CANONICAL)) return { part: 'vae', naming: 'diffusers', prefix: '' };
  return null;
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

export function incomplete(stored: StoredTensors, what: string, reading: LayoutReading): WeightFileError {
  const n = reading.missing.length;
  return new WeightFileError(
    'incomplete',
    `${stored.label} is ${what}, but it lacks ${n} of its weight${n > 1 ? 's' : ''} (${reading.missing[0]}${n > 1 ? ', …' : ''}) — the file is incomplete or damaged: download it again`,
  );
}

export function ignoredNames(stored: StoredTensors, used: ReadonlySet<string>): string[] {
  return [...stored.refs.keys()].filter((n) => !used.has(n));
}

export function precisionLabel(dtype: WeightDtype | null, scaled: boolean): string {
  if (!dtype) return 'unknown precision';
  return scaled ? `${DTYPE_LABEL[dtype]} scaled` : DTYPE_LABEL[dtype];
}

/** 2.8 GB, 508 MB — decimal units, as download pages show sizes (identify.ts `formatSize`). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} KB`;
}

export const CHOOSE_T2V = 'choose a WAN 2.1 text-to-video model (T2V 1.3B or 14B)';
export const CHOOSE_VAE = "choose WAN 2.1's VAE (Wan2.1_VAE.pth, wan_2.1_vae.safetensors), which every WAN 2.1 model uses";
export const CHOOSE_TEXT = "choose WAN's UMT5-XXL text encoder (umt5_xxl_fp16.safetensors or umt5_xxl_fp8_e4m3fn_scaled.safetensors from ComfyUI, models_t5_umt5-xxl-enc-bf16.pth from Wan-AI)";

