/**
 * Reading a model folder inside a worker: its JSON configs and its ONNX components, each failure
 * named in plain words (which file, what to do) as a non-retryable model_invalid error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SessionLoadError } from '../../inference/runtime.ts';
import type { LoadedSession, OrtRuntime } from '../../inference/runtime.ts';
import { PipelineError } from '../types.ts';

/** `rel` (e.g. "scheduler/scheduler_config.json") parsed from the model folder. */
export function readModelJson(folder: string, rel: string): Record<string, unknown> {
  const path = join(folder, rel);
  if (!existsSync(path)) throw new PipelineError('model_invalid', `${rel} is missing in ${folder}; the model folder is incomplete`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new PipelineError('model_invalid', `${rel} cannot be read (${(e as Error).message}); the model folder is incomplete`);
  }
}

/** `<component>/model.onnx` opened with the job's execution providers (cached by the runtime). */
export async function loadComponent(runtime: OrtRuntime, folder: string, component: string, providers: readonly string[]): Promise<LoadedSession> {
  const file = join(folder, component, 'model.onnx');
  if (!existsSync(file)) throw new PipelineError('model_invalid', `${component}/model.onnx is missing in ${folder}`);
  try {
    return await runtime.session(file, { providers });
  } catch (e) {
    const detail = e instanceof SessionLoadError ? e.message : (e as Error).message;
    throw new PipelineError('model_invalid', `${component}/model.onnx could not be loaded: ${detail}. If the file is truncated, copy or export it again.`);
  }
}
