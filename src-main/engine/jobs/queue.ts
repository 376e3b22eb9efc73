/**
 * The durable job queue. Every transition is one SQLite transaction that also writes a job_events
 * row, so a crash can never leave a job half-moved. Subscribers hear about a change after commit.
 *
 * Ordering: jobs that were moved to the front first (most recent move first), then fast job types
 * before high ones, FIFO within. One integer `sort_key` encodes that so claiming is one index step.
 * A job put somewhere by hand (`reorder`) takes the key just below the job it now precedes, the
 * jobs ahead of it moving down by one, so every queued key stays distinct; a new job goes behind
 * every queued key of its band, so a job placed by hand keeps its place among later arrivals.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database.ts';
import { PRESETS } from '../../../src-preload/contract/catalog.ts';
import type { JobParams, JobType } from '../../../src-preload/contract/catalog.ts';
import type { JobState, JobStatus, JobView, QueueState } from '../../../src-preload/contract/status.ts';
import { StudioError } from '../errors.ts';

const PRIORITY_SPAN = 2 ** 42;

/**
 * The key that puts a job at the back of its priority band (bound as band start, band start, band
 * end): behind every job ever inserted in that band and behind every queued key in it, including
 * jobs placed there by hand.
 */
const BAND_TAIL = `max(? + (SELECT coalesce(max(rowid), 0) + 1 FROM jobs),
  (SELECT coalesce(max(sort_key), 0) + 1 FROM jobs WHERE status = 'queued' AND sort_key >= ? AND sort_key < ?))`;
const bandOf = (priority: number): [number, number, number] => {
  const start = priority * PRIORITY_SPAN;
  return [start, start, start + PRIORITY_SPAN];
};
/** Finished jobs the user cleared from the queue's list (kept for the library, the CLI's `jobs show`). */
const NOT_CLEARED = "json_extract(metadata, '$.clearedAt') IS NULL";
const FINISHED_STATES = "('done', 'failed', 'cancelled')";

export interface JobRow {
  id: string;
  job_type: string;
  model_family: string;
  params: string;
  status: JobState;
  status_at: number;
  sort_key: number;
  attempts: number;
  max_attempts: number;
  not_before: number | null;
  queue_reason: string | null;
  idempotency_key: string | null;
  step: number | null;
  total_steps: number | null;
  stage: string | null;
  cancel_requested: number;
  lease_owner: string | null;
  error_code: string | null;
  error_message: string | null;
  model_id: string | null;
  provider: string | null;
  provider_note: string | null;
  peak_vram_mb: number | null;
  metadata: string;
  enhanced_prompt: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

export interface QueueOptions {
  /** Identifies this engine process as the owner of the jobs it runs. */
  readonly instanceId: string;
  readonly maxAttempts?: number;
  readonly backoff?: BackoffPolicy;
  readonly now?: () => number;
}

export type JobListener = (job: JobView) => void;

/** Capped exponential backoff: base·2^(attempt−1), never above cap. */
export function backoffDelay(policy: BackoffPolicy, attempt: number): number {
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
}

export class JobQueue {
  readonly instanceId: string;
  readonly maxAttempts: number;
  readonly backoff: BackoffPolicy;
  private readonly db: Database;
  private readonly now: () => number;
  private readonly listeners = new Set<JobListener>();
  private readonly queueListeners = new Set<(s: QueueState) => void>();

  constructor(db: Database, options: QueueOptions) {
    this.db = db;
    this.instanceId = options.instanceId;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.backoff = options.backoff ?? { baseMs: 2000, capMs: 60_000 };
    this.now = options.now ?? Date.now;
  }

  onChange(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onQueueChange(listener: (s: QueueState) => void): () => void {
    this.queueListeners.add(listener);
    return () => this.queueListeners.delete(listener);
  }

  // ── reads ────────────────────────────────────────────────────────────────────────────────────

  get(id: string): JobView | null {
    const row = this.row(id);
    return row ? this.view(row) : null;
  }

  row(id: string): JobRow | undefined {
    return this.db.get<JobRow>('SELECT * FROM jobs WHERE id = ?', id);
  }

  /** Jobs in run order (running, then queued by place in line, then the rest newest first); cleared ones only when asked. */
  list(options: { states?: readonly JobState[]; limit?: number; includeCleared?: boolean } = {}): JobView[] {
    const limit = options.limit ?? 200;
    const states = options.states?.length ? options.states : null;
    const where = [
      ...(states ? [`status IN (${states.map(() => '?').join(',')})`] : []),
      ...(options.includeCleared ? [] : [NOT_CLEARED]),
    ];
    const rows = this.db.all<JobRow>(
      `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY CASE status WHEN 'running' THEN 0 WHEN 'queued' THEN 1 ELSE 2 END,
                CASE WHEN status = 'queued' THEN sort_key END, created_at DESC, rowid DESC LIMIT ?`,
      ...(states ?? []),
      limit,
    );
    const positions = rows.some((r) => r.status === 'queued') ? this.queuedPositions() : null;
    return rows.map((r) => this.view(r, positions));
  }

  state(): QueueState {
    const counts = this.db.get<{ queued: number; running: number }>(
      `SELECT (SELECT count(*) FROM jobs WHERE status = 'queued') AS queued,
              (SELECT count(*) FROM jobs WHERE status = 'running') AS running`,
    ) ?? { queued: 0, running: 0 };
    return { paused: this.isPaused(), queued: counts.queued, running: counts.running };
  }

  isPaused(): boolean {
    return this.db.get<{ value: string }>("SELECT value FROM engine_state WHERE key = 'paused'")?.value === '1';
  }

  /** Queued jobs that may start now, in run order. */
  runnable(limit: number): JobRow[] {
    return this.db.all<JobRow>(
      `SELECT * FROM jobs WHERE status = 'queued' AND (not_before IS NULL OR not_before <= ?)
       ORDER BY sort_key, rowid LIMIT ?`,
      this.now(),
      limit,
    );
  }

  /** When the earliest job waiting out a retry backoff becomes runnable, or null. */
  nextWakeAt(): number | null {
    return (
      this.db.get<{ t: number | null }>(
        "SELECT min(not_before) AS t FROM jobs WHERE status = 'queued' AND not_before > ?",
        this.now(),
      )?.t ?? null
    );
  }

  // ── writes ───────────────────────────────────────────────────────────────────────────────────

  enqueue(type: JobType, params: JobParams, options: { idempotencyKey?: string } = {}): JobView {
    const preset = PRESETS[type];
    const t = this.now();
    const result = this.db.transaction(() => {
      if (options.idempotencyKey) {
        const existing = this.db.get<JobRow>('SELECT * FROM jobs WHERE idempotency_key = ?', options.idempotencyKey);
        if (existing) return { row: existing, created: false };
      }
      const id = randomUUID();
      this.db.run(
        `INSERT INTO jobs (id, job_type, model_family, quality, format, params, original_prompt, enhanced_prompt,
            status, status_at, sort_key, attempts, max_attempts, idempotency_key, total_steps, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ${BAND_TAIL}, 0, ?, ?, ?, ?)`,
        id,
        type,
        preset.family,
        preset.quality,
        preset.kind,
        JSON.stringify(params),
        params.prompt,
        params.enhancedPrompt,
        t,
        ...bandOf(preset.priority),
        this.maxAttempts,
        options.idempotencyKey ?? null,
        params.steps,
        t,
      );
      this.event(id, null, 'queued', 'enqueued');
      return { row: this.row(id)!, created: true };
    });
    // Positions cost a scan of the queued index; they are computed for reads (get/list), not here.
    const view = this.view(result.row, null);
    if (result.created) this.emit(view);
    return view;
  }

  /** Claims one specific queued job for this instance: queued → running, attempts + 1. */
  claim(id: string): JobView | null {
    const t = this.now();
    const row = this.db.transaction(() => {
      const r = this.db.run(
        `UPDATE jobs SET status = 'running', status_at = ?, attempts = attempts + 1, lease_owner = ?,
            started_at = ?, step = 0, stage = 'starting', not_before = NULL, queue_reason = NULL,
            error_code = NULL, error_message = NULL
         WHERE id = ? AND status = 'queued'`,
        t,
        this.instanceId,
        t,
        id,
      );
      if (r.changes === 0) return undefined;
      this.event(id, 'queued', 'running', null);
      return this.row(id);
    });
    if (!row) return null;
    const view = this.view(row);
    this.emit(view);
    return view;
  }

  /** Per-step progress of a running job (not a transition: no job_events row). */
  progress(id: string, step: number, of: number, stage: string | null): JobView | null {
    const r = this.db.run(
      "UPDATE jobs SET step = ?, total_steps = ?, stage = ? WHERE id = ? AND status = 'running'",
      step,
      of,
      stage,
      id,
    );
    if (r.changes === 0) return null;
    const view = this.get(id)!;
    this.emit(view);
    return view;
  }

  /** Stores the enhancer's rewrite (or the warning why the original prompt runs instead). */
  setEnhanced(id: string, text: string | null, warning: string | null): JobView | null {
    this.db.run(
      `UPDATE jobs SET enhanced_prompt = ?, metadata = json_set(metadata, '$.enhanceWarning', ?) WHERE id = ?`,
      text,
      warning,
      id,
    );
    const view = this.get(id);
    if (view) this.emit(view);
    return view;
  }

  /** Records what ran the job (model, execution provider and why earlier ones were skipped). */
  annotate(id: string, fields: { modelId?: string; provider?: string; providerNote?: string; peakVramMb?: number }): void {
    this.db.run(
      `UPDATE jobs SET model_id = coalesce(?, model_id), provider = coalesce(?, provider),
          provider_note = coalesce(?, provider_note),
          peak_vram_mb = CASE WHEN ? IS NULL THEN peak_vram_mb ELSE max(coalesce(peak_vram_mb, 0), ?) END
       WHERE id = ?`,
      fields.modelId ?? null,
      fields.provider ?? null,
      fields.providerNote ?? null,
      fields.peakVramMb ?? null,
      fields.peakVramMb ?? null,
      id,
    );
  }

  /**
   * The library paths a running job is about to move its outputs to, committed before the first
   * move (see placeOutputs): what a process killed before `complete` leaves behind is found here.
   */
  notePlacing(id: string, relPaths: readonly string[]): void {
    this.db.run(`UPDATE jobs SET metadata = json_set(metadata, '$.placing', json(?)) WHERE id = ?`, JSON.stringify(relPaths), id);
  }

  /** The paths an earlier attempt of the job recorded and never committed (empty when none). */
  placing(id: string): string[] {
    const row = this.db.get<{ p: string | null }>(`SELECT json_extract(metadata, '$.placing') AS p FROM jobs WHERE id = ?`, id);
    return row?.p ? (JSON.parse(row.p) as string[]) : [];
  }

  /**
   * running → done. `also` runs inside the same transaction (the engine inserts the asset rows
   * there), so a job is never done without its assets or the other way round.
   */
  complete(id: string, assetIds: readonly string[], also?: () => void): JobView {
    const t = this.now();
    const row = this.db.transaction(() => {
      const r = this.db.run(
        `UPDATE jobs SET status = 'done', status_at = ?, finished_at = ?, step = total_steps, stage = NULL,
            lease_owner = NULL, metadata = json_remove(json_set(metadata, '$.assets', json(?)), '$.placing')
         WHERE id = ? AND status = 'running'`,
        t,
        t,
        JSON.stringify(assetIds),
        id,
      );
      if (r.changes === 0) throw new StudioError('job_not_running', `job ${id} is not running, so it cannot complete`);
      also?.();
      this.event(id, 'running', 'done', `${assetIds.length} assets`);
      return this.row(id)!;
    });
    const view = this.view(row);
    this.emit(view);
    return view;
  }

  /**
   * running → queued again (transient failure with attempts left, after a capped exponential
   * backoff) or → failed. A job that used every attempt is dead-lettered: failed, with the reason
   * and the attempt count kept.
   */
  fail(id: string, code: string, message: string, options: { transient: boolean }): JobView {
    const t = this.now();
    const row = this.db.transaction(() => {
      const cur = this.row(id);
      if (!cur || cur.status !== 'running') {
        throw new StudioError('job_not_running', `job ${id} is not running, so it cannot fail`);
      }
      if (options.transient && cur.attempts < cur.max_attempts) {
        const notBefore = t + backoffDelay(this.backoff, cur.attempts);
        this.db.run(
          `UPDATE jobs SET status = 'queued', status_at = ?, not_before = ?, queue_reason = ?, lease_owner = NULL,
              step = NULL, stage = NULL, error_code = ?, error_message = ?
           WHERE id = ?`,
          t,
          notBefore,
          `retry ${cur.attempts + 1} of ${cur.max_attempts} after: ${message}`,
          code,
          message,
          id,
        );
        this.event(id, 'running', 'queued', `retry after ${code}: ${message}`);
      } else {
        const final =
          options.transient && cur.attempts >= cur.max_attempts
            ? `gave up after ${cur.attempts} attempts: ${message}`
            : message;
        this.db.run(
          `UPDATE jobs SET status = 'failed', status_at = ?, finished_at = ?, lease_owner = NULL, stage = NULL,
              error_code = ?, error_message = ?,
              metadata = json_set(metadata, '$.deadLettered', json(?))
           WHERE id = ?`,
          t,
          t,
          code,
          final,
          options.transient ? 'true' : 'false',
          id,
        );
        this.event(id, 'running', 'failed', `${code}: ${final}`);
      }
      return this.row(id)!;
    });
    const view = this.view(row);
    this.emit(view);
    return view;
  }

  /**
   * Cancels a queued job at once; a running job is flagged and stops at its next step (the runner
   * then calls markCancelled). Cancelling a finished job is refused with the reason.
   */
  cancel(id: string): JobView {
    const t = this.now();
    const row = this.db.transaction(() => {
      const cur = this.row(id);
      if (!cur) throw new StudioError('not_found', `no job with id ${id}`);
      if (cur.status === 'queued') {
        this.db.run(
          "UPDATE jobs SET status = 'cancelled', status_at = ?, finished_at = ?, not_before = NULL WHERE id = ?",
          t,
          t,
          id,
        );
        this.event(id, 'queued', 'cancelled', 'cancelled while queued');
      } else if (cur.status === 'running') {
        this.db.run('UPDATE jobs SET cancel_requested = 1 WHERE id = ?', id);
      } else if (cur.status !== 'cancelled') {
        throw new StudioError('not_cancellable', `job ${id} is already ${cur.status}; only queued or running jobs can be cancelled`);
      }
      return this.row(id)!;
    });
    const view = this.view(row);
    this.emit(view);
    this.emitQueue();
    return view;
  }

  markCancelled(id: string): JobView | null {
    const t = this.now();
    const row = this.db.transaction(() => {
      const r = this.db.run(
        `UPDATE jobs SET status = 'cancelled', status_at = ?, finished_at = ?, lease_owner = NULL, stage = NULL
         WHERE id = ? AND status = 'running'`,
        t,
        t,
        id,
      );
      if (r.changes === 0) return undefined;
      this.event(id, 'running', 'cancelled', 'stopped at a step boundary');
      return this.row(id);
    });
    if (!row) return null;
    const view = this.view(row);
    this.emit(view);
    return view;
  }

  /**
   * running → queued when this process stops while the job runs (the app closing, a CLI runner
   * exiting): not the job's fault, so the attempt is given back and it keeps its place.
   */
  release(id: string, reason: string): JobView | null {
    const t = this.now();
    const row = this.db.transaction(() => {
      const r = this.db.run(
        `UPDATE jobs SET status = 'queued', status_at = ?, attempts = max(0, attempts - 1), lease_owner = NULL,
            step = NULL, stage = NULL, queue_reason = ?
         WHERE id = ? AND status = 'running'`,
        t,
        reason,
        id,
      );
      if (r.changes === 0) return undefined;
      this.event(id, 'running', 'queued', reason);
      return this.row(id);
    });
    if (!row) return null;
    const view = this.view(row);
    this.emit(view);
    return view;
  }

  /** Ids of running jobs whose cancellation was requested (possibly by another process). */
  cancelRequested(): string[] {
    return this.db
      .all<{ id: string }>("SELECT id FROM jobs WHERE status = 'running' AND cancel_requested = 1")
      .map((r) => r.id);
  }

  /** failed/cancelled → queued with fresh attempts, at the back of its priority. */
  retry(id: string): JobView {
    const t = this.now();
    const row = this.db.transaction(() => {
      const cur = this.row(id);
      if (!cur) throw new StudioError('not_found', `no job with id ${id}`);
      if (cur.status !== 'failed' && cur.status !== 'cancelled') {
        throw new StudioError('not_retryable', `job ${id} is ${cur.status}; only failed or cancelled jobs can be retried`);
      }
      const preset = PRESETS[cur.job_type as JobType];
      this.db.run(
        `UPDATE jobs SET status = 'queued', status_at = ?, attempts = 0, cancel_requested = 0, not_before = NULL,
            queue_reason = 'retried by you', error_code = NULL, error_message = NULL, finished_at = NULL, step = NULL,
            metadata = json_remove(metadata, '$.clearedAt'), sort_key = ${BAND_TAIL}
         WHERE id = ?`,
        t,
        ...bandOf(preset.priority),
        id,
      );
      this.event(id, cur.status, 'queued', 'retried');
      return this.row(id)!;
    });
    const view = this.view(row);
    this.emit(view);
    this.emitQueue();
    return view;
  }

  moveToFront(id: string): JobView {
    const row = this.db.transaction(() => {
      const cur = this.row(id);
      if (!cur) throw new StudioError('not_found', `no job with id ${id}`);
      if (cur.status !== 'queued') {
        throw new StudioError('not_queued', `job ${id} is ${cur.status}; only queued jobs can be moved to the front`);
      }
      this.db.run(
        `UPDATE jobs SET sort_key = (SELECT min(sort_key) FROM jobs WHERE status = 'queued') - 1, not_before = NULL
         WHERE id = ?`,
        id,
      );
      this.event(id, 'queued', 'queued', 'moved to the front');
      return this.row(id)!;
    });
    const view = this.view(row);
    this.emit(view);
    this.emitQueue();
    return view;
  }

  /**
   * Puts a queued job just ahead of another queued job (`before`), or at the back of the queue
   * (`before` null) — a drag in the Queue, or Move up / Move down. The scheduler claims by this
   * order, so the job runs where it was put.
   */
  reorder(id: string, before: string | null): JobView {
    const row = this.db.transaction(() => {
      const cur = this.row(id);
      if (!cur) throw new StudioError('not_found', `no job with id ${id}`);
      if (cur.status !== 'queued') {
        throw new StudioError('not_queued', `job ${id} is ${cur.status}; only queued jobs can be reordered`);
      }
      if (before === id) return cur;
      if (before === null) {
        this.db.run(
          `UPDATE jobs SET sort_key = (SELECT max(sort_key) FROM jobs WHERE status = 'queued') + 1 WHERE id = ?`,
          id,
        );
        this.event(id, 'queued', 'queued', 'moved to the back');
        return this.row(id)!;
      }
      const next = this.row(before);
      if (!next) throw new StudioError('not_found', `no job with id ${before}`, { field: 'before' });
      if (next.status !== 'queued') {
        throw new StudioError('not_queued', `job ${before} is ${next.status}, so a job cannot be put ahead of it; only queued jobs have a place in line`, { field: 'before' });
      }
      // Everything ahead of `before` moves down one; the job takes the key that frees up.
      this.db.run(
        "UPDATE jobs SET sort_key = sort_key - 1 WHERE status = 'queued' AND sort_key < ? AND id != ?",
        next.sort_key,
        id,
      );
      this.db.run('UPDATE jobs SET sort_key = ? WHERE id = ?', next.sort_key - 1, id);
      this.event(id, 'queued', 'queued', `moved ahead of ${before}`);
      return this.row(id)!;
    });
    const view = this.view(row);
    this.emit(view);
    this.emitQueue();
    return view;
  }

  /**
   * Clears finished jobs (done, failed, cancelled) from the queue's list — the given ones, or all.
   * Nothing is deleted: the job stays readable by id and its outputs stay in the library.
   */
  clearFinished(ids?: readonly string[]): string[] {
    const t = this.now();
    return this.db.transaction(() =>
      this.db
        .all<{ id: string }>(
          `UPDATE jobs SET metadata = json_set(metadata, '$.clearedAt', ?)
           WHERE status IN ${FINISHED_STATES} AND ${NOT_CLEARED}
             ${ids ? `AND id IN (SELECT value FROM json_each(?))` : ''}
           RETURNING id`,
          t,
          ...(ids ? [JSON.stringify(ids)] : []),
        )
        .map((r) => r.id),
    );
  }

  setPaused(paused: boolean): QueueState {
    this.db.run(
      "INSERT INTO engine_state (key, value) VALUES ('paused', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      paused ? '1' : '0',
    );
    const s = this.state();
    this.emitQueue(s);
    return s;
  }

  /**
   * After a crash or kill -9: every job still marked running belongs to a dead process (the caller
   * holds the data folder's runner lock). Each goes back to the queue with its attempt count already
   * raised, or fails with the reason when it has no attempts left. Runs once, in one transaction.
   */
  recoverInterrupted(): { requeued: string[]; failed: string[] } {
    const t = this.now();
    const out = { requeued: [] as string[], failed: [] as string[] };
    this.db.transaction(() => {
      const rows = this.db.all<JobRow>("SELECT * FROM jobs WHERE status = 'running'");
      for (const r of rows) {
        if (r.cancel_requested) {
          this.db.run(
            "UPDATE jobs SET status = 'cancelled', status_at = ?, finished_at = ?, lease_owner = NULL WHERE id = ?",
            t,
            t,
            r.id,
          );
          this.event(r.id, 'running', 'cancelled', 'cancel was requested before the app stopped');
          out.failed.push(r.id);
        } else if (r.attempts < r.max_attempts) {
          this.db.run(
            `UPDATE jobs SET status = 'queued', status_at = ?, lease_owner = NULL, step = NULL, stage = NULL,
                queue_reason = ?
             WHERE id = ?`,
            t,
            `interrupted: the app stopped while this job ran (attempt ${r.attempts} of ${r.max_attempts}); it will run again`,
            r.id,
          );
          this.event(r.id, 'running', 'queued', 'interrupted; requeued');
          out.requeued.push(r.id);
        } else {
          const message = `the app stopped while this job ran, and it has used all ${r.max_attempts} attempts. Retry it from the queue if you want another try.`;
          this.db.run(
            `UPDATE jobs SET status = 'failed', status_at = ?, finished_at = ?, lease_owner = NULL, stage = NULL,
                error_code = 'interrupted', error_message = ? WHERE id = ?`,
            t,
            t,
            message,
            r.id,
          );
          this.event(r.id, 'running', 'failed', 'interrupted; no attempts left');
          out.failed.push(r.id);
        }
      }
    });
    return out;
  }

  // ── helpers ──────────────────────────────────────────────────────────────────────────────────

  emitQueue(state: QueueState = this.state()): void {
    for (const l of this.queueListeners) l(state);
  }

  private emit(view: JobView): void {
    for (const l of this.listeners) l(view);
  }

  private event(jobId: string, from: JobState | null, to: JobState, detail: string | null): void {
    this.db.run(
      'INSERT INTO job_events (job_id, at, from_status, to_status, detail) VALUES (?, ?, ?, ?, ?)',
      jobId,
      this.now(),
      from,
      to,
      detail,
    );
  }

  private queuedPositions(): Map<string, number> {
    const ids = this.db.all<{ id: string }>("SELECT id FROM jobs WHERE status = 'queued' ORDER BY sort_key, rowid");
    return new Map(ids.map((r, i) => [r.id, i]));
  }

  private position(row: JobRow): number {
    return (
      this.db.get<{ n: number }>("SELECT count(*) AS n FROM jobs WHERE status = 'queued' AND sort_key < ?", row.sort_key)?.n ?? 0
    );
  }

  /** positions: a precomputed map (list), undefined to count this job's place, null to leave it out. */
  view(row: JobRow, positions?: Map<string, number> | null): JobView {
    return {
      id: row.id,
      type: row.job_type as JobType,
      family: PRESETS[row.job_type as JobType].family,
      params: JSON.parse(row.params) as JobParams,
      status: statusOf(row),
      attempts: row.attempts,
      maxAttempts: row.max_attempts,
      createdAt: row.created_at,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      position: row.status !== 'queued' || positions === null ? null : (positions?.get(row.id) ?? this.position(row)),
      modelId: row.model_id,
      provider: row.provider,
      providerNote: row.provider_note,
      peakVramMb: row.peak_vram_mb,
      idempotencyKey: row.idempotency_key,
      enhancedPrompt: row.enhanced_prompt,
      enhanceWarning: (JSON.parse(row.metadata) as { enhanceWarning?: string | null }).enhanceWarning ?? null,
    };
  }
}

export function statusOf(row: JobRow): JobStatus {
  switch (row.status) {
    case 'queued':
      return { state: 'queued', at: row.status_at, notBefore: row.not_before, reason: row.queue_reason };
    case 'running':
      return { state: 'running', at: row.status_at, step: row.step ?? 0, of: row.total_steps ?? 0, stage: row.stage };
    case 'done': {
      const meta = JSON.parse(row.metadata) as { assets?: string[] };
      return { state: 'done', at: row.status_at, assets: meta.assets ?? [] };
    }
    case 'failed':
      return { state: 'failed', at: row.status_at, code: row.error_code ?? 'failed', message: row.error_message ?? '' };
    case 'cancelled':
      return { state: 'cancelled', at: row.status_at };
  }
}
