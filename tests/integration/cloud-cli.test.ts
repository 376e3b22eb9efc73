/**
 * `studio sync …` as a user runs it: the real CLI (a child process per command) against the loopback
 * Supabase stand-in (GoTrue's password and refresh grants, PostgREST's /rpc) in front of a real
 * PostgreSQL carrying the real migration and RLS. Sign-in with the password from
 * STUDIO_SYNC_PASSWORD, the session kept in a 0600 file, nothing sent while sync is off or paused,
 * an imported picture landing in the cloud's `images`, and sign-out removing the stored tokens.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudStatus, SyncNowResult } from '../../src-preload/contract/sync.ts';
import { findPostgresBin, startCluster, type PgCluster } from '../helpers/postgres/cluster.ts';
import { startStandin, type Standin } from '../helpers/supabase-standin/server.ts';
import { studio, untilTrue } from '../helpers/cli.ts';
import { Engine } from '../../src-main/engine/engine.ts';
import { pilPng } from '../fixtures/library/formats.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const bin = findPostgresBin();
if (!bin && process.env.CI === 'true') {
  throw new Error('PostgreSQL is not installed, so the cloud CLI tests cannot run: .ci/run installs it with `apt-get install postgresql` (or set OURVIDZ_PG_BIN).');
}

const EMAIL = 'creator@example.com';
const PASSWORD = 'correct horse battery staple';

describe.skipIf(!bin)('studio sync: the CLI against supabase-js, a stand-in HTTP front and a real PostgreSQL', () => {
  let cluster: PgCluster;
  let db: pg.Client;
  let standin: Standin;
  const root = mkdtempSync(join(tmpdir(), 'cloud-cli-'));
  const data = join(root, 'data');
  const sessionFile = join(data, 'cloud-session.json');

  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => studio(['--data', data, ...args], { env: { STUDIO_DATA_DIR: '', STUDIO_SYNC_PASSWORD: '', ...env } });
  async function json<T>(args: string[], env: NodeJS.ProcessEnv = {}): Promise<T> {
    const r = await run([...args, '--json'], env);
    if (r.code !== 0) throw new Error(`studio ${args.join(' ')} exited ${r.code}: ${r.stderr}\n${r.stdout}`);
    return JSON.parse(r.stdout) as T;
  }
  const rpcs = () => standin.requestCount('/rest/v1/rpc');
  const authCalls = () => standin.requestCount('/auth/v1');

  beforeAll(async () => {
    cluster = startCluster(bin!);
    db = new pg.Client({ host: cluster.socketDir, port: cluster.port, user: cluster.user, database: 'postgres' });
    await db.connect();
    await db.query(readFileSync(join(ROOT, 'tests', 'helpers', 'postgres', 'supabase-shim.sql'), 'utf8'));
    const dir = join(ROOT, 'supabase', 'migrations');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.sql')).sort()) await db.query(readFileSync(join(dir, f), 'utf8'));
    standin = await startStandin({ pg: { host: cluster.socketDir, port: cluster.port, user: cluster.user } });
    await standin.addUser(EMAIL, PASSWORD);
    // A library with one picture made elsewhere (A1111 parameters), imported through the CLI.
    const pics = join(root, 'pics');
    mkdirSync(pics, { recursive: true });
    writeFileSync(
      join(pics, 'harbour.png'),
      pilPng({ width: 8, height: 8, seed: 3, text: [['parameters', 'a harbour at dusk\nSteps: 4, Sampler: Euler, CFG scale: 2, Seed: 4242, Size: 8x8']] }),
    );
    const imported = await run(['library', 'import', pics, '--no-thumbnails']);
    expect(imported.code, imported.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    if (process.env.KEEP_CLOUD_CLI) console.log(readdirSync(join(data, 'logs')).map((f) => readFileSync(join(data, 'logs', f), 'utf8')).join('\n'));
    await standin?.close();
    await db?.end().catch(() => undefined);
    cluster?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('starts with nothing set up, and sends nothing to say so', async () => {
    const s = await json<CloudStatus>(['sync', 'status']);
    expect(s).toMatchObject({ url: null, signedInAs: null, enabled: false, paused: false, waiting: 0, failures: [] });
    expect(s.sessionStorage).toContain('cloud-session.json');
    const text = await run(['sync', 'status']);
    expect(text.stdout).toMatch(/signed in:\s+no/);
    expect(text.stdout).toMatch(/sync:\s+off/);
    expect(standin.requestCount()).toBe(0);
  });

  it('never takes a password from the command line, and says where it reads one from', async () => {
    const flag = await run(['sync', 'login', '--email', EMAIL, '--password', PASSWORD]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/Unknown option '--password'/);
    const none = await run(['sync', 'login', '--url', standin.url, '--anon-key', standin.anonKey, '--email', EMAIL]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no password: set STUDIO_SYNC_PASSWORD, or run this on a terminal to be asked for it');
    const half = await run(['sync', 'login', '--url', standin.url, '--email', EMAIL], { STUDIO_SYNC_PASSWORD: PASSWORD });
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('--url needs --anon-key too');
    expect(standin.requestCount()).toBe(0);
  });

  it('a wrong password is refused with a sentence saying what to check, and nothing is kept', async () => {
    const r = await run(['sync', 'login', '--url', standin.url, '--anon-key', standin.anonKey, '--email', EMAIL], { STUDIO_SYNC_PASSWORD: 'wrong' });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('could not sign in as creator@example.com: Invalid login credentials. Check the email and password');
    expect(existsSync(sessionFile)).toBe(false);
  });

  it('signs in from an ourvidz-sync.json and STUDIO_SYNC_PASSWORD; the session is kept in a 0600 file, the password nowhere', async () => {
    const config = join(root, 'ourvidz-sync.json');
    writeFileSync(config, JSON.stringify({ url: standin.url, anonKey: standin.anonKey }));
    const before = rpcs();
    const s = await json<CloudStatus>(['sync', 'login', '--config', config, '--email', EMAIL], { STUDIO_SYNC_PASSWORD: PASSWORD });
    expect(s).toMatchObject({ url: standin.url, signedInAs: EMAIL, enabled: false });
    expect(statSync(sessionFile).mode & 0o777).toBe(0o600);
    const kept = readFileSync(sessionFile, 'utf8');
    expect(JSON.parse(kept)).toMatchObject({ url: standin.url, email: EMAIL, refreshToken: expect.any(String) });
    expect(kept).not.toContain(PASSWORD);
    // Signing in is one Auth request; no push or pull happened.
    expect(rpcs()).toBe(before);
  });

  it('`studio sync mirror` shows and changes what is mirrored, refuses a wrong value with the reason, and sends nothing', async () => {
    const requests = standin.requestCount();
    const shown = await run(['sync', 'mirror']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toBe('every asset; video originals at any size; originals from other desktops come when opened; no speed limit; project file limit 50 MB\n');

    const slow = await run(['sync', 'mirror', '--speed-limit', '8']);
    expect(slow.code).toBe(2);
    expect(slow.stderr).toContain('a speed limit under 16 KB/s would take hours for one image');
    const scope = await run(['sync', 'mirror', '--scope', 'everything']);
    expect(scope.code).toBe(2);
    expect(scope.stderr).toContain('--scope is all, favorites or projects (got "everything")');
    const project = await run(['sync', 'mirror', '--project', 'Holiday']);
    expect(project.code).toBe(2);
    expect(project.stderr).toContain('no project "Holiday" in the library: give a project\'s id or its exact title');
    const size = await run(['sync', 'mirror', '--project-file-limit', 'big']);
    expect(size.code).toBe(2);
    expect(size.stderr).toContain('--project-file-limit takes a size in MB such as 50 (got "big")');

    const set = await json<CloudStatus>(['sync', 'mirror', '--scope', 'favourites', '--video-thumb-only-over', '100', '--download-originals', 'auto', '--speed-limit', '512', '--project-file-limit', '8']);
    expect(set.files.settings).toEqual({
      scope: 'favorites',
      projectIds: [],
      videoThumbOnlyOverBytes: 100 * 1024 * 1024,
      downloadOriginals: true,
      bandwidthLimit: 512 * 1024,
      projectFileLimit: 8 * 1024 * 1024,
    });
    // Kept in the studio database: a new process reads them back.
    expect((await json<CloudStatus>(['sync', 'status'])).files.settings.scope).toBe('favorites');
    const back = await run(['sync', 'mirror', '--scope', 'all', '--video-thumb-only-over', 'none', '--download-originals', 'on-open', '--speed-limit', 'none', '--project-file-limit', '50']);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toMatch(/^the mirror now sends every asset; video originals at any size; originals from other desktops come when opened; no speed limit; project file limit 50 MB$/m);
    const status = await run(['sync', 'status']);
    expect(status.stdout).toMatch(/^mirrored: {4}every asset; /m);
    expect(status.stdout).toMatch(/^files: {7}nothing moving now$/m);
    expect(status.stdout).toMatch(/^ {2}waiting: {3}0 to upload \(0 KB\), 0 to download$/m);
    expect(standin.requestCount()).toBe(requests);
  });

  it('with sync off nothing is sent: `sync now` refuses and the server sees no request', async () => {
    const requests = standin.requestCount();
    const r = await run(['sync', 'now']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('cloud sync is off, so nothing was sent: turn it on first');
    const s = await json<CloudStatus>(['sync', 'status']);
    expect(s).toMatchObject({ signedInAs: EMAIL, enabled: false, waiting: 0 });
    expect(standin.requestCount()).toBe(requests);
    expect((await db.query('select count(*)::int as n from public.images')).rows[0].n).toBe(0);
  });

  it('turned on, `sync now` sends the library: the picture is in the cloud with its prompt and seed, nothing waits', async () => {
    const on = await json<CloudStatus>(['sync', 'on']);
    expect(on.enabled).toBe(true);
    expect(on.waiting).toBeGreaterThan(0);
    const token = JSON.parse(readFileSync(sessionFile, 'utf8')).refreshToken as string;
    const auth = authCalls();
    const r = await json<SyncNowResult>(['sync', 'now']);
    expect(r.pushed).toBeGreaterThan(0);
    expect(r.rejected).toBe(0);
    expect(r.status).toMatchObject({ waiting: 0, failures: [], lastError: null });
    expect(r.status.lastSyncAt).toBeGreaterThan(Date.now() - 60_000);
    const rows = (await db.query('select prompt, seed from public.images')).rows;
    expect(rows).toEqual([{ prompt: 'a harbour at dusk', seed: '4242' }]);
    // A new process brought the stored sign-in back with one refresh grant and kept the rotated token.
    expect(authCalls()).toBe(auth + 1);
    const next = JSON.parse(readFileSync(sessionFile, 'utf8')).refreshToken as string;
    expect(next).not.toBe(token);
    expect(statSync(sessionFile).mode & 0o777).toBe(0o600);

    const text = await run(['sync', 'now']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^synced: sent 0, fetched \d+, applied \d+; 0 waiting$/m);
    expect(text.stderr).toContain(`syncing 0 waiting changes with ${standin.url}`);
    // The imported picture is in the user_uploads bucket, which the cloud does not take: its file stays here, said with the reason.
    expect(text.stdout).toMatch(/^files: 0 uploaded, 0 downloaded, 0 removed from the cloud; 0 waiting to upload, 0 to download, 1 kept on this computer$/m);
    const files = await run(['sync', 'status']);
    expect(files.stdout).toMatch(/^ {2}kept on this computer: 1$/m);
    expect(files.stdout).toMatch(/^ {4}.+\.png: files in "user_uploads" stay on this computer: the cloud's buckets hold the studio's own PNG and MP4 outputs/m);
    expect(r.uploaded).toBe(0);
    expect(r.status.files).toMatchObject({ uploadsWaiting: 0, localOnlyCount: 1, failures: [] });
  });

  it('paused, nothing is sent; resumed, it syncs again', async () => {
    const paused = await json<CloudStatus>(['sync', 'pause']);
    expect(paused.paused).toBe(true);
    const requests = standin.requestCount();
    const r = await run(['sync', 'now']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('cloud sync is paused, so nothing was sent: resume it first');
    expect(standin.requestCount()).toBe(requests);
    expect((await json<CloudStatus>(['sync', 'status'])).paused).toBe(true);
    const resumed = await json<CloudStatus>(['sync', 'resume']);
    expect(resumed.paused).toBe(false);
    const again = await json<SyncNowResult>(['sync', 'now']);
    expect(again.status.waiting).toBe(0);
    expect(standin.requestCount()).toBeGreaterThan(requests);
  });

  it('beside a running `studio serve` (a runner syncing in the background): the CLI renewing the shared sign-in does not sign serve out, and `studio sync off` stops it', async () => {
    const runner = await Engine.open({ dataDir: data, frontDoor: 'serve', role: 'runner' });
    try {
      // Signed in (the file), on and not paused: the runner brings the sign-in back and syncs at once.
      await untilTrue('the runner to sync', () => runner.cloud.status().lastSyncAt !== null && runner.cloud.status().signedInAs === EMAIL && !runner.cloud.status().syncing, 20_000);
      const synced = runner.cloud.status().lastSyncAt!;
      // The CLI renews the stored sign-in (refresh tokens work once: the runner's in memory is now spent)…
      const now = await run(['sync', 'now']);
      expect(now.code, now.stderr).toBe(0);
      // …and the access tokens out there stop working, so the runner must renew too.
      standin.rotateSigningKey();
      await expect(runner.handlers['sync.now']({})).rejects.toThrow(/the sign-in was refused/);
      // It takes the newer sign-in from the file and goes on, without the user signing in again.
      await untilTrue('the runner to recover its sign-in', () => {
        const s = runner.cloud.status();
        return s.signedInAs === EMAIL && s.lastError === null && (s.lastSyncAt ?? 0) > synced;
      }, 20_000);
      // `studio sync off` in a terminal reaches the running engine within a second: no more traffic.
      const off = await run(['sync', 'off']);
      expect(off.code, off.stderr).toBe(0);
      await untilTrue('the runner to follow the switch', () => !runner.cloud.status().enabled, 5000);
      await new Promise((r) => setTimeout(r, 300));
      const requests = standin.requestCount();
      await new Promise((r) => setTimeout(r, 1500));
      expect(standin.requestCount()).toBe(requests);
    } finally {
      await runner.close();
    }
  });

  it('signing out removes the stored tokens; afterwards nothing is sent', async () => {
    const s = await json<CloudStatus>(['sync', 'logout']);
    expect(s.signedInAs).toBeNull();
    expect(existsSync(sessionFile)).toBe(false);
    expect(readdirSync(data).filter((f) => f.startsWith('cloud-session'))).toEqual([]);
    const rpcsBefore = rpcs();
    const r = await run(['sync', 'now']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('not signed in to the cloud: sign in first');
    expect(rpcs()).toBe(rpcsBefore);
    const off = await json<CloudStatus>(['sync', 'off']);
    expect(off.enabled).toBe(false);
  });
});
