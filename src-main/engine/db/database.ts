/**
 * The local store: SQLite through node:sqlite (built into Node 24 and Electron 45, so no native
 * module to rebuild per runtime). WAL, foreign keys, numbered migrations.
 */
import { DatabaseSync } from 'node:sqlite';
import type { SQLInputValue, StatementSync } from 'node:sqlite';
import { dirname } from 'node:path';
import { MIGRATIONS } from './migrations.ts';
import type { Migration } from './migrations.ts';
import { diskError, diskProblemOf } from '../errors.ts';
import { makeDirSync } from '../fs/make-dir.ts';

export type Row = Record<string, SQLInputValue>;

const SQLITE_IOERR_READ = 266;
const SQLITE_IOERR_SHORT_READ = 522;

export class Database {
  readonly path: string;
  readonly raw: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  private depth = 0;

  constructor(path: string, migrations: readonly Migration[] = MIGRATIONS) {
    this.path = path;
    if (path !== ':memory:') makeDirSync(dirname(path));
    try {
      this.raw = new DatabaseSync(path, { enableForeignKeyConstraints: true, timeout: 5000 });
    } catch (e) {
      const disk = this.translate(e);
      if (disk !== e) throw disk;
      throw new Error(`cannot open the studio database at ${path}: ${(e as Error).message}. Check the folder is writable, or choose another with --data.`);
    }
    try {
      this.raw.exec('PRAGMA journal_mode = WAL');
      this.raw.exec('PRAGMA synchronous = NORMAL');
      this.raw.exec('PRAGMA busy_timeout = 5000');
      this.migrate(migrations);
    } catch (e) {
      this.raw.close();
      throw this.translate(e);
    }
  }

  /** Cached prepared statement. */
  prepare(sql: string): StatementSync {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.raw.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  get<T>(sql: string, ...args: SQLInputValue[]): T | undefined {
    try {
      return this.prepare(sql).get(...args) as T | undefined;
    } catch (e) {
      throw this.translate(e);
    }
  }

  all<T>(sql: string, ...args: SQLInputValue[]): T[] {
    try {
      return this.prepare(sql).all(...args) as T[];
    } catch (e) {
      throw this.translate(e);
    }
  }

  run(sql: string, ...args: SQLInputValue[]): { changes: number; lastInsertRowid: number } {
    try {
      const r = this.prepare(sql).run(...args);
      return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
    } catch (e) {
      throw this.translate(e);
    }
  }

  /**
   * Runs fn in one IMMEDIATE transaction (nested calls join the outer one). On any failure the
   * transaction is rolled back and the failure itself is thrown: SQLite rolls back on its own on
   * SQLITE_FULL and some I/O errors, so ROLLBACK is issued only while a transaction is still open,
   * and a ROLLBACK that fails never hides the error that caused it.
   */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    try {
      this.raw.exec('BEGIN IMMEDIATE');
    } catch (e) {
      throw this.translate(e);
    }
    this.depth++;
    try {
      const result = fn();
      this.raw.exec('COMMIT');
      return result;
    } catch (e) {
      if (this.raw.isTransaction) {
        try {
          this.raw.exec('ROLLBACK');
        } catch {
          // Already rolled back by SQLite, or the disk refused even that: the cause below matters.
        }
      }
      throw this.translate(e);
    } finally {
      this.depth--;
    }
  }

  integrityCheck(): string[] {
    return this.all<{ integrity_check: string }>('PRAGMA integrity_check').map((r) => r.integrity_check);
  }

  schemaVersion(): number {
    return this.get<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations')?.v ?? 0;
  }

  close(): void {
    this.statements.clear();
    if (this.raw.isOpen) this.raw.close();
  }

  /**
   * A full disk (SQLITE_FULL) or a failing one (SQLITE_IOERR, "disk I/O error") becomes a sentence
   * naming the database's disk and what to do; every other error passes unchanged.
   */
  private translate(e: unknown): unknown {
    // Only SQLite's own errors: a StudioError (or a file error) thrown inside a transaction passes.
    if ((e as { code?: unknown } | null)?.code !== 'ERR_SQLITE_ERROR') return e;
    const problem = diskProblemOf(e);
    if (problem === null) return e;
    const errcode = (e as { errcode?: unknown }).errcode;
    const what =
      problem === 'full'
        ? 'could not save to the studio database'
        : errcode === SQLITE_IOERR_READ || errcode === SQLITE_IOERR_SHORT_READ
          ? 'could not read the studio database'
          : 'could not read or write the studio database';
    return diskError(e, { what, where: this.path === ':memory:' ? undefined : this.path }) ?? e;
  }

  private migrate(migrations: readonly Migration[]): void {
    this.raw.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    const current = this.schemaVersion();
    const newest = migrations.at(-1)?.version ?? 0;
    if (current > newest) {
      throw new Error(
        `the studio database at ${this.path} was written by a newer version (schema ${current}, this build knows ${newest}). Update OurVidz Studio, or point --data at another folder.`,
      );
    }
    for (const m of migrations) {
      if (m.version <= current) continue;
      this.transaction(() => {
        this.raw.exec(m.sql);
        this.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', m.version, m.name, Date.now());
      });
    }
  }
}
