/**
 * Entry of an inference worker process: started by the WorkerSupervisor as an Electron
 * utilityProcess (messages through `process.parentPort`) or a Node child process
 * (`process.send`). Plain Node 24 runs this file directly; the Electron build bundles it.
 *
 * The worker runs one operation at a time (run, unload) in arrival order; `cancel` bypasses the
 * line and aborts the running job's AbortSignal. It exits on `shutdown`, when its parent goes
 * away, and after `idleTimeoutMs` without work, releasing every session first.
 *
 * A pipeline hears a cancel only when it yields to the event loop: awaiting `session.run` does,
 * and a pipeline with long synchronous stretches must await something between steps.
 *
 * Pipeline modules are loaded on first use from the start options' family → module map. A module
 * exports `createPipeline(): Pipeline | Promise<Pipeline>`, or that function as its default export.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PipelineError } from '../pipelines/types.ts';
import { diskError, diskProblemOf } from '../errors.ts';
import type { Pipeline, PipelineResult, ProgressUpdate, RunRequest } from '../pipelines/types.ts';
import { ProgressThrottle } from './progress-throttle.ts';
import {
  PROTOCOL_VERSION,
  ProtocolError,
  checkPipelineResult,
  decodeStartOptions,
  jobIdOf,
  parseToWorker,
  type ExitReason,
  type FromWorker,
  type LogLevel,
  type WorkerStartOptions,
} from './protocol.ts';
import { Worker as ThreadWorker } from 'node:worker_threads';
import { entryBeside } from '../media/entries.ts';
import { PARENT_WATCH_MARK } from './parent-watch.ts';

interface ParentLink {
  post(message: FromWorker): Promise<void>;
  onMessage(callback: (message: unknown) => void): void;
  /** Stops listening so the process can end. */
  close(): void;
}

/** Electron's utilityProcess parent port, typed here because the engine has no electron import. */
interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  removeAllListeners(event?: string): void;
}

const PARENT_POLL_MS = 2000;

function connectToParent(onParentGone: () => void): ParentLink | null {
  const port = (process as unknown as { parentPort?: ElectronParentPort | null }).parentPort;
  if (port) {
    // utilityProcess has no disconnect event; Electron ends the process with the app, and this
    // poll covers a main process that died without that cleanup.
    const parentPid = process.ppid;
    const timer = setInterval(() => {
      if (!isAlive(parentPid) || process.ppid !== parentPid) onParentGone();
    }, PARENT_POLL_MS);
    timer.unref();
    return {
      post: async (message) => port.postMessage(message),
      onMessage: (callback) => port.on('message', (event) => callback(event.data)),
      close: () => {
        clearInterval(timer);
        port.removeAllListeners('message');
      },
    };
  }
  if (typeof process.send === 'function') {
    process.on('disconnect', onParentGone);
    return {
      post: (message) =>
        new Promise<void>((resolve) => {
          if (!process.connected || !process.send) return resolve();
          // The callback fires once the message is handed to the channel, so an exit after it
          // does not drop the message.
          process.send(message, undefined, {}, () => resolve());
        }),
      onMessage: (callback) => process.on('message', callback),
      close: () => {
        process.removeAllListeners('message');
        process.removeListener('disconnect', onParentGone);
        if (process.connected) process.disconnect();
      },
    };
  }
  return null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface RunningJob {
  readonly jobId: string;
  readonly controller: AbortController;
}

type PipelineFactory = () => Pipeline | Promise<Pipeline>;

function isCancelled(error: unknown, signal: AbortSignal): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'CancelledError') return true;
  return signal.aborted && error.name === 'AbortError';
}

function pipelineErrorFields(error: unknown): { code: string; transient: boolean } | null {
  if (!(error instanceof Error) || error.name !== 'PipelineError') return null;
  const e = error as Error & { code?: unknown; transient?: unknown };
  if (typeof e.code !== 'string') return null;
  return { code: e.code, transient: e.transient === true };
}

function diskJobError(error: unknown, stagingDir: string) {
  switch (diskProblemOf(error)) {
    case 'full':
      return diskError(error, { what: "the job's output could not be written", where: stagingDir, next: 'retry the job' });
    case 'io':
      return diskError(error, { what: 'the job could not read or write a file', next: 'retry the job' });
    default:
      return null;
  }
}

class Worker {
  readonly #options: WorkerStartOptions;
  readonly #link: ParentLink;
  readonly #pipelines = new Map<string, Promise<Pipeline>>();
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;
  #running: RunningJob | null = null;
  /** Cancels that arrived before their run started (a run waits behind the previous operation). */
  readonly #cancelledEarly = new Set<string>();
  #idleTimer: NodeJS.Timeout | null = null;
  #exiting = false;

  constructor(options: WorkerStartOptions, link: ParentLink) {
    this.#options = options;
    this.#link = link;
  }

  start(providersAvailable: readonly string[]): void {
    this.#link.onMessage((raw) => this.#receive(raw));
    void this.#post({ v: PROTOCOL_VERSION, type: 'ready', pid: process.pid, providersAvailable: [...providersAvailable] });
    this.#armIdleTimer();
  }

  #post(message: FromWorker): Promise<void> {
    return this.#link.post(message).catch(() => undefined);
  }

  log(level: LogLevel, message: string, jobId: string | null = null): void {
    void this.#post({ v: PROTOCOL_VERSION, type: 'log', level, message, jobId });
  }

  #receive(raw: unknown): void {
    if (this.#exiting) return;
    let message;
    try {
      message = parseToWorker(raw);
    } catch (error) {
      const text = error instanceof ProtocolError ? error.message : String(error);
      const jobId = jobIdOf(raw);
      if (jobId !== null && (raw as { type?: unknown }).type === 'run') {
        void this.#post({ v: PROTOCOL_VERSION, type: 'failed', jobId, code: 'protocol_error', message: text, transient: false });
      } else {
        this.log('error', text);
      }
      return;
    }
    switch (message.type) {
      case 'run':
        this.#enqueue(() => this.#run(message.request));
        break;
      case 'cancel':
        if (this.#running?.jobId === message.jobId) this.#running.controller.abort();
        else this.#cancelledEarly.add(message.jobId);
        break;
      case 'unload':
        this.#enqueue(() => this.#unload());
        break;
      case 'shutdown':
        void this.exit('shutdown');
        break;
    }
  }

  #enqueue(operation: () => Promise<void>): void {
    this.#disarmIdleTimer();
    this.#pending += 1;
    // After `exit` began, queued operations are dropped: the parent learned from `exiting` that
    // they will not run.
    this.#tail = this.#tail.then(() => (this.#exiting ? undefined : operation())).finally(() => {
      this.#pending -= 1;
      if (this.#pending === 0) this.#armIdleTimer();
    });
  }

  #armIdleTimer(): void {
    this.#disarmIdleTimer();
    if (this.#options.idleTimeoutMs <= 0 || this.#exiting) return;
    this.#idleTimer = setTimeout(() => void this.exit('idle'), this.#options.idleTimeoutMs);
  }

  #disarmIdleTimer(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }

  async #pipeline(family: string): Promise<Pipeline> {
    let loading = this.#pipelines.get(family);
    if (!loading) {
      const specifier = this.#options.pipelines[family];
      if (specifier === undefined) {
        throw new PipelineError(
          'pipeline_missing',
          `No pipeline is registered for model family "${family}" in this build (registered: ${Object.keys(this.#options.pipelines).join(', ') || 'none'}).`,
        );
      }
      loading = (async () => {
        const url = isAbsolute(specifier) ? pathToFileURL(specifier).href : specifier;
        let module: { createPipeline?: unknown; default?: unknown };
        try {
          module = (await import(url)) as typeof module;
        } catch (e) {
          throw new PipelineError('pipeline_load_failed', `Could not load the ${family} pipeline (${specifier}): ${(e as Error).message}`);
        }
        const factory = (module.createPipeline ?? module.default) as PipelineFactory | undefined;
        if (typeof factory !== 'function') {
          throw new PipelineError('pipeline_load_failed', `The ${family} pipeline module ${specifier} exports no createPipeline() function.`);
        }
        return factory();
      })();
      this.#pipelines.set(family, loading);
      loading.catch(() => this.#pipelines.delete(family));
    }
    return loading;
  }

  async #run(request: RunRequest): Promise<void> {
    const { jobId } = request;
    const controller = new AbortController();
    if (this.#cancelledEarly.delete(jobId)) controller.abort();
    this.#running = { jobId, controller };
    const throttle = new ProgressThrottle(this.#options.previewIntervalMs);
    try {
      const pipeline = await this.#pipeline(request.model.family);
      if (controller.signal.aborted) {
        await this.#post({ v: PROTOCOL_VERSION, type: 'cancelled', jobId });
        return;
      }
      const result: PipelineResult = await pipeline.run(request, {
        signal: controller.signal,
        progress: (update: ProgressUpdate) => {
          if (update.preview !== null && !(update.preview instanceof Uint8Array)) update = { ...update, preview: null };
          const admitted = throttle.admit(update);
          if (admitted === null) return;
          void this.#post({
            v: PROTOCOL_VERSION,
            type: 'progress',
            jobId,
            step: admitted.step,
            of: admitted.of,
            stage: admitted.stage,
            ...(admitted.stageProgress ? { stageProgress: admitted.stageProgress } : {}),
            preview: admitted.preview,
          });
        },
        log: (message: string) => this.log('info', message, jobId),
      });
      const problem = checkPipelineResult(result);
      if (problem !== null) {
        throw new PipelineError('pipeline_bad_result', `The ${request.model.family} pipeline returned a malformed result (${problem}).`);
      }
      await this.#post({ v: PROTOCOL_VERSION, type: 'done', jobId, result });
    } catch (error) {
      if (isCancelled(error, controller.signal)) {
        await this.#post({ v: PROTOCOL_VERSION, type: 'cancelled', jobId });
        return;
      }
      // A full or failing disk, whichever write met it (a PNG, the MP4 ffmpeg writes), is said as
      // such, with the disk and what to free: the user's next step is the same for every pipeline.
      const disk = diskJobError(error, request.stagingDir);
      const fields = disk ? { code: disk.code, transient: false } : pipelineErrorFields(error);
      const message = disk ? disk.message : error instanceof Error ? error.message : String(error);
      await this.#post({
        v: PROTOCOL_VERSION,
        type: 'failed',
        jobId,
        code: fields?.code ?? 'pipeline_error',
        message: message || 'The pipeline failed without a message.',
        transient: fields?.transient ?? false,
      });
      if (!fields && error instanceof Error && error.stack) this.log('error', error.stack, jobId);
    } finally {
      this.#running = null;
    }
  }

  async #releaseAll(): Promise<string[]> {
    const families: string[] = [];
    for (const [family, loading] of this.#pipelines) {
      const pipeline = await loading.catch(() => null);
      if (!pipeline) continue;
      try {
        await pipeline.unload();
        families.push(family);
      } catch (e) {
        this.log('warn', `Unloading the ${family} pipeline failed: ${(e as Error).message}`);
      }
    }
    // Whatever a pipeline forgot, the shared runtime still holds: release it too. Only if a
    // pipeline ever loaded the runtime, so a worker with none never pays for onnxruntime.
    if (runtimeModule) await (await runtimeModule).workerRuntime().releaseAll();
    return families;
  }

  async #unload(): Promise<void> {
    const families = await this.#releaseAll();
    await this.#post({ v: PROTOCOL_VERSION, type: 'unloaded', families });
  }

  async exit(reason: ExitReason): Promise<void> {
    if (this.#exiting) return;
    this.#exiting = true;
    this.#disarmIdleTimer();
    // Announce first: from here on no message is handled, and the parent knows a run it sent
    // meanwhile never started.
    await this.#post({ v: PROTOCOL_VERSION, type: 'exiting', reason });
    this.#running?.controller.abort();
    await Promise.race([this.#tail, new Promise((r) => setTimeout(r, 2000).unref())]);
    await Promise.race([this.#releaseAll().catch(() => []), new Promise((r) => setTimeout(r, 2000).unref())]);
    this.#link.close();
    process.exit(0);
  }
}

/**
 * The shared ORT runtime module, imported on first need. Pipelines import runtime.ts themselves;
 * since ES modules are singletons, this is the same instance they use.
 */
let runtimeModule: Promise<typeof import('./runtime.ts')> | null = null;

/** Starts the parent-watch thread (parent-watch.ts): the worker ends at once when its engine dies. */
function watchParent(): void {
  try {
    const watcher = new ThreadWorker(entryBeside('parent-watch', import.meta.url), { workerData: { mark: PARENT_WATCH_MARK, parentPid: process.ppid } });
    watcher.unref();
    watcher.on('error', () => undefined);
  } catch {
    // Without it the IPC disconnect and the poll still end the worker, only after the current step.
  }
}

async function main(): Promise<void> {
  let worker: Worker | null = null;
  const link = connectToParent(() => {
    if (worker) void worker.exit('parent-gone');
    else process.exit(0);
  });
  if (!link) {
    process.stderr.write('worker-main: no parent channel. This file is started by the WorkerSupervisor, not by hand.\n');
    process.exit(2);
  }
  let options: WorkerStartOptions;
  try {
    options = decodeStartOptions(process.env);
  } catch (e) {
    process.stderr.write(`worker-main: ${(e as Error).message}\n`);
    process.exit(2);
  }
  worker = new Worker(options, link);
  watchParent();
  let providers: string[] = [];
  try {
    runtimeModule = import('./runtime.ts');
    providers = (await runtimeModule).providersAvailable();
  } catch (e) {
    runtimeModule = null;
    worker.log('error', `onnxruntime-node could not be loaded in the inference worker: ${(e as Error).message}`);
  }
  worker.start(providers);
}

await main();
