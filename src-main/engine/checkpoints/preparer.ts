/**
 * "Add model…" in the engine: checks what a path is, prepares it on a thread of its own
 * (prepare-thread.ts) with progress and an ETA pushed as events, cancels on request, and tells the
 * engine when a model is ready so the model list refreshes. The same file added twice while it is
 * being prepared joins the running preparation; added again later, it reuses the prepared model.
 * A WAN 2.1 model is added as its folder, or as its parts' files chosen one by one (`paths`):
 * inspecting one part says what it is and which parts are still needed.
 */
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ModelInspection, Preparation, WanInspection, WanPartName } from '../../../src-preload/contract/status.ts';
import { entryBeside } from '../media/entries.ts';
import { WeightFileError } from '../weights/errors.ts';
import { identify } from './identify.ts';
import { findPrepared } from './prepare-common.ts';
import { describePrepareFailure, PREPARE_THREAD_MARK } from './prepare-thread.ts';
import { tokenizerIn, weightFilesIn } from './wan-folders.ts';
import { readWanParts } from './wan-sets.ts';
import type { WanParts } from './wan-sets.ts';
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

function stampsOf(parts: WanParts): { path: string; realPath: string; size: number; mtimeMs: number }[] {
  return parts.files.map((f) => ({ path: f.path, realPath: f.realPath, size: f.size, mtimeMs: f.mtimeMs }));
}

function nameFor(path: string, isFile: boolean): string {
  const base = basename(path);
  return isFile ? base.slice(0, base.length - extname(base).length) : base;
}

/** A VAE to pair with a checkpoint that has none: one named for SDXL first (sdxl_vae, the fp16-fix). */
export function chooseVae(candidates: readonly string[]): string | null {
  const ranked = [...candidates].sort((a, b) => Number(!/sdxl/i.test(basename(a))) - Number(!/sdxl/i.test(basename(b))) || a.localeCompare(b));
  return ranked[0] ?? null;
}

const WAN_PARTS: readonly WanPartName[] = ['transformer', 'textEncoder', 'vae'];
const WAN_PART_WORDS: Readonly<Record<WanPartName, string>> = { transformer: 'transformer', textEncoder: 'text encoder', vae: 'VAE' };

/** "text encoder and VAE", "VAE". */
function partList(parts: readonly WanPartName[]): string {
  const words = parts.map((p) => WAN_PART_WORDS[p]);
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

/** A tokenizer chosen beside a WAN model's parts: tokenizer.json, spiece.model, or a folder of them without weights. */
function isTokenizerPath(path: string): boolean {
  const name = basename(path);
  if (name === 'tokenizer.json' || name === 'spiece.model') return true;
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true && tokenizerIn(path) !== null && weightFilesIn(path).length === 0;
}

/** The display name of a WAN model chosen as files: its transformer file's name. */
function wanFilesName(parts: WanParts): string {
  return nameFor(parts.parts.transformer.files[0]!.path, true).replace(/\.safetensors$/, '');
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

  /**
   * What a path is, before adding it; with `paths`, what the files chosen together are (a WAN 2.1
   * model's parts: each part found, and which are still needed).
   */
  async inspect(path: string, paths?: readonly string[]): Promise<ModelInspection> {
    const list = paths && paths.length > 0 ? paths : [path];
    if (list.length > 1) return this.#inspectWan(list);
    const found = await identify(list[0]!);
    if (!found.ok) return { ok: false, what: found.what, message: found.sentence };
    if (found.kind === 'wan_part') return this.#inspectWan(list);
    if (found.kind === 'wan_model') {
      let preparedAs: string | null = null;
      try {
        preparedAs = (await findPrepared(this.#options.modelsDir, stampsOf(await readWanParts(found.path)), null))?.id ?? null;
      } catch {
        // identify() read the same folder a moment ago; a change since is told when it is added
      }
      return { ok: true, kind: 'wan_model', description: found.description, sizeBytes: found.sizeBytes, needsVae: false, suggestedName: nameFor(found.path, false), preparedAs, wan: { parts: [], missing: [] } };
    }
    const isFile = found.kind !== 'sdxl_diffusers';
    const needsVae = found.kind === 'sdxl_single_file' && !found.hasVae;
    let preparedAs: string | null = null;
    if (found.kind === 'sdxl_single_file') {
      const h = found.header;
      preparedAs = (await findPrepared(this.#options.modelsDir, [{ path: h.path, realPath: h.realPath, size: h.size, mtimeMs: h.mtimeMs }], null))?.id ?? null;
    }
    return { ok: true, kind: found.kind, description: found.description, sizeBytes: found.sizeBytes, needsVae, suggestedName: nameFor(path, isFile), preparedAs };
  }

  /** WAN 2.1 parts chosen one by one: each file's part, what is missing, and — when whole — the set's checks. */
  async #inspectWan(list: readonly string[]): Promise<ModelInspection> {
    const parts: WanInspection['parts'][number][] = [];
    let sizeBytes = 0;
    for (const path of list) {
      if (isTokenizerPath(path)) {
        parts.push({ path, part: 'tokenizer', description: 'UMT5 tokenizer' });
        continue;
      }
      const found = await identify(path);
      if (!found.ok) return { ok: false, what: found.what, message: found.sentence };
      if (found.kind !== 'wan_part') {
        const message =
          found.kind === 'wan_model'
            ? `${basename(path)} is a whole WAN model (${found.description}): add the folder on its own, not with other files`
            : `${basename(path)} is ${found.description}, not a part of a WAN model: choose a WAN 2.1 transformer, text encoder and VAE`;
        return { ok: false, what: found.kind === 'wan_model' ? 'a WAN model' : null, message };
      }
      parts.push({ path, part: found.part, description: found.description });
      sizeBytes += found.sizeBytes;
    }
    const missing = WAN_PARTS.filter((p) => !parts.some((x) => x.part === p));
    const first = parts.find((p) => p.part !== 'tokenizer');
    if (missing.length > 0) {
      const description = `${first?.description ?? 'a UMT5 tokenizer'} — choose its ${partList(missing)} too`;
      return { ok: true, kind: 'wan_part', description, sizeBytes, needsVae: false, suggestedName: nameFor(first?.path ?? list[0]!, true), preparedAs: null, wan: { parts, missing } };
    }
    let set: WanParts;
    try {
      set = await readWanParts(list);
    } catch (e) {
      if (e instanceof WeightFileError) return { ok: false, what: 'a WAN model', message: e.message };
      throw e;
    }
    const preparedAs = (await findPrepared(this.#options.modelsDir, stampsOf(set), null))?.id ?? null;
    return { ok: true, kind: 'wan_model', description: set.description, sizeBytes: set.sizeBytes, needsVae: false, suggestedName: wanFilesName(set), preparedAs, wan: { parts, missing: [] } };
  }

  /** Starts preparing `path` — or the files in `paths` together (a WAN 2.1 model's parts) — or joins a preparation of it already running. */
  async add(params: { path: string; paths?: readonly string[] | null; vae?: string | null; name?: string | null }): Promise<Preparation> {
    const sources = params.paths && params.paths.length > 1 ? [...params.paths] : null;
    const key = (sources ?? [params.path]).join('\u0000');
    const running = [...this.#runs.values()].find((r) => r.view.state === 'preparing' && (r.view.sources ?? [r.view.source]).join('\u0000') === key);
    if (running) return running.view;
    const id = randomUUID();
    let vae = params.vae ?? null;
    let description: string | null = null;
    let failure: { code: string; message: string } | null = null;
    let suggested = nameFor(params.path, true);
    if (sources) {
      try {
        const set = await readWanParts(sources);
        description = set.description;
        suggested = wanFilesName(set);
      } catch (e) {
        if (!(e instanceof WeightFileError)) throw e;
        failure = { code: e.code, message: e.message };
      }
    } else {
      const found = await identify(params.path);
      if (found.ok) {
        description = found.description;
        suggested = nameFor(params.path, found.kind !== 'sdxl_diffusers' && found.kind !== 'wan_model');
      } else failure = { code: found.code, message: found.sentence };
      if (found.ok && found.kind === 'sdxl_single_file' && !found.hasVae && !vae) {
        vae = chooseVae(this.#options.findVaes?.() ?? []);
        if (vae) description = `${found.description.replace(', no VAE inside (choose a VAE file)', '')}, VAE from ${basename(vae)}`;
      }
    }
    const view: Preparation = {
      id,
      source: sources?.[0] ?? params.path,
      ...(sources ? { sources } : {}),
      vae,
      name: params.name?.trim() || suggested,
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
    if (failure) {
      this.#finish(run, { state: 'failed', error: failure });
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
      sources: run.view.sources ?? null,
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
