/**
 * The message protocol between the engine (main) and an inference worker process.
 *
 * Every message carries `v` (the protocol version) and `type`. Both ends validate what they
 * receive: a worker built from a different version of the app, or a bug that sends the wrong
 * shape, is reported as a ProtocolError naming the problem instead of surfacing later as an
 * undefined property deep inside a pipeline.
 *
 * Transport: structured clone (child_process `serialization: 'advanced'`, or Electron's
 * utilityProcess postMessage), so Uint8Array previews travel as bytes. A preview may also arrive
 * as base64 text from a transport that only carries JSON; `previewBytes` normalises both.
 */
import { z } from 'zod';
import { JOB_TYPES, SAMPLERS } from '../../../src-preload/contract/catalog.ts';
import type { PipelineResult, RunRequest } from '../pipelines/types.ts';

export const PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Message types

export type ToWorker =
  | { readonly v: 1; readonly type: 'run'; readonly request: RunRequest }
  | { readonly v: 1; readonly type: 'cancel'; readonly jobId: string }
  /** Release every loaded session; the worker answers `unloaded`. */
  | { readonly v: 1; readonly type: 'unload' }
  /** Stop any job, release sessions and exit. */
  | { readonly v: 1; readonly type: 'shutdown' };

export type ExitReason = 'idle' | 'shutdown' | 'parent-gone';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type FromWorker =
  | { readonly v: 1; readonly type: 'ready'; readonly pid: number; readonly providersAvailable: readonly string[] }
  | {
      readonly v: 1;
      readonly type: 'progress';
      readonly jobId: string;
      readonly step: number;
      readonly of: number;
      readonly stage: string | null;
      readonly stageProgress?: { readonly done: number; readonly of: number } | null;
      /** PNG bytes, or the same bytes as base64 text. */
      readonly preview: Uint8Array | string | null;
    }
  | { readonly v: 1; readonly type: 'done'; readonly jobId: string; readonly result: PipelineResult }
  | {
      readonly v: 1;
      readonly type: 'failed';
      readonly jobId: string;
      readonly code: string;
      readonly message: string;
      readonly transient: boolean;
    }
  | { readonly v: 1; readonly type: 'cancelled'; readonly jobId: string }
  | { readonly v: 1; readonly type: 'unloaded'; readonly families: readonly string[] }
  /**
   * The worker is about to exit on its own. After sending this it handles no further message, so
   * a run the main side sent meanwhile never started and may be sent to a fresh worker.
   */
  | { readonly v: 1; readonly type: 'exiting'; readonly reason: ExitReason }
  | {
      readonly v: 1;
      readonly type: 'log';
      readonly level: LogLevel;
      readonly message: string;
      readonly jobId: string | null;
    };

export type ToWorkerType = ToWorker['type'];
export type FromWorkerType = FromWorker['type'];

/** A message that does not match the protocol. Its message says which end and what was wrong. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

// ---------------------------------------------------------------------------------------------
// Schemas. Nested data (params, recipe) is checked with loose objects so a field added to the
// contract later passes through instead of being stripped on the way to the pipeline.

const str = z.string();
const id = z.string().min(1);
const count = z.number().int().nonnegative();
const nullableStr = z.string().nullable();

const ModelRefSchema = z.looseObject({
  id,
  family: z.enum(['sdxl', 'wan', 'qwen', 'test']),
  path: id,
});

const JobParamsSchema = z.looseObject({
  prompt: str,
  negativePrompt: str,
  seed: count,
  steps: z.number().int().positive(),
  guidance: z.number(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  frames: z.number().int().positive(),
  count: z.number().int().positive(),
  batchIndex: count.nullable(),
  scheduler: z.enum(SAMPLERS),
  model: nullableStr,
  enhancedPrompt: nullableStr,
  fps: z.number().positive(),
});

const RunRequestSchema = z.looseObject({
  jobId: id,
  jobType: z.enum(JOB_TYPES),
  params: JobParamsSchema,
  model: ModelRefSchema,
  enhancer: ModelRefSchema.nullable(),
  stagingDir: id,
  maxBatch: z.number().int().positive(),
  providers: z.array(id),
  previewEvery: z.number().int().positive().optional(),
});

const OutputFileSchema = z.looseObject({
  file: id,
  thumbFile: nullableStr,
  kind: z.enum(['image', 'video']),
  mime: id,
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  batchIndex: count,
  seed: count,
  durationMs: z.number().nonnegative().nullable(),
  fps: z.number().positive().nullable(),
  frameCount: z.number().int().positive().nullable(),
  recipe: z.record(z.string(), z.unknown()),
});

const PipelineResultSchema = z.looseObject({
  outputs: z.array(OutputFileSchema),
  provider: id,
  providerNote: nullableStr,
  enhancedPrompt: nullableStr,
  timings: z.record(z.string(), z.number()),
});

const v = z.literal(PROTOCOL_VERSION);

const ToWorkerSchema = z.discriminatedUnion('type', [
  z.object({ v, type: z.literal('run'), request: RunRequestSchema }),
  z.object({ v, type: z.literal('cancel'), jobId: id }),
  z.object({ v, type: z.literal('unload') }),
  z.object({ v, type: z.literal('shutdown') }),
]);

const FromWorkerSchema = z.discriminatedUnion('type', [
  z.object({ v, type: z.literal('ready'), pid: z.number().int().positive(), providersAvailable: z.array(str) }),
  z.object({
    v,
    type: z.literal('progress'),
    jobId: id,
    step: count,
    of: count,
    stage: nullableStr,
    stageProgress: z.object({ done: count, of: count }).nullable().optional(),
    preview: z.union([z.instanceof(Uint8Array), z.base64(), z.null()]),
  }),
  z.object({ v, type: z.literal('done'), jobId: id, result: PipelineResultSchema }),
  z.object({ v, type: z.literal('failed'), jobId: id, code: id, message: str, transient: z.boolean() }),
  z.object({ v, type: z.literal('cancelled'), jobId: id }),
  z.object({ v, type: z.literal('unloaded'), families: z.array(str) }),
  z.object({ v, type: z.literal('exiting'), reason: z.enum(['idle', 'shutdown', 'parent-gone']) }),
  z.object({
    v,
    type: z.literal('log'),
    level: z.enum(['debug', 'info', 'warn', 'error']),
    message: str,
    jobId: nullableStr,
  }),
]);

const TO_WORKER_TYPES: readonly string[] = ['run', 'cancel', 'unload', 'shutdown'] satisfies ToWorkerType[];
const FROM_WORKER_TYPES: readonly string[] = [
  'ready',
  'progress',
  'done',
  'failed',
  'cancelled',
  'unloaded',
  'exiting',
  'log',
] satisfies FromWorkerType[];

function describe(
  direction: 'from the engine to the worker' | 'from the worker to the engine',
  known: readonly string[],
  raw: unknown,
  error: z.ZodError | null,
): string {
  const head = `Malformed message ${direction}`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return `${head}: expected an object with "v" and "type", got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}`;
  }
  const record = raw as Record<string, unknown>;
  if (record['v'] !== PROTOCOL_VERSION) {
    return (
      `${head}: protocol version ${JSON.stringify(record['v'])}, expected ${PROTOCOL_VERSION}. ` +
      'The worker entry and the app come from different builds; reinstall or rebuild the app.'
    );
  }
  if (typeof record['type'] !== 'string' || !known.includes(record['type'])) {
    return `${head}: unknown type ${JSON.stringify(record['type'])} (known: ${known.join(', ')})`;
  }
  const issues = (error?.issues ?? [])
    .slice(0, 4)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(message)'}: ${i.message}`)
    .join('; ');
  return `${head} ("${record['type']}"): ${issues}`;
}

/** Validates a message the worker received. Throws ProtocolError. */
export function parseToWorker(raw: unknown): ToWorker {
  const parsed = ToWorkerSchema.safeParse(raw);
  if (!parsed.success) throw new ProtocolError(describe('from the engine to the worker', TO_WORKER_TYPES, raw, parsed.error));
  return parsed.data as ToWorker;
}

/** Validates a message the engine received from a worker. Throws ProtocolError. */
export function parseFromWorker(raw: unknown): FromWorker {
  const parsed = FromWorkerSchema.safeParse(raw);
  if (!parsed.success) throw new ProtocolError(describe('from the worker to the engine', FROM_WORKER_TYPES, raw, parsed.error));
  return parsed.data as FromWorker;
}

/**
 * Why a pipeline's result could not travel as a `done` message, or null if it can. The worker
 * checks before sending, so a pipeline bug fails its job with a clear message.
 */
export function checkPipelineResult(result: unknown): string | null {
  const parsed = PipelineResultSchema.safeParse(result);
  if (parsed.success) return null;
  return parsed.error.issues
    .slice(0, 4)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(result)'}: ${i.message}`)
    .join('; ');
}

/** The job id of a (possibly malformed) run message, so the worker can still answer for it. */
export function jobIdOf(raw: unknown): string | null {
  if (raw === null || typeof raw !== 'object') return null;
  const request = (raw as { request?: unknown }).request;
  if (request === null || typeof request !== 'object') return null;
  const jobId = (request as { jobId?: unknown }).jobId;
  return typeof jobId === 'string' && jobId.length > 0 ? jobId : null;
}

/** Preview bytes whichever way they travelled. */
export function previewBytes(preview: Uint8Array | string | null): Uint8Array | null {
  if (preview === null) return null;
  if (typeof preview === 'string') return new Uint8Array(Buffer.from(preview, 'base64'));
  return preview;
}

// ---------------------------------------------------------------------------------------------
// Worker start options: passed in the environment so both fork and utilityProcess carry them.

export const WORKER_OPTIONS_ENV = 'OURVIDZ_WORKER_OPTIONS';

export interface WorkerStartOptions {
  /** The scheduler slot this worker serves (for logs). */
  readonly slot: string;
  /**
   * Model family → module specifier (absolute path or package name) of a pipeline module. The
   * module exports `createPipeline(): Pipeline | Promise<Pipeline>` (or that function as default).
   */
  readonly pipelines: Readonly<Record<string, string>>;
  /** Exit after this long without work, releasing sessions. 0 keeps the worker alive. */
  readonly idleTimeoutMs: number;
  /** Shortest gap between two progress messages that carry a preview. */
  readonly previewIntervalMs: number;
}

const WorkerStartOptionsSchema = z.object({
  slot: id,
  pipelines: z.record(z.string(), id),
  idleTimeoutMs: count,
  previewIntervalMs: count,
});

export function encodeStartOptions(options: WorkerStartOptions): Record<string, string> {
  return { [WORKER_OPTIONS_ENV]: JSON.stringify(options) };
}

export function decodeStartOptions(env: NodeJS.ProcessEnv): WorkerStartOptions {
  const text = env[WORKER_OPTIONS_ENV];
  if (text === undefined) {
    throw new ProtocolError(`${WORKER_OPTIONS_ENV} is not set: the inference worker must be started by the WorkerSupervisor`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ProtocolError(`${WORKER_OPTIONS_ENV} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = WorkerStartOptionsSchema.safeParse(json);
  if (!parsed.success) {
    throw new ProtocolError(`${WORKER_OPTIONS_ENV} is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
