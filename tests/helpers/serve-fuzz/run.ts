/**
 * The request fuzzer: a real `studio serve` child (the shipped CLI and engine, as a user starts
 * it) takes a seeded stream of hostile requests, raw and by fetch, many at once. Every request must
 * get a whole HTTP answer — no reset, no silence, no 5xx — that never lets an untrusted request
 * reach the API, the media or the event stream, and never carries a byte of a file outside the
 * renderer build or the library. Between batches a normal request must still be answered. At the
 * end the server must stop cleanly on SIGTERM, the database must pass integrity_check, and its jobs
 * must be exactly the ones the fuzzer was told it enqueued.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Database } from '../../../src-main/engine/db/database.ts';
import { encodePng } from '../../../src-main/engine/media/png-encode.ts';
import { mediaKeyFor } from '../../../src-main/cli/media-route.ts';
import { DEFAULT_RENDERER_DIR } from '../../../src-main/cli/serve.ts';
import { TEST_STEP_MS_ENV } from '../../fixtures/pipelines/test-pipeline.ts';
import { RequestMaker } from './generate.ts';
import type { FuzzKind, FuzzRequest } from './generate.ts';
import { Random } from './random.ts';
import { rawExchange } from './raw-http.ts';
import type { RawOutcome } from './raw-http.ts';

const BIN = fileURLToPath(new URL('../../../bin/studio.mjs', import.meta.url));
const SERVE_HOST = fileURLToPath(new URL('../../fixtures/serve-host.ts', import.meta.url));

export interface FuzzOptions {
  readonly seed: number;
  readonly requests: number;
  /** Requests in flight at once (default 12). */
  readonly concurrency?: number;
  /** Requests between two checks that a normal request is still answered (default 250). */
  readonly batch?: number;
  /** Only these request numbers (to replay one failure). */
  readonly only?: readonly number[];
  readonly log?: (line: string) => void;
  /**
   * `test-pipeline` (default): the real engine and server with the test-only pipeline registered
   * (tests/fixtures/serve-host.ts), so enqueued jobs run and write real files into the library while
   * the requests come in. `shipped`: `bin/studio.mjs serve` as a user starts it (no models, so jobs
   * fail at once).
   */
  readonly host?: 'test-pipeline' | 'shipped';
}

export interface FuzzFailure {
  readonly n: number;
  readonly kind: FuzzKind | 'server';
  readonly label: string;
  readonly problem: string;
  readonly got: string;
}

export interface FuzzReport {
  readonly seed: number;
  readonly sent: number;
  readonly byKind: Readonly<Record<string, number>>;
  readonly statuses: Readonly<Record<string, number>>;
  readonly failures: readonly FuzzFailure[];
  readonly healthChecks: number;
  readonly durationMs: number;
  /** The serve process's peak resident memory (VmHWM), MB. */
  readonly peakRssMb: number;
  readonly jobsAcknowledged: number;
  readonly jobsInDatabase: number;
  readonly integrity: readonly string[];
  readonly exitCode: number | null;
}

/** What must never appear in an answer: a secret beside the database, package.json, /etc/passwd. */
function secretMarkers(seed: number): string[] {
  return [`FUZZ-SECRET-${seed}`, '"allowScripts"', 'root:x:0:0:'];
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Hashes of every file of the renderer build: a static 200 must be one of them, byte for byte. */
function buildHashes(dir: string): Set<string> {
  const out = new Set<string>();
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.add(sha256(readFileSync(p)));
    }
  };
  walk(dir);
  return out;
}

interface Sandbox {
  readonly root: string;
  readonly data: string;
  readonly importDir: string;
  readonly png: Buffer;
  readonly paths: string[];
  readonly files: string[];
}

function makeSandbox(seed: number): Sandbox {
  const root = mkdtempSync(path.join(tmpdir(), 'studio-fuzz-'));
  const data = path.join(root, 'data');
  const importDir = path.join(root, 'import-src');
  const outside = path.join(root, 'outside');
  for (const d of [data, importDir, outside, path.join(root, 'cwd')]) mkdirSync(d, { recursive: true });
  writeFileSync(path.join(data, 'fuzz-secret.txt'), `FUZZ-SECRET-${seed}\n`);
  writeFileSync(path.join(outside, 'secret.png'), `FUZZ-SECRET-${seed}\n`);
  const png = Buffer.from(encodePng({ width: 8, height: 8, channels: 3, data: new Uint8Array(8 * 8 * 3).map((_, i) => (i * 37) & 0xff) }));
  writeFileSync(path.join(importDir, 'one.png'), png);
  symlinkSync(path.join(outside, 'secret.png'), path.join(importDir, 'escape.png'));
  symlinkSync(outside, path.join(importDir, 'escape-dir'));
  writeFileSync(path.join(root, 'file.bin'), Buffer.alloc(64, 7));
  writeFileSync(path.join(root, 'garbage.safetensors'), Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), Buffer.alloc(32)]));
  writeFileSync(path.join(root, 'garbage.gguf'), Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(60, 0xff)]));
  // Paths a request may name. Only ones inside the sandbox can be created: a request may move the
  // library or export there, and the server runs as whoever runs the tests.
  const paths = [
    importDir, path.join(root, 'out-a'), path.join(root, 'out-b', 'deeper'), path.join(root, 'file.bin'), path.join(root, 'garbage.safetensors'),
    path.join(root, 'garbage.gguf'), data, path.join(data, 'library'), path.join(data, 'library', 'inside'), path.join(data, 'studio.db'), outside,
    'relative-dir', '../up', '.', ' ', '\0', 'a\0b', '/dev/null', '/dev/zero', '/dev/urandom', '/proc/self/status', '/dev/null/x', '/proc/fuzz-nope',
    path.join(root, 'n'.repeat(300)), path.join(root, `${'d/'.repeat(1900)}x`), 'C:\\Windows', '\\\\server\\share', 'file:///etc', `${root}/./out-a/../out-c`,
  ];
  const files = [png.toString('base64'), Buffer.alloc(0).toString('base64'), Buffer.from('not an image').toString('base64'), 'AAAA', Buffer.from('GIF89a').toString('base64')];
  return { root, data, importDir, png, paths, files };
}

interface Serve {
  readonly child: ChildProcess;
  readonly port: number;
  readonly token: string;
  readonly url: string;
  stderrTail(): string;
}

async function startServe(sandbox: Sandbox, host: NonNullable<FuzzOptions['host']>): Promise<Serve> {
  const args = host === 'shipped' ? [BIN, 'serve', '--json', '--data', sandbox.data] : [SERVE_HOST, '--data', sandbox.data];
  const child = spawn(process.execPath, args, {
    cwd: path.join(sandbox.root, 'cwd'),
    stdio: ['ignore', 'pipe', 'pipe'],
    // Test-pipeline steps of 2 ms: the jobs a fuzzed enqueue makes finish in seconds, not minutes.
    env: { ...process.env, [TEST_STEP_MS_ENV]: '2' },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-16_384)));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`studio serve exited with ${code} before it was ready: ${stderr}`)));
  });
  const info = JSON.parse(line) as { url: string; token: string; port: number };
  return { child, port: info.port, token: info.token, url: info.url, stderrTail: () => stderr };
}

async function call(serve: Serve, channel: string, params: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${serve.url}/api/${channel}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${serve.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(params),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.json() };
}

async function viaFetch(serve: Serve, req: NonNullable<FuzzRequest['fetch']>, timeoutMs: number): Promise<RawOutcome> {
  try {
    const res = await fetch(`${serve.url}${req.path}`, {
      method: req.method,
      headers: req.headers,
      ...(req.body ? { body: req.body } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = Buffer.from(await res.arrayBuffer());
    const headers = new Map<string, string>();
    res.headers.forEach((v, k) => headers.set(k, v));
    return { answer: { status: res.status, headers, body }, problem: null, reset: false, received: body };
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return { answer: null, problem: `fetch failed: ${cause?.code ?? cause?.message ?? (e as Error).message}`, reset: cause?.code === 'ECONNRESET', received: Buffer.alloc(0) };
  }
}

const IMAGE_SIGNATURES = [Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.from([0xff, 0xd8, 0xff]), Buffer.from('RIFF')];

interface Judge {
  readonly markers: readonly string[];
  readonly build: ReadonlySet<string>;
  readonly builtAtStart: boolean;
}

/** What is wrong with the answer to `req`, or null. */
function judge(req: FuzzRequest, out: RawOutcome, j: Judge): string | null {
  if (out.problem) return out.problem;
  const a = out.answer!;
  const text = a.body.toString('latin1');
  const type = a.headers.get('content-type') ?? '';
  for (const m of j.markers) if (text.includes(m)) return `the answer carries ${JSON.stringify(m)}, from a file outside the build and the library`;
  if (a.status >= 500) {
    // Before `npm run build` every page is the 503 that says so (a HEAD gets its headers alone).
    const notBuilt = a.status === 503 && !j.builtAtStart && (text.includes('not built yet') || (req.raw?.noBody === true && type.startsWith('text/html')));
    if (!notBuilt) return `answered ${a.status}: ${text.slice(0, 300)}`;
  }
  const media = a.headers.has('cross-origin-resource-policy');
  if (req.trusted === false) {
    if (a.status === 101) return 'the event stream opened for a request without the token, or from a foreign Host/Origin';
    if (a.status >= 200 && a.status < 300 && (type.startsWith('application/json') || media)) {
      return `answered ${a.status} (${media ? 'media' : 'API'}) to a request without the token or key, or from a foreign Host/Origin`;
    }
  }
  if (a.status >= 400 && type.startsWith('application/json') && !req.raw?.noBody) {
    type Wire = { error?: { code?: unknown; message?: unknown } } | null;
    let wire: Wire;
    try {
      wire = JSON.parse(a.body.toString('utf8')) as Wire;
    } catch {
      return `a ${a.status} whose JSON body does not parse`;
    }
    if (typeof wire?.error?.code !== 'string' || typeof wire.error.message !== 'string' || wire.error.message.length < 10) {
      return `a ${a.status} without an error that says what happened: ${text.slice(0, 200)}`;
    }
  }
  if (a.status === 200 && a.body.length > 0) {
    if (media && !IMAGE_SIGNATURES.some((sig) => a.body.subarray(0, sig.length).equals(sig))) return 'a media answer that is not an image';
    const isStatic = !media && !type.startsWith('application/json') && !text.includes('not built yet');
    if (isStatic && !j.build.has(sha256(a.body))) return `a 200 (${type}) whose body is not a file of the renderer build`;
  }
  return null;
}

async function pool<T>(items: readonly T[], concurrency: number, each: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await each(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

function peakRssMb(pid: number | undefined): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

export async function runServeFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const log = options.log ?? (() => undefined);
  const started = performance.now();
  const sandbox = makeSandbox(options.seed);
  const serve = await startServe(sandbox, options.host ?? 'test-pipeline');
  const failures: FuzzFailure[] = [];
  const statuses: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  const acked = new Set<string>();
  let healthChecks = 0;
  let sent = 0;
  try {
    const imported = await call(serve, 'library.import', { dir: sandbox.importDir });
    const assetId = (imported.body as { imported?: { id: string }[] }).imported?.[0]?.id;
    if (imported.status !== 200 || !assetId) throw new Error(`the fuzzer could not import its test picture: ${JSON.stringify(imported.body)}`);
    const mediaKey = mediaKeyFor(serve.token);
    const maker = new RequestMaker(new Random(options.seed), {
      port: serve.port,
      token: serve.token,
      mediaKey,
      assetId,
      params: { paths: sandbox.paths, ids: [assetId, 'nope', 'a', 'x'.repeat(64)], files: sandbox.files },
    });
    const all = maker.make(options.requests);
    const requests = options.only ? all.filter((r) => options.only!.includes(r.n)) : all;
    const j: Judge = {
      markers: secretMarkers(options.seed),
      build: buildHashes(DEFAULT_RENDERER_DIR),
      builtAtStart: (() => {
        try {
          return statSync(path.join(DEFAULT_RENDERER_DIR, 'index.html')).isFile();
        } catch {
          return false;
        }
      })(),
    };
    const batch = options.batch ?? 250;
    const health = async (after: number): Promise<boolean> => {
      healthChecks++;
      const problem =
        serve.child.exitCode !== null || serve.child.signalCode !== null
          ? `the server exited (${serve.child.exitCode ?? serve.child.signalCode})`
          : await call(serve, 'queue.state', {}).then(
              (r) => (r.status === 200 ? null : `queue.state answered ${r.status}`),
              (e: Error) => `queue.state failed: ${(e.cause as Error | undefined)?.message ?? e.message}`,
            );
      if (problem) failures.push({ n: after, kind: 'server', label: `a normal request after request #${after}`, problem, got: serve.stderrTail().slice(-2000) });
      return problem === null;
    };
    for (let b = 0; b < requests.length; b += batch) {
      const slice = requests.slice(b, b + batch);
      await pool(slice, options.concurrency ?? 12, async (req) => {
        const delays = req.raw?.parts.reduce((s, p) => s + (p.delayMs ?? 0), 0) ?? 0;
        const timeoutMs = 15_000 + delays;
        const out = req.raw
          ? await rawExchange({ port: serve.port, ...req.raw, timeoutMs })
          : await viaFetch(serve, req.fetch!, timeoutMs);
        sent++;
        byKind[req.kind] = (byKind[req.kind] ?? 0) + 1;
        const status = out.answer ? String(out.answer.status) : 'none';
        statuses[status] = (statuses[status] ?? 0) + 1;
        const problem = judge(req, out, j);
        if (problem) failures.push({ n: req.n, kind: req.kind, label: req.label, problem, got: out.received.subarray(0, 400).toString('latin1') });
        if (req.enqueue && out.answer?.status === 200) {
          const id = (JSON.parse(out.answer.body.toString('utf8')) as { id?: string }).id;
          if (id) acked.add(id);
        }
      });
      log(`fuzz seed ${options.seed}: ${Math.min(b + batch, requests.length)}/${requests.length} requests, ${failures.length} failures`);
      if (!(await health(slice[slice.length - 1]!.n))) break;
    }
  } catch (e) {
    failures.push({ n: -1, kind: 'server', label: 'the fuzz run', problem: (e as Error).stack ?? String(e), got: serve.stderrTail().slice(-2000) });
  }
  {
    const rss = peakRssMb(serve.child.pid);
    let exitCode: number | null = serve.child.exitCode;
    if (exitCode === null && serve.child.signalCode === null) {
      const exited = new Promise<number | null>((r) => serve.child.once('exit', (code) => r(code)));
      serve.child.kill('SIGTERM');
      const timer = setTimeout(() => serve.child.kill('SIGKILL'), 20_000);
      exitCode = await exited;
      clearTimeout(timer);
    }
    if (exitCode !== 0) failures.push({ n: -1, kind: 'server', label: 'SIGTERM after the fuzzing', problem: `studio serve exited with ${exitCode ?? serve.child.signalCode}`, got: serve.stderrTail().slice(-2000) });
    const db = new Database(path.join(sandbox.data, 'studio.db'));
    const integrity = db.integrityCheck();
    const jobIds = db.all<{ id: string }>('SELECT id FROM jobs').map((r) => r.id);
    db.close();
    if (integrity.join() !== 'ok') failures.push({ n: -1, kind: 'server', label: 'PRAGMA integrity_check', problem: integrity.join('; '), got: '' });
    const unasked = jobIds.filter((id) => !acked.has(id));
    const lost = [...acked].filter((id) => !jobIds.includes(id));
    if (unasked.length) failures.push({ n: -1, kind: 'server', label: 'jobs in the database', problem: `${unasked.length} job(s) no trusted request was told it enqueued: ${unasked.slice(0, 5).join(', ')}`, got: '' });
    if (lost.length) failures.push({ n: -1, kind: 'server', label: 'jobs in the database', problem: `${lost.length} acknowledged job(s) missing: ${lost.slice(0, 5).join(', ')}`, got: '' });
    rmSync(sandbox.root, { recursive: true, force: true });
    const report: FuzzReport = {
      seed: options.seed,
      sent,
      byKind,
      statuses,
      failures,
      healthChecks,
      durationMs: performance.now() - started,
      peakRssMb: rss,
      jobsAcknowledged: acked.size,
      jobsInDatabase: jobIds.length,
      integrity,
      exitCode,
    };
    return report;
  }
}

/** One line per failure, each naming the request and how to replay it. */
export function describeFailures(report: FuzzReport, replay: string): string {
  return report.failures
    .slice(0, 25)
    .map((f) => `#${f.n} [${f.kind}] ${f.label}\n    → ${f.problem}\n    got: ${JSON.stringify(f.got.slice(0, 300))}\n    replay: FUZZ_SEED=${report.seed} FUZZ_ONLY=${f.n} ${replay}`)
    .join('\n');
}
