/**
 * The cloud mirror's status for this window (Settings → Cloud and the status bar): loaded once from
 * `sync.status`, then kept by the engine's `sync.changed` events. The renderer never sees a token:
 * only who is signed in and what waits.
 */
import { useSyncExternalStore } from 'react';
import { getStudioApi } from '../../../api/index.ts';
import type { CloudStatus } from '../../../contract.ts';

let current: CloudStatus | null = null;
let started = false;
const listeners = new Set<() => void>();

function set(next: CloudStatus): void {
  current = next;
  for (const l of listeners) l();
}

/** Takes an answer from a sync.* call (they all return the new status). */
export function setCloudStatus(next: CloudStatus): void {
  set(next);
}

function start(): void {
  if (started) return;
  started = true;
  try {
    const api = getStudioApi();
    api.sync.onChanged(set);
    void api.sync.status().then(set, () => undefined);
  } catch {
    // Opened without its session token: the app shows how to get one, and no cloud status is shown.
  }
}

function subscribe(listener: () => void): () => void {
  start();
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useCloudStatus(): CloudStatus | null {
  return useSyncExternalStore(subscribe, () => current);
}

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

/** The status bar's words for the mirror: short, and the same words its accessible name carries. */
export function cloudBadgeText(s: CloudStatus): string {
  if (!s.signedInAs) return 'Cloud: signed out';
  if (!s.enabled) return 'Cloud: off';
  if (s.paused) return 'Cloud: paused';
  if (s.failures.length > 0) return `Cloud: ${s.failures.length} refused`;
  if (s.syncing) return 'Cloud: syncing…';
  if (s.lastError) return 'Cloud: problem';
  if (s.waiting > 0) return `Cloud: ${s.waiting} waiting`;
  return 'Cloud: synced';
}
