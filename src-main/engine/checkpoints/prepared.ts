/**
 * The on-disk form of a model the studio prepared from a creator's checkpoint: a folder in the
 * Optimum ONNX layout the pipelines already run (model_index.json, unet/, text_encoder/, …) whose
 * graphs hold no weights — each component's `weights.json` names the folder of the user's own
 * file(s) that the graph's external data points into — plus `prepared.json` at the root saying
 * where it came from (for reuse, the Models view and the recipe's model hash).
 *
 * Each component has `model.onnx` (float32, plain operators: every provider, the CPU included)
 * and `model.gpu.onnx` for GPU providers (float16 with fused attention; the VAE stays float32 unless
 * it is fp16-safe).
 *
 * A WAN 2.1 model (wan-prepare.ts) has transformer/, text_encoder/ and vae_decoder/ the same way,
 * each with its own weights.json (ComfyUI's three files may live in three folders), a
 * `tokenizer/` (tokenizer.json, or `spiece.model`) and the `wan` block in prepared.json.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

export const PREPARED_MANIFEST = 'prepared.json';
export const COMPONENT_WEIGHTS = 'weights.json';
export const CPU_GRAPH = 'model.onnx';
export const GPU_GRAPH = 'model.gpu.onnx';
export const PREPARED_FORMAT = 1;

export interface WeightFileStamp {
  /** File name inside `folder` (as the graph's external-data locations name it). */
  readonly name: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface ComponentWeights {
  readonly format: number;
  /** Real folder of the user's file(s): the session's external-data folder. */
  readonly folder: string;
  readonly files: readonly WeightFileStamp[];
  /** Bytes of the weights this component's graph uses (what it occupies in memory, roughly). */
  readonly bytes: number;
}

export interface SourceStamp {
  readonly path: string;
  readonly realPath: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface PreparedManifest {
  readonly format: number;
  readonly kind: 'sdxl_single_file' | 'sdxl_diffusers' | WanPreparedKind;
  /** The checkpoint file or model folder as the user named it (the first file of a WAN model's chosen parts). */
  readonly input: string;
  readonly name: string;
  readonly description: string;
  /** sha256 of the checkpoint file (a diffusers folder: of its UNet weight files in order; WAN: of the transformer's file(s)). */
  readonly sha256: string;
  /** A1111's "Model hash": the first 10 hex digits of the file's sha256. */
  readonly shortHash: string;
  readonly sources: readonly SourceStamp[];
  readonly vae: SourceStamp | null;
  readonly prediction: 'epsilon' | 'v_prediction' | 'flow_prediction';
  readonly precision: 'fp32' | 'fp16' | 'bf16' | 'mixed';
  /** Bytes of all weights the graphs use (VRAM planning). */
  readonly weightBytes: number;
  readonly appVersion: string;
  readonly preparedAt: string;
  /** A WAN 2.1 model: what its parts are (absent for SDXL). */
  readonly wan?: PreparedWan;
}

/** Where a WAN 2.1 model came from: a diffusers folder, Wan-AI's release, ComfyUI files (a models/ folder), files chosen one by one. */
export type WanPreparedKind = 'wan_diffusers' | 'wan_ai' | 'wan_comfyui' | 'wan_files';

export interface PreparedWan {
  /** '1.3B' / '14B', or null for another width. */
  readonly size: '1.3B' | '14B' | null;
  /** Width of the text states the transformer reads (UMT5-XXL: 4096). */
  readonly textDim: number;
  /** Each part's file(s) and precision, for the Models view. */
  readonly parts: Readonly<Record<'transformer' | 'textEncoder' | 'vae', { readonly files: readonly string[]; readonly precision: string; readonly description: string }>>;
  /** Where the tokenizer came from: 'tokenizer.json', 'spiece.model' or ComfyUI's 'spiece_model' tensor. */
  readonly tokenizer: 'tokenizer.json' | 'spiece.model' | 'spiece_model';
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

/** A component's weights.json, or null for a component that carries its own weights (an ONNX export). */
export function readComponentWeights(componentDir: string): ComponentWeights | null {
  const path = join(componentDir, COMPONENT_WEIGHTS);
  if (!existsSync(path)) return null;
  let parsed: ComponentWeights;
  try {
    parsed = readJson(path) as ComponentWeights;
  } catch {
    throw new Error(`${basename(componentDir)}/${COMPONENT_WEIGHTS} is not valid JSON: prepare the model again`);
  }
  if (parsed.format !== PREPARED_FORMAT || typeof parsed.folder !== 'string' || !Array.isArray(parsed.files)) {
    throw new Error(`${basename(componentDir)}/${COMPONENT_WEIGHTS} is from another version of the studio: prepare the model again`);
  }
  return parsed;
}

/**
 * Why the files a prepared component points into can no longer be used (moved, deleted, changed
 * size — a different file under the same name), or null when they are as they were.
 */
export function componentWeightsProblem(component: string, weights: ComponentWeights): string | null {
  for (const file of weights.files) {
    const path = join(weights.folder, file.name);
    const info = statSync(path, { throwIfNoEntry: false });
    if (!info) return `${component}: ${path}, which this model was prepared from, is gone (moved, renamed, or its drive is not connected) — put it back or add the model again`;
    if (info.size !== file.size) return `${component}: ${path} has changed since this model was prepared (${info.size} bytes, was ${file.size}) — add the model again`;
  }
  return null;
}

export function readPreparedManifest(folder: string): PreparedManifest | null {
  const path = join(folder, PREPARED_MANIFEST);
  if (!existsSync(path)) return null;
  try {
    const manifest = readJson(path) as PreparedManifest;
    return manifest.format === PREPARED_FORMAT ? manifest : null;
  } catch {
    return null;
  }
}
