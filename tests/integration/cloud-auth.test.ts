/**
 * Creating an account and resetting a password from the studio (Settings → Cloud, `studio sync
 * signup` / `reset-password`): the engine's sync.signUp and sync.resetPassword through the
 * unmodified supabase-js, against the loopback GoTrue stand-in in front of a real PostgreSQL with the
 * real migration. Email confirmation off signs in at once and keeps the session; on, nothing is kept
 * and sign-in is refused with a sentence until the address is confirmed. A taken address, a weak
 * password, the email rate limit and no network each come back as a sentence saying what to do; a
 * reset answers the same for an address with an account and one without.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESET_PASSWORD_SENT } from '../../src-preload/contract/sync.ts';
import type { CloudStatus, SyncSignUpResult } from '../../src-preload/contract/sync.ts';
import { Engine } from '../../src-main/engine/engine.ts';
import { invoke } from '../../src-main/cli/dispatch.ts';
import { findPostgresBin, startCluster, type PgCluster } from '../helpers/postgres/cluster.ts';
import { startStandin, type Standin } from '../helpers/supabase-standin/server.ts';
import { studio } from '../helpers/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const bin = findPostgresBin();
if (!bin && process.env.CI === 'true') {
  throw new Error('PostgreSQL is not installed, so the cloud account tests cannot run: .ci/run installs it with `apt-get install postgresql` (or set OURVIDZ_PG_BIN).');
}

const KNOWN = 'creator@example.com';
const PASSWORD = 'correct horse battery staple';

describe.skipIf(!bin)('cloud accounts: sign-up and password reset through supabase-js, the GoTrue stand-in and a real PostgreSQL', () => {
  let cluster: PgCluster;
  let db: pg.Client;
  let standin: Standin;
  let engine: Engine;
  const root = mkdtempSync(join(tmpdir(), 'cloud-auth-'));
  const data = join(root, 'data');
  const sessionFile = join(data, 'cloud-session.json');
  const call = <T>(channel: 'sync.signUp' | 'sync.resetPassword' | 'sync.login' | 'sync.logout' | 'sync.configure', params: unknown) =>
    invoke(engine.handlers, channel, params) as Promise<T>;
  const signUp = (email: string, password = PASSWORD) => call<SyncSignUpResult>('sync.signUp', { email, password });

  beforeAll(async () => {
    cluster = startCluster(bin!);
    db = new pg.Client({ host: cluster.socketDir, port: cluster.port, user: cluster.user, database: 'postgres' });
    await db.connect();
    await db.query(readFileSync(join(ROOT, 'tests', 'helpers', 'postgres', 'supabase-shim.sql'), 'utf8'));
    const dir = join(ROOT, 'supabase', 'migrations');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.sql')).sort()) await db.query(readFileSync(join(dir, f), 'utf8'));
    // A project that asks for 8 characters (Supabase → Authentication → Sign In / Providers → Email).
    standin = await startStandin({ pg: { host: cluster.socketDir, port: cluster.port, user: cluster.user }, passwordMinLength: 8 });
    await standin.addUser(KNOWN, PASSWORD);
    engine = await Engine.open({ dataDir: data, frontDoor: 'cli', role: 'client' });
  }, 180_000);

  afterAll(async () => {
    await engine?.close();
    await standin?.close();
    await db?.end().catch(() => undefined);
    cluster?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('with no project set, says to set it first and sends nothing', async () => {
    await expect(signUp('new@example.com')).rejects.toThrow('set the cloud project first: its URL and anon key');
    await expect(call('sync.resetPassword', { email: KNOWN })).rejects.toThrow('set the cloud project first');
    expect(standin.requestCount()).toBe(0);
  });

  it('a password under Supabase’s default minimum (6) is refused before anything is sent', async () => {
    await call('sync.configure', { url: standin.url, anonKey: standin.anonKey });
    await expect(signUp('new@example.com', 'abc')).rejects.toThrow("a password has at least 6 characters (Supabase's default minimum; the project may ask for more)");
    await expect(signUp('not an address')).rejects.toThrow('enter the email address for the new account');
    expect(standin.requestCount()).toBe(0);
  });

  it('confirmation off: the new account is signed in at once and its session kept (never the password); nothing is synced', async () => {
    const r = await signUp('first@example.com');
    expect(r.confirmEmail).toBe(false);
    expect(r.status).toMatchObject({ signedInAs: 'first@example.com', enabled: false });
    const kept = readFileSync(sessionFile, 'utf8');
    expect(JSON.parse(kept)).toMatchObject({ url: standin.url, email: 'first@example.com', refreshToken: expect.any(String) });
    expect(kept).not.toContain(PASSWORD);
    expect((await db.query('select count(*)::int as n from auth.users where email = $1', ['first@example.com'])).rows[0].n).toBe(1);
    expect(standin.requests.get('POST /auth/v1/signup')).toBe(1);
    expect(standin.requestCount('/rest/v1')).toBe(0);
    // The session works: signing out and in again with the same password.
    await call('sync.logout', {});
    expect(existsSync(sessionFile)).toBe(false);
    expect((await call<CloudStatus>('sync.login', { email: 'first@example.com', password: PASSWORD })).signedInAs).toBe('first@example.com');
    await call('sync.logout', {});
  });

  it('confirmation off: a taken address is refused with what to do instead, and nothing is kept', async () => {
    await expect(signUp(KNOWN)).rejects.toThrow(
      `an account for ${KNOWN} already exists on this project: sign in, or use "Forgot password?" (\`studio sync reset-password\`) to set a new password`,
    );
    expect(existsSync(sessionFile)).toBe(false);
  });

  it('a password the project finds weak is refused with the project’s reasons', async () => {
    const before = standin.requests.get('POST /auth/v1/signup') ?? 0;
    await expect(signUp('weak@example.com', 'sevench')).rejects.toThrow(
      'Supabase refused the password: Password should be at least 8 characters (it is shorter than the project allows). Choose a stronger one and try again',
    );
    expect(standin.requests.get('POST /auth/v1/signup')).toBe(before + 1);
    expect((await db.query('select count(*)::int as n from auth.users where email = $1', ['weak@example.com'])).rows[0].n).toBe(0);
  });

  it('confirmation on: nothing is signed in or kept; sign-in is refused with a sentence until the address is confirmed, then works', async () => {
    standin.setConfirmEmail(true);
    const r = await signUp('second@example.com');
    expect(r.confirmEmail).toBe(true);
    expect(r.status.signedInAs).toBeNull();
    expect(existsSync(sessionFile)).toBe(false);
    expect(standin.emails).toContainEqual({ kind: 'confirm', to: 'second@example.com' });

    await expect(call('sync.login', { email: 'second@example.com', password: PASSWORD })).rejects.toThrow(
      'could not sign in as second@example.com: the address is not confirmed yet. Open the link in the email Supabase sent when the account was created, then sign in',
    );
    expect(existsSync(sessionFile)).toBe(false);

    standin.confirm('second@example.com');
    const s = await call<CloudStatus>('sync.login', { email: 'second@example.com', password: PASSWORD });
    expect(s.signedInAs).toBe('second@example.com');
    expect(JSON.parse(readFileSync(sessionFile, 'utf8'))).toMatchObject({ email: 'second@example.com' });
    await call('sync.logout', {});
  });

  it('confirmation on: a taken address gets the same answer as a new one (Supabase does not say who has an account), and no email', async () => {
    const sent = standin.emails.length;
    const r = await signUp(KNOWN);
    expect(r).toMatchObject({ confirmEmail: true, status: { signedInAs: null } });
    expect(standin.emails.length).toBe(sent);
    expect(existsSync(sessionFile)).toBe(false);
  });

  it('the email rate limit is said with what to do', async () => {
    standin.limitEmails(1);
    const err = await signUp('third@example.com').then(
      () => null,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err?.message).toContain('Supabase did not create the account for now: it has sent as many emails as it allows for a while (email rate limit exceeded). Wait a few minutes and try again');
    expect(err?.code).toBe('cloud_unreachable');
    standin.limitEmails(1);
    await expect(call('sync.resetPassword', { email: KNOWN })).rejects.toThrow('Supabase did not send a password reset link for now');
  });

  it('a password reset answers the same for an address with an account and one without; Supabase saw both, and only the account got a link', async () => {
    const before = standin.requests.get('POST /auth/v1/recover') ?? 0;
    const sent = standin.emails.length;
    const known = await call<CloudStatus>('sync.resetPassword', { email: KNOWN });
    const unknown = await call<CloudStatus>('sync.resetPassword', { email: 'nobody@example.com' });
    expect(unknown).toEqual(known);
    expect(standin.requests.get('POST /auth/v1/recover')).toBe(before + 2);
    expect(standin.emails.slice(sent)).toEqual([{ kind: 'recover', to: KNOWN }]);
    expect(standin.requestCount('/rest/v1')).toBe(0);
  });

  it('with the network down, both say Supabase could not be reached and what to check', async () => {
    await standin.stop();
    try {
      await expect(signUp('fourth@example.com')).rejects.toThrow('could not reach Supabase Auth to create the account (');
      await expect(call('sync.resetPassword', { email: KNOWN })).rejects.toThrow(
        /could not reach Supabase Auth to send a password reset link \(.+\); check the project URL and the network, then try again/,
      );
    } finally {
      await standin.start();
    }
  });

  it('`studio sync signup` and `studio sync reset-password` from the command line (the password never from argv)', async () => {
    const cliData = join(root, 'cli-data');
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) => studio(['--data', cliData, ...args], { env: { STUDIO_DATA_DIR: '', STUDIO_SYNC_PASSWORD: '', ...env } });
    const project = ['--url', standin.url, '--anon-key', standin.anonKey];

    const none = await run(['sync', 'signup', ...project, '--email', 'cli@example.com']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no password: set STUDIO_SYNC_PASSWORD, or run this on a terminal to be asked for it');
    const flag = await run(['sync', 'signup', '--email', 'cli@example.com', '--password', PASSWORD]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/Unknown option '--password'/);

    const made = await run(['sync', 'signup', ...project, '--email', 'cli@example.com'], { STUDIO_SYNC_PASSWORD: PASSWORD });
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain('check your email: Supabase sent cli@example.com a link to confirm the address; open it, then `studio sync login --email cli@example.com`');
    expect(made.stdout).toMatch(/signed in:\s+no/);
    expect(existsSync(join(cliData, 'cloud-session.json'))).toBe(false);

    const taken = await run(['sync', 'signup', '--email', KNOWN, '--json'], { STUDIO_SYNC_PASSWORD: PASSWORD });
    expect(taken.code, taken.stderr).toBe(0);
    expect(JSON.parse(taken.stdout)).toMatchObject({ confirmEmail: true, status: { signedInAs: null } });

    const missing = await run(['sync', 'reset-password']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing EMAIL: usage: studio sync reset-password EMAIL');
    const a = await run(['sync', 'reset-password', KNOWN]);
    const b = await run(['sync', 'reset-password', 'nobody@example.com']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout.split('\n')[0]).toBe(`${RESET_PASSWORD_SENT}; open it, then \`studio sync login\` with the new password`);
    expect(b.stdout).toBe(a.stdout);
  });
});
