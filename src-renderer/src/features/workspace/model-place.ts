/**
 * Where a model runs, in words for the Workspace's model picker: the execution provider its last
 * job ran on (the engine records it on the job), else the order the engine will try (Settings →
 * Performance), since which one starts is only known once a session opens.
 */
import type { JobView, ModelInfo } from '../../contract.ts';
import { formatFileSize } from '../../format.ts';
import { FAMILY_LABEL, readyModels } from '../models/logic.ts';

const PROVIDER_LABEL: Readonly<Record<string, string>> = {
  cuda: 'the GPU (CUDA)',
  dml: 'the GPU (DirectML)',
  webgpu: 'the GPU (WebGPU)',
  cpu: 'the CPU',
};

export function providerLabel(provider: string): string {
  return PROVIDER_LABEL[provider.toLowerCase()] ?? provider;
}

/** "ran on the GPU (CUDA) last time" or "runs on the GPU (CUDA) when it starts, else the CPU". */
export function whereItRuns(model: ModelInfo, jobs: Readonly<Record<string, JobView>>, providers: readonly string[]): string {
  let last: JobView | null = null;
  let lastAny: JobView | null = null;
  for (const job of Object.values(jobs)) {
    if (job.provider === null || job.status.state !== 'done') continue;
    if (!lastAny || (job.finishedAt ?? 0) > (lastAny.finishedAt ?? 0)) lastAny = job;
    if (job.modelId !== model.id) continue;
    if (!last || (job.finishedAt ?? 0) > (last.finishedAt ?? 0)) last = job;
  }
  if (last?.provider) return `ran on ${providerLabel(last.provider)} last time`;
  // The providers that start are the machine's, not the model's: the last job on any model says which.
  if (lastAny?.provider) return `runs on ${providerLabel(lastAny.provider)}, as the last job did`;
  if (providers.length === 0) return 'runs where the engine finds a provider';
  const [first, ...rest] = providers.map(providerLabel);
  return rest.length === 0 ? `runs on ${first}` : `runs on ${first} when it starts, else ${rest.join(', then ')}`;
}

/** The picker's line about a model: what it is, how it is stored, and where it runs. */
export function modelDetails(model: ModelInfo, jobs: Readonly<Record<string, JobView>>, providers: readonly string[]): string {
  const parts = [model.precision === 'unknown' ? null : model.precision, model.sizeBytes > 0 ? formatFileSize(model.sizeBytes) : null, whereItRuns(model, jobs, providers)];
  return parts.filter((p): p is string => p !== null).join(' · ');
}

/**
 * Enhance and the *_enhanced job types need a Qwen 2.5 model: what to say when none is ready
 * (null when one is, or while the list loads).
 */
export function enhancerMissingNote(models: readonly ModelInfo[] | null): string | null {
  if (models === null || readyModels(models, 'qwen').length > 0) return null;
  return `No ${FAMILY_LABEL.qwen} model is ready, so Enhance and the enhanced job types cannot rewrite prompts. Put a Qwen 2.5 Instruct model (a GGUF file or an ONNX export) into one of your model folders.`;
}

