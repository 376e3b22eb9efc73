/**
 * What a pipeline is, as the inference worker sees it. Pipelines run only inside worker processes;
 * the engine in main never imports one.
 */
import type { JobParams, JobType, ModelFamily } from '../../../src-preload/contract/catalog.ts';

export interface ModelRef {
  readonly id: string;
  readonly family: ModelFamily | 'qwen' | 'test';
  /** Absolute path of the model folder. */
  readonly path: string;
  /** Display name (a prepared checkpoint's name), written into the recipe instead of any path. */
  readonly name?: string;
  /** A1111's short model hash of the checkpoint it was prepared from, when known. */
  readonly hash?: string | null;
}

export interface RunRequest {
  readonly jobId: string;
  readonly jobType: JobType;
  readonly params: JobParams;
  readonly model: ModelRef;
  /** Optional second model (the prompt enhancer for *_enhanced jobs). */
  readonly enhancer: ModelRef | null;
  /** Where the pipeline writes its outputs (atomically); main moves them into the library. */
  readonly stagingDir: string;
  /** Largest batch the scheduler allows under the VRAM budget (SDXL splits its 6 images). */
  readonly maxBatch: number;
  /** Execution providers to try in order (settings override), e.g. ['cuda', 'webgpu', 'cpu']. */
  readonly providers: readonly string[];
  /** The ffmpeg binary the engine found at start-up (video job types only). */
  readonly ffmpegPath?: string | null;
  /** Settings → previews: a live preview every N steps (and at the last); absent: every step. */
  readonly previewEvery?: number;
}

/** Whether step `done` (1-based) of `of` gets a live preview under `every` (the setting's rule). */
export function previewDue(done: number, of: number, every = 1): boolean {
  return every <= 1 || done % every === 0 || done === of;
}

export interface OutputFile {
  /** Absolute path inside stagingDir. */
  readonly file: string;
  readonly thumbFile: string | null;
  readonly kind: 'image' | 'video';
  readonly mime: string;
  readonly width: number;
  readonly height: number;
  readonly batchIndex: number;
  readonly seed: number;
  readonly durationMs: number | null;
  readonly fps: number | null;
  readonly frameCount: number | null;
  /** The full recipe (also embedded in the file's own metadata). */
  readonly recipe: Record<string, unknown>;
}

export interface PipelineResult {
  readonly outputs: readonly OutputFile[];
  readonly provider: string;
  readonly providerNote: string | null;
  readonly enhancedPrompt: string | null;
  readonly timings: Record<string, number>;
}

/** How far a stage after the steps has come (the VAE decode: frames decoded of the clip's). */
export interface StageProgress {
  readonly done: number;
  readonly of: number;
}

export interface ProgressUpdate {
  readonly step: number;
  readonly of: number;
  readonly stage: string | null;
  /** Progress within `stage`, when it is counted (a video's decode, frame by frame). */
  readonly stageProgress?: StageProgress | null;
  /** A small PNG of the current state (latent preview), or null. */
  readonly preview: Uint8Array | null;
}

export interface PipelineContext {
  /** Aborted when the job is cancelled: stop at the next step boundary and throw CancelledError. */
  readonly signal: AbortSignal;
  progress(update: ProgressUpdate): void;
  log(message: string): void;
}

export interface Pipeline {
  readonly family: string;
  run(request: RunRequest, context: PipelineContext): Promise<PipelineResult>;
  /** Releases every loaded session so its memory really returns. */
  unload(): Promise<void>;
}

/** Thrown by a pipeline that stopped because its job was cancelled. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** Thrown by a pipeline for a failure the user must fix (bad model folder…): not retried. */
export class PipelineError extends Error {
  readonly code: string;
  readonly transient: boolean;
  constructor(code: string, message: string, transient = false) {
    super(message);
    this.name = 'PipelineError';
    this.code = code;
    this.transient = transient;
  }
}
