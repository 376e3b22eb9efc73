/**
 * Settings → Cloud end to end: `studio serve` with the real engine, the built renderer in Debian's
 * Chromium, and the cloud behind the loopback Supabase stand-in (GoTrue's password and refresh
 * grants, PostgREST's /rpc) in front of a real PostgreSQL with the real migration and RLS. A person
 * pastes the project's ourvidz-sync.json, signs in, turns mirroring on, and the library's picture
 * lands in the cloud: the section shows 0 waiting and a last sync, and the status bar says synced.
 * Signing out removes the stored sign-in. axe runs on the section in each state; zero violations.
 *
 * Screenshot: settings-cloud-1440 (signed in, synced).
 * Needs `electron-vite build` first (npm test runs it).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudStatus, ImportReport } from '../../src-preload/contract/index.ts';
import { findPostgresBin, startCluster, type PgCluster } from '../helpers/postgres/cluster.ts';
import { startStandin, type Standin } from '../helpers/supabase-standin/server.ts';
import { pilPng } from '../fixtures/library/formats.ts';
import { axeViolations } from './axe.ts';
import { ROOT, launchBrowser, screenshot, startHost, until } from './support.ts';
import type { BrowserSession, Host } from './support.ts';

const bin = findPostgresBin();
if (!bin && process.env.CI === 'true') {
  throw new Error('PostgreSQL is not installed, so the Settings → Cloud e2e test cannot run: .ci/run installs it with `apt-get install postgresql` (or set OURVIDZ_PG_BIN).');
}

const EMAIL = 'creator@example.com';
const PASSWORD = 'correct horse battery staple';

describe.skipIf(!bin)('Settings → Cloud: configure, sign in, mirror, sign out (studio serve + stand-in + PostgreSQL, Chromium)', () => {
  let dataDir = '';
  let cluster: PgCluster;
  let db: pg.Client;
  let standin: Standin;
  let host: Host | null = null;
  let session: BrowserSession | null = null;
  let page: Page;

  const section = () => page.locator('section[aria-labelledby="settings-cloud"]');
  const check = async (state: string) => {
    await page.waitForTimeout(150);
    const found = await axeViolations(page);
    expect(found.join('\n'), `axe violations in ${state}`).toBe('');
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ourvidz-cloud-e2e-'));
    cluster = startCluster(bin!);
    db = new pg.Client({ host: cluster.socketDir, port: cluster.port, user: cluster.user, database: 'postgres' });
    await db.connect();
    await db.query(readFileSync(path.join(ROOT, 'tests', 'helpers', 'postgres', 'supabase-shim.sql'), 'utf8'));
    const dir = path.join(ROOT, 'supabase', 'migrations');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.sql')).sort()) await db.query(readFileSync(path.join(dir, f), 'utf8'));
    standin = await startStandin({ pg: { host: cluster.socketDir, port: cluster.port, user: cluster.user } });
    await standin.addUser(EMAIL, PASSWORD);

    host = await startHost({ dataDir: path.join(dataDir, 'data') });
    const pics = path.join(dataDir, 'pics');
    mkdirSync(pics, { recursive: true });
    writeFileSync(
      path.join(pics, 'lighthouse.png'),
      pilPng({ width: 8, height: 8, seed: 5, text: [['parameters', 'a lighthouse in a storm\nSteps: 4, Sampler: Euler, CFG scale: 2, Seed: 77, Size: 8x8']] }),
    );
    const report = await host.api<ImportReport>('library.import', { dir: pics });
    expect(report.imported).toHaveLength(1);

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
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('starts with nothing set up; nothing has been sent', async () => {
    await page.getByRole('tab', { name: /Settings/ }).click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await section().getByRole('heading', { name: 'Cloud' }).scrollIntoViewIfNeeded();
    await section().getByLabel('Project URL').waitFor();
    await section().getByText('Set the project first.').waitFor();
    await until(() => section().getByRole('switch', { name: 'Mirror this library to the cloud' }).getAttribute('aria-checked')).toBe('false');
    // No project: no cloud item in the status bar.
    expect(await page.getByTestId('cloud-status').count()).toBe(0);
    expect(standin.requestCount()).toBe(0);
    await check('Settings → Cloud, nothing set up');
  });

  it('a pasted ourvidz-sync.json sets the project; a wrong password is said at the form; the right one signs in', async () => {
    await section().getByLabel('Or paste ourvidz-sync.json').fill(JSON.stringify({ url: standin.url, anonKey: standin.anonKey }));
    await section().getByRole('button', { name: 'Save project' }).click();
    await until(() => section().getByTestId('cloud-url').textContent()).toBe(standin.url);
    await until(() => page.getByTestId('cloud-status').textContent()).toBe('Cloud: signed out');

    // Making an account and resetting a password happen elsewhere, and the form says where (a
    // self-hosted project such as this one has no dashboard link to offer).
    const help = section().getByTestId('cloud-account-help');
    expect(await help.textContent()).toContain('Sign up or reset a password in the OurVidz web app that uses this project; or, as the project’s owner, in the Supabase dashboard → Authentication → Users');
    expect(await help.getByRole('link').count()).toBe(0);

    await section().getByLabel('Email').fill(EMAIL);
    await section().getByLabel('Password').fill('not it');
    await section().getByRole('button', { name: 'Sign in' }).click();
    await until(() => section().getByRole('alert').textContent()).toContain('Could not sign in as creator@example.com: Invalid login credentials');
    await check('Settings → Cloud, a refused sign-in');

    await section().getByLabel('Password').fill(PASSWORD);
    await section().getByRole('button', { name: 'Sign in' }).click();
    await until(() => section().getByTestId('cloud-signed-in').textContent()).toBe(`Signed in as ${EMAIL}`);
    await until(() => page.getByTestId('cloud-status').textContent()).toBe('Cloud: off');
    // Signed in but off: only the sign-in went out, no push or pull.
    expect(standin.requestCount('/rest/v1/rpc')).toBe(0);
    const kept = path.join(dataDir, 'data', 'cloud-session.json');
    expect(existsSync(kept)).toBe(true);
    expect(readFileSync(kept, 'utf8')).not.toContain(PASSWORD);
  });

  it('turned on, the library is mirrored: the picture is in the cloud, 0 waiting, a last sync, and the status bar says synced', async () => {
    const toggle = section().getByRole('switch', { name: 'Mirror this library to the cloud' });
    await toggle.click();
    await until(() => toggle.getAttribute('aria-checked')).toBe('true');
    // Before the first sync the last sync reads "never"; once it says otherwise nothing is left waiting.
    await until(() => section().getByTestId('cloud-last-sync').textContent()).not.toBe('never');
    await until(() => section().getByTestId('cloud-waiting').textContent()).toBe('0 changes');
    await until(() => page.getByTestId('cloud-status').textContent()).toBe('Cloud: synced');
    await until(async () => (await db.query('select prompt, seed::int as seed from public.images')).rows).toEqual([{ prompt: 'a lighthouse in a storm', seed: 77 }]);
    const status = await host!.api<CloudStatus>('sync.status');
    expect(status).toMatchObject({ signedInAs: EMAIL, enabled: true, waiting: 0, failures: [], lastError: null });
    // The status bar's accessible name is its visible text.
    await page.getByRole('button', { name: 'Cloud: synced' }).waitFor();
    await page.evaluate("document.getElementById('settings-cloud').scrollIntoView({ block: 'start' })");
    await screenshot(page, 'settings-cloud-1440');
    await check('Settings → Cloud, signed in and synced');
  });

  it('signing out stops sync and removes the stored sign-in', async () => {
    await section().getByRole('button', { name: 'Sign out' }).click();
    await section().getByRole('button', { name: 'Sign in' }).waitFor();
    await until(() => page.getByTestId('cloud-status').textContent()).toBe('Cloud: signed out');
    expect(existsSync(path.join(dataDir, 'data', 'cloud-session.json'))).toBe(false);
    const status = await host!.api<CloudStatus>('sync.status');
    expect(status.signedInAs).toBeNull();
    const rpcs = standin.requestCount('/rest/v1/rpc');
    await page.waitForTimeout(1500);
    expect(standin.requestCount('/rest/v1/rpc')).toBe(rpcs);
    await check('Settings → Cloud, signed out');
  });
});
