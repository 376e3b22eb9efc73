import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIBRARY_COMMANDS, queryFromFlags, resolveId } from '../../../src-main/cli/library.ts';
import type { LibraryCommandName } from '../../../src-main/cli/library.ts';
import type { Io } from '../../../src-main/cli/io.ts';
import { pilPng } from '../../fixtures/library/formats.ts';
import { addAsset, makeWorld, writeRaw } from '../../fixtures/library/world.ts';
import type { World } from '../../fixtures/library/world.ts';

let w: World;
beforeEach(() => {
  w = makeWorld();
});
afterEach(async () => {
  await w.close();
});

function io(): Io & { out: string; err: string } {
  const o = {
    out: '',
    err: '',
    stdout: { write: (s: string) => (o.out += s) },
    stderr: { write: (s: string) => (o.err += s), isTTY: false },
    env: {},
    now: () => 0,
    onInterrupt: () => () => undefined,
    untilStopped: () => new Promise<string>(() => undefined),
  };
  return o;
}

async function run(name: LibraryCommandName, args: string[] = [], values: Record<string, unknown> = {}, json = false) {
  const o = io();
  const code = await LIBRARY_COMMANDS[name].run({ library: w.library, io: o, json, values, args });
  return { code, out: o.out, err: o.err };
}

describe('studio library commands', () => {
  it('list --json prints one document with the same page the app gets', async () => {
    addAsset(w, { prompt: 'a red fox', model: 'm1', rating: 4 });
    addAsset(w, { prompt: 'a blue whale', model: 'm2' });
    const r = await run('library list', [], { search: 'fox', 'min-rating': '3' }, true);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { items: { prompt: string }[]; total: number; nextCursor: null };
    expect(doc.items.map((i) => i.prompt)).toEqual(['a red fox']);
    expect(doc.total).toBe(1);
    const table = await run('library list', [], { sort: 'prompt' });
    expect(table.out.split('\n')[0]).toMatch(/^ID\s+ADDED\s+TYPE/);
    expect(table.out).toMatch(/a blue whale[\s\S]*a red fox/);
  });

  it('list --all follows every page', async () => {
    for (let i = 0; i < 7; i++) addAsset(w);
    const r = await run('library list', [], { limit: '3', all: true }, true);
    expect((JSON.parse(r.out) as { items: unknown[] }).items).toHaveLength(7);
  });

  it('turns flags into a contract query and rejects bad values with the field named', () => {
    expect(queryFromFlags({ type: ['video_fast,image_high'], from: '2025-01-02', to: '2025-01-02', project: 'none', 'any-tag': true, tag: ['a'] })).toEqual({
      buckets: ['video_fast', 'image_high'],
      from: Date.UTC(2025, 0, 2),
      to: Date.UTC(2025, 0, 3) - 1,
      projectId: null,
      tagMode: 'any',
      tags: ['a'],
    });
    expect(() => queryFromFlags({ kind: 'gif' })).toThrow(/kind/);
    expect(() => queryFromFlags({ from: 'yesterday' })).toThrow(/--from must be a date/);
    expect(() => queryFromFlags({ 'min-rating': '9' })).toThrow(/minRating/);
  });

  it('accepts an unambiguous id prefix, as list shows them', () => {
    addAsset(w, { id: 'abcdef12-0000' });
    addAsset(w, { id: 'abcdef99-0000' });
    expect(resolveId(w.library, 'abcdef12')).toBe('abcdef12-0000');
    expect(() => resolveId(w.library, 'abcdef')).toThrow(/more than one/);
    expect(() => resolveId(w.library, 'zzzz')).toThrow(/no asset/);
  });

  it('tags, trashes, restores and empties the trash only with --yes', async () => {
    const id = addAsset(w);
    expect((await run('library tag', [id], { tag: ['keep'] })).out).toMatch(/1 tag added/);
    expect(w.library.get(id)!.tags).toEqual(['keep']);
    await run('library trash', [id]);
    const dry = await run('library empty-trash');
    expect(dry.code).toBe(2);
    expect(dry.out).toMatch(/would be deleted.*--yes/);
    expect(w.library.stats().trashed).toBe(1);
    await run('library restore', [id]);
    await run('library trash', [id]);
    const real = await run('library empty-trash', [], { yes: true });
    expect(real.out).toMatch(/1 deleted/);
    expect(w.library.stats().trashed).toBe(0);
  });

  it('imports a folder, exports a selection and prints what check did', async () => {
    writeRaw(join(w.dir, 'in', 'one.png'), pilPng({ width: 8, height: 8, seed: 1, text: [['parameters', 'a moth\nSteps: 2, Sampler: Euler, CFG scale: 1, Seed: 3']] }));
    writeRaw(join(w.dir, 'in', 'junk.png'), 'not a png');
    const imp = await run('library import', [join(w.dir, 'in')]);
    expect(imp.out).toMatch(/imported 1 of 2 files.*1 skipped/);
    expect(imp.err).toMatch(/skipped junk\.png is not a PNG/);
    const id = w.library.query({}).items[0]!.id;
    const exp = await run('library export', [id.slice(0, 8)], { to: join(w.dir, 'out'), sidecar: true });
    expect(exp.code).toBe(0);
    expect(existsSync(exp.out.trim())).toBe(true);
    expect(exp.out.trim()).toMatch(/a-moth-.{8}\.png$/);
    writeRaw(join(w.layout.library, 'user_uploads', 'stray.txt'), 'x');
    const check = await run('library check');
    expect(check.code).toBe(0); // a file left in place is reported but needs no repair
    expect(check.out).toMatch(/left-in-place\s+user_uploads\/stray\.txt/);
    const stats = await run('library stats', [], {}, true);
    expect(JSON.parse(stats.out)).toMatchObject({ assets: 1 });
  });
});
