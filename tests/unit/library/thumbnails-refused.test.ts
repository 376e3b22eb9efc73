/**
 * The background thumbnail queue when the database refuses to record a thumbnail's failure (a full
 * disk refuses that write; here the connection is made read-only, which SQLite refuses the same way):
 * no unhandled rejection — which would end the runner — and no loop retrying the same asset.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { Database } from '../../../src-main/engine/db/database.ts';
import { ThumbnailQueue } from '../../../src-main/engine/library/thumbnails.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

it('a thumbnail failure the database cannot record is dropped for the session, not retried forever or left unhandled', async () => {
  const root = mkdtempSync(join(tmpdir(), 'thumbs-refused-'));
  dirs.push(root);
  const db = new Database(join(root, 'studio.db'));
  const t = Date.now();
  db.run(
    `INSERT INTO assets (id, bucket, kind, file_path, mime, file_size, sha256, created_at, updated_at)
     VALUES ('a1', 'sdxl_image_fast', 'image', 'sdxl_image_fast/2025/01/missing.png', 'image/png', 1, 'x', ?, ?)`,
    t,
    t,
  );
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    db.raw.exec('PRAGMA query_only = ON');
    const queue = new ThumbnailQueue({ db, root: () => root });
    queue.scan();
    const settled = await Promise.race([queue.idle().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 3000))]);
    await new Promise((r) => setTimeout(r, 50));
    expect(settled, 'the queue kept retrying the same asset').toBe(true);
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    db.close();
  }
});
