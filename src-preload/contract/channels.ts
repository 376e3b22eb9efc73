/**
 * The one contract: every channel maps to its params schema (zod) and its result type, and every
 * pushed event to its payload. Main's IPC gateway, the preload bridge, `studio serve` and the
 * renderer's transports all derive from this file.
 */
import { z } from 'zod';
import { GenerateRequestSchema, JOB_TYPES, LIMITS } from './catalog.ts';
import type { JobPreset } from './catalog.ts';
import type { AppInfo, EnhanceResult, GpuStats, JobView, ModelInfo, ModelInspection, Preparation, ProgressEvent, QueueState } from './status.ts';
import { JOB_STATES } from './status.ts';
import { libraryChannels, LIBRARY_EVENT_NAMES } from './library.ts';
import type { LibraryEvents } from './library.ts';
import { SETTINGS_EVENT_NAMES, settingsChannels } from './settings.ts';
import { recipeChannels } from './recipes.ts';
import { SYNC_EVENT_NAMES, syncChannels } from './sync.ts';
import type { SyncEvents } from './sync.ts';
import type { SettingsEvents } from './settings.ts';

/** Ties a params schema to a result type that exists only for the type checker. */
function channel<R>() {
  return <S extends z.ZodType>(params: S) => ({ params, result: undefined as unknown as R });
}

const JobId = z.strictObject({ id: z.string().min(1).max(64) });
const Empty = z.strictObject({}).optional();

export const EnqueueSchema = z.strictObject({
  request: GenerateRequestSchema,
  idempotencyKey: z.string().min(1).max(200).optional(),
});

export const JobListSchema = z
  .strictObject({
    states: z.array(z.enum(JOB_STATES)).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
    /** Also finished jobs cleared from the queue's list (default: left out). */
    includeCleared: z.boolean().optional(),
  })
  .optional();

/** Puts a queued job just ahead of another queued job, or at the back of the queue (`before: null`). */
export const JobReorderSchema = z.strictObject({
  id: z.string().min(1).max(64),
  before: z.string().min(1).max(64).nullable(),
});

/** Finished jobs to clear from the queue's list; all of them when `ids` is left out. */
export const ClearFinishedSchema = z
  .strictObject({ ids: z.array(z.string().min(1).max(64)).min(1).max(1000).optional() })
  .optional();

/** Jobs cleared from the queue's list (they stay readable by id; their outputs stay in the library). */
export interface ClearedJobs {
  readonly ids: readonly string[];
}

export const EnhanceSchema = z.strictObject({
  prompt: z.string().trim().min(1, { error: 'prompt must not be empty' }).max(LIMITS.promptMax),
  /** The job type the rewrite is for: SDXL types get comma-separated tags, WAN types a paragraph. */
  type: z.enum(JOB_TYPES),
  seed: z.number().int().min(0).max(LIMITS.seedMax).optional(),
});

/** A file or folder on this machine (a checkpoint, a diffusers folder, a VAE file). */
const ModelPath = z.string().trim().min(1, { error: 'choose a file or folder' }).max(4096);

/** Several paths that make one model: a WAN 2.1 model's transformer, text encoder and VAE files chosen one by one. */
const ModelPaths = z.array(ModelPath).min(1).max(8);

export const ModelAddSchema = z.strictObject({
  path: ModelPath,
  /** All the files of one model (a WAN 2.1 model's parts), `path` among them; default `[path]`. */
  paths: ModelPaths.optional(),
  /** A VAE file to use with it (required for a checkpoint without a VAE inside). */
  vae: ModelPath.nullable().optional(),
  /** Display name (default: the file or folder name). */
  name: z.string().trim().max(120).nullable().optional(),
});

/** A model by the id the list gives it (a folder name, a GGUF file name, `checkpoint:<file>`). */
export const ModelIdSchema = z.strictObject({ id: z.string().min(1).max(300) });

export const channels = {
  'app.info': channel<AppInfo>()(Empty),
  'catalog.list': channel<readonly JobPreset[]>()(Empty),
  'jobs.enqueue': channel<JobView>()(EnqueueSchema),
  'jobs.list': channel<readonly JobView[]>()(JobListSchema),
  'jobs.get': channel<JobView | null>()(JobId),
  'jobs.cancel': channel<JobView>()(JobId),
  'jobs.retry': channel<JobView>()(JobId),
  'jobs.moveToFront': channel<JobView>()(JobId),
  'jobs.reorder': channel<JobView>()(JobReorderSchema),
  'jobs.clearFinished': channel<ClearedJobs>()(ClearFinishedSchema),
  'queue.state': channel<QueueState>()(Empty),
  'queue.pause': channel<QueueState>()(Empty),
  'queue.resume': channel<QueueState>()(Empty),
  'models.list': channel<readonly ModelInfo[]>()(Empty),
  'models.inspect': channel<ModelInspection>()(z.strictObject({ path: ModelPath, paths: ModelPaths.optional() })),
  'models.add': channel<Preparation>()(ModelAddSchema),
  'models.preparations': channel<readonly Preparation[]>()(Empty),
  'models.cancelPreparation': channel<Preparation>()(z.strictObject({ id: z.string().min(1).max(64) })),
  /** Makes a ready model its family's default (what a job that names no model runs on); the new list. */
  'models.setDefault': channel<readonly ModelInfo[]>()(ModelIdSchema),
  /** Removes a model from the list (its files stay; a job naming it still runs), or puts it back; the new list. */
  'models.setHidden': channel<readonly ModelInfo[]>()(z.strictObject({ id: ModelIdSchema.shape.id, hidden: z.boolean() })),
  /** Shows the model's file or folder in the system file manager (the app); elsewhere answers revealed: false. */
  'models.reveal': channel<{ readonly revealed: boolean; readonly path: string }>()(ModelIdSchema),
  'gpu.status': channel<GpuStats>()(Empty),
  'prompts.enhance': channel<EnhanceResult>()(EnhanceSchema),
  ...libraryChannels,
  ...settingsChannels,
  ...recipeChannels,
  ...syncChannels,
} as const;

export type Channels = typeof channels;
export type Channel = keyof Channels;
export const CHANNELS = Object.keys(channels) as Channel[];
export type ParamsIn<C extends Channel> = z.input<Channels[C]['params']>;
export type ParamsOut<C extends Channel> = z.output<Channels[C]['params']>;
export type Result<C extends Channel> = Channels[C]['result'];

/** What the engine implements: one handler per channel, params already parsed. */
export type Handlers = { [C in Channel]: (params: ParamsOut<C>) => Promise<Result<C>> };

/** Events pushed to every subscriber. */
/** Something the user should hear about that is not a job's own status (a worker crash loop…). */
export interface Notice {
  readonly level: 'info' | 'warning' | 'error';
  readonly message: string;
  readonly at: number;
}

export interface Events extends SettingsEvents, LibraryEvents, SyncEvents {
  'app.notice': Notice;
  'jobs.changed': JobView;
  'jobs.progress': ProgressEvent;
  'jobs.cleared': ClearedJobs;
  'queue.changed': QueueState;
  'gpu.changed': GpuStats;
  /** An "Add model" preparation started, progressed or finished. */
  'models.preparation': Preparation;
  /** The model list changed (a model was prepared): the new list. */
  'models.changed': readonly ModelInfo[];
}
export type EventName = keyof Events;
export const EVENT_NAMES = [
  'app.notice',
  'jobs.changed',
  'jobs.progress',
  'jobs.cleared',
  'queue.changed',
  'gpu.changed',
  'models.preparation',
  'models.changed',
  ...SETTINGS_EVENT_NAMES,
  ...LIBRARY_EVENT_NAMES,
  ...SYNC_EVENT_NAMES,
] as const satisfies readonly EventName[];

type Namespace<S extends string> = S extends `${infer N}.${string}` ? N : never;
type Verb<S extends string> = S extends `${string}.${infer V}` ? V : never;

/**
 * The renderer-facing API: `studio.jobs.enqueue(params)`, `studio.jobs.onChanged(cb) → unsubscribe`.
 * Derived from the channel and event names so the preload can never drift from the contract.
 */
export type StudioApi = {
  [N in Namespace<Channel> | Namespace<EventName>]: {
    [C in Channel as Namespace<C> extends N ? Verb<C> : never]: (params?: ParamsIn<C>) => Promise<Result<C>>;
  } & {
    [E in EventName as Namespace<E> extends N ? `on${Capitalize<Verb<E>>}` : never]: (
      listener: (payload: Events[E]) => void,
    ) => () => void;
  };
};

export function splitName(name: string): [string, string] {
  const dot = name.indexOf('.');
  return [name.slice(0, dot), name.slice(dot + 1)];
}

export function eventVerb(event: EventName): string {
  const [, verb] = splitName(event);
  return `on${verb.charAt(0).toUpperCase()}${verb.slice(1)}`;
}

/** Errors cross every boundary as this shape, so each front door can show what happened and what to do. */
export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly field?: string;
}
