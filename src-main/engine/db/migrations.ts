/**
 * Numbered migrations. Each runs once, in order, inside a transaction, and is recorded in
 * `schema_migrations`. Never edit a shipped migration: add the next number.
 *
 * Tables are the local twins of the OurVidz cloud tables (jobs, assets = images + videos, projects,
 * scenes, characters, usage_logs) so the cloud mirror maps one row to one row. Times are integer
 * milliseconds since the epoch; JSON columns hold text.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE characters (
  id TEXT PRIMARY KEY,
  user_id TEXT,
  name TEXT NOT NULL,
  description TEXT,
  traits TEXT,
  appearance_tags TEXT NOT NULL DEFAULT '[]',
  image_url TEXT,
  persona TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE projects (
  id TEXT PRIMARY KEY,
  user_id TEXT,
  title TEXT NOT NULL,
  description TEXT,
  original_prompt TEXT,
  enhanced_prompt TEXT,
  media_type TEXT CHECK (media_type IN ('image', 'video')),
  duration INTEGER,
  scene_count INTEGER,
  workflow_step TEXT,
  character_id TEXT REFERENCES characters(id) ON DELETE SET NULL,
  preview_asset_id TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE scenes (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  scene_number INTEGER NOT NULL,
  description TEXT NOT NULL,
  enhanced_prompt TEXT,
  asset_id TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (project_id, scene_number)
);

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  user_id TEXT,
  project_id TEXT REFERENCES projects(id) ON DELETE SET NULL,
  job_type TEXT NOT NULL,
  model_family TEXT NOT NULL,
  quality TEXT NOT NULL,
  format TEXT NOT NULL CHECK (format IN ('image', 'video')),
  params TEXT NOT NULL,
  original_prompt TEXT NOT NULL,
  enhanced_prompt TEXT,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  status_at INTEGER NOT NULL,
  sort_key INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  not_before INTEGER,
  queue_reason TEXT,
  idempotency_key TEXT UNIQUE,
  step INTEGER,
  total_steps INTEGER,
  stage TEXT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,
  error_code TEXT,
  error_message TEXT,
  model_id TEXT,
  provider TEXT,
  provider_note TEXT,
  peak_vram_mb INTEGER,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER
);
CREATE INDEX jobs_queued ON jobs (sort_key) WHERE status = 'queued';
CREATE INDEX jobs_running ON jobs (lease_owner) WHERE status = 'running';
CREATE INDEX jobs_created ON jobs (created_at DESC);

-- Every status transition, written in the same transaction as the change it records.
CREATE TABLE job_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  from_status TEXT,
  to_status TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX job_events_job ON job_events (job_id, id);

CREATE TABLE assets (
  id TEXT PRIMARY KEY,
  user_id TEXT,
  job_id TEXT REFERENCES jobs(id) ON DELETE SET NULL,
  project_id TEXT REFERENCES projects(id) ON DELETE SET NULL,
  bucket TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('image', 'video')),
  file_path TEXT NOT NULL UNIQUE,
  thumb_path TEXT,
  mime TEXT NOT NULL,
  width INTEGER,
  height INTEGER,
  duration_ms INTEGER,
  fps REAL,
  frame_count INTEGER,
  file_size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  prompt TEXT,
  negative_prompt TEXT,
  enhanced_prompt TEXT,
  seed INTEGER,
  model TEXT,
  steps INTEGER,
  guidance REAL,
  scheduler TEXT,
  batch_index INTEGER,
  recipe TEXT NOT NULL DEFAULT '{}',
  timings TEXT NOT NULL DEFAULT '{}',
  favorite INTEGER NOT NULL DEFAULT 0,
  rating INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
  title TEXT,
  trashed_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX assets_created ON assets (created_at DESC, id DESC);
CREATE INDEX assets_job ON assets (job_id, batch_index);
CREATE INDEX assets_sha ON assets (sha256);

CREATE TABLE usage_logs (
  id TEXT PRIMARY KEY,
  user_id TEXT,
  action TEXT NOT NULL,
  job_id TEXT REFERENCES jobs(id) ON DELETE SET NULL,
  format TEXT,
  quality TEXT,
  credits_consumed REAL NOT NULL DEFAULT 0,
  duration_ms INTEGER,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);

-- Local changes waiting for the optional cloud mirror; the sync drains it idempotently.
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at, id);

CREATE TABLE engine_state (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'library',
    // The library: assets get a stable integer key (`seq`, an INTEGER PRIMARY KEY, so VACUUM never
    // renumbers it) that the external-content FTS5 index and the keyset cursors use; the text `id`
    // stays the identity every other table, the outbox and the cloud mirror use. The table is
    // rebuilt because SQLite cannot add a primary key in place.
    sql: `
CREATE TABLE assets_v2 (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  user_id TEXT,
  job_id TEXT REFERENCES jobs(id) ON DELETE SET NULL,
  project_id TEXT REFERENCES projects(id) ON DELETE SET NULL,
  bucket TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('image', 'video')),
  file_path TEXT NOT NULL UNIQUE,
  thumb_path TEXT,
  thumb_error TEXT,
  mime TEXT NOT NULL,
  width INTEGER,
  height INTEGER,
  duration_ms INTEGER,
  fps REAL,
  frame_count INTEGER,
  file_size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  prompt TEXT,
  negative_prompt TEXT,
  enhanced_prompt TEXT,
  seed INTEGER,
  model TEXT,
  steps INTEGER,
  guidance REAL,
  scheduler TEXT,
  batch_index INTEGER,
  recipe TEXT NOT NULL DEFAULT '{}',
  timings TEXT NOT NULL DEFAULT '{}',
  favorite INTEGER NOT NULL DEFAULT 0,
  rating INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
  title TEXT,
  trashed_at INTEGER,
  -- Set when emptying the trash starts on this row: its file may already be gone.
  purge_started_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
INSERT INTO assets_v2 (id, user_id, job_id, project_id, bucket, kind, file_path, thumb_path, mime, width, height,
  duration_ms, fps, frame_count, file_size, sha256, prompt, negative_prompt, enhanced_prompt, seed, model, steps,
  guidance, scheduler, batch_index, recipe, timings, favorite, rating, title, trashed_at, created_at, updated_at)
SELECT id, user_id, job_id, project_id, bucket, kind, file_path, thumb_path, mime, width, height,
  duration_ms, fps, frame_count, file_size, sha256, prompt, negative_prompt, enhanced_prompt, seed, model, steps,
  guidance, scheduler, batch_index, recipe, timings, favorite, rating, title, trashed_at, created_at, updated_at
FROM assets ORDER BY created_at, rowid;
DROP TABLE assets;
ALTER TABLE assets_v2 RENAME TO assets;

CREATE INDEX assets_job ON assets (job_id, batch_index);
CREATE INDEX assets_sha ON assets (sha256);
CREATE INDEX assets_seed ON assets (seed) WHERE seed IS NOT NULL;
-- One index per sort of the live library (the trash is small and scanned), each ending in seq so
-- keyset pages are ranges; filters on bucket, project and favourite get their own date order.
CREATE INDEX assets_live_date ON assets (created_at, seq) WHERE trashed_at IS NULL;
CREATE INDEX assets_live_prompt ON assets (ifnull(prompt, '') COLLATE NOCASE, seq) WHERE trashed_at IS NULL;
CREATE INDEX assets_live_model ON assets (ifnull(model, ''), created_at, seq) WHERE trashed_at IS NULL;
CREATE INDEX assets_live_rating ON assets (rating, created_at, seq) WHERE trashed_at IS NULL;
CREATE INDEX assets_live_bucket ON assets (bucket, created_at, seq) WHERE trashed_at IS NULL;
CREATE INDEX assets_live_project ON assets (project_id, created_at, seq) WHERE trashed_at IS NULL;
CREATE INDEX assets_live_favorite ON assets (created_at, seq) WHERE trashed_at IS NULL AND favorite = 1;
CREATE INDEX assets_trash ON assets (trashed_at, seq) WHERE trashed_at IS NOT NULL;
CREATE INDEX assets_thumb_pending ON assets (seq) WHERE thumb_path IS NULL AND thumb_error IS NULL;

-- Prompt search. External content: the text lives once, in assets; triggers keep the index in step.
CREATE VIRTUAL TABLE assets_fts USING fts5 (
  prompt, negative_prompt, enhanced_prompt,
  content = 'assets', content_rowid = 'seq',
  tokenize = 'unicode61 remove_diacritics 2',
  prefix = '2 3'
);
INSERT INTO assets_fts (assets_fts) VALUES ('rebuild');
CREATE TRIGGER assets_fts_insert AFTER INSERT ON assets BEGIN
  INSERT INTO assets_fts (rowid, prompt, negative_prompt, enhanced_prompt)
  VALUES (new.seq, new.prompt, new.negative_prompt, new.enhanced_prompt);
END;
CREATE TRIGGER assets_fts_delete AFTER DELETE ON assets BEGIN
  INSERT INTO assets_fts (assets_fts, rowid, prompt, negative_prompt, enhanced_prompt)
  VALUES ('delete', old.seq, old.prompt, old.negative_prompt, old.enhanced_prompt);
END;
CREATE TRIGGER assets_fts_update AFTER UPDATE OF prompt, negative_prompt, enhanced_prompt ON assets BEGIN
  INSERT INTO assets_fts (assets_fts, rowid, prompt, negative_prompt, enhanced_prompt)
  VALUES ('delete', old.seq, old.prompt, old.negative_prompt, old.enhanced_prompt);
  INSERT INTO assets_fts (rowid, prompt, negative_prompt, enhanced_prompt)
  VALUES (new.seq, new.prompt, new.negative_prompt, new.enhanced_prompt);
END;

CREATE TABLE tags (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE asset_tags (
  tag_id TEXT NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
  asset_id TEXT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tag_id, asset_id)
) WITHOUT ROWID;
CREATE INDEX asset_tags_asset ON asset_tags (asset_id, tag_id);

CREATE INDEX scenes_asset ON scenes (asset_id) WHERE asset_id IS NOT NULL;
CREATE INDEX outbox_entity ON outbox (entity, entity_id);
`,
  },
  {
    version: 3,
    name: 'sync',
    // The cloud mirror (src-main/engine/sync). sync_outbox: one row per change to push, written in
    // the same transaction as the library change it records, only while sync is on; op_id makes a
    // re-sent push a no-op on the server. sync_rows: this desktop's view of each cloud row — the
    // field values last pushed or pulled and the hybrid logical clock of each field — so a local
    // change pushes only the fields that changed and a pulled field wins only with a newer clock.
    sql: `
CREATE TABLE sync_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  op_id TEXT NOT NULL UNIQUE,
  tbl TEXT NOT NULL,
  row_id TEXT NOT NULL,
  patch TEXT NOT NULL,
  hlc TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  -- Set when the server refused the change: it is kept (and shown) and not sent again until retried.
  rejected_at INTEGER
);
CREATE INDEX sync_outbox_pending ON sync_outbox (seq) WHERE rejected_at IS NULL;

CREATE TABLE sync_rows (
  tbl TEXT NOT NULL,
  row_id TEXT NOT NULL,
  -- The row this one hangs on (an asset tag's asset), for finding an asset's tag rows.
  parent TEXT,
  fields TEXT NOT NULL,
  clocks TEXT NOT NULL,
  PRIMARY KEY (tbl, row_id)
) WITHOUT ROWID;
CREATE INDEX sync_rows_parent ON sync_rows (parent, tbl) WHERE parent IS NOT NULL;

-- Assets pulled from another desktop whose original is only in the cloud so far: library check
-- leaves them alone (their file is not missing, it was never here).
CREATE TABLE sync_remote_files (
  asset_id TEXT PRIMARY KEY REFERENCES assets(id) ON DELETE CASCADE,
  since INTEGER NOT NULL
);
`,
  },
  {
    version: 4,
    name: 'sync-files',
    // The files of the cloud mirror (src-main/engine/sync/files.ts): one row per asset part (original,
    // thumbnail) and direction. 'up': to go to the asset's bucket (upload_url keeps a started
    // resumable upload, so a restart goes on from the server's offset); 'down': to come from it;
    // 'delete': the cloud copy of an asset deleted for good, removed once its tombstone is pushed.
    // No foreign key: a delete row outlives its asset.
    sql: `
CREATE TABLE sync_files (
  asset_id TEXT NOT NULL,
  part TEXT NOT NULL CHECK (part IN ('original', 'thumbnail')),
  dir TEXT NOT NULL CHECK (dir IN ('up', 'down', 'delete')),
  bucket TEXT NOT NULL,
  path TEXT NOT NULL,
  size INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL CHECK (state IN ('waiting', 'done', 'local_only', 'failed')),
  upload_url TEXT,
  reason TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (asset_id, part, dir)
) WITHOUT ROWID;
CREATE INDEX sync_files_state ON sync_files (dir, state);
-- Assets whose files may need planning (made, changed, thumbnailed, pulled, or a new mirror choice):
-- the planner looks only at these, so a sync of a 100,000-asset library does not scan it.
CREATE TABLE sync_files_dirty (
  asset_id TEXT PRIMARY KEY
) WITHOUT ROWID;
`,
  },
];
