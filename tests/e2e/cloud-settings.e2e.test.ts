/**
 * Settings → Cloud end to end: `studio serve` with the real engine, the built renderer in Debian's
 * Chromium, and the cloud behind the loopback Supabase stand-in (GoTrue's password and refresh
 * grants, PostgREST's /rpc) in front of a real PostgreSQL with the real migration and RLS. A person
 * pastes the project's ourvidz-sync.json, signs in, turns mirroring on, and the library's picture
 * lands in the cloud: the section shows 0 waiting and a last sync, and the status bar says synced.
 * Signing out removes the stored sign-in. Signed out, the form creates an account (the project
 * confirms by email: check your email, sign-in refused until then) and asks for a password reset
 * link, answering the same for any address. axe runs on the section in each state; zero violations.
 *
 * Screenshots: settings-cloud-1440 (signed in, synced), settings-cloud-signup-1440 (creating an
 * account, a short password) and settings-cloud-reset-1440 (a reset link asked for).
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

/** Runs in the page: is this element the focused one? (The tests' tsconfig has no DOM types.) */
const isFocused = (el: unknown) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement;

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

    // Accounts are made here (the next test); the project's owner gets one line about the dashboard
    // (a self-hosted project such as this one has no dashboard link to offer).
    const help = section().getByTestId('cloud-account-help');
    expect(await help.textContent()).toBe('Project owner? Users can also be added in the Supabase dashboard → Authentication → Users.');
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

  it('“Create an account” and “Forgot password?” work from the form, checked as typed; nothing tells who has an account', async () => {
    const rpcs = standin.requestCount('/rest/v1/rpc');
    const focused = (name: string) => section().getByLabel(name).evaluate(isFocused);
    await section().getByRole('button', { name: 'Create an account' }).click();
    const create = section().getByRole('form', { name: 'Create an account' });
    await create.waitFor();
    expect(await focused('Email')).toBe(true);
    await create.getByLabel('Email').fill('new@example.com');
    await create.getByLabel('Password').fill('abc');
    await until(() => create.locator('.field-error').textContent()).toBe("A password has at least 6 characters (Supabase's default minimum; the project may ask for more)");
    expect(await create.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
    expect(await create.getByRole('button', { name: 'Create account' }).isDisabled()).toBe(true);
    await page.evaluate("document.getElementById('settings-cloud').scrollIntoView({ block: 'start' })");
    await screenshot(page, 'settings-cloud-signup-1440');
    await check('Settings → Cloud, creating an account with a short password');

    // The project confirms addresses by email (Supabase's default): nothing is signed in or kept.
    standin.setConfirmEmail(true);
    await create.getByLabel('Password').fill(PASSWORD);
    await create.getByRole('button', { name: 'Create account' }).click();
    await until(() => section().getByTestId('cloud-account-note').textContent()).toContain('Check your email to confirm, then sign in.');
    const signIn = section().getByRole('form', { name: 'Sign in' });
    expect(await signIn.getByLabel('Email').inputValue()).toBe('new@example.com');
    expect(await focused('Password')).toBe(true);
    expect(standin.emails).toContainEqual({ kind: 'confirm', to: 'new@example.com' });
    expect(existsSync(path.join(dataDir, 'data', 'cloud-session.json'))).toBe(false);
    await check('Settings → Cloud, check your email');
    await signIn.getByLabel('Password').fill(PASSWORD);
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await until(() => section().getByRole('alert').textContent()).toContain('Could not sign in as new@example.com: the address is not confirmed yet');

    await section().getByRole('button', { name: 'Forgot password?' }).click();
    const reset = section().getByRole('form', { name: 'Forgot password?' });
    await reset.waitFor();
    expect(await reset.getByLabel('Password').count()).toBe(0);
    await reset.getByLabel('Email').fill('nobody');
    await until(() => reset.locator('.field-error').textContent()).toBe('Enter the email address of the account');
    expect(await reset.getByRole('button', { name: 'Send reset link' }).isDisabled()).toBe(true);
    // The same sentence for an address without an account and one with: only the latter gets a link.
    const note = section().getByTestId('cloud-account-note');
    await reset.getByLabel('Email').fill('nobody@example.com');
    await reset.getByRole('button', { name: 'Send reset link' }).click();
    await until(() => note.textContent()).toBe('If an account exists for that address, Supabase sent it a link to set a new password. Open it to choose a new password, then sign in here.');
    const forNobody = await note.textContent();
    await reset.getByLabel('Email').fill(EMAIL);
    await reset.getByRole('button', { name: 'Send reset link' }).click();
    await until(() => standin.emails.filter((m) => m.kind === 'recover').map((m) => m.to)).toEqual([EMAIL]);
    expect(await note.textContent()).toBe(forNobody);
    expect(standin.requests.get('POST /auth/v1/recover')).toBe(2);
    expect(await reset.getByRole('button', { name: 'Back to sign in' }).evaluate(isFocused)).toBe(true);
    await screenshot(page, 'settings-cloud-reset-1440');
    await check('Settings → Cloud, forgot password');
    await reset.getByRole('button', { name: 'Back to sign in' }).click();
    await section().getByRole('form', { name: 'Sign in' }).waitFor();
    expect(standin.requestCount('/rest/v1/rpc')).toBe(rpcs);
  });
});
