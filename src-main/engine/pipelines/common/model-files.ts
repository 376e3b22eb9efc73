/**
 * Reading a model folder inside a worker: its JSON configs and its ONNX components, each failure
 * named in plain words (which file, what to do) as a non-retryable model_invalid error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { currentPlatform, platformSkipReason, providerLabel, SessionLoadError } from '../../inference/runtime.ts';
import { componentWeightsProblem, CPU_GRAPH, GPU_GRAPH, readComponentWeights } from '../../checkpoints/prepared.ts';
import type { ComponentWeights } from '../../checkpoints/prepared.ts';
import type { LoadedSession, OrtRuntime } from '../../inference/runtime.ts';
import type { InferenceSession } from 'onnxruntime-node';
import { PipelineError } from '../types.ts';
import { parsePythonJson } from '../../fs/python-json.ts';

/** `rel` (e.g. "scheduler/scheduler_config.json") parsed from the model folder. */
export function readModelJson(folder: string, rel: string): Record<string, unknown> {
  const path = join(folder, rel);
  if (!existsSync(path)) throw new PipelineError('model_invalid', `${rel} is missing in ${folder}; the model folder is incomplete`);
  try {
    return parsePythonJson(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new PipelineError('model_invalid', `${rel} cannot be read (${(e as Error).message}); the model folder is incomplete`);
  }
}

/** `<component>/model.onnx` opened with the job's execution providers (cached by the runtime). */
/** Session options one component needs beyond the runtime's (see the WAN VAE decoder's). */
export type ComponentSessionOptions = Omit<InferenceSession.SessionOptions, 'executionProviders' | 'extra'>;

export async function loadComponent(
  runtime: OrtRuntime,
  folder: string,
  component: string,
  providers: readonly string[],
  sessionOptions?: ComponentSessionOptions,
): Promise<LoadedSession> {
  const file = join(folder, component, CPU_GRAPH);
  if (!existsSync(file)) throw new PipelineError('model_invalid', `${component}/model.onnx is missing in ${folder}`);
  let weights: ComponentWeights | null;
  try {
    weights = readComponentWeights(join(folder, component));
  } catch (e) {
    throw new PipelineError('model_invalid', (e as Error).message);
  }
  if (weights) return loadPreparedComponent(runtime, folder, component, providers, weights, sessionOptions);
  try {
    return await runtime.session(file, { providers, sessionOptions });
  } catch (e) {
    const detail = e instanceof SessionLoadError ? e.message : (e as Error).message;
    throw new PipelineError('model_invalid', `${component}/model.onnx could not be loaded: ${detail}. If the file is truncated, copy or export it again.`);
  }
}

/** The job's GPU providers that can start here, in the job's order. */
function usableGpuProviders(providers: readonly string[]): string[] {
  const platform = currentPlatform();
  return providers.filter((p) => p !== 'cpu' && platformSkipReason(p, platform) === null);
}

/**
 * A component the studio prepared from a checkpoint: its weights stay in the user's file, named
 * by weights.json. GPU providers get the GPU graph (fp16, fused attention) when there is one; the
 * fp32 graph runs everywhere else, and also when the GPU graph cannot start (said on the job).
 */
async function loadPreparedComponent(
  runtime: OrtRuntime,
  folder: string,
  component: string,
  providers: readonly string[],
  weights: ComponentWeights,
  sessionOptions: ComponentSessionOptions | undefined,
): Promise<LoadedSession> {
  const problem = componentWeightsProblem(component, weights);
  if (problem) throw new PipelineError('model_invalid', problem);
  const gpuGraph = join(folder, component, GPU_GRAPH);
  const gpu = usableGpuProviders(providers);
  let gpuFailure: string | null = null;
  if (gpu.length > 0 && existsSync(gpuGraph)) {
    try {
      return await runtime.session(gpuGraph, { providers: gpu, externalDataFolder: weights.folder, sessionOptions });
    } catch (e) {
      gpuFailure = `the GPU ${component} graph could not start on ${gpu.map(providerLabel).join('/')} (${(e as Error).message.slice(0, 200)}); using the fp32 graph`;
    }
  }
  try {
    const loaded = await runtime.session(join(folder, component, CPU_GRAPH), { providers, externalDataFolder: weights.folder, sessionOptions });
    return gpuFailure ? { ...loaded, note: [gpuFailure, loaded.note].filter(Boolean).join('; ') } : loaded;
  } catch (e) {
    const detail = e instanceof SessionLoadError ? e.message : (e as Error).message;
    throw new PipelineError('model_invalid', `${component} could not be loaded from ${weights.folder}: ${detail}`);
  }
}
