/**
 * The files of the cloud mirror: each mirrored asset's original and a PNG thumbnail go to the
 * asset's bucket in the user's Supabase Storage; assets made on other desktops bring their
 * thumbnail down at once and their original when opened (or always, when the user asks for that).
 *
 * Paths are by content: `<user id>/<sha256>.<png|mp4>` and `<user id>/thumbs/<sha256>.png`. An
 * object is never overwritten (`x-upsert: false`); "already exists" is success once its size
 * matches, so a retried or repeated upload costs one request. The row's `storage_path` and
 * `thumbnail_path` are set (clocked fields, through the outbox) only after the object is there.
 *
 * Originals go up with tus (resumable uploads, Supabase's /storage/v1/upload/resumable) in 6 MB
 * chunks — the chunk size Supabase requires — with the upload URL saved in `sync_files` as soon as
 * the server gives it, so a dropped network, a pause or a killed app goes on from the server's
 * offset instead of from zero. Every request carries a fresh access token (an hour-long upload
 * outlives a token). Thumbnails (a few kB) go in one request.
 *
 * Limits: a file over its bucket's size limit (the seed's: 5 MB sdxl_image_fast … 200 MB
 * video_high), over the project's global limit (50 MB on the free plan, set in Settings), or a
 * video over the user's "thumbnail only" size stays on this computer with the reason shown; the
 * server's own refusal (413, a MIME type) is kept the same way. Downloads are checked against the
 * asset's sha256 before they take the original's place.
 *
 * One transfer at a time, thumbnails first (they are what another desktop shows), at the user's
 * speed limit if one is set. Everything is resumable from `sync_files`: a crash loses at most the
 * chunk in flight.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import sharp from 'sharp';
import { Upload, defaultOptions as tusDefaults } from 'tus-js-client';
import type { CloudFilesStatus, CloudTransfer, MirrorSettings } from '../../../src-preload/contract/sync.ts';
import type { Database } from '../db/database.ts';
import { StudioError } from '../errors.ts';
import { absoluteInRoot, relativeThumbPath } from '../library/store.ts';
import { recordCloudFields, stateSet, stateValue } from './outbox.ts';
import { TransportError } from './transport.ts';
import type { FileTransport } from './transport.ts';

/** The seed's buckets and their size limits (supabase/migrations/20261206060000_ourvidz_sync.sql). */
export const BUCKET_LIMITS: Readonly<Record<string, number>> = {
  sdxl_image_fast: 5 * 1024 ** 2,
  sdxl_image_high: 10 * 1024 ** 2,
  image_fast: 5 * 1024 ** 2,
  image_high: 10 * 1024 ** 2,
  video_fast: 50 * 1024 ** 2,
  video_high: 200 * 1024 ** 2,
  image7b_fast_enhanced: 20 * 1024 ** 2,
  image7b_high_enhanced: 20 * 1024 ** 2,
  video7b_fast_enhanced: 100 * 1024 ** 2,
  video7b_high_enhanced: 100 * 1024 ** 2,
};

/** Supabase's resumable uploads take 6 MB chunks (docs: Storage → Resumable uploads). */
export const TUS_CHUNK = 6 * 1024 * 1024;

const KEY_MIRROR = 'sync.mirror';

export const DEFAULT_MIRROR: MirrorSettings = {
  scope: 'all',
  projectIds: [],
  videoThumbOnlyOverBytes: null,
  downloadOriginals: false,
  bandwidthLimit: null,
  projectFileLimit: 50 * 1024 * 1024,
};

export function mirrorSettings(db: Database): MirrorSettings {
  const raw = stateValue(db, KEY_MIRROR);
  if (!raw) return DEFAULT_MIRROR;
  try {
    return { ...DEFAULT_MIRROR, ...(JSON.parse(raw) as Partial<MirrorSettings>) };
  } catch {
    return DEFAULT_MIRROR;
  }
}

/**
 * Changes what is mirrored. Uploads not started yet and files kept local are planned again under
 * the new choice (a bigger limit sends what it held back; a narrower scope stops what no longer
 * matches); what is in the cloud stays there.
 */
export function setMirrorSettings(db: Database, patch: Partial<MirrorSettings>): MirrorSettings {
  const next: MirrorSettings = { ...mirrorSettings(db), ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
  db.transaction(() => {
    stateSet(db, KEY_MIRROR, JSON.stringify(next));
    db.run(`DELETE FROM sync_files WHERE dir = 'up' AND (state = 'local_only' OR (state = 'waiting' AND upload_url IS NULL))`);
    // Every asset is looked at again under the new choice (one pass; the planner reads only these).
    db.run('INSERT OR IGNORE INTO sync_files_dirty (asset_id) SELECT id FROM assets WHERE purge_started_at IS NULL');
  });
  return next;
}

const MB = 1024 * 1024;
const mb = (n: number) => `${(n / MB).toFixed(n < 10 * MB ? 1 : 0)} MB`;

interface AssetRow {
  id: string;
  kind: string;
  bucket: string;
  mime: string;
  file_path: string;
  thumb_path: string | null;
  file_size: number;
  sha256: string;
  fields: string;
}

interface FileRow {
  asset_id: string;
  part: 'original' | 'thumbnail';
  dir: 'up' | 'down' | 'delete';
  bucket: string;
  path: string;
  size: number;
  state: string;
  upload_url: string | null;
  attempts: number;
}

export interface FileRunResult {
  uploaded: number;
  downloaded: number;
  deleted: number;
}

export interface FileSyncOptions {
  readonly db: Database;
  /** The library root (originals and thumbnails are relative to it). */
  readonly root: string;
  readonly transport: FileTransport;
  /** Something a person would see changed (progress, a file done): the status is sent again. */
  readonly onChange?: () => void;
  /** tus's own retries within one upload (a cut connection resumes at once); ms between tries. */
  readonly retryDelays?: readonly number[];
  readonly chunkSize?: number;
  /** A generation job wants the machine: background transfers wait between chunks (see SyncEngine's busy). */
  readonly yieldTo?: () => boolean;
}

/** Bytes over time, for the speed shown beside a transfer. */
class Speed {
  private samples: { t: number; bytes: number }[] = [];
  add(bytes: number): void {
    const t = Date.now();
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[0]!.t > 3000) this.samples.shift();
  }
  get bytesPerSecond(): number {
    if (this.samples.length < 2) return 0;
    const a = this.samples[0]!;
    const b = this.samples.at(-1)!;
    return b.t > a.t ? Math.round(((b.bytes - a.bytes) * 1000) / (b.t - a.t)) : 0;
  }
}

/** Paces a transfer to the speed limit: before sending byte `sent`, wait until it is due. */
async function pace(limit: number | null, startedAt: number, sent: number): Promise<void> {
  if (!limit) return;
  const due = startedAt + (sent * 1000) / limit;
  const wait = due - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

/**
 * tus reads each chunk from the file as a stream; under a speed limit that stream is paced as it goes
 * (every 64 kB read waits until it is due), so the limit holds within a 6 MB chunk and the speed shown
 * is the speed sent, not a burst and a pause.
 */
function pacedFileReader(limit: number | null): NonNullable<ConstructorParameters<typeof Upload>[1]['fileReader']> {
  const base = tusDefaults.fileReader;
  return {
    async openFile(input: unknown, chunkSize: number) {
      const source = await base.openFile(input, chunkSize);
      if (!limit) return source;
      const startedAt = Date.now();
      let sent = 0;
      return {
        size: source.size,
        close: () => source.close(),
        async slice(start: number, end: number) {
          const r = await source.slice(start, end);
          if (!(r.value instanceof Readable)) return r;
          const paced = new Transform({
            transform(chunk: Buffer, _enc, done) {
              sent += chunk.length;
              void pace(limit, startedAt, sent).then(() => done(null, chunk));
            },
          });
          const raw = r.value;
          paced.on('close', () => raw.destroy()); // a cut or aborted request leaves no file open
          // tus's Node stack sends Content-Length from the stream's `size` (its file source sets it).
          return { ...r, value: Object.assign(raw.pipe(paced), { size: (raw as Readable & { size?: number }).size }) };
        },
      };
    },
  };
}

/**
 * The thumbnail the cloud gets: the library's 320 px WebP as a palette PNG (the buckets take PNG;
 * libimagequant at its fastest, dithered): about 50 kB where a full-colour PNG of the same picture
 * is about 260 kB, which counts on a 1 GB free plan and on a slow upstream.
 */
export function cloudThumbnail(file: string): Promise<Buffer> {
  return sharp(file, { limitInputPixels: 4096 * 4096 }).png({ palette: true, quality: 90, effort: 1 }).toBuffer();
}

const THUMBS_AHEAD = Math.min(4, Math.max(1, availableParallelism() - 1));

class Aborted extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FileSync {
  private readonly db: Database;
  private readonly o: FileSyncOptions;
  private current: CloudTransfer | null = null;
  private readonly lanes = new Map<'original' | 'thumbnail', { assetId: string; name: string; speed: Speed; transfer: CloudTransfer | null }>();
  private lastNotice = 0;
  private aborted = false;
  private active: Upload | null = null;
  /** Settles the upload in flight when it is aborted (tus calls neither onSuccess nor onError then). */
  private abortActive: (() => void) | null = null;
  private activeDownload: AbortController | null = null;
  private readonly downloading = new Map<string, Promise<boolean>>();
  /** Thumbnails converted ahead of their upload (convertAhead). */
  private readonly pngAhead = new Map<string, Promise<Buffer>>();
  /** The user asked for this transfer (an original opened): it does not wait for jobs. */
  private urgent = 0;

  constructor(options: FileSyncOptions) {
    this.db = options.db;
    this.o = options;
  }

  get transfer(): CloudTransfer | null {
    return this.current;
  }

  /** Stops the transfer in flight (pause, sign-out, sync off): a started upload goes on later from its offset. */
  abort(): void {
    this.aborted = true;
    void this.active?.abort(false).catch(() => undefined);
    this.abortActive?.();
    this.activeDownload?.abort();
  }

  /** Allows transfers again after abort(). */
  reset(): void {
    this.aborted = false;
  }

  /**
   * The next thumbnails' PNGs are made while this one goes up (sharp works in libuv's pool), so the
   * conversion hides behind the network instead of adding to it: as many ahead as there are spare cores.
   */
  private convertAhead(current: FileRow): void {
    const next = this.db.all<{ asset_id: string; thumb_path: string | null }>(
      `SELECT f.asset_id, a.thumb_path FROM sync_files f JOIN assets a ON a.id = f.asset_id
       WHERE f.dir = 'up' AND f.part = 'thumbnail' AND f.state = 'waiting' AND f.asset_id != ?
       ORDER BY f.updated_at, f.asset_id LIMIT ?`,
      current.asset_id,
      THUMBS_AHEAD,
    );
    for (const n of next) {
      if (this.pngAhead.has(n.asset_id) || !n.thumb_path) continue;
      const abs = absoluteInRoot(this.o.root, n.thumb_path);
      if (!abs) continue;
      const p = cloudThumbnail(abs);
      p.catch(() => undefined); // a failure is met again, and reported, when its turn comes
      this.pngAhead.set(n.asset_id, p);
    }
  }

  /** Waits while a job runs (background transfers only). */
  private async yieldToJobs(): Promise<void> {
    while (this.urgent === 0 && !this.aborted && this.o.yieldTo?.()) await sleep(250);
    if (this.aborted) throw new Aborted();
  }

  /** Files that failed go again on the next run. */
  retryFailed(): number {
    return this.db.run(`UPDATE sync_files SET state = 'waiting', reason = NULL WHERE state = 'failed'`).changes;
  }

  /**
   * Plans what is new, then moves every waiting file: thumbnails up, originals up, cloud copies of
   * assets deleted for good removed, thumbnails and wanted originals down. Throws a TransportError
   * when the network or the server stops it (the engine backs off); per-file refusals are kept on
   * their rows with the reason.
   */
  async run(options: { background?: boolean } = {}): Promise<FileRunResult> {
    const result: FileRunResult = { uploaded: 0, downloaded: 0, deleted: 0 };
    if (this.aborted) return result;
    // Only the background loop gives way to jobs; a sync the user asked for goes at once.
    const urgent = options.background ? 0 : 1;
    this.urgent += urgent;
    try {
      const { userId } = await this.o.transport.session();
      await this.plan(userId);
      // Two lanes at once: thumbnails (small, made from the library's WebP: CPU) and originals (big:
      // the network), so neither waits behind the other and a thumbnail never queues behind a video.
      let stop = false;
      const lane = async (part: 'original' | 'thumbnail') => {
        try {
          for (;;) {
            if (this.aborted || stop) break;
            const row = this.db.get<FileRow>(
              `SELECT * FROM sync_files WHERE dir = 'up' AND state = 'waiting' AND part = ? ORDER BY updated_at, asset_id LIMIT 1`,
              part,
            );
            if (!row) break;
            await this.yieldToJobs();
            if (part === 'thumbnail') this.convertAhead(row);
            if (await this.upload(row)) result.uploaded++;
          }
        } catch (e) {
          stop = true;
          throw e;
        } finally {
          this.laneIdle(part);
        }
      };
      const lanes = await Promise.allSettled([lane('thumbnail'), lane('original')]);
      this.pngAhead.clear();
      const failed = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
      if (failed) throw failed.reason;
      for (const row of this.db.all<FileRow>(`SELECT * FROM sync_files WHERE dir = 'delete' AND state = 'waiting' ORDER BY updated_at`)) {
        if (this.aborted) break;
        if (await this.remove(row)) result.deleted++;
      }
      for (;;) {
        if (this.aborted) break;
        const row = this.db.get<FileRow>(
          `SELECT * FROM sync_files WHERE dir = 'down' AND state = 'waiting' ORDER BY part = 'original', updated_at, asset_id LIMIT 1`,
        );
        if (!row) break;
        if (await this.download(row)) result.downloaded++;
      }
    } catch (e) {
      if (e instanceof Aborted) return result;
      throw e;
    } finally {
      this.urgent -= urgent;
      this.lanes.clear();
      this.setTransfer(null);
    }
    return result;
  }

  /** Brings one asset's original down now (the viewer opened it). */
  async fetchOriginal(assetId: string): Promise<void> {
    const asset = this.db.get<{ bucket: string; fields: string | null; remote: number | null }>(
      `SELECT a.bucket, s.fields, r.asset_id IS NOT NULL AS remote FROM assets a
       LEFT JOIN sync_rows s ON s.row_id = a.id AND s.tbl IN ('images', 'videos')
       LEFT JOIN sync_remote_files r ON r.asset_id = a.id WHERE a.id = ?`,
      assetId,
    );
    if (!asset) throw new StudioError('not_found', 'no such asset in the library: it may have been deleted on another desktop');
    if (!asset.remote) return; // already here
    const path = (JSON.parse(asset.fields ?? '{}') as { storage_path?: unknown }).storage_path;
    if (typeof path !== 'string') {
      throw new StudioError(
        'not_in_cloud',
        'the original of this asset is not in the cloud: it stays on the desktop that made it (over a size limit, or not mirrored there). Thumbnails and settings are here.',
      );
    }
    this.db.run(
      `INSERT INTO sync_files (asset_id, part, dir, bucket, path, state, updated_at) VALUES (?, 'original', 'down', ?, ?, 'waiting', 0)
       ON CONFLICT (asset_id, part, dir) DO UPDATE SET state = 'waiting', reason = NULL, updated_at = 0`,
      assetId,
      asset.bucket,
      path,
    );
    const row = this.db.get<FileRow>(`SELECT * FROM sync_files WHERE asset_id = ? AND part = 'original' AND dir = 'down'`, assetId)!;
    this.aborted = false;
    this.urgent++;
    try {
      if (!(await this.download(row))) {
        const r = this.db.get<{ reason: string | null }>(`SELECT reason FROM sync_files WHERE asset_id = ? AND part = 'original' AND dir = 'down'`, assetId);
        throw new StudioError('download_failed', r?.reason ?? 'the original could not be brought down from the cloud');
      }
    } finally {
      this.urgent--;
      this.lanes.delete('original');
      this.setTransfer(this.lanes.get('thumbnail')?.transfer ?? null);
    }
  }

  status(): CloudFilesStatus {
    return filesStatus(this.db, this.current);
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * New rows for what should move, for the assets marked dirty (made, changed, thumbnailed, pulled,
   * or all of them after a new mirror choice): this desktop's to send, other desktops' to fetch.
   * Only those are read, so a cycle over a large library costs what changed, not its size.
   */
  private async plan(userId: string): Promise<void> {
    const settings = mirrorSettings(this.db);
    const projects = new Set(settings.projectIds);
    for (;;) {
      // One batch per turn of the event loop: the app stays responsive while a big library is planned.
      await new Promise((r) => setImmediate(r));
      const batch = this.db.all<{ asset_id: string }>('SELECT asset_id FROM sync_files_dirty LIMIT 500');
      if (batch.length === 0) break;
      const t = Date.now();
      this.db.transaction(() => {
        for (const { asset_id: id } of batch) {
          this.db.run('DELETE FROM sync_files_dirty WHERE asset_id = ?', id);
          const a = this.db.get<AssetRow & { favorite: number; project_id: string | null; trashed_at: number | null; purge_started_at: number | null; remote: number }>(
            `SELECT a.id, a.kind, a.bucket, a.mime, a.file_path, a.thumb_path, a.file_size, a.sha256, a.favorite, a.project_id,
                    a.trashed_at, a.purge_started_at, s.fields, EXISTS (SELECT 1 FROM sync_remote_files r WHERE r.asset_id = a.id) AS remote
             FROM assets a JOIN sync_rows s ON s.tbl = (CASE a.kind WHEN 'video' THEN 'videos' ELSE 'images' END) AND s.row_id = a.id
             WHERE a.id = ?`,
            id,
          );
          if (!a || a.purge_started_at !== null) continue;
          const fields = JSON.parse(a.fields) as Record<string, unknown>;
          if (a.remote) this.planDown(a, fields, settings, t);
          else if (a.trashed_at === null && (settings.scope === 'all' || (settings.scope === 'favorites' ? a.favorite === 1 : a.project_id !== null && projects.has(a.project_id)))) {
            this.planUp(a, fields, settings, userId, t);
          }
        }
      });
    }
  }

  private planUp(a: AssetRow, fields: Record<string, unknown>, settings: MirrorSettings, userId: string, t: number): void {
    const insert = (part: 'original' | 'thumbnail', path: string, size: number, state: string, reason: string | null) =>
      this.db.run(
        `INSERT OR IGNORE INTO sync_files (asset_id, part, dir, bucket, path, size, state, reason, updated_at) VALUES (?, ?, 'up', ?, ?, ?, ?, ?, ?)`,
        a.id,
        part,
        a.bucket,
        path,
        size,
        state,
        reason,
        t,
      );
    const whyLocal = this.localReason(a, settings);
    const original = `${userId}/${a.sha256}.${a.kind === 'video' ? 'mp4' : 'png'}`;
    if (typeof fields.storage_path === 'string') insert('original', fields.storage_path, a.file_size, 'done', null);
    else if (whyLocal) insert('original', original, a.file_size, 'local_only', whyLocal);
    else insert('original', original, a.file_size, 'waiting', null);
    if (a.thumb_path) {
      const thumb = `${userId}/thumbs/${a.sha256}.png`;
      if (typeof fields.thumbnail_path === 'string') insert('thumbnail', fields.thumbnail_path, 0, 'done', null);
      else if (BUCKET_LIMITS[a.bucket] === undefined) insert('thumbnail', thumb, 0, 'local_only', whyLocal);
      else insert('thumbnail', thumb, 0, 'waiting', null);
    }
  }

  /** From other desktops: the thumbnail always, the original when the user mirrors everything here. */
  private planDown(a: AssetRow, fields: Record<string, unknown>, settings: MirrorSettings, t: number): void {
    if (typeof fields.thumbnail_path === 'string' && a.thumb_path === null) {
      this.db.run(
        `INSERT OR IGNORE INTO sync_files (asset_id, part, dir, bucket, path, state, updated_at) VALUES (?, 'thumbnail', 'down', ?, ?, 'waiting', ?)`,
        a.id,
        a.bucket,
        fields.thumbnail_path,
        t,
      );
    }
    if (typeof fields.storage_path === 'string' && settings.downloadOriginals) {
      this.db.run(
        `INSERT OR IGNORE INTO sync_files (asset_id, part, dir, bucket, path, size, state, updated_at) VALUES (?, 'original', 'down', ?, ?, ?, 'waiting', ?)`,
        a.id,
        a.bucket,
        fields.storage_path,
        a.file_size,
        t,
      );
    }
  }

  /** Why an asset's original stays on this computer, or null when it goes up. */
  private localReason(a: AssetRow, s: MirrorSettings): string | null {
    const limit = BUCKET_LIMITS[a.bucket];
    if (limit === undefined) {
      return `files in "${a.bucket}" stay on this computer: the cloud's buckets hold the studio's own PNG and MP4 outputs (sdxl_image_*, image_*, video_*, *7b_*_enhanced)`;
    }
    const wantMime = a.kind === 'video' ? 'video/mp4' : 'image/png';
    if (a.mime !== wantMime) return `${a.mime} stays on this computer: the ${a.bucket} bucket takes ${wantMime} only`;
    if (a.kind === 'video' && s.videoThumbOnlyOverBytes !== null && a.file_size > s.videoThumbOnlyOverBytes) {
      return `videos over ${mb(s.videoThumbOnlyOverBytes)} mirror their thumbnail only (Settings → Cloud → What is mirrored); this one is ${mb(a.file_size)}`;
    }
    if (a.file_size > limit) return `${mb(a.file_size)} is over the ${a.bucket} bucket's ${mb(limit)} limit: the original stays on this computer`;
    if (a.file_size > s.projectFileLimit) {
      return `${mb(a.file_size)} is over the project's ${mb(s.projectFileLimit)} file limit (Supabase → Storage → Settings; 50 MB on the free plan): the original stays on this computer`;
    }
    return null;
  }

  private assetName(assetId: string): string {
    const r = this.db.get<{ file_path: string; title: string | null }>('SELECT file_path, title FROM assets WHERE id = ?', assetId);
    return r?.title || r?.file_path.split('/').at(-1) || assetId;
  }

  private setTransfer(t: CloudTransfer | null, force = false): void {
    this.current = t;
    const now = Date.now();
    if (force || t === null || now - this.lastNotice > 250) {
      this.lastNotice = now;
      this.o.onChange?.();
    }
  }

  /**
   * A transfer's progress. Originals and thumbnails move in two lanes at once; the one shown is the
   * original's while one moves (the long one a person waits for), each with its own speed.
   */
  private progress(row: FileRow, direction: 'up' | 'down', bytes: number, total: number): void {
    let lane = this.lanes.get(row.part);
    if (!lane || lane.assetId !== row.asset_id) {
      lane = { assetId: row.asset_id, name: this.assetName(row.asset_id), speed: new Speed(), transfer: null };
      this.lanes.set(row.part, lane);
    }
    lane.speed.add(bytes);
    lane.transfer = { assetId: row.asset_id, name: lane.name, direction, part: row.part, bytes, total, bytesPerSecond: lane.speed.bytesPerSecond };
    this.setTransfer(this.lanes.get('original')?.transfer ?? lane.transfer);
  }

  /** A lane has nothing moving now. */
  private laneIdle(part: 'original' | 'thumbnail'): void {
    this.lanes.delete(part);
    const other = this.lanes.get(part === 'original' ? 'thumbnail' : 'original');
    this.setTransfer(other?.transfer ?? null, true);
  }

  private mark(row: FileRow, state: 'done' | 'failed' | 'local_only' | 'waiting', reason: string | null, extra: () => void = () => undefined): void {
    this.db.transaction(() => {
      this.db.run(
        'UPDATE sync_files SET state = ?, reason = ?, attempts = attempts + ?, updated_at = ? WHERE asset_id = ? AND part = ? AND dir = ?',
        state,
        reason,
        state === 'failed' ? 1 : 0,
        Date.now(),
        row.asset_id,
        row.part,
        row.dir,
      );
      extra();
    });
  }

  /** The cloud row of an asset (images or videos) this desktop knows. */
  private table(assetId: string): 'images' | 'videos' | null {
    return (this.db.get<{ tbl: 'images' | 'videos' }>(`SELECT tbl FROM sync_rows WHERE row_id = ? AND tbl IN ('images', 'videos')`, assetId)?.tbl ?? null);
  }

  private uploaded(row: FileRow): void {
    const tbl = this.table(row.asset_id);
    this.mark(row, 'done', null, () => {
      if (tbl) recordCloudFields(this.db, tbl, row.asset_id, { [row.part === 'original' ? 'storage_path' : 'thumbnail_path']: row.path });
    });
  }

  private async upload(row: FileRow): Promise<boolean> {
    const asset = this.db.get<{ file_path: string; thumb_path: string | null; file_size: number; mime: string }>(
      'SELECT file_path, thumb_path, file_size, mime FROM assets WHERE id = ?',
      row.asset_id,
    );
    if (!asset) {
      this.db.run('DELETE FROM sync_files WHERE asset_id = ? AND dir = ?', row.asset_id, 'up');
      return false;
    }
    const rel = row.part === 'original' ? asset.file_path : asset.thumb_path;
    const abs = rel ? absoluteInRoot(this.o.root, rel) : null;
    if (!abs) {
      this.mark(row, 'failed', `the ${row.part} is not in the library folder (its path is not valid): run Library → Check`);
      return false;
    }
    try {
      if (row.part === 'thumbnail') {
        const ahead = this.pngAhead.get(row.asset_id);
        this.pngAhead.delete(row.asset_id);
        const png = await (ahead ?? cloudThumbnail(abs));
        await this.putSmall(row, png, 'image/png');
      } else {
        const size = (await stat(abs)).size;
        if (size !== asset.file_size) {
          this.mark(row, 'failed', `the original changed on disk (${String(size)} bytes, the library says ${String(asset.file_size)}): run Library → Check, then retry`);
          return false;
        }
        await this.tus(row, abs, size, asset.mime);
      }
    } catch (e) {
      return this.uploadFailed(row, e);
    }
    this.uploaded(row);
    return true;
  }

  /** What a failed upload means: network trouble stops the run (retried later), a refusal is kept on the row. */
  private async uploadFailed(row: FileRow, e: unknown): Promise<boolean> {
    if (e instanceof Aborted || this.aborted) throw new Aborted();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      this.mark(row, 'failed', `the ${row.part} is missing from the library folder: run Library → Check, then retry`);
      return false;
    }
    const status = httpStatus(e);
    const message = serverMessage(e);
    if (status === 409 || /already exists|duplicate/i.test(message)) {
      // Content-addressed: the same bytes are there already (sent before a crash, or by another asset).
      const size = await this.remoteSize(row).catch(() => null);
      if (size !== null && (row.part === 'thumbnail' || size === row.size)) {
        this.uploaded(row);
        return true;
      }
      this.mark(row, 'failed', `a different file of ${String(size)} bytes is already at ${row.bucket}/${row.path} in the cloud; it is never overwritten`);
      return false;
    }
    if (status === 413) {
      this.mark(row, 'local_only', `the cloud refused ${row.bucket}/${row.path} as too large (${message}): the original stays on this computer`);
      return false;
    }
    if (status === 415 || /mime/i.test(message)) {
      this.mark(row, 'local_only', `the ${row.bucket} bucket does not take this file's type (${message}): it stays on this computer`);
      return false;
    }
    if (/jwt|"exp" claim|signature verification|Invalid Compact JWS/i.test(message)) {
      // The access token was refused (expired on the way, a rotated signing key): renew it and go on later.
      await this.o.transport.client.auth.refreshSession().catch(() => undefined);
      throw new TransportError(`the cloud refused the sign-in token for an upload (${message}); renewed, will go on`, true);
    }
    if (status === 403 || /row-level security/i.test(message)) {
      this.mark(row, 'failed', `the cloud refused the upload (${message}): check the storage policies of the project (docs/cloud.md), then retry`);
      return false;
    }
    if (status !== null && status >= 400 && status < 500 && status !== 401 && status !== 408 && status !== 429) {
      this.mark(row, 'failed', `the cloud refused the upload (HTTP ${String(status)}: ${message})`);
      return false;
    }
    // Network, 5xx, 429, a token refused: keep it waiting (with its upload URL) and back off.
    this.db.run('UPDATE sync_files SET reason = ?, updated_at = ? WHERE asset_id = ? AND part = ? AND dir = ?', message, Date.now(), row.asset_id, row.part, row.dir);
    throw new TransportError(`could not upload to the cloud (${message || 'network error'}); will go on from where it stopped`, true);
  }

  private async remoteSize(row: FileRow): Promise<number | null> {
    const { data, error } = await this.o.transport.client.storage.from(row.bucket).info(row.path);
    if (error || !data) return null;
    return Number((data as { size?: number }).size ?? -1);
  }

  /** One request (a thumbnail): Storage's standard upload, never upserting. */
  private async putSmall(row: FileRow, body: Buffer, contentType: string): Promise<void> {
    this.progress(row, 'up', 0, body.length);
    const settings = mirrorSettings(this.db);
    const { accessToken } = await this.o.transport.session();
    const res = await this.o.transport.fetch(`${this.o.transport.url}/storage/v1/object/${row.bucket}/${encodePath(row.path)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, apikey: this.o.transport.anonKey, 'content-type': contentType, 'x-upsert': 'false', 'cache-control': 'max-age=31536000' },
      body: new Uint8Array(body),
    });
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      throw new HttpError(storageStatus(res.status, text), messageOf(text) || `HTTP ${String(res.status)}`);
    }
    await res.arrayBuffer().catch(() => undefined);
    this.progress(row, 'up', body.length, body.length);
    if (settings.bandwidthLimit) await new Promise((r) => setTimeout(r, (body.length * 1000) / settings.bandwidthLimit!));
  }

  /** A resumable upload (tus), going on from a saved upload URL when there is one. */
  private tus(row: FileRow, abs: string, size: number, contentType: string): Promise<void> {
    const settings = mirrorSettings(this.db);
    const chunkSize = this.o.chunkSize ?? TUS_CHUNK;
    const transport = this.o.transport;
    return new Promise<void>((resolve, reject) => {
      const upload = new Upload(createReadStream(abs), {
        endpoint: `${transport.url}/storage/v1/upload/resumable`,
        ...(row.upload_url ? { uploadUrl: row.upload_url } : {}),
        chunkSize,
        uploadSize: size,
        retryDelays: [...(this.o.retryDelays ?? [0, 1000, 3000, 5000])],
        storeFingerprintForResuming: false,
        removeFingerprintOnSuccess: false,
        // One request for a file that fits in a chunk.
        uploadDataDuringCreation: true,
        headers: { apikey: transport.anonKey, 'x-upsert': 'false' },
        metadata: { bucketName: row.bucket, objectName: row.path, contentType, cacheControl: '31536000' },
        fileReader: pacedFileReader(settings.bandwidthLimit),
        onBeforeRequest: async (req) => {
          await this.yieldToJobs();
          const { accessToken } = await transport.session();
          req.setHeader('Authorization', `Bearer ${accessToken}`);
        },
        onShouldRetry: (err, _attempt, options) => {
          const status = err.originalResponse?.getStatus() ?? 0;
          // Storage's "already exists" and refusals are answers, not trouble: do not send again.
          if (status === 409 && err.originalRequest?.getMethod() === 'POST') return false;
          if (status === 401) return true; // onBeforeRequest brings a fresh token
          return (status === 0 || status >= 500 || status === 423 || status === 429) && (options.retryDelays?.length ?? 0) > 0 && !this.aborted;
        },
        onUploadUrlAvailable: () => {
          if (upload.url) {
            this.db.run('UPDATE sync_files SET upload_url = ? WHERE asset_id = ? AND part = ? AND dir = ?', upload.url, row.asset_id, row.part, row.dir);
          }
        },
        onProgress: (sent, total) => this.progress(row, 'up', sent, total),
        onSuccess: () => {
          this.active = null;
          this.abortActive = null;
          resolve();
        },
        onError: (err) => {
          this.active = null;
          this.abortActive = null;
          if (this.aborted) return reject(new Aborted());
          const status = (err as { originalResponse?: { getStatus(): number; getBody(): string } | null }).originalResponse?.getStatus() ?? null;
          const body = (err as { originalResponse?: { getBody(): string } | null }).originalResponse?.getBody() ?? '';
          // A saved upload URL the server no longer knows: start again from zero next time.
          if ((status === 404 || status === 410) && row.upload_url) {
            this.db.run('UPDATE sync_files SET upload_url = NULL WHERE asset_id = ? AND part = ? AND dir = ?', row.asset_id, row.part, row.dir);
          }
          reject(new HttpError(status === null ? null : storageStatus(status, body), messageOf(body) || err.message));
        },
      });
      this.active = upload;
      this.abortActive = () => {
        this.active = null;
        this.abortActive = null;
        reject(new Aborted());
      };
      this.progress(row, 'up', 0, size);
      upload.start();
    });
  }

  private async remove(row: FileRow): Promise<boolean> {
    // Only once the tombstone is in the cloud: until then another desktop may still fetch the file.
    const pending = this.db.get(`SELECT 1 AS x FROM sync_outbox WHERE row_id = ? AND rejected_at IS NULL`, row.asset_id);
    if (pending) return false;
    const { data: inUse, error, status } = await this.o.transport.client.rpc('sync_file_in_use', { bucket: row.bucket, path: row.path });
    if (error) {
      if (status === 0 || status >= 500 || status === 429 || status === 401) throw new TransportError(`could not check a cloud file before removing it (${error.message}); will try again`, true);
      this.mark(row, 'failed', `could not check ${row.bucket}/${row.path} before removing it (${error.message})`);
      return false;
    }
    if (inUse !== true) {
      const res = await this.o.transport.client.storage.from(row.bucket).remove([row.path]);
      if (res.error) {
        const st = Number((res.error as { statusCode?: string | number }).statusCode ?? 0);
        if (st === 0 || st >= 500 || st === 429) throw new TransportError(`could not remove a file from the cloud (${res.error.message}); will try again`, true);
        this.mark(row, 'failed', `could not remove ${row.bucket}/${row.path} from the cloud (${res.error.message})`);
        return false;
      }
    }
    this.db.run(`DELETE FROM sync_files WHERE asset_id = ? AND part = ? AND dir = 'delete'`, row.asset_id, row.part);
    return true;
  }

  /**
   * One download per file at a time: the viewer's `fetchOriginal` and the background cycle may reach
   * the same row together (opening an original resumes the loop); the second waits for the first.
   */
  private download(row: FileRow): Promise<boolean> {
    const key = `${row.asset_id}:${row.part}`;
    const running = this.downloading.get(key);
    if (running) return running;
    const p = this.downloadOnce(row).finally(() => this.downloading.delete(key));
    this.downloading.set(key, p);
    return p;
  }

  private async downloadOnce(row: FileRow): Promise<boolean> {
    const asset = this.db.get<{ file_path: string; bucket: string; sha256: string; file_size: number }>(
      'SELECT file_path, bucket, sha256, file_size FROM assets WHERE id = ?',
      row.asset_id,
    );
    if (!asset) {
      this.db.run(`DELETE FROM sync_files WHERE asset_id = ? AND dir = 'down'`, row.asset_id);
      return false;
    }
    const rel = row.part === 'original' ? asset.file_path : relativeThumbPath(asset.bucket, row.asset_id, '.png');
    const abs = absoluteInRoot(this.o.root, rel);
    if (!abs) {
      this.mark(row, 'failed', 'the place for this file is outside the library folder: not written');
      return false;
    }
    const tmp = `${abs}.${String(process.pid)}-${randomBytes(4).toString('hex')}.part`;
    const settings = mirrorSettings(this.db);
    const { accessToken } = await this.o.transport.session();
    const ac = new AbortController();
    this.activeDownload = ac;
    let res: Response;
    try {
      res = await this.o.transport.fetch(`${this.o.transport.url}/storage/v1/object/authenticated/${row.bucket}/${encodePath(row.path)}`, {
        headers: { authorization: `Bearer ${accessToken}`, apikey: this.o.transport.anonKey },
        signal: ac.signal,
      });
    } catch (e) {
      this.activeDownload = null;
      if (this.aborted) throw new Aborted();
      throw new TransportError(`could not download from the cloud (${(e as Error).message}); will try again`, true);
    }
    if (!res.ok || !res.body) {
      this.activeDownload = null;
      const text = await res.text().catch(() => '');
      const status = storageStatus(res.status, text);
      if (status === 0 || status >= 500 || status === 429 || status === 401) {
        throw new TransportError(`could not download from the cloud (HTTP ${String(status)}: ${messageOf(text)}); will try again`, true);
      }
      this.mark(row, 'failed', status === 404 ? `the file is no longer in the cloud (${row.bucket}/${row.path})` : `the cloud refused the download (HTTP ${String(status)}: ${messageOf(text)})`);
      return false;
    }
    const total = Number(res.headers.get('content-length') ?? (row.part === 'original' ? asset.file_size : 0));
    const hash = createHash('sha256');
    let got = 0;
    const startedAt = Date.now();
    try {
      await mkdir(dirname(abs), { recursive: true });
      const source = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
      const onBytes = (n: number) => this.progress(row, 'down', n, total);
      const yieldToJobs = () => this.yieldToJobs();
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            got += chunk.length;
            onBytes(got);
            await yieldToJobs();
            await pace(settings.bandwidthLimit, startedAt, got);
            yield chunk;
          }
        },
        createWriteStream(tmp),
      );
      const fh = await open(tmp, 'r');
      await fh.sync().catch(() => undefined);
      await fh.close();
    } catch (e) {
      await rm(tmp, { force: true });
      this.activeDownload = null;
      if (this.aborted) throw new Aborted();
      if ((e as NodeJS.ErrnoException).code === 'ENOSPC') {
        this.mark(row, 'failed', 'the disk is full: free some space, then retry (nothing was changed in the library)');
        return false;
      }
      throw new TransportError(`the download from the cloud stopped (${(e as Error).message}); will start it again`, true);
    }
    this.activeDownload = null;
    const sha = hash.digest('hex');
    if (row.part === 'original' && sha !== asset.sha256) {
      await rm(tmp, { force: true });
      this.mark(row, 'failed', `the cloud copy does not match the asset (sha256 ${sha.slice(0, 12)}…, expected ${asset.sha256.slice(0, 12)}…): not kept`);
      return false;
    }
    if (row.part === 'thumbnail') {
      // A thumbnail must be a picture: sharp refuses anything else before it takes a place in the grid.
      const ok = await sharp(tmp, { limitInputPixels: 4096 * 4096 })
        .metadata()
        .then((m) => m.format === 'png')
        .catch(() => false);
      if (!ok) {
        await rm(tmp, { force: true });
        this.mark(row, 'failed', 'the thumbnail in the cloud is not a PNG: not kept');
        return false;
      }
    }
    await rename(tmp, abs);
    this.mark(row, 'done', null, () => {
      if (row.part === 'original') {
        this.db.run('DELETE FROM sync_remote_files WHERE asset_id = ?', row.asset_id);
        // The thumbnail maker makes one from the original if the cloud had none.
        this.db.run(`UPDATE assets SET thumb_error = NULL WHERE id = ? AND thumb_path IS NULL`, row.asset_id);
      } else {
        this.db.run('UPDATE assets SET thumb_path = ?, thumb_error = NULL WHERE id = ?', rel, row.asset_id);
      }
    });
    return true;
  }
}

/** The files part of the status, also while no sync runs. */
export function filesStatus(db: Database, transfer: CloudTransfer | null): CloudFilesStatus {
  const count = (dir: string, state: string) => db.get<{ n: number }>('SELECT count(*) AS n FROM sync_files WHERE dir = ? AND state = ?', dir, state)!.n;
  const name = (r: { file_path: string | null; title: string | null; asset_id: string }) => r.title || r.file_path?.split('/').at(-1) || r.asset_id;
  const localOnly = db
    .all<{ asset_id: string; reason: string | null; file_path: string | null; title: string | null }>(
      `SELECT f.asset_id, f.reason, a.file_path, a.title FROM sync_files f LEFT JOIN assets a ON a.id = f.asset_id
       WHERE f.dir = 'up' AND f.part = 'original' AND f.state = 'local_only' ORDER BY f.updated_at DESC LIMIT 100`,
    )
    .map((r) => ({ assetId: r.asset_id, name: name(r), reason: r.reason ?? 'stays on this computer' }));
  const failures = db
    .all<{ asset_id: string; dir: 'up' | 'down' | 'delete'; reason: string | null; file_path: string | null; title: string | null }>(
      `SELECT f.asset_id, f.dir, f.reason, a.file_path, a.title FROM sync_files f LEFT JOIN assets a ON a.id = f.asset_id
       WHERE f.state = 'failed' ORDER BY f.updated_at DESC LIMIT 100`,
    )
    .map((r) => ({ assetId: r.asset_id, name: name(r), direction: r.dir === 'down' ? ('down' as const) : ('up' as const), reason: r.reason ?? 'failed' }));
  return {
    settings: mirrorSettings(db),
    transfer,
    uploadsWaiting: count('up', 'waiting'),
    downloadsWaiting: count('down', 'waiting'),
    uploadBytesWaiting: db.get<{ n: number | null }>(`SELECT sum(size) AS n FROM sync_files WHERE dir = 'up' AND state = 'waiting'`)!.n ?? 0,
    localOnly,
    localOnlyCount: db.get<{ n: number }>(`SELECT count(*) AS n FROM sync_files WHERE dir = 'up' AND part = 'original' AND state = 'local_only'`)!.n,
    failures,
  };
}

class HttpError extends Error {
  readonly status: number | null;
  constructor(status: number | null, message: string) {
    super(message);
    this.status = status;
  }
}

function httpStatus(e: unknown): number | null {
  return e instanceof HttpError ? e.status : null;
}

function serverMessage(e: unknown): string {
  return (e as Error).message ?? String(e);
}

/** Storage answers errors as {statusCode: "409", error, message} inside an HTTP 400 at times: the inner code wins. */
function storageStatus(http: number, body: string): number {
  try {
    const o = JSON.parse(body) as { statusCode?: string | number };
    const inner = Number(o.statusCode);
    if (Number.isInteger(inner) && inner >= 400 && inner < 600) return inner;
  } catch {
    // not JSON
  }
  return http;
}

function messageOf(body: string): string {
  try {
    const o = JSON.parse(body) as { message?: string; error?: string; msg?: string };
    return o.message ?? o.msg ?? o.error ?? body.slice(0, 200);
  } catch {
    return body.slice(0, 200);
  }
}

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');
