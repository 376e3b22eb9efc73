import { existsSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeDir, makeDirSync } from '../../../src-main/engine/fs/make-dir.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'make-dir-'));
  dirs.push(d);
  return d;
}

describe('makeDir', () => {
  it('creates the missing folders and accepts one that exists', async () => {
    const root = scratch();
    await makeDir(join(root, 'a', 'b', 'c'));
    expect(statSync(join(root, 'a', 'b', 'c')).isDirectory()).toBe(true);
    await makeDir(join(root, 'a', 'b', 'c'));
    makeDirSync(join(root, 'x', 'y'));
    makeDirSync(join(root, 'x', 'y'));
    expect(statSync(join(root, 'x', 'y')).isDirectory()).toBe(true);
  });

  it('refuses a file in the way with the code mkdir gives', async () => {
    const root = scratch();
    writeFileSync(join(root, 'f'), 'x');
    await expect(makeDir(join(root, 'f'))).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(makeDir(join(root, 'f', 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(() => makeDirSync(join(root, 'f'))).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(() => makeDirSync(join(root, 'f', 'sub'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });

  it('fails under a dangling symbolic link instead of looping', async () => {
    const root = scratch();
    symlinkSync(join(root, 'gone'), join(root, 'link'));
    await expect(makeDir(join(root, 'link', 'sub'))).rejects.toMatchObject({ code: 'EEXIST' });
    expect(() => makeDirSync(join(root, 'link', 'sub'))).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(existsSync(join(root, 'gone'))).toBe(false);
  });

  // Node's own mkdir(…, { recursive: true }) never returns here: procfs answers ENOENT for the child
  // of a folder that exists, and Node creates the parent and tries again, forever.
  it.skipIf(!existsSync('/proc/self'))('fails at once under /proc, where recursive mkdir never returns', async () => {
    const started = performance.now();
    await expect(makeDir('/proc/ourvidz-nope/a/b')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => makeDirSync('/proc/ourvidz-nope')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
