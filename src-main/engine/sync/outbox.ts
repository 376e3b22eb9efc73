/**
 * The local side of the cloud mirror: the outbox and the per-field clocks, in the studio's SQLite.
 *
 * The library calls `recordSyncChange` from its `outbox()` step, inside the transaction of the change
 * it records. While sync is off that returns at once: nothing is recorded. While it is on, the
 * changed row is compared with `sync_rows` (what this desktop last pushed or pulled for that cloud
 * row): the fields that differ get one new hybrid logical clock and become one `sync_outbox` op —
 * `{op_id, table, id, hlc, set}`, the shape `sync_push` takes. Asset tags are compared as a set (the
 * asset's tags now against its tag rows in `sync_rows`), so adding, removing and renaming tags all
 * become one-row-per-tag ops with ids every desktop computes alike.
 *
 * Turning sync on back-fills: one pass, in one transaction, that records every existing character,
 * project, finished job, asset (with its tags) and scene as if it had just changed — so a library
 * made before sync was turned on is mirrored whole, and edits made while sync was off are caught up.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Database } from '../db/database.ts';
import { HybridClock } from './hlc.ts';
import { TABLES, elementId, sameValue, toCloudValue } from './tables.ts';
import type { CloudTable, CloudValue, TableSpec } from './tables.ts';

export type SyncEntity = 'asset' | 'tag' | 'asset_tag' | 'project' | 'scene' | 'character' | 'job';

const KEY_ENABLED = 'sync.enabled';
const KEY_DEVICE = 'sync.device';
const KEY_CLOCK = 'sync.clock';

type Fields = Record<string, CloudValue>;
type Clocks = Record<string, string>;

function stateGet(db: Database, key: string): string | null {
  return db.get<{ value: string }>('SELECT value FROM engine_state WHERE key = ?', key)?.value ?? null;
}

export function stateSet(db: Database, key: string, value: string | null): void {
  if (value === null) db.run('DELETE FROM engine_state WHERE key = ?', key);
  else db.run('INSERT INTO engine_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, value);
}

export function stateValue(db: Database, key: string): string | null {
  return stateGet(db, key);
}

export function syncEnabled(db: Database): boolean {
  return stateGet(db, KEY_ENABLED) === '1';
}

/** This desktop's id in every clock it issues: made once, kept in the database. */
export function deviceId(db: Database): string {
  let id = stateGet(db, KEY_DEVICE);
  if (!id) {
    id = `d${randomBytes(8).toString('hex')}`;
    stateSet(db, KEY_DEVICE, id);
  }
  return id;
}

/**
 * Runs `fn` with this desktop's clock, loaded from and saved back to the database (in the caller's
 * transaction), so clocks keep growing across restarts and across processes sharing the database.
 */
export function withClock<T>(db: Database, fn: (clock: HybridClock) => T, now: () => number = Date.now): T {
  const saved = stateGet(db, KEY_CLOCK);
  const state = saved ? (JSON.parse(saved) as { wall: number; counter: number }) : undefined;
  const clock = new HybridClock(deviceId(db), now, state);
  const out = fn(clock);
  stateSet(db, KEY_CLOCK, JSON.stringify(clock.state));
  return out;
}

/**
 * Turns the mirror on (back-filling what exists, see the file comment) or off. Off keeps the
 * outbox as it is — nothing is sent while off — and records nothing new.
 */
export function setSyncEnabled(db: Database, on: boolean): { backfilled: number } {
  return db.transaction(() => {
    const was = syncEnabled(db);
    stateSet(db, KEY_ENABLED, on ? '1' : null);
    if (!on || was) return { backfilled: 0 };
    return { backfilled: backfill(db) };
  });
}

/** Records every existing row once (only what differs from sync_rows becomes an op). */
export function backfill(db: Database): number {
  const before = pendingCount(db);
  // Parents first, so the server has every row a later op points at.
  for (const r of db.all<{ id: string }>('SELECT id FROM characters ORDER BY created_at, id')) recordSyncChange(db, 'character', r.id);
  for (const r of db.all<{ id: string }>('SELECT id FROM projects ORDER BY created_at, id')) recordSyncChange(db, 'project', r.id);
  for (const r of db.all<{ id: string }>(`SELECT id FROM jobs WHERE status IN ('done', 'failed', 'cancelled') ORDER BY created_at, id`)) {
    recordSyncChange(db, 'job', r.id);
  }
  for (const r of db.all<{ id: string }>('SELECT id FROM assets WHERE purge_started_at IS NULL ORDER BY seq')) recordSyncChange(db, 'asset', r.id);
  for (const r of db.all<{ id: string }>('SELECT id FROM scenes ORDER BY created_at, id')) recordSyncChange(db, 'scene', r.id);
  return pendingCount(db) - before;
}

export function pendingCount(db: Database): number {
  return db.get<{ n: number }>('SELECT count(*) AS n FROM sync_outbox WHERE rejected_at IS NULL')!.n;
}

/**
 * Sweeps finished jobs that have no cloud record yet (a job that failed or was cancelled changes no
 * library row, so nothing called the hook for it). Idempotent; returns how many were recorded.
 */
export function recordFinishedJobs(db: Database): number {
  if (!syncEnabled(db)) return 0;
  return db.transaction(() => {
    const rows = db.all<{ id: string }>(
      `SELECT j.id FROM jobs j LEFT JOIN sync_rows s ON s.tbl = 'jobs' AND s.row_id = j.id
       WHERE j.status IN ('done', 'failed', 'cancelled') AND s.row_id IS NULL ORDER BY j.created_at`,
    );
    for (const r of rows) recordSyncChange(db, 'job', r.id);
    return rows.length;
  });
}

interface Shadow {
  fields: Fields;
  clocks: Clocks;
}

export function readShadow(db: Database, tbl: CloudTable, id: string): Shadow | null {
  const r = db.get<{ fields: string; clocks: string }>('SELECT fields, clocks FROM sync_rows WHERE tbl = ? AND row_id = ?', tbl, id);
  return r ? { fields: JSON.parse(r.fields) as Fields, clocks: JSON.parse(r.clocks) as Clocks } : null;
}

export function writeShadow(db: Database, tbl: CloudTable, id: string, parent: string | null, s: Shadow): void {
  db.run(
    `INSERT INTO sync_rows (tbl, row_id, parent, fields, clocks) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (tbl, row_id) DO UPDATE SET parent = excluded.parent, fields = excluded.fields, clocks = excluded.clocks`,
    tbl,
    id,
    parent,
    JSON.stringify(s.fields),
    JSON.stringify(s.clocks),
  );
}

/** The cloud fields of a local row (every synced column, cloud-shaped). */
export function cloudFieldsOf(spec: TableSpec, row: Record<string, unknown>): Fields {
  const out: Fields = {};
  for (const field of spec.fields) out[field.col] = toCloudValue(field.kind, row[field.local ?? field.col]);
  return out;
}

/**
 * Compares `now` (null: the row is gone locally) with the shadow and enqueues one op with the fields
 * that differ. Returns whether an op was written.
 */
function enqueueDiff(db: Database, tbl: CloudTable, id: string, parent: string | null, now: Fields | null, spec?: TableSpec): boolean {
  const shadow = readShadow(db, tbl, id);
  const set: Fields = {};
  if (now === null) {
    if (!shadow || shadow.fields.deleted_at != null) return false;
    set.deleted_at = new Date().toISOString();
  } else {
    for (const [col, value] of Object.entries(now)) {
      const field = spec?.fields.find((x) => x.col === col);
      if (shadow) {
        if (col in shadow.fields && sameValue(shadow.fields[col], value)) continue;
        if (field?.createOnly && col in shadow.fields) continue;
        // A reference this desktop cannot hold (the row it points at never arrived here) stays as the cloud has it.
        if (field?.ref && value === null && shadow.fields[col] != null && !knownRef(db, field.ref, String(shadow.fields[col]))) continue;
      }
      set[col] = value;
    }
    if (shadow && shadow.fields.deleted_at != null) set.deleted_at = null;
  }
  if (Object.keys(set).length === 0) return false;
  const hlc = withClock(db, (clock) => clock.next());
  const fields: Fields = { ...(shadow?.fields ?? {}), ...set };
  const clocks: Clocks = { ...(shadow?.clocks ?? {}) };
  for (const col of Object.keys(set)) clocks[col] = hlc;
  writeShadow(db, tbl, id, parent, { fields, clocks });
  db.run(
    'INSERT INTO sync_outbox (op_id, tbl, row_id, patch, hlc, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    randomUUID(),
    tbl,
    id,
    JSON.stringify(set),
    hlc,
    Date.now(),
  );
  return true;
}

/** The row a reference points at has a cloud row this desktop knows of. */
function knownRef(db: Database, ref: 'projects' | 'characters' | 'jobs' | 'assets', id: string): boolean {
  const tbls = ref === 'assets' ? ['images', 'videos'] : [ref];
  return tbls.some((t) => db.get('SELECT 1 AS x FROM sync_rows WHERE tbl = ? AND row_id = ?', t, id) !== undefined);
}

/**
 * The library's hook (store.ts `outbox()`): records the change to one entity for the mirror, in the
 * caller's transaction. Does nothing while sync is off. `entityId` is the library's: an asset tag is
 * `<asset id>:<tag id>`.
 */
export function recordSyncChange(db: Database, entity: SyncEntity, entityId: string): void {
  if (!syncEnabled(db)) return;
  switch (entity) {
    case 'asset':
      recordAsset(db, entityId);
      return;
    case 'asset_tag':
      recordAssetTags(db, entityId.slice(0, entityId.indexOf(':')));
      return;
    case 'tag':
      // A rename changes the tag on every asset carrying it (a deleted tag's pairs were recorded already).
      for (const r of db.all<{ asset_id: string }>('SELECT asset_id FROM asset_tags WHERE tag_id = ?', entityId)) recordAssetTags(db, r.asset_id);
      return;
    case 'project':
      recordPlain(db, TABLES.projects, entityId);
      return;
    case 'character':
      recordPlain(db, TABLES.characters, entityId);
      return;
    case 'scene':
      recordPlain(db, TABLES.scenes, entityId);
      return;
    case 'job':
      recordJob(db, entityId);
      return;
  }
}

function recordPlain(db: Database, spec: TableSpec, id: string): boolean {
  const row = db.get<Record<string, unknown>>(`SELECT * FROM ${spec.local} WHERE id = ?`, id);
  return enqueueDiff(db, spec.cloud, id, null, row ? cloudFieldsOf(spec, row) : null, spec);
}

/** Job records: only finished ones, only this desktop's (the one that ran it is its only writer). */
function recordJob(db: Database, id: string): void {
  const row = db.get<Record<string, unknown>>('SELECT * FROM jobs WHERE id = ?', id);
  if (!row) return;
  if (!['done', 'failed', 'cancelled'].includes(String(row.status))) return;
  const shadow = readShadow(db, 'jobs', id);
  if (shadow && shadow.fields.device_id !== undefined && shadow.fields.device_id !== deviceId(db)) return;
  const fields = cloudFieldsOf(TABLES.jobs, row);
  // The local queue's bookkeeping (paths being placed) is not part of the record.
  if (fields.metadata && typeof fields.metadata === 'object' && !Array.isArray(fields.metadata)) {
    const { placing: _placing, ...rest } = fields.metadata;
    fields.metadata = rest as Record<string, unknown>;
  }
  fields.device_id = deviceId(db);
  if (fields.project_id && !knownRef(db, 'projects', String(fields.project_id))) recordPlain(db, TABLES.projects, String(fields.project_id));
  enqueueDiff(db, 'jobs', id, null, fields, TABLES.jobs);
}

function recordAsset(db: Database, id: string): void {
  const row = db.get<Record<string, unknown>>('SELECT * FROM assets WHERE id = ?', id);
  if (!row) {
    // Deleted for good: a tombstone on whichever table this desktop knows the asset in, and its
    // files in the cloud to remove once the tombstone is there (sync/files.ts).
    for (const tbl of ['images', 'videos'] as const) {
      const shadow = readShadow(db, tbl, id);
      if (!shadow) continue;
      enqueueDiff(db, tbl, id, null, null);
      for (const [part, col] of [['original', 'storage_path'], ['thumbnail', 'thumbnail_path']] as const) {
        const path = shadow.fields[col];
        if (typeof path !== 'string' || typeof shadow.fields.bucket !== 'string') continue;
        db.run(
          `INSERT INTO sync_files (asset_id, part, dir, bucket, path, state, updated_at) VALUES (?, ?, 'delete', ?, ?, 'waiting', ?)
           ON CONFLICT (asset_id, part, dir) DO UPDATE SET path = excluded.path, state = 'waiting', reason = NULL`,
          id,
          part,
          shadow.fields.bucket,
          path,
          Date.now(),
        );
      }
      db.run(`DELETE FROM sync_files WHERE asset_id = ? AND dir IN ('up', 'down')`, id);
    }
    return;
  }
  markFilesDirty(db, id);
  const spec = row.kind === 'video' ? TABLES.videos : TABLES.images;
  const fields = cloudFieldsOf(spec, row);
  // The cloud holds a reference only to a row it has: a job or project not mirrored yet goes first.
  if (fields.job_id) {
    const jobId = String(fields.job_id);
    if (!knownRef(db, 'jobs', jobId)) recordJob(db, jobId);
    if (!knownRef(db, 'jobs', jobId)) fields.job_id = null;
  }
  if (fields.project_id && !knownRef(db, 'projects', String(fields.project_id))) recordPlain(db, TABLES.projects, String(fields.project_id));
  enqueueDiff(db, spec.cloud, id, null, fields, spec);
  recordAssetTags(db, id);
}

/** The asset's tags now against its tag rows in sync_rows: one op per tag added or removed. */
function recordAssetTags(db: Database, assetId: string): void {
  const asset = db.get<{ kind: string }>('SELECT kind FROM assets WHERE id = ?', assetId);
  const assetTable = asset?.kind === 'video' ? 'videos' : 'images';
  if (asset && !readShadow(db, assetTable, assetId)) {
    // Tags hang on an asset the cloud must have first.
    recordAsset(db, assetId);
    return;
  }
  const now = new Map<string, string>();
  if (asset) {
    for (const r of db.all<{ name: string }>('SELECT t.name FROM asset_tags at JOIN tags t ON t.id = at.tag_id WHERE at.asset_id = ?', assetId)) {
      now.set(elementId(assetId, r.name.toLowerCase()), r.name);
    }
  }
  const known = db.all<{ row_id: string; fields: string }>(`SELECT row_id, fields FROM sync_rows WHERE parent = ? AND tbl = 'asset_tags'`, assetId);
  for (const k of known) {
    const fields = JSON.parse(k.fields) as Fields;
    if (!now.has(k.row_id) && fields.deleted_at == null) enqueueDiff(db, 'asset_tags', k.row_id, assetId, null);
  }
  if (!asset) return;
  for (const [id, name] of now) {
    enqueueDiff(db, 'asset_tags', id, assetId, { asset_kind: asset.kind, asset_id: assetId, tag: name }, TABLES.asset_tags);
  }
}

/**
 * Sets cloud-only fields of a row (an asset's storage_path and thumbnail_path once its files are
 * up): one op with a new clock, the shadow updated, in the caller's transaction. Fields the local
 * row does not have never show up in a local diff, so these are written only here and by pulls.
 */
export function recordCloudFields(db: Database, tbl: CloudTable, id: string, set: Fields): void {
  const shadow = readShadow(db, tbl, id);
  if (!shadow) return;
  const changed: Fields = {};
  for (const [col, value] of Object.entries(set)) if (!sameValue(shadow.fields[col], value)) changed[col] = value;
  if (Object.keys(changed).length === 0) return;
  const hlc = withClock(db, (clock) => clock.next());
  const clocks: Clocks = { ...shadow.clocks };
  for (const col of Object.keys(changed)) clocks[col] = hlc;
  writeShadow(db, tbl, id, null, { fields: { ...shadow.fields, ...changed }, clocks });
  db.run(
    'INSERT INTO sync_outbox (op_id, tbl, row_id, patch, hlc, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    randomUUID(),
    tbl,
    id,
    JSON.stringify(changed),
    hlc,
    Date.now(),
  );
}

/**
 * The asset's files may need planning (sync/files.ts): made, changed, thumbnailed or pulled. Cheap,
 * in the caller's transaction; nothing while sync is off (turning it on marks every asset).
 */
export function markFilesDirty(db: Database, assetId: string): void {
  if (!syncEnabled(db)) return;
  db.run('INSERT OR IGNORE INTO sync_files_dirty (asset_id) VALUES (?)', assetId);
}
