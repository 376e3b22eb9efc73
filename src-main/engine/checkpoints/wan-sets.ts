/**
 * A WAN 2.1 text-to-video model as one model — its transformer, UMT5 text encoder and VAE as
 * canonical weights, and where its tokenizer is — from a folder (wan-folders.ts) or from the files
 * of its parts chosen one by one, with one sentence for a part missing, two of one part, parts of
 * two different models or sizes (a transformer config.json of another size, a text encoder of
 * another width, a VAE of another latent). `readWanParts` is the API the preparation builds on.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { WanTransformerConfig } from '../architectures/wan/transformer-config.ts';
import type { WeightDtype } from '../weights/dtypes.ts';
import { WeightFileError } from '../weights/errors.ts';
import type { WeightSet } from '../weights/tensor-ref.ts';
import { readShards } from './diffusers-folder.ts';
import { add, configMismatch, emptyFound, PART_NAME, partWithConfig, peekJson, readFolderSet, TOKENIZER_FILES, tokenizerIn, weightFilesIn } from './wan-folders.ts';
import type { Found, WanSetLayout, WanTokenizerSource } from './wan-folders.ts';
import { partOf, storedFromFile } from './wan-part-file.ts';
import { formatBytes, guessWanPart, storedFromSafetensors } from './wan-parts.ts';
import type { SourceFile, StoredTensors, Umt5Dims, WanPart, WanPartReading, WanTextEncoderPart, WanTransformerPart, WanVaeDims, WanVaePart } from './wan-parts.ts';

export type { WanSetLayout, WanTokenizerSource } from './wan-folders.ts';

export type WanSize = '1.3B' | '14B';

/** A whole WAN 2.1 T2V model, read: the canonical weights of its three parts and where its tokenizer is. */
export interface WanParts {
  readonly layout: WanSetLayout;
  readonly transformer: WeightSet;
  readonly textEncoder: WeightSet;
  readonly vae: WeightSet;
  readonly tokenizer: WanTokenizerSource;
  readonly size: WanSize | null;
  /** The transformer's main precision. */
  readonly dtype: WeightDtype | null;
  readonly sizeBytes: number;
  /** "WAN 2.1 T2V 1.3B, bf16, 17.4 GB (Wan-AI release)". */
  readonly description: string;
  readonly transformerConfig: WanTransformerConfig;
  readonly textEncoderDims: Umt5Dims;
  readonly vaeDims: WanVaeDims;
  /** Each part's reading (naming, fp8 scales, files, keys no weight reads). */
  readonly parts: { readonly transformer: WanTransformerPart; readonly textEncoder: WanTextEncoderPart; readonly vae: WanVaePart };
  /** Every file the weights live in, for telling later whether one was moved or changed. */
  readonly files: readonly SourceFile[];
  /** A diffusers folder's scheduler/scheduler_config.json (UniPC with its flow shift), when it has one. */
  readonly schedulerConfig: Record<string, unknown> | null;
}

export const WHERE_FROM: Readonly<Record<WanPart, string>> = {
  transformer: 'wan2.1_t2v_1.3B_fp16.safetensors (ComfyUI) or diffusion_pytorch_model.safetensors with its config.json (Wan-AI)',
  textEncoder: 'umt5_xxl_fp16.safetensors (ComfyUI) or models_t5_umt5-xxl-enc-bf16.pth (Wan-AI)',
  vae: 'wan_2.1_vae.safetensors (ComfyUI) or Wan2.1_VAE.pth (Wan-AI)',
};
const LAYOUT_LABEL: Readonly<Record<WanSetLayout, string>> = { diffusers: 'diffusers folder', wan_ai: 'Wan-AI release', comfyui: 'ComfyUI files', files: 'chosen files' };

function wrongKind(sentence: string): WeightFileError {
  return new WeightFileError('wrong_kind', sentence);
}

function describeSet(layout: WanSetLayout, t: WanTransformerPart, sizeBytes: number): string {
  const what = t.size ? `WAN 2.1 T2V ${t.size}` : `WAN 2.1 T2V (${t.config.dim} wide, ${t.config.numLayers} blocks)`;
  return `${what}, ${t.precision}, ${formatBytes(sizeBytes)} (${LAYOUT_LABEL[layout]})`;
}

/** The one part of each kind, the tokenizer, and the checks that they belong to one model. */
export function assemble(where: string, found: Found, folderSet: boolean): WanParts {
  const layout = found.layout ?? 'files';
  const one = <T extends WanPartReading>(list: readonly T[], part: WanPart): T => {
    if (list.length === 0) {
      const subject = folderSet ? `${where} has no WAN ${PART_NAME[part]}` : `The chosen files have no WAN ${PART_NAME[part]}`;
      throw new WeightFileError('incomplete', `${subject}: a WAN 2.1 model needs its transformer, text encoder and VAE — add ${WHERE_FROM[part]}`);
    }
    if (list.length > 1) {
      const names = list.map((p) => p.files.map((f) => basename(f.path)).join(' + '));
      throw new WeightFileError('wrong_kind', `${folderSet ? `${where} holds` : 'The chosen files hold'} ${list.length} WAN ${PART_NAME[part]}s (${names.join(', ')}): choose one of them, with one text encoder and one VAE`);
    }
    return list[0]!;
  };
  const transformer = one(found.transformer, 'transformer');
  const textEncoder = one(found.textEncoder, 'textEncoder');
  const vae = one(found.vae, 'vae');

  if (found.transformerConfig) {
    const mismatch = configMismatch(found.transformerConfig.path, found.transformerConfig.config, transformer);
    if (mismatch) throw wrongKind(mismatch);
  }
  const tLabel = transformer.weights.label;
  if (transformer.config.textDim !== textEncoder.dims.dModel) {
    throw wrongKind(
      `${tLabel} reads ${transformer.config.textDim}-wide text states but the text encoder ${textEncoder.weights.label} gives ${textEncoder.dims.dModel}-wide ones: they belong to different models — ${transformer.config.textDim === 4096 ? 'use the UMT5-XXL encoder WAN 2.1 ships' : 'use the text encoder that came with this transformer'}`,
    );
  }
  if (transformer.config.inChannels !== vae.dims.zDim || transformer.config.outChannels !== vae.dims.zDim) {
    throw wrongKind(`${tLabel} works on ${transformer.config.inChannels}-channel latents but the VAE ${vae.weights.label} makes ${vae.dims.zDim}-channel ones: they belong to different models`);
  }
  let tokenizer: WanTokenizerSource | undefined = found.tokenizers[0];
  if (!tokenizer && textEncoder.spiece) tokenizer = { kind: 'spiece_model', tensor: textEncoder.spiece };
  if (!tokenizer) {
    throw new WeightFileError(
      'incomplete',
      `${folderSet ? `${where} has` : 'The chosen files have'} no tokenizer for the text encoder: use ComfyUI's UMT5 file (its spiece_model is inside), or add the tokenizer folder (tokenizer/ of the diffusers model, google/umt5-xxl/ of Wan-AI's release)`,
    );
  }
  const all = [transformer, textEncoder, vae];
  const files = all.flatMap((p) => p.files);
  const sizeBytes = files.reduce((s, f) => s + f.size, 0);
  return {
    layout,
    transformer: transformer.weights,
    textEncoder: textEncoder.weights,
    vae: vae.weights,
    tokenizer,
    size: transformer.size,
    dtype: transformer.dtype,
    sizeBytes,
    description: describeSet(layout, transformer, sizeBytes),
    transformerConfig: transformer.config,
    textEncoderDims: textEncoder.dims,
    vaeDims: vae.dims,
    parts: { transformer, textEncoder, vae },
    files,
    schedulerConfig: found.schedulerConfig,
  };
}

/**
 * Reads a WAN 2.1 T2V model into canonical weights: one folder (diffusers, Wan-AI's release, a
 * ComfyUI `models/` folder) or the files of its parts chosen one by one (ComfyUI's three files;
 * a transformer's `*.safetensors.index.json`; a tokenizer folder or `tokenizer.json` /
 * `spiece.model` beside them when the text encoder carries none). Throws a `WeightFileError`
 * whose message is one sentence for anything it will not take.
 */
export async function readWanParts(paths: string | readonly string[]): Promise<WanParts> {
  const list = typeof paths === 'string' ? [paths] : [...paths];
  if (list.length === 0) throw new WeightFileError('incomplete', 'No files were chosen: choose a WAN 2.1 model folder, or its transformer, text encoder and VAE files');
  const found = emptyFound();
  for (const path of list) {
    const info = statSync(path, { throwIfNoEntry: false });
    if (!info) throw new WeightFileError('not_found', `${path} does not exist (moved, renamed or on a drive that is not connected?)`);
    if (info.isDirectory()) {
      const tokenizer = tokenizerIn(path);
      if (tokenizer && weightFilesIn(path).length === 0) {
        found.tokenizers.push(tokenizer);
        continue;
      }
      const folderFound = await readFolderSet(path);
      if (!folderFound) throw wrongKind(`${basename(path)} is a folder that holds no WAN 2.1 model the studio recognises (no model_index.json of a Wan pipeline, no Wan-AI config.json, no ComfyUI models folders)`);
      if (list.length === 1) return assemble(basename(path), folderFound, true);
      found.transformer.push(...folderFound.transformer);
      found.textEncoder.push(...folderFound.textEncoder);
      found.vae.push(...folderFound.vae);
      found.tokenizers.push(...folderFound.tokenizers);
      found.transformerConfig ??= folderFound.transformerConfig;
      found.schedulerConfig ??= folderFound.schedulerConfig;
      continue;
    }
    const name = basename(path);
    if (name === 'tokenizer.json' || name === 'spiece.model') {
      found.tokenizers.push(name === 'spiece.model' ? { kind: 'spiece.model', file: path } : { kind: 'tokenizer.json', folder: dirname(path), files: readdirSync(dirname(path)).filter((f) => TOKENIZER_FILES.includes(f)).sort() });
      continue;
    }
    let stored: StoredTensors;
    if (name.endsWith('.safetensors.index.json')) {
      const headers = await readShards(path);
      stored = storedFromSafetensors(headers, `${name.replace(/\.safetensors\.index\.json$/, '')} (${headers.length} shards)`);
    } else {
      stored = await storedFromFile(path);
    }
    // A transformer picked from Wan-AI's or diffusers' folder keeps the config.json beside it.
    const isTransformer = guessWanPart([...stored.refs.keys()])?.part === 'transformer';
    const beside = isTransformer ? peekJson(join(dirname(path), 'config.json')) : null;
    const config = beside && (beside._class_name === 'WanModel' || beside._class_name === 'WanTransformer3DModel') ? { path: join(dirname(path), 'config.json'), config: beside } : null;
    const part = isTransformer ? partWithConfig(stored, config) : partOf(stored);
    if (!part) throw wrongKind(`${name} is not a part of a WAN model (its tensors are no WAN transformer, UMT5 text encoder or WAN VAE): choose ${WHERE_FROM.transformer}, ${WHERE_FROM.textEncoder} and ${WHERE_FROM.vae}`);
    if (part.part === 'transformer' && config) found.transformerConfig = config;
    add(found, part);
  }
  return assemble('the chosen files', found, false);
}

