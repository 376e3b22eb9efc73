/**
 * Moving the library root: copy + verify before removing, and an interruption at any point —
 * an abort, a kill -9 mid-copy, a crash after the switch — leaves a whole library behind.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../../src-main/engine/db/database.ts';
import { Library } from '../../src-main/engine/library/library.ts';
import { moveLibraryRoot } from '../../src-main/engine/library/move.ts';
import type { LibraryProgress } from '../../src-preload/contract/library.ts';
import { pilPng } from '../fixtures/library/formats.ts';
import { addAsset, makeWorld, writeRaw } from '../fixtures/library/world.ts';
import type { World } from '../fixtures/library/world.ts';

let w: World;
let ids: string[];
beforeEach(() => {
  w = makeWorld();
  ids = [];
  for (let i = 0; i < 24; i++) ids.push(addAsset(w, { bytes: pilPng({ width: 24, height: 24, seed: i }), bucket: i % 2 ? 'user_uploads' : 'sdxl_image_high' }));
  writeRaw(join(w.layout.library, '.thumbs', 'user_uploads', `${ids[1]}.webp`), 'thumb bytes');
  w.db.run('UPDATE assets SET thumb_path = ? WHERE id = ?', join('.thumbs', 'user_uploads', `${ids[1]}.webp`), ids[1]!);
});
afterEach(async () => {
  await w.close();
});

/** Every asset's file under `root` matches its recorded sha256. */
function wholeAt(root: string): boolean {
  return w.db
    .all<{ file_path: string; sha256: string }>('SELECT file_path, sha256 FROM assets')
    .every((r) => existsSync(join(root, r.file_path)) && createHash('sha256').update(readFileSync(join(root, r.file_path))).digest('hex') === r.sha256);
}

describe('moving the library root', () => {
  it('copies, verifies, switches and removes the old files, with progress', async () => {
    const to = join(w.dir, 'other-disk', 'Library');
    const progress: LibraryProgress[] = [];
    const report = await w.library.moveRoot(to, { onProgress: (p) => progress.push(p) });
    expect(report).toMatchObject({ to, files: 25, resumed: 0 });
    expect(w.library.root).toBe(to);
    expect(wholeAt(to)).toBe(true);
    expect(existsSync(w.layout.library)).toBe(false);
    expect(w.library.stats()).toMatchObject({ root: to, pendingMove: null, assets: 24 });
    expect(progress.at(-1)).toMatchObject({ task: 'move', done: 25, total: 25 });
    expect(progress.at(-1)!.bytesDone).toBe(progress.at(-1)!.bytesTotal);
    expect(progress.map((p) => p.done)).toEqual(progress.map((_, i) => i + 1));
    expect((await w.library.resolveMedia(ids[1]!, 'thumb'))!.path.startsWith(to)).toBe(true);
    // The database survives a reopen pointing at the new root.
    const again = new Library({ db: new Database(w.layout.database), layout: w.layout });
    expect(again.root).toBe(to);
    again.db.close();
  });

  it('stopped mid-copy, leaves the old library whole and in use; moving again resumes', async () => {
    const to = join(w.dir, 'new');
    const stop = new AbortController();
    let copied = 0;
    await expect(
      w.library.moveRoot(to, {
        signal: stop.signal,
        onProgress: () => {
          if (++copied === 7) stop.abort();
        },
      }),
    ).rejects.toThrow(/stopped after 7 of 25 files.*still at .* and whole/);
    expect(w.library.root).toBe(w.layout.library);
    expect(wholeAt(w.layout.library)).toBe(true);
    expect(w.library.stats().pendingMove).toMatchObject({ to, phase: 'copying' });
    await expect(w.library.moveRoot(join(w.dir, 'elsewhere'))).rejects.toThrow(/unfinished/);
    const report = await w.library.moveRoot(to);
    expect(report.resumed).toBe(7);
    expect(w.library.root).toBe(to);
    expect(wholeAt(to)).toBe(true);
    expect(existsSync(w.layout.library)).toBe(false);
  });

  it('killed with SIGKILL mid-copy, leaves the old library whole; the next move finishes', async () => {
    const to = join(w.dir, 'killed-target');
    const host = fileURLToPath(new URL('../fixtures/library/move-host.ts', import.meta.url));
    const child = spawn(process.execPath, [host, w.dir, to, '200'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      let lines = 0;
      child.stdout.on('data', (chunk: Buffer) => {
        lines += chunk.toString().split('\n').filter((l) => l.startsWith('copied')).length;
        if (lines >= 5) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', (code) => (lines < 5 ? reject(new Error(`move host exited early (${code})`)) : undefined));
    });
    await new Promise((resolve) => child.on('close', resolve));
    const db = new Database(w.layout.database);
    const lib = new Library({ db, layout: w.layout });
    try {
      expect(lib.root).toBe(w.layout.library);
      expect(wholeAt(w.layout.library)).toBe(true);
      expect(lib.stats().pendingMove).toMatchObject({ to, phase: 'copying' });
      const report = await lib.moveRoot(to);
      expect(report.resumed).toBeGreaterThanOrEqual(5);
      expect(lib.root).toBe(to);
      expect(wholeAt(to)).toBe(true);
    } finally {
      db.close();
    }
  });

  it('interrupted after the switch, uses the new root at once and removes the old files on the next start', async () => {
    const to = join(w.dir, 'switched');
    await expect(
      moveLibraryRoot(w.db, w.layout, to, {
        afterSwitch: () => {
          throw new Error('crash after switch');
        },
      }),
    ).rejects.toThrow('crash after switch');
    expect(w.library.root).toBe(to);
    expect(wholeAt(to)).toBe(true);
    expect(wholeAt(w.layout.library)).toBe(true);
    // A file written into the old root meanwhile is carried over, not lost.
    writeRaw(join(w.layout.library, 'user_uploads', 'late.png'), 'late');
    await w.library.start();
    expect(w.library.stats().pendingMove).toBeNull();
    expect(readFileSync(join(to, 'user_uploads', 'late.png'), 'utf8')).toBe('late');
    expect(existsSync(w.layout.library)).toBe(false);
  });

  it('refuses a folder inside the library, a non-empty folder, and a move while jobs run', async () => {
    await expect(w.library.moveRoot(join(w.layout.library, 'sub'))).rejects.toThrow(/inside the old one/);
    const busy = join(w.dir, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'x'), 'x');
    await expect(w.library.moveRoot(busy)).rejects.toThrow(/not empty/);
    await expect(w.library.moveRoot(w.layout.library)).rejects.toThrow(/already at/);
    w.db.run(
      `INSERT INTO jobs (id, job_type, model_family, quality, format, params, original_prompt, status, status_at, sort_key, max_attempts, created_at)
       VALUES ('j', 'sdxl_image_fast', 'sdxl', 'fast', 'image', '{}', 'p', 'running', 0, 0, 3, 0)`,
    );
    await expect(w.library.moveRoot(join(w.dir, 'free'))).rejects.toThrow(/pause the queue/);
    expect(w.library.stats().pendingMove).toBeNull();
  });
});
