/**
 * GPU memory and load, measured with nvidia-smi when it is there, and the VRAM budget the
 * scheduler keeps to. Without nvidia-smi (no NVIDIA driver, a non-NVIDIA GPU, a unified-memory
 * part that reports no memory) the monitor says so in `note` and the budget is the configured one.
 *
 * Sampling is on demand (`snapshot()` refreshes in the background when its data is stale) plus an
 * interval that runs only while jobs do, to record each job's peak memory use.
 */
import { execFile } from 'node:child_process';
import { NVIDIA_SMI_ARGS, parseNvidiaSmiCsv, type GpuReading } from './nvidia-smi.ts';

export interface GpuSnapshot {
  readonly source: 'nvidia-smi' | 'configured';
  readonly name: string | null;
  readonly memoryUsedMb: number | null;
  /** Measured total, or the configured budget when nothing is measured. */
  readonly memoryTotalMb: number;
  readonly utilizationPct: number | null;
  readonly budgetMb: number;
  /** Why numbers are missing or estimated; null when nvidia-smi answered fully. */
  readonly note: string | null;
}

/** Runs a program and resolves its stdout; rejects with the Node error (`code` 'ENOENT', `killed`…). */
export type ExecFn = (file: string, args: readonly string[], timeoutMs: number) => Promise<string>;

export interface GpuMonitorOptions {
  /** The budget used when the GPU's memory cannot be measured. */
  readonly configuredBudgetMb: number;
  /** A budget the user set: used even when the GPU is measured (never above what it reports). */
  readonly budgetOverrideMb?: number | null;
  /** Memory left for the desktop and other apps when the budget comes from the measured total. Default max(512 MB, 10 %). */
  readonly reserveMb?: number;
  readonly binary?: string;
  /**
   * nvidia-smi's index of the GPU to watch. nvidia-smi orders GPUs by PCI bus; CUDA orders them
   * fastest first unless CUDA_DEVICE_ORDER=PCI_BUS_ID, so set both the same way on multi-GPU machines.
   */
  readonly gpuIndex?: number;
  readonly timeoutMs?: number;
  /** Sampling interval while jobs run; also how old a snapshot may get before it is refreshed. */
  readonly intervalMs?: number;
  /** After a failed query (not a missing binary), wait this long before asking again. */
  readonly retryAfterMs?: number;
  readonly exec?: ExecFn;
  readonly now?: () => number;
}

const defaultExec: ExecFn = (file, args, timeoutMs) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: timeoutMs, windowsHide: true, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stdout, stderr }));
      else resolve(stdout);
    });
  });

type Mode = { kind: 'unknown' } | { kind: 'measured'; reading: GpuReading; note: string | null } | { kind: 'absent'; note: string } | { kind: 'failing'; note: string };

export class GpuMonitor {
  readonly #o: Required<Omit<GpuMonitorOptions, 'budgetOverrideMb' | 'reserveMb'>> & Pick<GpuMonitorOptions, 'budgetOverrideMb' | 'reserveMb'>;
  #mode: Mode = { kind: 'unknown' };
  #sampledAt = Number.NEGATIVE_INFINITY;
  #failedAt = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<GpuSnapshot> | null = null;
  readonly #peaks = new Map<string, number | null>();
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #override: number | null;

  constructor(options: GpuMonitorOptions) {
    this.#o = {
      configuredBudgetMb: options.configuredBudgetMb,
      budgetOverrideMb: options.budgetOverrideMb,
      reserveMb: options.reserveMb,
      binary: options.binary ?? 'nvidia-smi',
      gpuIndex: options.gpuIndex ?? 0,
      timeoutMs: options.timeoutMs ?? 3000,
      intervalMs: options.intervalMs ?? 1000,
      retryAfterMs: options.retryAfterMs ?? 30_000,
      exec: options.exec ?? defaultExec,
      now: options.now ?? (() => Date.now()),
    };
    this.#override = options.budgetOverrideMb ?? null;
  }

  /** Settings changed the budget (null: measured, else the configured default). Applies at once. */
  setBudget(overrideMb: number | null): void {
    this.#override = overrideMb;
    // Notes quote the budget: have them written again at the next look.
    if (this.#mode.kind !== 'measured' || this.#mode.note !== null) this.#forget();
  }

  /** Asks nvidia-smi again now, even after it was missing or failing (Settings → Check). */
  recheck(): Promise<GpuSnapshot> {
    if (!this.#inFlight) this.#forget();
    return this.sample();
  }

  #forget(): void {
    this.#mode = { kind: 'unknown' };
    this.#sampledAt = Number.NEGATIVE_INFINITY;
    this.#failedAt = Number.NEGATIVE_INFINITY;
  }

  /** The budget when the GPU's memory is not measured: the user's, else the configured default. */
  #fallbackMb(): number {
    return this.#override ?? this.#o.configuredBudgetMb;
  }

  /** The VRAM budget the scheduler keeps to, in MB. */
  budgetMb(): number {
    const override = this.#override;
    const total = this.#mode.kind === 'measured' ? this.#mode.reading.memoryTotalMb : null;
    if (total === null) return this.#fallbackMb();
    if (override !== null) return Math.min(override, total);
    const reserve = this.#o.reserveMb ?? Math.max(512, Math.round(total * 0.1));
    return Math.max(0, total - reserve);
  }

  /** The latest known state. Refreshes in the background when older than the interval. */
  snapshot(): GpuSnapshot {
    if (!this.#stopped && this.#o.now() - this.#sampledAt >= this.#o.intervalMs) void this.sample();
    return this.#current();
  }

  /** Queries nvidia-smi now (shares a query already running) and resolves the new snapshot. */
  sample(): Promise<GpuSnapshot> {
    if (this.#inFlight) return this.#inFlight;
    if (this.#mode.kind === 'absent') return Promise.resolve(this.#current());
    if (this.#mode.kind === 'failing' && this.#o.now() - this.#failedAt < this.#o.retryAfterMs) return Promise.resolve(this.#current());
    this.#inFlight = this.#query().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  /** Begins tracking a job's peak memory use; samples at once and then on the interval. */
  startJob(jobId: string): void {
    this.#peaks.set(jobId, null);
    void this.sample();
    if (!this.#timer && !this.#stopped) {
      this.#timer = setInterval(() => void this.sample(), this.#o.intervalMs);
      this.#timer.unref();
    }
  }

  /** Stops tracking a job: the most GPU memory in use while it ran, or null if unmeasured. */
  endJob(jobId: string): number | null {
    const peak = this.#peaks.get(jobId) ?? null;
    this.#peaks.delete(jobId);
    if (this.#peaks.size === 0) this.#stopTimer();
    return peak;
  }

  stop(): void {
    this.#stopped = true;
    this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async #query(): Promise<GpuSnapshot> {
    const binary = this.#o.binary;
    try {
      const stdout = await this.#o.exec(binary, NVIDIA_SMI_ARGS, this.#o.timeoutMs);
      const { gpus, problems } = parseNvidiaSmiCsv(stdout);
      this.#sampledAt = this.#o.now();
      if (gpus.length === 0) {
        this.#fail(`nvidia-smi reported no GPU${problems.length ? ` (${problems[0]})` : ''}`);
      } else {
        const wanted = gpus.find((g) => g.index === this.#o.gpuIndex);
        const reading = wanted ?? gpus[0]!;
        const notes: string[] = [];
        if (!wanted) notes.push(`GPU ${this.#o.gpuIndex} was not found; showing GPU ${reading.index} (${reading.name})`);
        if (reading.memoryTotalMb === null) {
          notes.push(`${reading.name} reports no dedicated memory size (shared or unified memory), so the configured budget of ${this.#fallbackMb()} MB applies`);
        }
        this.#mode = { kind: 'measured', reading, note: notes.length ? `${notes.join('; ')}.` : null };
        if (reading.memoryUsedMb !== null) {
          for (const [job, peak] of this.#peaks) this.#peaks.set(job, Math.max(peak ?? 0, reading.memoryUsedMb));
        }
      }
    } catch (error) {
      this.#sampledAt = this.#o.now();
      const e = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; stdout?: string; stderr?: string };
      if (e.code === 'ENOENT') {
        this.#mode = {
          kind: 'absent',
          note: `${binary} was not found, so GPU memory is not measured; the scheduler keeps to the configured budget of ${this.#fallbackMb()} MB (set it in Settings to match your GPU).`,
        };
      } else if (e.killed || e.signal === 'SIGTERM') {
        this.#fail(`nvidia-smi did not answer within ${Math.round(this.#o.timeoutMs / 1000)} s`);
      } else {
        const said = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '');
        this.#fail(`nvidia-smi failed: ${said ?? e.message}`);
      }
    }
    return this.#current();
  }

  #fail(what: string): void {
    this.#failedAt = this.#o.now();
    this.#mode = {
      kind: 'failing',
      note: `${what}. GPU memory is not measured; the scheduler keeps to the configured budget of ${this.#fallbackMb()} MB. Check the NVIDIA driver.`,
    };
  }

  #current(): GpuSnapshot {
    const budgetMb = this.budgetMb();
    const mode = this.#mode;
    if (mode.kind === 'measured') {
      const r = mode.reading;
      return {
        source: 'nvidia-smi',
        name: r.name,
        memoryUsedMb: r.memoryUsedMb,
        memoryTotalMb: r.memoryTotalMb ?? budgetMb,
        utilizationPct: r.utilizationPct,
        budgetMb,
        note: mode.note,
      };
    }
    return {
      source: 'configured',
      name: null,
      memoryUsedMb: null,
      memoryTotalMb: budgetMb,
      utilizationPct: null,
      budgetMb,
      note: mode.kind === 'unknown' ? 'GPU not measured yet.' : mode.note,
    };
  }
}
