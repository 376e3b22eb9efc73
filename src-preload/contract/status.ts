/** Job, queue, model and GPU shapes shared by every front door. Pure types. */
import type { JobParams, JobType, ModelFamily } from './catalog.ts';

/** A job's status is a union stamped with the time (ms since epoch) it was entered. */
export type JobStatus =
  | { readonly state: 'queued'; readonly at: number; readonly notBefore: number | null; readonly reason: string | null }
  | {
      readonly state: 'running';
      readonly at: number;
      readonly step: number;
      readonly of: number;
      readonly stage: string | null;
    }
  | { readonly state: 'done'; readonly at: number; readonly assets: readonly string[] }
  | { readonly state: 'failed'; readonly at: number; readonly code: string; readonly message: string }
  | { readonly state: 'cancelled'; readonly at: number };

export type JobState = JobStatus['state'];
export const JOB_STATES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const satisfies readonly JobState[];

export interface JobView {
  readonly id: string;
  readonly type: JobType;
  readonly family: ModelFamily;
  readonly params: JobParams;
  readonly status: JobStatus;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** Position in the queue (0 = next) while queued, else null. */
  readonly position: number | null;
  readonly modelId: string | null;
  readonly provider: string | null;
  readonly providerNote: string | null;
  readonly peakVramMb: number | null;
  readonly idempotencyKey: string | null;
  /** The Qwen rewrite used for an *_enhanced job (null until it ran, or for plain types). */
  readonly enhancedPrompt: string | null;
  /** Why the rewrite was not used (the original prompt ran instead), shown to the user. */
  readonly enhanceWarning: string | null;
}

export interface EnhanceResult {
  readonly original: string;
  readonly text: string;
  readonly warning: string | null;
  readonly model: string;
  readonly ms: number;
}

export interface QueueState {
  readonly paused: boolean;
  readonly queued: number;
  readonly running: number;
}

export interface ProgressEvent {
  readonly jobId: string;
  readonly step: number;
  readonly of: number;
  readonly stage: string | null;
  /** A small PNG of the current latent, as a data: URL; throttled by the worker. */
  readonly preview: string | null;
  readonly etaMs: number | null;
}

export interface GpuStats {
  readonly source: 'nvidia-smi' | 'configured';
  readonly name: string | null;
  readonly memoryUsedMb: number | null;
  readonly memoryTotalMb: number;
  readonly utilizationPct: number | null;
  readonly budgetMb: number;
  readonly loadedModels: readonly { readonly id: string; readonly family: ModelFamily | 'qwen'; readonly vramMb: number }[];
  readonly workers: readonly { readonly id: number; readonly pid: number | null; readonly state: string; readonly crashes: number }[];
  readonly note: string | null;
}

export interface ModelInfo {
  readonly id: string;
  readonly family: ModelFamily | 'qwen';
  readonly name: string;
  readonly path: string;
  readonly sizeBytes: number;
  readonly precision: 'fp32' | 'fp16' | 'mixed' | 'unknown';
  readonly status: 'ready' | 'invalid';
  readonly problems: readonly string[];
}

export interface AppInfo {
  readonly version: string;
  readonly dataDir: string;
  readonly modelDirs: readonly string[];
  readonly providers: readonly string[];
  readonly frontDoor: 'electron' | 'serve' | 'cli';
}
