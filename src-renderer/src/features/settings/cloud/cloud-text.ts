/**
 * The cloud mirror in words (Settings → Cloud, the status bar, the viewer): pure, so they are
 * unit-tested without a window.
 */
import type { CloudStatus, CloudTransfer } from '../../../contract.ts';

/** "12 s ago", "3 min ago", "2 h ago", or the date. */
export function sinceText(at: number | null, now: number): string {
  if (at === null) return 'never';
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(at).toLocaleString();
}

const MB = 1024 * 1024;

/** Bytes for people: `812 KB`, `3.2 MB`, `1.4 GB` (MB = 1024 × 1024 bytes, as the buckets' limits). */
export function sizeText(n: number): string {
  if (n < MB) return `${Math.max(0, Math.round(n / 1024))} KB`;
  if (n < 1024 * MB) return `${(n / MB).toFixed(n < 10 * MB ? 1 : 0)} MB`;
  return `${(n / (1024 * MB)).toFixed(1)} GB`;
}

/** "3.2 MB of 12 MB · 1.4 MB/s" (no speed while starting). */
export function transferText(t: CloudTransfer): string {
  return `${sizeText(t.bytes)} of ${sizeText(t.total)}${t.bytesPerSecond > 0 ? ` · ${sizeText(t.bytesPerSecond)}/s` : ''}`;
}

/** Whole percent of a transfer, 0 to 100. */
export function transferPercent(t: CloudTransfer): number {
  return t.total > 0 ? Math.min(100, Math.max(0, Math.floor((t.bytes / t.total) * 100))) : 0;
}

/** The status bar's words for the mirror: short, and the same words its accessible name carries. */
export function cloudBadgeText(s: CloudStatus): string {
  if (!s.signedInAs) return 'Cloud: signed out';
  if (!s.enabled) return 'Cloud: off';
  if (s.paused) return 'Cloud: paused';
  const t = s.files.transfer;
  if (t) return `Cloud: ${t.direction === 'up' ? '↑' : '↓'} ${transferPercent(t)} %`;
  if (s.failures.length > 0) return `Cloud: ${s.failures.length} refused`;
  if (s.files.failures.length > 0) return `Cloud: ${s.files.failures.length} file${s.files.failures.length === 1 ? '' : 's'} failed`;
  if (s.syncing) return 'Cloud: syncing…';
  if (s.lastError) return 'Cloud: problem';
  if (s.waiting > 0) return `Cloud: ${s.waiting} waiting`;
  if (s.files.uploadsWaiting > 0) return `Cloud: ${s.files.uploadsWaiting} file${s.files.uploadsWaiting === 1 ? '' : 's'} waiting`;
  return 'Cloud: synced';
}

/** The status bar item's tooltip: the file moving now with its speed, else the last problem. */
export function cloudBadgeTitle(s: CloudStatus): string {
  const t = s.files.transfer;
  if (t) return `${t.direction === 'up' ? 'Uploading' : 'Downloading'} ${t.name} (${t.part}): ${transferText(t)}`;
  return s.lastError ?? 'Cloud sync settings';
}

/**
 * The Supabase dashboard's Authentication → Users page of a hosted project (https://<ref>.supabase.co),
 * where its owner adds users and sends password recovery emails; null for a self-hosted project.
 */
export function supabaseDashboardUsers(projectUrl: string): string | null {
  try {
    const u = new URL(projectUrl);
    const m = /^([a-z0-9]{10,40})\.supabase\.co$/.exec(u.hostname);
    return u.protocol === 'https:' && m ? `https://supabase.com/dashboard/project/${m[1]}/auth/users` : null;
  } catch {
    return null;
  }
}
