/**
 * Cloud sync figures, against a real PostgreSQL with the migration behind the loopback stand-in
 * (tests/helpers/supabase-standin) and the unmodified supabase-js:
 *   - what recording an edit for the mirror costs the library (favourite toggles, sync on vs off);
 *   - 1,000 existing assets back-filled and mirrored from empty (records only; files are not mirrored yet);
 *   - converge time after 50 offline edits on each of two desktops with 10 disconnects on the way
 *     (the goal: under 60 s), and whether both ended identical.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { Database } from '../../src-main/engine/db/database.ts';
import { dataLayout } from '../../src-main/engine/paths.ts';
import type { DataLayout } from '../../src-main/engine/paths.ts';
import { bulkUpdate, tagAssets, untagAssets, updateAsset } from '../../src-main/engine/library/organise.ts';
import { restoreAssets, trashAssets } from '../../src-main/engine/library/trash.ts';
import { SyncEngine } from '../../src-main/engine/sync/engine.ts';
import { setSyncEnabled } from '../../src-main/engine/sync/outbox.ts';
import { SupabaseTransport } from '../../src-main/engine/sync/transport.ts';
import { findPostgresBin, startCluster } from '../helpers/postgres/cluster.ts';
import { startStandin } from '../helpers/supabase-standin/server.ts';
import { addAsset } from '../fixtures/library/world.ts';
import type { Bench, Figure } from './harness.ts';
import { rng } from './harness.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const PASSWORD = 'bench password';

function desktopDb(dir: string, name: string): { db: Database; layout: DataLayout } {
  const layout = dataLayout(join(dir, name));
  return { db: new Database(layout.database), layout };
}

/** What a desktop shows for an asset: the synced fields and its tags. */
function snapshot(db: Database): string {
  const rows = db.all<Record<string, unknown>>(
    `SELECT a.id, a.prompt, a.seed, a.favorite, a.rating, a.title, a.trashed_at IS NOT NULL AS trashed,
       (SELECT group_concat(lower(t.name), ',') FROM (SELECT t.name FROM asset_tags at JOIN tags t ON t.id = at.tag_id
         WHERE at.asset_id = a.id ORDER BY lower(t.name)) t) AS tags
     FROM assets a ORDER BY a.id`,
  );
  return JSON.stringify(rows);
}

export const syncBench: Bench = {
  name: 'sync',
  async run(): Promise<Figure[]> {
    const bin = findPostgresBin();
    if (!bin) throw new Error('the sync bench needs PostgreSQL (apt-get install postgresql, or set OURVIDZ_PG_BIN)');
    const figures: Figure[] = [];
    const cluster = startCluster(bin);
    const dir = mkdtempSync(join(tmpdir(), 'bench-sync-'));
    const admin = new pg.Client({ host: cluster.socketDir, port: cluster.port, user: cluster.user, database: 'postgres' });
    await admin.connect();
    const standin = await startStandin({ pg: { host: cluster.socketDir, port: cluster.port, user: cluster.user } });
    try {
      await admin.query(readFileSync(join(ROOT, 'tests', 'helpers', 'postgres', 'supabase-shim.sql'), 'utf8'));
      const migrations = join(ROOT, 'supabase', 'migrations');
      for (const f of readdirSync(migrations).filter((x) => x.endsWith('.sql')).sort()) await admin.query(readFileSync(join(migrations, f), 'utf8'));

      // 1. The cost of recording an edit, sync off vs on (2,000 favourite toggles, one transaction each).
      {
        const w = desktopDb(dir, 'cost');
        const ids = Array.from({ length: 200 }, (_, i) => addAsset(w, { prompt: `cost ${i}` }));
        const toggle = () => {
          const t0 = performance.now();
          for (let i = 0; i < 2000; i++) updateAsset(w.db, ids[i % ids.length]!, { favorite: i % 2 === 0 });
          return ((performance.now() - t0) * 1000) / 2000;
        };
        const off = toggle();
        setSyncEnabled(w.db, true);
        const on = toggle();
        figures.push({ name: 'one favourite edit, sync off', value: off, unit: 'µs' });
        figures.push({ name: 'one favourite edit, sync on (field diff + outbox op in the same transaction)', value: on, unit: 'µs', target: { op: '<', value: 2000 } });
        w.db.close();
      }

      // 2. 1,000 existing assets, each with a tag: back-fill, then mirror them from empty.
      await standin.addUser('bench@example.com', PASSWORD);
      {
        const w = desktopDb(dir, 'backfill');
        const ids = Array.from({ length: 1000 }, (_, i) => addAsset(w, { prompt: `existing ${i}`, seed: i, recipe: { steps: 20, guidance: 7, sampler: 'euler' } }));
        tagAssets(w.db, ids, ['archive']);
        const t0 = performance.now();
        const { backfilled } = setSyncEnabled(w.db, true);
        const t1 = performance.now();
        const transport = new SupabaseTransport({ url: standin.url, anonKey: standin.anonKey });
        await transport.signIn('bench@example.com', PASSWORD);
        const r = await new SyncEngine({ db: w.db, transport }).syncNow();
        const t2 = performance.now();
        figures.push({ name: `turning sync on: back-fill of 1,000 assets with a tag (${backfilled} ops)`, value: (t1 - t0) / 1000, unit: 's' });
        figures.push({ name: `first push of those ${r.pushed} ops through supabase-js to PostgreSQL (records only, no files)`, value: (t2 - t1) / 1000, unit: 's', target: { op: '<', value: 60 } });
        w.db.close();
      }

      // 3. Two desktops, 100 shared assets, 50 offline edits on each, 10 disconnects while converging.
      {
        await standin.addUser('pair@example.com', PASSWORD);
        const sides = ['a', 'b'].map((name) => desktopDb(dir, `pair-${name}`));
        const engines: SyncEngine[] = [];
        for (const s of sides) {
          setSyncEnabled(s.db, true);
          const transport = new SupabaseTransport({ url: standin.url, anonKey: standin.anonKey });
          await transport.signIn('pair@example.com', PASSWORD);
          engines.push(new SyncEngine({ db: s.db, transport }));
        }
        const ids = Array.from({ length: 100 }, (_, i) => addAsset(sides[0]!, { prompt: `shared ${i}`, seed: i }));
        setSyncEnabled(sides[0]!.db, false);
        setSyncEnabled(sides[0]!.db, true);
        await engines[0]!.syncNow();
        await engines[1]!.syncNow();
        const rand = rng(11);
        const pick = () => ids[Math.floor(rand() * ids.length)]!;
        for (let i = 0; i < 100; i++) {
          const db = sides[i % 2]!.db;
          switch (Math.floor(rand() * 6)) {
            case 0:
              updateAsset(db, pick(), { favorite: rand() < 0.5 });
              break;
            case 1:
              updateAsset(db, pick(), { title: `title ${i}` });
              break;
            case 2:
              bulkUpdate(db, [pick(), pick()], { rating: Math.floor(rand() * 6) });
              break;
            case 3:
              tagAssets(db, [pick()], [`tag${Math.floor(rand() * 5)}`]);
              break;
            case 4:
              untagAssets(db, [pick()], [`tag${Math.floor(rand() * 5)}`]);
              break;
            default:
              if (rand() < 0.5) trashAssets(db, [pick()]);
              else restoreAssets(db, [pick()]);
          }
        }
        const t0 = performance.now();
        let disconnects = 0;
        let cycles = 0;
        for (;;) {
          for (const e of engines) {
            cycles++;
            if (disconnects < 10 && cycles % 2 === 1) {
              // Half the cuts lose the answer of a push the server applied, half find the server down.
              disconnects++;
              if (disconnects % 2) standin.dropResponses(1);
              else await standin.stop();
              await e.syncNow().catch(() => undefined);
              await standin.start();
              continue;
            }
            await e.syncNow();
          }
          const waiting = sides.reduce((n, s) => n + s.db.get<{ n: number }>('SELECT count(*) AS n FROM sync_outbox')!.n, 0);
          if (waiting === 0 && disconnects >= 10) {
            // One more round so each side has pulled the other's last push.
            for (const e of engines) await e.syncNow();
            break;
          }
        }
        const secs = (performance.now() - t0) / 1000;
        const same = snapshot(sides[0]!.db) === snapshot(sides[1]!.db);
        figures.push({
          name: 'converge after 50 offline edits on each of two desktops with 10 disconnects',
          value: secs,
          unit: 's',
          target: { op: '<', value: 60 },
          note: `${cycles} sync cycles; desktops ${same ? 'identical' : 'DIFFERENT'} afterwards`,
        });
        if (!same) throw new Error('the two desktops differ after converging: the sync lost or misapplied a change');
        for (const s of sides) s.db.close();
      }
    } finally {
      await standin.close();
      await admin.end().catch(() => undefined);
      cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    return figures;
  },
};
