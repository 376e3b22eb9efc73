/**
 * The local store: SQLite through node:sqlite (built into Node 24 and Electron 45, so no native
 * module to rebuild per runtime). WAL, foreign keys, numbered migrations.
 */
import { DatabaseSync } from 'node:sqlite';
import type { SQLInputValue, StatementSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIGRATIONS } from './migrations.ts';
import type { Migration } from './migrations.ts';

export type Row = Record<string, SQLInputValue>;

export class Database {
  readonly path: string;
  readonly raw: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  private depth = 0;

  constructor(path: string, migrations: readonly Migration[] = MIGRATIONS) {
    this.path = path;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    try {
      this.raw = new DatabaseSync(path, { enableForeignKeyConstraints: true, timeout: 5000 });
    } catch (e) {
      throw new Error(`cannot open the studio database at ${path}: ${(e as Error).message}. Check the folder is writable, or choose another with --data.`);
    }
    this.raw.exec('PRAGMA journal_mode = WAL');
    this.raw.exec('PRAGMA synchronous = NORMAL');
    this.raw.exec('PRAGMA busy_timeout = 5000');
    this.migrate(migrations);
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
    return this.prepare(sql).get(...args) as T | undefined;
  }

  all<T>(sql: string, ...args: SQLInputValue[]): T[] {
    return this.prepare(sql).all(...args) as T[];
  }

  run(sql: string, ...args: SQLInputValue[]): { changes: number; lastInsertRowid: number } {
    const r = this.prepare(sql).run(...args);
    return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
  }

  /** Runs fn in one IMMEDIATE transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.raw.exec('BEGIN IMMEDIATE');
    this.depth++;
    try {
      const result = fn();
      this.raw.exec('COMMIT');
      return result;
    } catch (e) {
      this.raw.exec('ROLLBACK');
      throw e;
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
