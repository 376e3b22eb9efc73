/**
 * A throwaway PostgreSQL cluster for tests: initdb into a temp folder, a server listening only on a
 * unix socket in that folder (no TCP port, so parallel runs never collide), stopped and removed
 * afterwards. PostgreSQL refuses to run as root; as root (CI is) the cluster runs as the `postgres`
 * OS user that Debian's package creates, or `nobody` where there is none, through `runuser`.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PgCluster {
  /** Folder holding the server's socket: the `host` for node-postgres. */
  readonly socketDir: string;
  readonly port: number;
  /** The bootstrap superuser (the role Supabase's platform setup would run as). */
  readonly user: string;
  stop(): void;
}

const PORT = 5432;

/** The folder with initdb, pg_ctl and postgres: $OURVIDZ_PG_BIN, the newest /usr/lib/postgresql/N/bin, or pg_config's. */
export function findPostgresBin(): string | null {
  const has = (dir: string) => ['initdb', 'pg_ctl', 'postgres'].every((b) => existsSync(join(dir, b)));
  const env = process.env.OURVIDZ_PG_BIN;
  if (env) return has(env) ? env : null;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (has(join(root, v, 'bin'))) return join(root, v, 'bin');
  }
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0 && has(pgConfig.stdout.trim())) return pgConfig.stdout.trim();
  return null;
}

/**
 * Whether `CREATE EXTENSION <name>` works in a cluster started from `bin`: extensions are found in
 * that installation's share folder (`pg_config --sharedir`), where Debian's packages put them
 * (postgresql-15-pgtap: /usr/share/postgresql/15/extension/pgtap.control).
 */
export function hasExtension(bin: string, name: string): boolean {
  const own = join(bin, 'pg_config');
  const r = spawnSync(existsSync(own) ? own : 'pg_config', ['--sharedir'], { encoding: 'utf8' });
  return r.status === 0 && existsSync(join(r.stdout.trim(), 'extension', `${name}.control`));
}

function osUser(): { name: string; uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0) return { name, uid: Number(uid.stdout), gid: Number(gid.stdout) };
  }
  throw new Error('running as root, and neither a "postgres" nor a "nobody" OS user exists to run PostgreSQL as (PostgreSQL refuses root): create one with `useradd postgres`');
}

export function startCluster(bin: string): PgCluster {
  const user = osUser();
  const dir = mkdtempSync(join(tmpdir(), 'ourvidz-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');

  const run = (tool: string, args: string[]): SpawnSyncReturns<string> => {
    const exe = join(bin, tool);
    const [cmd, argv] = user ? ['runuser', ['-u', user.name, '--', exe, ...args]] : [exe, args];
    return spawnSync(cmd, argv, { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  };
  const must = (tool: string, args: string[]) => {
    const r = run(tool, args);
    if (r.status !== 0) {
      const serverLog = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${tool} failed (exit ${r.status ?? r.signal}): ${r.stderr || r.stdout}${serverLog ? `\nserver log:\n${serverLog}` : ''}`);
    }
  };

  must('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  // fsync off: a test cluster's data is thrown away, so durability only costs time.
  const serverOptions = `-k ${dir} -p ${PORT} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  must('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-o', serverOptions, 'start']);

  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stop);
    run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
    rmSync(dir, { recursive: true, force: true });
  };
  // A crashed test run still stops its server.
  process.on('exit', stop);
  return { socketDir: dir, port: PORT, user: 'postgres', stop };
}
