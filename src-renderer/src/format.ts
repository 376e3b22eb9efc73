/** Small, pure formatting helpers shared by the views. */
import { PRESETS } from './contract.ts';
import type { JobType, JobView } from './contract.ts';

export function jobTypeLabel(type: JobType): string {
  return PRESETS[type]?.label ?? type;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/**
 * A model file's size in decimal units (6.9 GB, 335 MB), as download pages, file managers and the
 * engine's own descriptions ("SDXL checkpoint, fp16, 6.9 GB") state them.
 */
export function formatFileSize(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} KB`;
  return `${Math.max(0, Math.round(bytes))} B`;
}

export function formatMb(mb: number): string {
  return mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${Math.round(mb)} MB`;
}

const timeOnly = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit', second: '2-digit' });
const dateAndTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** Time of day for today, date and time before that. */
export function formatTime(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const today = new Date(now);
  return d.toDateString() === today.toDateString() ? timeOnly.format(d) : dateAndTime.format(d);
}

export function formatFullTime(ms: number): string {
  return full.format(new Date(ms));
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return `${m}m ${String(s % 60).padStart(2, '0')}s`;
}

/** "6 images", "1 video": what a finished job produced. */
export function assetCountLabel(job: JobView, count: number): string {
  const kind = PRESETS[job.type]?.kind ?? 'image';
  return `${count} ${kind}${count === 1 ? '' : 's'}`;
}

export function ordinalPosition(position: number): string {
  return `#${position + 1}`;
}
