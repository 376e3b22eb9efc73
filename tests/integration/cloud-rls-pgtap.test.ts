/**
 * supabase/tests/rls.test.sql — the pgTAP proof of the cloud schema's row-level security (every
 * table × select/insert/update/delete × anon/owner/other user/admin/service_role, storage, push and
 * pull) — run on a real PostgreSQL: a throwaway cluster with tests/helpers/postgres/supabase-shim.sql
 * (what Supabase's platform provides), supabase/migrations and the pgTAP extension, the .sql file
 * run through psql exactly as written (the same file `supabase test db` runs against a project),
 * and every TAP line it prints must be `ok`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPostgresBin, hasExtension, startCluster, type PgCluster } from '../helpers/postgres/cluster.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const MIGRATIONS = join(ROOT, 'supabase', 'migrations');
const PLAN = join(ROOT, 'supabase', 'tests', 'rls.test.sql');

const inCi = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
const bin = findPostgresBin();
const pgtap = bin !== null && hasExtension(bin, 'pgtap');
if (inCi && !bin) {
  throw new Error(
    'PostgreSQL is not installed, so the pgTAP row-level security tests cannot run: .ci/run installs it with `apt-get install postgresql postgresql-15-pgtap` (binaries in /usr/lib/postgresql/<version>/bin, or set OURVIDZ_PG_BIN).',
  );
}
if (inCi && bin && !pgtap) {
  throw new Error(
    `PostgreSQL is installed (${bin}) but the pgTAP extension is not, so supabase/tests/rls.test.sql cannot run: install it with \`apt-get install postgresql-15-pgtap\` (the package for this PostgreSQL's major version), as .ci/run does.`,
  );
}

interface TapRun {
  plan: number | null;
  results: { ok: boolean; n: number; line: string; diag: string[] }[];
  /** `#` lines outside a failed test's diagnostics (finish()'s "Looks like you …"). */
  notes: string[];
}

/** Reads psql's `-tA` output of a pgTAP run: the plan line, each `ok`/`not ok` line with the `#` lines under it. */
function parseTap(out: string): TapRun {
  const run: TapRun = { plan: null, results: [], notes: [] };
  for (const line of out.split('\n')) {
    const plan = /^1\.\.(\d+)$/.exec(line);
    const result = /^(not )?ok (\d+)\b/.exec(line);
    if (plan) run.plan = Number(plan[1]);
    else if (result) run.results.push({ ok: !result[1], n: Number(result[2]), line, diag: [] });
    else if (line.startsWith('#')) {
      const last = run.results.at(-1);
      if (last && !last.ok && !/^# Looks like/.test(line)) last.diag.push(line);
      else run.notes.push(line);
    }
  }
  return run;
}

describe.skipIf(!bin || !pgtap)('cloud row-level security in SQL (pgTAP: supabase/tests/rls.test.sql)', () => {
  let cluster: PgCluster;

  beforeAll(async () => {
    cluster = startCluster(bin!);
    const db = new pg.Client({ host: cluster.socketDir, port: cluster.port, user: cluster.user, database: 'postgres' });
    await db.connect();
    try {
      await db.query(readFileSync(join(ROOT, 'tests', 'helpers', 'postgres', 'supabase-shim.sql'), 'utf8'));
      const files = readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql')).sort();
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) await db.query(readFileSync(join(MIGRATIONS, f), 'utf8'));
      // What `supabase test db` does before running the files (there: `with schema extensions`).
      await db.query('create extension if not exists pgtap');
    } finally {
      await db.end();
    }
  }, 120_000);

  afterAll(() => cluster?.stop());

  it('every table × operation × role is allowed or refused as the policies promise, storage and sync functions included', () => {
    const psql = existsSync(join(bin!, 'psql')) ? join(bin!, 'psql') : 'psql';
    const r = spawnSync(
      psql,
      ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-h', cluster.socketDir, '-p', String(cluster.port), '-U', cluster.user, '-d', 'postgres', '-f', PLAN],
      { encoding: 'utf8', timeout: 120_000, env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' } },
    );
    // An SQL error outside an assertion stops the file (ON_ERROR_STOP): psql exits non-zero.
    expect(r.error, 'psql could not be started').toBeUndefined();
    expect(r.status, `psql exited ${r.status ?? r.signal}:\n${r.stderr}\n${r.stdout.slice(-3000)}`).toBe(0);

    const tap = parseTap(r.stdout);
    const failed = tap.results.filter((t) => !t.ok).map((t) => [t.line, ...t.diag].join('\n'));
    expect(failed, `${failed.length} pgTAP assertion(s) failed:\n${failed.join('\n')}`).toEqual([]);
    expect(tap.plan, 'the file printed no plan line (1..N)').not.toBeNull();
    expect(tap.results.map((t) => t.n), 'every planned assertion ran, once, in order').toEqual(
      Array.from({ length: tap.plan! }, (_, i) => i + 1),
    );
    expect(tap.notes, 'finish() reported a problem').toEqual([]);

    // The promise of the file, checked from its own descriptions: each table and storage has an
    // assertion for each operation.
    const tables = [
      'user_roles', 'profiles', 'characters', 'projects', 'scenes', 'jobs', 'images', 'videos', 'usage_logs',
      'asset_tags', 'project_assets', 'applied_ops', 'storage',
    ];
    const missing = tables.flatMap((t) =>
      ['select', 'insert', 'update', 'delete']
        .filter((op) => !tap.results.some((x) => x.line.includes(` - ${t} · ${op} · `)))
        .map((op) => `${t} · ${op}`),
    );
    expect(missing, 'table × operation pairs without an assertion').toEqual([]);
    for (const role of ['anon', 'owner', 'other user', 'admin', 'service_role']) {
      for (const t of tables.filter((x) => x !== 'storage')) {
        expect(tap.results.some((x) => x.line.includes(` - ${t} · `) && x.line.includes(` · ${role}:`)), `${t} has an assertion as ${role}`).toBe(true);
      }
    }
  }, 120_000);
});
