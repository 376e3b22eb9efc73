/**
 * The cloud side of the mirror on a real PostgreSQL: supabase/migrations applied to a throwaway
 * cluster after tests/helpers/postgres/supabase-shim.sql (the pieces Supabase's platform provides),
 * then every request made the way PostgREST makes it — `SET LOCAL ROLE authenticated` with the
 * user's JWT claims in `request.jwt.claims` — so the migration's own policies and triggers decide.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_TYPES } from '../../src-preload/contract/catalog.ts';
import { formatHlc } from '../../src-main/engine/sync/hlc.ts';
import { findPostgresBin, startCluster, type PgCluster } from '../helpers/postgres/cluster.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const MIGRATIONS = join(ROOT, 'supabase', 'migrations');

const bin = findPostgresBin();
if (!bin && process.env.CI === 'true') {
  throw new Error(
    'PostgreSQL is not installed, so the cloud RLS tests cannot run: .ci/run installs it with `apt-get install postgresql` (binaries in /usr/lib/postgresql/<version>/bin, or set OURVIDZ_PG_BIN).',
  );
}

const A = randomUUID();
const B = randomUUID();
const ADMIN = randomUUID();

/** An HLC as the desktop writes it (15-digit wall ms, 6-digit counter, device id). */
const hlc = (wall: number, counter: number, device: string) => formatHlc({ wall, counter, device });
/** public.sync_element_id, computed on the desktop: md5 of 'a:b' read as a uuid. */
function elementId(a: string, b: string): string {
  const h = createHash('md5').update(`${a}:${b}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

interface Op {
  op_id: string;
  table: string;
  id: string;
  hlc: string;
  set: Record<string, unknown>;
}
const op = (table: string, id: string, clock: string, set: Record<string, unknown>): Op => ({
  op_id: randomUUID(),
  table,
  id,
  hlc: clock,
  set,
});
interface PushResult {
  applied: number;
  duplicate: number;
  rejected: number;
  results: { op_id: string; status: 'applied' | 'duplicate' | 'rejected'; reason?: string }[];
}

describe.skipIf(!bin)('cloud schema on PostgreSQL: row-level security, push and pull', () => {
  let cluster: PgCluster;
  let db: pg.Client;
  const extra: pg.Client[] = [];

  const connect = async () => {
    const c = new pg.Client({ host: cluster.socketDir, port: cluster.port, user: cluster.user, database: 'postgres' });
    await c.connect();
    return c;
  };

  /** Runs `fn` in a transaction as PostgREST would for a request with this user's token. */
  async function as<T>(uid: string | null, fn: (q: pg.Client) => Promise<T>, client = db): Promise<T> {
    await client.query('begin');
    try {
      await client.query(`set local role ${uid ? 'authenticated' : 'anon'}`);
      await client.query(`select set_config('request.jwt.claims', $1, true)`, [
        JSON.stringify(uid ? { sub: uid, role: 'authenticated' } : { role: 'anon' }),
      ]);
      const out = await fn(client);
      await client.query('commit');
      return out;
    } catch (e) {
      await client.query('rollback');
      throw e;
    }
  }
  const push = (uid: string, ops: Op[]) =>
    as(uid, async (q) => (await q.query<{ r: PushResult }>('select public.sync_push($1::jsonb) r', [JSON.stringify(ops)])).rows[0]!.r);
  const pull = (uid: string, since: number, lim = 500) =>
    as(uid, async (q) =>
      (await q.query<{ entity: string; entity_id: string; seq: string; data: Record<string, unknown> }>(
        'select * from public.sync_pull($1, $2)', [since, lim],
      )).rows.map((r) => ({ ...r, seq: Number(r.seq) })),
    );
  /** Reads as the database owner, past RLS: what is really stored. */
  const stored = async (sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows;

  const now = Date.now();
  const imageFields = (prompt: string) => ({
    bucket: 'image_fast',
    storage_path: `${randomUUID()}.png`,
    file_size: 1234,
    sha256: sha(prompt),
    prompt,
    seed: 42,
    recipe: { steps: 4 },
  });

  beforeAll(async () => {
    cluster = startCluster(bin!);
    db = await connect();
    await db.query(readFileSync(join(ROOT, 'tests', 'helpers', 'postgres', 'supabase-shim.sql'), 'utf8'));
    const files = readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql')).sort();
    expect(files.length).toBeGreaterThan(0);
    // Twice: pasting the SQL again into the editor (or a re-run db push) must not fail or duplicate.
    for (let i = 0; i < 2; i++) for (const f of files) await db.query(readFileSync(join(MIGRATIONS, f), 'utf8'));
    await db.query(`insert into auth.users (id, email) values ($1, 'a@x'), ($2, 'b@x'), ($3, 'admin@x')`, [A, B, ADMIN]);
    await db.query(`insert into public.user_roles (user_id, role) values ($1, 'admin')`, [ADMIN]);
  }, 120_000);

  afterAll(async () => {
    for (const c of extra) await c.end().catch(() => undefined);
    await db?.end().catch(() => undefined);
    cluster?.stop();
  });

  it('enables row-level security on every public table, and anon reaches none of them', async () => {
    const tables = await stored(
      `select c.relname, c.relrowsecurity from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind = 'r' order by 1`,
    );
    expect(tables.map((t) => t.relname)).toEqual([
      'applied_ops', 'asset_tags', 'characters', 'images', 'jobs', 'profiles', 'project_assets', 'projects',
      'scenes', 'usage_logs', 'user_roles', 'videos',
    ]);
    for (const t of tables) expect(t.relrowsecurity, t.relname).toBe(true);
    for (const t of tables) {
      await expect(as(null, (q) => q.query(`select * from public.${t.relname}`)), t.relname).rejects.toThrow(/permission denied/);
    }
    await expect(as(null, (q) => q.query('select public.sync_pull(0, 10)'))).rejects.toThrow(/permission denied/);
  });

  it('makes one private bucket per job type with the seed size limits, PNG or MP4 only', async () => {
    const buckets = await stored('select id, name, public, file_size_limit, allowed_mime_types from storage.buckets order by id');
    expect(buckets.map((b) => b.id)).toEqual([...JOB_TYPES].sort());
    const MB = 1024 * 1024;
    const limits: Record<string, number> = {
      sdxl_image_fast: 5, sdxl_image_high: 10, image_fast: 5, image_high: 10, video_fast: 50, video_high: 200,
      image7b_fast_enhanced: 20, image7b_high_enhanced: 20, video7b_fast_enhanced: 100, video7b_high_enhanced: 100,
    };
    for (const b of buckets) {
      expect(b.name).toBe(b.id);
      expect(b.public).toBe(false);
      expect(Number(b.file_size_limit), b.id).toBe(limits[b.id]! * MB);
      expect(b.allowed_mime_types).toEqual(b.id.includes('video') ? ['video/mp4', 'image/png'] : ['image/png']);
    }
  });

  describe('as a signed-in user', () => {
    const projA = randomUUID();
    const projB = randomUUID();

    beforeAll(async () => {
      await as(A, (q) => q.query(`insert into public.projects (id, title) values ($1, 'A''s project')`, [projA]));
      await as(B, (q) => q.query(`insert into public.projects (id, title) values ($1, 'B''s project')`, [projB]));
    });

    it('inserts and reads their own rows, user_id filled from the token', async () => {
      const rows = await as(A, async (q) => (await q.query('select id, user_id, title from public.projects')).rows);
      expect(rows).toEqual([{ id: projA, user_id: A, title: "A's project" }]);
    });

    it("cannot read another user's rows, nor find them by id", async () => {
      const rows = await as(A, async (q) => (await q.query('select * from public.projects where id = $1', [projB])).rows);
      expect(rows).toEqual([]);
      expect(await stored('select title from public.projects where id = $1', [projB])).toEqual([{ title: "B's project" }]);
    });

    it("cannot insert a row carrying another user's id", async () => {
      await expect(
        as(A, (q) => q.query(`insert into public.projects (id, user_id, title) values ($1, $2, 'forged')`, [randomUUID(), B])),
      ).rejects.toThrow(/row-level security/);
      await expect(
        as(A, (q) => q.query(`insert into public.profiles (id, user_id) values ($1, $1)`, [B])),
      ).rejects.toThrow(/row-level security/);
    });

    it("cannot update or delete another user's rows", async () => {
      const upd = await as(A, (q) => q.query(`update public.projects set title = 'hijacked' where id = $1`, [projB]));
      const del = await as(A, (q) => q.query('delete from public.projects where id = $1', [projB]));
      expect(upd.rowCount).toBe(0);
      expect(del.rowCount).toBe(0);
      expect(await stored('select title from public.projects where id = $1', [projB])).toEqual([{ title: "B's project" }]);
    });

    it('cannot move their own row to another user, not even past RLS', async () => {
      await expect(
        as(A, (q) => q.query('update public.projects set user_id = $1 where id = $2', [B, projA])),
      ).rejects.toThrow(/user_id of a projects row never changes/);
      // The trigger holds for roles that bypass RLS too.
      await expect(db.query('update public.projects set user_id = $1 where id = $2', [B, projA])).rejects.toThrow(
        /never changes/,
      );
      expect(await stored('select user_id from public.projects where id = $1', [projA])).toEqual([{ user_id: A }]);
    });

    it("cannot hang their rows on another user's project (the owner is part of every reference)", async () => {
      await expect(
        as(A, (q) =>
          q.query(`insert into public.scenes (id, project_id, scene_number, description) values ($1, $2, 1, 'x')`, [randomUUID(), projB]),
        ),
      ).rejects.toThrow(/foreign key/);
    });

    it('cannot write roles, so cannot make themselves admin', async () => {
      await expect(
        as(A, (q) => q.query(`insert into public.user_roles (user_id, role) values ($1, 'admin')`, [A])),
      ).rejects.toThrow(/permission denied/);
    });

    it('admins read every row but still write only their own', async () => {
      const rows = await as(ADMIN, async (q) =>
        (await q.query('select id from public.projects where id = any($1) order by title', [[projA, projB]])).rows,
      );
      expect(rows.map((r) => r.id)).toEqual([projA, projB]);
      const upd = await as(ADMIN, (q) => q.query(`update public.projects set title = 'admin was here' where id = $1`, [projB]));
      expect(upd.rowCount).toBe(0);
      // A plain user is no admin: the same read shows only their own row.
      const own = await as(B, async (q) => (await q.query('select id from public.projects where id = any($1)', [[projA, projB]])).rows);
      expect(own.map((r) => r.id)).toEqual([projB]);
    });
  });

  describe('every synced table', () => {
    it("holds each table to its owner: another user reads, changes, deletes and forges none of A's rows; anon sees none; an admin reads them", async () => {
      const project = randomUUID();
      const job = randomUUID();
      const image = randomUUID();
      const rows: [string, string, Record<string, unknown>][] = [
        ['profiles', A, { username: 'a' }],
        ['characters', randomUUID(), { name: 'Ada' }],
        ['projects', project, { title: 'matrix' }],
        ['scenes', randomUUID(), { project_id: project, scene_number: 1, description: 'opening' }],
        ['jobs', job, { job_type: 'video_fast', format: 'video', original_prompt: 'waves', status: 'queued', device_id: 'deskA' }],
        ['images', image, { ...imageFields('matrix'), job_id: job, project_id: project }],
        ['videos', randomUUID(), { bucket: 'video_fast', file_size: 10, sha256: sha('v'), job_id: job }],
        ['usage_logs', randomUUID(), { action: 'generate', job_id: job }],
        ['asset_tags', elementId(image, 'sea'), { asset_kind: 'image', asset_id: image, tag: 'sea' }],
        ['project_assets', elementId(project, image), { project_id: project, asset_kind: 'image', asset_id: image }],
      ];
      const r = await push(A, rows.map(([t, id, set]) => op(t, id, hlc(now, 1, 'deskA'), set)));
      expect(r.results.filter((x) => x.status !== 'applied')).toEqual([]);

      for (const [t, id] of rows) {
        const [before] = await stored(`select to_jsonb(x) j from public.${t} x where id = $1`, [id]);
        expect(before, t).toBeDefined();
        const read = await as(B, (q) => q.query(`select * from public.${t} where id = $1`, [id]));
        expect(read.rowCount, `${t}: B reads A's row`).toBe(0);
        if (t === 'usage_logs') {
          await expect(as(B, (q) => q.query(`update public.${t} set action = 'x' where id = $1`, [id]))).rejects.toThrow(/permission denied/);
          await expect(as(B, (q) => q.query(`delete from public.${t} where id = $1`, [id]))).rejects.toThrow(/permission denied/);
        } else {
          const upd = await as(B, (q) => q.query(`update public.${t} set deleted_at = now() where id = $1`, [id]));
          const del = await as(B, (q) => q.query(`delete from public.${t} where id = $1`, [id]));
          expect([upd.rowCount, del.rowCount], `${t}: B changes A's row`).toEqual([0, 0]);
        }
        // B re-inserting A's exact row (A's user_id) is refused before anything else is checked.
        await expect(
          as(B, (q) => q.query(`insert into public.${t} select * from jsonb_populate_record(null::public.${t}, $1)`, [before!.j])),
          `${t}: B forges A's row`,
        ).rejects.toThrow(/row-level security/);
        await expect(as(null, (q) => q.query(`select * from public.${t}`)), `${t}: anon`).rejects.toThrow(/permission denied/);
        const admin = await as(ADMIN, (q) => q.query(`select * from public.${t} where id = $1`, [id]));
        expect(admin.rowCount, `${t}: admin reads`).toBe(1);
        const [after] = await stored(`select to_jsonb(x) j from public.${t} x where id = $1`, [id]);
        expect(after, t).toEqual(before);
      }
    });
  });

  describe('jobs', () => {
    const job = randomUUID();
    const base = { job_type: 'sdxl_image_fast', model_family: 'sdxl', quality: 'fast', format: 'image', original_prompt: 'a fox', device_id: 'deskA' };

    it('a finished job is final: its fields cannot be rewritten, by push or by hand; only its soft delete still applies', async () => {
      let r = await push(A, [op('jobs', job, hlc(now, 1, 'deskA'), { ...base, status: 'running' })]);
      expect(r.rejected).toBe(0);
      r = await push(A, [op('jobs', job, hlc(now, 2, 'deskA'), { status: 'done', finished_at: new Date(now).toISOString() })]);
      expect(r.applied).toBe(1);

      r = await push(A, [op('jobs', job, hlc(now, 3, 'deskA'), { original_prompt: 'rewritten history' })]);
      expect(r.rejected).toBe(1);
      expect(r.results[0]!.reason).toMatch(/is done and a finished job is never rewritten/);
      await expect(as(A, (q) => q.query(`update public.jobs set status = 'queued' where id = $1`, [job]))).rejects.toThrow(
        /finished job is never rewritten/,
      );
      await expect(db.query(`update public.jobs set status = 'failed' where id = $1`, [job])).rejects.toThrow(/never rewritten/);

      r = await push(A, [op('jobs', job, hlc(now, 4, 'deskA'), { deleted_at: new Date(now).toISOString() })]);
      expect(r.applied).toBe(1);
      const [row] = await stored('select status, original_prompt, deleted_at is not null as gone from public.jobs where id = $1', [job]);
      expect(row).toEqual({ status: 'done', original_prompt: 'a fox', gone: true });
    });

    it('a job keeps the device that ran it', async () => {
      const other = randomUUID();
      await push(A, [op('jobs', other, hlc(now, 1, 'deskA'), { ...base, status: 'running' })]);
      const r = await push(A, [op('jobs', other, hlc(now, 2, 'deskB'), { device_id: 'deskB' })]);
      expect(r.results[0]!.reason).toMatch(/was run by device deskA/);
    });
  });

  describe('storage objects', () => {
    const insertObject = (uid: string, bucket: string, name: string) =>
      as(uid, (q) => q.query('insert into storage.objects (bucket_id, name, owner_id) values ($1, $2, $3)', [bucket, name, uid]));

    it("uploads only under the user's own folder, reads only their own files; admins read all", async () => {
      await insertObject(A, 'image_fast', `${A}/${sha('a')}.png`);
      await insertObject(B, 'video_fast', `${B}/${sha('b')}.mp4`);
      await expect(insertObject(A, 'image_fast', `${B}/${sha('forged')}.png`)).rejects.toThrow(/row-level security/);
      await expect(insertObject(A, 'image_fast', `${sha('no-folder')}.png`)).rejects.toThrow(/row-level security/);

      const names = async (uid: string) =>
        (await as(uid, (q) => q.query('select name from storage.objects order by name'))).rows.map((r) => r.name as string);
      expect(await names(A)).toEqual([`${A}/${sha('a')}.png`]);
      expect(await names(B)).toEqual([`${B}/${sha('b')}.mp4`]);
      expect(await names(ADMIN)).toEqual([`${A}/${sha('a')}.png`, `${B}/${sha('b')}.mp4`].sort());

      const del = await as(A, (q) => q.query('delete from storage.objects where name = $1', [`${B}/${sha('b')}.mp4`]));
      expect(del.rowCount).toBe(0);
      const overwrite = await as(A, (q) =>
        q.query(`update storage.objects set metadata = '{"x":1}' where name = $1`, [`${A}/${sha('a')}.png`]),
      );
      expect(overwrite.rowCount).toBe(0); // files are never overwritten: there is no update policy
    });
  });

  describe('sync_push', () => {
    it('applies an op once however often it is retried', async () => {
      const project = randomUUID();
      const first = op('projects', project, hlc(now, 1, 'deskA'), { title: 'once' });
      expect((await push(A, [first])).applied).toBe(1);
      const afterFirst = await stored('select server_seq, title from public.projects where id = $1', [project]);

      // The same op again (a retry after a lost reply), even carrying a newer clock, is a no-op.
      const retried = await push(A, [{ ...first, hlc: hlc(now, 9, 'deskA'), set: { title: 'twice' } }, first]);
      expect(retried).toMatchObject({ applied: 0, duplicate: 2, rejected: 0 });
      expect(await stored('select server_seq, title from public.projects where id = $1', [project])).toEqual(afterFirst);
      expect(await stored('select count(*)::int n from public.applied_ops where op_id = $1', [first.op_id])).toEqual([{ n: 1 }]);
    });

    it('rejects a bad op with a sentence, applies the rest, and a rejected op can be retried', async () => {
      const project = randomUUID();
      const bad = [
        op('projects', randomUUID(), hlc(now, 1, 'deskA'), { user_id: B, title: 'forged owner' }),
        op('secrets', randomUUID(), hlc(now, 1, 'deskA'), { x: 1 }),
        op('projects', randomUUID(), 'yesterday', { title: 'x' }),
        op('projects', randomUUID(), hlc(now + 7 * 86_400_000, 1, 'deskA'), { title: 'from the future' }),
        op('projects', randomUUID(), hlc(now, 1, 'deskA'), {}),
      ];
      const good = op('projects', project, hlc(now, 1, 'deskA'), { title: 'kept' });
      const r = await push(A, [...bad, good]);
      expect(r).toMatchObject({ applied: 1, rejected: 5 });
      expect(r.results.map((x) => x.reason ?? x.status)).toEqual([
        expect.stringMatching(/projects has no synced column "user_id"/),
        expect.stringMatching(/table "secrets" is not synced/),
        expect.stringMatching(/"yesterday" is not a hybrid logical clock/),
        expect.stringMatching(/more than a day ahead of the server clock/),
        expect.stringMatching(/sets no fields/),
        'applied',
      ]);
      // Rejected ops were not recorded as applied: once fixed, the same op id goes through.
      const fixed = { ...bad[4]!, set: { title: 'fixed' } };
      expect((await push(A, [fixed])).applied).toBe(1);
    });

    it("cannot write another user's row by its id", async () => {
      const bProject = randomUUID();
      await push(B, [op('projects', bProject, hlc(now, 1, 'deskB'), { title: 'B only' })]);
      const r = await push(A, [op('projects', bProject, hlc(now + 1000, 1, 'evil'), { title: 'taken' })]);
      expect(r.results[0]!.reason).toMatch(/belongs to a row you cannot change/);
      // Not even an admin, who can read it.
      const r2 = await push(ADMIN, [op('projects', bProject, hlc(now + 1000, 1, 'admin'), { title: 'taken' })]);
      expect(r2.results[0]!.reason).toMatch(/belongs to a row you cannot change/);
      expect(await stored('select title, user_id from public.projects where id = $1', [bProject])).toEqual([{ title: 'B only', user_id: B }]);
    });

    it('usage logs are append-only', async () => {
      const id = randomUUID();
      expect((await push(A, [op('usage_logs', id, hlc(now, 1, 'deskA'), { action: 'generate', credits_consumed: 1 })])).applied).toBe(1);
      const r = await push(A, [op('usage_logs', id, hlc(now, 2, 'deskA'), { credits_consumed: 0 })]);
      expect(r.results[0]!.reason).toMatch(/permission denied/);
    });

    it('two desktops converge whichever order their offline edits arrive in', async () => {
      /** One user, one image made on desktop A and pulled by B; then both edit offline. */
      async function scenario(uid: string, order: 'A-first' | 'B-first') {
        await db.query(`insert into auth.users (id) values ($1)`, [uid]);
        const image = randomUUID();
        expect((await push(uid, [op('images', image, hlc(now, 0, 'deskA'), imageFields('a lighthouse'))])).applied).toBe(1);
        const tag = 'sunset';
        const fromA = [
          op('asset_tags', elementId(image, tag), hlc(now + 10, 0, 'deskA'), { asset_kind: 'image', asset_id: image, tag }),
          op('images', image, hlc(now + 20, 0, 'deskA'), { title: 'A title', rating: 2 }),
          op('images', image, hlc(now + 40, 0, 'deskA'), { rating: 4 }),
        ];
        const fromB = [
          op('images', image, hlc(now + 15, 0, 'deskB'), { favorite: true }),
          op('images', image, hlc(now + 20, 0, 'deskB'), { title: 'B title' }), // same instant as A's: device id breaks the tie
          op('images', image, hlc(now + 30, 0, 'deskB'), { rating: 5 }), // older than A's rating 4
          // B tags it too, and later removes a tag A never had: one row per element.
          op('asset_tags', elementId(image, tag), hlc(now + 12, 0, 'deskB'), { asset_kind: 'image', asset_id: image, tag }),
          op('asset_tags', elementId(image, 'dusk'), hlc(now + 13, 0, 'deskB'), { asset_kind: 'image', asset_id: image, tag: 'dusk' }),
          op('asset_tags', elementId(image, 'dusk'), hlc(now + 14, 0, 'deskB'), { deleted_at: new Date(now).toISOString() }),
        ];
        const batches = order === 'A-first' ? [fromA, fromB] : [fromB, fromA];
        for (const b of batches) expect((await push(uid, b)).rejected).toBe(0);
        const [img] = await stored('select favorite, title, rating, prompt from public.images where id = $1', [image]);
        const tags = await stored(
          'select tag, deleted_at is not null as removed from public.asset_tags where asset_id = $1 order by tag',
          [image],
        );
        return { img, tags };
      }
      const ab = await scenario(randomUUID(), 'A-first');
      const ba = await scenario(randomUUID(), 'B-first');
      expect(ab).toEqual(ba);
      expect(ab).toEqual({
        img: { favorite: true, title: 'B title', rating: 4, prompt: 'a lighthouse' },
        tags: [
          { tag: 'dusk', removed: true },
          { tag: 'sunset', removed: false },
        ],
      });
    });

    it('three desktops, 150 random edits with ties and retries: any arrival order gives the highest clock per field', async () => {
      // Seeded so a failure replays (mulberry32).
      let seed = 20261206;
      const rand = () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
      const devices = ['deskA', 'deskB', 'deskC'];
      const TAGS = ['red', 'blue', 'green'];
      const ROWS = 2;
      type Edit = { row: number; clock: string; kind: 'image'; set: Record<string, unknown> } | { row: number; clock: string; kind: 'tag'; tag: string; removed: boolean };
      // Every clock of 25 instants × 2 counters × 3 devices, once each (a device never issues one
      // clock twice), in random order: equal wall times and counters, broken by device id, are common.
      const clocks = devices.flatMap((d) => Array.from({ length: 50 }, (_, i) => hlc(now + (i >> 1), i & 1, d)));
      for (let i = clocks.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [clocks[i], clocks[j]] = [clocks[j]!, clocks[i]!];
      }
      const edits: Edit[] = clocks.map((clock) => {
        const row = Math.floor(rand() * ROWS);
        if (rand() < 0.3) return { row, clock, kind: 'tag', tag: pick(TAGS), removed: rand() < 0.4 };
        const set: Record<string, unknown> = {};
        if (rand() < 0.6) set.title = `t${Math.floor(rand() * 1000)}`;
        if (rand() < 0.6) set.rating = Math.floor(rand() * 6);
        if (rand() < 0.6) set.favorite = rand() < 0.5;
        if (rand() < 0.4) set.trashed_at = rand() < 0.5 ? new Date(now).toISOString() : null;
        if (Object.keys(set).length === 0) set.title = 'only';
        return { row, clock, kind: 'image', set };
      });

      // What per-field last-writer-wins must end with, computed here.
      const expected = Array.from({ length: ROWS }, () => ({
        fields: { title: null, rating: 0, favorite: false, trashed: false } as Record<string, unknown>,
        clocks: {} as Record<string, string>,
        tags: {} as Record<string, { removed: boolean; clock: string }>,
      }));
      for (const e of edits) {
        const x = expected[e.row]!;
        if (e.kind === 'tag') {
          if (!x.tags[e.tag] || x.tags[e.tag]!.clock < e.clock) x.tags[e.tag] = { removed: e.removed, clock: e.clock };
          continue;
        }
        for (const [k, v] of Object.entries(e.set)) {
          const key = k === 'trashed_at' ? 'trashed' : k;
          if ((x.clocks[key] ?? '') < e.clock) {
            x.clocks[key] = e.clock;
            x.fields[key] = k === 'trashed_at' ? v !== null : v;
          }
        }
      }
      const want = expected.map((x) => ({
        ...x.fields,
        tags: Object.entries(x.tags).filter(([, t]) => !t.removed).map(([tag]) => tag).sort(),
      }));

      async function arrive(order: Edit[]) {
        const uid = randomUUID();
        await db.query(`insert into auth.users (id) values ($1)`, [uid]);
        const images = Array.from({ length: ROWS }, () => randomUUID());
        const created = await push(uid, images.map((id, i) => op('images', id, hlc(now - 1000, 0, 'deskA'), imageFields(`row ${i}`))));
        expect(created.applied).toBe(ROWS);
        const ops = order.map((e) =>
          e.kind === 'tag'
            ? op('asset_tags', elementId(images[e.row]!, e.tag), e.clock, {
                asset_kind: 'image', asset_id: images[e.row]!, tag: e.tag, deleted_at: e.removed ? new Date(now).toISOString() : null,
              })
            : op('images', images[e.row]!, e.clock, e.set),
        );
        // Random batch sizes, and every batch sent twice (a retry after a lost reply).
        for (let i = 0; i < ops.length; ) {
          const batch = ops.slice(i, (i += 1 + Math.floor(rand() * 12)));
          const first = await push(uid, batch);
          expect(first.rejected, JSON.stringify(first.results.filter((x) => x.status === 'rejected'))).toBe(0);
          expect((await push(uid, batch)).duplicate).toBe(batch.length);
        }
        const got = [];
        for (const id of images) {
          const [img] = await stored(
            'select title, rating, favorite, trashed_at is not null as trashed from public.images where id = $1', [id],
          );
          const tags = await stored('select tag from public.asset_tags where asset_id = $1 and deleted_at is null order by tag', [id]);
          got.push({ ...img, tags: tags.map((t) => t.tag as string) });
        }
        return got;
      }
      const shuffled = () => {
        const xs = [...edits];
        for (let i = xs.length - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1));
          [xs[i], xs[j]] = [xs[j]!, xs[i]!];
        }
        return xs;
      };
      expect(await arrive(edits)).toEqual(want);
      expect(await arrive([...edits].reverse())).toEqual(want);
      expect(await arrive(shuffled())).toEqual(want);
    });
  });

  describe('sync_pull', () => {
    it("returns the user's own changes after a cursor, oldest first, in pages, tombstones included", async () => {
      const uid = randomUUID();
      await db.query(`insert into auth.users (id) values ($1)`, [uid]);
      const before = await pull(uid, 0);
      expect(before).toEqual([]);

      const project = randomUUID();
      const image = randomUUID();
      await push(uid, [
        op('projects', project, hlc(now, 1, 'd'), { title: 'p' }),
        op('images', image, hlc(now, 2, 'd'), { ...imageFields('pulled'), project_id: project }),
        op('project_assets', elementId(project, image), hlc(now, 3, 'd'), { project_id: project, asset_kind: 'image', asset_id: image }),
      ]);
      const all = await pull(uid, 0);
      expect(all.map((r) => r.entity)).toEqual(['projects', 'images', 'project_assets']);
      const seqs = all.map((r) => r.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      for (const r of all) expect(r.data.user_id).toBe(uid);
      expect(all[1]!.data).toMatchObject({ id: image, prompt: 'pulled', project_id: project, favorite: false });

      // Paging with lim: each page continues from the last seq, nothing repeated or skipped.
      const paged: string[] = [];
      for (let cursor = 0; ; ) {
        const page = await pull(uid, cursor, 2);
        if (page.length === 0) break;
        paged.push(...page.map((r) => r.entity_id));
        cursor = page.at(-1)!.seq;
      }
      expect(paged).toEqual(all.map((r) => r.entity_id));

      // Only what changed after the cursor comes back; a delete comes back as a tombstone.
      const cursor = all.at(-1)!.seq;
      await push(uid, [op('images', image, hlc(now, 4, 'd'), { deleted_at: new Date(now).toISOString() })]);
      const next = await pull(uid, cursor);
      expect(next.map((r) => [r.entity, r.entity_id])).toEqual([['images', image]]);
      expect(next[0]!.data.deleted_at).not.toBeNull();
      expect(await pull(uid, next[0]!.seq)).toEqual([]);

      // Nobody else's rows, not even for an admin.
      const adminPull = await pull(ADMIN, 0);
      expect(adminPull.filter((r) => r.data.user_id !== ADMIN)).toEqual([]);
      await expect(pull(uid, -1)).rejects.toThrow(/since must be 0/);
      await expect(pull(uid, 0, 0)).rejects.toThrow(/lim must be from 1 to 1000/);
    });

    it('never skips a change that commits late: a second writer for the same user waits, so numbers commit in order', async () => {
      const uid = randomUUID();
      await db.query(`insert into auth.users (id) values ($1)`, [uid]);
      const w1 = await connect();
      const w2 = await connect();
      extra.push(w1, w2);
      const begin = async (c: pg.Client) => {
        await c.query('begin');
        await c.query('set local role authenticated');
        await c.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: uid, role: 'authenticated' })]);
      };
      // A desktop pulling all along, cursor = the last seq it saw.
      const pulled: string[] = [];
      let cursor = 0;
      const pullStep = async () => {
        const rows = await pull(uid, cursor);
        pulled.push(...rows.map((r) => r.entity_id));
        if (rows.length > 0) cursor = rows.at(-1)!.seq;
      };

      const x = randomUUID();
      const y = randomUUID();
      await begin(w1);
      await w1.query(`insert into public.projects (id, title) values ($1, 'x')`, [x]); // takes the lower number
      await begin(w2);
      const w2Done = w2
        .query(`insert into public.projects (id, title) values ($1, 'y')`, [y])
        .then(() => w2.query('commit'))
        .then(() => true);
      // Without the owner's lock, y would commit now with the higher number, a pull would move the
      // cursor past x's number, and x, committing after, would never be pulled.
      const yFirst = await Promise.race([w2Done, new Promise<false>((r) => setTimeout(() => r(false), 500))]);
      await pullStep();
      await w1.query('commit');
      await w2Done;
      await pullStep();
      await pullStep();
      expect([...pulled].sort()).toEqual([x, y].sort());
      expect(yFirst).toBe(false);
    });
  });
});
