/**
 * The library through the real engine and the contract (params parsed by the channel schemas, as
 * the IPC gateway, `studio serve` and the CLI do), and the schema migration from version 1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src-main/engine/engine.ts';
import { Database } from '../../src-main/engine/db/database.ts';
import { MIGRATIONS } from '../../src-main/engine/db/migrations.ts';
import { invoke } from '../../src-main/cli/dispatch.ts';
import { pilPng } from '../fixtures/library/formats.ts';
import { addAsset, writeRaw } from '../fixtures/library/world.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'library-engine-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('library channels on the engine', () => {
  it('query, organise, trash and import through the contract', async () => {
    const engine = await Engine.open({ dataDir: dir, frontDoor: 'cli', role: 'client' });
    try {
      const world = { db: engine.db, layout: engine.layout };
      const a = addAsset(world, { prompt: 'a paper boat on a puddle', seed: 9 });
      const b = addAsset(world, { prompt: 'a paper plane', seed: 9 });
      const h = engine.handlers;
      const page = await invoke(h, 'library.query', { search: 'paper', limit: 1, withTotal: true });
      expect(page.total).toBe(2);
      expect(page.items[0]).toMatchObject({ id: b, mediaUrl: `studio-media://asset/${b}/original`, thumbUrl: null });
      const next = await invoke(h, 'library.query', { search: 'paper', limit: 1, cursor: page.nextCursor! });
      expect(next.items.map((x) => x.id)).toEqual([a]);
      expect((await invoke(h, 'library.sameSeed', { id: a })).map((x) => x.id)).toEqual([b]);
      await invoke(h, 'library.tag', { ids: [a, b], tags: ['boats'] });
      expect(await invoke(h, 'library.tags', undefined)).toEqual([{ id: expect.any(String), name: 'boats', count: 2 }]);
      await invoke(h, 'library.trash', { ids: [a] });
      expect((await invoke(h, 'library.query', { trashed: true })).items.map((x) => x.id)).toEqual([a]);
      await invoke(h, 'library.restore', { ids: [a] });
      expect((await invoke(h, 'library.stats', undefined)).assets).toBe(2);

      writeRaw(join(dir, 'incoming', 'x.png'), pilPng({ width: 8, height: 8, seed: 3, text: [['parameters', 'a wren\nSteps: 5, Sampler: Euler, CFG scale: 3, Seed: 4']] }));
      const report = await invoke(h, 'library.import', { dir: join(dir, 'incoming') });
      expect(report.imported).toHaveLength(1);
      expect((await invoke(h, 'library.get', { id: report.imported[0]!.id }))!.prompt).toBe('a wren');

      await expect(invoke(h, 'library.update', { id: a, rating: 9 })).rejects.toThrow(/rating/);
      await expect(invoke(h, 'library.query', { search: 'x', sort: 'size' })).rejects.toThrow(/sort/);
      await expect(invoke(h, 'library.trash', { ids: [] })).rejects.toThrow(/at least one/);
      expect(await invoke(h, 'library.reveal', { id: a })).toEqual({ revealed: false });
    } finally {
      await engine.close();
    }
  });
});

describe('migration 2', () => {
  it('keeps every version-1 asset, gives each a stable seq in date order, and indexes its prompts', () => {
    const path = join(dir, 'studio.db');
    const v1 = new Database(path, MIGRATIONS.slice(0, 1));
    for (const [id, created, prompt] of [
      ['late', 300, 'a snowy owl'],
      ['early', 100, 'an arctic fox'],
      ['mid', 200, 'a snowy mountain'],
    ] as const) {
      v1.run(
        `INSERT INTO assets (id, bucket, kind, file_path, mime, file_size, sha256, prompt, rating, created_at, updated_at)
         VALUES (?, 'sdxl_image_fast', 'image', ?, 'image/png', 1, ?, ?, 2, ?, ?)`,
        id,
        `sdxl_image_fast/${id}.png`,
        `sha-${id}`,
        prompt,
        created,
        created,
      );
    }
    expect(v1.schemaVersion()).toBe(1);
    v1.close();
    const db = new Database(path);
    try {
      expect(db.schemaVersion()).toBe(MIGRATIONS.at(-1)!.version);
      expect(db.all('SELECT id, rating FROM assets ORDER BY seq')).toEqual([
        { id: 'early', rating: 2 },
        { id: 'mid', rating: 2 },
        { id: 'late', rating: 2 },
      ]);
      expect(db.all<{ id: string }>("SELECT a.id FROM assets a WHERE a.seq IN (SELECT rowid FROM assets_fts WHERE assets_fts MATCH 'snowy') ORDER BY a.seq").map((r) => r.id)).toEqual(['mid', 'late']);
      expect(db.integrityCheck()).toEqual(['ok']);
      expect(() => db.run("INSERT INTO assets_fts (assets_fts, rank) VALUES ('integrity-check', 1)")).not.toThrow();
    } finally {
      db.close();
    }
  });
});
