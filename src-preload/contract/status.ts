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
  /**
   * Progress within `stage` when it is counted: a clip's VAE decode, frames done of the clip's
   * (the steps are all done by then). Absent or null otherwise.
   */
  readonly stageProgress?: { readonly done: number; readonly of: number } | null;
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
  readonly precision: 'fp32' | 'fp16' | 'bf16' | 'mixed' | 'unknown';
  /**
   * ready: a job may use it. invalid: it cannot be used (problems say why). needs_preparation: a
   * checkpoint or diffusers folder found in a models folder, which the studio prepares on request.
   */
  readonly status: 'ready' | 'invalid' | 'needs_preparation';
  readonly problems: readonly string[];
  /** What the studio found, in a sentence: "SDXL checkpoint, fp16, 6.9 GB, VAE included". */
  readonly description?: string | null;
  /** A1111's short model hash (first 10 hex digits of the checkpoint's sha256), once prepared. */
  readonly hash?: string | null;
  /** The checkpoint file or folder a prepared model was made from. */
  readonly source?: string | null;
  /** The model a job of its family runs on when it names none (chosen in Models, else the first ready one). */
  readonly isDefault?: boolean;
  /** Removed from the list by the person (Models → Remove from list): not offered, its files untouched. */
  readonly hidden?: boolean;
}

/** What a file or folder is, before adding it ("Add model…" shows this first). */
export type ModelInspection =
  | {
      readonly ok: true;
      /** `wan_part`: one part of a WAN 2.1 model (its other parts are still to choose); `wan_model`: a whole WAN 2.1 model (a folder, or its parts' files together). */
      readonly kind: 'sdxl_single_file' | 'sdxl_diffusers' | 'sdxl_vae' | 'wan_part' | 'wan_model';
      readonly description: string;
      readonly sizeBytes: number;
      /** The checkpoint has no VAE inside: a VAE file must be chosen with it. */
      readonly needsVae: boolean;
      /** The display name it would get. */
      readonly suggestedName: string;
      /** An earlier preparation of this unchanged file, if there is one. */
      readonly preparedAs: string | null;
      /** A WAN 2.1 model's parts: what each chosen path is, and which parts are still needed. */
      readonly wan?: WanInspection;
    }
  | { readonly ok: false; readonly what: string | null; readonly message: string };

export type WanPartName = 'transformer' | 'textEncoder' | 'vae';

export interface WanInspection {
  /** Each chosen path and what it is ("WAN 2.1 T2V 1.3B transformer, bf16, 2.8 GB"); a tokenizer file or folder as 'tokenizer'. */
  readonly parts: readonly { readonly path: string; readonly part: WanPartName | 'tokenizer'; readonly description: string }[];
  /** Parts still to choose before the model can be prepared (empty when it is whole). */
  readonly missing: readonly WanPartName[];
}

export const PREPARATION_STATES = ['preparing', 'done', 'failed', 'cancelled'] as const;
export type PreparationState = (typeof PREPARATION_STATES)[number];

/** One "Add model" run: progress while it prepares, then the model it made or why it failed. */
export interface Preparation {
  readonly id: string;
  readonly source: string;
  /** Every file of a model chosen as several (a WAN 2.1 model's parts), `source` first; absent for one path. */
  readonly sources?: readonly string[];
  readonly vae: string | null;
  readonly name: string;
  readonly description: string | null;
  readonly state: PreparationState;
  readonly phase: 'checking' | 'hashing' | 'building' | 'writing' | null;
  /** 0..1 over the whole preparation. */
  readonly fraction: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly etaSeconds: number | null;
  /** The prepared model's id, when done. */
  readonly modelId: string | null;
  /** Done without work: the same unchanged file was prepared before. */
  readonly reused: boolean;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly startedAt: number;
  readonly finishedAt: number | null;
}

export interface AppInfo {
  readonly version: string;
  readonly dataDir: string;
  readonly modelDirs: readonly string[];
  readonly providers: readonly string[];
  readonly frontDoor: 'electron' | 'serve' | 'cli';
}
