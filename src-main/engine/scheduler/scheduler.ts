/**
 * The GPU scheduler: which queued job runs next, and which models stay loaded under the VRAM budget.
 *
 * As the OurVidz orchestrator does, it runs one job at a time, or one SDXL and one WAN job together
 * when both fit the budget. Each family has its own worker slot, so a model stays resident between
 * jobs of the same family; a model that does not fit beside the next job is unloaded first (one at a
 * time, waiting for the worker to confirm), and pausing the queue unloads everything.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { JobQueue, JobRow } from '../jobs/queue.ts';
import type { ModelRegistry } from '../models/registry.ts';
import { FAMILY_HELP } from '../models/registry.ts';
import { estimateQwenVram } from '../models/qwen-validator.ts';
import type { Database } from '../db/database.ts';
import { PRESETS } from '../../../src-preload/contract/catalog.ts';
import type { JobParams, JobType, ModelFamily } from '../../../src-preload/contract/catalog.ts';
import type { EnhanceResult, JobView, ProgressEvent } from '../../../src-preload/contract/status.ts';
import { DiskError, StudioError, diskError } from '../errors.ts';
import { UnsavedEnds, bestEffort } from './unsaved-ends.ts';
import type { FfmpegLocation } from '../media/ffmpeg-locate.ts';
import type { ModelRef, PipelineResult, ProgressUpdate, RunRequest } from '../pipelines/types.ts';
import { chooseBatch, estimateNeed, totalFor } from './vram.ts';
import { insertAssets, placeOutputs, removePlaced, removeUnrecorded } from '../library/ingest.ts';
import type { PlacedAsset } from '../library/ingest.ts';

export type RunEnd =
  | { kind: 'done'; result: PipelineResult }
  | { kind: 'cancelled' }
  | { kind: 'failed'; code: string; message: string; transient: boolean };

/** The part of the worker supervisor the scheduler uses. */
export interface SupervisorPort {
  run(slot: string, request: RunRequest, onProgress: (p: ProgressUpdate) => void): Promise<RunEnd>;
  cancel(jobId: string): void;
  unload(slot?: string): Promise<void>;
  resetCrashes(): void;
}

/** The part of the GPU monitor the scheduler uses. */
export interface GpuPort {
  budgetMb(): number;
  startJob(jobId: string): void;
  endJob(jobId: string): number | null;
}

export interface SchedulerOptions {
  readonly db: Database;
  readonly queue: JobQueue;
  readonly models: ModelRegistry;
  readonly supervisor: SupervisorPort;
  readonly gpu: GpuPort;
  /** Where finished outputs go: read per job, since the user can move the library. */
  readonly libraryRoot: () => string;
  /** Tells the library (and its subscribers) that a job added assets. */
  readonly onAssetsAdded?: (ids: readonly string[]) => void;
  readonly stagingRoot: string;
  readonly modelsHint: string;
  readonly providers: () => readonly string[];
  /** Settings → previews: the pipelines draw a preview only every N steps (default 1). */
  readonly previewEvery?: () => number;
  /** Tests only: run a family on a given model without looking in the model folders. */
  readonly modelOverrides?: Partial<Record<Slot, ModelRef>>;
  /** Where ffmpeg is, found once at start-up; video jobs fail at once with its message when absent. */
  readonly ffmpeg: () => Promise<FfmpegLocation>;
  readonly onProgress: (p: ProgressEvent) => void;
  readonly onResidencyChange: () => void;
  /**
   * A problem the runner works around and the user should hear about (a job's end that a full disk
   * keeps from being saved, a scheduling pass that failed): for the log and a notice. Said once
   * until it changes.
   */
  readonly onProblem?: (message: string) => void;
}

/** How soon a pass is tried again after the disk refused a write: doubling up to the cap. */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;

/** Worker slots: one per generation family, and one for the prompt enhancer. */
export type Slot = ModelFamily | 'qwen';

const ENHANCER_HELP =
  'a Qwen2.5 Instruct ONNX export in the transformers.js layout (config.json, tokenizer.json, tokenizer_config.json, onnx/model*.onnx)';

interface Running {
  readonly job: JobView;
  readonly slot: ModelFamily;
  readonly startedAt: number;
  readonly reservedMb: number;
  readonly done: Promise<void>;
}

interface Resident {
  readonly modelId: string;
  readonly weightsMb: number;
}

export class Scheduler {
  private readonly o: SchedulerOptions;
  private readonly running = new Map<string, Running>();
  private readonly resident = new Map<Slot, Resident>();
  private ticking = false;
  private again = false;
  private stopped = false;
  private wakeTimer: NodeJS.Timeout | null = null;
  /** Job ends a full disk kept from being recorded: written again before anything new starts. */
  private readonly unsaved = new UnsavedEnds((message) => this.problem(message));
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = RETRY_MIN_MS;
  private lastProblem: string | null = null;

  constructor(options: SchedulerOptions) {
    this.o = options;
  }

  runningJobs(): string[] {
    return [...this.running.keys()];
  }

  loadedModels(): { id: string; family: Slot; vramMb: number }[] {
    return [...this.resident].map(([family, r]) => ({ id: r.modelId, family, vramMb: r.weightsMb }));
  }

  /** Asks for a scheduling pass soon (coalesced). */
  kick(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    queueMicrotask(() => void this.tick());
  }

  /** Cancels a running job held by this process (the queue already has the request recorded). */
  cancel(jobId: string): void {
    if (this.running.has(jobId)) this.o.supervisor.cancel(jobId);
  }

  async pause(): Promise<void> {
    // Running jobs finish their current run; loaded models are released once idle.
    await this.releaseIdleModels(new Set(), true);
  }

  /**
   * Stops running jobs at their next step and puts them back in the queue (a job the user asked to
   * cancel is cancelled as asked): closing the app or a CLI runner never loses or cancels work.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const id of this.running.keys()) this.o.supervisor.cancel(id);
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
    // A last try; what is still unsaved is recovered at the next start (requeued as interrupted).
    this.unsaved.flush();
  }

  private async tick(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.pass();
      } while (this.again && !this.stopped);
      if (this.unsaved.size === 0) {
        this.retryMs = RETRY_MIN_MS;
        this.lastProblem = null;
      }
    } catch (e) {
      // A pass reads and writes the database; a full or failing disk must not end the runner. The
      // pass is tried again shortly, and at once when anything kicks the scheduler.
      this.problem(diskError(e, { what: 'the queue could not be read or updated', next: 'the queue goes on by itself' })?.message ?? `the queue could not be run: ${(e as Error).message}`);
      this.retryLater();
    } finally {
      this.ticking = false;
    }
  }

  private async pass(): Promise<void> {
    if (this.stopped) return;
    if (!this.unsaved.flush()) {
      this.retryLater();
      return;
    }
    if (this.o.queue.isPaused()) {
      await this.releaseIdleModels(new Set(), true);
      return;
    }
    const busy = new Set([...this.running.values()].map((r) => r.slot));
    if (busy.size >= 2) return;
    // Jobs this pass went past because their family's slot is busy: they stay ahead in line.
    const passedOver: string[] = [];
    for (const row of this.o.queue.runnable(32)) {
      const family = row.model_family as ModelFamily;
      if (busy.has(family)) {
        passedOver.push(row.id);
        continue;
      }
      const started = await this.tryStart(row, family, () => this.stillNext(row.id, passedOver, busy));
      if (started === 'stale') {
        // The queue changed while this pass waited (paused, reordered, a job ended): start over
        // from the order as it is now.
        this.again = true;
        return;
      }
      if (started === 'started') {
        busy.add(family);
        if (busy.size >= 2) break;
      } else if (started === 'wait') {
        // The head job does not fit yet beside what runs: keep FIFO fairness, start nothing after it.
        break;
      }
    }
    this.armWake();
  }

  /**
   * Whether the job a pass is about to claim is still the one to run: the queue is not paused, the
   * same slots are busy, and the runnable jobs ahead of it are exactly the ones the pass went past.
   * A pass reads the order once and may then wait — for a worker to confirm a model's release, for
   * ffmpeg to be found — and a move to the front, a reorder or a pause made meanwhile must win.
   */
  private stillNext(jobId: string, passedOver: readonly string[], busy: ReadonlySet<ModelFamily>): boolean {
    if (this.stopped || this.o.queue.isPaused()) return false;
    const slots = new Set([...this.running.values()].map((r) => r.slot));
    if (slots.size !== busy.size || [...slots].some((s) => !busy.has(s))) return false;
    const ids = this.o.queue.runnable(passedOver.length + 1).map((r) => r.id);
    return ids.length === passedOver.length + 1 && ids[passedOver.length] === jobId && passedOver.every((id, i) => ids[i] === id);
  }

  private resolveModel(slot: Slot, id: string | null): ModelRef | { missing: string } {
    const override = this.o.modelOverrides?.[slot];
    if (override) return override;
    const found = this.o.models.find(slot, id);
    if ('missing' in found) return found;
    return { id: found.id, family: slot, path: found.path, name: found.name, hash: found.hash ?? null };
  }

  /** An *_enhanced job whose rewrite has not been made yet needs the enhancer first. */
  private needsEnhancer(type: JobType, params: JobParams): boolean {
    return PRESETS[type].enhance && params.enhancedPrompt === null;
  }

  private modelBytes(model: ModelRef): number {
    return this.o.models.list().find((m) => m.path === model.path)?.sizeBytes ?? 0;
  }

  /**
   * Starts the job, or says why not: 'skipped' (it failed at once: no model, no enhancer, no
   * ffmpeg), 'wait' (it does not fit beside what runs), 'stale' (the queue changed while this
   * waited; `stillNext` is asked before every claim).
   */
  private async tryStart(row: JobRow, family: ModelFamily, stillNext: () => boolean): Promise<'started' | 'skipped' | 'wait' | 'stale'> {
    const params = JSON.parse(row.params) as JobParams;
    const type = row.job_type as JobType;
    const enhancer = this.needsEnhancer(type, params) ? this.resolveModel('qwen', null) : null;
    if (enhancer && 'missing' in enhancer) {
      if (!stillNext()) return 'stale';
      if (this.o.queue.claim(row.id)) {
        const plain = type.replace('7b', '').replace('_enhanced', '');
        this.record(row.id, () =>
          this.o.queue.fail(
            row.id,
            'enhancer_not_installed',
            `enhancer not installed: ${enhancer.missing}. Put ${ENHANCER_HELP} in ${this.o.modelsHint}, or choose ${plain} to run without prompt enhancement.`,
            { transient: false },
          ),
        );
      }
      return 'skipped';
    }
    let ffmpegPath: string | null = null;
    if (PRESETS[type].kind === 'video') {
      const ffmpeg = await this.o.ffmpeg();
      if (!ffmpeg.ok) {
        if (!stillNext()) return 'stale';
        if (this.o.queue.claim(row.id)) this.record(row.id, () => this.o.queue.fail(row.id, 'ffmpeg_missing', ffmpeg.message, { transient: false }));
        return 'skipped';
      }
      ffmpegPath = ffmpeg.ffmpeg;
    }
    const model = this.resolveModel(family, params.model);
    if ('missing' in model) {
      if (!stillNext()) return 'stale';
      const claimed = this.o.queue.claim(row.id);
      if (claimed) {
        this.record(row.id, () =>
          this.o.queue.fail(
            row.id,
            'model_not_installed',
            `model not installed: ${model.missing}. Put ${FAMILY_HELP[family]} in ${this.o.modelsHint}, or add its folder under Settings → Models (CLI: --models DIR).`,
            { transient: false },
          ),
        );
      }
      return 'skipped';
    }
    const view = this.o.queue.view(row);
    const need = estimateNeed(family, this.modelBytes(model), view.params);
    const budget = this.o.gpu.budgetMb();
    const reservedByRunning = [...this.running.values()].reduce((s, r) => s + r.reservedMb, 0);
    const minimum = totalFor(need, 1);
    if (this.running.size > 0 && reservedByRunning + minimum > budget) return 'wait';
    // Make room: unload idle resident models of other families (and a different model of this one).
    const keep = new Set<Slot>([...this.running.values()].map((r) => r.slot));
    const residentHere = this.resident.get(family);
    if (residentHere && residentHere.modelId !== model.id) await this.unload(family);
    const idleResidentMb = [...this.resident].filter(([f]) => !keep.has(f) && f !== family).reduce((s, [, r]) => s + r.weightsMb, 0);
    if (reservedByRunning + idleResidentMb + minimum > budget) await this.releaseIdleModels(new Set([...keep, family]), false);
    const free = budget - reservedByRunning;
    const maxBatch = chooseBatch(need, free, view.params.count);
    if (!stillNext()) return 'stale';
    const claimed = this.o.queue.claim(row.id);
    if (!claimed) return 'skipped';
    // From here on the job is running: whatever fails is the job's end, recorded by execute.
    this.resident.set(family, { modelId: model.id, weightsMb: need.weightsMb });
    this.o.onResidencyChange();
    const reservedMb = totalFor(need, maxBatch);
    const done = this.execute({ ...claimed, modelId: model.id }, family, model, maxBatch, enhancer, ffmpegPath);
    this.running.set(row.id, { job: claimed, slot: family, startedAt: Date.now(), reservedMb, done });
    return 'started';
  }

  private async execute(
    job: JobView,
    slot: ModelFamily,
    model: ModelRef,
    maxBatch: number,
    enhancer: ModelRef | null,
    ffmpegPath: string | null,
  ): Promise<void> {
    const stagingDir = join(this.o.stagingRoot, job.id);
    this.o.gpu.startJob(job.id);
    const started = Date.now();
    let end: RunEnd;
    let params = job.params;
    try {
      rmSync(stagingDir, { recursive: true, force: true });
      mkdirSync(stagingDir, { recursive: true });
      this.o.queue.annotate(job.id, { modelId: model.id });
      if (enhancer) {
        const enhanced = await this.runEnhancer(job.id, job.type, job.params, enhancer, (p) => this.reportProgress(job, p, started));
        if (enhanced.kind !== 'done') throw enhanced;
        // A rewrite that failed its checks comes back as the original prompt with a warning.
        params = { ...job.params, enhancedPrompt: enhanced.text };
        this.o.queue.setEnhanced(job.id, enhanced.text, enhanced.warning);
      }
      end = await this.o.supervisor.run(
        slot,
        {
          jobId: job.id,
          jobType: job.type,
          params,
          model,
          enhancer: null,
          stagingDir,
          maxBatch,
          providers: this.o.providers(),
          ffmpegPath,
          previewEvery: this.o.previewEvery?.() ?? 1,
        },
        (p) => this.reportProgress(job, p, started),
      );
    } catch (e) {
      const stop = e as RunEnd;
      const disk = diskError(e, { what: 'the job could not run', where: e instanceof DiskError ? undefined : stagingDir, next: 'retry the job' });
      end =
        stop && typeof stop === 'object' && 'kind' in stop
          ? stop
          : disk
            ? { kind: 'failed', code: disk.code, message: disk.message, transient: false }
            : { kind: 'failed', code: 'internal', message: (e as Error).message, transient: true };
    }
    const peak = this.o.gpu.endJob(job.id);
    try {
      await this.finish(job, end, peak);
    } catch (e) {
      // finish records through record(), which keeps what the disk refused; anything else is a bug
      // worth a notice, never a reason for the runner to end.
      this.problem(`job ${job.id} could not be finished: ${(e as Error).message}`);
    } finally {
      rmSync(stagingDir, { recursive: true, force: true });
      this.running.delete(job.id);
      if (end.kind === 'failed' && (end.code === 'worker_crashed' || end.code === 'worker_crash_loop')) {
        this.resident.delete(slot);
        this.o.onResidencyChange();
      }
      this.kick();
    }
  }

  private async finish(job: JobView, end: RunEnd, peakMb: number | null): Promise<void> {
    const q = this.o.queue;
    // The staging folder goes before the job's end is recorded: whoever sees the job ended (the
    // UI, a CLI waiting, a test) never sees its staging files still there.
    const dropStaging = (): void => rmSync(join(this.o.stagingRoot, job.id), { recursive: true, force: true });
    // Notes on the job, not its end: a disk too full to take them costs nothing else.
    if (peakMb !== null) bestEffort(() => q.annotate(job.id, { peakVramMb: peakMb }));
    // A cancel that raced a successful last step still counts as cancelled: the user asked.
    const cancelRequested = bestEffort(() => q.row(job.id)?.cancel_requested === 1) ?? false;
    if (this.stopped && !cancelRequested && end.kind !== 'done') {
      dropStaging();
      this.record(job.id, () => q.release(job.id, 'the app stopped while this job ran; it will run again from the start'));
      return;
    }
    if (end.kind === 'cancelled' || (cancelRequested && end.kind !== 'failed')) {
      dropStaging();
      this.record(job.id, () => q.markCancelled(job.id));
      return;
    }
    if (end.kind === 'failed') {
      dropStaging();
      this.record(job.id, () => q.fail(job.id, end.code, end.message, { transient: end.transient }));
      return;
    }
    bestEffort(() => q.annotate(job.id, { provider: end.result.provider, providerNote: end.result.providerNote ?? undefined }));
    const root = this.o.libraryRoot();
    let placed: PlacedAsset[] = [];
    try {
      // Files an earlier attempt moved in and was killed before recording go first: the re-run's
      // outputs replace them, never sit beside them.
      const leftover = q.placing(job.id);
      if (leftover.length > 0) await removeUnrecorded(this.o.db, root, leftover);
      placed = await placeOutputs(root, job, end.result, new Date(), (rels) => q.notePlacing(job.id, rels));
      const fresh = q.get(job.id) ?? job;
      dropStaging();
      q.complete(
        job.id,
        placed.map((p) => p.id),
        () => insertAssets(this.o.db, fresh, placed, end.result),
      );
    } catch (e) {
      if (bestEffort(() => q.row(job.id)?.status) === 'done') {
        // Committed; what threw came after (a listener). The files are the job's: they stay.
        this.o.onAssetsAdded?.(placed.map((p) => p.id));
        return;
      }
      // The files have no rows (the transaction that would add them rolled back, or never ran):
      // they go, so the library holds no file the database does not know — and on a full disk
      // their space comes back, for the failure to be recorded.
      await removePlaced(root, placed);
      dropStaging();
      const disk = diskError(e, { what: "the job's results could not be saved", where: e instanceof DiskError ? undefined : root, next: 'retry the job' });
      const code = disk?.code ?? 'library_write_failed';
      const message = disk?.message ?? `could not save the results into the library: ${(e as Error).message}`;
      this.record(job.id, () => q.fail(job.id, code, message, { transient: disk === null }));
      return;
    }
    this.o.onAssetsAdded?.(placed.map((p) => p.id));
  }

  /** Writes a job's end; what the database refuses is kept and tried again (see UnsavedEnds). */
  private record(jobId: string, write: () => unknown): void {
    if (!this.unsaved.save(jobId, write)) this.retryLater();
  }

  private problem(message: string): void {
    if (message === this.lastProblem) return;
    this.lastProblem = message;
    try {
      this.o.onProblem?.(message);
    } catch {
      // Telling must not become the next problem.
    }
  }

  /** Another pass after a refused write: soon at first, less often while the disk stays full. */
  private retryLater(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
  }

  private reportProgress(job: JobView, p: ProgressUpdate, started: number): void {
    const elapsed = Date.now() - started;
    const etaMs = p.step > 0 && p.of > 0 ? Math.round((elapsed / p.step) * (p.of - p.step)) : null;
    // The stored step is for other processes' views; on a full disk the event below still goes out.
    bestEffort(() => this.o.queue.progress(job.id, p.step, p.of, p.stage));
    this.o.onProgress({
      jobId: job.id,
      step: p.step,
      of: p.of,
      stage: p.stage,
      ...(p.stageProgress ? { stageProgress: p.stageProgress } : {}),
      preview: p.preview ? `data:image/png;base64,${Buffer.from(p.preview).toString('base64')}` : null,
      etaMs,
    });
  }

  /**
   * Runs the Qwen enhancer in its own worker slot, then — as the OurVidz worker sequences it when
   * both do not fit — unloads it again if keeping it resident would crowd the generation model.
   */
  private async runEnhancer(
    jobId: string,
    type: JobType,
    params: JobParams,
    model: ModelRef,
    onProgress: (p: ProgressUpdate) => void,
  ): Promise<{ kind: 'done'; text: string; warning: string | null } | Exclude<RunEnd, { kind: 'done' }>> {
    // Sized from the one decoder file the enhancer will load (an onnx-community folder holds
    // several precisions) plus its KV cache, not from the folder.
    const provider = this.o.providers()[0] ?? 'cpu';
    const estimate = estimateQwenVram(model.path, provider);
    const weightsMb = estimate ? estimate.weightsMb + estimate.perItemMb : Math.ceil((this.modelBytes(model) * 1.1) / (1024 * 1024)) + 512;
    this.resident.set('qwen', { modelId: model.id, weightsMb });
    this.o.onResidencyChange();
    const end = await this.o.supervisor.run(
      'qwen',
      { jobId, jobType: type, params, model, enhancer: null, stagingDir: this.o.stagingRoot, maxBatch: 1, providers: this.o.providers() },
      (p) => onProgress({ ...p, stage: 'enhancing prompt' }),
    );
    const others = [...this.resident].filter(([s]) => s !== 'qwen').reduce((sum, [, r]) => sum + r.weightsMb, 0);
    if (others + weightsMb + 4096 > this.o.gpu.budgetMb()) await this.unload('qwen');
    if (end.kind !== 'done') return end;
    const text = end.result.enhancedPrompt ?? params.prompt;
    return { kind: 'done', text, warning: end.result.providerNote && end.result.enhancedPrompt === params.prompt ? end.result.providerNote : null };
  }

  /** The workspace's Enhance button: a rewrite to review before queueing, made in the enhancer's worker. */
  async enhance(prompt: string, type: JobType, seed: number): Promise<EnhanceResult> {
    const model = this.resolveModel('qwen', null);
    if ('missing' in model) {
      throw new StudioError('enhancer_not_installed', `enhancer not installed: ${model.missing}. Put ${ENHANCER_HELP} in ${this.o.modelsHint}.`);
    }
    const t0 = Date.now();
    const params: JobParams = { ...PRESETS[type], prompt, negativePrompt: '', seed, batchIndex: null, model: null, enhancedPrompt: null, count: 1, scheduler: PRESETS[type].scheduler };
    const end = await this.runEnhancer(`enhance-${t0}-${seed}`, type, params, model, () => undefined);
    if (end.kind === 'cancelled') throw new StudioError('cancelled', 'the rewrite was cancelled');
    if (end.kind === 'failed') throw new StudioError(end.code, `the enhancer failed: ${end.message}`);
    return { original: prompt, text: end.text, warning: end.warning, model: model.id, ms: Date.now() - t0 };
  }

  private async unload(family: Slot): Promise<void> {
    if (!this.resident.has(family)) return;
    await this.o.supervisor.unload(family);
    this.resident.delete(family);
    this.o.onResidencyChange();
  }

  /** Unloads resident models whose slot is idle, except the families in keep. */
  private async releaseIdleModels(keep: Set<Slot>, all: boolean): Promise<void> {
    const busy = new Set<Slot>([...this.running.values()].map((r) => r.slot));
    for (const family of [...this.resident.keys()]) {
      if (busy.has(family) || (!all && keep.has(family))) continue;
      await this.unload(family);
    }
  }

  /** Wakes up when a job waiting out its retry backoff becomes runnable. */
  private armWake(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    const at = this.o.queue.nextWakeAt();
    if (at === null || this.stopped) return;
    this.wakeTimer = setTimeout(() => this.kick(), Math.max(10, at - Date.now()));
    this.wakeTimer.unref();
  }
}
