/**
 * Runs inference jobs in worker processes, one worker per named slot (the scheduler uses 'sdxl'
 * and 'wan', so one job of each can run at once), and keeps a crash in native code (a CUDA abort,
 * an out-of-memory kill) from reaching the engine.
 *
 * Lifecycle of a slot's worker: spawned on first need; `ready` → idle ⇄ busy; it may exit on its
 * own after an idle timeout (announced with `exiting`; a run sent meanwhile is given to a fresh
 * worker). An exit nobody asked for is a crash: the job it held resolves `worker_crashed`
 * (transient) and the worker is restarted at once. After `maxConsecutiveCrashes` crashes with no
 * completed job in between, the slot gives up: no restart, every run fails `worker_crash_loop`
 * until `resetCrashes()` (the user resuming the queue).
 *
 * One state machine, kept in one file so every transition can be read in one place.
 */
import type { ProgressUpdate, RunRequest, PipelineResult } from '../pipelines/types.ts';
import {
  PROTOCOL_VERSION,
  encodeStartOptions,
  parseFromWorker,
  previewBytes,
  type ExitReason,
  type FromWorker,
  type LogLevel,
  type ToWorker,
} from './protocol.ts';
import { defaultWorkerEntry, forkSpawner, type WorkerChannel, type WorkerSpawner } from './spawner.ts';
import { TypedEmitter } from './typed-emitter.ts';

export type RunEnd =
  | { kind: 'done'; result: PipelineResult }
  | { kind: 'cancelled' }
  | { kind: 'failed'; code: string; message: string; transient: boolean };

export type WorkerState = 'stopped' | 'starting' | 'idle' | 'busy' | 'exiting' | 'gave-up';

export interface WorkerStatus {
  /** Stable number of the slot (order of first use), for the GPU panel. */
  readonly id: number;
  readonly slot: string;
  readonly pid: number | null;
  readonly state: WorkerState;
  readonly jobId: string | null;
  /** Crashes since the last completed job. */
  readonly crashes: number;
  readonly lastCrash: string | null;
  /** Backends the worker's onnxruntime-node supports (known once it is ready). */
  readonly providersAvailable: readonly string[];
}

export interface SupervisorEvents {
  'worker-started': { readonly slot: string; readonly pid: number | null };
  'worker-exited': {
    readonly slot: string;
    readonly pid: number | null;
    readonly code: number | null;
    readonly signal: string | null;
    readonly crashed: boolean;
    readonly reason: string;
  };
  'gave-up': { readonly slot: string; readonly crashes: number; readonly lastCrash: string; readonly message: string };
  log: { readonly slot: string; readonly level: LogLevel; readonly message: string; readonly jobId: string | null };
}

export interface SupervisorOptions {
  /** Worker script; default the TypeScript entry Node 24 runs directly. Electron passes its bundle. */
  readonly entry?: string;
  readonly spawner?: WorkerSpawner;
  /** Model family → pipeline module specifier, handed to every worker. */
  readonly pipelines?: Readonly<Record<string, string>>;
  /** A worker exits after this long without work, releasing its sessions (0: never). Default 10 min. */
  readonly idleMs?: number;
  /** Shortest gap between two previews a worker sends. Default 250 ms (about 4 a second). */
  readonly previewIntervalMs?: number;
  /** Crashes in a row after which a slot stops restarting. Default 5. */
  readonly maxConsecutiveCrashes?: number;
  /**
   * A cancelled job stops at its pipeline's next step; a worker stuck inside one long
   * `session.run` cannot hear the cancel, so after this long it is killed. Default 30 s.
   */
  readonly cancelGraceMs?: number;
  /** A worker that has not said `ready` after this long is killed and counted as a crash. Default 60 s. */
  readonly startTimeoutMs?: number;
  /** How long `close()` waits for a worker to exit before killing it. Default 5 s. */
  readonly shutdownGraceMs?: number;
  /** Extra environment for workers. */
  readonly env?: Readonly<Record<string, string>>;
}

interface ActiveRun {
  readonly request: RunRequest;
  readonly onProgress: (update: ProgressUpdate) => void;
  readonly resolve: (end: RunEnd) => void;
  cancelRequested: boolean;
  cancelTimer: NodeJS.Timeout | null;
}

interface LiveWorker {
  readonly slot: Slot;
  readonly channel: WorkerChannel;
  readonly pid: number | null;
  ready: boolean;
  providers: readonly string[];
  job: ActiveRun | null;
  /** Messages held until `ready`: a fork child may not listen yet when it is spawned. */
  readonly outbox: ToWorker[];
  readonly unloadWaiters: (() => void)[];
  /** The worker said it is leaving (idle timeout, parent gone). */
  announcedExit: ExitReason | null;
  /** We asked it to go or killed it, and how its job (if any) ends then. */
  expectedExit: { readonly reason: string; readonly jobEnd: RunEnd | null } | null;
  startTimer: NodeJS.Timeout | null;
  readonly exited: Promise<void>;
  markExited: () => void;
}

interface Slot {
  readonly id: number;
  readonly name: string;
  worker: LiveWorker | null;
  crashes: number;
  lastCrash: string | null;
  gaveUp: boolean;
}

const SIGNAL_HINTS: Readonly<Record<string, string>> = {
  SIGABRT: 'a native library aborted',
  SIGKILL: 'killed; often the system ran out of memory',
  SIGSEGV: 'a native library crashed',
  SIGBUS: 'a native library crashed',
};

const WINDOWS_CODE_HINTS: Readonly<Record<number, string>> = {
  [0xc0000005]: 'access violation in a native library',
  [0xc0000409]: 'a native library stopped the process',
  [0xc0000017]: 'out of memory',
};

/** "exit code 3", "signal SIGABRT (a native library aborted)". */
export function describeExit(code: number | null, signal: string | null): string {
  if (signal) return SIGNAL_HINTS[signal] ? `signal ${signal} (${SIGNAL_HINTS[signal]})` : `signal ${signal}`;
  if (code === null) return 'it could not be started';
  const hint = WINDOWS_CODE_HINTS[code >>> 0];
  return hint ? `exit code 0x${(code >>> 0).toString(16)} (${hint})` : `exit code ${code}`;
}

export class WorkerSupervisor extends TypedEmitter<SupervisorEvents> {
  readonly #entry: string;
  readonly #spawner: WorkerSpawner;
  readonly #pipelines: Readonly<Record<string, string>>;
  #idleMs: number;
  readonly #previewIntervalMs: number;
  readonly #maxCrashes: number;
  readonly #cancelGraceMs: number;
  readonly #startTimeoutMs: number;
  readonly #shutdownGraceMs: number;
  readonly #env: Readonly<Record<string, string>>;
  readonly #slots = new Map<string, Slot>();
  /** Every process not yet exited, including one leaving on its own while a successor starts. */
  readonly #live = new Set<LiveWorker>();
  #closed = false;

  constructor(options: SupervisorOptions = {}) {
    super();
    this.#entry = options.entry ?? defaultWorkerEntry();
    this.#spawner = options.spawner ?? forkSpawner;
    this.#pipelines = options.pipelines ?? {};
    this.#idleMs = options.idleMs ?? 10 * 60_000;
    this.#previewIntervalMs = options.previewIntervalMs ?? 250;
    this.#maxCrashes = options.maxConsecutiveCrashes ?? 5;
    this.#cancelGraceMs = options.cancelGraceMs ?? 30_000;
    this.#startTimeoutMs = options.startTimeoutMs ?? 60_000;
    this.#shutdownGraceMs = options.shutdownGraceMs ?? 5_000;
    this.#env = options.env ?? {};
  }

  /**
   * Runs a job on the slot's worker. Never rejects for job failures: a crash, a pipeline error or
   * a cancel all resolve as a RunEnd. Throws only on misuse (a second job on a busy slot).
   */
  run(slotName: string, request: RunRequest, onProgress: (update: ProgressUpdate) => void): Promise<RunEnd> {
    if (this.#closed) {
      return Promise.resolve({
        kind: 'failed',
        code: 'worker_stopped',
        message: 'The inference workers are shutting down with the app; the job will run again at the next start.',
        transient: true,
      });
    }
    const slot = this.#slot(slotName);
    if (slot.gaveUp) return Promise.resolve(this.#crashLoopEnd(slot));
    if (slot.worker?.job) {
      throw new Error(`slot ${slotName} is already running job ${slot.worker.job.request.jobId}; run one job per slot at a time`);
    }
    for (const other of this.#slots.values()) {
      if (other.worker?.job?.request.jobId === request.jobId) throw new Error(`job ${request.jobId} is already running in slot ${other.name}`);
    }
    return new Promise<RunEnd>((resolve) => {
      this.#dispatch(slot, { request, onProgress, resolve, cancelRequested: false, cancelTimer: null });
    });
  }

  /** Asks the worker running `jobId` to stop at its next step. False if no slot runs that job. */
  cancel(jobId: string): boolean {
    for (const slot of this.#slots.values()) {
      const worker = slot.worker;
      const job = worker?.job;
      if (!worker || !job || job.request.jobId !== jobId) continue;
      if (job.cancelRequested) return true;
      job.cancelRequested = true;
      this.#send(worker, { v: PROTOCOL_VERSION, type: 'cancel', jobId });
      job.cancelTimer = setTimeout(() => {
        if (worker.job !== job) return;
        this.#log(slot, 'warn', `job ${jobId} did not stop within ${this.#cancelGraceMs} ms of its cancel; killing the worker`, jobId);
        this.#stop(worker, 'killed after an unanswered cancel', { kind: 'cancelled' }, true);
      }, this.#cancelGraceMs);
      job.cancelTimer.unref();
      return true;
    }
    // A run waiting for a fresh worker (its first one left) is not in a slot's worker yet.
    for (const worker of this.#live) {
      if (worker.job?.request.jobId === jobId) {
        worker.job.cancelRequested = true;
        return true;
      }
    }
    return false;
  }

  /**
   * Releases every session in the slot's worker (all slots when none is named). Resolves when the
   * worker confirmed, or when it exited (which releases everything too). A slot without a worker
   * resolves at once. A busy worker unloads after its job.
   */
  async unload(slotName?: string): Promise<void> {
    const workers = [...this.#live].filter((w) => slotName === undefined || w.slot.name === slotName);
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            worker.unloadWaiters.push(resolve);
            if (worker.announcedExit === null && worker.expectedExit === null) this.#send(worker, { v: PROTOCOL_VERSION, type: 'unload' });
          }),
      ),
    );
  }

  /** Settings changed the idle timeout: workers started from now on get it. */
  setIdleMs(ms: number): void {
    this.#idleMs = ms;
  }

  /** Starts the slot's worker ahead of the first job (onnxruntime loads before the job waits on it). */
  warm(slotName: string): void {
    const slot = this.#slot(slotName);
    if (this.#closed || slot.gaveUp || (slot.worker && slot.worker.announcedExit === null)) return;
    this.#spawn(slot);
  }

  status(): WorkerStatus[] {
    return [...this.#slots.values()].map((slot) => {
      const w = slot.worker;
      let state: WorkerState;
      if (!w) state = slot.gaveUp ? 'gave-up' : 'stopped';
      else if (w.announcedExit !== null || w.expectedExit !== null) state = 'exiting';
      else if (w.job) state = 'busy';
      else state = w.ready ? 'idle' : 'starting';
      return {
        id: slot.id,
        slot: slot.name,
        pid: w?.pid ?? null,
        state,
        jobId: w?.job?.request.jobId ?? null,
        crashes: slot.crashes,
        lastCrash: slot.lastCrash,
        providersAvailable: w?.providers ?? [],
      };
    });
  }

  /** Clears crash counts (all slots, or one) so a slot that gave up starts a worker at its next run. */
  resetCrashes(slotName?: string): void {
    for (const slot of this.#slots.values()) {
      if (slotName !== undefined && slot.name !== slotName) continue;
      slot.crashes = 0;
      slot.gaveUp = false;
    }
  }

  /** Stops every worker: running jobs resolve `worker_stopped` (transient), sessions are released. */
  async close(): Promise<void> {
    this.#closed = true;
    const workers = [...this.#live];
    for (const worker of workers) {
      this.#stop(
        worker,
        'the supervisor closed',
        {
          kind: 'failed',
          code: 'worker_stopped',
          message: 'The inference worker was stopped because the app is closing; the job will run again at the next start.',
          transient: true,
        },
        false,
      );
    }
    await Promise.all(
      workers.map(async (worker) => {
        const timer = setTimeout(() => worker.channel.kill(), this.#shutdownGraceMs);
        await worker.exited;
        clearTimeout(timer);
      }),
    );
  }

  // -------------------------------------------------------------------------------------------

  #slot(name: string): Slot {
    let slot = this.#slots.get(name);
    if (!slot) {
      slot = { id: this.#slots.size, name, worker: null, crashes: 0, lastCrash: null, gaveUp: false };
      this.#slots.set(name, slot);
    }
    return slot;
  }

  #crashLoopEnd(slot: Slot): RunEnd {
    return { kind: 'failed', code: 'worker_crash_loop', message: this.#crashLoopMessage(slot), transient: false };
  }

  #crashLoopMessage(slot: Slot): string {
    return (
      `The ${slot.name} inference worker crashed ${slot.crashes} times in a row (last: ${slot.lastCrash ?? 'unknown'}), ` +
      'so it is not restarted any more. Check the GPU driver, the model files and the logs, then resume the queue to try again.'
    );
  }

  #log(slot: Slot, level: LogLevel, message: string, jobId: string | null = null): void {
    this.emit('log', { slot: slot.name, level, message, jobId });
  }

  #dispatch(slot: Slot, run: ActiveRun): void {
    if (run.cancelRequested) return run.resolve({ kind: 'cancelled' });
    let worker = slot.worker;
    if (!worker || worker.announcedExit !== null || worker.expectedExit !== null) worker = this.#spawn(slot);
    if (!worker) {
      // The spawn itself failed and was counted as a crash.
      return run.resolve(
        slot.gaveUp
          ? this.#crashLoopEnd(slot)
          : { kind: 'failed', code: 'worker_crashed', message: `The inference worker could not be started (${slot.lastCrash}).`, transient: true },
      );
    }
    worker.job = run;
    this.#send(worker, { v: PROTOCOL_VERSION, type: 'run', request: run.request });
  }

  #spawn(slot: Slot): LiveWorker | null {
    let channel: WorkerChannel;
    try {
      channel = this.#spawner(this.#entry, {
        env: {
          ...this.#env,
          ...encodeStartOptions({
            slot: slot.name,
            pipelines: this.#pipelines,
            idleTimeoutMs: this.#idleMs,
            previewIntervalMs: this.#previewIntervalMs,
          }),
        },
        args: [],
      });
    } catch (error) {
      this.#countCrash(slot, `it could not be started: ${(error as Error).message}`);
      return null;
    }
    let markExited = (): void => undefined;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const worker: LiveWorker = {
      slot,
      channel,
      pid: channel.pid ?? null,
      ready: false,
      providers: [],
      job: null,
      outbox: [],
      unloadWaiters: [],
      announcedExit: null,
      expectedExit: null,
      startTimer: null,
      exited,
      markExited,
    };
    worker.startTimer = setTimeout(() => {
      if (worker.ready || worker.expectedExit !== null) return;
      this.#log(slot, 'error', `the worker did not start within ${this.#startTimeoutMs} ms; killing it`);
      // Not an expected exit: a worker that cannot start counts towards the crash loop.
      worker.channel.kill();
    }, this.#startTimeoutMs);
    worker.startTimer.unref();
    slot.worker = worker;
    this.#live.add(worker);
    channel.onMessage((raw) => this.#onMessage(slot, worker, raw));
    channel.onExit((code, signal) => this.#onExit(slot, worker, code, signal));
    this.emit('worker-started', { slot: slot.name, pid: worker.pid });
    return worker;
  }

  #send(worker: LiveWorker, message: ToWorker): void {
    if (worker.ready) worker.channel.send(message);
    else worker.outbox.push(message);
  }

  /** Ends a worker on purpose: a graceful `shutdown`, or a kill. Its job resolves with `jobEnd`. */
  #stop(worker: LiveWorker, reason: string, jobEnd: RunEnd | null, kill: boolean): void {
    if (worker.expectedExit === null) worker.expectedExit = { reason, jobEnd };
    if (kill) worker.channel.kill();
    else if (worker.ready) worker.channel.send({ v: PROTOCOL_VERSION, type: 'shutdown' } satisfies ToWorker);
    else worker.channel.kill(); // it is not listening yet: nothing to wind down
  }

  #onMessage(slot: Slot, worker: LiveWorker, raw: unknown): void {
    let message: FromWorker;
    try {
      message = parseFromWorker(raw);
    } catch (error) {
      this.#protocolError(slot, worker, raw, (error as Error).message);
      return;
    }
    switch (message.type) {
      case 'ready':
        worker.ready = true;
        worker.providers = message.providersAvailable;
        if (worker.startTimer) clearTimeout(worker.startTimer);
        for (const queued of worker.outbox.splice(0)) worker.channel.send(queued);
        break;
      case 'progress': {
        const job = worker.job;
        if (!job || job.request.jobId !== message.jobId) break;
        try {
          job.onProgress({
            step: message.step,
            of: message.of,
            stage: message.stage,
            ...(message.stageProgress ? { stageProgress: message.stageProgress } : {}),
            preview: previewBytes(message.preview),
          });
        } catch (error) {
          this.#log(slot, 'warn', `progress listener threw: ${(error as Error).message}`, message.jobId);
        }
        break;
      }
      case 'done':
        if (this.#finish(slot, worker, message.jobId, { kind: 'done', result: message.result })) slot.crashes = 0;
        break;
      case 'failed':
        this.#finish(slot, worker, message.jobId, {
          kind: 'failed',
          code: message.code,
          message: message.message,
          transient: message.transient,
        });
        break;
      case 'cancelled':
        this.#finish(slot, worker, message.jobId, { kind: 'cancelled' });
        break;
      case 'unloaded':
        worker.unloadWaiters.shift()?.();
        break;
      case 'exiting':
        worker.announcedExit = message.reason;
        break;
      case 'log':
        this.#log(slot, message.level, message.message, message.jobId);
        break;
    }
  }

  /** A job-ending message for the running job resolves it; anything else is logged. */
  #finish(slot: Slot, worker: LiveWorker, jobId: string, end: RunEnd): boolean {
    const job = worker.job;
    if (!job || job.request.jobId !== jobId) {
      this.#log(slot, 'warn', `the worker reported job ${jobId} as ${end.kind}, but it is not running it; ignored`, jobId);
      return false;
    }
    if (job.cancelTimer) clearTimeout(job.cancelTimer);
    worker.job = null;
    // A job the worker stopped because we are shutting it down was not cancelled by the user.
    const stoppedBy = worker.expectedExit?.jobEnd;
    job.resolve(end.kind === 'cancelled' && !job.cancelRequested && stoppedBy ? stoppedBy : end);
    return true;
  }

  /**
   * A message that breaks the protocol is logged. If it was meant to end the running job (or
   * named it), that job fails with the reason: the worker and the app are out of step.
   */
  #protocolError(slot: Slot, worker: LiveWorker, raw: unknown, message: string): void {
    this.#log(slot, 'error', message);
    const job = worker.job;
    if (!job || raw === null || typeof raw !== 'object') return;
    const { type, jobId } = raw as { type?: unknown; jobId?: unknown };
    const ends = type === 'done' || type === 'failed' || type === 'cancelled';
    if (ends && (jobId === job.request.jobId || typeof jobId !== 'string')) {
      if (job.cancelTimer) clearTimeout(job.cancelTimer);
      worker.job = null;
      job.resolve({ kind: 'failed', code: 'worker_protocol_error', message, transient: false });
    }
  }

  #onExit(slot: Slot, worker: LiveWorker, code: number | null, signal: string | null): void {
    this.#live.delete(worker);
    if (worker.startTimer) clearTimeout(worker.startTimer);
    if (slot.worker === worker) slot.worker = null;
    for (const waiter of worker.unloadWaiters.splice(0)) waiter();
    const job = worker.job;
    worker.job = null;
    if (job?.cancelTimer) clearTimeout(job.cancelTimer);
    const description = describeExit(code, signal);
    const pid = worker.pid;
    worker.markExited();

    if (worker.expectedExit !== null) {
      this.emit('worker-exited', { slot: slot.name, pid, code, signal, crashed: false, reason: worker.expectedExit.reason });
      if (job) job.resolve(worker.expectedExit.jobEnd ?? { kind: 'cancelled' });
      return;
    }
    const cleanExit = code === 0 && signal === null;
    if (worker.announcedExit !== null || (cleanExit && !job)) {
      // It left on its own. A run sent after it announced that never started: give it to a fresh
      // worker. Dying on the way out (a native crash while releasing) still counts as a crash.
      const reason = cleanExit ? (worker.announcedExit ?? 'exited') : `${description} while exiting (${worker.announcedExit ?? 'idle'})`;
      this.emit('worker-exited', { slot: slot.name, pid, code, signal, crashed: !cleanExit, reason });
      const gaveUp = cleanExit ? slot.gaveUp : this.#countCrash(slot, reason);
      if (job) {
        if (this.#closed) job.resolve({ kind: 'failed', code: 'worker_stopped', message: 'The app is closing.', transient: true });
        else if (gaveUp) job.resolve(this.#crashLoopEnd(slot));
        else this.#dispatch(slot, job);
      }
      return;
    }

    const reason = job ? `${description} while running job ${job.request.jobId}` : description;
    this.emit('worker-exited', { slot: slot.name, pid, code, signal, crashed: true, reason });
    const gaveUp = this.#countCrash(slot, reason);
    if (job) {
      job.resolve({
        kind: 'failed',
        code: 'worker_crashed',
        message:
          `The inference worker crashed while running this job (${description}). ` +
          (gaveUp ? this.#crashLoopMessage(slot) : 'It has been restarted; the job can run again.'),
        transient: true,
      });
    }
    if (!gaveUp && !this.#closed) this.#spawn(slot);
  }

  /** Records a crash; true when the slot has now given up. */
  #countCrash(slot: Slot, reason: string): boolean {
    slot.crashes += 1;
    slot.lastCrash = reason;
    this.#log(slot, 'error', `inference worker crashed: ${reason} (${slot.crashes} in a row)`);
    if (slot.crashes >= this.#maxCrashes && !slot.gaveUp) {
      slot.gaveUp = true;
      this.emit('gave-up', { slot: slot.name, crashes: slot.crashes, lastCrash: reason, message: this.#crashLoopMessage(slot) });
    }
    return slot.gaveUp;
  }
}
