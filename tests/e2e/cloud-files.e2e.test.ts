/**
 * Settings → Cloud's files, end to end: `studio serve` with the real engine, the built renderer in
 * Debian's Chromium, and the cloud behind the loopback Supabase stand-in (GoTrue, PostgREST and now
 * Storage with tus resumable uploads) in front of a real PostgreSQL with the real migration and RLS.
 *
 * A person chooses what is mirrored (scope, thumbnails only for large videos, originals on open or
 * by themselves, a speed limit, the project's file limit), sees the choices kept after a reload and
 * a wrong value refused as it is typed; turns mirroring on and watches a 7 MB picture go up in the
 * Files block (bytes of total and speed, `Cloud: ↑ N %` in the status bar with the speed in its
 * tooltip) until nothing waits, while a 9 MB one over the project's file limit is listed under
 * "Kept on this computer" with the reason. A picture made on a second desktop (the CLI on another
 * data folder) arrives as a record; opening it in the viewer brings the original
 * down; with sync off the viewer says why it cannot. axe runs in each state; zero violations.
 *
 * Screenshots: settings-cloud-files-1440 (an upload in progress), settings-cloud-files-1024 (done,
 * one file kept here).
 * Needs `electron-vite build` first (npm test runs it).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssetDetail, CloudStatus } from '../../src-preload/contract/index.ts';
import { Database } from '../../src-main/engine/db/database.ts';
import { dataLayout } from '../../src-main/engine/paths.ts';
import { findPostgresBin, startCluster, type PgCluster } from '../helpers/postgres/cluster.ts';
import { startStandin, type Standin } from '../helpers/supabase-standin/server.ts';
import { studio } from '../helpers/cli.ts';
import { pilPng } from '../fixtures/library/formats.ts';
import { addAsset } from '../fixtures/library/world.ts';
import { axeViolations } from './axe.ts';
import { ROOT, launchBrowser, recordStatuses, recordedStatuses, screenshot, startHost, until } from './support.ts';
import type { BrowserSession, Host } from './support.ts';

const bin = findPostgresBin();
if (!bin && process.env.CI === 'true') {
  throw new Error('PostgreSQL is not installed, so the cloud files e2e test cannot run: .ci/run installs it with `apt-get install postgresql` (or set OURVIDZ_PG_BIN).');
}

const EMAIL = 'creator@example.com';
const PASSWORD = 'correct horse battery staple';
const MB = 1024 * 1024;

/** A PNG of `size` bytes: a real 8×8 picture with random bytes after its end (readers stop at IEND). */
function pngOf(size: number, seed: number): Buffer {
  const png = pilPng({ width: 8, height: 8, seed });
  return Buffer.concat([png, randomBytes(size - png.length)]);
}

/** Adds generated-looking assets (PNG in a job bucket) to a data folder's library before a studio opens it. */
function seedLibrary(dataDir: string, specs: readonly { bucket: 'sdxl_image_fast' | 'sdxl_image_high' | 'image7b_fast_enhanced'; bytes: Buffer; prompt: string }[]): string[] {
  const layout = dataLayout(dataDir);
  mkdirSync(layout.library, { recursive: true });
  const db = new Database(layout.database);
  try {
    return specs.map((s) => addAsset({ db, layout }, { bucket: s.bucket, bytes: s.bytes, prompt: s.prompt }));
  } finally {
    db.close();
  }
}

describe.skipIf(!bin)('Settings → Cloud: what is mirrored, files going up, files kept here, originals on open (studio serve + stand-in + PostgreSQL, Chromium)', () => {
  let scratch = '';
  let cluster: PgCluster;
  let db: pg.Client;
  let standin: Standin;
  let host: Host | null = null;
  let session: BrowserSession | null = null;
  let page: Page;
  let big = '';
  let over = '';

  const section = () => page.locator('section[aria-labelledby="settings-cloud"]');
  const files = () => section().getByTestId('cloud-files');
  const check = async (state: string) => {
    await page.waitForTimeout(150);
    const found = await axeViolations(page);
    expect(found.join('\n'), `axe violations in ${state}`).toBe('');
  };
  const openCloud = async () => {
    await page.getByRole('tab', { name: /Settings/ }).click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await section().getByRole('heading', { name: 'Cloud' }).scrollIntoViewIfNeeded();
  };
  const status = () => host!.api<CloudStatus>('sync.status');
  /** The mirror's row (switch, Files) at the top of the view, for the screenshots. */
  const showFiles = () => page.evaluate(`document.querySelector('[data-testid="cloud-switch"]').closest('.settings-row').scrollIntoView({ block: 'start' })`);

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'ourvidz-cloud-files-e2e-'));
    cluster = startCluster(bin!);
    db = new pg.Client({ host: cluster.socketDir, port: cluster.port, user: cluster.user, database: 'postgres' });
    await db.connect();
    await db.query(readFileSync(path.join(ROOT, 'tests', 'helpers', 'postgres', 'supabase-shim.sql'), 'utf8'));
    const dir = path.join(ROOT, 'supabase', 'migrations');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.sql')).sort()) await db.query(readFileSync(path.join(dir, f), 'utf8'));
    standin = await startStandin({ pg: { host: cluster.socketDir, port: cluster.port, user: cluster.user } });
    await standin.addUser(EMAIL, PASSWORD);

    // Desktop A: a 7 MB picture (two 6 MB tus chunks: the speed limit paces the second, so the
    // upload is seen in progress) and a 9 MB one, over the 8 MB project file limit set below.
    [big, over] = seedLibrary(path.join(scratch, 'a'), [
      { bucket: 'sdxl_image_high', bytes: pngOf(7 * MB, 1), prompt: 'a lighthouse in a storm' },
      { bucket: 'image7b_fast_enhanced', bytes: pngOf(9 * MB, 2), prompt: 'a harbour at dusk' },
    ]);
    host = await startHost({ dataDir: path.join(scratch, 'a') });
    session = await launchBrowser();
    ({ page } = session);
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(host.openUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  }, 180_000);

  afterAll(async () => {
    await session?.close();
    await host?.stop();
    await standin?.close();
    await db?.end().catch(() => undefined);
    cluster?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('the mirror choices save as they are made, a wrong value is said as it is typed, and all are kept after a reload', async () => {
    await openCloud();
    const mirror = section().getByTestId('cloud-mirror');
    await mirror.getByRole('radio', { name: 'Favourites' }).check();
    await until(async () => (await status()).files.settings.scope).toBe('favorites');

    const speed = mirror.getByLabel('Speed limit, up and down (empty: none)');
    await speed.fill('8');
    await until(() => mirror.getByRole('alert').textContent()).toBe('A speed limit under 16 KB/s would take hours for one image: leave it empty for no limit.');
    expect(await speed.getAttribute('aria-invalid')).toBe('true');
    await check('Settings → Cloud, a speed limit refused as it is typed');
    await speed.fill('1024');
    expect(await mirror.getByRole('alert').count()).toBe(0);
    await speed.press('Enter');
    await until(async () => (await status()).files.settings.bandwidthLimit).toBe(1024 * 1024);

    const limit = mirror.getByLabel(/^Project file limit/);
    expect(await limit.inputValue()).toBe('50');
    await limit.fill('8');
    await limit.press('Tab');
    await until(async () => (await status()).files.settings.projectFileLimit).toBe(8 * MB);

    const thumbs = mirror.getByLabel('Videos over this size send their thumbnail only (empty: always the original)');
    await thumbs.fill('100');
    await thumbs.press('Enter');
    await mirror.getByLabel('Bring originals from other desktops').selectOption('auto');
    await until(async () => (await status()).files.settings).toMatchObject({ videoThumbOnlyOverBytes: 100 * MB, downloadOriginals: true });

    // Chosen projects: the library's projects to pick from (none yet here, and it says so).
    await mirror.getByRole('radio', { name: 'Chosen projects' }).check();
    await until(() => mirror.getByText('The library has no projects yet').count()).toBe(1);
    const project = await host!.api<{ id: string }>('library.projectsCreate', { title: 'Harbour series' });

    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await openCloud();
    const again = section().getByTestId('cloud-mirror');
    await until(() => again.getByRole('radio', { name: 'Chosen projects' }).isChecked()).toBe(true);
    // The library's projects, one box each.
    await again.getByRole('group', { name: 'Projects to mirror' }).getByRole('checkbox', { name: 'Harbour series' }).check();
    await until(async () => (await status()).files.settings.projectIds).toEqual([project.id]);
    expect(await again.getByLabel('Speed limit, up and down (empty: none)').inputValue()).toBe('1024');
    expect(await again.getByLabel(/^Project file limit/).inputValue()).toBe('8');
    expect(await again.getByLabel('Videos over this size send their thumbnail only (empty: always the original)').inputValue()).toBe('100');
    expect(await again.getByLabel('Bring originals from other desktops').inputValue()).toBe('auto');
    // Back to every asset, and originals from other desktops when opened, for what follows.
    await again.getByRole('radio', { name: 'All assets' }).check();
    await again.getByLabel('Bring originals from other desktops').selectOption('on-open');
    await until(async () => (await status()).files.settings).toMatchObject({ scope: 'all', downloadOriginals: false });
    // Nothing was sent for any of it: no project is set.
    expect(standin.requestCount()).toBe(0);
    await check('Settings → Cloud, the mirror choices');
  });

  it('turned on, the 7 MB picture goes up with bytes, total and speed shown, and the status bar gives the percent; the 9 MB one stays here with the reason', async () => {
    await host!.api('sync.configure', { url: standin.url, anonKey: standin.anonKey });
    await host!.api('sync.login', { email: EMAIL, password: PASSWORD });
    await recordStatuses(page, '[data-testid="cloud-transfer-bytes"]');
    await section().getByRole('switch', { name: 'Mirror this library to the cloud' }).click();

    // At the 1 MB/s limit the 7 MB upload takes about 7 s, paced within each chunk: it is on screen
    // meanwhile, at the limit's speed, with the bar, the text and the status bar agreeing.
    const bytes = files().getByTestId('cloud-transfer-bytes');
    const pattern = /^(\d+\.\d) MB of 7\.0 MB · (\d+(?:\.\d)?) (MB|KB)\/s$/;
    await until(async () => {
      const m = pattern.exec((await bytes.textContent()) ?? '');
      return m !== null && Number(m[1]) >= 2 && Number(m[1]) <= 5;
    }).toBe(true);
    const bar = files().getByRole('progressbar', { name: /^Uploading / });
    const badge = page.getByTestId('cloud-status');
    const [text, value, badgeText] = await Promise.all([bytes.textContent(), bar.getAttribute('aria-valuenow'), badge.textContent()]);
    const [, sent, speed, unit] = pattern.exec(text ?? '')!;
    expect(Math.abs(Number(value) - (Number(sent) / 7) * 100)).toBeLessThanOrEqual(5);
    expect(badgeText).toMatch(/^Cloud: ↑ \d+ %$/);
    expect(Math.abs(Number(/(\d+) %/.exec(badgeText!)![1]) - Number(value))).toBeLessThanOrEqual(5);
    // The speed shown is the limit's (1 MB/s), not a burst.
    expect(unit === 'KB' || Number(speed) <= 1.5).toBe(true);
    expect(await badge.getAttribute('title')).toMatch(/^Uploading .+ \(original\): \d+\.\d MB of 7\.0 MB · /);
    await showFiles();
    await screenshot(page, 'settings-cloud-files-1440');
    await check('Settings → Cloud, an upload in progress');

    await until(() => files().getByTestId('cloud-uploads-waiting').textContent()).toBe('0 files');
    await until(() => files().getByTestId('cloud-transfer').count()).toBe(0);
    await until(() => badge.textContent()).toBe('Cloud: synced');
    // The bytes line went up as the file did; it ended at the whole file.
    const seen = await recordedStatuses(page);
    expect(seen.some((t) => /^[2-5]\.\d MB of 7\.0 MB/.test(t))).toBe(true);

    const kept = files().getByTestId('cloud-local-only');
    await kept.getByText('Kept on this computer (1)').click();
    await until(() => kept.locator('li').textContent()).toMatch(/: 9\.0 MB is over the project's 8\.0 MB file limit \(Supabase → Storage → Settings; 50 MB on the free plan\): the original stays on this computer$/);
    const s = await status();
    expect(s.files).toMatchObject({ uploadsWaiting: 0, localOnlyCount: 1, failures: [], transfer: null });
    expect(s.files.localOnly.map((l) => l.assetId)).toEqual([over]);
    // In the cloud: the 7 MB original and the thumbnails; the 9 MB original is not.
    const { rows } = await db.query<{ id: string; storage_path: string | null }>('select id::text, storage_path from public.images order by id');
    expect(rows.find((r) => r.id === big)?.storage_path).toMatch(/\.png$/);
    expect(rows.find((r) => r.id === over)?.storage_path).toBeNull();
    const objects = await db.query<{ size: string }>(`select (metadata->>'size') as size from storage.objects where bucket_id = 'sdxl_image_high' and name not like '%/thumbs/%'`);
    expect(objects.rows.map((r) => Number(r.size))).toEqual([7 * MB]);

    await page.setViewportSize({ width: 1024, height: 700 });
    await showFiles();
    await screenshot(page, 'settings-cloud-files-1024');
    await check('Settings → Cloud, uploads done and one file kept here');
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('a picture made on another desktop comes as a record; opening it brings the original down; with sync off the viewer says why not', async () => {
    // Desktop B: the CLI on its own data folder, signed in as the same person, sends two pictures.
    const b = path.join(scratch, 'b');
    const [first, second] = seedLibrary(b, [
      { bucket: 'sdxl_image_fast', bytes: pilPng({ width: 8, height: 8, seed: 31 }), prompt: 'made on the other desktop' },
      { bucket: 'sdxl_image_fast', bytes: pilPng({ width: 8, height: 8, seed: 32 }), prompt: 'also from the other desktop' },
    ]);
    const cli = (args: string[]) => studio(['--data', b, ...args], { env: { STUDIO_DATA_DIR: '', STUDIO_SYNC_PASSWORD: PASSWORD } });
    for (const args of [['sync', 'login', '--url', standin.url, '--anon-key', standin.anonKey, '--email', EMAIL], ['sync', 'on'], ['sync', 'now']]) {
      const r = await cli(args);
      expect(r.code, `studio ${args.join(' ')}: ${r.stderr}`).toBe(0);
    }

    // Desktop A pulls them: records and thumbnails, the originals stay in the cloud until opened.
    // (A sync already under way when B pushed may have pulled before: ask again until they are here.)
    await until(async () => {
      await host!.api('sync.now');
      return (await host!.api<AssetDetail>('library.get', { id: first }))?.originalInCloud ?? null;
    }).toBe(true);

    await page.getByRole('tab', { name: /Library/ }).click();
    const cell = (prompt: string) => page.locator('[data-testid="library-grid"] .cell[data-asset-id]', { hasText: prompt });
    await recordStatuses(page, '[data-testid="preview-cloud"] [role="status"]');
    await cell('made on the other desktop').first().dblclick();
    const preview = page.getByTestId('library-preview');
    await preview.waitFor();
    // The original is brought down, checked, and shown.
    const shown = preview.locator('img.viewer-img:not(.viewer-img--placeholder)');
    await until(() => shown.evaluate((i) => (i as unknown as { complete: boolean; naturalWidth: number }).complete && (i as unknown as { naturalWidth: number }).naturalWidth === 8)).toBe(true);
    expect(await recordedStatuses(page)).toContain('In the cloud — bringing the original…');
    expect((await host!.api<AssetDetail>('library.get', { id: first })).originalInCloud).toBe(false);
    expect(await preview.getByTestId('preview-cloud').count()).toBe(0);
    await page.keyboard.press('Escape');
    await preview.waitFor({ state: 'detached' });

    // Sync off: the viewer cannot bring it, and says what to do.
    await host!.api('sync.setEnabled', { enabled: false });
    await cell('also from the other desktop').first().dblclick();
    await until(() => preview.getByTestId('preview-cloud').getByRole('alert').textContent()).toContain(
      'This original is in the cloud: turn cloud sync on (or resume it) to bring it to this computer.',
    );
    expect((await host!.api<AssetDetail>('library.get', { id: second })).originalInCloud).toBe(true);
    await check('the viewer, an original that cannot be brought down');
    await page.keyboard.press('Escape');
  });
});
