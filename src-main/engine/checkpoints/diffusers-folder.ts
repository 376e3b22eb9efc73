/**
 * The weight files of a diffusers SDXL folder (as the Hugging Face Hub publishes
 * stabilityai/stable-diffusion-xl-base-1.0 and its fine-tunes): per component one
 * `*.safetensors`, a `.fp16` variant of it, or shards listed in `*.safetensors.index.json`.
 * diffusers' and transformers' parameter names are the studio's canonical names, so the tensors
 * map onto themselves; only the files have to be found and their headers checked.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readSafetensorsHeader, tensorRefs } from '../weights/safetensors.ts';
import type { SafetensorsHeader } from '../weights/safetensors.ts';
import { WeightFileError } from '../weights/errors.ts';
import { parsePythonJson } from '../fs/python-json.ts';
import { WeightSet } from '../weights/tensor-ref.ts';
import type { TensorRef } from '../weights/tensor-ref.ts';

export const SDXL_DIFFUSERS_COMPONENTS = ['unet', 'text_encoder', 'text_encoder_2', 'vae'] as const;
export type SdxlDiffusersComponent = (typeof SDXL_DIFFUSERS_COMPONENTS)[number];

export interface ComponentWeights {
  readonly folder: string;
  readonly headers: readonly SafetensorsHeader[];
  readonly config: Record<string, unknown>;
}

export type DiffusersComponentFiles = Readonly<Record<SdxlDiffusersComponent, ComponentWeights>>;

const BASE_NAME: Record<SdxlDiffusersComponent, string> = {
  unet: 'diffusion_pytorch_model',
  text_encoder: 'model',
  text_encoder_2: 'model',
  vae: 'diffusion_pytorch_model',
};

/** fp16 variant first: it is what the GPU graphs compute in, so its bytes are used as they are. */
const VARIANTS = ['.fp16', ''];

/** The headers of every shard an `*.safetensors.index.json` lists, each checked to hold what the index says. */
export async function readShards(indexPath: string): Promise<SafetensorsHeader[]> {
  let index: { weight_map?: Record<string, string> };
  try {
    index = JSON.parse(readFileSync(indexPath, 'utf8')) as typeof index;
  } catch {
    throw new WeightFileError('corrupt', `${basename(indexPath)} is not valid JSON; download it again`);
  }
  const map = index.weight_map ?? {};
  const shardNames = [...new Set(Object.values(map))];
  if (shardNames.length === 0) throw new WeightFileError('corrupt', `${basename(indexPath)} lists no weight files`);
  const headers: SafetensorsHeader[] = [];
  for (const shard of shardNames) {
    if (shard.includes('/') || shard.includes('\\') || shard.startsWith('.')) {
      throw new WeightFileError('corrupt', `${basename(indexPath)} names a shard outside its folder (${shard})`);
    }
    const file = join(dirname(indexPath), shard);
    if (!existsSync(file)) throw new WeightFileError('incomplete', `${shard} (listed in ${basename(indexPath)}) is missing: the download is incomplete`);
    headers.push(await readSafetensorsHeader(file));
  }
  for (const [tensor, shard] of Object.entries(map)) {
    const header = headers[shardNames.indexOf(shard)]!;
    if (!header.tensors.has(tensor)) {
      throw new WeightFileError('corrupt', `${shard} does not hold ${tensor}, which ${basename(indexPath)} says it does: the download is incomplete or mixed`);
    }
  }
  return headers;
}

/**
 * The headers of `<base>.safetensors` in a folder, its `.fp16` variant first, or of the shards its
 * `*.safetensors.index.json` lists; null when the folder has neither.
 */
export async function findSafetensorsWeights(folder: string, base: string): Promise<SafetensorsHeader[] | null> {
  for (const variant of VARIANTS) {
    const single = join(folder, `${base}${variant}.safetensors`);
    if (existsSync(single)) return [await readSafetensorsHeader(single)];
    const index = join(folder, `${base}${variant}.safetensors.index.json`);
    if (existsSync(index)) return readShards(index);
  }
  return null;
}

async function componentWeights(root: string, component: SdxlDiffusersComponent): Promise<ComponentWeights> {
  const folder = join(root, component);
  if (!existsSync(folder)) throw new WeightFileError('incomplete', `${basename(root)} has no ${component}/ folder: the diffusers model is incomplete`);
  let config: Record<string, unknown> = {};
  const configPath = join(folder, 'config.json');
  if (existsSync(configPath)) {
    try {
      config = parsePythonJson(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    } catch {
      throw new WeightFileError('corrupt', `${component}/config.json is not valid JSON`);
    }
  }
  const base = BASE_NAME[component];
  const headers = await findSafetensorsWeights(folder, base);
  if (headers) return { folder, headers, config };
  for (const pickle of [`${base}.bin`, `${base}.fp16.bin`, 'pytorch_model.bin', 'pytorch_model.fp16.bin']) {
    if (existsSync(join(folder, pickle))) {
      throw new WeightFileError('unsafe', `${component}/${pickle} is a PyTorch pickle, which can run code when opened: download the .safetensors files of this model instead`);
    }
  }
  throw new WeightFileError('incomplete', `${component}/ has no ${base}.safetensors (or its shards): the diffusers model is incomplete`);
}

export async function findDiffusersWeights(root: string): Promise<DiffusersComponentFiles> {
  const found = {} as Record<SdxlDiffusersComponent, ComponentWeights>;
  for (const component of SDXL_DIFFUSERS_COMPONENTS) found[component] = await componentWeights(root, component);
  return found;
}

/** A component's tensors as canonical weights (its names already are), across all its shards. */
export function componentWeightSet(component: SdxlDiffusersComponent, weights: ComponentWeights): WeightSet {
  const refs = new Map<string, TensorRef>();
  for (const header of weights.headers) {
    for (const [name, ref] of tensorRefs(header)) {
      if (refs.has(name)) throw new WeightFileError('corrupt', `${component}: ${name} appears in two shards`);
      refs.set(name, ref);
    }
  }
  return new WeightSet(`${component}/ of the diffusers model`, refs);
}
