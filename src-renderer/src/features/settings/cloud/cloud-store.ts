/**
 * The cloud mirror's status for this window (Settings → Cloud and the status bar): loaded once from
 * `sync.status`, then kept by the engine's `sync.changed` events. The renderer never sees a token:
 * only who is signed in and what waits.
 */
import { useSyncExternalStore } from 'react';
import { getStudioApi } from '../../../api/index.ts';
import type { CloudStatus } from '../../../contract.ts';

export * from './cloud-text.ts';

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
