/**
 * Loads a WAN 2.1 T2V folder (docs/models.md) into sessions and resolves each component's tensor
 * names with the validator's functions, so a folder the Models view calls ready is one the pipeline
 * runs, and a broken one fails here with the same plain sentences.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { InferenceSession } from 'onnxruntime-node';
import { inputInfo, outputInfo } from '../../inference/runtime.ts';
import type { LoadedSession, OrtRuntime } from '../../inference/runtime.ts';
import { parseFlowSchedulerConfig } from '../../numerics/flow/index.ts';
import type { FlowSchedulerConfig } from '../../numerics/flow/index.ts';
import { parseWanVaeConfig, resolveTextEncoderIo, resolveTransformerIo, resolveVaeDecoderIo, wanTextWidth } from '../../models/wan-validator.ts';
import type { IoValue, TransformerIo } from '../../models/wan-validator.ts';
import { PipelineError } from '../types.ts';
import { loadComponent, readModelJson } from '../common/model-files.ts';
import type { ComponentSessionOptions } from '../common/model-files.ts';
import type { WanTextEncoder } from './text.ts';
import { Umt5Tokenizer } from './tokenizer.ts';
import type { WanVae } from './vae-decode.ts';

export interface WanModel {
  readonly path: string;
  readonly text: WanTextEncoder & { readonly loaded: LoadedSession };
  readonly transformer: { readonly loaded: LoadedSession; readonly io: TransformerIo };
  readonly vae: WanVae & { readonly loaded: LoadedSession };
  readonly schedulerConfig: FlowSchedulerConfig;
  readonly loadMs: number;
}



function io(session: InferenceSession): { inputs: IoValue[]; outputs: IoValue[] } {
  const map = (v: ReturnType<typeof inputInfo>[number]): IoValue => ({ name: v.name, type: v.type ?? 'non-tensor', shape: v.shape ?? [] });
  return { inputs: inputInfo(session).map(map), outputs: outputInfo(session).map(map) };
}

function orFail<T>(value: T | null, problems: string[]): T {
  if (value === null || problems.length > 0) throw new PipelineError('model_invalid', problems.join('; '));
  return value;
}

/**
 * The VAE decoder's activations are the largest tensors of a job (at 480×832, 96 channels × 6
 * frames of padded input per causal conv: ~0.9 GB each) and their sizes differ between the first
 * call and the rest; onnxruntime's CPU arena keeps every block it ever grew, which doubled the
 * decode's peak RSS (docs/benchmarks.md, "WAN 2.1 1.3B at full size"). Plain allocation frees each
 * activation when its last reader is done.
 */
export const WAN_VAE_SESSION_OPTIONS: ComponentSessionOptions = { enableCpuMemArena: false, enableMemPattern: false };

export async function loadWanModel(runtime: OrtRuntime, folder: string, providers: readonly string[]): Promise<WanModel> {
  const t0 = performance.now();
  const problems: string[] = [];
  let schedulerConfig: FlowSchedulerConfig;
  try {
    schedulerConfig = parseFlowSchedulerConfig(readModelJson(folder, 'scheduler/scheduler_config.json'));
  } catch (e) {
    if (e instanceof PipelineError) throw e;
    throw new PipelineError('model_invalid', `scheduler/scheduler_config.json: ${(e as Error).message}`);
  }
  const vaeConfigJson = readModelJson(folder, 'vae_decoder/config.json');
  const vaeConfig = orFail(parseWanVaeConfig(vaeConfigJson, problems), problems);
  let tokenizer: Umt5Tokenizer;
  try {
    tokenizer = await Umt5Tokenizer.fromDirectory(join(folder, 'tokenizer'));
  } catch (e) {
    throw new PipelineError('model_invalid', `tokenizer/ cannot be read (it needs tokenizer.json, or spiece.model): ${(e as Error).message}`);
  }

  // UMT5-XXL's 4096, or the width a model prepared from weights was built for (prepared.json).
  const width = wanTextWidth(folder);
  const textLoaded = await loadComponent(runtime, folder, 'text_encoder', providers);
  const textIo = io(textLoaded.session);
  const text = orFail(resolveTextEncoderIo(textIo.inputs, textIo.outputs, problems, width), problems);
  const transformerLoaded = await loadComponent(runtime, folder, 'transformer', providers);
  const trIo = io(transformerLoaded.session);
  const transformer = orFail(resolveTransformerIo(trIo.inputs, trIo.outputs, problems, width), problems);
  const vaeLoaded = await loadComponent(runtime, folder, 'vae_decoder', providers, WAN_VAE_SESSION_OPTIONS);
  const vaeIo = io(vaeLoaded.session);
  const vae = orFail(resolveVaeDecoderIo(vaeIo.inputs, vaeIo.outputs, vaeConfigJson, problems), problems);

  return {
    path: folder,
    text: { loaded: textLoaded, session: textLoaded.session, io: text, tokenizer, width },
    transformer: { loaded: transformerLoaded, io: transformer },
    vae: { loaded: vaeLoaded, session: vaeLoaded.session, io: vae, config: vaeConfig },
    schedulerConfig,
    loadMs: performance.now() - t0,
  };
}
