/**
 * Importing a folder of files other tools made, including hostile ones, into a real library.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { AssetDetail, ImportReport, LibraryProgress } from '../../src-preload/contract/library.ts';
import { writeImportFixture } from '../fixtures/library/formats.ts';
import type { ImportFixture } from '../fixtures/library/formats.ts';
import { makeWorld } from '../fixtures/library/world.ts';
import type { World } from '../fixtures/library/world.ts';

let w: World;
let fx: ImportFixture;
let report: ImportReport;
const progress: LibraryProgress[] = [];

beforeAll(async () => {
  w = makeWorld();
  fx = await writeImportFixture(join(w.dir, 'downloads'), join(w.dir, 'elsewhere'));
  report = await w.library.import(fx.dir, { onProgress: (p) => progress.push(p) });
});
afterAll(async () => {
  await w.close();
});

function imported(name: string): AssetDetail {
  const entry = report.imported.find((i) => i.source === name);
  expect(entry, `${name} was imported`).toBeDefined();
  return w.library.get(entry!.id)!;
}

describe('importing a folder from other tools', () => {
  it('adds every good file and skips every bad one with the right reason, without crashing', () => {
    expect(report.imported.map((i) => i.source).sort()).toEqual(Object.values(fx.good).sort());
    const skipped = Object.fromEntries(report.skipped.map((s) => [s.source, s.reason]));
    expect(skipped).toEqual(fx.bad);
    for (const s of report.skipped) expect(s.message).toMatch(/skipped/);
    // The FIFO and the link out of the folder are refused before they are candidates.
    expect(report.scanned).toBe(Object.keys(fx.good).length + Object.keys(fx.bad).length - 2);
  });

  it('reads A1111 parameters from the PNG text chunk and keeps the raw chunk', () => {
    const a = imported(fx.good.a1111);
    expect(a).toMatchObject({
      bucket: 'user_uploads',
      kind: 'image',
      mime: 'image/png',
      width: 64,
      height: 48,
      prompt: 'masterpiece, a lighthouse on a cliff at dusk, (dramatic sky:1.2)',
      negativePrompt: 'blurry, lowres, watermark',
      seed: 3141592653,
      steps: 28,
      guidance: 6.5,
      scheduler: 'DPM++ 2M Karras',
      model: 'sd_xl_base_1.0',
      jobType: null,
    });
    expect(a.recipe).toMatchObject({ imported: { from: fx.good.a1111, format: 'png', tool: 'a1111' } });
    expect((a.recipe.metadata as { parameters: string }).parameters).toMatch(/^masterpiece/);
  });

  it('walks ComfyUI graphs (API prompt, or workflow alone) and reads InvokeAI metadata', () => {
    const c = imported(fx.good.comfy);
    expect(c).toMatchObject({
      prompt: 'beautiful scenery nature glass bottle landscape, purple galaxy bottle, caf\u00e9 \u2615',
      negativePrompt: 'text, watermark',
      seed: 156680208700286,
      steps: 20,
      guidance: 8,
      scheduler: 'euler normal',
      model: 'v1-5-pruned-emaonly.safetensors',
    });
    const raw = c.recipe.metadata as { prompt: string; workflow: string };
    expect(JSON.parse(raw.prompt)['3'].class_type).toBe('KSampler');
    expect(JSON.parse(raw.workflow).nodes).toHaveLength(7);
    expect(imported(fx.good.comfyWorkflowOnly)).toMatchObject({ prompt: 'a red barn in snow', negativePrompt: 'people', seed: 77 });
    expect(imported(fx.good.invoke)).toMatchObject({
      prompt: 'a koi pond, \u9326\u9bc9, morning mist',
      negativePrompt: 'ugly, deformed',
      seed: 2361668801,
      steps: 30,
      guidance: 7.5,
      scheduler: 'dpmpp_2m_k',
      model: 'Juggernaut XL v9',
    });
  });

  it('reads EXIF UserComment from JPEG and WebP, and ffprobe facts and tags from MP4', () => {
    expect(imported(fx.good.jpeg)).toMatchObject({ mime: 'image/jpeg', prompt: 'portrait of an astronaut, \u00e9toile', negativePrompt: 'cartoon', seed: 99, model: 'dreamshaper_8' });
    expect(imported(fx.good.webp)).toMatchObject({ mime: 'image/webp', prompt: 'isometric city at night', seed: 12345 });
    expect(imported(fx.good.mp4)).toMatchObject({ kind: 'video', mime: 'video/mp4', width: 64, height: 48, durationMs: 1000, fps: 8, frameCount: 8, prompt: 'a timelapse of clouds', seed: 4242 });
    expect(imported(fx.good.plain)).toMatchObject({ prompt: null, seed: null });
  });

  it('imports a file by what it is, warning when its name says otherwise', () => {
    const j = imported(fx.good.jpegNamedPng);
    expect(j.mime).toBe('image/jpeg');
    expect(report.warnings).toEqual([{ source: fx.good.jpegNamedPng, message: expect.stringMatching(/really a JPEG/) }]);
  });

  it('copies files byte for byte into user_uploads/<yyyy>/<mm>/ with their sha256', () => {
    for (const { id, source } of report.imported) {
      const row = w.db.get<{ file_path: string; sha256: string }>('SELECT file_path, sha256 FROM assets WHERE id = ?', id)!;
      expect(row.file_path).toMatch(new RegExp(`^user_uploads/\\d{4}/\\d{2}/${id}\\.(png|jpg|webp|mp4)$`));
      expect(readFileSync(join(w.layout.library, row.file_path)).equals(readFileSync(join(fx.dir, source)))).toBe(true);
    }
    // The link's target outside the folder was not copied.
    expect(w.db.get<{ n: number }>("SELECT count(*) AS n FROM assets WHERE recipe LIKE '%secret%'")!.n).toBe(0);
  });

  it('reports progress for every file', () => {
    expect(progress[0]).toEqual({ task: 'import', done: 0, total: report.scanned, current: null });
    expect(progress.at(-1)).toMatchObject({ done: report.scanned, total: report.scanned });
  });

  it('makes thumbnails in the background, for images and for the video', async () => {
    await w.library.thumbnails.idle();
    const rows = w.db.all<{ id: string; thumb_path: string | null; thumb_error: string | null; kind: string }>('SELECT id, thumb_path, thumb_error, kind FROM assets');
    expect(rows.filter((r) => r.thumb_path === null)).toEqual([]);
    for (const r of rows) {
      const meta = await sharp(join(w.layout.library, r.thumb_path!)).metadata();
      expect(meta.format).toBe('webp');
      expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(320);
    }
    const media = await w.library.resolveMedia(rows.find((r) => r.kind === 'video')!.id, 'thumb');
    expect(media?.mime).toBe('image/webp');
    expect(w.events.some((e) => e.event === 'library.changed' && (e.payload as { reason: string }).reason === 'thumbnail')).toBe(true);
  });

  it('adds nothing the second time the same folder is imported', async () => {
    const before = readdirSync(join(w.layout.library, 'user_uploads'), { recursive: true }).length;
    const again = await w.library.import(fx.dir);
    expect(again.imported).toEqual([]);
    expect(again.skipped.filter((s) => s.reason === 'duplicate').map((s) => s.source).sort()).toEqual(Object.values(fx.good).sort());
    expect(readdirSync(join(w.layout.library, 'user_uploads'), { recursive: true }).length).toBe(before);
  });

  it('refuses to import the library into itself, or a folder that does not exist', async () => {
    await expect(w.library.import(w.layout.library)).rejects.toThrow(/library itself/);
    await expect(w.library.import(join(w.layout.library, 'user_uploads'))).rejects.toThrow(/library itself/);
    await expect(w.library.import(join(w.dir, 'nope'))).rejects.toThrow(/not a folder/);
    expect(existsSync(join(w.dir, 'nope'))).toBe(false);
  });
});

describe('recursive import', () => {
  it('goes into sub-folders only when asked, skipping hidden ones', async () => {
    const v = makeWorld();
    try {
      const { pilPng } = await import('../fixtures/library/formats.ts');
      const { writeRaw } = await import('../fixtures/library/world.ts');
      writeRaw(join(v.dir, 'in', 'top.png'), pilPng({ width: 4, height: 4, seed: 1 }));
      writeRaw(join(v.dir, 'in', 'a', 'b', 'deep.png'), pilPng({ width: 4, height: 4, seed: 2 }));
      writeRaw(join(v.dir, 'in', '.cache', 'hidden.png'), pilPng({ width: 4, height: 4, seed: 3 }));
      expect((await v.library.import(join(v.dir, 'in'))).imported.map((i) => i.source)).toEqual(['top.png']);
      expect((await v.library.import(join(v.dir, 'in'), { recursive: true })).imported.map((i) => i.source)).toEqual([join('a', 'b', 'deep.png')]);
    } finally {
      await v.close();
    }
  });
});
