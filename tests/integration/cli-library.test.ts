/**
 * `studio library …` as a user or a script runs it: images made with the tiny SDXL models, then
 * listing (keyset pages, search), show, tags, trash and restore, export with sidecars, import of a
 * folder another tool made (a truncated PNG reported and skipped), check and stats; and Ctrl-C
 * stopping an import and a library move cleanly, leaving them to be finished by a second run.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssetDetail, AssetPage, CheckReport, ExportResult, ImportReport, LibraryStats, MoveReport } from '../../src-preload/contract/library.ts';
import { main } from '../../src-main/cli/main.ts';
import type { Io } from '../../src-main/cli/io.ts';
import { A1111_INFOTEXT, pilPng } from '../fixtures/library/formats.ts';
import { buildSdxlFixture } from '../fixtures/sdxl/build-sdxl.ts';
import { studio } from '../helpers/cli.ts';

let root: string;
let models: string;
let data: string;
/** Asset ids by prompt, from the two generate jobs. */
const made: Record<'fox' | 'harbour', string[]> = { fox: [], harbour: [] };

const run = (...args: string[]) => studio(['--data', data, ...args], { env: { STUDIO_DATA_DIR: '' } });

async function json<T>(...args: string[]): Promise<T> {
  const r = await run(...args, '--json');
  if (r.code !== 0) throw new Error(`studio ${args.join(' ')} exited ${r.code}: ${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout) as T;
}

async function generate(prompt: string, seed: string): Promise<string[]> {
  const job = await json<{ status: { state: string; assets: string[] } }>(
    'generate', '--type', 'sdxl_image_fast', '--models', models, '--prompt', prompt, '--seed', seed,
    '--steps', '2', '--width', '256', '--height', '256', '--count', '2', '--wait',
  );
  expect(job.status.state).toBe('done');
  return job.status.assets;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cli-library-'));
  models = join(root, 'models');
  data = join(root, 'data');
  await buildSdxlFixture(join(models, 'sdxl-tiny'));
  made.fox = await generate('a red fox in fresh snow', '7');
  made.harbour = await generate('a quiet harbour at night', '8');
}, 240_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('studio library', () => {
  it('lists every command in `studio library --help` and each command’s options', async () => {
    const group = await run('library', '--help');
    expect(group.code).toBe(0);
    for (const sub of ['list', 'show', 'stats', 'check', 'import', 'export', 'tag', 'untag', 'trash', 'restore', 'empty-trash', 'move']) {
      expect(group.stdout).toMatch(new RegExp(`^  library ${sub} `, 'm'));
    }
    const help = await run('library', 'import', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: studio library import DIR [options]');
    expect(help.stdout).toMatch(/-r, --recursive\s+also import sub-folders/);
    expect(help.stdout).toMatch(/130\s+Ctrl-C: stopped after the current file/);

    const bare = await run('library');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('`studio library` needs a subcommand: list, show, stats');
    const noIds = await run('library', 'tag', '--tag', 'x');
    expect(noIds.code).toBe(2);
    expect(noIds.stderr).toContain('missing ID…: usage: studio library tag ID…');
  });

  it('pages through the list with --limit and the cursor, newest first, without repeats', async () => {
    const all = [...made.fox, ...made.harbour];
    const first = await json<AssetPage>('library', 'list', '--limit', '3');
    expect(first.total).toBe(4);
    expect(first.items).toHaveLength(3);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await json<AssetPage>('library', 'list', '--limit', '3', '--cursor', first.nextCursor!);
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    const ids = [...first.items, ...second.items].map((a) => a.id);
    expect(new Set(ids).size).toBe(4);
    expect([...ids].sort()).toEqual([...all].sort());
    const created = [...first.items, ...second.items].map((a) => a.createdAt);
    expect(created).toEqual([...created].sort((a, b) => b - a));

    const table = await run('library', 'list', '--limit', '3');
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+ADDED\s+TYPE\s+SIZE/);
    expect(table.stdout).toContain('sdxl_image_fast  256×256');
    expect(table.stderr).toContain(`3 of 4; next page: --cursor ${first.nextCursor}`);
  });

  it('finds assets by words of their prompt', async () => {
    const page = await json<AssetPage>('library', 'list', '--search', 'fox');
    expect(page.items.map((a) => a.id).sort()).toEqual([...made.fox].sort());
    expect(page.items.every((a) => a.prompt === 'a red fox in fresh snow')).toBe(true);
    const none = await run('library', 'list', '--search', 'zeppelin');
    expect(none.stdout).toBe('no assets match\n');
  });

  it('shows one asset in full, by id or by the short id the list prints', async () => {
    const id = made.harbour[0]!;
    const detail = await json<AssetDetail>('library', 'show', id);
    expect(detail).toMatchObject({ id, prompt: 'a quiet harbour at night', seed: 8, steps: 2, width: 256, height: 256, model: 'sdxl-tiny', bucket: 'sdxl_image_fast', kind: 'image' });
    expect(detail.recipe).toMatchObject({ jobType: 'sdxl_image_fast', seed: 8 });

    const human = await run('library', 'show', id.slice(0, 8));
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^prompt\s+a quiet harbour at night$/m);
    expect(human.stdout).toMatch(new RegExp(`^file\\s+${join(data, 'library', 'sdxl_image_fast')}`, 'm'));

    const unknown = await run('library', 'show', 'zzzzzzzz');
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('error: no asset with id zzzzzzzz');
    const unknownJson = await run('library', 'show', 'zzzzzzzz', '--json');
    expect(JSON.parse(unknownJson.stdout)).toMatchObject({ error: { code: 'not_found' } });
  });

  it('tags and untags assets, and filters by tag', async () => {
    const [a, b] = made.fox as [string, string];
    expect(await json('library', 'tag', a, b, '--tag', 'keep', '--tag', 'winter')).toEqual({ changed: 4 });
    expect((await json<AssetPage>('library', 'list', '--tag', 'keep')).items.map((x) => x.id).sort()).toEqual([a, b].sort());
    expect((await json<AssetDetail>('library', 'show', a)).tags).toEqual(['keep', 'winter']);

    const untag = await run('library', 'untag', a, '--tag', 'keep');
    expect(untag).toMatchObject({ code: 0, stdout: '1 tag removed\n' });
    expect((await json<AssetPage>('library', 'list', '--tag', 'keep')).items.map((x) => x.id)).toEqual([b]);
    expect((await json<AssetDetail>('library', 'show', a)).tags).toEqual(['winter']);
  });

  it('moves an asset to the trash and restores it', async () => {
    const id = made.harbour[1]!;
    expect(await json('library', 'trash', id)).toEqual({ trashed: 1 });
    const live = await json<AssetPage>('library', 'list');
    expect(live.total).toBe(3);
    expect(live.items.map((a) => a.id)).not.toContain(id);
    expect((await json<AssetPage>('library', 'list', '--trashed')).items.map((a) => a.id)).toEqual([id]);

    const restore = await run('library', 'restore', id);
    expect(restore).toMatchObject({ code: 0, stdout: '1 restored\n' });
    expect((await json<AssetPage>('library', 'list')).total).toBe(4);
    expect((await json<AssetPage>('library', 'list', '--trashed')).items).toEqual([]);
  });

  it('exports the original files with JSON sidecars of their recipe', async () => {
    const to = join(root, 'export');
    const result = await json<ExportResult>('library', 'export', ...made.fox, '--to', to, '--sidecar');
    expect(result.problems).toEqual([]);
    expect(result.files).toHaveLength(2);
    for (const f of result.files) {
      expect(f.file.startsWith(to)).toBe(true);
      expect(readFileSync(f.file).subarray(1, 4).toString('latin1')).toBe('PNG');
      const sidecar = JSON.parse(readFileSync(f.sidecar!, 'utf8')) as Record<string, unknown>;
      expect(sidecar).toMatchObject({ id: f.id, prompt: 'a red fox in fresh snow', model: 'sdxl-tiny', recipe: { seed: 7 } });
    }
    expect(readdirSync(to)).toHaveLength(4);

    const missingTo = await run('library', 'export', made.fox[0]!);
    expect(missingTo.code).toBe(2);
    expect(missingTo.stderr).toContain('--to DIR');
  });

  it('imports an A1111 PNG, reports and skips a truncated one, and adds nothing on a second import', async () => {
    const folder = join(root, 'downloads');
    mkdirSync(folder);
    writeFileSync(join(folder, '00001-3141592653.png'), pilPng({ width: 64, height: 48, seed: 1, text: [['parameters', A1111_INFOTEXT]] }));
    const whole = pilPng({ width: 64, height: 48, seed: 2, text: [['parameters', 'cut off\nSteps: 1, Sampler: Euler, CFG scale: 1, Seed: 1']] });
    writeFileSync(join(folder, 'truncated.png'), whole.subarray(0, Math.floor(whole.length / 2)));

    const human = await run('library', 'import', folder);
    expect(human.code).toBe(0);
    expect(human.stdout).toBe(`imported 1 of 2 files from ${folder}; 1 skipped\n`);
    expect(human.stderr).toMatch(/^skipped .*truncated\.png/m);

    const found = await json<AssetPage>('library', 'list', '--search', 'lighthouse');
    expect(found.items).toHaveLength(1);
    expect(found.items[0]).toMatchObject({
      bucket: 'user_uploads',
      prompt: 'masterpiece, a lighthouse on a cliff at dusk, (dramatic sky:1.2)',
      negativePrompt: 'blurry, lowres, watermark',
      seed: 3141592653,
      steps: 28,
      model: 'sd_xl_base_1.0',
    });

    const again = await json<ImportReport>('library', 'import', folder);
    expect(again.imported).toEqual([]);
    expect(Object.fromEntries(again.skipped.map((s) => [s.source, s.reason]))).toEqual({ '00001-3141592653.png': 'duplicate', 'truncated.png': 'truncated' });
    expect((await json<AssetPage>('library', 'list')).total).toBe(5);

    const missing = await run('library', 'import', join(root, 'nowhere'));
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('it is not a folder that can be read');
  });

  it('checks a clean library and counts it', async () => {
    const report = await json<CheckReport>('library', 'check');
    expect(report.findings).toEqual([]);
    expect(report.rowsChecked).toBe(5);
    expect(report.filesChecked).toBe(10); // each asset's file and its thumbnail
    const human = await run('library', 'check');
    expect(human).toMatchObject({ code: 0, stdout: `library at ${join(data, 'library')} is consistent (5 assets, 10 files)\n` });

    const stats = await json<LibraryStats>('library', 'stats');
    expect(stats).toMatchObject({ root: join(data, 'library'), assets: 5, images: 5, videos: 0, trashed: 0, duplicates: 0, pendingMove: null });
    const buckets = Object.fromEntries(stats.buckets.filter((b) => b.count > 0).map((b) => [b.bucket, b.count]));
    expect(buckets).toEqual({ sdxl_image_fast: 4, user_uploads: 1 });
  });

  it('says what emptying the trash would delete and deletes only with --yes', async () => {
    const id = made.harbour[1]!;
    await json('library', 'trash', id);
    const dry = await run('library', 'empty-trash');
    expect(dry.code).toBe(2);
    expect(dry.stdout).toMatch(/^1 asset \(.+\) would be deleted for good; add --yes to delete them$/m);
    expect((await json<LibraryStats>('library', 'stats')).trashed).toBe(1);
    const file = (await json<AssetPage>('library', 'list', '--trashed')).items[0]!;
    expect(await json('library', 'empty-trash', '--yes')).toMatchObject({ deleted: 1, problems: [] });
    expect((await json<LibraryStats>('library', 'stats')).trashed).toBe(0);
    expect((await run('library', 'show', file.id)).code).toBe(3);
  });
});

/**
 * Ctrl-C through the CLI's own dispatcher, in this process: the interrupt is "pressed" when the
 * progress line (shown on a terminal) reports the first file, so the stop lands mid-run every time.
 */
describe('Ctrl-C during `studio library import` and `library move`', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-library-int-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function interrupted(argv: string[], pressWhen: RegExp): Promise<{ code: number; out: string; err: string; presses: number }> {
    let listener: (() => void) | null = null;
    let presses = 0;
    const o = { out: '', err: '' };
    const io: Io = {
      stdout: { write: (s: string) => (o.out += s) },
      stderr: {
        isTTY: true,
        write: (s: string) => {
          o.err += s;
          if (listener && presses === 0 && pressWhen.test(s)) {
            presses++;
            listener();
          }
        },
      },
      env: { STUDIO_DATA_DIR: '' },
      now: () => Date.now(),
      onInterrupt: (l) => {
        listener = l;
        return () => (listener = null);
      },
      untilStopped: () => new Promise<string>(() => undefined),
    };
    const code = await main(argv, io, { forceExit: (c) => { throw new Error(`forced exit ${c}`); } });
    return { code, ...o, presses };
  }

  it('stops an import after the current file; importing again adds the rest', async () => {
    const data = join(dir, 'data');
    const folder = join(dir, 'pngs');
    mkdirSync(folder);
    for (let i = 0; i < 6; i++) writeFileSync(join(folder, `img-${i}.png`), pilPng({ width: 32, height: 32, seed: 20 + i }));

    const first = await interrupted(['--data', data, 'library', 'import', folder], /importing 1\//);
    expect(first.presses).toBe(1);
    expect(first.code).toBe(130);
    expect(first.err).toContain('stopping after the current file');
    expect(first.err).toContain('note: the import was stopped after 1 of 6 files; import the folder again to add the rest');
    expect(first.out).toBe(`imported 1 of 6 files from ${folder}\n`);

    const second = await studio(['--data', data, 'library', 'import', folder, '--json'], { env: { STUDIO_DATA_DIR: '' } });
    expect(second.code).toBe(0);
    const report = JSON.parse(second.stdout) as ImportReport;
    expect(report.imported).toHaveLength(5);
    expect(report.skipped.map((s) => s.reason)).toEqual(['duplicate']);
  });

  it('stops a move with the library whole where it was; moving again finishes it', async () => {
    const data = join(dir, 'data');
    const old = join(data, 'library');
    const to = join(dir, 'moved-library');

    const first = await interrupted(['--data', data, 'library', 'move', to, '--json'], /moving 1\//);
    expect(first.presses).toBe(1);
    expect(first.code).toBe(130);
    expect(JSON.parse(first.out)).toMatchObject({ error: { code: 'cancelled', message: expect.stringContaining(`the library is still at ${old} and whole`) } });

    const stats = JSON.parse((await studio(['--data', data, 'library', 'stats', '--json'], { env: { STUDIO_DATA_DIR: '' } })).stdout) as LibraryStats;
    expect(stats.root).toBe(old);
    expect(stats.assets).toBe(6);
    const check = await studio(['--data', data, 'library', 'check', '--json'], { env: { STUDIO_DATA_DIR: '' } });
    expect(check.code).toBe(0);
    expect((JSON.parse(check.stdout) as CheckReport).findings).toEqual([]);

    const second = await studio(['--data', data, 'library', 'move', to, '--json'], { env: { STUDIO_DATA_DIR: '' } });
    expect(second.code).toBe(0);
    const moved = JSON.parse(second.stdout) as MoveReport;
    expect(moved).toMatchObject({ from: old, to, files: 12 }); // six images and their thumbnails
    expect(moved.resumed).toBeGreaterThan(0);
    const after = JSON.parse((await studio(['--data', data, 'library', 'stats', '--json'], { env: { STUDIO_DATA_DIR: '' } })).stdout) as LibraryStats;
    expect(after.root).toBe(to);
    const checked = await studio(['--data', data, 'library', 'check', '--json'], { env: { STUDIO_DATA_DIR: '' } });
    expect(checked.code).toBe(0);
    expect(JSON.parse(checked.stdout)).toMatchObject({ root: to, rowsChecked: 6, filesChecked: 12, findings: [] });
  });
});
