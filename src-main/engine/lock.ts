/**
 * The runner lock: exactly one process runs jobs from a data folder at a time, so a job is never
 * run twice at once. Other processes (the CLI while the app is open) act as clients of the queue.
 * A lock left by a killed process is taken over once its pid is gone.
 */
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { diskError } from './errors.ts';

export interface LockOwner {
  readonly pid: number;
  readonly since: number;
  readonly frontDoor: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): LockOwner | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
  } catch {
    return null;
  }
}

export class RunnerLock {
  readonly path: string;
  private held = false;

  private constructor(path: string) {
    this.path = path;
  }

  /**
   * Takes the lock, or returns the live owner that holds it. The owner record is written to a temp
   * file first and linked into place; that temp file never outlives the call, and a full or failing
   * disk is said as such (`disk_full`, `disk_io_error`) instead of a raw ENOSPC.
   */
  static acquire(path: string, frontDoor: string): RunnerLock | LockOwner {
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      return RunnerLock.take(path, tmp, { pid: process.pid, since: Date.now(), frontDoor });
    } catch (e) {
      throw diskError(e, { what: 'could not start the engine (its lock file could not be written)', where: dirname(path) }) ?? e;
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  private static take(path: string, tmp: string, me: LockOwner): RunnerLock | LockOwner {
    writeFileSync(tmp, JSON.stringify(me));
    for (let tries = 0; tries < 3; tries++) {
      try {
        linkSync(tmp, path); // atomic: fails with EEXIST when someone holds it
        const lock = new RunnerLock(path);
        lock.held = true;
        return lock;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const owner = readOwner(path);
        if (owner && owner.pid !== process.pid && alive(owner.pid)) return owner;
        // Stale (its process is gone) or unreadable: remove it and try again.
        rmSync(path, { force: true });
      }
    }
    throw new Error(`could not take the engine lock at ${path}; remove it if no OurVidz Studio is running`);
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    const owner = readOwner(this.path);
    if (owner?.pid === process.pid) rmSync(this.path, { force: true });
  }
}
