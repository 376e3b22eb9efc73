import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyTrash } from '../../../src-main/engine/library/trash.ts';
import { slugForFile } from '../../../src-main/engine/library/export.ts';
import { addAsset, makeWorld, outboxRows } from '../../fixtures/library/world.ts';
import type { World } from '../../fixtures/library/world.ts';

let w: World;
beforeEach(() => {
  w = makeWorld();
});
afterEach(async () => {
  await w.close();
});

function fileOf(id: string): string {
  return join(w.layout.library, w.db.get<{ file_path: string }>('SELECT file_path FROM assets WHERE id = ?', id)!.file_path);
}

describe('trash', () => {
  it('moves to the trash and back without touching the file (undo)', () => {
    const id = addAsset(w);
    const file = fileOf(id);
    expect(w.library.trash([id, id, 'gone'])).toBe(1);
    expect(w.library.query({}).items).toHaveLength(0);
    expect(w.library.query({ trashed: true }).items.map((a) => a.id)).toEqual([id]);
    expect(existsSync(file)).toBe(true);
    expect(w.library.restore([id])).toBe(1);
    expect(w.library.query({}).items.map((a) => a.id)).toEqual([id]);
    expect(w.events.map((e) => (e.payload as { reason: string }).reason)).toEqual(['trashed', 'restored']);
  });

  it('empties the trash: files and thumbnails go, then rows; live assets stay', async () => {
    const keep = addAsset(w);
    const gone = addAsset(w);
    const thumb = join(w.layout.library, '.thumbs', 'sdxl_image_fast', `${gone}.webp`);
    mkdirSync(join(thumb, '..'), { recursive: true });
    writeFileSync(thumb, 'thumb');
    w.db.run('UPDATE assets SET thumb_path = ? WHERE id = ?', join('.thumbs', 'sdxl_image_fast', `${gone}.webp`), gone);
    const goneFile = fileOf(gone);
    const size = readFileSync(goneFile).length;
    w.library.trash([gone]);
    const result = await w.library.emptyTrash();
    expect(result).toEqual({ deleted: 1, freedBytes: size, problems: [] });
    expect(existsSync(goneFile)).toBe(false);
    expect(existsSync(thumb)).toBe(false);
    expect(existsSync(fileOf(keep))).toBe(true);
    expect(w.db.get('SELECT 1 AS x FROM assets WHERE id = ?', gone)).toBeUndefined();
    expect(outboxRows(w.db).at(-1)).toEqual({ entity: 'asset', entity_id: gone, op: 'delete' });
  });

  it('a crash between removing files and rows leaves trashed rows that the next empty finishes', async () => {
    const ids = [addAsset(w), addAsset(w), addAsset(w)];
    const files = ids.map(fileOf);
    w.library.trash(ids);
    let removed = 0;
    await expect(
      emptyTrash(w.db, w.layout.library, {
        afterFileRemoved: () => {
          if (++removed === 2) throw new Error('power cut');
        },
      }),
    ).rejects.toThrow('power cut');
    // Two files are gone, no row was deleted; nothing live lost its file.
    expect(files.filter(existsSync)).toHaveLength(1);
    expect(w.db.get<{ n: number }>('SELECT count(*) AS n FROM assets WHERE trashed_at IS NOT NULL')!.n).toBe(3);
    expect(w.library.query({}).items).toHaveLength(0);
    // Half-deleted assets cannot come back to the library without their files.
    expect(w.library.restore(ids)).toBe(0);
    const again = await w.library.emptyTrash();
    expect(again.deleted).toBe(3);
    expect(again.problems).toEqual([]);
    expect(w.db.get<{ n: number }>('SELECT count(*) AS n FROM assets')!.n).toBe(0);
  });

  it('empties only the ids asked for', async () => {
    const [a, b] = [addAsset(w), addAsset(w)];
    w.library.trash([a!, b!]);
    expect((await w.library.emptyTrash([a!])).deleted).toBe(1);
    expect(w.library.query({ trashed: true }).items.map((x) => x.id)).toEqual([b]);
  });
});

describe('export', () => {
  it('copies originals named from prompt and id, never overwriting, with optional recipe sidecars', async () => {
    const a = addAsset(w, { prompt: 'A red fox / in "snow": 4K!', recipe: { seed: 5, app: 'OurVidz Studio' } });
    const b = addAsset(w, { prompt: null });
    const out = join(w.dir, 'export');
    mkdirSync(out);
    const stem = `${slugForFile('A red fox / in "snow": 4K!')}-${a.slice(0, 8)}`;
    writeFileSync(join(out, `${stem}.png`), 'already here');
    const result = await w.library.export([a, b, 'missing'], out, true);
    expect(result.problems).toEqual([{ id: 'missing', message: expect.stringMatching(/no asset/) }]);
    expect(readFileSync(join(out, `${stem}.png`), 'utf8')).toBe('already here');
    const [fa, fb] = result.files;
    expect(fa!.file).toBe(join(out, `${stem} (2).png`));
    expect(readFileSync(fa!.file).equals(readFileSync(fileOf(a)))).toBe(true);
    expect(fb!.file).toBe(join(out, `asset-${b.slice(0, 8)}.png`));
    const sidecar = JSON.parse(readFileSync(fa!.sidecar!, 'utf8')) as Record<string, unknown>;
    expect(sidecar).toMatchObject({ id: a, prompt: 'A red fox / in "snow": 4K!', recipe: { seed: 5, app: 'OurVidz Studio' } });
    expect(sidecar.mediaUrl).toBeUndefined();
    expect(readdirSync(out).sort()).toEqual([`${stem} (2).json`, `${stem} (2).png`, `${stem}.png`, `asset-${b.slice(0, 8)}.json`, `asset-${b.slice(0, 8)}.png`].sort());
  });

  it('makes file names safe on every system', () => {
    expect(slugForFile('a/b\\c:d*e?f"g<h>i|j')).toBe('a-b-c-d-e-f-g-h-i-j');
    expect(slugForFile('../../etc/passwd')).toBe('etc-passwd');
    expect(slugForFile('CON')).toBe('CON-asset');
    expect(slugForFile('東京の夜景')).toBe('東京の夜景');
    expect(slugForFile('x'.repeat(200))).toHaveLength(60);
  });

  it('gives the real path of an asset for reveal-in-folder, and refuses unknown ids', async () => {
    const id = addAsset(w);
    expect(await w.library.revealPath(id)).toBe(fileOf(id));
    expect(await w.library.reveal(id)).toBe(false);
    await expect(w.library.revealPath('nope')).rejects.toThrow(/no asset/);
  });
});
