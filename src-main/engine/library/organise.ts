/**
 * Organising: favourites, ratings, titles, tags, and moving assets between projects. Every change
 * is one transaction that also writes the outbox rows the cloud mirror drains.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database.ts';
import { StudioError } from '../errors.ts';
import type { AssetView, TagView } from '../../../src-preload/contract/library.ts';
import { getAssetRow, inChunks, outbox, tagsOf, toAssetView } from './store.ts';

export interface AssetPatch {
  readonly favorite?: boolean;
  readonly rating?: number;
  readonly title?: string | null;
}

function notFound(id: string): StudioError {
  return new StudioError('not_found', `no asset with id ${id}; it may have been deleted — refresh the library`);
}

export function updateAsset(db: Database, id: string, patch: AssetPatch): AssetView {
  return db.transaction(() => {
    const row = getAssetRow(db, id);
    if (!row) throw notFound(id);
    const t = Date.now();
    db.run(
      `UPDATE assets SET favorite = ?, rating = ?, title = ?, updated_at = ? WHERE id = ?`,
      patch.favorite === undefined ? row.favorite : patch.favorite ? 1 : 0,
      patch.rating ?? row.rating,
      patch.title === undefined ? row.title : patch.title === '' ? null : patch.title,
      t,
      id,
    );
    outbox(db, 'asset', id, 'upsert', t);
    return toAssetView(getAssetRow(db, id)!, tagsOf(db, [id]).get(id) ?? []);
  });
}

/** Favourite and/or rating over a selection; unknown ids are ignored. */
export function bulkUpdate(db: Database, ids: readonly string[], patch: Omit<AssetPatch, 'title'>): number {
  if (patch.favorite === undefined && patch.rating === undefined) return 0;
  return db.transaction(() => {
    const t = Date.now();
    let updated = 0;
    inChunks(unique(ids), (slice, marks) => {
      const sets: string[] = ['updated_at = ?'];
      const args: (number | string)[] = [t];
      if (patch.favorite !== undefined) {
        sets.push('favorite = ?');
        args.push(patch.favorite ? 1 : 0);
      }
      if (patch.rating !== undefined) {
        sets.push('rating = ?');
        args.push(patch.rating);
      }
      const changed = db.all<{ id: string }>(`UPDATE assets SET ${sets.join(', ')} WHERE id IN (${marks}) RETURNING id`, ...args, ...slice);
      for (const r of changed) outbox(db, 'asset', r.id, 'upsert', t);
      updated += changed.length;
      return [];
    });
    return updated;
  });
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

function normaliseTag(name: string): string {
  return name.trim().replace(/\s+/gu, ' ');
}

/** The tag with this name (case-insensitive), created if new. Call inside a transaction. */
function ensureTag(db: Database, name: string, t: number): string {
  const existing = db.get<{ id: string }>('SELECT id FROM tags WHERE name = ?', name);
  if (existing) return existing.id;
  const id = randomUUID();
  db.run('INSERT INTO tags (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)', id, name, t, t);
  outbox(db, 'tag', id, 'upsert', t);
  return id;
}

/** Adds tags to assets; returns how many (asset, tag) pairs were new. */
export function tagAssets(db: Database, ids: readonly string[], names: readonly string[]): number {
  const tagNames = unique(names.map(normaliseTag).filter((n) => n.length > 0));
  return db.transaction(() => {
    const t = Date.now();
    let changed = 0;
    const existing = new Set(
      inChunks(unique(ids), (slice, marks) => db.all<{ id: string }>(`SELECT id FROM assets WHERE id IN (${marks})`, ...slice)).map(
        (r) => r.id,
      ),
    );
    for (const name of tagNames) {
      const tagId = ensureTag(db, name, t);
      for (const assetId of existing) {
        const r = db.run('INSERT OR IGNORE INTO asset_tags (tag_id, asset_id, created_at) VALUES (?, ?, ?)', tagId, assetId, t);
        if (r.changes > 0) {
          outbox(db, 'asset_tag', `${assetId}:${tagId}`, 'upsert', t);
          changed++;
        }
      }
    }
    return changed;
  });
}

/** Removes tags from assets; returns how many (asset, tag) pairs went. Tags themselves stay. */
export function untagAssets(db: Database, ids: readonly string[], names: readonly string[]): number {
  const tagNames = unique(names.map(normaliseTag));
  return db.transaction(() => {
    const t = Date.now();
    let changed = 0;
    for (const name of tagNames) {
      const tag = db.get<{ id: string }>('SELECT id FROM tags WHERE name = ?', name);
      if (!tag) continue;
      inChunks(unique(ids), (slice, marks) => {
        const gone = db.all<{ asset_id: string }>(
          `DELETE FROM asset_tags WHERE tag_id = ? AND asset_id IN (${marks}) RETURNING asset_id`,
          tag.id,
          ...slice,
        );
        for (const g of gone) outbox(db, 'asset_tag', `${g.asset_id}:${tag.id}`, 'delete', t);
        changed += gone.length;
        return [];
      });
    }
    return changed;
  });
}

export function listTags(db: Database): TagView[] {
  return db.all<TagView>(
    `SELECT t.id, t.name, count(a.id) AS count FROM tags t
     LEFT JOIN asset_tags at ON at.tag_id = t.id
     LEFT JOIN assets a ON a.id = at.asset_id AND a.trashed_at IS NULL
     GROUP BY t.id ORDER BY t.name COLLATE NOCASE`,
  ).map((r) => ({ id: r.id, name: r.name, count: r.count }));
}

export function renameTag(db: Database, id: string, name: string): TagView {
  const clean = normaliseTag(name);
  return db.transaction(() => {
    const tag = db.get<{ id: string }>('SELECT id FROM tags WHERE id = ?', id);
    if (!tag) throw new StudioError('not_found', `no tag with id ${id}; refresh the tag list`);
    const clash = db.get<{ id: string }>('SELECT id FROM tags WHERE name = ? AND id != ?', clean, id);
    if (clash) throw new StudioError('conflict', `a tag named "${clean}" already exists; pick another name`, { field: 'name' });
    const t = Date.now();
    db.run('UPDATE tags SET name = ?, updated_at = ? WHERE id = ?', clean, t, id);
    outbox(db, 'tag', id, 'upsert', t);
    return listTags(db).find((x) => x.id === id)!;
  });
}

export function deleteTag(db: Database, id: string): boolean {
  return db.transaction(() => {
    const t = Date.now();
    const pairs = db.all<{ asset_id: string }>('SELECT asset_id FROM asset_tags WHERE tag_id = ?', id);
    const r = db.run('DELETE FROM tags WHERE id = ?', id);
    if (r.changes === 0) return false;
    for (const p of pairs) outbox(db, 'asset_tag', `${p.asset_id}:${id}`, 'delete', t);
    outbox(db, 'tag', id, 'delete', t);
    return true;
  });
}

/** Moves a selection into a project (or out of every project with null). */
export function moveToProject(db: Database, ids: readonly string[], projectId: string | null): number {
  return db.transaction(() => {
    if (projectId !== null && !db.get('SELECT 1 AS x FROM projects WHERE id = ?', projectId)) {
      throw new StudioError('not_found', `no project with id ${projectId}; it may have been deleted`, { field: 'projectId' });
    }
    const t = Date.now();
    let moved = 0;
    inChunks(unique(ids), (slice, marks) => {
      const rows = db.all<{ id: string }>(
        `UPDATE assets SET project_id = ?, updated_at = ? WHERE id IN (${marks}) AND project_id IS NOT ? RETURNING id`,
        projectId,
        t,
        ...slice,
        projectId,
      );
      for (const r of rows) outbox(db, 'asset', r.id, 'upsert', t);
      moved += rows.length;
      return [];
    });
    return moved;
  });
}
