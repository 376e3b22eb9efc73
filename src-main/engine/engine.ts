/**
 * The studio engine: queue, scheduler, workers, models and library behind the one contract.
 * No electron import: the same engine runs inside the app, as the `studio` CLI and as `studio serve`.
 *
 * Roles: the process holding the data folder's runner lock ("runner") recovers interrupted jobs and
 * runs jobs; any other process opening the same folder is a "client" that reads and writes the queue
 * while the runner does the work (the CLI next to an open app). SQLite coordinates them: the runner
 * notices other connections' commits through PRAGMA data_version.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { Database } from './db/database.ts';
import { JobQueue } from './jobs/queue.ts';
import type { BackoffPolicy } from './jobs/queue.ts';
import { ModelChoices } from './models/choices.ts';
import { ModelRegistry } from './models/registry.ts';
import type { DetectedFamily, FamilyValidator } from './models/registry.ts';
import { Scheduler } from './scheduler/scheduler.ts';
import { RunnerLock } from './lock.ts';
import { dataLayout, defaultDataDir } from './paths.ts';
import type { DataLayout } from './paths.ts';
import { StudioError } from './errors.ts';
import { APP_VERSION } from './version.ts';
import { EngineLog } from './log.ts';
import { validateSdxl } from './models/sdxl-validator.ts';
import { validateWan } from './models/wan-validator.ts';
import { validateQwen } from './models/qwen-validator.ts';
import { createLibrary } from './library/handlers.ts';
import type { Library } from './library/library.ts';
import { locateFfmpeg } from './media/ffmpeg-locate.ts';
import type { FfmpegLocation } from './media/ffmpeg-locate.ts';
import { fileURLToPath } from 'node:url';
import { WorkerSupervisor } from './inference/supervisor.ts';
import { defaultWorkerEntry, forkSpawner } from './inference/spawner.ts';
import { defaultProviderOrder } from './inference/providers.ts';
import type { WorkerSpawner } from './inference/spawner.ts';
import { GpuMonitor } from './gpu/monitor.ts';
import { PRESETS, resolveRequest } from '../../src-preload/contract/catalog.ts';
import type { ModelFamily } from '../../src-preload/contract/catalog.ts';
import type { EventName, Events, Handlers } from '../../src-preload/contract/channels.ts';
import type { GpuStats, JobView, ModelInfo } from '../../src-preload/contract/status.ts';
import type { ModelRef } from './pipelines/types.ts';
import { SettingsStore } from './settings/store.ts';
import { settingsHandlers } from './settings/handlers.ts';
import { applySettingsChange, thinPreview } from './settings/live.ts';
import { workerProviders } from './settings/checks.ts';
import { libraryRootOf } from './library/store.ts';
import { makeDirSync } from './fs/make-dir.ts';
import { join } from 'node:path';
import { ModelPreparer } from './checkpoints/preparer.ts';
import { readRecipeFile, readRecipeText } from './recipes/read-recipe.ts';
import { CloudSync, fileSessionStore } from './sync/cloud.ts';
import type { SessionStore } from './sync/cloud.ts';

export { defaultDataDir };

/**
 * The product's pipelines, by family: module files the worker imports. Run from source (CLI, tests)
 * these are the .ts files beside this one; the Electron build passes its bundled files instead
 * (EngineOptions.pipelineModules).
 */
export function sourcePipelineModules(): Partial<Record<ModelFamily | 'qwen', string>> {
  return {
    sdxl: fileURLToPath(new URL('./pipelines/sdxl/index.ts', import.meta.url)),
    wan: fileURLToPath(new URL('./pipelines/wan/index.ts', import.meta.url)),
    qwen: fileURLToPath(new URL('./pipelines/qwen/index.ts', import.meta.url)),
  };
}

export const BUILTIN_VALIDATORS: Partial<Record<DetectedFamily, FamilyValidator>> = {
  sdxl: validateSdxl,
  wan: validateWan,
  qwen: validateQwen,
};

export interface EngineOptions {
  readonly dataDir: string;
  /** Added to the model folders in settings.json for this run (`--models DIR`); never stored. */
  readonly modelDirs?: readonly string[];
  readonly frontDoor: 'electron' | 'serve' | 'cli';
  /** runner: take the lock (fail if held); client: never run jobs; auto: runner when the lock is free. */
  readonly role?: 'runner' | 'client' | 'auto';
  /** VRAM budget when nvidia-smi is absent, and an upper bound when present; overrides settings.json for this run. */
  readonly vramBudgetMb?: number;
  /** Execution providers in the order to try them; overrides settings.json for this run. */
  readonly providers?: readonly string[];
  readonly workerSpawner?: WorkerSpawner;
  /** Pipeline module per family; defaults to sourcePipelineModules(). */
  readonly pipelineModules?: Partial<Record<ModelFamily | 'qwen', string>>;
  readonly workerEntry?: string;
  readonly workerIdleMs?: number;
  readonly maxAttempts?: number;
  /** The ffmpeg binary or its folder; overrides Settings → Video (settings.json) for this run. */
  readonly ffmpegPath?: string | null;
  /** Shows a library file in the system file manager (Electron: shell.showItemInFolder). */
  readonly reveal?: (path: string) => void | Promise<void>;
  readonly backoff?: BackoffPolicy;
  /**
   * Tests only — the product never sets this: run a family with a test pipeline module on a given
   * model, bypassing the model folders.
   */
  readonly pipelineOverrides?: Partial<Record<ModelFamily | 'qwen', { readonly module: string; readonly model: ModelRef }>>;
  /** Where the cloud sign-in is kept (the app: the system keychain); default `<data>/cloud-session.json`, mode 0600. */
  readonly cloudSessions?: SessionStore;
  /** Tests: the fetch the cloud mirror's supabase-js uses. */
  readonly cloudFetch?: typeof fetch;
}

type Listener<E extends EventName> = (payload: Events[E]) => void;


export class Engine {
  readonly role: 'runner' | 'client';
  readonly dataDir: string;
  readonly layout: DataLayout;
  readonly handlers: Handlers;
  readonly db: Database;
  readonly queue: JobQueue;
  readonly models: ModelRegistry;
  /** `<data>/settings.json`: every front door's settings; the options above override them for this run. */
  readonly settings: SettingsStore;
  readonly library: Library;
  /** Add model…: checkpoints prepared on a thread, progress pushed as `models.preparation`. */
  readonly preparer: ModelPreparer;
  /** The cloud mirror (docs/cloud.md): off until the user signs in and turns it on. */
  readonly cloud: CloudSync;
  private readonly libraryHandlers: ReturnType<typeof createLibrary>['handlers'];
  private readonly options: EngineOptions;
  private readonly listeners = new Map<EventName, Set<Listener<EventName>>>();
  private readonly lock: RunnerLock | null;
  private readonly supervisor: WorkerSupervisor | null;
  private readonly gpu: GpuMonitor;
  readonly log: EngineLog;
  private readonly scheduler: Scheduler | null;
  private poller: NodeJS.Timeout | null = null;
  private gpuTimer: NodeJS.Timeout | null = null;
  private lastDataVersion = -1;
  /** Looked up once, in the background at start-up, so video jobs fail at once when it is missing. */
  private ffmpeg: Promise<FfmpegLocation> | null = null;
  private closed = false;
  /** The ffmpeg that reads videos: the one set in Settings → Video, looked up each time; else PATH. */
  private readonly libraryFfmpeg = async () => {
    const found = await this.locatedFfmpeg();
    return found.ok && found.source === 'setting' ? { ffmpeg: found.ffmpeg, ffprobe: found.ffprobe } : null;
  };

  private constructor(options: EngineOptions, layout: DataLayout, lock: RunnerLock | null) {
    this.options = options;
    this.layout = layout;
    this.dataDir = layout.root;
    this.lock = lock;
    this.role = lock ? 'runner' : 'client';
    this.db = new Database(layout.database);
    this.queue = new JobQueue(this.db, {
      instanceId: `${process.pid}-${randomUUID().slice(0, 8)}`,
      maxAttempts: options.maxAttempts,
      backoff: options.backoff,
    });
    this.log = new EngineLog(layout.logs);
    this.settings = new SettingsStore({
      file: join(layout.root, 'settings.json'),
      builtInModelDir: layout.models,
      libraryRoot: () => libraryRootOf(this.db, layout),
      defaultProviders: () => defaultProviderOrder({ platform: process.platform, arch: process.arch }),
      overrides: { modelDirs: options.modelDirs, vramBudgetMb: options.vramBudgetMb, providers: options.providers, ffmpegPath: options.ffmpegPath },
      warn: (message) => this.log.write('warn', 'settings', message),
    });
    const settings = this.settings.effective();
    this.models = new ModelRegistry(settings.modelDirs, BUILTIN_VALIDATORS, new ModelChoices(join(layout.root, 'model-choices.json')));
    this.preparer = new ModelPreparer({
      modelsDir: layout.models,
      findVaes: () => this.models.vaes(),
      onChange: (p) => this.emit('models.preparation', p),
      onPrepared: () => this.emit('models.changed', this.models.refresh()),
      log: (level, message) => this.log.write(level === 'warning' ? 'warn' : level, 'models', message),
    });
    this.gpu = new GpuMonitor({ configuredBudgetMb: 8192, budgetOverrideMb: settings.vramBudgetMb });
    const lib = createLibrary({
      db: this.db,
      layout,
      emit: (event, payload) => this.emit(event, payload as Events[typeof event]),
      reveal: options.reveal,
      // Videos are read and thumbnailed with the ffmpeg set in Settings → Video (looked up when a
      // video is read, so a changed setting applies at once); without one, as before: PATH.
      ffmpeg: this.libraryFfmpeg,
    });
    this.library = lib.library;
    this.libraryHandlers = lib.handlers;
    this.cloud = new CloudSync({
      db: this.db,
      libraryRoot: () => libraryRootOf(this.db, layout),
      sessions: options.cloudSessions ?? fileSessionStore(join(layout.root, 'cloud-session.json')),
      background: lock !== null,
      onChange: (status) => this.emit('sync.changed', status),
      log: (level, message) => this.log.write(level, 'sync', message),
      // Sync never slows a job: the background loop waits while one runs (sync/engine.ts).
      busy: () => (this.scheduler?.runningJobs().length ?? 0) > 0,
      ...(options.cloudFetch ? { fetch: options.cloudFetch } : {}),
    });
    this.queue.onChange((job) => this.emit('jobs.changed', job));
    this.queue.onQueueChange((s) => this.emit('queue.changed', s));

    if (lock) {
      const pipelines: Record<string, string> = { ...(options.pipelineModules ?? sourcePipelineModules()) };
      const modelOverrides: Partial<Record<ModelFamily | 'qwen', ModelRef>> = {};
      for (const [family, o] of Object.entries(options.pipelineOverrides ?? {})) {
        pipelines[family] = o.module;
        modelOverrides[family as ModelFamily | 'qwen'] = o.model;
      }
      this.supervisor = new WorkerSupervisor({
        entry: options.workerEntry ?? defaultWorkerEntry(),
        spawner: options.workerSpawner ?? forkSpawner,
        pipelines,
        idleMs: options.workerIdleMs ?? settings.workerIdleMinutes * 60_000,
      });
      this.supervisor.on('worker-exited', (e) => {
        this.log.write(e.crashed ? 'error' : 'info', `worker:${e.slot}`, `exited (pid ${e.pid ?? '?'}): ${e.reason}`);
        if (e.crashed) this.notify('warning', `The ${e.slot} worker stopped unexpectedly (${e.reason}); it is restarted and its job retried.`);
        this.emitGpu();
      });
      this.supervisor.on('gave-up', (e) => {
        this.log.write('error', `worker:${e.slot}`, e.message);
        this.notify('error', e.message);
        this.emitGpu();
      });
      this.supervisor.on('log', (e) => this.log.write(e.level, `worker:${e.slot}`, e.jobId ? `${e.jobId}: ${e.message}` : e.message));
      this.supervisor.on('worker-started', () => this.emitGpu());
      this.scheduler = new Scheduler({
        db: this.db,
        queue: this.queue,
        models: this.models,
        supervisor: this.supervisor,
        gpu: this.gpu,
        libraryRoot: () => libraryRootOf(this.db, layout),
        onAssetsAdded: (ids) => {
          this.library.notify('added', ids);
          // Outputs that came without a thumbnail (any pipeline that writes none) get one in the background.
          this.library.thumbnails.scan();
        },
        stagingRoot: layout.staging,
        modelsHint: `${layout.models}${options.modelDirs?.length ? ` or ${options.modelDirs.join(', ')}` : ''}`,
        providers: () => this.settings.effective().providers,
        modelOverrides,
        ffmpeg: () => this.locatedFfmpeg(),
        // The pipelines skip previews that are not due; thinning here also covers a change mid-job.
        previewEvery: () => this.settings.get('previewEvery'),
        onProgress: (p) => this.emit('jobs.progress', thinPreview(p, this.settings.get('previewEvery'))),
        onResidencyChange: () => this.emitGpu(),
        onProblem: (message) => {
          this.log.write('error', 'scheduler', message);
          this.notify('error', message);
        },
      });
    } else {
      this.supervisor = null;
      this.scheduler = null;
    }
    this.settings.onChange((change) => {
      applySettingsChange(change, {
        models: this.models,
        gpu: this.gpu,
        workers: this.supervisor,
        relocateFfmpeg: (ffmpegPath) => {
          this.ffmpeg = locateFfmpeg({ ffmpegPath, recheck: true });
        },
        fixedIdleMs: options.workerIdleMs !== undefined,
      });
      this.log.write('info', 'settings', `changed: ${change.changed.join(', ')}`);
      this.emit('settings.changed', change);
      if (change.changed.includes('vramBudgetMb')) this.emitGpu();
      this.scheduler?.kick();
    });
    this.handlers = this.makeHandlers();
  }

  static async open(options: EngineOptions): Promise<Engine> {
    const layout = dataLayout(options.dataDir);
    // makeDirSync, not mkdirSync(…, { recursive: true }), which spins forever for a data folder under /proc.
    for (const dir of [layout.root, layout.library, layout.staging, layout.models, layout.logs]) makeDirSync(dir);
    let lock: RunnerLock | null = null;
    const role = options.role ?? 'auto';
    if (role !== 'client') {
      const got = RunnerLock.acquire(layout.lock, options.frontDoor);
      if (got instanceof RunnerLock) lock = got;
      else if (role === 'runner') {
        throw new StudioError(
          'data_in_use',
          `another OurVidz Studio (${got.frontDoor}, pid ${got.pid}) is running jobs from ${layout.root}. Close it, or use another data folder with --data DIR.`,
        );
      }
    }
    let engine: Engine | null = null;
    try {
      engine = new Engine(options, layout, lock);
      if (lock) await engine.startRunner();
      await engine.cloud.open();
      return engine;
    } catch (e) {
      // A data folder that cannot be opened (a full disk refusing the start-up writes) leaves no
      // lock behind for the next try, in this process or another.
      if (engine) await engine.close().catch(() => undefined);
      else lock?.release();
      throw e;
    }
  }

  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<EventName>);
    return () => set.delete(listener as Listener<EventName>);
  }

  /** Resolves when the job is done, failed or cancelled. */
  waitFor(jobId: string): Promise<JobView> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const job = this.queue.get(jobId);
        if (!job) {
          cleanup();
          reject(new StudioError('not_found', `no job with id ${jobId}`));
          return true;
        }
        if (job.status.state === 'done' || job.status.state === 'failed' || job.status.state === 'cancelled') {
          cleanup();
          resolve(job);
          return true;
        }
        return false;
      };
      const off = this.on('jobs.changed', (j) => {
        if (j.id === jobId) check();
      });
      // Another process may be the runner: poll the shared database too.
      const timer = setInterval(check, 200);
      const cleanup = (): void => {
        off();
        clearInterval(timer);
      };
      check();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.settings.close();
    await this.cloud.close();
    await this.preparer.close();
    if (this.poller) clearInterval(this.poller);
    if (this.gpuTimer) clearInterval(this.gpuTimer);
    await this.scheduler?.stop();
    await this.supervisor?.close();
    this.gpu.stop();
    await this.library.close();
    this.db.close();
    this.lock?.release();
  }

  private async startRunner(): Promise<void> {
    const recovered = this.queue.recoverInterrupted();
    this.log.write('info', 'engine', `runner started (pid ${process.pid}, ${this.options.frontDoor}); recovered ${recovered.requeued.length} interrupted job(s) to the queue, failed ${recovered.failed.length}`);
    // Staging folders belong to jobs in flight; after recovery none is.
    for (const entry of readdirSync(this.layout.staging)) rmSync(`${this.layout.staging}/${entry}`, { recursive: true, force: true });
    for (const id of [...recovered.requeued, ...recovered.failed]) {
      const job = this.queue.get(id);
      if (job) this.emit('jobs.changed', job);
    }
    this.lastDataVersion = this.dataVersion();
    this.poller = setInterval(() => this.pollForeignChanges(), 250);
    this.poller.unref();
    this.gpuTimer = setInterval(() => {
      if (this.scheduler?.runningJobs().length) this.emitGpu();
    }, 1000);
    this.gpuTimer.unref();
    void this.locatedFfmpeg();
    this.settings.watch();
    void this.library.start().catch((e: unknown) => this.log.write('error', 'library', `start-up work failed: ${(e as Error).message}`));
    this.scheduler!.kick();
  }

  /** The ffmpeg for the current setting, looked up once (again after the setting changes or a check). */
  private locatedFfmpeg(): Promise<FfmpegLocation> {
    return (this.ffmpeg ??= locateFfmpeg({ ffmpegPath: this.settings.effective().ffmpegPath }));
  }

  private dataVersion(): number {
    return this.db.get<{ data_version: number }>('PRAGMA data_version')?.data_version ?? 0;
  }

  /** Commits by other processes (a CLI client) wake the scheduler and reach running jobs' cancel. */
  private pollForeignChanges(): void {
    if (this.closed) return;
    try {
      const v = this.dataVersion();
      if (v === this.lastDataVersion) return;
      this.lastDataVersion = v;
      for (const id of this.queue.cancelRequested()) this.scheduler?.cancel(id);
      this.queue.emitQueue();
      // Another process (the CLI beside the open app) may have tagged, trashed or imported assets.
      this.library.notify('updated', null);
      // …or turned cloud sync off, paused or resumed it.
      this.cloud.poll();
    } catch (e) {
      // A failing disk under the database must not end the runner from a timer; the next poll retries.
      this.log.write('error', 'engine', `reading the queue for other processes' changes failed: ${(e as Error).message}`);
    }
    this.scheduler?.kick();
  }

  private emit<E extends EventName>(event: E, payload: Events[E]): void {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        (l as Listener<E>)(payload);
      } catch {
        // A failing subscriber must not stop the engine or the other subscribers.
      }
    }
  }

  private notify(level: 'info' | 'warning' | 'error', message: string): void {
    this.emit('app.notice', { level, message, at: Date.now() });
  }

  private emitGpu(): void {
    this.emit('gpu.changed', this.gpuStats());
  }

  /** A model of the list by its id (rescanned, so a model just added or removed is seen), or not_found. */
  private listedModel(id: string): ModelInfo {
    const model = this.models.refresh().find((m) => m.id === id);
    if (!model) throw new StudioError('not_found', `no model with id ${id} in the list; choose Scan again to update it`);
    return model;
  }

  /** After a choice about the list: every window gets the new list. */
  private modelsChanged(): readonly ModelInfo[] {
    const models = this.models.refresh();
    this.emit('models.changed', models);
    return models;
  }

  private gpuStats(): GpuStats {
    const snap = this.gpu.snapshot();
    return {
      ...snap,
      budgetMb: this.gpu.budgetMb(),
      loadedModels: this.scheduler?.loadedModels() ?? [],
      workers: this.supervisor?.status() ?? [],
    };
  }

  private makeHandlers(): Handlers {
    const kick = (): void => this.scheduler?.kick();
    return {
      'app.info': async () => ({
        version: APP_VERSION,
        dataDir: this.dataDir,
        modelDirs: this.models.dirs,
        providers: this.settings.effective().providers,
        frontDoor: this.options.frontDoor,
      }),
      'catalog.list': async () => Object.values(PRESETS),
      'jobs.enqueue': async ({ request, idempotencyKey }) => {
        const { type, params } = resolveRequest(request, () => randomInt(0, 2 ** 32));
        const job = this.queue.enqueue(type, params, { idempotencyKey });
        this.queue.emitQueue();
        kick();
        return job;
      },
      'jobs.list': async (p) => this.queue.list({ states: p?.states, limit: p?.limit, includeCleared: p?.includeCleared }),
      'jobs.get': async ({ id }) => this.queue.get(id),
      'jobs.cancel': async ({ id }) => {
        const job = this.queue.cancel(id);
        this.scheduler?.cancel(id);
        return job;
      },
      'jobs.retry': async ({ id }) => {
        const job = this.queue.retry(id);
        kick();
        return job;
      },
      'jobs.moveToFront': async ({ id }) => {
        const job = this.queue.moveToFront(id);
        kick();
        return job;
      },
      'jobs.reorder': async ({ id, before }) => {
        const job = this.queue.reorder(id, before);
        kick();
        return job;
      },
      'jobs.clearFinished': async (p) => {
        const ids = this.queue.clearFinished(p?.ids);
        if (ids.length > 0) this.emit('jobs.cleared', { ids });
        return { ids };
      },
      'queue.state': async () => this.queue.state(),
      'queue.pause': async () => {
        const s = this.queue.setPaused(true);
        await this.scheduler?.pause();
        return s;
      },
      'queue.resume': async () => {
        this.supervisor?.resetCrashes();
        const s = this.queue.setPaused(false);
        kick();
        return s;
      },
      'models.list': async () => this.models.refresh(),
      'models.inspect': ({ path, paths }) => this.preparer.inspect(path, paths),
      'models.add': ({ path, paths, vae, name }) => this.preparer.add({ path, paths: paths ?? null, vae: vae ?? null, name: name ?? null }),
      'models.preparations': async () => this.preparer.list(),
      'models.cancelPreparation': async ({ id }) => {
        const found = this.preparer.cancel(id);
        if (!found) throw new StudioError('not_found', `no model preparation ${id}`);
        return found;
      },
      'models.setDefault': async ({ id }) => {
        const model = this.listedModel(id);
        if (model.status !== 'ready') {
          throw new StudioError('conflict', `${model.name} is not ready (${model.status === 'needs_preparation' ? 'prepare it first' : model.problems.join('; ')}), so it cannot be the default`);
        }
        await this.models.choices!.setDefault(model.family, model.id);
        if (model.hidden) await this.models.choices!.setHidden(model.path, false);
        return this.modelsChanged();
      },
      'models.setHidden': async ({ id, hidden }) => {
        await this.models.choices!.setHidden(this.listedModel(id).path, hidden);
        return this.modelsChanged();
      },
      'models.reveal': async ({ id }) => {
        const { path } = this.listedModel(id);
        if (!existsSync(path)) throw new StudioError('not_found', `${path} is no longer there; choose Scan again to update the list`);
        if (!this.options.reveal) return { revealed: false, path };
        await this.options.reveal(path);
        return { revealed: true, path };
      },
      'gpu.status': async () => this.gpuStats(),
      'prompts.enhance': async ({ prompt, type, seed }) => {
        if (!this.scheduler) {
          throw new StudioError('not_runner', 'the prompt enhancer runs in the process that runs jobs (the app or `studio serve`); open it, or use the CLI with --wait');
        }
        return this.scheduler.enhance(prompt, type, seed ?? randomInt(0, 2 ** 32));
      },
      ...this.libraryHandlers,
      // A dropped picture's or a pasted text's recipe, read as the Library's import reads files.
      'recipes.fromFile': (p) => readRecipeFile(p, { ffmpeg: this.libraryFfmpeg }),
      'recipes.fromText': (p) => readRecipeText(p),
      'sync.status': async () => this.cloud.status(),
      'sync.configure': (p) => this.cloud.configure(p),
      'sync.login': ({ email, password }) => this.cloud.login(email, password),
      'sync.signUp': ({ email, password }) => this.cloud.signUp(email, password),
      'sync.resetPassword': ({ email }) => this.cloud.resetPassword(email),
      'sync.logout': () => this.cloud.logout(),
      'sync.now': () => this.cloud.syncNow(),
      'sync.pause': () => this.cloud.pause(),
      'sync.resume': () => this.cloud.resume(),
      'sync.setEnabled': ({ enabled }) => this.cloud.setEnabled(enabled),
      'sync.retry': () => this.cloud.retry(),
      'sync.setMirror': (p) => this.cloud.setMirror(p),
      'sync.download': ({ assetId }) => this.cloud.download(assetId),
      ...settingsHandlers(this.settings, {
        state: () => this.settings.state(),
        models: () => this.models.refresh(),
        ffmpeg: () => (this.ffmpeg = locateFfmpeg({ ffmpegPath: this.settings.effective().ffmpegPath, recheck: true })),
        gpu: async () => {
          const snapshot = await this.gpu.recheck();
          this.emitGpu();
          return snapshot;
        },
        providersAvailable: async () => (this.supervisor ? workerProviders(this.supervisor, 'sdxl') : null),
      }),
    };
  }
}
