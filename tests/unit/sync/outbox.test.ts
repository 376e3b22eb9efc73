/**
 * The mirror's outbox in the studio database, without a server: which library edits record which
 * ops, that they are written in the edit's own transaction, and that nothing is recorded while off.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProject, deleteProject } from '../../../src-main/engine/library/projects.ts';
import { deleteTag, moveToProject, renameTag, tagAssets, untagAssets, updateAsset } from '../../../src-main/engine/library/organise.ts';
import { emptyTrash, restoreAssets, trashAssets } from '../../../src-main/engine/library/trash.ts';
import { HLC_PATTERN } from '../../../src-main/engine/sync/hlc.ts';
import { setSyncEnabled } from '../../../src-main/engine/sync/outbox.ts';
import { elementId } from '../../../src-main/engine/sync/tables.ts';
import { addAsset, makeWorld, type World } from '../../fixtures/library/world.ts';

interface Op {
  tbl: string;
  row_id: string;
  set: Record<string, unknown>;
  hlc: string;
}

let w: World;
beforeEach(() => {
  w = makeWorld();
});
afterEach(async () => {
  await w.close();
});

function ops(): Op[] {
  return w.db
    .all<{ tbl: string; row_id: string; patch: string; hlc: string }>('SELECT tbl, row_id, patch, hlc FROM sync_outbox ORDER BY seq')
    .map((r) => ({ tbl: r.tbl, row_id: r.row_id, set: JSON.parse(r.patch) as Record<string, unknown>, hlc: r.hlc }));
}
function drain(): Op[] {
  const out = ops();
  w.db.run('DELETE FROM sync_outbox');
  return out;
}

describe('sync outbox', () => {
  it('records nothing while sync is off', () => {
    const id = addAsset(w, { prompt: 'quiet' });
    updateAsset(w.db, id, { favorite: true });
    tagAssets(w.db, [id], ['x']);
    trashAssets(w.db, [id]);
    expect(ops()).toEqual([]);
  });

  it('back-fills an existing library in one pass when turned on: projects before the assets in them, then tags', () => {
    const project = createProject(w.db, { title: 'Harbour' });
    const id = addAsset(w, { prompt: 'a boat', seed: 12, favorite: true, projectId: project.id });
    tagAssets(w.db, [id], ['Sea']);
    expect(setSyncEnabled(w.db, true).backfilled).toBe(3);
    const [p, a, t] = ops();
    expect(p).toMatchObject({ tbl: 'projects', row_id: project.id, set: { title: 'Harbour' } });
    expect(a).toMatchObject({ tbl: 'images', row_id: id, set: { prompt: 'a boat', seed: 12, favorite: true, project_id: project.id, bucket: 'sdxl_image_fast' } });
    expect(t).toEqual({ tbl: 'asset_tags', row_id: elementId(id, 'sea'), set: { asset_kind: 'image', asset_id: id, tag: 'Sea' }, hlc: expect.stringMatching(HLC_PATTERN) });
    // Clocks grow op after op.
    expect([p!.hlc, a!.hlc, t!.hlc]).toEqual([p!.hlc, a!.hlc, t!.hlc].sort());
    // Turning it on again records nothing new.
    expect(setSyncEnabled(w.db, true).backfilled).toBe(0);
  });

  it('records only the fields an edit changed, each tag as its own row, and a delete for good as a tombstone', async () => {
    const id = addAsset(w, { prompt: 'edited' });
    setSyncEnabled(w.db, true);
    drain();
    updateAsset(w.db, id, { favorite: true });
    expect(drain()).toEqual([{ tbl: 'images', row_id: id, set: { favorite: true }, hlc: expect.stringMatching(HLC_PATTERN) }]);
    updateAsset(w.db, id, { favorite: true }); // no change, no op
    expect(drain()).toEqual([]);

    tagAssets(w.db, [id], ['Dusk', 'sea']);
    expect(drain().map((o) => [o.tbl, o.row_id, o.set.tag])).toEqual([
      ['asset_tags', elementId(id, 'dusk'), 'Dusk'],
      ['asset_tags', elementId(id, 'sea'), 'sea'],
    ]);
    untagAssets(w.db, [id], ['sea']);
    expect(drain()).toEqual([{ tbl: 'asset_tags', row_id: elementId(id, 'sea'), set: { deleted_at: expect.any(String) }, hlc: expect.any(String) }]);
    tagAssets(w.db, [id], ['sea']); // added back: the same row, alive again
    expect(drain()).toEqual([{ tbl: 'asset_tags', row_id: elementId(id, 'sea'), set: { deleted_at: null }, hlc: expect.any(String) }]);
    const dusk = w.db.get<{ id: string }>(`SELECT id FROM tags WHERE name = 'Dusk'`)!.id;
    renameTag(w.db, dusk, 'Evening');
    expect(drain().map((o) => [o.row_id, o.set])).toEqual([
      [elementId(id, 'dusk'), { deleted_at: expect.any(String) }],
      [elementId(id, 'evening'), { asset_kind: 'image', asset_id: id, tag: 'Evening' }],
    ]);
    deleteTag(w.db, dusk);
    expect(drain().map((o) => [o.row_id, Object.keys(o.set)])).toEqual([[elementId(id, 'evening'), ['deleted_at']]]);

    const project = createProject(w.db, { title: 'P' });
    moveToProject(w.db, [id], project.id);
    expect(drain().map((o) => [o.tbl, o.set.project_id ?? o.set.title])).toEqual([
      ['projects', 'P'],
      ['images', project.id],
    ]);
    deleteProject(w.db, project.id);
    expect(drain().map((o) => [o.tbl, o.set])).toEqual([
      ['images', { project_id: null }],
      ['projects', { deleted_at: expect.any(String) }],
    ]);

    trashAssets(w.db, [id]);
    restoreAssets(w.db, [id]);
    expect(drain().map((o) => o.set.trashed_at === null ? 'restored' : 'trashed')).toEqual(['trashed', 'restored']);
    trashAssets(w.db, [id]);
    drain();
    await emptyTrash(w.db, w.layout.library, { ids: [id] });
    expect(drain()).toEqual([{ tbl: 'images', row_id: id, set: { deleted_at: expect.any(String) }, hlc: expect.any(String) }]);
  });

  it('writes the op in the edit’s transaction: an edit that fails leaves no op', () => {
    const id = addAsset(w);
    setSyncEnabled(w.db, true);
    drain();
    expect(() =>
      w.db.transaction(() => {
        updateAsset(w.db, id, { title: 'rolled back' });
        throw new Error('disk gone');
      }),
    ).toThrow('disk gone');
    expect(ops()).toEqual([]);
    expect(w.db.get<{ title: string | null }>('SELECT title FROM assets WHERE id = ?', id)?.title).toBeNull();
    // And the per-field clock did not move either: the next edit of the title is recorded.
    updateAsset(w.db, id, { title: 'kept' });
    expect(drain().map((o) => o.set)).toEqual([{ title: 'kept' }]);
  });
});
