/**
 * `library check`: rows without files, files without rows, leftovers — found, and repaired safely.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeGeneratedPng } from '../../src-main/engine/media/png.ts';
import { relativeAssetPath } from '../../src-main/engine/library/store.ts';
import type { CheckReport } from '../../src-preload/contract/library.ts';
import { pilPng, pixels } from '../fixtures/library/formats.ts';
import { addAsset, makeWorld, writeRaw } from '../fixtures/library/world.ts';
import type { World } from '../fixtures/library/world.ts';

let w: World;
beforeEach(() => {
  w = makeWorld();
});
afterEach(async () => {
  await w.close();
});

function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

interface Scene {
  live: string;
  liveMissing: string;
  trashedMissing: string;
  oursId: string;
  oursRel: string;
  foreignRel: string;
  uploadRel: string;
  strayRel: string;
  tempRel: string;
  orphanThumbRel: string;
  resized: string;
}

function stage(): Scene {
  const lib = w.layout.library;
  const live = addAsset(w, { prompt: 'kept' });
  const liveMissing = addAsset(w, { prompt: 'lost its file' });
  const trashedMissing = addAsset(w, { trashedAt: 5 });
  for (const id of [liveMissing, trashedMissing]) {
    unlinkSync(join(lib, w.db.get<{ file_path: string }>('SELECT file_path FROM assets WHERE id = ?', id)!.file_path));
  }
  // Emptying the trash had removed its file when the power went.
  w.db.run('UPDATE assets SET purge_started_at = 6 WHERE id = ?', trashedMissing);
  // A job's output placed in the library, then the process died before the row was written.
  const oursId = randomUUID();
  const oursRel = relativeAssetPath('sdxl_image_high', oursId, '.png', new Date(Date.UTC(2025, 2, 4)));
  writeRaw(
    join(lib, oursRel),
    Buffer.from(
      encodeGeneratedPng({
        rgb: pixels(16, 16, 3),
        width: 16,
        height: 16,
        parameters: 'a ship in a bottle\nSteps: 25, Sampler: Euler, CFG scale: 7, Seed: 11, Size: 16x16',
        recipe: { app: 'OurVidz Studio', jobId: 'job-gone', jobType: 'sdxl_image_high', prompt: 'a ship in a bottle', negativePrompt: '', seed: 11, steps: 25, guidance: 7, scheduler: 'euler', model: { id: 'sdxl' }, batchIndex: 3 },
      }),
    ),
  );
  const foreignRel = join('sdxl_image_fast', '2025', '01', 'from-somewhere.png');
  writeRaw(join(lib, foreignRel), pilPng({ width: 8, height: 8, seed: 44 }));
  const uploadRel = join('user_uploads', '2025', '01', 'half-imported.png');
  writeRaw(join(lib, uploadRel), pilPng({ width: 8, height: 8, seed: 45, text: [['parameters', 'a kite\nSteps: 3, Sampler: Euler, CFG scale: 2, Seed: 9']] }));
  const strayRel = 'notes.txt';
  writeRaw(join(lib, strayRel), 'my notes');
  const tempRel = join('sdxl_image_fast', '2025', '01', `.x.png.${deadPid()}.0123456789ab.ourvidz-tmp`);
  writeRaw(join(lib, tempRel), 'half a png');
  const orphanThumbRel = join('.thumbs', 'sdxl_image_fast', 'no-such-asset.webp');
  writeRaw(join(lib, orphanThumbRel), 'thumb');
  // A file changed by another program since it was added.
  const resized = addAsset(w);
  writeFileSync(join(lib, w.db.get<{ file_path: string }>('SELECT file_path FROM assets WHERE id = ?', resized)!.file_path), 'edited elsewhere');
  return { live, liveMissing, trashedMissing, oursId, oursRel, foreignRel, uploadRel, strayRel, tempRel, orphanThumbRel, resized };
}

function byKind(report: CheckReport): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of report.findings) (out[f.kind] ??= []).push(`${f.action}:${f.assetId ?? f.path}`);
  return out;
}

describe('library check', () => {
  it('without repair, reports everything and changes nothing', async () => {
    const s = stage();
    const rowsBefore = w.db.all('SELECT id, trashed_at FROM assets ORDER BY id');
    const filesBefore = readdirSync(w.layout.library, { recursive: true }).sort();
    const report = await w.library.check(false);
    expect(report.repaired).toBe(false);
    expect(report.findings.every((f) => f.action === 'reported' || f.action === 'left-in-place')).toBe(true);
    const kinds = byKind(report);
    expect(kinds['row-without-file']!.sort()).toEqual([`reported:${s.liveMissing}`, `reported:${s.trashedMissing}`].sort());
    expect(kinds['file-without-row']!.sort()).toEqual(
      [`reported:${s.oursRel}`, `reported:${s.uploadRel}`, `left-in-place:${s.foreignRel}`, `left-in-place:${s.strayRel}`].sort(),
    );
    expect(kinds['temp-leftover']).toEqual([`reported:${s.tempRel}`]);
    expect(kinds['orphan-thumbnail']).toEqual([`reported:${s.orphanThumbRel}`]);
    expect(kinds['size-mismatch']).toEqual([`reported:${s.resized}`]);
    for (const f of report.findings) expect(f.message.length).toBeGreaterThan(20);
    expect(w.db.all('SELECT id, trashed_at FROM assets ORDER BY id')).toEqual(rowsBefore);
    expect(readdirSync(w.layout.library, { recursive: true }).sort()).toEqual(filesBefore);
  });

  it('with repair, finishes deletes, trashes rows without files, adopts our files, removes only our leftovers', async () => {
    const s = stage();
    const report = await w.library.check(true);
    const kinds = byKind(report);
    expect(kinds['row-without-file']!.sort()).toEqual([`finished-trash-delete:${s.trashedMissing}`, `trashed-missing-file:${s.liveMissing}`].sort());
    expect(w.db.get('SELECT 1 AS x FROM assets WHERE id = ?', s.trashedMissing)).toBeUndefined();
    expect(w.library.query({ trashed: true }).items.map((a) => a.id)).toEqual([s.liveMissing]);

    // Our orphan is adopted under the id its name carries, with its recipe's settings.
    const ours = w.library.get(s.oursId)!;
    expect(ours).toMatchObject({ bucket: 'sdxl_image_high', prompt: 'a ship in a bottle', seed: 11, steps: 25, batchIndex: 3, jobId: null });
    expect(ours.recipe).toMatchObject({ jobId: 'job-gone' });
    const upload = report.findings.find((f) => f.path === s.uploadRel)!;
    expect(upload.action).toBe('adopted');
    expect(w.library.get(upload.assetId!)).toMatchObject({ bucket: 'user_uploads', prompt: 'a kite', seed: 9 });

    // Not ours: left exactly where it was.
    expect(existsSync(join(w.layout.library, s.foreignRel))).toBe(true);
    expect(existsSync(join(w.layout.library, s.strayRel))).toBe(true);
    expect(report.findings.find((f) => f.path === s.foreignRel)).toMatchObject({ action: 'left-in-place', message: expect.stringMatching(/not made by this studio.*left in place/) });
    // Ours and disposable: gone.
    expect(existsSync(join(w.layout.library, s.tempRel))).toBe(false);
    expect(existsSync(join(w.layout.library, s.orphanThumbRel))).toBe(false);
    expect(kinds['temp-leftover']).toEqual([`removed-temp:${s.tempRel}`]);
    // The edited file is reported, never "fixed".
    expect(statSync(join(w.layout.library, w.db.get<{ file_path: string }>('SELECT file_path FROM assets WHERE id = ?', s.resized)!.file_path)).size).toBe(16);

    // A second run repairs nothing more: what is left is for the user to decide.
    await w.library.thumbnails.idle();
    const again = await w.library.check(true);
    expect(again.findings.map((f) => `${f.kind}:${f.action}`).sort()).toEqual([
      'file-without-row:left-in-place',
      'file-without-row:left-in-place',
      'row-without-file:reported',
      'size-mismatch:reported',
    ]);
    expect(again.findings.find((f) => f.kind === 'row-without-file')).toMatchObject({ assetId: s.liveMissing, message: expect.stringMatching(/empty the trash/) });
  });

  it('remakes missing thumbnails, links a made-but-unrecorded one, and rebuilds a search index out of step', async () => {
    const lib = w.layout.library;
    const a = addAsset(w, { prompt: 'alpha centauri' });
    const b = addAsset(w);
    w.db.run("UPDATE assets SET thumb_path = '.thumbs/sdxl_image_fast/gone.webp' WHERE id = ?", a);
    writeRaw(join(lib, '.thumbs', 'sdxl_image_fast', `${b}.webp`), 'made before a crash');
    const seq = w.db.get<{ seq: number }>('SELECT seq FROM assets WHERE id = ?', a)!.seq;
    w.db.run("INSERT INTO assets_fts (assets_fts, rowid, prompt, negative_prompt, enhanced_prompt) VALUES ('delete', ?, 'alpha centauri', NULL, NULL)", seq);
    expect(w.library.query({ search: 'alpha' }).items).toHaveLength(0);
    const report = await w.library.check(true);
    expect(byKind(report)['missing-thumbnail']).toContain(`thumbnail-requeued:${a}`);
    expect(byKind(report)['search-index']).toEqual(['search-index-rebuilt:null']);
    expect(w.db.get<{ thumb_path: string }>('SELECT thumb_path FROM assets WHERE id = ?', b)!.thumb_path).toBe(join('.thumbs', 'sdxl_image_fast', `${b}.webp`));
    expect(w.library.query({ search: 'alpha' }).items.map((x) => x.id)).toEqual([a]);
    await w.library.thumbnails.idle();
    expect(w.db.get<{ thumb_path: string | null }>('SELECT thumb_path FROM assets WHERE id = ?', a)!.thumb_path).toMatch(/\.webp$/);
  });

  it('reports the same content stored twice', async () => {
    const bytes = pilPng({ width: 4, height: 4, seed: 77 });
    const a = addAsset(w, { bytes });
    const b = addAsset(w, { bytes });
    const report = await w.library.check(false);
    expect(report.findings.filter((f) => f.kind === 'duplicate').map((f) => f.message)).toEqual([expect.stringContaining(a)]);
    expect(report.findings.find((f) => f.kind === 'duplicate')!.message).toContain(b);
    expect(w.library.stats().duplicates).toBe(1);
    expect(w.library.get(a)!.duplicates).toEqual([b]);
  });
});
