/**
 * Trash: deleting moves an asset to the trash (trashed_at), restoring clears it, and emptying
 * removes for good — rows marked (purge_started_at), then files, then rows. A crash in between
 * leaves marked trashed rows whose files may be gone; the next empty (or `library check`) finishes
 * them, and restore refuses them. Nothing is ever a live row without its file.
 */
import { unlink } from 'node:fs/promises';
import type { Database } from '../db/database.ts';
import type { EmptyTrashResult } from '../../../src-preload/contract/library.ts';
import { absoluteInRoot, inChunks, outbox } from './store.ts';

export function trashAssets(db: Database, ids: readonly string[]): string[] {
  return db.transaction(() => {
    const t = Date.now();
    const done = inChunks([...new Set(ids)], (slice, marks) =>
      db.all<{ id: string }>(
        `UPDATE assets SET trashed_at = ?, updated_at = ? WHERE id IN (${marks}) AND trashed_at IS NULL RETURNING id`,
        t,
        t,
        ...slice,
      ),
    ).map((r) => r.id);
    for (const id of done) outbox(db, 'asset', id, 'upsert', t);
    return done;
  });
}

export function restoreAssets(db: Database, ids: readonly string[]): string[] {
  return db.transaction(() => {
    const t = Date.now();
    const done = inChunks([...new Set(ids)], (slice, marks) =>
      db.all<{ id: string }>(
        `UPDATE assets SET trashed_at = NULL, updated_at = ? WHERE id IN (${marks}) AND trashed_at IS NOT NULL AND purge_started_at IS NULL RETURNING id`,
        t,
        ...slice,
      ),
    ).map((r) => r.id);
    for (const id of done) outbox(db, 'asset', id, 'upsert', t);
    return done;
  });
}

interface TrashRow {
  id: string;
  file_path: string;
  thumb_path: string | null;
  file_size: number;
}

async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

export interface EmptyTrashOptions {
  readonly ids?: readonly string[];
  readonly onProgress?: (done: number, total: number) => void;
  /** Tests only: called after a file is removed and before its row is, to simulate a crash there. */
  readonly afterFileRemoved?: (id: string) => void;
}

/**
 * Deletes trashed assets for good. A file that cannot be removed (permissions, a locked file on
 * Windows) keeps its row in the trash, so the next empty retries it; the problem is reported.
 */
export async function emptyTrash(db: Database, root: string, options: EmptyTrashOptions = {}): Promise<EmptyTrashResult> {
  const rows = options.ids
    ? inChunks([...new Set(options.ids)], (slice, marks) =>
        db.all<TrashRow>(
          `SELECT id, file_path, thumb_path, file_size FROM assets WHERE trashed_at IS NOT NULL AND id IN (${marks})`,
          ...slice,
        ),
      )
    : db.all<TrashRow>('SELECT id, file_path, thumb_path, file_size FROM assets WHERE trashed_at IS NOT NULL ORDER BY trashed_at, seq');
  // Marked first, so a crash after some files are gone is recognisable: check and the next empty
  // finish exactly these rows, and restore refuses them.
  const started = Date.now();
  db.transaction(() => {
    inChunks(
      rows.map((r) => r.id),
      (slice, marks) => {
        db.run(`UPDATE assets SET purge_started_at = ? WHERE id IN (${marks}) AND trashed_at IS NOT NULL`, started, ...slice);
        return [];
      },
    );
  });
  const problems: { id: string; message: string }[] = [];
  let deleted = 0;
  let freedBytes = 0;
  const removed: TrashRow[] = [];
  const flush = (): void => {
    if (removed.length === 0) return;
    db.transaction(() => {
      const t = Date.now();
      for (const r of removed) {
        if (db.run('DELETE FROM assets WHERE id = ? AND trashed_at IS NOT NULL', r.id).changes > 0) {
          outbox(db, 'asset', r.id, 'delete', t);
          deleted++;
          freedBytes += r.file_size;
        }
      }
    });
    removed.length = 0;
  };
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const file = absoluteInRoot(root, row.file_path);
    const thumb = row.thumb_path ? absoluteInRoot(root, row.thumb_path) : null;
    let ok = true;
    try {
      // The thumbnail first: a crash after it leaves the original, which check can thumbnail again.
      if (thumb) await removeFile(thumb);
      if (file) await removeFile(file);
    } catch (error) {
      ok = false;
      db.run('UPDATE assets SET purge_started_at = NULL WHERE id = ?', row.id);
      problems.push({
        id: row.id,
        message: `could not delete the file of ${row.id} (${(error as Error).message}); it stays in the trash — close any program using it and empty the trash again`,
      });
    }
    if (ok) {
      options.afterFileRemoved?.(row.id);
      removed.push(row);
    }
    // Rows go in batches, each after its files: a crash loses at most one batch of row deletes,
    // which the next empty finishes.
    if (removed.length >= 200) flush();
    options.onProgress?.(i + 1, rows.length);
  }
  flush();
  return { deleted, freedBytes, problems };
}
