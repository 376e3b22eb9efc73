/**
 * The WAN 2.1 T2V ONNX layout (docs/models.md) and its validation before the app offers a folder:
 * components present, graph input/output names and dtypes as the pipeline needs them (under any
 * of the names known public exports use), external weight files whole, tokenizer and configs
 * readable. Every problem is one plain sentence. The pipeline resolves tensor names with the same
 * `resolve*` functions, so what validation accepts is what a job runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OnnxHeader } from './onnx-header.ts';
import type { ValidationReport } from './registry.ts';
import { parseFlowSchedulerConfig } from '../numerics/flow/index.ts';
import { readComponent } from './sdxl-validator.ts';
import { readPreparedManifest } from '../checkpoints/prepared.ts';

/** A graph value as both the header reader and onnxruntime's metadata describe it. */
export interface IoValue {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string | null)[];
}

export const WAN_TEXT_LENGTH = 512;
export const WAN_TEXT_WIDTH = 4096;
export const WAN_LATENT_CHANNELS = 16;

/** Names public exports give each tensor, most common first. */
export const WAN_NAMES = {
  textIds: ['input_ids'],
  textMask: ['attention_mask'],
  textOut: ['last_hidden_state'],
  /** Optimum's WAN exporter renames latent_sample to hidden_states (the diffusers argument name). */
  latents: ['hidden_states', 'latent_sample', 'sample', 'x'],
  timestep: ['timestep', 't'],
  context: ['encoder_hidden_states', 'context'],
  velocity: ['sample', 'noise_pred', 'out_sample', 'output'],
  vaeIn: ['latent_sample', 'latents'],
  vaeOut: ['sample'],
  firstChunk: ['first_chunk'],
} as const;

export const FEAT_CACHE_IN = 'feat_cache_in.';
export const FEAT_CACHE_OUT = 'feat_cache_out.';

const FLOATS = new Set(['float32', 'float16']);
const INTS = new Set(['int32', 'int64']);

function pick(values: readonly IoValue[], names: readonly string[]): IoValue | null {
  for (const n of names) {
    const v = values.find((x) => x.name === n);
    if (v) return v;
  }
  return null;
}

function list(values: readonly IoValue[]): string {
  return values.map((v) => v.name).join(', ') || 'none';
}

export interface TextEncoderIo {
  readonly ids: IoValue;
  readonly mask: IoValue | null;
  readonly output: IoValue;
  /** The sequence length when the export fixes it (e.g. 512), else null. */
  readonly fixedLength: number | null;
}

/**
 * `textWidth`: the text states' width the model is built for — UMT5-XXL's 4096 for an export; a
 * model the studio prepared from weights says its own in prepared.json (the tests' tiny models).
 */
export function resolveTextEncoderIo(inputs: readonly IoValue[], outputs: readonly IoValue[], problems: string[], textWidth = WAN_TEXT_WIDTH): TextEncoderIo | null {
  const c = 'text_encoder/model.onnx';
  const ids = pick(inputs, WAN_NAMES.textIds);
  const mask = pick(inputs, WAN_NAMES.textMask);
  const output = pick(outputs, WAN_NAMES.textOut) ?? (outputs.length === 1 ? outputs[0]! : null);
  const before = problems.length;
  if (!ids) problems.push(`${c} has no input 'input_ids' (inputs: ${list(inputs)}): it is not a UMT5 text-encoder export`);
  else if (!INTS.has(ids.type)) problems.push(`${c} input '${ids.name}' is ${ids.type}, expected int64 or int32 token ids`);
  if (mask && !INTS.has(mask.type) && !FLOATS.has(mask.type)) problems.push(`${c} input '${mask.name}' is ${mask.type}, expected an integer or float mask`);
  const extra = inputs.filter((i) => i !== ids && i !== mask);
  if (extra.length) problems.push(`${c} has inputs the WAN pipeline cannot fill: ${list(extra)}`);
  if (!output) problems.push(`${c} has no output 'last_hidden_state' (outputs: ${list(outputs)})`);
  else {
    const width = output.shape[2];
    if (typeof width === 'number' && width !== textWidth) {
      problems.push(`${c} gives ${width}-wide states; WAN 2.1 conditions on UMT5-XXL's ${textWidth}-wide states`);
    }
  }
  if (problems.length > before || !ids || !output) return null;
  const len = ids.shape[1];
  return { ids, mask, output, fixedLength: typeof len === 'number' ? len : null };
}

export interface TransformerIo {
  readonly latents: IoValue;
  readonly timestep: IoValue;
  readonly context: IoValue;
  readonly output: IoValue;
}

export function resolveTransformerIo(inputs: readonly IoValue[], outputs: readonly IoValue[], problems: string[], textWidth = WAN_TEXT_WIDTH): TransformerIo | null {
  const c = 'transformer/model.onnx';
  const latents = pick(inputs, WAN_NAMES.latents);
  const timestep = pick(inputs, WAN_NAMES.timestep);
  const context = pick(inputs, WAN_NAMES.context);
  const output = pick(outputs, WAN_NAMES.velocity) ?? (outputs.length === 1 ? outputs[0]! : null);
  const before = problems.length;
  if (!latents) problems.push(`${c} has no latent input ('hidden_states'; inputs: ${list(inputs)})`);
  else {
    if (!FLOATS.has(latents.type)) problems.push(`${c} input '${latents.name}' is ${latents.type}, expected float32 or float16`);
    if (latents.shape.length !== 5) problems.push(`${c} input '${latents.name}' has ${latents.shape.length} dimensions; WAN latents are [batch, 16, frames, height, width]`);
    else if (typeof latents.shape[1] === 'number' && latents.shape[1] !== WAN_LATENT_CHANNELS) {
      problems.push(`${c} takes ${latents.shape[1]}-channel latents; WAN 2.1 has ${WAN_LATENT_CHANNELS} (a WAN 2.2 5B export has 48)`);
    }
  }
  if (!timestep) problems.push(`${c} has no input 'timestep' (inputs: ${list(inputs)})`);
  else if (!FLOATS.has(timestep.type) && !INTS.has(timestep.type)) problems.push(`${c} input '${timestep.name}' is ${timestep.type}, expected a float or integer timestep`);
  if (!context) problems.push(`${c} has no input 'encoder_hidden_states' (inputs: ${list(inputs)})`);
  else {
    if (!FLOATS.has(context.type)) problems.push(`${c} input '${context.name}' is ${context.type}, expected float32 or float16`);
    const width = context.shape[2];
    if (typeof width === 'number' && width !== textWidth) problems.push(`${c} takes ${width}-wide text states; WAN 2.1's are ${textWidth} wide`);
  }
  const extra = inputs.filter((i) => i !== latents && i !== timestep && i !== context);
  if (extra.length) {
    problems.push(`${c} has inputs a text-to-video WAN 2.1 pipeline cannot fill (${list(extra)}): this looks like an image-to-video or other variant`);
  }
  if (!output) problems.push(`${c} has no velocity output ('sample'; outputs: ${list(outputs)})`);
  if (problems.length > before || !latents || !timestep || !context || !output) return null;
  return { latents, timestep, context, output };
}

export interface VaeFrameCache {
  readonly input: IoValue;
  readonly output: string;
  readonly channels: number;
  /** The cache's spatial size ÷ the latent's (from the shape when fixed, else config.json's feat_cache_scale). */
  readonly scale: number | null;
  /** Fixed height/width when the export states them. */
  readonly fixed: readonly [number, number] | null;
}

export type VaeDecoderIo =
  | { readonly mode: 'cached'; readonly latent: IoValue; readonly first: IoValue; readonly output: IoValue; readonly caches: readonly VaeFrameCache[] }
  | { readonly mode: 'whole'; readonly latent: IoValue; readonly output: IoValue };

export function resolveVaeDecoderIo(
  inputs: readonly IoValue[],
  outputs: readonly IoValue[],
  config: Record<string, unknown> | null,
  problems: string[],
): VaeDecoderIo | null {
  const c = 'vae_decoder/model.onnx';
  const latent = pick(inputs, WAN_NAMES.vaeIn);
  const output = pick(outputs, WAN_NAMES.vaeOut);
  const before = problems.length;
  if (!latent) problems.push(`${c} has no input 'latent_sample' (inputs: ${list(inputs)})`);
  else if (!FLOATS.has(latent.type)) problems.push(`${c} input '${latent.name}' is ${latent.type}, expected float32 or float16`);
  else if (latent.shape.length !== 5) {
    problems.push(`${c} input '${latent.name}' has ${latent.shape.length} dimensions; a WAN video VAE takes [batch, 16, frames, height, width]`);
  } else if (typeof latent.shape[1] === 'number' && latent.shape[1] !== WAN_LATENT_CHANNELS) {
    problems.push(`${c} takes ${latent.shape[1]}-channel latents; WAN 2.1's VAE has ${WAN_LATENT_CHANNELS}`);
  }
  if (!output) problems.push(`${c} has no output 'sample' (outputs: ${list(outputs)})`);
  const cacheInputs = inputs.filter((i) => i.name.startsWith(FEAT_CACHE_IN));
  if (cacheInputs.length === 0) {
    const extra = inputs.filter((i) => i !== latent);
    if (extra.length) problems.push(`${c} has inputs the WAN pipeline cannot fill: ${list(extra)}`);
    if (problems.length > before || !latent || !output) return null;
    return { mode: 'whole', latent, output };
  }
  const first = pick(inputs, WAN_NAMES.firstChunk);
  if (!first) problems.push(`${c} has frame caches but no 'first_chunk' input: the decoder cannot tell the first latent frame`);
  else if (first.type !== 'bool' && !FLOATS.has(first.type) && !INTS.has(first.type)) problems.push(`${c} input 'first_chunk' is ${first.type}, expected bool`);
  const scales = Array.isArray(config?.feat_cache_scale) ? (config.feat_cache_scale as unknown[]).map(Number) : null;
  const caches: VaeFrameCache[] = [];
  for (let i = 0; i < cacheInputs.length; i++) {
    const input = inputs.find((v) => v.name === `${FEAT_CACHE_IN}${i}`);
    if (!input) {
      problems.push(`${c} frame cache inputs are not numbered 0 to ${cacheInputs.length - 1} (missing '${FEAT_CACHE_IN}${i}')`);
      break;
    }
    const outName = `${FEAT_CACHE_OUT}${i}`;
    if (!outputs.some((o) => o.name === outName)) problems.push(`${c} has input '${input.name}' but no output '${outName}' to carry the cache on`);
    const [, channels, , h, w] = input.shape;
    if (input.shape.length !== 5 || typeof channels !== 'number') {
      problems.push(`${c} input '${input.name}' should be [batch, channels, 2, height, width] with a fixed channel count`);
      continue;
    }
    const fixed = typeof h === 'number' && typeof w === 'number' ? ([h, w] as const) : null;
    const scale = scales?.[i];
    if (!fixed && !(typeof scale === 'number' && scale > 0)) {
      problems.push(`vae_decoder/config.json needs 'feat_cache_scale' (one spatial scale per frame cache, ${cacheInputs.length} in all): the cache sizes are not fixed in the model`);
      break;
    }
    caches.push({ input, output: outName, channels, scale: typeof scale === 'number' ? scale : null, fixed });
  }
  const known = new Set([latent, first, ...cacheInputs]);
  const extra = inputs.filter((i) => !known.has(i));
  if (extra.length) problems.push(`${c} has inputs the WAN pipeline cannot fill: ${list(extra)}`);
  if (problems.length > before || !latent || !output || !first) return null;
  return { mode: 'cached', latent, first, output, caches };
}

export interface WanVaeConfig {
  readonly latentsMean: readonly number[];
  readonly latentsStd: readonly number[];
  readonly raw: Record<string, unknown>;
}

/** latents_mean/latents_std from vae_decoder/config.json, checked: 16 finite numbers each, stds positive. */
export function parseWanVaeConfig(json: Record<string, unknown>, problems: string[]): WanVaeConfig | null {
  const where = 'vae_decoder/config.json';
  const zDim = json.z_dim;
  if (zDim !== undefined && zDim !== WAN_LATENT_CHANNELS) {
    problems.push(`${where} says z_dim ${String(zDim)}; WAN 2.1's VAE has ${WAN_LATENT_CHANNELS} latent channels`);
    return null;
  }
  const numbers = (key: string): number[] | null => {
    const v = json[key];
    if (!Array.isArray(v) || v.length !== WAN_LATENT_CHANNELS || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      problems.push(`${where} needs '${key}': ${WAN_LATENT_CHANNELS} numbers (the per-channel latent statistics the decoder un-normalises with)`);
      return null;
    }
    return v as number[];
  };
  const latentsMean = numbers('latents_mean');
  const latentsStd = numbers('latents_std');
  if (!latentsMean || !latentsStd) return null;
  if (latentsStd.some((s) => s <= 0)) {
    problems.push(`${where} has a latents_std value that is not positive`);
    return null;
  }
  return { latentsMean, latentsStd, raw: json };
}

function readJsonFile(folder: string, rel: string, problems: string[]): Record<string, unknown> | null {
  const path = join(folder, rel);
  if (!existsSync(path)) {
    problems.push(`${rel} is missing`);
    return null;
  }
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    problems.push(`${rel} is not valid JSON`);
    return null;
  }
}

const SCHEDULERS = new Set(['UniPCMultistepScheduler', 'FlowMatchEulerDiscreteScheduler']);

function toIo(h: OnnxHeader): { inputs: IoValue[]; outputs: IoValue[] } {
  const map = (v: OnnxHeader['inputs'][number]): IoValue => ({ name: v.name, type: v.dtype, shape: v.shape });
  return { inputs: h.inputs.map(map), outputs: h.outputs.map(map) };
}

/** The text width a folder's graphs are built for: a prepared model's own (prepared.json), else UMT5-XXL's. */
export function wanTextWidth(folder: string): number {
  return readPreparedManifest(folder)?.wan?.textDim ?? WAN_TEXT_WIDTH;
}

export function validateWan(folder: string): ValidationReport {
  const problems: string[] = [];
  const textWidth = wanTextWidth(folder);
  const te = readComponent(folder, 'text_encoder', problems);
  if (te) {
    const io = toIo(te);
    resolveTextEncoderIo(io.inputs, io.outputs, problems, textWidth);
  }
  const transformer = readComponent(folder, 'transformer', problems);
  const transformerIo = transformer ? (() => {
    const io = toIo(transformer);
    return resolveTransformerIo(io.inputs, io.outputs, problems, textWidth);
  })() : null;
  const vaeConfig = readJsonFile(folder, 'vae_decoder/config.json', problems);
  if (vaeConfig) parseWanVaeConfig(vaeConfig, problems);
  const vae = readComponent(folder, 'vae_decoder', problems);
  const vaeIo = vae ? (() => {
    const io = toIo(vae);
    return resolveVaeDecoderIo(io.inputs, io.outputs, vaeConfig, problems);
  })() : null;

  // tokenizer.json, or the SentencePiece model a model prepared from ComfyUI's UMT5 file carries.
  const spieceOnly = !existsSync(join(folder, 'tokenizer', 'tokenizer.json')) && existsSync(join(folder, 'tokenizer', 'spiece.model'));
  const tokenizer = spieceOnly ? null : readJsonFile(folder, 'tokenizer/tokenizer.json', problems);
  if (tokenizer && (typeof tokenizer.model !== 'object' || tokenizer.model === null)) {
    problems.push("tokenizer/tokenizer.json has no 'model': it is not a Hugging Face tokenizers file");
  }
  const scheduler = readJsonFile(folder, 'scheduler/scheduler_config.json', problems);
  if (scheduler) {
    const cls = String(scheduler._class_name ?? '');
    if (!SCHEDULERS.has(cls)) {
      problems.push(`scheduler/scheduler_config.json names ${cls || 'no scheduler class'}; WAN runs with UniPCMultistepScheduler or FlowMatchEulerDiscreteScheduler`);
    } else {
      try {
        parseFlowSchedulerConfig(scheduler);
      } catch (e) {
        problems.push(`scheduler/scheduler_config.json: ${(e as Error).message.split('\n').join(' ')}`);
      }
    }
  }
  const kinds = new Set([transformerIo?.latents.type, vaeIo?.latent.type].filter((d): d is string => !!d));
  const precision = kinds.size > 1 ? 'mixed' : kinds.has('float16') ? 'fp16' : kinds.has('float32') ? 'fp32' : 'unknown';
  return { problems, precision };
}
