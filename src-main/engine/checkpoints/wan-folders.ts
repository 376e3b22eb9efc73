/**
 * The WAN 2.1 folders as they are published, read into their parts: a diffusers folder
 * (`model_index.json` of a Wan pipeline; `transformer/`, `text_encoder/`, `vae/`, `tokenizer/`,
 * `scheduler/`), Wan-AI's release (`config.json` of `WanModel`, the transformer's safetensors, the
 * `.pth` parts found by their tensors, the `google/umt5-xxl/` tokenizer folder) and a ComfyUI
 * `models/` folder (`diffusion_models/`, `text_encoders/`, `vae/`). The folders' own conventions
 * (component folders, the file names Wan-AI's loader opens) only say where to look; what each
 * file is comes from its tensors. wan-sets.ts makes one model of what is found.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { WanTransformerHints } from '../architectures/wan/transformer-config.ts';
import { parsePythonJson } from '../fs/python-json.ts';
import { WeightFileError } from '../weights/errors.ts';
import type { TensorRef } from '../weights/tensor-ref.ts';
import { findSafetensorsWeights } from './diffusers-folder.ts';
import { partOf, storedFromFile } from './wan-part-file.ts';
import { CHOOSE_T2V, storedFromSafetensors } from './wan-parts.ts';
import type { StoredTensors, WanPart, WanPartReading, WanTextEncoderPart, WanTransformerPart, WanVaePart } from './wan-parts.ts';

/** Where a set came from: a diffusers folder, Wan-AI's release folder, a ComfyUI models folder, or files picked one by one. */
export type WanSetLayout = 'diffusers' | 'wan_ai' | 'comfyui' | 'files';

export type WanTokenizerSource =
  /** A transformers tokenizer folder (diffusers' `tokenizer/`, Wan-AI's `google/umt5-xxl/`): tokenizer.json, spiece.model… */
  | { readonly kind: 'tokenizer.json'; readonly folder: string; readonly files: readonly string[] }
  /** A SentencePiece model file on its own. */
  | { readonly kind: 'spiece.model'; readonly file: string }
  /** The SentencePiece model inside ComfyUI's text encoder file (its `spiece_model` tensor, uint8 bytes). */
  | { readonly kind: 'spiece_model'; readonly tensor: TensorRef };

export const PART_NAME: Readonly<Record<WanPart, string>> = { transformer: 'transformer', textEncoder: 'text encoder', vae: 'VAE' };
export const PART_WHAT: Readonly<Record<WanPart, string>> = { transformer: 'a WAN video transformer', textEncoder: 'a text encoder', vae: 'a WAN VAE' };

function wrongKind(sentence: string): WeightFileError {
  return new WeightFileError('wrong_kind', sentence);
}

export function readJsonFile(path: string): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  try {
    const value = parsePythonJson(readFileSync(path, 'utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    throw new WeightFileError('corrupt', `${basename(dirname(path))}/${basename(path)} is not valid JSON: download it again`);
  }
}

export function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

export interface Found {
  transformer: WanTransformerPart[];
  textEncoder: WanTextEncoderPart[];
  vae: WanVaePart[];
  tokenizers: WanTokenizerSource[];
  /** Transformer config.json: Wan-AI's (`WanModel`) or diffusers' (`WanTransformer3DModel`), with where it was. */
  transformerConfig: { path: string; config: Record<string, unknown> } | null;
  schedulerConfig: Record<string, unknown> | null;
  layout: WanSetLayout | null;
}

export function emptyFound(): Found {
  return { transformer: [], textEncoder: [], vae: [], tokenizers: [], transformerConfig: null, schedulerConfig: null, layout: null };
}

export function add(found: Found, part: WanPartReading): void {
  if (part.part === 'transformer') found.transformer.push(part);
  else if (part.part === 'textEncoder') found.textEncoder.push(part);
  else found.vae.push(part);
}

export const TOKENIZER_FILES = ['tokenizer.json', 'spiece.model', 'tokenizer_config.json', 'special_tokens_map.json'];

/** A tokenizer folder (tokenizer.json or spiece.model inside), or null. */
export function tokenizerIn(folder: string): WanTokenizerSource | null {
  if (!isDirectory(folder)) return null;
  const files = readdirSync(folder).filter((f) => TOKENIZER_FILES.includes(f));
  if (files.includes('tokenizer.json')) return { kind: 'tokenizer.json', folder, files: files.sort() };
  if (files.includes('spiece.model')) return { kind: 'spiece.model', file: join(folder, 'spiece.model') };
  return null;
}

/** Hints a transformer config.json gives the builder (heads, eps), in either publisher's spelling. */
export function hintsFrom(config: Record<string, unknown> | null): WanTransformerHints | undefined {
  if (!config) return undefined;
  const num = (k: string): number | undefined => (typeof config[k] === 'number' ? (config[k] as number) : undefined);
  const heads = num('num_attention_heads') ?? num('num_heads');
  const headDim = num('attention_head_dim');
  const eps = num('eps');
  return { ...(heads !== undefined ? { heads } : {}), ...(headDim !== undefined ? { headDim } : {}), ...(eps !== undefined ? { eps } : {}) };
}

/**
 * A file's part, with the transformer config.json beside it: the weights are sized by WAN's head
 * rule first, so a config.json of another size is named as such (rather than as heads that do
 * not divide the width), then with the config's hints.
 */
export function partWithConfig(stored: StoredTensors, config: { path: string; config: Record<string, unknown> } | null): WanPartReading | null {
  const hints = hintsFrom(config?.config ?? null);
  if (!config || !hints || Object.keys(hints).length === 0) return partOf(stored);
  let plain: WanPartReading | null;
  try {
    plain = partOf(stored);
  } catch (e) {
    if (e instanceof WeightFileError) return partOf(stored, hints);
    throw e;
  }
  if (plain?.part !== 'transformer') return plain;
  const mismatch = configMismatch(config.path, config.config, plain);
  if (mismatch) throw wrongKind(mismatch);
  return partOf(stored, hints);
}

const OTHER_PIPELINES: Readonly<Record<string, string>> = {
  WanImageToVideoPipeline: 'a WAN image-to-video model',
  WanVACEPipeline: 'a WAN VACE model (reference and control videos)',
  WanAnimatePipeline: 'a WAN Animate model',
  WanSpeechToVideoPipeline: 'a WAN speech-to-video model',
};

/** A diffusers WAN folder (model_index.json names a Wan pipeline). */
async function readDiffusersFolder(root: string, index: Record<string, unknown>, found: Found): Promise<void> {
  const name = basename(root);
  const cls = String(index._class_name ?? '');
  if (OTHER_PIPELINES[cls]) throw wrongKind(`${name} is ${OTHER_PIPELINES[cls]} (${cls}), not a text-to-video one: ${CHOOSE_T2V}`);
  if (index.transformer_2 || index.boundary_ratio !== undefined) {
    throw wrongKind(`${name} is WAN 2.2 A14B (two transformers, for high and low noise), not WAN 2.1: ${CHOOSE_T2V}`);
  }
  found.layout = 'diffusers';
  const component = async (folder: string, base: string, expected: WanPart): Promise<void> => {
    const dir = join(root, folder);
    if (!isDirectory(dir)) throw new WeightFileError('incomplete', `${name} has no ${folder}/ folder, which holds its ${PART_NAME[expected]}: the diffusers model is incomplete — download it again`);
    const headers = await findSafetensorsWeights(dir, base);
    if (!headers) {
      const pickle = readdirSync(dir).find((f) => f.endsWith('.bin'));
      if (pickle) throw new WeightFileError('unsafe', `${folder}/${pickle} is a PyTorch pickle, which can run code when opened: download the .safetensors files of this model instead`);
      throw new WeightFileError('incomplete', `${folder}/ has no ${base}.safetensors (or its shards): the diffusers model is incomplete — download it again`);
    }
    const label = headers.length === 1 ? `${folder}/${basename(headers[0]!.path)}` : `${folder}/ (${headers.length} shards)`;
    const json = expected === 'transformer' ? readJsonFile(join(dir, 'config.json')) : null;
    const config = json ? { path: join(dir, 'config.json'), config: json } : null;
    if (config) found.transformerConfig = config;
    const part = partWithConfig(storedFromSafetensors(headers, label), config);
    if (part?.part !== expected) {
      throw wrongKind(`${label} holds ${part ? PART_WHAT[part.part] : 'no WAN weights'} where a WAN diffusers folder has its ${PART_NAME[expected]}: the folder is mixed up — download it again`);
    }
    add(found, part);
  };
  await component('transformer', 'diffusion_pytorch_model', 'transformer');
  await component('text_encoder', 'model', 'textEncoder');
  await component('vae', 'diffusion_pytorch_model', 'vae');
  const tokenizer = tokenizerIn(join(root, 'tokenizer'));
  if (tokenizer) found.tokenizers.push(tokenizer);
  found.schedulerConfig = readJsonFile(join(root, 'scheduler', 'scheduler_config.json'));
}

const WAN_AI_VARIANTS: Readonly<Record<string, string>> = {
  i2v: 'an image-to-video model',
  flf2v: 'a first-last-frame-to-video model',
  vace: 'a VACE model (reference and control videos)',
  ti2v: 'WAN 2.2 TI2V 5B (a 48-channel latent)',
};

/** Weight files of a folder (not its subfolders), by name order. */
export function weightFilesIn(folder: string): string[] {
  return readdirSync(folder)
    .filter((f) => !f.startsWith('.') && /\.(safetensors|pth|pt|ckpt|bin)$/.test(f))
    .map((f) => join(folder, f))
    .filter((f) => !isDirectory(f))
    .sort();
}

/** The first tokenizer folder at most two levels below (Wan-AI's `google/umt5-xxl/`). */
function tokenizerBelow(root: string): WanTokenizerSource | null {
  for (const a of readdirSync(root).sort()) {
    const first = join(root, a);
    if (a.startsWith('.') || !isDirectory(first)) continue;
    const here = tokenizerIn(first);
    if (here) return here;
    for (const b of readdirSync(first).sort()) {
      const inner = tokenizerIn(join(first, b));
      if (inner) return inner;
    }
  }
  return null;
}

/** Wan-AI's original release: config.json (`WanModel`), the transformer's safetensors, the VAE and text encoder archives, the tokenizer folder. */
async function readWanAiFolder(root: string, config: Record<string, unknown>, found: Found): Promise<void> {
  const name = basename(root);
  const modelType = String(config.model_type ?? 't2v');
  if (modelType !== 't2v') {
    throw wrongKind(`${name} is ${WAN_AI_VARIANTS[modelType] ?? `a WAN model of type "${modelType}"`} (its config.json says model_type "${modelType}"), not a text-to-video one: ${CHOOSE_T2V}`);
  }
  found.layout = 'wan_ai';
  found.transformerConfig = { path: join(root, 'config.json'), config };
  const headers = await findSafetensorsWeights(root, 'diffusion_pytorch_model');
  if (!headers) {
    throw new WeightFileError('incomplete', `${name} has a WAN config.json but no diffusion_pytorch_model.safetensors (or its shards), which hold the transformer: the download is incomplete — download it again`);
  }
  const transformerFiles = new Set(headers.map((h) => h.path));
  const label = headers.length === 1 ? basename(headers[0]!.path) : `diffusion_pytorch_model (${headers.length} shards)`;
  const transformer = partWithConfig(storedFromSafetensors(headers, label), found.transformerConfig);
  if (transformer?.part !== 'transformer') throw wrongKind(`${label} holds ${transformer ? PART_WHAT[transformer.part] : 'no WAN weights'}, not the WAN transformer its config.json describes`);
  add(found, transformer);
  for (const file of weightFilesIn(root)) {
    if (transformerFiles.has(file)) continue;
    const part = partOf(await storedFromFile(file));
    if (part) add(found, part);
  }
  const tokenizer = tokenizerBelow(root);
  if (tokenizer) found.tokenizers.push(tokenizer);
}

const COMFY_FOLDERS: Readonly<Record<WanPart, readonly string[]>> = {
  transformer: ['diffusion_models', 'unet'],
  textEncoder: ['text_encoders', 'clip'],
  vae: ['vae'],
};

/** Whether a folder looks like ComfyUI's `models/` (a diffusion-model folder beside a text-encoder or VAE folder). */
function isComfyModels(root: string): boolean {
  const has = (names: readonly string[]): boolean => names.some((n) => isDirectory(join(root, n)));
  return has(COMFY_FOLDERS.transformer) && (has(COMFY_FOLDERS.textEncoder) || has(COMFY_FOLDERS.vae));
}

/**
 * The WAN parts in a ComfyUI `models/` folder. Other models there (SDXL checkpoints, Flux's text
 * encoders, damaged files) are passed over; WAN files the studio refuses are remembered for the
 * sentence when no usable one is left. With several candidates for a part: one transformer must
 * be chosen by the user; a text encoder with its tokenizer inside, then not fp8, then by name; a
 * VAE by name.
 */
async function readComfyModels(root: string, found: Found): Promise<string[]> {
  const passedOver: string[] = [];
  found.layout = 'comfyui';
  for (const wanted of ['transformer', 'textEncoder', 'vae'] as const) {
    for (const folderName of COMFY_FOLDERS[wanted]) {
      const folder = join(root, folderName);
      if (!isDirectory(folder)) continue;
      const files = [...weightFilesIn(folder), ...readdirSync(folder).filter((d) => !d.startsWith('.') && isDirectory(join(folder, d))).sort().flatMap((d) => weightFilesIn(join(folder, d)))];
      for (const file of files) {
        try {
          const part = partOf(await storedFromFile(file));
          if (part?.part === wanted) add(found, part);
        } catch (e) {
          if (!(e instanceof WeightFileError)) throw e;
          if (isAboutWan(e)) passedOver.push(e.message);
        }
      }
    }
  }
  const byTokenizer = (p: WanTextEncoderPart): number => (p.spiece ? 0 : 1) + (p.dtype === 'F8_E4M3' || p.dtype === 'F8_E5M2' ? 2 : 0);
  found.textEncoder.sort((a, b) => byTokenizer(a) - byTokenizer(b));
  found.textEncoder.splice(1);
  found.vae.splice(1);
  return passedOver;
}

/** Whether a refusal is about a WAN transformer (worth telling when a ComfyUI folder has no usable one). */
function isAboutWan(e: WeightFileError): boolean {
  return /\bWAN\b.*\btransformer\b|WAN 2\.2/.test(e.message);
}

/** A transformer's dimensions as a person reads them ("the 1.3B model (1536 wide, 30 blocks)"). */
function sizeWords(dim: number, layers: number): string {
  const size = dim === 1536 && layers === 30 ? 'the 1.3B model' : dim === 5120 && layers === 40 ? 'the 14B model' : 'a transformer';
  return `${size} (${dim} wide, ${layers} blocks)`;
}

/** A transformer config.json that does not describe the weights beside it (a 14B config with 1.3B weights…), as one sentence. */
export function configMismatch(configPath: string, config: Record<string, unknown>, t: WanTransformerPart): string | null {
  const num = (k: string): number | undefined => (typeof config[k] === 'number' ? (config[k] as number) : undefined);
  const heads = num('num_attention_heads');
  const dim = num('dim') ?? (heads !== undefined && num('attention_head_dim') !== undefined ? heads * num('attention_head_dim')! : undefined);
  const layers = num('num_layers');
  const ffn = num('ffn_dim');
  const c = t.config;
  if ((dim === undefined || dim === c.dim) && (layers === undefined || layers === c.numLayers) && (ffn === undefined || ffn === c.ffnDim)) return null;
  const where = `${basename(dirname(configPath))}/${basename(configPath)}`;
  return `${where} describes ${sizeWords(dim ?? c.dim, layers ?? c.numLayers)} but the transformer beside it is ${sizeWords(c.dim, c.numLayers)}: the files come from two different WAN downloads — download the model again`;
}

/** A JSON file that may be of another model entirely: null when it is absent or unreadable (its own reader names that). */
export function peekJson(path: string): Record<string, unknown> | null {
  try {
    return readJsonFile(path);
  } catch {
    return null;
  }
}

/** What kind of WAN folder this is, or null when it is none. */
export function wanFolderKind(root: string): { kind: 'diffusers' | 'wan_ai'; json: Record<string, unknown> } | { kind: 'comfyui' | 'wan22_experts' } | null {
  if (existsSync(join(root, 'model_index.json'))) {
    const index = peekJson(join(root, 'model_index.json'));
    return index && /^Wan/.test(String(index._class_name ?? '')) ? { kind: 'diffusers', json: index } : null;
  }
  const config = peekJson(join(root, 'config.json'));
  if (config && config._class_name === 'WanModel') return { kind: 'wan_ai', json: config };
  if (['high_noise_model', 'low_noise_model'].every((d) => existsSync(join(root, d, 'config.json')))) return { kind: 'wan22_experts' };
  if (isComfyModels(root)) return { kind: 'comfyui' };
  return null;
}

/**
 * A WAN folder's parts, or null when the folder is no WAN folder (a ComfyUI models folder without
 * any WAN file counts as none). When a ComfyUI folder's only WAN transformers are ones the studio
 * refuses, the first refusal is the sentence.
 */
export async function readFolderSet(root: string): Promise<Found | null> {
  const kind = wanFolderKind(root);
  if (!kind) return null;
  const found = emptyFound();
  switch (kind.kind) {
    case 'diffusers':
      await readDiffusersFolder(root, kind.json, found);
      return found;
    case 'wan_ai':
      await readWanAiFolder(root, kind.json, found);
      return found;
    case 'wan22_experts':
      throw wrongKind(`${basename(root)} is WAN 2.2 A14B (two transformers, high_noise_model/ and low_noise_model/), not WAN 2.1: ${CHOOSE_T2V}`);
    case 'comfyui': {
      const passedOver = await readComfyModels(root, found);
      const parts = found.transformer.length + found.textEncoder.length + found.vae.length;
      if (parts === 0 && passedOver.length === 0) return null;
      if (found.transformer.length === 0 && passedOver.length > 0) throw wrongKind(passedOver[0]!);
      return found;
    }
  }
}

