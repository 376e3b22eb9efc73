/**
 * A library move or export aimed at a folder that cannot be made because of the file system it is
 * on, not its permissions: under /proc, Node's `mkdir(…, { recursive: true })` never returns (procfs
 * answers ENOENT for a child of a folder that exists, and Node retries forever), and a request naming
 * such a folder wedged `studio serve` (found by the request fuzzer), and `studio --data /proc/x` spun
 * at 100 % CPU forever. Each must fail at once with a sentence, and a refused move must leave no
 * unfinished move behind.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pilPng } from '../fixtures/library/formats.ts';
import { studio } from '../helpers/cli.ts';
import { addAsset, makeWorld } from '../fixtures/library/world.ts';
import type { World } from '../fixtures/library/world.ts';

let w: World;
let ids: string[];
beforeEach(() => {
  w = makeWorld();
  ids = [0, 1, 2].map((i) => addAsset(w, { bytes: pilPng({ width: 16, height: 16, seed: i }), bucket: 'user_uploads' }));
});
afterEach(async () => {
  await w.close();
});

describe.skipIf(!existsSync('/proc/self'))('a library folder under /proc', () => {
  it('is refused at once for a move, which leaves nothing pending and can go elsewhere after', async () => {
    const started = performance.now();
    await expect(w.library.moveRoot('/proc/ourvidz-nope/Library')).rejects.toMatchObject({
      code: 'invalid_params',
      message: expect.stringMatching(/^cannot create \/proc\/ourvidz-nope\/Library for the library .*choose a folder you can write to$/),
    });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(w.library.stats()).toMatchObject({ pendingMove: null, assets: 3 });
    const to = join(w.dir, 'elsewhere');
    await expect(w.library.moveRoot(to)).resolves.toMatchObject({ to, files: 3 });
  });

  it('is refused at once for an export', async () => {
    const started = performance.now();
    await expect(w.library.export(ids, '/proc/ourvidz-nope/out')).rejects.toMatchObject({
      code: 'export_failed',
      message: expect.stringMatching(/^cannot create the export folder \/proc\/ourvidz-nope\/out \(ENOENT/),
    });
    expect(performance.now() - started).toBeLessThan(3000);
  });
});

describe.skipIf(!existsSync('/proc/self'))('a data folder under /proc', () => {
  it('ends the CLI at once with a sentence instead of spinning', async () => {
    const r = await studio(['--data', '/proc/ourvidz-nope', 'queue', 'status'], { timeoutMs: 20_000 });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/\/proc\/ourvidz-nope: there is no such file or folder \(ENOENT\); check the path and try again/);
  }, 30_000);
});
