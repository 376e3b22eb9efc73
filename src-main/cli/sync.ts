/**
 * `studio sync status|now|pause|resume|on|off|login|logout`: the cloud mirror (docs/cloud.md) from
 * the command line, through the same `sync.*` channels as Settings → Cloud and `studio serve`.
 *
 * The CLI keeps its sign-in in `<data>/cloud-session.json` (mode 0600), apart from the app's (the
 * app keeps its own in the system keychain). The password is read from STUDIO_SYNC_PASSWORD or asked
 * for on a terminal without echo — never from the command line, where other users' `ps` can see it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CloudStatus } from '../../src-preload/contract/sync.ts';
import type { CommandContext } from './commands.ts';
import { invoke } from './dispatch.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import type { CliEngine, Io } from './io.ts';
import { formatDuration } from './render.ts';

export const SYNC_COMMAND_NAMES = ['sync status', 'sync now', 'sync pause', 'sync resume', 'sync on', 'sync off', 'sync login', 'sync logout'] as const;
export type SyncCommandName = (typeof SYNC_COMMAND_NAMES)[number];

const LOGIN_OPTIONS = {
  url: { type: 'string', value: 'URL', help: 'the Supabase project URL (Project Settings → API), e.g. https://abcd1234.supabase.co' },
  'anon-key': { type: 'string', value: 'KEY', help: 'the project’s anon (public) key' },
  config: { type: 'string', value: 'FILE', help: 'an ourvidz-sync.json holding { "url", "anonKey" } instead of --url and --anon-key' },
  email: { type: 'string', value: 'EMAIL', help: 'the email you signed up with (password: $STUDIO_SYNC_PASSWORD, or asked for on a terminal)' },
} as const;

export const SYNC_SPECS: Readonly<Record<SyncCommandName, { summary: string; options: Record<string, { type: 'string' | 'boolean'; value?: string; help: string }> }>> = {
  'sync status': { summary: 'show the cloud mirror: project, who is signed in, on or off, last sync, changes waiting, refused changes', options: {} },
  'sync now': { summary: 'sync with the cloud now (send what waits, fetch what is new), with a progress line and a summary', options: {} },
  'sync pause': { summary: 'hold cloud sync: nothing is sent or fetched, changes keep being recorded', options: {} },
  'sync resume': { summary: 'go on syncing after a pause', options: {} },
  'sync on': { summary: 'turn the cloud mirror on (the library is queued to be sent; needs a sign-in to send)', options: {} },
  'sync off': { summary: 'turn the cloud mirror off: no traffic at all, nothing recorded', options: {} },
  'sync login': { summary: 'set the cloud project and sign in with email and password (Supabase Auth)', options: LOGIN_OPTIONS },
  'sync logout': { summary: 'sign out of the cloud: stops all traffic and removes the stored sign-in', options: {} },
};

function ago(at: number | null, now: number): string {
  if (at === null) return 'never';
  const d = Math.max(0, now - at);
  return d < 1000 ? 'just now' : `${formatDuration(d)} ago`;
}

/** The status as lines a person reads. */
export function statusText(s: CloudStatus, now: number): string {
  const lines = [
    `project:     ${s.url ?? 'not set (studio sync login --url … --anon-key …)'}`,
    `signed in:   ${s.signedInAs ?? 'no'}`,
    `sync:        ${!s.enabled ? 'off' : s.paused ? 'paused' : s.syncing ? 'on, syncing now' : 'on'}`,
    `last sync:   ${ago(s.lastSyncAt, now)}`,
    `waiting:     ${s.waiting} change${s.waiting === 1 ? '' : 's'}`,
    `sign-in kept in: ${s.sessionStorage}`,
  ];
  if (s.lastError) lines.push(`problem:     ${s.lastError}`);
  if (s.failures.length > 0) {
    lines.push(`refused:     ${s.failures.length} change${s.failures.length === 1 ? '' : 's'} (kept; sent again after \`studio sync now\` once fixed):`);
    for (const f of s.failures.slice(0, 10)) lines.push(`  ${f.table} ${f.id}: ${f.reason}`);
  }
  return lines.join('\n');
}

/** Reads a password from a terminal without echoing it. */
function askPassword(io: Io, prompt: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((done, fail) => {
    io.stderr.write(prompt);
    let text = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          done(text);
          return;
        }
        if (ch === '\u0003') {
          finish();
          fail(new UsageError('sign-in cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      io.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}

async function login(ctx: CommandContext, engine: CliEngine): Promise<CloudStatus> {
  const v = ctx.line.values;
  const url = typeof v.url === 'string' ? v.url : undefined;
  const anonKey = typeof v['anon-key'] === 'string' ? v['anon-key'] : undefined;
  const config = typeof v.config === 'string' ? v.config : undefined;
  if (config !== undefined && (url !== undefined || anonKey !== undefined)) {
    throw new UsageError('give either --config FILE or --url and --anon-key, not both', '--config');
  }
  if ((url === undefined) !== (anonKey === undefined)) {
    throw new UsageError(url === undefined ? '--anon-key needs --url too' : '--url needs --anon-key too', url === undefined ? '--url' : '--anon-key');
  }
  if (config !== undefined) {
    let text: string;
    try {
      text = readFileSync(resolve(config), 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${config} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): give the path of the ourvidz-sync.json you downloaded`, '--config');
    }
    await invoke(engine.handlers, 'sync.configure', { json: text });
  } else if (url !== undefined) {
    await invoke(engine.handlers, 'sync.configure', { url, anonKey });
  }
  const email = typeof v.email === 'string' ? v.email : undefined;
  if (!email) throw new UsageError('--email is required: the email address you signed up with', '--email');
  let password = ctx.io.env.STUDIO_SYNC_PASSWORD;
  if (!password) {
    if (process.stdin.isTTY !== true) {
      throw new UsageError('no password: set STUDIO_SYNC_PASSWORD, or run this on a terminal to be asked for it (a password is never taken from the command line)');
    }
    password = await askPassword(ctx.io, `password for ${email}: `);
  }
  return invoke(engine.handlers, 'sync.login', { email, password });
}

/** `sync now`: one sync, a progress line on stderr (a terminal) while it runs, then a summary. */
async function now(ctx: CommandContext, engine: CliEngine): Promise<number> {
  const { io } = ctx;
  const json = ctx.line.global.json;
  const before = await invoke(engine.handlers, 'sync.status', undefined);
  const live = !json && io.stderr.isTTY === true;
  let ticks = 0;
  const timer = live
    ? setInterval(() => {
        void invoke(engine.handlers, 'sync.status', undefined).then((s) => {
          ticks++;
          io.stderr.write(`\rsyncing… ${Math.max(0, before.waiting - s.waiting)}/${before.waiting} sent${'.'.repeat(ticks % 4)}   `);
        }, () => undefined);
      }, 250)
    : null;
  if (!json) io.stderr.write(`syncing ${before.waiting} waiting change${before.waiting === 1 ? '' : 's'} with ${before.url ?? 'the cloud'}${live ? '' : '\n'}`);
  try {
    const r = await invoke(engine.handlers, 'sync.now', undefined);
    if (timer) io.stderr.write('\n');
    if (json) io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else {
      const parts = [`sent ${r.pushed}`, ...(r.duplicates ? [`${r.duplicates} already there`] : []), ...(r.rejected ? [`${r.rejected} refused`] : []), `fetched ${r.pulled}`, `applied ${r.applied}`];
      io.stdout.write(`synced: ${parts.join(', ')}; ${r.status.waiting} waiting\n`);
      if (r.rejected > 0 || r.status.failures.length > 0) io.stderr.write('refused changes are kept with the reason: see `studio sync status`\n');
      if (r.status.lastError) io.stderr.write(`note: ${r.status.lastError}\n`);
    }
    return r.status.failures.length > 0 ? EXIT.jobFailed : EXIT.ok;
  } finally {
    if (timer) clearInterval(timer);
  }
}

export async function syncCommand(ctx: CommandContext, name: SyncCommandName, withEngine: (fn: (engine: CliEngine) => Promise<number>) => Promise<number>): Promise<number> {
  const { io } = ctx;
  const json = ctx.line.global.json;
  const show = (s: CloudStatus, line?: string): number => {
    if (json) io.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    else io.stdout.write(`${line ? `${line}\n` : ''}${statusText(s, io.now())}\n`);
    return EXIT.ok;
  };
  return withEngine(async (engine) => {
    switch (name) {
      case 'sync status':
        return show(await invoke(engine.handlers, 'sync.status', undefined));
      case 'sync now':
        return now(ctx, engine);
      case 'sync pause':
        return show(await invoke(engine.handlers, 'sync.pause', undefined), 'paused: nothing is sent or fetched until `studio sync resume`');
      case 'sync resume':
        return show(await invoke(engine.handlers, 'sync.resume', undefined), 'resumed');
      case 'sync on': {
        const s = await invoke(engine.handlers, 'sync.setEnabled', { enabled: true });
        return show(s, s.signedInAs ? 'cloud sync is on: `studio sync now` sends it (an open app or `studio serve` syncs by itself)' : 'cloud sync is on, but nothing is sent until you sign in: `studio sync login`');
      }
      case 'sync off':
        return show(await invoke(engine.handlers, 'sync.setEnabled', { enabled: false }), 'cloud sync is off: nothing is sent or fetched');
      case 'sync login': {
        const s = await login(ctx, engine);
        return show(s, `signed in as ${s.signedInAs ?? '?'}${s.enabled ? '' : ' (sync is off: `studio sync on` turns it on)'}`);
      }
      case 'sync logout':
        return show(await invoke(engine.handlers, 'sync.logout', undefined), 'signed out: the stored sign-in was removed');
    }
  });
}
