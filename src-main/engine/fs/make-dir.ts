/**
 * `mkdir -p` that always ends. Node's own `mkdir(dir, { recursive: true })` (sync and async, Node 18
 * to 24 on Linux) never returns for a path under /proc: procfs answers ENOENT for a child of a
 * folder that exists, Node reads that as "the parent is missing", creates the parent (EEXIST) and
 * tries the child again, forever — the sync call spins the event loop, the async one holds a
 * thread-pool thread for good. A request naming `/proc/x` as a library or export folder wedged
 * `studio serve` that way. Here the walk goes up once to the deepest folder that exists and then
 * creates each missing folder once, so every failure is an error with a code and a path.
 */
import { mkdirSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

function fsError(code: string, message: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}, mkdir '${path}'`), { code, path, syscall: 'mkdir' });
}

const codeOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code;

/** The folders to create, outermost first, after checking what exists (`look` is stat). */
function plan(target: string, look: (p: string) => Stats | null): string[] {
  const missing: string[] = [];
  for (let at = target; ; ) {
    const s = look(at);
    if (s) {
      if (!s.isDirectory()) {
        throw at === target ? fsError('EEXIST', 'file already exists', target) : fsError('ENOTDIR', 'not a directory', target);
      }
      return missing.reverse();
    }
    const parent = dirname(at);
    if (parent === at) throw fsError('ENOENT', 'no such file or directory', target);
    missing.push(at);
    at = parent;
  }
}

/** Creates `dir` and the folders above it that are missing; fine when it is already a folder. */
export async function makeDir(dir: string): Promise<void> {
  const target = resolve(dir);
  const known = new Map<string, Stats | null>();
  // stat every ancestor first (async), then plan from what was found.
  for (let at = target; ; at = dirname(at)) {
    const s = await stat(at).catch((e: unknown) => {
      if (codeOf(e) === 'ENOENT') return null;
      throw e;
    });
    known.set(at, s);
    if (s || dirname(at) === at) break;
  }
  for (const d of plan(target, (p) => known.get(p) ?? null)) {
    try {
      await mkdir(d);
    } catch (e) {
      if (codeOf(e) === 'EEXIST' && (await stat(d).catch(() => null))?.isDirectory()) continue;
      throw e;
    }
  }
}

/** makeDir, synchronously. */
export function makeDirSync(dir: string): void {
  const target = resolve(dir);
  const look = (p: string): Stats | null => {
    try {
      return statSync(p);
    } catch (e) {
      if (codeOf(e) === 'ENOENT') return null;
      throw e;
    }
  };
  for (const d of plan(target, look)) {
    try {
      mkdirSync(d);
    } catch (e) {
      if (codeOf(e) === 'EEXIST' && look(d)?.isDirectory()) continue;
      throw e;
    }
  }
}
