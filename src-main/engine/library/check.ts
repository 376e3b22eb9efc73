/**
 * `studio library check`: compares the rows with the files and, with `repair`, fixes what can be
 * fixed without losing anything a user made:
 *
 *  - a trashed row whose file is gone and whose purge had started (an empty-trash interrupted
 *    between files and rows): the delete is finished;
 *  - a live row whose file is gone: moved to the trash (kept, so the user sees what it was);
 *  - a file without a row that carries this studio's recipe (a job interrupted between placing its
 *    outputs and recording them), or any readable media in `user_uploads` (an interrupted import):
 *    adopted as an asset, with the id its name carries;
 *  - temp files of interrupted atomic writes, and thumbnails of no asset: removed (both are ours);
 *  - a missing thumbnail: made again; a search index out of step: rebuilt.
 *
 * Any other file is left where it is and reported — check never deletes a user's file.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdir, stat, unlink } from 'node:fs/promises';
import { basename, extname, join, relative, sep } from 'node:path';
import type { Database } from '../db/database.ts';
import { TEMP_FILE_SUFFIX, removeStaleTempFiles } from '../fs/atomic-write.ts';
import { ID_PATTERN } from '../../../src-preload/contract/library.ts';
import type { CheckFinding, CheckReport } from '../../../src-preload/contract/library.ts';
import { MediaRejected, readMediaFacts } from './metadata/read-media.ts';
import type { FfmpegSource } from './metadata/ffmpeg.ts';
import { insertAssetRecord } from './import.ts';
import { THUMBS_DIR, absoluteInRoot, isBucket, outbox, sha256Of } from './store.ts';

export interface CheckOptions {
  readonly repair?: boolean;
  readonly onProgress?: (done: number, total: number, current: string | null) => void;
  readonly ffmpeg?: FfmpegSource;
  /** Thumbnails to (re)make are handed here. */
  readonly requeueThumbnails?: (ids: string[]) => void;
}

interface RowInfo {
  id: string;
  purge_started_at: number | null;
  file_path: string;
  thumb_path: string | null;
  thumb_error: string | null;
  file_size: number;
  trashed_at: number | null;
}

const JUNK = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini']);

async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) stack.push(full);
      else out.push(relative(root, full));
    }
  }
  return out.sort();
}

export async function checkLibrary(db: Database, root: string, options: CheckOptions = {}): Promise<CheckReport> {
  const repair = options.repair ?? false;
  const findings: CheckFinding[] = [];
  const add = (f: CheckFinding): void => {
    findings.push(f);
  };
  const would = (action: string): string => (repair ? '' : ` (run with --repair to ${action})`);

  // 1. Rows → files.
  // Assets mirrored from another desktop whose original is only in the cloud have no file here to check.
  const rows = db.all<RowInfo>(
    'SELECT id, purge_started_at, file_path, thumb_path, thumb_error, file_size, trashed_at FROM assets WHERE id NOT IN (SELECT asset_id FROM sync_remote_files) ORDER BY seq',
  );
  const referenced = new Set<string>();
  const requeue: string[] = [];
  let thumbsPending = 0;
  const total = rows.length;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    referenced.add(r.file_path);
    if (r.thumb_path) referenced.add(r.thumb_path);
    const abs = absoluteInRoot(root, r.file_path);
    const info = abs ? await stat(abs).catch(() => null) : null;
    if (!info?.isFile()) {
      if (r.trashed_at !== null && r.purge_started_at === null) {
        add({
          kind: 'row-without-file',
          path: r.file_path,
          assetId: r.id,
          action: 'reported',
          message: `${r.id} is in the trash and its file is gone; empty the trash to forget it`,
        });
      } else if (r.trashed_at !== null) {
        if (repair) {
          db.transaction(() => {
            db.run('DELETE FROM assets WHERE id = ?', r.id);
            outbox(db, 'asset', r.id, 'delete');
          });
        }
        add({
          kind: 'row-without-file',
          path: r.file_path,
          assetId: r.id,
          action: repair ? 'finished-trash-delete' : 'reported',
          message: `${r.id} was being deleted from the trash and its file is already gone${repair ? '; the delete was finished' : would('finish the delete')}`,
        });
      } else {
        if (repair) {
          const t = Date.now();
          db.transaction(() => {
            db.run('UPDATE assets SET trashed_at = ?, updated_at = ? WHERE id = ?', t, t, r.id);
            outbox(db, 'asset', r.id, 'upsert', t);
          });
        }
        add({
          kind: 'row-without-file',
          path: r.file_path,
          assetId: r.id,
          action: repair ? 'trashed-missing-file' : 'reported',
          message: abs
            ? `the file of ${r.id} (${r.file_path}) is missing${repair ? '; the asset was moved to the trash so you can see what it was — empty the trash to forget it' : would('move it to the trash')}`
            : `${r.id} names a file outside the library (${r.file_path})${repair ? '; it was moved to the trash' : would('move it to the trash')}`,
        });
      }
      options.onProgress?.(i + 1, total, null);
      continue;
    }
    if (info.size !== r.file_size) {
      add({
        kind: 'size-mismatch',
        path: r.file_path,
        assetId: r.id,
        action: 'reported',
        message: `the file of ${r.id} is ${info.size} bytes but was ${r.file_size} when added: another program changed it; it was left as it is`,
      });
    }
    if (r.trashed_at === null) {
      if (r.thumb_path) {
        const thumb = absoluteInRoot(root, r.thumb_path);
        const ok = thumb ? (await stat(thumb).catch(() => null))?.isFile() : false;
        if (!ok) {
          if (repair) {
            db.run('UPDATE assets SET thumb_path = NULL, thumb_error = NULL WHERE id = ?', r.id);
            requeue.push(r.id);
          }
          add({
            kind: 'missing-thumbnail',
            path: r.thumb_path,
            assetId: r.id,
            action: repair ? 'thumbnail-requeued' : 'reported',
            message: `the thumbnail of ${r.id} is missing${repair ? '; it is being made again' : would('make it again')}`,
          });
        }
      } else if (r.thumb_error === null) thumbsPending++;
    }
    options.onProgress?.(i + 1, total, null);
  }
  if (thumbsPending > 0) {
    add({
      kind: 'missing-thumbnail',
      path: null,
      assetId: null,
      action: repair ? 'thumbnail-requeued' : 'reported',
      message: `${thumbsPending} asset${thumbsPending === 1 ? ' has' : 's have'} no thumbnail yet${repair ? '; they are being made' : ' (they are made in the background while the app runs)'}`,
    });
  }

  // 2. Files → rows.
  const files = await walk(root);
  const temps: string[] = [];
  for (const rel of files) {
    const name = basename(rel);
    if (JUNK.has(name) || referenced.has(rel)) continue;
    if (name.endsWith(TEMP_FILE_SUFFIX)) {
      temps.push(rel);
      continue;
    }
    const top = rel.split(sep)[0]!;
    if (top === THUMBS_DIR) {
      const id = basename(rel, extname(rel));
      const owner = db.get<{ thumb_path: string | null }>('SELECT thumb_path FROM assets WHERE id = ?', id);
      if (owner && owner.thumb_path === null) {
        // Made, but the row was not updated before a stop: use it.
        if (repair) db.run('UPDATE assets SET thumb_path = ?, thumb_error = NULL WHERE id = ?', rel, id);
        continue;
      }
      if (repair) await unlink(join(root, rel)).catch(() => undefined);
      add({
        kind: 'orphan-thumbnail',
        path: rel,
        assetId: null,
        action: repair ? 'removed-orphan-thumbnail' : 'reported',
        message: `${rel} is a thumbnail of no asset${repair ? '; removed' : would('remove it')}`,
      });
      continue;
    }
    await checkOrphan(db, root, rel, top, repair, options, add);
  }
  if (temps.length > 0) {
    const removed = repair ? new Set((await removeStaleTempFiles(root, { recursive: true })).map((p) => relative(root, p))) : new Set<string>();
    for (const rel of temps) {
      const gone = removed.has(rel);
      if (repair && !gone) continue; // a write in progress right now: not a leftover
      add({
        kind: 'temp-leftover',
        path: rel,
        assetId: null,
        action: gone ? 'removed-temp' : 'reported',
        message: `${rel} is a partial file left by an interrupted write${gone ? '; removed' : would('remove it')}`,
      });
    }
  }

  // 3. Same content stored twice.
  for (const d of db.all<{ sha256: string; ids: string }>(
    "SELECT sha256, group_concat(id, ', ') AS ids FROM assets GROUP BY sha256 HAVING count(*) > 1 LIMIT 1000",
  )) {
    add({ kind: 'duplicate', path: null, assetId: null, action: 'reported', message: `the same file is stored as ${d.ids}; delete the copies you do not want` });
  }

  // 4. The search index.
  try {
    db.run("INSERT INTO assets_fts (assets_fts, rank) VALUES ('integrity-check', 1)");
  } catch {
    if (repair) db.run("INSERT INTO assets_fts (assets_fts) VALUES ('rebuild')");
    add({
      kind: 'search-index',
      path: null,
      assetId: null,
      action: repair ? 'search-index-rebuilt' : 'reported',
      message: `the prompt search index was out of step with the assets${repair ? '; it was rebuilt' : would('rebuild it')}`,
    });
  }
  if (requeue.length > 0) options.requeueThumbnails?.(requeue);
  return { root, repaired: repair, rowsChecked: rows.length, filesChecked: files.length, findings };
}

async function checkOrphan(
  db: Database,
  root: string,
  rel: string,
  top: string,
  repair: boolean,
  options: CheckOptions,
  add: (f: CheckFinding) => void,
): Promise<void> {
  const leave = (why: string): void =>
    add({ kind: 'file-without-row', path: rel, assetId: null, action: 'left-in-place', message: `${rel} ${why}; left in place` });
  if (!isBucket(top)) {
    leave('is not in a library folder (the library keeps one folder per bucket)');
    return;
  }
  const abs = join(root, rel);
  let facts;
  try {
    const info = await stat(abs);
    facts = await readMediaFacts(abs, { name: rel, size: info.size, ffmpeg: options.ffmpeg });
  } catch (error) {
    leave(`has no row and cannot be read as media (${error instanceof MediaRejected ? error.message.replace(/; skipped$/, '') : (error as Error).message})`);
    return;
  }
  if (!facts.ourRecipe && top !== 'user_uploads') {
    leave('has no row and was not made by this studio (move it out, or add it with `studio library import`)');
    return;
  }
  const sha256 = facts.bytes ? createHash('sha256').update(facts.bytes).digest('hex') : await sha256Of(abs);
  const twin = db.get<{ id: string }>('SELECT id FROM assets WHERE sha256 = ? LIMIT 1', sha256);
  if (twin) {
    leave(`has no row and is a copy of ${twin.id}`);
    return;
  }
  const stem = basename(rel, extname(rel));
  const id = ID_PATTERN.test(stem) && !db.get('SELECT 1 AS x FROM assets WHERE id = ?', stem) ? stem : randomUUID();
  if (repair) {
    const info = await stat(abs);
    const jobId = facts.fields.jobId && db.get('SELECT 1 AS x FROM jobs WHERE id = ?', facts.fields.jobId) ? facts.fields.jobId : null;
    db.transaction(() =>
      insertAssetRecord(db, {
        id,
        bucket: top,
        relPath: rel,
        facts,
        sha256,
        recipe: facts.ourRecipe ?? { adopted: { from: rel, format: facts.format, tool: facts.source }, settings: facts.fields, metadata: facts.raw },
        createdAt: Math.floor(info.mtimeMs),
        jobId,
      }),
    );
    options.requeueThumbnails?.([id]);
  }
  add({
    kind: 'file-without-row',
    path: rel,
    assetId: repair ? id : null,
    action: repair ? 'adopted' : 'reported',
    message: `${rel} has no row${facts.ourRecipe ? ' but carries this studio’s recipe' : ''}${repair ? `; adopted as ${id}` : ' (run with --repair to adopt it)'}`,
  });
}
