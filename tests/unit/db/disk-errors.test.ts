/**
 * The database wrapper on a full or failing disk, with real SQLite errors: SQLITE_FULL from
 * SQLite's own page limit (what a full disk makes SQLite answer, down to rolling the transaction
 * back itself) and SQLITE_IOERR_READ from a file SQLite cannot read (a FIFO: pread fails). And the
 * sentence every front door shows for a raw ENOSPC.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Database } from '../../../src-main/engine/db/database.ts';
import { DiskError, diskProblemOf, toWireError } from '../../../src-main/engine/errors.ts';

const dirs: string[] = [];
const dbs: Database[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function freshDb(): Database {
  const dir = mkdtempSync(join(tmpdir(), 'db-disk-'));
  dirs.push(dir);
  const db = new Database(join(dir, 'studio.db'));
  dbs.push(db);
  db.raw.exec('CREATE TABLE blobs (b BLOB)');
  return db;
}

/** The database may not grow by a page: SQLite answers SQLITE_FULL, as on a full disk. */
function fill(db: Database): void {
  const { page_count: pages } = db.raw.prepare('PRAGMA page_count').get() as { page_count: number };
  db.raw.exec(`PRAGMA max_page_count = ${pages}`);
}

describe('Database on a full disk', () => {
  it('a transaction SQLite rolled back itself throws the disk_full sentence, not "cannot rollback"', () => {
    const db = freshDb();
    fill(db);
    let thrown: unknown;
    try {
      db.transaction(() => {
        db.run('INSERT INTO blobs VALUES (?)', new Uint8Array(64 * 1024));
      });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(DiskError);
    const e = thrown as DiskError;
    expect(e.code).toBe('disk_full');
    expect(e.message).toMatch(new RegExp(`^could not save to the studio database: the disk holding ${db.path} is full \\(.+ free\\)\\. Free space on it .* then try again\\.$`));
    expect(e.message).not.toMatch(/cannot rollback|database or disk is full/);
    expect(db.raw.isTransaction).toBe(false);

    // The connection is whole: once there is room, the next transaction commits.
    db.raw.exec('PRAGMA max_page_count = 4294967294');
    db.transaction(() => db.run('INSERT INTO blobs VALUES (?)', new Uint8Array(64 * 1024)));
    expect(db.get<{ n: number }>('SELECT count(*) AS n FROM blobs')?.n).toBe(1);
    expect(db.integrityCheck()).toEqual(['ok']);
  });

  it('an error thrown inside a transaction is rethrown as it was, after the rollback', () => {
    const db = freshDb();
    const mine = new Error('the caller changed its mind');
    expect(() =>
      db.transaction(() => {
        db.run('INSERT INTO blobs VALUES (?)', new Uint8Array(8));
        throw mine;
      }),
    ).toThrow(mine);
    expect(db.get<{ n: number }>('SELECT count(*) AS n FROM blobs')?.n).toBe(0);
  });

  it('a single write outside a transaction says the same', () => {
    const db = freshDb();
    fill(db);
    expect(() => db.run('INSERT INTO blobs VALUES (?)', new Uint8Array(64 * 1024))).toThrow(/^could not save to the studio database: the disk holding .* is full/);
  });
});

describe('Database on a failing disk', () => {
  it('"disk I/O error" from a read becomes a sentence that says what to check', () => {
    const dir = mkdtempSync(join(tmpdir(), 'db-eio-'));
    dirs.push(dir);
    const path = join(dir, 'studio.db');
    execFileSync('mkfifo', [path]);
    let thrown: unknown;
    try {
      dbs.push(new Database(path));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(DiskError);
    const e = thrown as DiskError;
    expect(e.code).toBe('disk_io_error');
    expect(e.message).toBe(
      `could not read the studio database: the disk holding ${path} reported an input/output error (a read failed). Check that the disk is still connected and healthy (run your system's disk check), then try again; if it keeps happening, copy the data folder to a healthy disk.`,
    );
    expect(diskProblemOf((e.cause as Error))).toBe('io');
  });
});

describe('toWireError', () => {
  it('turns a raw ENOSPC from any file write into the disk_full sentence, naming the file', () => {
    const raw = Object.assign(new Error("ENOSPC: no space left on device, write '/data/x.png'"), {
      code: 'ENOSPC',
      errno: -28,
      syscall: 'write',
      path: '/data/x.png',
    });
    const wire = toWireError(raw);
    expect(wire.code).toBe('disk_full');
    expect(wire.message).toMatch(/^could not finish: the disk holding \/data\/x\.png is full \(.+ free\)\. Free space on it/);
    expect(wire.message).not.toMatch(/ENOSPC/);
  });

  it('leaves other errors alone', () => {
    expect(toWireError(new Error('something else'))).toEqual({ code: 'internal', message: 'something else' });
  });
});
