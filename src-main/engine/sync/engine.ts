/**
 * The sync engine: drains the outbox to `sync_push` in batches and applies `sync_pull`'s changes,
 * one cycle at a time, with back-off on failure.
 *
 * Durability: an op leaves the outbox only after the server answered for it (applied or duplicate).
 * A dropped connection, a stopped server or a crash between the push and that answer leaves the op
 * in place, and the next cycle sends it again with the same op_id — the server's applied_ops makes
 * the second apply a no-op ("duplicate"). An op the server refuses is kept, marked, and shown with
 * its reason; `retryRejected()` sends those again. The pull cursor (the last server_seq applied) is
 * saved in the same transaction as the rows it covers, so a crash mid-pull re-applies at most what
 * was not saved, and applying twice changes nothing (clocks decide).
 */
import type { Database } from '../db/database.ts';
import { absoluteInRoot } from '../library/store.ts';
import { applyPulled, removeFiles } from './apply.ts';
import { FileSync } from './files.ts';
import type { FileSyncOptions } from './files.ts';
import type { PulledRow } from './apply.ts';
import { pendingCount, recordFinishedJobs, stateSet, stateValue, syncEnabled } from './outbox.ts';
import { TransportError } from './transport.ts';
import type { SyncOp, SyncTransport } from './transport.ts';

export interface SyncFailure {
  readonly opId: string;
  readonly table: string;
  readonly id: string;
  readonly reason: string;
}

export interface SyncStatus {
  readonly enabled: boolean;
  readonly paused: boolean;
  readonly running: boolean;
  /** The signed-in user, or null. */
  readonly signedInAs: string | null;
  readonly lastSyncAt: number | null;
  /** Changes waiting to be sent (refused ones not counted). */
  readonly waiting: number;
  /** Changes the server refused, with its reason: kept until retried. */
  readonly failures: readonly SyncFailure[];
  /** Why the last cycle stopped early (network, server), or null when it completed. */
  readonly lastError: string | null;
  readonly nextAttemptAt: number | null;
}

export interface SyncCycle {
  readonly pushed: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly pulled: number;
  readonly applied: number;
  /** Files sent, brought down, and cloud copies removed (sync/files.ts). */
  readonly uploaded: number;
  readonly downloaded: number;
  readonly removed: number;
}

export interface SyncEngineOptions {
  readonly db: Database;
  readonly transport: SyncTransport;
  /** The library root, to remove the files of assets another desktop deleted for good. */
  readonly libraryRoot?: string;
  readonly batchSize?: number;
  readonly pullLimit?: number;
  /** Between cycles while running (default 30 s). */
  readonly intervalMs?: number;
  /** First retry after a failed cycle; doubles per failure up to maxBackoffMs. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly now?: () => number;
  /** The file mirror's options (tus retry delays, chunk size) and a hook for its progress. */
  readonly files?: Pick<FileSyncOptions, 'retryDelays' | 'chunkSize' | 'onChange'>;
  /**
   * A generation job is running: background cycles wait (and a transfer in flight waits between
   * chunks) so sync never slows a job; at most `maxYieldMs` (default 10 min) in a row, so a long
   * queue still syncs now and then. `syncNow()` asked by the user does not wait.
   */
  readonly busy?: () => boolean;
  readonly maxYieldMs?: number;
  readonly yieldWindowMs?: number;
}

const KEY_LAST_SYNC = 'sync.last_sync';

export class SyncEngine {
  private readonly db: Database;
  private readonly transport: SyncTransport;
  private readonly options: SyncEngineOptions;
  private paused = false;
  private running = false;
  private inFlight: Promise<SyncCycle> | null = null;
  private queued: Promise<SyncCycle> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failuresInRow = 0;
  private lastError: string | null = null;
  private nextAttemptAt: number | null = null;
  /** Originals and thumbnails to and from Storage; null without a library root or a file transport. */
  readonly files: FileSync | null;

  constructor(options: SyncEngineOptions) {
    this.db = options.db;
    this.transport = options.transport;
    this.options = options;
    this.files =
      options.transport.files && options.libraryRoot
        ? new FileSync({
            db: options.db,
            root: options.libraryRoot,
            transport: options.transport.files,
            ...options.files,
            ...(options.busy ? { yieldTo: () => this.mustYield() } : {}),
          })
        : null;
  }

  private get now(): number {
    return (this.options.now ?? Date.now)();
  }

  status(): SyncStatus {
    const last = stateValue(this.db, KEY_LAST_SYNC);
    const failures = this.db
      .all<{ op_id: string; tbl: string; row_id: string; last_error: string | null }>(
        'SELECT op_id, tbl, row_id, last_error FROM sync_outbox WHERE rejected_at IS NOT NULL ORDER BY seq LIMIT 100',
      )
      .map((r) => ({ opId: r.op_id, table: r.tbl, id: r.row_id, reason: r.last_error ?? 'refused by the server' }));
    return {
      enabled: syncEnabled(this.db),
      paused: this.paused,
      running: this.running,
      signedInAs: this.transport.user,
      lastSyncAt: last ? Number(last) : null,
      waiting: pendingCount(this.db),
      failures,
      lastError: this.lastError,
      nextAttemptAt: this.nextAttemptAt,
    };
  }

  /**
   * One cycle: push everything waiting, then pull everything new. Does nothing while sync is off or
   * paused. Throws the failure that stopped it (a TransportError for network and server trouble);
   * what was done before the failure stays done.
   */
  syncNow(options: { background?: boolean } = {}): Promise<SyncCycle> {
    if (this.inFlight) {
      // The loop's cycle may have started before the change the user wants sent: theirs runs after it.
      if (options.background) return this.inFlight;
      this.queued ??= this.inFlight
        .catch(() => undefined)
        .then(() => {
          this.queued = null;
          return this.syncNow(options);
        });
      return this.queued;
    }
    const cycle = this.cycle(options.background ?? false).finally(() => {
      this.inFlight = null;
    });
    this.inFlight = cycle;
    return cycle;
  }

  /** The cycle running is the background loop's (it gives way to jobs between batches). */
  private background = false;

  /** Background cycles wait here, between push batches and pull pages, while a job runs. */
  private async giveWay(): Promise<void> {
    while (this.background && !this.paused && this.mustYield()) await new Promise((r) => setTimeout(r, 500));
  }

  private async cycle(background: boolean): Promise<SyncCycle> {
    this.background = background;
    const empty: SyncCycle = { pushed: 0, duplicates: 0, rejected: 0, pulled: 0, applied: 0, uploaded: 0, downloaded: 0, removed: 0 };
    if (!syncEnabled(this.db) || this.paused) return empty;
    if (this.transport.user === null) throw new TransportError('not signed in to the cloud: sign in to sync', false);
    try {
      recordFinishedJobs(this.db);
      const pushed = await this.pushAll();
      const pulled = await this.pullAll();
      // Records first (cheap, what the web app lists), then files; the paths of what went up are
      // recorded by the file stage and pushed right after it.
      const files = this.files ? await this.files.run({ background }) : { uploaded: 0, downloaded: 0, deleted: 0 };
      if (files.uploaded > 0) {
        const more = await this.pushAll();
        pushed.pushed += more.pushed;
        pushed.duplicates += more.duplicates;
        pushed.rejected += more.rejected;
      }
      this.db.transaction(() => stateSet(this.db, KEY_LAST_SYNC, String(this.now)));
      this.lastError = null;
      this.failuresInRow = 0;
      this.nextAttemptAt = null;
      return { ...pushed, ...pulled, uploaded: files.uploaded, downloaded: files.downloaded, removed: files.deleted };
    } catch (e) {
      this.lastError = (e as Error).message;
      this.failuresInRow++;
      throw e;
    }
  }

  private async pushAll(): Promise<{ pushed: number; duplicates: number; rejected: number }> {
    let pushed = 0;
    let duplicates = 0;
    let rejected = 0;
    const size = this.options.batchSize ?? 500;
    let after = 0;
    for (;;) {
      await this.giveWay();
      if (this.paused || !syncEnabled(this.db)) break;
      const rows = this.db.all<{ seq: number; op_id: string; tbl: string; row_id: string; patch: string; hlc: string }>(
        'SELECT seq, op_id, tbl, row_id, patch, hlc FROM sync_outbox WHERE rejected_at IS NULL AND seq > ? ORDER BY seq LIMIT ?',
        after,
        size,
      );
      if (rows.length === 0) break;
      after = rows.at(-1)!.seq;
      const ops: SyncOp[] = rows.map((r) => ({ op_id: r.op_id, table: r.tbl, id: r.row_id, hlc: r.hlc, set: JSON.parse(r.patch) as Record<string, unknown> }));
      this.db.transaction(() => {
        for (const r of rows) this.db.run('UPDATE sync_outbox SET attempts = attempts + 1 WHERE seq = ?', r.seq);
      });
      let answer;
      try {
        answer = await this.transport.push(ops);
      } catch (e) {
        const message = (e as Error).message;
        this.db.transaction(() => {
          for (const r of rows) this.db.run('UPDATE sync_outbox SET last_error = ? WHERE seq = ?', message, r.seq);
        });
        throw e;
      }
      const byId = new Map(answer.results.map((r) => [r.op_id, r]));
      this.db.transaction(() => {
        for (const r of rows) {
          const res = byId.get(r.op_id);
          if (!res) continue; // not answered for: stays, sent again next time
          if (res.status === 'rejected') {
            this.db.run('UPDATE sync_outbox SET rejected_at = ?, last_error = ? WHERE seq = ?', this.now, res.reason ?? 'refused by the server', r.seq);
          } else {
            this.db.run('DELETE FROM sync_outbox WHERE seq = ?', r.seq);
          }
        }
      });
      pushed += answer.applied;
      duplicates += answer.duplicate;
      rejected += answer.rejected;
    }
    return { pushed, duplicates, rejected };
  }

  private cursorKey(): string {
    return `sync.cursor:${this.transport.user ?? ''}`;
  }

  private async pullAll(): Promise<Pick<SyncCycle, 'pulled' | 'applied'>> {
    const limit = this.options.pullLimit ?? 500;
    const since = Number(stateValue(this.db, this.cursorKey()) ?? '0');
    // Everything new first, then applied together in dependency order (a project edited after its
    // assets were put in it comes later in the change sequence, yet must exist first).
    const rows: PulledRow[] = [];
    let cursor = since;
    for (;;) {
      await this.giveWay();
      const page = await this.transport.pull(cursor, limit);
      rows.push(...page);
      if (page.length > 0) cursor = page.at(-1)!.seq;
      if (page.length < limit) break;
    }
    if (rows.length === 0) return { pulled: 0, applied: 0 };
    const result = this.db.transaction(() => {
      const r = applyPulled(this.db, rows);
      stateSet(this.db, this.cursorKey(), String(cursor));
      return r;
    });
    if (this.options.libraryRoot && result.filesToRemove.length > 0) {
      await removeFiles(this.options.libraryRoot, result.filesToRemove, absoluteInRoot).catch(() => undefined);
    }
    if (result.problems.length > 0) {
      this.lastError = `${result.problems.length} pulled change(s) could not be applied here; first: ${result.problems[0]!.entity} ${result.problems[0]!.id}: ${result.problems[0]!.message}`;
    }
    return { pulled: rows.length, applied: result.applied };
  }

  /** Sends the refused changes again (after the cause was fixed). */
  retryRejected(): number {
    return this.db.run('UPDATE sync_outbox SET rejected_at = NULL WHERE rejected_at IS NOT NULL').changes;
  }

  /** Runs cycles every intervalMs until stopped; a failed cycle is retried after a growing back-off. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextAttemptAt = null;
    return (this.inFlight ?? Promise.resolve()).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Stops sending and fetching (a transfer in flight stops where it is); the outbox keeps filling. */
  pause(): void {
    this.paused = true;
    this.files?.abort();
  }

  resume(): void {
    this.paused = false;
    this.files?.reset();
    if (this.running) this.schedule(0);
  }

  /** The wait before the next try after `failures` failed cycles in a row (doubling, capped, ±20 % jitter). */
  backoffDelay(failures: number): number {
    if (failures <= 0) return this.options.intervalMs ?? 30_000;
    const base = this.options.backoffMs ?? 1000;
    const max = this.options.maxBackoffMs ?? 300_000;
    const d = Math.min(max, base * 2 ** Math.min(failures - 1, 20));
    return Math.round(d * (0.8 + Math.random() * 0.4));
  }

  private yieldingSince: number | null = null;
  private windowUntil = 0;

  /**
   * A job runs and sync has not waited maxYieldMs for it yet. Once it has, sync gets a window
   * (yieldWindowMs, default 30 s) to run in before it waits again, so a queue of long jobs still
   * syncs now and then.
   */
  private mustYield(): boolean {
    if (!this.options.busy?.()) {
      this.yieldingSince = null;
      return false;
    }
    const t = Date.now();
    if (t < this.windowUntil) return false;
    this.yieldingSince ??= t;
    if (t - this.yieldingSince < (this.options.maxYieldMs ?? 600_000)) return true;
    this.windowUntil = t + (this.options.yieldWindowMs ?? 30_000);
    this.yieldingSince = null;
    return false;
  }

  private schedule(delay: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.nextAttemptAt = this.now + delay;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.running || this.paused) return;
      if (this.mustYield()) {
        this.schedule(1000);
        return;
      }
      this.syncNow({ background: true }).then(
        () => this.schedule(this.backoffDelay(0)),
        (e: unknown) => {
          // Not retryable (signed out, refused): wait for the user, at the longest back-off.
          const retry = !(e instanceof TransportError) || e.retry;
          this.schedule(retry ? this.backoffDelay(this.failuresInRow) : (this.options.maxBackoffMs ?? 300_000));
        },
      );
    }, delay);
    this.timer.unref?.();
  }
}
