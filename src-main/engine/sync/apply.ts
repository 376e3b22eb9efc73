/**
 * Applies rows pulled from the cloud to the local library by the rule the server uses: each field
 * is taken only when its clock is newer than the clock this desktop holds for it (sync_rows), so a
 * pull and a push commute and two desktops end with the same winners whatever order they sync in.
 *
 * Writes go straight to the tables, not through the library's functions, so a pulled change is never
 * recorded again as a local one; sync_rows is updated to the applied values, so the next local diff
 * sees them as already agreed.
 *
 * What a pulled row becomes here:
 *   images/videos  an asset row. A new one has no file yet (files are not mirrored in this slice): its
 *                  file_path is where the original will be put, and thumb_error says it is in the cloud;
 *   asset_tags     the tag (made by name if new) on the asset, or taken off it;
 *   projects, characters, scenes  their rows;
 *   a tombstone    the row deleted for good here too (an asset's files with it);
 *   jobs           not applied: the local queue holds the jobs this desktop ran; other desktops' job
 *                  records are theirs, and a pulled asset's job_id stays only in the cloud.
 */
import { randomUUID } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import type { Database } from '../db/database.ts';
import { TABLES, toLocalValue } from './tables.ts';
import type { CloudTable, CloudValue, TableSpec } from './tables.ts';
import { cloudFieldsOf, markFilesDirty, readShadow, withClock, writeShadow } from './outbox.ts';
import { HLC_PATTERN } from './hlc.ts';

export interface PulledRow {
  readonly entity: string;
  readonly entity_id: string;
  readonly seq: number;
  readonly data: Record<string, unknown>;
}

/** Dependency order: a row is applied after the rows it points at. */
const ORDER: readonly CloudTable[] = ['characters', 'projects', 'images', 'videos', 'scenes', 'asset_tags'];

export interface ApplyResult {
  applied: number;
  skipped: number;
  /** Files of assets deleted for good here (to remove after the transaction). */
  filesToRemove: string[];
  problems: { entity: string; id: string; message: string }[];
}

export function applyPulled(db: Database, rows: readonly PulledRow[]): ApplyResult {
  const result: ApplyResult = { applied: 0, skipped: 0, filesToRemove: [], problems: [] };
  const sorted = rows
    .filter((r) => (ORDER as readonly string[]).includes(r.entity))
    .sort((a, b) => ORDER.indexOf(a.entity as CloudTable) - ORDER.indexOf(b.entity as CloudTable) || a.seq - b.seq);
  result.skipped = rows.length - sorted.length;
  db.transaction(() => {
    for (const row of sorted) {
      db.raw.exec('SAVEPOINT sync_row');
      try {
        if (applyOne(db, row.entity as CloudTable, row.entity_id, row.data, result)) result.applied++;
        else result.skipped++;
        db.raw.exec('RELEASE sync_row');
      } catch (e) {
        db.raw.exec('ROLLBACK TO sync_row');
        db.raw.exec('RELEASE sync_row');
        result.problems.push({ entity: row.entity, id: row.entity_id, message: (e as Error).message });
      }
    }
  });
  return result;
}

/** The fields whose remote clock beats this desktop's; the clocks are observed either way. */
function winners(db: Database, tbl: CloudTable, id: string, data: Record<string, unknown>): { won: Record<string, string>; shadow: ReturnType<typeof readShadow> } {
  const remote = (data.clocks ?? {}) as Record<string, unknown>;
  const shadow = readShadow(db, tbl, id);
  const won: Record<string, string> = {};
  const clocks = Object.entries(remote).filter((e): e is [string, string] => typeof e[1] === 'string' && HLC_PATTERN.test(e[1]));
  withClock(db, (clock) => {
    for (const [, hlc] of clocks) {
      try {
        clock.observe(hlc);
      } catch {
        // A clock a day ahead: the server refuses those, so it cannot be here; never adopt it.
      }
    }
  });
  for (const [col, hlc] of clocks) {
    const mine = shadow?.clocks[col] ?? '';
    if (hlc > mine) won[col] = hlc;
  }
  return { won, shadow };
}

function applyOne(db: Database, tbl: CloudTable, id: string, data: Record<string, unknown>, result: ApplyResult): boolean {
  const { won, shadow } = winners(db, tbl, id, data);
  if (Object.keys(won).length === 0) return false;
  if (tbl === 'asset_tags') return applyTag(db, id, data, won, shadow);
  const spec = TABLES[tbl];
  const deleted = 'deleted_at' in won && data.deleted_at != null;
  const fields = { ...(shadow?.fields ?? {}) } as Record<string, CloudValue>;
  const clocks = { ...(shadow?.clocks ?? {}) };
  for (const [col, hlc] of Object.entries(won)) {
    fields[col] = (data[col] ?? null) as CloudValue;
    clocks[col] = hlc;
  }
  if (deleted) {
    if (spec.local === 'assets') {
      const r = db.get<{ file_path: string; thumb_path: string | null }>('SELECT file_path, thumb_path FROM assets WHERE id = ?', id);
      if (r) result.filesToRemove.push(r.file_path, ...(r.thumb_path ? [r.thumb_path] : []));
    }
    db.run(`DELETE FROM ${spec.local} WHERE id = ?`, id);
    writeShadow(db, tbl, id, null, { fields, clocks });
    return true;
  }
  if (fields.deleted_at != null) {
    // Deleted here already (a newer tombstone won earlier): other fields changing elsewhere bring nothing back.
    writeShadow(db, tbl, id, null, { fields, clocks });
    return true;
  }
  const existing = db.get<Record<string, unknown>>(`SELECT * FROM ${spec.local} WHERE id = ?`, id);
  const local: Record<string, string | number | null> = {};
  for (const field of spec.fields) {
    if (!(field.col in won)) continue;
    let v = toLocalValue(field.kind, data[field.col]);
    if (v !== null && field.ref && !db.get(`SELECT 1 AS x FROM ${field.ref} WHERE id = ?`, v)) v = null; // not here (yet)
    local[field.local ?? field.col] = v;
  }
  const t = Date.now();
  if (existing) {
    if (Object.keys(local).length > 0) {
      const cols = Object.keys(local);
      db.run(`UPDATE ${spec.local} SET ${cols.map((c) => `${c} = ?`).join(', ')}, updated_at = ? WHERE id = ?`, ...cols.map((c) => local[c]!), t, id);
    }
  } else if (!insertLocal(db, spec, id, data, local, t)) {
    writeShadow(db, tbl, id, null, { fields, clocks });
    return false;
  }
  // The shadow holds the values as this desktop now has them, so the next local diff is exact.
  const now = db.get<Record<string, unknown>>(`SELECT * FROM ${spec.local} WHERE id = ?`, id);
  if (now) {
    const mine = cloudFieldsOf(spec, now);
    for (const field of spec.fields) {
      if (!(field.col in won)) continue;
      // A reference to a row not here keeps the cloud's value (outbox.ts leaves it alone).
      if (field.ref && mine[field.col] === null && fields[field.col] != null) continue;
      fields[field.col] = mine[field.col] ?? null;
    }
  }
  writeShadow(db, tbl, id, null, { fields, clocks });
  // A pulled asset's thumbnail or original may be in the cloud now (sync/files.ts plans it).
  if (spec.local === 'assets') markFilesDirty(db, id);
  return true;
}

/** A row that is new here. Returns false when it cannot be made (its project is not here, for a scene). */
function insertLocal(db: Database, spec: TableSpec, id: string, data: Record<string, unknown>, local: Record<string, string | number | null>, t: number): boolean {
  const cols: Record<string, string | number | null> = { ...local, id, updated_at: t };
  if (cols.created_at == null) cols.created_at = toLocalValue('time', data.created_at) ?? t;
  if (spec.local === 'assets') {
    const kind = spec.cloud === 'videos' ? 'video' : 'image';
    const bucket = String(data.bucket ?? (kind === 'video' ? 'video_fast' : 'image_fast'));
    const at = new Date(Number(cols.created_at));
    const ext = String(data.mime ?? '').includes('mp4') ? '.mp4' : '.png';
    cols.kind = kind;
    cols.bucket ??= bucket;
    cols.mime ??= String(data.mime ?? (kind === 'video' ? 'video/mp4' : 'image/png'));
    cols.file_size ??= Number(data.file_size ?? 0);
    cols.sha256 ??= String(data.sha256 ?? '');
    // Where the original goes when it is downloaded: <bucket>/<yyyy>/<mm>/<id><ext>, as ingest lays it out.
    cols.file_path = `${bucket}/${String(at.getUTCFullYear())}/${String(at.getUTCMonth() + 1).padStart(2, '0')}/${id}${ext}`;
    cols.thumb_error = 'in the cloud: the file has not been downloaded to this computer yet';
  }
  if (spec.local === 'scenes' && (cols.project_id == null || cols.scene_number == null)) return false;
  const names = Object.keys(cols);
  db.run(`INSERT INTO ${spec.local} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`, ...names.map((n) => cols[n]!));
  if (spec.local === 'assets') db.run('INSERT OR IGNORE INTO sync_remote_files (asset_id, since) VALUES (?, ?)', id, t);
  return true;
}

function applyTag(
  db: Database,
  id: string,
  data: Record<string, unknown>,
  won: Record<string, string>,
  shadow: ReturnType<typeof readShadow>,
): boolean {
  const assetId = String(data.asset_id);
  const name = String(data.tag);
  const fields = { ...(shadow?.fields ?? {}) } as Record<string, CloudValue>;
  const clocks = { ...(shadow?.clocks ?? {}) };
  for (const [col, hlc] of Object.entries(won)) {
    fields[col] = (data[col] ?? null) as CloudValue;
    clocks[col] = hlc;
  }
  const alive = fields.deleted_at == null;
  const asset = db.get('SELECT 1 AS x FROM assets WHERE id = ?', assetId);
  if (asset) {
    let tag = db.get<{ id: string }>('SELECT id FROM tags WHERE name = ?', name);
    if (alive) {
      if (!tag) {
        const t = Date.now();
        tag = { id: randomUUID() };
        db.run('INSERT INTO tags (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)', tag.id, name, t, t);
      }
      db.run('INSERT OR IGNORE INTO asset_tags (tag_id, asset_id, created_at) VALUES (?, ?, ?)', tag.id, assetId, Date.now());
    } else if (tag) {
      db.run('DELETE FROM asset_tags WHERE tag_id = ? AND asset_id = ?', tag.id, assetId);
    }
  }
  writeShadow(db, 'asset_tags', id, assetId, { fields: { ...fields, asset_kind: data.asset_kind as CloudValue, asset_id: assetId, tag: name }, clocks });
  return true;
}

/** Removes the files of assets deleted for good by a pull (paths relative to the library root). */
export async function removeFiles(root: string, relPaths: readonly string[], resolveInRoot: (root: string, rel: string) => string | null): Promise<void> {
  for (const rel of relPaths) {
    const abs = resolveInRoot(root, rel);
    if (!abs) continue;
    await unlink(abs).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
}
