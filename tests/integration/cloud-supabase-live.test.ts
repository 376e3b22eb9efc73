/**
 * Opt-in: the cloud mirror against a REAL Supabase project (its Auth, PostgREST, Storage and TUS
 * endpoints, its RLS), not the loopback stand-in. Runs only when these are set:
 *
 *   SUPABASE_TEST_URL        https://<ref>.supabase.co
 *   SUPABASE_TEST_ANON_KEY   the project's anon key
 *   SUPABASE_TEST_EMAIL      a user of that project (confirmed, signs in with a password)
 *   SUPABASE_TEST_PASSWORD
 *   SUPABASE_TEST_EMAIL2 / SUPABASE_TEST_PASSWORD2   (optional) a second user, for the "cannot read it" checks
 *
 * The migration (supabase/migrations) must already be applied to the project (docs/cloud.md). The
 * suite works through the studio's own SyncEngine and FileSync with the unmodified supabase-js and
 * tus-js-client: it pushes a record with random ids, sends a small PNG original by tus and its
 * thumbnail, pulls both on a second desktop, downloads the original and checks its sha256, checks a
 * second user can neither read the row nor the file, then cleans up: deletes the asset for good
 * (the cloud row is soft-deleted, a tombstone) and removes the objects.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { emptyTrash, trashAssets } from '../../src-main/engine/library/trash.ts';
import { relativeThumbPath } from '../../src-main/engine/library/store.ts';
import { SyncEngine } from '../../src-main/engine/sync/engine.ts';
import { recordSyncChange, setSyncEnabled } from '../../src-main/engine/sync/outbox.ts';
import { SupabaseTransport } from '../../src-main/engine/sync/transport.ts';
import { pilPng } from '../fixtures/library/formats.ts';
import { addAsset, makeWorld, type World } from '../fixtures/library/world.ts';

const env = {
  url: process.env.SUPABASE_TEST_URL,
  anonKey: process.env.SUPABASE_TEST_ANON_KEY,
  email: process.env.SUPABASE_TEST_EMAIL,
  password: process.env.SUPABASE_TEST_PASSWORD,
  email2: process.env.SUPABASE_TEST_EMAIL2,
  password2: process.env.SUPABASE_TEST_PASSWORD2,
};
const live = Boolean(env.url && env.anonKey && env.email && env.password);
const second = live && Boolean(env.email2 && env.password2);
if (!live) {
  console.info(
    'cloud-supabase-live: skipped — it runs against a real Supabase project only when SUPABASE_TEST_URL, SUPABASE_TEST_ANON_KEY, SUPABASE_TEST_EMAIL and SUPABASE_TEST_PASSWORD are set (docs/cloud.md)',
  );
}

const BUCKET = 'sdxl_image_fast';
const sha = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Desktop {
  readonly w: World;
  readonly transport: SupabaseTransport;
  readonly engine: SyncEngine;
}

/** The images row `id` as this user's sync_pull returns it (their own rows only), or null. */
async function cloudRow(t: SupabaseTransport, id: string): Promise<Record<string, unknown> | null> {
  for (let since = 0; ; ) {
    const page = await t.pull(since, 1000);
    let found: Record<string, unknown> | null = null;
    for (const r of page) if (r.entity === 'images' && r.entity_id === id) found = r.data;
    if (found) return found;
    if (page.length < 1000) return null;
    since = page.at(-1)!.seq;
  }
}

describe.skipIf(!live)('cloud mirror against a real Supabase project (opt-in: SUPABASE_TEST_URL and keys)', () => {
  const desktops: Desktop[] = [];
  /** Objects this run put in Storage, removed at the end whatever happened. */
  const objects = new Set<string>();
  let owner: SupabaseTransport | null = null;

  async function desktop(): Promise<Desktop> {
    const w = makeWorld();
    const transport = new SupabaseTransport({ url: env.url!, anonKey: env.anonKey! });
    await transport.signIn(env.email!, env.password!);
    owner ??= transport;
    setSyncEnabled(w.db, true);
    const engine = new SyncEngine({ db: w.db, transport, libraryRoot: w.layout.library });
    const d = { w, transport, engine };
    desktops.push(d);
    return d;
  }

  afterAll(async () => {
    // Whatever a failed test left: the objects under this run's content hashes.
    if (owner && objects.size > 0) await owner.client.storage.from(BUCKET).remove([...objects]).catch(() => undefined);
    for (const d of desktops) {
      await d.engine.stop();
      await d.transport.signOut().catch(() => undefined);
      await d.w.close();
    }
  });

  it(
    'a picture goes up (record, tus original, thumbnail), comes down on a second desktop checked by sha256, is private to its owner, and is cleaned away',
    async () => {
      const a = await desktop();
      const b = await desktop();
      const { userId } = await a.transport.session();

      // A small PNG no one else has (a random id in a text chunk: a new content hash every run) with a WebP thumbnail.
      const bytes = pilPng({ width: 32, height: 32, seed: 5, text: [['ourvidz-live-test', randomUUID()]] });
      const id = addAsset(a.w, { bytes, bucket: BUCKET, prompt: `live test ${Date.now()}`, seed: 7 });
      const thumbRel = relativeThumbPath(BUCKET, id);
      mkdirSync(dirname(join(a.w.layout.library, thumbRel)), { recursive: true });
      await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 20, g: 120, b: 200 } } })
        .webp()
        .toFile(join(a.w.layout.library, thumbRel));
      a.w.db.run('UPDATE assets SET thumb_path = ? WHERE id = ?', thumbRel, id);
      a.w.db.transaction(() => recordSyncChange(a.w.db, 'asset', id));
      const original = `${userId}/${sha(bytes)}.png`;
      const thumbnail = `${userId}/thumbs/${sha(bytes)}.png`;
      objects.add(original).add(thumbnail);

      // Push: the record, then both files, then their paths.
      const cycle = await a.engine.syncNow();
      expect(cycle.rejected).toBe(0);
      expect(cycle.uploaded).toBe(2);
      expect(await cloudRow(a.transport, id)).toMatchObject({ id, user_id: userId, storage_path: original, thumbnail_path: thumbnail, sha256: sha(bytes), prompt: expect.stringMatching(/^live test/) });

      // Pull on a second desktop: the record and the thumbnail at once, the original on open, checked.
      await b.engine.syncNow();
      const there = b.w.db.get<{ prompt: string; thumb_path: string | null; file_path: string }>('SELECT prompt, thumb_path, file_path FROM assets WHERE id = ?', id);
      expect(there?.prompt).toMatch(/^live test/);
      expect(there?.thumb_path).toMatch(/\.png$/);
      expect((await sharp(join(b.w.layout.library, there!.thumb_path!)).metadata()).format).toBe('png');
      await b.engine.files!.fetchOriginal(id);
      expect(sha(readFileSync(join(b.w.layout.library, there!.file_path)))).toBe(sha(bytes));
      // And straight from Storage with the owner's token.
      const got = await a.transport.client.storage.from(BUCKET).download(original);
      expect(got.error).toBeNull();
      expect(sha(Buffer.from(await got.data!.arrayBuffer()))).toBe(sha(bytes));

      if (second) {
        // Another signed-in user, with their own valid token: no row, no file, no delete.
        const other = new SupabaseTransport({ url: env.url!, anonKey: env.anonKey! });
        await other.signIn(env.email2!, env.password2!);
        try {
          expect(await cloudRow(other, id)).toBeNull();
          const theirs = await other.client.storage.from(BUCKET).download(original);
          expect(theirs.error).not.toBeNull();
          await other.client.storage.from(BUCKET).remove([original]);
          const still = await a.transport.client.storage.from(BUCKET).download(original);
          expect(still.error).toBeNull();
        } finally {
          await other.signOut().catch(() => undefined);
        }
      } else {
        console.info('cloud-supabase-live: the second-user checks are skipped — set SUPABASE_TEST_EMAIL2 and SUPABASE_TEST_PASSWORD2 to run them');
      }

      // Clean up through the mirror: deleted for good on A → a tombstone in the cloud, the objects removed.
      trashAssets(a.w.db, [id]);
      await emptyTrash(a.w.db, a.w.layout.library);
      await a.engine.syncNow();
      expect(await cloudRow(a.transport, id)).toMatchObject({ deleted_at: expect.any(String) });
      expect((await a.transport.client.storage.from(BUCKET).download(original)).error).not.toBeNull();
      expect((await a.transport.client.storage.from(BUCKET).download(thumbnail)).error).not.toBeNull();
      objects.clear();
      // B follows the tombstone.
      await b.engine.syncNow();
      expect(b.w.db.get('SELECT 1 AS x FROM assets WHERE id = ?', id)).toBeUndefined();
    },
    120_000,
  );
});
