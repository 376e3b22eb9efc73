/**
 * "Add model…" in the engine: checks what a path is, prepares it on a thread of its own
 * (prepare-thread.ts) with progress and an ETA pushed as events, cancels on request, and tells the
 * engine when a model is ready so the model list refreshes. The same file added twice while it is
 * being prepared joins the running preparation; added again later, it reuses the prepared model.
 */
import { randomUUID } from 'node:crypto';
import { basename, extname } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ModelInspection, Preparation } from '../../../src-preload/contract/status.ts';
import { entryBeside } from '../media/entries.ts';
import { identify } from './identify.ts';
import { findPrepared } from './prepare.ts';
import { describePrepareFailure, PREPARE_THREAD_MARK } from './prepare-thread.ts';
import { wanNotPreparedYet } from './wan-identify.ts';
import type { PrepareThreadMessage, PrepareThreadStart } from './prepare-thread.ts';

export interface PreparerOptions {
  /** Where prepared models are written (the data folder's models/). */
  readonly modelsDir: string;
  /** SDXL VAE files found in the model folders, for a checkpoint that has none inside. */
  readonly findVaes?: () => readonly string[];
  readonly onChange: (preparation: Preparation) => void;
  /** A model was prepared (or an earlier preparation reused): refresh the model list. */
  readonly onPrepared: (modelId: string) => void;
  /** The thread entry (tests; default: prepare-thread beside this module or in the Electron build). */
  readonly entry?: URL;
  readonly log?: (level: 'info' | 'warning' | 'error', message: string) => void;
}

interface Running {
  view: Preparation;
  worker: Worker | null;
}

/** How many finished preparations the list keeps (the Models view shows the recent ones). */
const KEEP_FINISHED = 20;

function nameFor(path: string, isFile: boolean): string {
  const base = basename(path);
  return isFile ? base.slice(0, base.length - extname(base).length) : base;
}

/** A VAE to pair with a checkpoint that has none: one named for SDXL first (sdxl_vae, the fp16-fix). */
export function chooseVae(candidates: readonly string[]): string | null {
  const ranked = [...candidates].sort((a, b) => Number(!/sdxl/i.test(basename(a))) - Number(!/sdxl/i.test(basename(b))) || a.localeCompare(b));
  return ranked[0] ?? null;
}

export class ModelPreparer {
  readonly #options: PreparerOptions;
  readonly #runs = new Map<string, Running>();

  constructor(options: PreparerOptions) {
    this.#options = options;
  }

  list(): Preparation[] {
    return [...this.#runs.values()].map((r) => r.view).sort((a, b) => b.startedAt - a.startedAt);
  }

  /** What a path is, before adding it. */
  async inspect(path: string): Promise<ModelInspection> {
    const found = await identify(path);
    if (!found.ok) return { ok: false, what: found.what, message: found.sentence };
    if (found.kind === 'wan_part' || found.kind === 'wan_model') return { ok: false, what: 'a WAN model', message: wanNotPreparedYet(found) };
    const isFile = found.kind !== 'sdxl_diffusers';
    const needsVae = found.kind === 'sdxl_single_file' && !found.hasVae;
    let preparedAs: string | null = null;
    if (found.kind === 'sdxl_single_file') {
      const h = found.header;
      preparedAs = (await findPrepared(this.#options.modelsDir, [{ path: h.path, realPath: h.realPath, size: h.size, mtimeMs: h.mtimeMs }], null))?.id ?? null;
    }
    return { ok: true, kind: found.kind, description: found.description, sizeBytes: found.sizeBytes, needsVae, suggestedName: nameFor(path, isFile), preparedAs };
  }

  /** Starts preparing `path` (or joins a preparation of it already running). */
  async add(params: { path: string; vae?: string | null; name?: string | null }): Promise<Preparation> {
    const running = [...this.#runs.values()].find((r) => r.view.state === 'preparing' && r.view.source === params.path);
    if (running) return running.view;
    const id = randomUUID();
    let vae = params.vae ?? null;
    let description: string | null = null;
    const found = await identify(params.path);
    if (found.ok) description = found.description;
    if (found.ok && found.kind === 'sdxl_single_file' && !found.hasVae && !vae) {
      vae = chooseVae(this.#options.findVaes?.() ?? []);
      if (vae) description = `${found.description.replace(', no VAE inside (choose a VAE file)', '')}, VAE from ${basename(vae)}`;
    }
    const view: Preparation = {
      id,
      source: params.path,
      vae,
      name: params.name?.trim() || nameFor(params.path, found.ok ? found.kind !== 'sdxl_diffusers' : true),
      description,
      state: 'preparing',
      phase: 'checking',
      fraction: 0,
      bytesDone: 0,
      bytesTotal: 0,
      etaSeconds: null,
      modelId: null,
      reused: false,
      error: null,
      startedAt: Date.now(),
      finishedAt: null,
    };
    const run: Running = { view, worker: null };
    this.#runs.set(id, run);
    this.#trim();
    if (!found.ok) {
      this.#finish(run, { state: 'failed', error: { code: found.code, message: found.sentence } });
      return run.view;
    }
    this.#options.onChange(view);
    this.#startThread(run, params.name ?? null);
    return run.view;
  }

  cancel(id: string): Preparation | null {
    const run = this.#runs.get(id);
    if (!run) return null;
    if (run.view.state === 'preparing') {
      run.worker?.postMessage({ type: 'cancel' });
      if (!run.worker) this.#finish(run, { state: 'cancelled' });
    }
    return run.view;
  }

  /** Cancels what is running (engine shutdown); staging folders are removed by the threads. */
  async close(): Promise<void> {
    const waits: Promise<unknown>[] = [];
    for (const run of this.#runs.values()) {
      if (run.view.state !== 'preparing' || !run.worker) continue;
      const worker = run.worker;
      waits.push(new Promise((resolve) => worker.once('exit', resolve)));
      worker.postMessage({ type: 'cancel' });
      setTimeout(() => void worker.terminate(), 5000).unref();
    }
    await Promise.all(waits);
  }

  #startThread(run: Running, name: string | null): void {
    const start: PrepareThreadStart = {
      mark: PREPARE_THREAD_MARK,
      source: run.view.source,
      vae: run.view.vae,
      name,
      modelsDir: this.#options.modelsDir,
    };
    let worker: Worker;
    try {
      worker = new Worker(this.#options.entry ?? entryBeside('prepare-thread', import.meta.url), { workerData: start });
    } catch (e) {
      this.#finish(run, { state: 'failed', error: describePrepareFailure(e, this.#options.modelsDir) });
      return;
    }
    run.worker = worker;
    let lastEmit = 0;
    worker.on('message', (m: PrepareThreadMessage) => {
      if (run.view.state !== 'preparing') return;
      switch (m.type) {
        case 'progress': {
          const p = m.progress;
          const phaseChanged = p.phase !== run.view.phase;
          run.view = { ...run.view, phase: p.phase, fraction: p.fraction, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, etaSeconds: p.etaSeconds === null ? null : Math.round(p.etaSeconds) };
          const now = Date.now();
          // Progress is thinned to five a second; a new phase is always told.
          if (phaseChanged || now - lastEmit >= 200 || p.fraction >= 1) {
            lastEmit = now;
            this.#options.onChange(run.view);
          }
          break;
        }
        case 'done':
          this.#finish(run, { state: 'done', modelId: m.result.id, reused: m.result.reused, name: m.result.manifest.name, fraction: 1, etaSeconds: 0 });
          this.#options.log?.('info', `prepared ${m.result.id} from ${run.view.source}${m.result.reused ? ' (reused an earlier preparation)' : ''}`);
          this.#options.onPrepared(m.result.id);
          break;
        case 'cancelled':
          this.#finish(run, { state: 'cancelled' });
          break;
        case 'failed':
          this.#finish(run, { state: 'failed', error: { code: m.code, message: m.message } });
          this.#options.log?.('warning', `preparing ${run.view.source} failed: ${m.message}`);
          break;
      }
    });
    worker.on('error', (e) => {
      if (run.view.state === 'preparing') this.#finish(run, { state: 'failed', error: describePrepareFailure(e, this.#options.modelsDir) });
    });
    worker.on('exit', (code) => {
      run.worker = null;
      if (run.view.state === 'preparing') {
        this.#finish(run, { state: 'failed', error: { code: 'prepare_failed', message: `the preparation stopped unexpectedly (thread exit ${code}); add the model again` } });
      }
    });
  }

  #finish(run: Running, patch: Partial<Preparation>): void {
    run.view = { ...run.view, ...patch, phase: null, finishedAt: Date.now() };
    const worker = run.worker;
    if (worker && patch.state !== 'preparing') setImmediate(() => void worker.terminate());
    this.#options.onChange(run.view);
  }

  #trim(): void {
    const finished = this.list().filter((p) => p.state !== 'preparing');
    for (const p of finished.slice(KEEP_FINISHED)) this.#runs.delete(p.id);
  }
}
