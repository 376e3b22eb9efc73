/**
 * Moving the library root to another folder (another disk), with progress. The plan is durable
 * (engine_state `library.move`) and runs in three phases:
 *
 *   copying   every file is copied (temp → fsync → rename) and its copy verified by sha256; the old
 *             root stays the library throughout, so an interruption here — a crash, a kill, a full
 *             disk — leaves the old library whole. Running the move again resumes: copies already
 *             verified are checked and kept.
 *   switched  one transaction points the library at the new root (rows hold relative paths, so no
 *             row changes) and records the phase.
 *   cleanup   files that appeared in the old root meanwhile are copied too, then the old copies of
 *             the files that were moved are removed, and the plan is dropped. An interruption here
 *             is finished on the next open (finishPendingMove).
 *
 * Only files the move copied are ever removed from the old root; anything else there stays.
 */
import { readdir, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Database } from '../db/database.ts';
import type { DataLayout } from '../paths.ts';
import { StudioError } from '../errors.ts';
import { TEMP_FILE_SUFFIX } from '../fs/atomic-write.ts';
import { makeDir } from '../fs/make-dir.ts';
import type { MoveReport } from '../../../src-preload/contract/library.ts';
import { copyFileDurable, isInside, libraryRootOf, setLibraryRoot, sha256Of } from './store.ts';

const PLAN_KEY = 'library.move';

export interface MovePlan {
  readonly from: string;
  readonly to: string;
  readonly phase: 'copying' | 'switched';
  readonly startedAt: number;
}

export function pendingMove(db: Database): MovePlan | null {
  const row = db.get<{ value: string }>('SELECT value FROM engine_state WHERE key = ?', PLAN_KEY);
  if (!row) return null;
  try {
    return JSON.parse(row.value) as MovePlan;
  } catch {
    return null;
  }
}

function savePlan(db: Database, plan: MovePlan): void {
  db.run(
    'INSERT INTO engine_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    PLAN_KEY,
    JSON.stringify(plan),
  );
}

export interface MoveProgress {
  readonly done: number;
  readonly total: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly current: string | null;
}

export interface MoveOptions {
  readonly onProgress?: (p: MoveProgress) => void;
  readonly signal?: AbortSignal;
  /** Tests only: runs after each verified copy (throw to simulate an interruption). */
  readonly afterCopy?: (rel: string) => void;
  /** Tests only: runs after the switch, before the old files are removed. */
  readonly afterSwitch?: () => void;
}

async function listFiles(root: string): Promise<{ rel: string; size: number }[]> {
  const out: { rel: string; size: number }[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) stack.push(full);
      else if (e.isFile() && !e.name.endsWith(TEMP_FILE_SUFFIX)) out.push({ rel: relative(root, full), size: (await stat(full)).size });
    }
  }
  return out.sort((a, b) => a.rel.localeCompare(b.rel));
}

async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw new StudioError('invalid_params', `cannot use ${dir} for the library: ${(error as Error).message}`, { field: 'to' });
  }
}

/** Copies one file and proves the copy; keeps a verified copy from an earlier run. */
async function copyVerified(from: string, to: string, expected: string | undefined): Promise<'copied' | 'kept'> {
  const source = expected ?? (await sha256Of(from));
  const existing = await stat(to).catch(() => null);
  if (existing?.isFile() && existing.size === (await stat(from)).size && (await sha256Of(to)) === source) return 'kept';
  await copyFileDurable(from, to);
  const copy = await sha256Of(to);
  if (copy === source) return 'copied';
  // The stored hash may be stale (the file changed outside the studio): compare with the source itself.
  if (expected !== undefined && copy === (await sha256Of(from))) return 'copied';
  await unlink(to).catch(() => undefined);
  throw new StudioError('move_failed', `the copy of ${from} did not match the original (the disk may be failing); nothing was removed — check the new disk and try again`);
}

async function removeEmptyDirs(root: string, dirs: Iterable<string>): Promise<void> {
  const sorted = [...new Set(dirs)].sort((a, b) => b.length - a.length);
  for (const dir of sorted) {
    let d = dir;
    while (d !== root && isInside(root, d)) {
      try {
        await rmdir(d);
      } catch {
        break;
      }
      d = dirname(d);
    }
  }
  await rmdir(root).catch(() => undefined);
}

/** Moves the library root to `to` (resuming an interrupted move to the same place). */
export async function moveLibraryRoot(db: Database, layout: DataLayout, to: string, options: MoveOptions = {}): Promise<MoveReport> {
  const started = performance.now();
  const target = resolve(to);
  let plan = pendingMove(db);
  if (plan && plan.to !== target) {
    throw new StudioError(
      'move_pending',
      `a move of the library to ${plan.to} is unfinished; move it there first (the same command resumes it), then move it again`,
      { field: 'to' },
    );
  }
  const from = plan?.from ?? libraryRootOf(db, layout);
  if (!plan) {
    if (target === from) throw new StudioError('invalid_params', `the library is already at ${target}`, { field: 'to' });
    if (isInside(from, target) || isInside(target, from)) {
      throw new StudioError('invalid_params', `the new library folder cannot be inside the old one or contain it (${from} → ${target}); choose a separate folder`, {
        field: 'to',
      });
    }
    if (!(await isEmptyDir(target))) {
      throw new StudioError('invalid_params', `${target} is not empty; choose an empty or new folder for the library`, { field: 'to' });
    }
    const running = db.get<{ n: number }>("SELECT count(*) AS n FROM jobs WHERE status = 'running'")?.n ?? 0;
    if (running > 0) {
      throw new StudioError('busy', `${running} job${running === 1 ? ' is' : 's are'} running and writing into the library; pause the queue, wait for ${running === 1 ? 'it' : 'them'} to finish, then move the library`);
    }
    // Made before the plan is saved: a folder that cannot be created (a path under /proc, a
    // read-only disk) is refused now, not left as an unfinished move every later move must finish.
    try {
      await makeDir(target);
    } catch (error) {
      throw new StudioError('invalid_params', `cannot create ${target} for the library (${(error as Error).message}); choose a folder you can write to`, { field: 'to' });
    }
    plan = { from, to: target, phase: 'copying', startedAt: Date.now() };
    savePlan(db, plan);
  }

  const known = new Map(db.all<{ file_path: string; sha256: string }>('SELECT file_path, sha256 FROM assets').map((r) => [r.file_path, r.sha256]));
  let files = 0;
  let bytes = 0;
  let resumed = 0;
  const moved: string[] = [];
  const copyAll = async (list: { rel: string; size: number }[]): Promise<void> => {
    const bytesTotal = list.reduce((s, f) => s + f.size, 0);
    let bytesDone = 0;
    for (let i = 0; i < list.length; i++) {
      if (options.signal?.aborted) {
        throw new StudioError('cancelled', `the library move was stopped after ${i} of ${list.length} files; the library is still at ${from} and whole — move it again to resume`);
      }
      const f = list[i]!;
      const outcome = await copyVerified(join(from, f.rel), join(target, f.rel), known.get(f.rel));
      if (outcome === 'kept') resumed++;
      moved.push(f.rel);
      files++;
      bytes += f.size;
      bytesDone += f.size;
      options.afterCopy?.(f.rel);
      options.onProgress?.({ done: i + 1, total: list.length, bytesDone, bytesTotal, current: f.rel });
    }
  };

  if (plan.phase === 'copying') {
    await copyAll(await listFiles(from));
    db.transaction(() => {
      setLibraryRoot(db, target);
      plan = { ...plan!, phase: 'switched' };
      savePlan(db, plan);
    });
    options.afterSwitch?.();
  }
  // After a switch that was interrupted, `moved` is empty: whatever is left in the old root is
  // verified (or copied) again before it is removed.
  await finishCleanup(db, plan, moved, copyAll);
  return { from, to: target, files, bytes, resumed, durationMs: Math.round(performance.now() - started) };
}

async function finishCleanup(
  db: Database,
  plan: MovePlan,
  moved: string[],
  copyAll: (list: { rel: string; size: number }[]) => Promise<void>,
): Promise<void> {
  // Files written into the old root while the copy ran (a thumbnail, a job's output).
  const movedSet = new Set(moved);
  const late = (await listFiles(plan.from)).filter((f) => !movedSet.has(f.rel));
  if (late.length > 0) {
    await copyAll(late);
    for (const f of late) movedSet.add(f.rel);
  }
  const dirs: string[] = [];
  for (const rel of movedSet) {
    const copy = await stat(join(plan.to, rel)).catch(() => null);
    if (!copy?.isFile()) continue; // never remove an original whose copy is not there
    await unlink(join(plan.from, rel)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    dirs.push(dirname(join(plan.from, rel)));
  }
  await removeEmptyDirs(plan.from, dirs);
  db.run('DELETE FROM engine_state WHERE key = ?', PLAN_KEY);
}

/** On open: a move that had switched roots but not removed the old files is finished. */
export async function finishPendingMove(db: Database): Promise<boolean> {
  const plan = pendingMove(db);
  if (!plan || plan.phase !== 'switched') return false;
  await finishCleanup(db, plan, [], async (list) => {
    for (const f of list) await copyVerified(join(plan.from, f.rel), join(plan.to, f.rel), undefined);
  });
  return true;
}
