import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLibrary } from '../../../src-main/engine/library/handlers.ts';
import type { LibraryHandlers } from '../../../src-main/engine/library/handlers.ts';
import { libraryChannels } from '../../../src-preload/contract/library.ts';
import { addAsset, makeWorld, outboxRows } from '../../fixtures/library/world.ts';
import type { World } from '../../fixtures/library/world.ts';

let w: World;
let h: LibraryHandlers;
beforeEach(() => {
  w = makeWorld();
  h = createLibrary({ db: w.db, layout: w.layout }).handlers;
});
afterEach(async () => {
  await w.close();
});

describe('favourite, rating, title', () => {
  it('updates one asset and records the change for the cloud mirror', async () => {
    const id = addAsset(w);
    const view = await h['library.update']({ id, favorite: true, rating: 4, title: 'Keeper' });
    expect(view).toMatchObject({ favorite: true, rating: 4, title: 'Keeper' });
    expect((await h['library.update']({ id, rating: 2 })).favorite).toBe(true);
    expect(outboxRows(w.db)).toEqual([
      { entity: 'asset', entity_id: id, op: 'upsert' },
      { entity: 'asset', entity_id: id, op: 'upsert' },
    ]);
    await expect(h['library.update']({ id: 'nope', rating: 1 })).rejects.toThrow(/no asset with id nope/);
  });

  it('rejects a rating outside 0–5 at the contract', () => {
    const schema = libraryChannels['library.update'].params;
    expect(schema.safeParse({ id: 'a', rating: 6 }).success).toBe(false);
    expect(schema.safeParse({ id: 'a', rating: 2.5 }).success).toBe(false);
    expect(schema.safeParse({ id: '../etc', rating: 1 }).success).toBe(false);
  });

  it('bulk-updates a selection and ignores ids that are gone', async () => {
    const ids = [addAsset(w), addAsset(w), addAsset(w)];
    expect(await h['library.bulkUpdate']({ ids: [...ids, 'gone'], favorite: true, rating: 5 })).toEqual({ updated: 3 });
    expect(w.library.query({ favorite: true, minRating: 5 }).items).toHaveLength(3);
    expect(outboxRows(w.db).filter((r) => r.entity === 'asset')).toHaveLength(3);
  });
});

describe('tags', () => {
  it('tags and untags a selection; names are case-insensitive and trimmed; counts ignore the trash', async () => {
    const [a, b, c] = [addAsset(w), addAsset(w), addAsset(w, { trashedAt: 1 })];
    expect(await h['library.tag']({ ids: [a!, b!, c!], tags: ['  Sunset ', 'sunset', 'beach'] })).toEqual({ changed: 6 });
    expect(await h['library.tag']({ ids: [a!], tags: ['SUNSET'] })).toEqual({ changed: 0 });
    expect(await h['library.tags'](undefined)).toEqual([
      { id: expect.any(String), name: 'beach', count: 2 },
      { id: expect.any(String), name: 'Sunset', count: 2 },
    ]);
    expect(await h['library.untag']({ ids: [a!], tags: ['sunset'] })).toEqual({ changed: 1 });
    expect((await h['library.get']({ id: a! }))!.tags).toEqual(['beach']);
    const ops = outboxRows(w.db);
    expect(ops.filter((r) => r.entity === 'tag')).toHaveLength(2);
    expect(ops.filter((r) => r.entity === 'asset_tag' && r.op === 'upsert')).toHaveLength(6);
    expect(ops.filter((r) => r.entity === 'asset_tag' && r.op === 'delete')).toEqual([{ entity: 'asset_tag', entity_id: expect.stringContaining(a!), op: 'delete' }]);
  });

  it('renames a tag unless the name is taken, and deletes it from every asset', async () => {
    const a = addAsset(w);
    await h['library.tag']({ ids: [a], tags: ['one', 'two'] });
    const [one, two] = await h['library.tags'](undefined);
    expect((await h['library.tagRename']({ id: one!.id, name: 'uno' })).name).toBe('uno');
    await expect(h['library.tagRename']({ id: one!.id, name: 'TWO' })).rejects.toThrow(/already exists/);
    expect(await h['library.tagDelete']({ id: two!.id })).toEqual({ deleted: true });
    expect((await h['library.get']({ id: a }))!.tags).toEqual(['uno']);
    expect(w.db.get<{ n: number }>('SELECT count(*) AS n FROM asset_tags')!.n).toBe(1);
  });
});

describe('projects, scenes, characters', () => {
  it('creates, lists, updates and deletes them, keeping assets when their project goes', async () => {
    const hero = await h['library.charactersCreate']({ name: 'Mira', appearanceTags: ['red coat', 'short hair'] });
    const project = await h['library.projectsCreate']({ title: 'Night market', mediaType: 'video', characterId: hero.id });
    const s1 = await h['library.scenesCreate']({ projectId: project.id, description: 'wide shot of stalls' });
    const s2 = await h['library.scenesCreate']({ projectId: project.id, description: 'close-up of lanterns' });
    expect([s1.sceneNumber, s2.sceneNumber]).toEqual([1, 2]);
    await expect(h['library.scenesCreate']({ projectId: project.id, description: 'dup', sceneNumber: 2 })).rejects.toThrow(/scene 2 already exists/);
    const asset = addAsset(w);
    expect(await h['library.moveToProject']({ ids: [asset], projectId: project.id })).toEqual({ moved: 1 });
    const detail = await h['library.projectsGet']({ id: project.id });
    expect(detail).toMatchObject({ title: 'Night market', sceneCount: 2, assetCount: 1, character: { name: 'Mira', appearanceTags: ['red coat', 'short hair'] } });
    expect(detail!.scenes.map((s) => s.description)).toEqual(['wide shot of stalls', 'close-up of lanterns']);
    expect((await h['library.projectsUpdate']({ id: project.id, title: 'Night market v2' })).title).toBe('Night market v2');
    expect((await h['library.scenesUpdate']({ id: s2.id, assetId: asset })).assetId).toBe(asset);
    expect(await h['library.scenesDelete']({ id: s1.id })).toEqual({ deleted: true });
    expect((await h['library.projectsList'](undefined))[0]!.sceneCount).toBe(1);
    await expect(h['library.moveToProject']({ ids: [asset], projectId: 'missing' })).rejects.toThrow(/no project/);

    expect(await h['library.projectsDelete']({ id: project.id })).toEqual({ deleted: true });
    expect(await h['library.projectsGet']({ id: project.id })).toBeNull();
    const kept = await h['library.get']({ id: asset });
    expect(kept!.projectId).toBeNull();
    expect(existsSync(join(w.layout.library, w.db.get<{ file_path: string }>('SELECT file_path FROM assets')!.file_path))).toBe(true);
    expect(await h['library.charactersDelete']({ id: hero.id })).toEqual({ deleted: true });
    expect(await h['library.charactersList'](undefined)).toEqual([]);

    const ops = outboxRows(w.db).map((r) => `${r.entity}:${r.op}`);
    expect(ops).toContain('project:delete');
    expect(ops).toContain('scene:delete');
    expect(ops).toContain('character:delete');
    expect(ops.filter((o) => o === 'scene:delete')).toHaveLength(2);
  });

  it('refuses a project whose character does not exist', async () => {
    await expect(h['library.projectsCreate']({ title: 'x', characterId: 'ghost' })).rejects.toThrow(/no character/);
  });
});

describe('stats', () => {
  it('counts assets, trash and disk use per bucket', async () => {
    const a = addAsset(w, { bucket: 'video_fast', kind: 'video', favorite: true });
    addAsset(w, { bucket: 'video_fast', kind: 'video' });
    addAsset(w, { bucket: 'user_uploads' });
    w.library.trash([addAsset(w, { bucket: 'user_uploads' })]);
    const size = (id: string): number => w.db.get<{ file_size: number }>('SELECT file_size FROM assets WHERE id = ?', id)!.file_size;
    const s = await h['library.stats'](undefined);
    expect(s).toMatchObject({ root: w.layout.library, assets: 3, images: 1, videos: 2, favorites: 1, trashed: 1, thumbnailsPending: 3, duplicates: 0, pendingMove: null });
    expect(s.buckets).toHaveLength(12);
    const video = s.buckets.find((b) => b.bucket === 'video_fast')!;
    expect(video.count).toBe(2);
    expect(video.bytes).toBe(w.db.get<{ n: number }>("SELECT sum(file_size) AS n FROM assets WHERE bucket = 'video_fast'")!.n);
    expect(s.buckets.find((b) => b.bucket === 'user_uploads')!.count).toBe(2);
    expect(s.totalBytes).toBe(w.db.get<{ n: number }>('SELECT sum(file_size) AS n FROM assets')!.n);
    expect(s.buckets.find((b) => b.bucket === 'sdxl_image_high')).toEqual({ bucket: 'sdxl_image_high', count: 0, bytes: 0 });
    expect(size(a)).toBeGreaterThan(0);
  });
});
