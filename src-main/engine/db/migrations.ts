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
];
