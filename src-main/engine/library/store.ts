/**
 * The library's shared ground: where the root is, how a row becomes an AssetView, the outbox, and
 * the few file-system steps every part (ingest, import, check, move) takes the same way.
 *
 * Layout under the root:
 *   <bucket>/<yyyy>/<mm>/<id><ext>     originals, one folder per OurVidz bucket (job type or upload)
 *   .thumbs/<bucket>/<id>.webp|png      thumbnails (derived; can always be made again)
 * Rows keep paths relative to the root, so moving the root rewrites no row.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, openSync } from 'node:fs';
import { access, copyFile, link, open, rename, unlink } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Database } from '../db/database.ts';
import type { DataLayout } from '../paths.ts';
import { tempPathFor } from '../fs/atomic-write.ts';
import { BUCKETS, JOB_TYPES, PRESETS } from '../../../src-preload/contract/catalog.ts';
import type { Bucket, JobType, Quality } from '../../../src-preload/contract/catalog.ts';
import { mediaUrl } from '../../../src-preload/contract/library.ts';
import type { AssetView } from '../../../src-preload/contract/library.ts';
import { makeDir } from '../fs/make-dir.ts';
import { recordSyncChange } from '../sync/outbox.ts';

export const THUMBS_DIR = '.thumbs';
const ROOT_KEY = 'library.root';

/** The library root: the moved-to folder recorded in the database, else `<data>/library`. */
export function libraryRootOf(db: Database, layout: DataLayout): string {
  const row = db.get<{ value: string }>('SELECT value FROM engine_state WHERE key = ?', ROOT_KEY);
  return row ? row.value : layout.library;
}

export function setLibraryRoot(db: Database, root: string): void {
  db.run(
    'INSERT INTO engine_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ROOT_KEY,
    root,
  );
}

/** `candidate` lies strictly inside `root` (both already resolved or real paths). */
export function isInside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

export function isBucket(name: string): name is Bucket {
  return (BUCKETS as readonly string[]).includes(name);
}

export function jobTypeOf(bucket: string): JobType | null {
  return (JOB_TYPES as readonly string[]).includes(bucket) ? (bucket as JobType) : null;
}

export function qualityOf(bucket: string): Quality | null {
  const type = jobTypeOf(bucket);
  return type ? PRESETS[type].quality : null;
}

/** Buckets of a quality, for the quality filter. */
export function bucketsOfQuality(quality: Quality): Bucket[] {
  return JOB_TYPES.filter((t) => PRESETS[t].quality === quality);
}

const MIME_BY_EXT: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.webm': 'video/webm',
  '.mov': 'video/quicktime',
  '.gif': 'image/gif',
};

export function mimeOfPath(path: string): string {
  return MIME_BY_EXT[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** <root>/<bucket>/<yyyy>/<mm>/<id><ext>, relative to the root (UTC dates, as ingest uses). */
export function relativeAssetPath(bucket: string, id: string, ext: string, at: Date): string {
  const yyyy = String(at.getUTCFullYear());
  const mm = String(at.getUTCMonth() + 1).padStart(2, '0');
  return join(bucket, yyyy, mm, `${id}${ext}`);
}

export function relativeThumbPath(bucket: string, id: string, ext = '.webp'): string {
  return join(THUMBS_DIR, bucket, `${id}${ext}`);
}

/** A row path resolved under the root; null when the stored path would leave it (a tampered row). */
export function absoluteInRoot(root: string, rel: string): string | null {
  if (rel.length === 0 || isAbsolute(rel) || rel.includes('\0')) return null;
  const abs = resolve(root, rel);
  return isInside(resolve(root), abs) ? abs : null;
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function fsyncDirSync(dir: string): void {
  if (process.platform === 'win32') return;
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on a directory; the file itself was synced.
  }
}

/**
 * Copies `source` to `target` so that `target` is either absent or complete: copy to a temp name in
 * the target folder, fsync, rename, fsync the folder. Never overwrites an existing target when
 * `exclusive` is set (the rename is replaced by link + unlink, which fails on EEXIST).
 */
export async function copyFileDurable(
  source: string,
  target: string,
  exclusive = false,
  /** Writes the copy into the temp file (default: a plain copy); e.g. one without metadata. */
  write: (source: string, temp: string) => Promise<unknown> = copyFile,
): Promise<void> {
  await makeDir(dirname(target));
  const temp = tempPathFor(target);
  try {
    await write(source, temp);
    const handle = await open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (exclusive) {
      try {
        await link(temp, target);
        await unlink(temp);
      } catch (error) {
        // exFAT/FAT drives and some network shares have no hard links: check, then rename.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS' && code !== 'EXDEV') throw error;
        if (await access(target).then(() => true, () => false)) throw Object.assign(new Error(`${target} exists`), { code: 'EEXIST' });
        await rename(temp, target);
      }
    } else {
      await rename(temp, target);
    }
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  fsyncDirSync(dirname(target));
}

export type OutboxEntity = 'asset' | 'tag' | 'asset_tag' | 'project' | 'scene' | 'character' | 'job';

/**
 * Every local change leaves a row for the cloud mirror, in the same transaction as the change; while
 * sync is on, the mirror's own outbox records the changed fields too (sync/outbox.ts).
 */
export function outbox(db: Database, entity: OutboxEntity, entityId: string, op: 'upsert' | 'delete', at = Date.now()): void {
  db.run('INSERT INTO outbox (entity, entity_id, op, created_at) VALUES (?, ?, ?, ?)', entity, entityId, op, at);
  recordSyncChange(db, entity, entityId);
}

/** The asset columns every view needs (not the recipe, which can be large). */
export const ASSET_COLUMNS = `seq, id, job_id, project_id, bucket, kind, file_path, thumb_path, thumb_error, mime, width, height,
  duration_ms, fps, frame_count, file_size, sha256, prompt, negative_prompt, enhanced_prompt, seed, model, steps,
  guidance, scheduler, batch_index, favorite, rating, title, trashed_at, created_at, updated_at`;

export interface AssetRow {
  seq: number;
  id: string;
  job_id: string | null;
  project_id: string | null;
  bucket: string;
  kind: 'image' | 'video';
  file_path: string;
  thumb_path: string | null;
  thumb_error: string | null;
  mime: string;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  fps: number | null;
  frame_count: number | null;
  file_size: number;
  sha256: string;
  prompt: string | null;
  negative_prompt: string | null;
  enhanced_prompt: string | null;
  seed: number | null;
  model: string | null;
  steps: number | null;
  guidance: number | null;
  scheduler: string | null;
  batch_index: number | null;
  favorite: number;
  rating: number;
  title: string | null;
  trashed_at: number | null;
  created_at: number;
  updated_at: number;
}

export function toAssetView(row: AssetRow, tags: readonly string[] = []): AssetView {
  const bucket = (isBucket(row.bucket) ? row.bucket : 'user_uploads') as Bucket;
  return {
    id: row.id,
    kind: row.kind,
    bucket,
    jobType: jobTypeOf(row.bucket),
    quality: qualityOf(row.bucket),
    mime: row.mime,
    width: row.width,
    height: row.height,
    durationMs: row.duration_ms,
    fps: row.fps,
    frameCount: row.frame_count,
    fileSize: row.file_size,
    sha256: row.sha256,
    prompt: row.prompt,
    negativePrompt: row.negative_prompt,
    enhancedPrompt: row.enhanced_prompt,
    seed: row.seed,
    model: row.model,
    steps: row.steps,
    guidance: row.guidance,
    scheduler: row.scheduler,
    batchIndex: row.batch_index,
    favorite: row.favorite === 1,
    rating: row.rating,
    title: row.title,
    tags,
    projectId: row.project_id,
    jobId: row.job_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    trashedAt: row.trashed_at,
    mediaUrl: mediaUrl(row.id, 'original'),
    thumbUrl: row.thumb_path ? mediaUrl(row.id, 'thumb') : null,
  };
}

/** Tags of many assets in one query. */
export function tagsOf(db: Database, ids: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < ids.length; i += 500) {
    const slice = ids.slice(i, i + 500);
    const rows = db.all<{ asset_id: string; name: string }>(
      `SELECT at.asset_id, t.name FROM asset_tags at JOIN tags t ON t.id = at.tag_id
       WHERE at.asset_id IN (${slice.map(() => '?').join(',')}) ORDER BY t.name COLLATE NOCASE`,
      ...slice,
    );
    for (const r of rows) {
      const list = out.get(r.asset_id);
      if (list) list.push(r.name);
      else out.set(r.asset_id, [r.name]);
    }
  }
  return out;
}

export function viewsOf(db: Database, rows: readonly AssetRow[]): AssetView[] {
  const tags = tagsOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((r) => toAssetView(r, tags.get(r.id) ?? []));
}

export function getAssetRow(db: Database, id: string): AssetRow | undefined {
  return db.get<AssetRow>(`SELECT ${ASSET_COLUMNS} FROM assets WHERE id = ?`, id);
}

/** Runs `fn` over ids in slices small enough for SQLite's parameter limit. */
export function inChunks<T>(ids: readonly string[], fn: (slice: readonly string[], marks: string) => T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const slice = ids.slice(i, i + 500);
    out.push(...fn(slice, slice.map(() => '?').join(',')));
  }
  return out;
}
