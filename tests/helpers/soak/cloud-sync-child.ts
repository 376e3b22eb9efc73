/**
 * A syncing process for the cloud soak (tests/integration/cloud-soak.test.ts) to kill with SIGKILL:
 * opens a desktop's data folder (its studio database, as `studio sync now` does), signs in through
 * the unmodified supabase-js and runs one sync cycle with small push batches and pull pages, so a
 * kill can land between any two of its requests, inside its SQLite transactions, or while the
 * server is applying a push whose answer it will never read.
 *
 *   node tests/helpers/soak/cloud-sync-child.ts <data folder> <project url> <anon key> <email>
 *   (the password in STUDIO_SYNC_PASSWORD)
 *
 * Prints `signed-in` once signed in, then the cycle's counts as JSON when it finishes.
 */
import { Database } from '../../../src-main/engine/db/database.ts';
import { dataLayout } from '../../../src-main/engine/paths.ts';
import { SyncEngine } from '../../../src-main/engine/sync/engine.ts';
import { SupabaseTransport } from '../../../src-main/engine/sync/transport.ts';

const [dataDir, url, anonKey, email] = process.argv.slice(2);
if (!dataDir || !url || !anonKey || !email) {
  process.stderr.write('usage: cloud-sync-child.ts <data folder> <project url> <anon key> <email> (password in STUDIO_SYNC_PASSWORD)\n');
  process.exit(2);
}
const layout = dataLayout(dataDir);
const db = new Database(layout.database);
const transport = new SupabaseTransport({ url, anonKey });
await transport.signIn(email, process.env.STUDIO_SYNC_PASSWORD ?? '');
process.stdout.write('signed-in\n');
const engine = new SyncEngine({ db, transport, libraryRoot: layout.library, batchSize: 2, pullLimit: 3 });
const cycle = await engine.syncNow();
process.stdout.write(`${JSON.stringify(cycle)}\n`);
db.close();
