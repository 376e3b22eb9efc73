/**
 * The library as one object: the store, queries, organising, trash, import/export, integrity,
 * media access and the background thumbnail queue, over the engine's database. handlers.ts maps
 * the contract's channels onto it; the CLI and the Electron glue use it directly where they need
 * more than a channel (progress callbacks, the media protocol, reveal-in-folder).
 */
import { realpath } from 'node:fs/promises';
import type { Database } from '../db/database.ts';
import type { DataLayout } from '../paths.ts';
import { StudioError } from '../errors.ts';
import type {
  AssetDetail,
  AssetPage,
  AssetView,
  CheckReport,
  EmptyTrashResult,
  ExportResult,
  ImportReport,
  LibraryChange,
  LibraryEvents,
  LibraryProgress,
  LibraryQuery,
  LibraryStats,
  MediaVariant,
  MoveReport,
} from '../../../src-preload/contract/library.ts';
import { BUCKETS } from '../../../src-preload/contract/catalog.ts';
import type { Bucket } from '../../../src-preload/contract/catalog.ts';
import { defaultFfmpegPaths } from './metadata/ffmpeg.ts';
import type { FfmpegPaths, FfmpegSource } from './metadata/ffmpeg.ts';
import { ThumbnailQueue } from './thumbnails.ts';
import { queryPage, samePrompt, sameSeed } from './query.ts';
import { bulkUpdate, moveToProject, tagAssets, untagAssets, updateAsset } from './organise.ts';
import type { AssetPatch } from './organise.ts';
import { emptyTrash, restoreAssets, trashAssets } from './trash.ts';
import { importFolder } from './import.ts';
import { exportAssets } from './export.ts';
import { checkLibrary } from './check.ts';
import { finishPendingMove, moveLibraryRoot, pendingMove } from './move.ts';
import { sweepUncommittedPlacements } from './ingest.ts';
import { removeStaleTempFiles } from '../fs/atomic-write.ts';
import { mediaResponse, resolveMedia } from './media.ts';
import type { ResolvedMedia } from './media.ts';
import { ASSET_COLUMNS, absoluteInRoot, isInside, libraryRootOf, tagsOf, toAssetView } from './store.ts';
import type { AssetRow } from './store.ts';

export type LibraryEmit = <E extends keyof LibraryEvents>(event: E, payload: LibraryEvents[E]) => void;

export interface LibraryDeps {
  readonly db: Database;
  readonly layout: DataLayout;
  /** Pushes `library.changed` / `library.progress` to subscribers (the engine's emit). */
  readonly emit?: LibraryEmit;
  /** Shows a file in the system file manager (Electron's shell.showItemInFolder). */
  readonly reveal?: (path: string) => void | Promise<void>;
  /**
   * The ffmpeg and ffprobe that read videos and make their poster frames: fixed paths, or a lookup
   * asked each time a video is read (the engine's: the ffmpeg set in Settings → Video, following
   * changes). Absent, or a lookup answering null: STUDIO_FFMPEG/STUDIO_FFPROBE, else PATH.
   */
  readonly ffmpeg?: FfmpegPaths | (() => Promise<FfmpegPaths | null>);
  /** Background thumbnail workers (default 2). */
  readonly thumbnailConcurrency?: number;
}

/** At most this many ids travel in one `library.changed`; more means "refresh everything". */
const CHANGE_ID_LIMIT = 500;

export class Library {
  readonly db: Database;
  readonly layout: DataLayout;
  private readonly deps: LibraryDeps;
  private thumbs: ThumbnailQueue;
  private readonly ffmpeg: FfmpegSource;
  private started = false;

  constructor(deps: LibraryDeps) {
    this.deps = deps;
    this.db = deps.db;
    this.layout = deps.layout;
    this.ffmpeg = deps.ffmpeg ?? defaultFfmpegPaths();
    this.thumbs = this.makeThumbnailQueue();
  }

  /** The background thumbnail queue (replaced after a root move). */
  get thumbnails(): ThumbnailQueue {
    return this.thumbs;
  }

  private makeThumbnailQueue(): ThumbnailQueue {
    return new ThumbnailQueue({
      db: this.db,
      root: () => this.root,
      concurrency: this.deps.thumbnailConcurrency,
      ffmpeg: this.ffmpeg,
      onDone: (id, error) => {
        if (error === null) this.changed('thumbnail', [id]);
      },
    });
  }

  /** Where the files are now (`<data>/library` unless the user moved it). */
  get root(): string {
    return libraryRootOf(this.db, this.layout);
  }

  /** For the runner: finish an interrupted root move, then thumbnail whatever still needs one. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    try {
      if (await finishPendingMove(this.db)) this.changed('moved', null);
    } catch {
      // Reported by stats (pendingMove) and retried by the next move or open.
    }
    // Outputs a killed runner had moved in without their rows: gone, so no file lacks its row.
    await sweepUncommittedPlacements(this.db, this.root).catch(() => 0);
    this.thumbnails.scan();
    // Half-written files of a killed runner (a thumbnail mid-write): their writer is dead, so they go.
    await removeStaleTempFiles(this.root, { recursive: true }).catch(() => []);
  }

  async close(): Promise<void> {
    await this.thumbnails.close();
  }

  /** Tells subscribers the library changed (for changes made outside these methods, e.g. projects). */
  notify(reason: LibraryChange['reason'], ids: readonly string[] | null): void {
    this.changed(reason, ids);
  }

  private changed(reason: LibraryChange['reason'], ids: readonly string[] | null): void {
    this.deps.emit?.('library.changed', { reason, ids: ids && ids.length <= CHANGE_ID_LIMIT ? ids : null });
  }

  private progress(p: LibraryProgress): void {
    this.deps.emit?.('library.progress', p);
  }

  query(q: LibraryQuery): AssetPage {
    return queryPage(this.db, q);
  }

  get(id: string): AssetDetail | null {
    const row = this.db.get<AssetRow & { recipe: string; timings: string }>(`SELECT ${ASSET_COLUMNS}, recipe, timings FROM assets WHERE id = ?`, id);
    if (!row) return null;
    const parse = <T>(text: string, fallback: T): T => {
      try {
        return JSON.parse(text) as T;
      } catch {
        return fallback;
      }
    };
    const duplicates = this.db
      .all<{ id: string }>('SELECT id FROM assets WHERE sha256 = ? AND id != ? ORDER BY seq', row.sha256, id)
      .map((r) => r.id);
    return {
      ...toAssetView(row, tagsOf(this.db, [id]).get(id) ?? []),
      recipe: parse<Record<string, unknown>>(row.recipe, {}),
      timings: parse<Record<string, number>>(row.timings, {}),
      duplicates,
      thumbError: row.thumb_error,
      originalInCloud: this.db.get<{ x: number }>('SELECT 1 AS x FROM sync_remote_files WHERE asset_id = ?', id) !== undefined,
    };
  }

  update(id: string, patch: AssetPatch): AssetView {
    const view = updateAsset(this.db, id, patch);
    this.changed('updated', [id]);
    return view;
  }

  bulkUpdate(ids: readonly string[], patch: Omit<AssetPatch, 'title'>): number {
    const n = bulkUpdate(this.db, ids, patch);
    this.changed('updated', ids);
    return n;
  }

  tag(ids: readonly string[], tags: readonly string[]): number {
    const n = tagAssets(this.db, ids, tags);
    this.changed('tags', ids);
    return n;
  }

  untag(ids: readonly string[], tags: readonly string[]): number {
    const n = untagAssets(this.db, ids, tags);
    this.changed('tags', ids);
    return n;
  }

  moveToProject(ids: readonly string[], projectId: string | null): number {
    const n = moveToProject(this.db, ids, projectId);
    this.changed('projects', ids);
    return n;
  }

  trash(ids: readonly string[]): number {
    const done = trashAssets(this.db, ids);
    this.changed('trashed', done);
    return done.length;
  }

  restore(ids: readonly string[]): number {
    const done = restoreAssets(this.db, ids);
    this.changed('restored', done);
    return done.length;
  }

  async emptyTrash(ids?: readonly string[]): Promise<EmptyTrashResult> {
    const result = await emptyTrash(this.db, this.root, {
      ids,
      onProgress: (done, total) => this.progress({ task: 'emptyTrash', done, total, current: null }),
    });
    this.changed('deleted', ids ?? null);
    return result;
  }

  sameSeed(id: string, limit?: number): AssetView[] {
    return sameSeed(this.db, id, limit);
  }

  samePrompt(id: string, limit?: number): AssetView[] {
    return samePrompt(this.db, id, limit);
  }

  async import(dir: string, options: { recursive?: boolean; signal?: AbortSignal; onProgress?: (p: LibraryProgress) => void } = {}): Promise<ImportReport> {
    const report = await importFolder(this.db, this.root, dir, {
      recursive: options.recursive,
      signal: options.signal,
      ffmpeg: this.ffmpeg,
      onImported: (ids) => this.thumbnails.enqueue(ids),
      onProgress: (p) => {
        const event: LibraryProgress = { task: 'import', done: p.done, total: p.total, current: p.current };
        options.onProgress?.(event);
        this.progress(event);
      },
    });
    if (report.imported.length > 0) this.changed('added', report.imported.map((i) => i.id));
    return report;
  }

  /** `options`: a boolean is `sidecar` (the original form). */
  async export(ids: readonly string[], dir: string, options: boolean | { readonly sidecar?: boolean; readonly stripMetadata?: boolean } = {}): Promise<ExportResult> {
    const { sidecar = false, stripMetadata = false } = typeof options === 'boolean' ? { sidecar: options } : options;
    return exportAssets(this.db, this.root, ids, dir, {
      sidecar,
      stripMetadata,
      ffmpeg: this.ffmpeg,
      onProgress: (done, total, current) => this.progress({ task: 'export', done, total, current }),
    });
  }

  async check(repair = false, onProgress?: (p: LibraryProgress) => void): Promise<CheckReport> {
    const report = await checkLibrary(this.db, this.root, {
      repair,
      ffmpeg: this.ffmpeg,
      requeueThumbnails: (ids) => this.thumbnails.enqueue(ids),
      onProgress: (done, total, current) => {
        const event: LibraryProgress = { task: 'check', done, total, current };
        onProgress?.(event);
        this.progress(event);
      },
    });
    if (repair) {
      this.thumbnails.scan();
      if (report.findings.some((f) => f.action !== 'reported' && f.action !== 'left-in-place')) this.changed('repaired', null);
    }
    return report;
  }

  async moveRoot(to: string, options: { signal?: AbortSignal; onProgress?: (p: LibraryProgress) => void } = {}): Promise<MoveReport> {
    await this.thumbnails.close().catch(() => undefined);
    try {
      const report = await moveLibraryRoot(this.db, this.layout, to, {
        signal: options.signal,
        onProgress: (p) => {
          const event: LibraryProgress = { task: 'move', done: p.done, total: p.total, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, current: p.current };
          options.onProgress?.(event);
          this.progress(event);
        },
      });
      this.changed('moved', null);
      return report;
    } finally {
      // The queue stopped so nothing wrote into the old root mid-copy; a fresh one follows the new root.
      this.thumbs = this.makeThumbnailQueue();
      if (this.started) this.thumbs.scan();
    }
  }

  stats(): LibraryStats {
    // One pass over the table for every total, then the duplicates from the sha256 index.
    const groups = this.db.all<{ bucket: string; live: number; n: number; bytes: number; images: number; favorites: number; pending: number }>(
      `SELECT bucket, trashed_at IS NULL AS live, count(*) AS n, coalesce(sum(file_size), 0) AS bytes,
              coalesce(sum(kind = 'image'), 0) AS images, coalesce(sum(favorite), 0) AS favorites,
              coalesce(sum(thumb_path IS NULL AND thumb_error IS NULL), 0) AS pending
       FROM assets GROUP BY bucket, live`,
    );
    const live = groups.filter((g) => g.live === 1);
    const trash = groups.filter((g) => g.live === 0);
    const sum = (list: typeof groups, key: 'n' | 'bytes' | 'images' | 'favorites' | 'pending'): number => list.reduce((s, g) => s + g[key], 0);
    const byBucket = new Map<string, { n: number; bytes: number }>();
    for (const g of groups) {
      const b = byBucket.get(g.bucket) ?? { n: 0, bytes: 0 };
      byBucket.set(g.bucket, { n: b.n + g.n, bytes: b.bytes + g.bytes });
    }
    const duplicates = this.db.get<{ n: number }>('SELECT count(*) - count(DISTINCT sha256) AS n FROM assets')?.n ?? 0;
    const plan = pendingMove(this.db);
    return {
      root: this.root,
      assets: sum(live, 'n'),
      images: sum(live, 'images'),
      videos: sum(live, 'n') - sum(live, 'images'),
      favorites: sum(live, 'favorites'),
      trashed: sum(trash, 'n'),
      trashedBytes: sum(trash, 'bytes'),
      totalBytes: sum(groups, 'bytes'),
      thumbnailsPending: sum(live, 'pending'),
      duplicates,
      buckets: (BUCKETS as readonly Bucket[]).map((bucket) => ({ bucket, count: byBucket.get(bucket)?.n ?? 0, bytes: byBucket.get(bucket)?.bytes ?? 0 })),
      pendingMove: plan ? { from: plan.from, to: plan.to, phase: plan.phase } : null,
    };
  }

  /** A known asset's file or thumbnail, checked to lie inside the library; null otherwise. */
  async resolveMedia(id: string, variant: MediaVariant): Promise<ResolvedMedia | null> {
    const media = await resolveMedia(this.db, this.root, id, variant);
    if (!media && variant === 'thumb') this.thumbnails.enqueue([id]);
    return media;
  }

  /** Serves a `studio-media://asset/<id>/<variant>` (or serve's `/studio-media/…`) request. */
  mediaResponse(request: Request): Promise<Response> {
    return mediaResponse(this.db, this.root, request);
  }

  /** The real path of an asset's file, for reveal-in-folder; never handed to the renderer. */
  async revealPath(id: string): Promise<string> {
    const row = this.db.get<{ file_path: string }>('SELECT file_path FROM assets WHERE id = ?', id);
    if (!row) throw new StudioError('not_found', `no asset with id ${id}; it may have been deleted`);
    const abs = absoluteInRoot(this.root, row.file_path);
    const real = abs ? await realpath(abs).catch(() => null) : null;
    const realRoot = await realpath(this.root).catch(() => this.root);
    if (!real || !isInside(realRoot, real)) {
      throw new StudioError('not_found', `the file of ${id} is missing from the library; run \`studio library check\``);
    }
    return real;
  }

  async reveal(id: string): Promise<boolean> {
    const path = await this.revealPath(id);
    if (!this.deps.reveal) return false;
    await this.deps.reveal(path);
    return true;
  }
}
