/**
 * No imported file can exhaust memory, and no file is accepted undecoded: a corpus of files built
 * to cost an importer memory or time (tests/fixtures/library/hostile.ts) is imported in a child
 * process whose peak RSS must stay under a stated bound, each file with the outcome it must get;
 * then files that read well but do not decode, settings outside any tool's range, and names that
 * are not UTF-8, in a real library.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport } from '../../src-preload/contract/library.ts';
import { comfyApiGraph, pilPng, pythonJsonDumps } from '../fixtures/library/formats.ts';
import { clipBytes, jpegCutWithEndMarker, pngWithCorruptZlib, withGarbageMovieHeader, writeHostileCorpus } from '../fixtures/library/hostile.ts';
import type { HostileCorpus } from '../fixtures/library/hostile.ts';
import { makeWorld } from '../fixtures/library/world.ts';
import type { World } from '../fixtures/library/world.ts';

/**
 * The bound on the importing process's peak RSS, baseline included (~115 MB: Node, sharp, SQLite).
 * Measured: ~390 MB, most of it the files the limits still accept (30 MB of text in one PNG).
 * Before the limits, the first file alone took 2.6 GB to read and 8.8 GB to thumbnail.
 */
const PEAK_RSS_BOUND_MB = 512;

const HOST = fileURLToPath(new URL('../fixtures/library/hostile-import-host.ts', import.meta.url));

interface HostResult {
  report?: ImportReport;
  thumbs?: { id: string; thumb_path: string | null; thumb_error: string | null }[];
  baselineMb?: number;
  peakMb?: number;
  over?: number;
}

function importInChild(folder: string, data: string): Promise<HostResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [HOST, folder, data, String(PEAK_RSS_BOUND_MB)], { maxBuffer: 64 * 1024 * 1024, timeout: 240_000 }, (error, stdout, stderr) => {
      const last = stdout.trim().split('\n').at(-1);
      if (last?.startsWith('{')) resolve(JSON.parse(last) as HostResult);
      else reject(new Error(`the import child ended without a result (${error?.message ?? 'no error'}): ${stderr.slice(-2000)}`));
    });
  });
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hostile-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the hostile corpus', () => {
  let corpus: HostileCorpus;
  let result: HostResult;
  beforeAll(async () => {
    corpus = await writeHostileCorpus(join(root, 'corpus'));
    result = await importInChild(corpus.dir, join(root, 'corpus-data'));
  }, 300_000);

  it(`is imported with a peak RSS under ${PEAK_RSS_BOUND_MB} MB`, () => {
    expect(result.over, `the import passed ${result.over ?? 0} MB of RSS`).toBeUndefined();
    expect(result.peakMb).toBeLessThan(PEAK_RSS_BOUND_MB);
    // Printed for docs/benchmarks.md ("Hostile files").
    console.log(
      `hostile corpus: ${Object.keys(corpus.expected).length} files, ${(corpus.bytes / 2 ** 20).toFixed(0)} MB on disk; ` +
        `peak RSS ${result.peakMb!.toFixed(0)} MB (baseline ${result.baselineMb!.toFixed(0)} MB)`,
    );
  });

  it('gives every file the outcome it must get, with a sentence that says what to do', () => {
    const report = result.report!;
    const got: Record<string, string> = Object.fromEntries(report.skipped.map((s) => [s.source, s.reason]));
    for (const i of report.imported) got[i.source] = 'imported';
    expect(got).toEqual(corpus.expected);
    for (const s of report.skipped) expect(s.message).toMatch(/; skipped$/);
    // What was accepted at the limits also got its thumbnail.
    expect(result.thumbs!.map((t) => t.thumb_error)).toEqual(report.imported.map(() => null));
  });
});

describe('importing into a real library', () => {
  let w: World;
  let report: ImportReport;
  let linkFoldersBefore: string[];
  const linkFolders = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('studio-names-'));
  const latin1Name = Buffer.from('caf\xe9 au lait.png', 'latin1');
  const nested = Buffer.from('r\xe9sultats', 'latin1');
  beforeAll(async () => {
    w = makeWorld();
    const dir = join(w.dir, 'in');
    mkdirSync(dir, { recursive: true });
    const put = (name: string, bytes: Buffer): void => writeFileSync(join(dir, name), bytes);
    put('cut-with-eoi.jpg', await jpegCutWithEndMarker());
    put('corrupt-zlib.png', pngWithCorruptZlib());
    const clip = clipBytes(w.dir);
    put('truncated.mp4', clip.subarray(0, Math.floor(clip.length * 0.6)));
    put('mvhd-97-years.mp4', withGarbageMovieHeader(clip));
    put('whole.mp4', clip);
    put(
      'a1111-hostile-values.png',
      pilPng({ width: 16, height: 16, seed: 21, text: [['parameters', 'a lighthouse\nSteps: -5, Sampler: Euler, CFG scale: 1e300, Seed: -3, Size: 0x0, Model: m']] }),
    );
    const graph = comfyApiGraph('a barn', 'fog', 5) as Record<string, { inputs: Record<string, unknown> }>;
    graph['3']!.inputs.steps = 2.5;
    graph['3']!.inputs.cfg = -1;
    put('comfy-hostile-values.png', pilPng({ width: 16, height: 16, seed: 22, text: [['prompt', pythonJsonDumps(graph)]] }));
    // Names that are not UTF-8 (Latin-1, as an old system or a camera card writes them), a file and a folder.
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), latin1Name]), pilPng({ width: 8, height: 8, seed: 23 }));
    mkdirSync(Buffer.concat([Buffer.from(`${dir}/`), nested]));
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), nested, Buffer.from('/inside.png')]), pilPng({ width: 8, height: 8, seed: 24 }));
    linkFoldersBefore = linkFolders();
    report = await w.library.import(dir, { recursive: true });
  }, 120_000);
  afterAll(async () => {
    await w.close();
  });

  const reasonOf = (name: string): string | undefined => report.skipped.find((s) => s.source === name)?.reason;
  const assetOf = (name: string) => {
    const entry = report.imported.find((i) => i.source === name);
    expect(entry, `${name} was imported (skipped: ${JSON.stringify(report.skipped)})`).toBeDefined();
    return w.library.get(entry!.id)!;
  };

  it('refuses files whose headers read but whose pixels or frames do not decode', () => {
    expect(reasonOf('cut-with-eoi.jpg')).toBe('truncated');
    expect(report.skipped.find((s) => s.source === 'cut-with-eoi.jpg')!.message).toMatch(/premature end of data segment.*copy or download it again/);
    expect(reasonOf('corrupt-zlib.png')).toBe('unreadable');
    expect(reasonOf('truncated.mp4')).toBe('truncated');
    expect(reasonOf('mvhd-97-years.mp4')).toBe('unreadable');
    expect(report.skipped.find((s) => s.source === 'mvhd-97-years.mp4')!.message).toMatch(/says it lasts 97 years but its streams last 1\.0 s.*remux/);
    expect(assetOf('whole.mp4')).toMatchObject({ durationMs: 1000, frameCount: 8 });
  });

  it('keeps settings outside any tool’s range out of the columns, and the file’s own text in the recipe', () => {
    const a = assetOf('a1111-hostile-values.png');
    expect(a).toMatchObject({ prompt: 'a lighthouse', steps: null, guidance: null, seed: null, scheduler: 'Euler', model: 'm' });
    expect((a.recipe.metadata as { parameters: string }).parameters).toContain('Steps: -5, Sampler: Euler, CFG scale: 1e300, Seed: -3');
    const notes = report.warnings.filter((x) => x.source === 'a1111-hostile-values.png').map((x) => x.message);
    expect(notes).toEqual([
      expect.stringMatching(/steps -5 lies outside 1–10000/),
      expect.stringMatching(/CFG scale 1e\+300 lies outside 0–100/),
      expect.stringMatching(/seed -3 lies outside/),
      expect.stringMatching(/width 0 lies outside/),
      expect.stringMatching(/height 0 lies outside/),
    ]);
    const c = assetOf('comfy-hostile-values.png');
    expect(c).toMatchObject({ prompt: 'a barn', seed: 5, steps: null, guidance: null });
  });

  it('imports files and folders whose names are not UTF-8, showing the odd bytes as \\xNN', () => {
    const a = assetOf('caf\\xE9 au lait.png');
    const copy = readFileSync(join(w.layout.library, w.db.get<{ file_path: string }>('SELECT file_path FROM assets WHERE id = ?', a.id)!.file_path));
    expect(copy.equals(pilPng({ width: 8, height: 8, seed: 23 }))).toBe(true);
    expect(assetOf(join('r\\xE9sultats', 'inside.png')).width).toBe(8);
    expect(report.skipped.filter((s) => /ENOENT/.test(s.message))).toEqual([]);
  });

  it('leaves no link behind for the names it had to reach through one', () => {
    expect(linkFolders()).toEqual(linkFoldersBefore);
  });
});
