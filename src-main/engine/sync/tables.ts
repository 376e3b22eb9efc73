/**
 * How a local library row maps to its cloud row (supabase/migrations/20261206060000_ourvidz_sync.sql):
 * which columns sync, how each value is written on each side (local integer milliseconds ↔ cloud
 * timestamptz, 0/1 ↔ boolean, JSON text ↔ jsonb), and which columns point at other rows.
 */
import { createHash } from 'node:crypto';

export type CloudTable = 'characters' | 'projects' | 'scenes' | 'jobs' | 'images' | 'videos' | 'asset_tags';

type ValueKind = 'text' | 'number' | 'bool' | 'json' | 'time';

export interface FieldSpec {
  /** The cloud column. */
  readonly col: string;
  /** The local column, when it is named differently. */
  readonly local?: string;
  readonly kind: ValueKind;
  /** Local table the value points at (a foreign key there). */
  readonly ref?: 'projects' | 'characters' | 'jobs' | 'assets';
  /** Set when the row is first pushed and never changed by sync afterwards. */
  readonly createOnly?: boolean;
}

export interface TableSpec {
  readonly cloud: CloudTable;
  readonly local: 'characters' | 'projects' | 'scenes' | 'jobs' | 'assets';
  readonly fields: readonly FieldSpec[];
}

const f = (col: string, kind: ValueKind, extra: Partial<FieldSpec> = {}): FieldSpec => ({ col, kind, ...extra });

const ASSET_COMMON: readonly FieldSpec[] = [
  f('job_id', 'text', { ref: 'jobs', createOnly: true }),
  f('project_id', 'text', { ref: 'projects' }),
  f('bucket', 'text', { createOnly: true }),
  f('mime', 'text', { createOnly: true }),
  f('width', 'number', { createOnly: true }),
  f('height', 'number', { createOnly: true }),
  f('file_size', 'number', { createOnly: true }),
  f('sha256', 'text', { createOnly: true }),
  f('prompt', 'text'),
  f('negative_prompt', 'text'),
  f('enhanced_prompt', 'text'),
  f('seed', 'number'),
  f('model', 'text'),
  f('steps', 'number'),
  f('guidance', 'number'),
  f('scheduler', 'text'),
  f('recipe', 'json'),
  f('timings', 'json'),
  f('favorite', 'bool'),
  f('rating', 'number'),
  f('title', 'text'),
  f('trashed_at', 'time'),
  f('created_at', 'time', { createOnly: true }),
];

export const TABLES: Readonly<Record<CloudTable, TableSpec>> = {
  characters: {
    cloud: 'characters',
    local: 'characters',
    fields: [
      f('name', 'text'),
      f('description', 'text'),
      f('traits', 'text'),
      f('appearance_tags', 'json'),
      f('image_url', 'text'),
      f('persona', 'text'),
      f('created_at', 'time', { createOnly: true }),
    ],
  },
  projects: {
    cloud: 'projects',
    local: 'projects',
    fields: [
      f('title', 'text'),
      f('description', 'text'),
      f('original_prompt', 'text'),
      f('enhanced_prompt', 'text'),
      f('media_type', 'text'),
      f('duration', 'number'),
      f('scene_count', 'number'),
      f('workflow_step', 'text'),
      f('character_id', 'text', { ref: 'characters' }),
      f('preview_asset_id', 'text'),
      f('created_at', 'time', { createOnly: true }),
    ],
  },
  scenes: {
    cloud: 'scenes',
    local: 'scenes',
    fields: [
      f('project_id', 'text', { ref: 'projects', createOnly: true }),
      f('scene_number', 'number'),
      f('description', 'text'),
      f('enhanced_prompt', 'text'),
      f('asset_id', 'text'),
      f('created_at', 'time', { createOnly: true }),
    ],
  },
  jobs: {
    cloud: 'jobs',
    local: 'jobs',
    fields: [
      f('project_id', 'text', { ref: 'projects', createOnly: true }),
      f('job_type', 'text'),
      f('model_family', 'text'),
      f('quality', 'text'),
      f('format', 'text'),
      f('params', 'json'),
      f('original_prompt', 'text'),
      f('enhanced_prompt', 'text'),
      f('status', 'text'),
      f('attempts', 'number'),
      f('error_code', 'text'),
      f('error_message', 'text'),
      f('model_id', 'text'),
      f('provider', 'text'),
      f('provider_note', 'text'),
      f('peak_vram_mb', 'number'),
      f('metadata', 'json'),
      f('created_at', 'time'),
      f('started_at', 'time'),
      f('finished_at', 'time'),
    ],
  },
  images: { cloud: 'images', local: 'assets', fields: [...ASSET_COMMON, f('batch_index', 'number', { createOnly: true })] },
  videos: {
    cloud: 'videos',
    local: 'assets',
    fields: [
      ...ASSET_COMMON,
      f('duration_ms', 'number', { createOnly: true }),
      f('fps', 'number', { createOnly: true }),
      f('frame_count', 'number', { createOnly: true }),
    ],
  },
  // Built from the local tags/asset_tags pair, not one local row: see outbox.ts.
  asset_tags: { cloud: 'asset_tags', local: 'assets', fields: [f('asset_kind', 'text'), f('asset_id', 'text'), f('tag', 'text')] },
};

export type CloudValue = string | number | boolean | null | Record<string, unknown> | unknown[];

/** A local column value written the way the cloud stores it. */
export function toCloudValue(kind: ValueKind, v: unknown): CloudValue {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'bool':
      return v === 1 || v === true;
    case 'time':
      return new Date(Number(v)).toISOString();
    case 'json':
      if (typeof v !== 'string') return v as CloudValue;
      try {
        return JSON.parse(v) as CloudValue;
      } catch {
        return v;
      }
    case 'number':
      return Number(v);
    default:
      return String(v);
  }
}

/** A cloud value written the way the local column stores it. */
export function toLocalValue(kind: ValueKind, v: unknown): string | number | null {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'bool':
      return v === true ? 1 : 0;
    case 'time': {
      const t = Date.parse(String(v));
      return Number.isFinite(t) ? t : null;
    }
    case 'json':
      return JSON.stringify(v);
    case 'number':
      return Number(v);
    default:
      return String(v);
  }
}

/** public.sync_element_id(a, b): md5 of 'a:b' read as a uuid, so every desktop makes the same id. */
export function elementId(a: string, b: string): string {
  const h = createHash('md5').update(`${a}:${b}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Values compare by their JSON text (the cloud value of a local row is always built the same way). */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
