/**
 * Library figures at 100,000 assets: first page, full-text search, filter + sort, a deep page,
 * opening the library, and importing 1,000 real PNGs with A1111/ComfyUI metadata (throughput).
 * Rows are synthetic (a realistic spread of prompts, models, buckets, ratings, tags and dates);
 * the import reads, hashes, copies and records real files.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Database } from '../../src-main/engine/db/database.ts';
import { dataLayout } from '../../src-main/engine/paths.ts';
import { Library } from '../../src-main/engine/library/library.ts';
import { BUCKETS } from '../../src-preload/contract/catalog.ts';
import type { LibraryQuery } from '../../src-preload/contract/library.ts';
import { comfyApiGraph, pilPng, pythonJsonDumps } from '../fixtures/library/formats.ts';
import type { Bench, Figure } from './harness.ts';
import { median, percentile, rng } from './harness.ts';

const ROWS = 100_000;
const IMPORT_FILES = 1_000;

const SUBJECTS = ['a red fox', 'an astronaut', 'a lighthouse', 'a cyberpunk street', 'a koi pond', 'a medieval castle', 'a portrait of a woman', 'a dragon', 'a bowl of ramen', 'a mountain lake', 'a robot', 'a cat', 'a vintage car', 'a forest spirit', 'a desert caravan'];
const STYLES = ['cinematic lighting', 'watercolor', 'oil painting', 'photorealistic', 'studio ghibli style', 'volumetric fog', 'golden hour', 'neon glow', '35mm film', 'isometric', 'ultra detailed', 'soft focus', 'dramatic sky', 'low poly', 'baroque'];
const EXTRA = ['masterpiece', 'best quality', 'highly detailed', '8k', 'sharp focus', 'bokeh', 'wide angle', 'symmetrical', 'moody', 'pastel colors', 'snowy', 'rainy night', 'at dusk', 'underwater', 'in space'];
const MODELS = ['sdxl-base-1.0', 'juggernaut-xl-v9', 'dreamshaper-xl', 'wan2.1-t2v-1.3b', 'wan2.1-t2v-14b', 'realvis-xl-4', 'pony-diffusion-v6', 'animagine-xl-3.1'];
const NEGATIVES = ['blurry, lowres', 'watermark, text', 'deformed hands', 'jpeg artifacts', ''];

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

function time(fn: () => unknown, runs: number): number[] {
  fn(); // warm the statement cache and pages
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Fills the library with ROWS synthetic assets in one transaction (FTS triggers included). */
export function seedSyntheticLibrary(db: Database): void {
  const r = rng(42);
  const start = Date.UTC(2024, 0, 1);
  const span = 730 * 86_400_000;
  db.transaction(() => {
    db.run("INSERT INTO projects (id, title, created_at, updated_at) VALUES ('p1', 'Trailer', 0, 0), ('p2', 'Lookbook', 0, 0)");
    const tags = ['keeper', 'portfolio', 'wip', 'client', 'reference', 'landscape', 'character', 'print'];
    tags.forEach((t, i) => db.run('INSERT INTO tags (id, name, created_at, updated_at) VALUES (?, ?, 0, 0)', `t${i}`, t));
    const insert = db.raw.prepare(
      `INSERT INTO assets (id, project_id, bucket, kind, file_path, thumb_path, mime, width, height, file_size, sha256, prompt,
         negative_prompt, enhanced_prompt, seed, model, steps, guidance, scheduler, favorite, rating, trashed_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const tag = db.raw.prepare('INSERT INTO asset_tags (tag_id, asset_id, created_at) VALUES (?, ?, 0)');
    for (let i = 0; i < ROWS; i++) {
      const id = `a${i.toString(36).padStart(6, '0')}-${Math.floor(r() * 1e9).toString(36)}`;
      const bucket = BUCKETS[Math.floor(r() * 11)]!; // job types and reference images
      const video = bucket.startsWith('video');
      const prompt = `${pick(r, SUBJECTS)}, ${pick(r, STYLES)}, ${pick(r, EXTRA)}, ${pick(r, EXTRA)}`;
      const enhanced = bucket.includes('enhanced') ? `${prompt}, ${pick(r, STYLES)}, ${pick(r, EXTRA)}, rich detail and texture` : null;
      // Assets arrive over two years in order, a few per minute in bursts (as jobs finish).
      const created = start + Math.floor((i / ROWS) * span) + Math.floor(r() * 60_000);
      insert.run(
        id,
        r() < 0.05 ? (r() < 0.5 ? 'p1' : 'p2') : null,
        bucket,
        video ? 'video' : 'image',
        `${bucket}/2025/01/${id}${video ? '.mp4' : '.png'}`,
        `.thumbs/${bucket}/${id}.webp`,
        video ? 'video/mp4' : 'image/png',
        1024,
        1024,
        200_000 + Math.floor(r() * 2_000_000),
        `${i.toString(16).padStart(64, '0')}`,
        prompt,
        pick(r, NEGATIVES),
        enhanced,
        Math.floor(r() * 2 ** 32),
        pick(r, MODELS),
        video ? 6 : 25,
        7,
        'euler',
        r() < 0.06 ? 1 : 0,
        r() < 0.6 ? 0 : 1 + Math.floor(r() * 5),
        r() < 0.01 ? created + 1 : null,
        created,
        created,
      );
      if (r() < 0.1) tag.run(`t${Math.floor(r() * tags.length)}`, id);
    }
  });
  db.raw.exec('PRAGMA optimize');
}

function writePngs(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < IMPORT_FILES; i++) {
    const a1111 = i % 2 === 0;
    const text: [string, string][] = a1111
      ? [['parameters', `${SUBJECTS[i % SUBJECTS.length]}, ${STYLES[i % STYLES.length]}\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: ${i}, Size: 64x64, Model: sdxl`]]
      : [['prompt', pythonJsonDumps(comfyApiGraph(`${SUBJECTS[i % SUBJECTS.length]}, comfy ${i}`, 'text, watermark', i))]];
    writeFileSync(join(dir, `img-${String(i).padStart(5, '0')}.png`), pilPng({ width: 64, height: 64, seed: i, text }));
  }
}

export const libraryBench: Bench = {
  name: 'library',
  async run(): Promise<Figure[]> {
    const figures: Figure[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'bench-library-'));
    try {
      const layout = dataLayout(dir);
      mkdirSync(layout.library, { recursive: true });
      let db = new Database(layout.database);
      const t0 = performance.now();
      seedSyntheticLibrary(db);
      figures.push({ name: `seed ${ROWS.toLocaleString('en')} asset rows (one transaction, FTS triggers on)`, value: (performance.now() - t0) / 1000, unit: 's' });
      let library = new Library({ db, layout });

      const runs = 40;
      const first = time(() => library.query({ limit: 100 }), runs);
      figures.push({ name: 'first page (100 newest, 100,000 rows), median', value: median(first), unit: 'ms', target: { op: '<', value: 20 } });
      figures.push({ name: 'first page, p95', value: percentile(first, 95), unit: 'ms' });

      let cursor: string | null = null;
      for (let i = 0; i < 500; i++) cursor = library.query({ limit: 100, cursor: cursor ?? undefined }).nextCursor;
      const deep = time(() => library.query({ limit: 100, cursor: cursor ?? undefined }), runs);
      figures.push({ name: 'page 501 by cursor (rows 50,000–50,100), median', value: median(deep), unit: 'ms', target: { op: '<', value: 20 } });

      const searches: [string, NonNullable<LibraryQuery>][] = [
        ['common word ("cinematic", ~7% of rows)', { search: 'cinematic' }],
        ['rare phrase ("ramen golden")', { search: 'ramen golden' }],
        ['prefix ("lightho")', { search: 'lightho' }],
        ['word in every prompt ("a")', { search: 'a' }],
        ['prefix in ~27% of prompts ("ca")', { search: 'ca' }],
        ['two common words ("masterpiece detailed")', { search: 'masterpiece detailed' }],
        ['common word, sorted by prompt', { search: 'cinematic', sort: 'prompt' }],
      ];
      for (const [label, q] of searches) {
        const t = time(() => library.query({ ...q, limit: 100 }), runs);
        figures.push({ name: `full-text search, ${label}, first page, median`, value: median(t), unit: 'ms', target: { op: '<', value: 30 } });
      }

      const filters: [string, NonNullable<LibraryQuery>][] = [
        ['high-quality images rated ≥ 3, by rating', { kind: 'image', quality: 'high', minRating: 3, sort: 'rating' }],
        ['one model, by prompt', { models: ['juggernaut-xl-v9'], sort: 'prompt' }],
        ['favourites tagged "keeper", newest', { favorite: true, tags: ['keeper'] }],
        ['videos in a date range, by model', { kind: 'video', from: Date.UTC(2024, 5, 1), to: Date.UTC(2024, 8, 1), sort: 'model' }],
        ['project + search, oldest first', { projectId: 'p1', search: 'castle', order: 'asc' }],
      ];
      for (const [label, q] of filters) {
        const t = time(() => library.query({ ...q, limit: 100 }), runs);
        figures.push({ name: `filter + sort: ${label}, median`, value: median(t), unit: 'ms', target: { op: '<', value: 30 } });
      }
      const counted = time(() => library.query({ limit: 100, quality: 'fast', withTotal: true }), 10);
      figures.push({ name: 'first page with total count (quality = fast), median', value: median(counted), unit: 'ms' });
      const stats = time(() => library.stats(), 5);
      figures.push({ name: 'stats (per-bucket disk use, duplicates), median', value: median(stats), unit: 'ms' });

      // Opening: a fresh connection (migrations checked), the Library, the first page.
      await library.close();
      db.close();
      const opens: number[] = [];
      for (let i = 0; i < 5; i++) {
        const a = performance.now();
        db = new Database(layout.database);
        library = new Library({ db, layout });
        library.query({ limit: 100 });
        opens.push(performance.now() - a);
        if (i < 4) db.close();
      }
      figures.push({ name: 'open the library (open db + first page), median of 5', value: median(opens), unit: 'ms', target: { op: '<', value: 300 } });

      // Import of real files.
      const source = join(dir, 'incoming');
      writePngs(source);
      const a = performance.now();
      const report = await library.import(source);
      const secs = (performance.now() - a) / 1000;
      if (report.imported.length !== IMPORT_FILES) throw new Error(`imported ${report.imported.length} of ${IMPORT_FILES}: ${JSON.stringify(report.skipped.slice(0, 3))}`);
      figures.push({
        name: `import ${IMPORT_FILES.toLocaleString('en')} real PNGs with A1111/ComfyUI metadata (read, hash, copy, record)`,
        value: IMPORT_FILES / secs,
        unit: 'files/s',
        note: `${secs.toFixed(2)} s into a 100,000-row library`,
      });
      // Thumbnails ran beside the import; time them again on their own.
      await library.thumbnails.idle();
      db.run("UPDATE assets SET thumb_path = NULL WHERE bucket = 'user_uploads'");
      const b = performance.now();
      library.thumbnails.enqueue(report.imported.map((x) => x.id));
      await library.thumbnails.idle();
      const thumbSecs = (performance.now() - b) / 1000;
      figures.push({ name: 'thumbnails of the imported 64×64 PNGs (sharp → WebP, 2 workers)', value: IMPORT_FILES / thumbSecs, unit: 'files/s' });
      const again = performance.now();
      const second = await library.import(source);
      if (second.imported.length !== 0) throw new Error('re-import added files');
      figures.push({ name: 're-import of the same 1,000 files (all duplicates by sha256)', value: IMPORT_FILES / ((performance.now() - again) / 1000), unit: 'files/s' });
      await library.close();
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return figures;
  },
};
