/**
 * One PNG encoding thread per process (node:worker_threads), started on first use. onnxruntime's
 * session.run blocks the JS thread, so PNG work left there (row filters, thumbnail) could not
 * overlap the next VAE decode; handed to this thread, it does. Requests queue in order; each gets a
 * promise of {png, thumb}, the same bytes as encodeGeneratedPng + makeThumbnail. If the thread
 * cannot start, every request is encoded on the calling thread instead and the reason is logged once.
 * The thread is unref'd while idle, so it never keeps a process alive.
 */
import { Worker } from 'node:worker_threads';
import { entryBeside } from './entries.ts';
import { DEFAULT_THUMBNAIL_MAX_SIDE } from './thumbnail.ts';
import { PNG_THREAD_MARK, encodeForThread } from './png-thread.ts';
import type { PngThreadReply, PngThreadRequest } from './png-thread.ts';

export interface PngJob {
  /** Interleaved 8-bit pixels. */
  readonly rgb: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels?: 3 | 4;
  readonly parameters: string;
  readonly recipe: object;
  readonly thumbMaxSide?: number;
  /** The caller gives up `rgb`: its buffer is moved to the thread (detached here), not copied. */
  readonly transferPixels?: boolean;
}

export interface PngJobResult {
  readonly png: Uint8Array;
  readonly thumb: Uint8Array;
}

export interface PngPoolOptions {
  /** The thread's entry; defaults to png-thread.ts (from source) or png-thread.js (built). */
  readonly entry?: URL;
  /** Told once why the thread could not start (encoding then stays on the calling thread). */
  readonly log?: (message: string) => void;
}

/**
 * png-thread beside this module: `.ts` when running from source. In the Electron build this code
 * is bundled into out/main/pipelines/<family>.js or a shared out/main/chunks/*.js, and the thread
 * is its own entry, out/main/pipelines/png-thread.js (electron.vite.config.ts).
 */
export function defaultPngThreadEntry(base: string = import.meta.url): URL {
  return entryBeside('png-thread', base);
}

interface Pending {
  readonly id: number;
  readonly job: PngJob;
  readonly recipe: object;
  readonly resolve: (r: PngJobResult) => void;
  readonly reject: (e: Error) => void;
}

export class PngEncodePool {
  readonly #options: PngPoolOptions;
  #worker: Worker | null = null;
  #ready = false;
  /** Set once the thread failed to start: everything is encoded in-thread from then on. */
  #fallback: string | null = null;
  #nextId = 1;
  /** Waiting for the thread to be ready (their pixels not yet transferred). */
  #queued: Pending[] = [];
  /** Posted to the thread, awaiting its reply. */
  readonly #inFlight = new Map<number, Pending>();
  #log: ((message: string) => void) | undefined;

  constructor(options: PngPoolOptions = {}) {
    this.#options = options;
    this.#log = options.log;
  }

  /** Whether encoding happens on the calling thread (the thread could not start), and why. */
  get fallbackReason(): string | null {
    return this.#fallback;
  }

  encode(job: PngJob, log?: (message: string) => void): Promise<PngJobResult> {
    this.#log ??= log;
    let recipe: object;
    try {
      // A plain JSON copy always crosses the thread boundary, and stores the same JSON text.
      recipe = JSON.parse(JSON.stringify(job.recipe)) as object;
    } catch {
      // Not JSON-serialisable: the in-thread encoder throws the usual error for it.
      return this.#encodeHere(job);
    }
    if (this.#fallback !== null) return this.#encodeHere(job);
    return new Promise<PngJobResult>((resolve, reject) => {
      const pending: Pending = { id: this.#nextId++, job, recipe, resolve, reject };
      if (!this.#start()) {
        this.#encodeHere(job).then(resolve, reject);
        return;
      }
      if (this.#ready) this.#post(pending);
      else this.#queued.push(pending);
      this.#worker!.ref();
    });
  }

  /** Stops the thread; requests still waiting are rejected. A later encode starts a new one. */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#detach(new Error('the PNG encoding thread was closed'));
    await worker.terminate();
  }

  #encodeHere(job: PngJob): Promise<PngJobResult> {
    try {
      return Promise.resolve(
        encodeForThread({
          rgb: job.rgb,
          width: job.width,
          height: job.height,
          channels: job.channels ?? 3,
          parameters: job.parameters,
          recipe: job.recipe,
          thumbMaxSide: job.thumbMaxSide ?? DEFAULT_THUMBNAIL_MAX_SIDE,
        }),
      );
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Starts the thread if needed; false when it cannot (then the fallback is set). */
  #start(): boolean {
    if (this.#worker) return true;
    if (this.#fallback !== null) return false;
    let worker: Worker;
    try {
      worker = new Worker(this.#options.entry ?? defaultPngThreadEntry(), { workerData: { mark: PNG_THREAD_MARK } });
    } catch (error) {
      this.#giveUp((error as Error).message);
      return false;
    }
    this.#worker = worker;
    this.#ready = false;
    worker.on('message', (m: PngThreadReply | { ready: true }) => {
      if (worker !== this.#worker) return;
      if ('ready' in m) {
        this.#ready = true;
        const queued = this.#queued;
        this.#queued = [];
        for (const p of queued) this.#post(p);
        return;
      }
      const p = this.#inFlight.get(m.id);
      if (!p) return;
      this.#inFlight.delete(m.id);
      if (m.ok) p.resolve({ png: m.png, thumb: m.thumb });
      else {
        const e = new Error(m.message);
        e.name = m.name;
        p.reject(e);
      }
      this.#idleCheck();
    });
    worker.on('error', (error) => this.#lost(worker, error));
    worker.on('exit', (code) => this.#lost(worker, new Error(`the PNG encoding thread exited (code ${code})`)));
    return true;
  }

  #post(p: Pending): void {
    const { job } = p;
    let rgb: ArrayBuffer;
    const own = job.rgb.byteOffset === 0 && job.rgb.byteLength === job.rgb.buffer.byteLength && job.rgb.buffer instanceof ArrayBuffer;
    if (job.transferPixels === true && own) rgb = job.rgb.buffer as ArrayBuffer;
    else rgb = job.rgb.slice().buffer as ArrayBuffer;
    const req: PngThreadRequest = {
      id: p.id,
      rgb,
      width: job.width,
      height: job.height,
      channels: job.channels ?? 3,
      parameters: job.parameters,
      recipe: p.recipe,
      thumbMaxSide: job.thumbMaxSide ?? DEFAULT_THUMBNAIL_MAX_SIDE,
    };
    this.#inFlight.set(p.id, p);
    this.#worker!.postMessage(req, [rgb]);
  }

  /** The thread failed or exited: before it was ready, fall back; after, fail what it held. */
  #lost(worker: Worker, error: Error): void {
    if (worker !== this.#worker) return;
    if (!this.#ready) {
      const queued = this.#queued;
      this.#queued = [];
      this.#worker = null;
      this.#giveUp(error.message);
      for (const p of queued) this.#encodeHere(p.job).then(p.resolve, p.reject);
      return;
    }
    this.#detach(error);
  }

  #detach(error: Error): void {
    const worker = this.#worker;
    this.#worker = null;
    this.#ready = false;
    const all = [...this.#queued, ...this.#inFlight.values()];
    this.#queued = [];
    this.#inFlight.clear();
    worker?.unref();
    for (const p of all) p.reject(error);
  }

  #giveUp(reason: string): void {
    this.#fallback = reason;
    this.#log?.(`PNG encoding stays on the inference thread: the encoding thread could not start (${reason})`);
  }

  #idleCheck(): void {
    if (this.#inFlight.size === 0 && this.#queued.length === 0) this.#worker?.unref();
  }
}

let shared: PngEncodePool | null = null;

/** The process's PNG thread, shared by every pipeline in it. */
export function sharedPngPool(): PngEncodePool {
  shared ??= new PngEncodePool();
  return shared;
}

/** Stops the shared thread (a later use starts it again). */
export async function closeSharedPngPool(): Promise<void> {
  const pool = shared;
  shared = null;
  await pool?.close();
}
