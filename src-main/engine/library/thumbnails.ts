/**
 * Thumbnails, made in the background: sharp for images, an ffmpeg poster frame for videos, saved
 * as WebP under `.thumbs/<bucket>/<id>.webp` (atomically) and recorded on the row. A bounded queue —
 * a few workers, and rows pulled from the database a batch at a time — so a 100,000-file import
 * never holds 100,000 jobs in memory or starts 100,000 decoders. A file that cannot be thumbnailed
 * gets `thumb_error` (shown in the detail panel) instead of being retried forever.
 */
import { mkdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { Database } from '../db/database.ts';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { MEDIA_LIMITS } from './metadata/read-media.ts';
import { posterFrame } from './metadata/ffmpeg.ts';
import { decoderInput } from './metadata/decode-check.ts';
import type { FfmpegSource } from './metadata/ffmpeg.ts';
import { absoluteInRoot, relativeThumbPath } from './store.ts';
import { markFilesDirty } from '../sync/outbox.ts';

export const THUMB_MAX_SIDE = 320;

export async function renderThumbnail(
  file: string,
  kind: 'image' | 'video',
  durationMs: number | null,
  maxSide = THUMB_MAX_SIDE,
  ffmpeg?: FfmpegSource,
): Promise<Buffer> {
  // A PNG's text (up to MEDIA_LIMITS.maxTotalTextBytes) would cost libvips ~4.5× in metadata copies: left out.
  const input = kind === 'video' ? await posterFrame(file, durationMs, maxSide, ffmpeg) : await decoderInput(file);
  return sharp(input, { limitInputPixels: MEDIA_LIMITS.maxPixels, failOn: 'error', sequentialRead: true })
    .rotate()
    .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 78, effort: 2 })
    .toBuffer();
}

export interface ThumbnailQueueOptions {
  readonly db: Database;
  /** The library root now (it can move). */
  readonly root: () => string;
  readonly concurrency?: number;
  readonly maxSide?: number;
  readonly ffmpeg?: FfmpegSource;
  /** After each thumbnail is recorded (or fails). */
  readonly onDone?: (id: string, error: string | null) => void;
}

interface ThumbRow {
  id: string;
  bucket: string;
  kind: 'image' | 'video';
  file_path: string;
  thumb_path: string | null;
  duration_ms: number | null;
}

const SCAN_BATCH = 256;

export class ThumbnailQueue {
  private readonly o: ThumbnailQueueOptions;
  private readonly waiting: string[] = [];
  private readonly known = new Set<string>();
  /** Assets whose thumbnail or its error the database refused to record (a full disk): skipped until the next start. */
  private readonly refused = new Set<string>();
  private running = 0;
  private closed = false;
  private scanning = false;
  private idleWaiters: (() => void)[] = [];

  constructor(options: ThumbnailQueueOptions) {
    this.o = options;
  }

  get pending(): number {
    return this.waiting.length + this.running;
  }

  /** Queues specific assets (new imports). */
  enqueue(ids: readonly string[]): void {
    if (this.closed) return;
    for (const id of ids) {
      if (this.known.has(id)) continue;
      this.known.add(id);
      this.waiting.push(id);
    }
    this.pump();
  }

  /** Queues rows still without a thumbnail, a batch at a time, until none is left. */
  scan(): void {
    if (this.closed || this.scanning) return;
    this.scanning = true;
    this.refill();
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.pending === 0 && !this.scanning) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking work and waits for the thumbnails in progress. */
  async close(): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    this.scanning = false;
    await this.idle();
  }

  private refill(): void {
    if (this.closed || !this.o.db.raw.isOpen) {
      this.scanning = false;
      return;
    }
    const rows = this.o.db.all<{ id: string }>(
      'SELECT id FROM assets WHERE thumb_path IS NULL AND thumb_error IS NULL AND trashed_at IS NULL ORDER BY seq DESC LIMIT ?',
      SCAN_BATCH,
    );
    const fresh = rows.map((r) => r.id).filter((id) => !this.known.has(id) && !this.refused.has(id));
    if (fresh.length === 0) {
      this.scanning = false;
      this.settle();
      return;
    }
    this.enqueue(fresh);
  }

  private pump(): void {
    const limit = this.o.concurrency ?? 2;
    while (!this.closed && this.running < limit && this.waiting.length > 0) {
      const id = this.waiting.shift()!;
      this.running++;
      void this.make(id)
        .catch(() => {
          // The database refused (a full or failing disk): not tried again this session, so a scan
          // cannot loop on it; and never an unhandled rejection that would end the runner.
          this.refused.add(id);
        })
        .then(() => {
          this.running--;
          this.known.delete(id);
          try {
            if (this.waiting.length === 0 && this.scanning && this.running === 0) this.refill();
          } catch {
            this.scanning = false; // the database could not be read; the next scan tries again
          }
          this.pump();
          this.settle();
        });
    }
  }

  private settle(): void {
    if (this.pending === 0 && !this.scanning) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async make(id: string): Promise<void> {
    const db = this.o.db;
    if (!db.raw.isOpen) return;
    const row = db.get<ThumbRow>('SELECT id, bucket, kind, file_path, thumb_path, duration_ms FROM assets WHERE id = ?', id);
    if (!row || row.thumb_path) return;
    const root = this.o.root();
    const file = absoluteInRoot(root, row.file_path);
    const rel = relativeThumbPath(row.bucket, row.id);
    let error: string | null = null;
    try {
      if (!file) throw new Error('its stored path lies outside the library');
      const webp = await renderThumbnail(file, row.kind, row.duration_ms, this.o.maxSide ?? THUMB_MAX_SIDE, this.o.ffmpeg);
      await mkdir(dirname(join(root, rel)), { recursive: true });
      await writeFileAtomic(join(root, rel), webp);
      if (!db.raw.isOpen) return;
      const r = db.run('UPDATE assets SET thumb_path = ?, thumb_error = NULL WHERE id = ? AND thumb_path IS NULL', rel, id);
      // The cloud mirror sends thumbnails too: this one may go now.
      if (r.changes > 0) markFilesDirty(db, id);
      // Deleted while we worked: leave no orphan behind.
      if (r.changes === 0 && !db.get('SELECT 1 AS x FROM assets WHERE id = ? AND thumb_path = ?', id, rel)) {
        await unlink(join(root, rel)).catch(() => undefined);
      }
    } catch (e) {
      error = `no thumbnail could be made: ${(e as Error).message}`.slice(0, 500);
      if (db.raw.isOpen) db.run('UPDATE assets SET thumb_error = ? WHERE id = ?', error, id);
    }
    this.o.onDone?.(id, error);
  }
}
