/**
 * `studio sync status|now|pause|resume|on|off|login|signup|reset-password|logout`: the cloud mirror (docs/cloud.md) from
 * the command line, through the same `sync.*` channels as Settings → Cloud and `studio serve`.
 *
 * The CLI keeps its sign-in in `<data>/cloud-session.json` (mode 0600), apart from the app's (the
 * app keeps its own in the system keychain). The password is read from STUDIO_SYNC_PASSWORD or asked
 * for on a terminal without echo — never from the command line, where other users' `ps` can see it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RESET_PASSWORD_SENT } from '../../src-preload/contract/sync.ts';
import type { CloudFilesStatus, CloudStatus, CloudTransfer, MirrorSettings, SyncSignUpResult } from '../../src-preload/contract/sync.ts';
import type { CommandContext } from './commands.ts';
import { invoke } from './dispatch.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import type { CliEngine, Io } from './io.ts';
import { renderBar } from './progress.ts';
import { formatDuration, terminalSafe } from './render.ts';

export const SYNC_COMMAND_NAMES = ['sync status', 'sync now', 'sync pause', 'sync resume', 'sync on', 'sync off', 'sync login', 'sync signup', 'sync reset-password', 'sync logout', 'sync mirror', 'sync retry'] as const;
export type SyncCommandName = (typeof SYNC_COMMAND_NAMES)[number];

const PROJECT_OPTIONS = {
  url: { type: 'string', value: 'URL', help: 'the Supabase project URL (Project Settings → API), e.g. https://abcd1234.supabase.co' },
  'anon-key': { type: 'string', value: 'KEY', help: 'the project’s anon (public) key' },
  config: { type: 'string', value: 'FILE', help: 'an ourvidz-sync.json holding { "url", "anonKey" } instead of --url and --anon-key' },
} as const;

const LOGIN_OPTIONS = {
  ...PROJECT_OPTIONS,
  email: { type: 'string', value: 'EMAIL', help: 'the email you signed up with (password: $STUDIO_SYNC_PASSWORD, or asked for on a terminal)' },
} as const;

export const SYNC_SPECS: Readonly<Record<SyncCommandName, { summary: string; args?: readonly string[]; options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; value?: string; help: string }> }>> = {
  'sync status': { summary: 'show the cloud mirror: project, who is signed in, on or off, last sync, changes waiting, refused changes', options: {} },
  'sync now': { summary: 'sync with the cloud now (send what waits, fetch what is new), with a progress line and a summary', options: {} },
  'sync pause': { summary: 'hold cloud sync: nothing is sent or fetched, changes keep being recorded', options: {} },
  'sync resume': { summary: 'go on syncing after a pause', options: {} },
  'sync on': { summary: 'turn the cloud mirror on (the library is queued to be sent; needs a sign-in to send)', options: {} },
  'sync off': { summary: 'turn the cloud mirror off: no traffic at all, nothing recorded', options: {} },
  'sync login': { summary: 'set the cloud project and sign in with email and password (Supabase Auth)', options: LOGIN_OPTIONS },
  'sync signup': {
    summary: 'create an account on the cloud project (Supabase Auth), signed in at once or after confirming the address by email',
    options: { ...LOGIN_OPTIONS, email: { type: 'string', value: 'EMAIL', help: 'the address for the new account (password: $STUDIO_SYNC_PASSWORD, or asked for twice on a terminal)' } },
  },
  'sync reset-password': {
    summary: 'have Supabase email a link to set a new password (the same answer whether or not the address has an account)',
    args: ['EMAIL'],
    options: PROJECT_OPTIONS,
  },
  'sync logout': { summary: 'sign out of the cloud: stops all traffic and removes the stored sign-in', options: {} },
  'sync retry': { summary: 'send the changes the cloud refused and the files that failed again (after their cause was fixed)', options: {} },
  'sync mirror': {
    summary: 'choose which files the cloud mirror sends and how (only the options given change; none: show the choices)',
    options: {
      scope: { type: 'string', value: 'all|favorites|projects', help: 'every asset, favourites only, or the assets of the projects given with --project' },
      project: { type: 'string', multiple: true, value: 'ID', help: 'a project to mirror (its id or its exact title; repeatable; implies --scope projects)' },
      'video-thumb-only-over': { type: 'string', value: 'MB|none', help: 'videos larger than this send their thumbnail only; none: always the original' },
      'download-originals': { type: 'string', value: 'auto|on-open', help: 'originals made on other desktops come by themselves, or when opened in the viewer' },
      'speed-limit': { type: 'string', value: 'KBps|none', help: 'upload and download speed limit in KB/s (at least 16); none: no limit' },
      'project-file-limit': { type: 'string', value: 'MB', help: 'the project’s file size limit (Supabase → Storage → Settings; 50 MB on the free plan)' },
    },
  },
};

const MB = 1024 * 1024;

/** Bytes for people: `812 KB`, `3.2 MB`, `1.4 GB` (MB = 1024 × 1024 bytes, as the buckets' limits). */
export function sizeText(n: number): string {
  if (n < MB) return `${Math.max(0, Math.round(n / 1024))} KB`;
  if (n < 1024 * MB) return `${(n / MB).toFixed(n < 10 * MB ? 1 : 0)} MB`;
  return `${(n / (1024 * MB)).toFixed(1)} GB`;
}

/** `uploading harbour.png (original) [████░░░░] 3.2 MB of 12 MB · 1.4 MB/s`. */
export function transferLine(t: CloudTransfer, width = 20): string {
  const verb = t.direction === 'up' ? 'uploading' : 'downloading';
  const speed = t.bytesPerSecond > 0 ? ` · ${sizeText(t.bytesPerSecond)}/s` : '';
  return `${verb} ${t.name} (${t.part}) ${renderBar(t.bytes, t.total, width)} ${sizeText(t.bytes)} of ${sizeText(t.total)}${speed}`;
}

/** What is mirrored, in one line. */
export function mirrorText(m: MirrorSettings): string {
  const scope = m.scope === 'all' ? 'every asset' : m.scope === 'favorites' ? 'favourites' : `the assets of ${m.projectIds.length} chosen project${m.projectIds.length === 1 ? '' : 's'}`;
  return [
    scope,
    m.videoThumbOnlyOverBytes === null ? 'video originals at any size' : `videos over ${sizeText(m.videoThumbOnlyOverBytes)}: thumbnail only`,
    `originals from other desktops ${m.downloadOriginals ? 'come by themselves' : 'come when opened'}`,
    m.bandwidthLimit === null ? 'no speed limit' : `at most ${Math.round(m.bandwidthLimit / 1024)} KB/s`,
    `project file limit ${sizeText(m.projectFileLimit)}`,
  ].join('; ');
}

/** The files block of `studio sync status`: what moves now, what waits, what stays here and why, what failed. */
export function filesText(f: CloudFilesStatus): string[] {
  const lines = [`mirrored:    ${mirrorText(f.settings)}`];
  lines.push(`files:       ${f.transfer ? transferLine(f.transfer) : 'nothing moving now'}`);
  lines.push(`  waiting:   ${f.uploadsWaiting} to upload (${sizeText(f.uploadBytesWaiting)}), ${f.downloadsWaiting} to download`);
  if (f.localOnlyCount > 0) {
    lines.push(`  kept on this computer: ${f.localOnlyCount}`);
    for (const l of f.localOnly.slice(0, 10)) lines.push(`    ${l.name}: ${l.reason}`);
    if (f.localOnlyCount > 10) lines.push(`    … and ${f.localOnlyCount - 10} more (--json lists the first 100)`);
  }
  if (f.failures.length > 0) {
    lines.push(`  failed:    ${f.failures.length} file${f.failures.length === 1 ? '' : 's'} (\`studio sync retry\` tries them again):`);
    for (const x of f.failures.slice(0, 10)) lines.push(`    ${x.direction === 'up' ? '↑' : '↓'} ${x.name}: ${x.reason}`);
  }
  return lines;
}

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
  lines.push(...filesText(s.files));
  if (s.lastError) lines.push(`problem:     ${s.lastError}`);
  if (s.failures.length > 0) {
    lines.push(`refused:     ${s.failures.length} change${s.failures.length === 1 ? '' : 's'} (kept; \`studio sync retry\` sends them again once fixed):`);
    for (const f of s.failures.slice(0, 10)) lines.push(`  ${f.table} ${f.id}: ${f.reason}`);
  }
  return lines.join('\n');
}

/** A size given in MB (decimals allowed) as bytes, or null for `none`. */
function megabytes(text: string, flag: string, allowNone: boolean): number | null {
  if (allowNone && text.trim().toLowerCase() === 'none') return null;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`${flag} takes a size in MB such as 50${allowNone ? ', or none' : ''} (got "${text}")`, flag);
  }
  return Math.round(n * MB);
}

/** The options of `studio sync mirror` as a sync.setMirror patch (the contract's schema checks the values). */
async function mirrorPatch(ctx: CommandContext, engine: CliEngine): Promise<Partial<MirrorSettings>> {
  const v = ctx.line.values;
  const patch: { -readonly [K in keyof MirrorSettings]?: MirrorSettings[K] } = {};
  const scope = typeof v.scope === 'string' ? v.scope.toLowerCase().replace('favourites', 'favorites') : undefined;
  if (scope !== undefined) {
    if (scope !== 'all' && scope !== 'favorites' && scope !== 'projects') throw new UsageError(`--scope is all, favorites or projects (got "${String(v.scope)}")`, '--scope');
    patch.scope = scope;
  }
  const projects = Array.isArray(v.project) ? v.project : typeof v.project === 'string' ? [v.project] : [];
  if (projects.length > 0) {
    if (patch.scope !== undefined && patch.scope !== 'projects') throw new UsageError(`--project chooses projects to mirror: it goes with --scope projects, not --scope ${patch.scope}`, '--project');
    const known = await invoke(engine.handlers, 'library.projectsList', undefined);
    patch.projectIds = projects.map((p) => {
      const found = known.find((k) => k.id === p) ?? known.find((k) => k.title.toLowerCase() === p.toLowerCase());
      if (!found) throw new UsageError(`no project "${p}" in the library: give a project's id or its exact title`, '--project');
      return found.id;
    });
    patch.scope = 'projects';
  }
  if (typeof v['video-thumb-only-over'] === 'string') patch.videoThumbOnlyOverBytes = megabytes(v['video-thumb-only-over'], '--video-thumb-only-over', true);
  if (typeof v['download-originals'] === 'string') {
    const d = v['download-originals'].toLowerCase();
    if (d !== 'auto' && d !== 'on-open') throw new UsageError(`--download-originals is auto or on-open (got "${v['download-originals']}")`, '--download-originals');
    patch.downloadOriginals = d === 'auto';
  }
  if (typeof v['speed-limit'] === 'string') {
    const t = v['speed-limit'];
    if (t.trim().toLowerCase() === 'none') patch.bandwidthLimit = null;
    else {
      const n = Number(t);
      if (t.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--speed-limit takes KB/s such as 512, or none (got "${t}")`, '--speed-limit');
      patch.bandwidthLimit = Math.round(n * 1024);
    }
  }
  if (typeof v['project-file-limit'] === 'string') patch.projectFileLimit = megabytes(v['project-file-limit'], '--project-file-limit', false)!;
  return patch;
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

/** --url and --anon-key, or --config FILE: sets the project first (sends nothing). */
async function setProject(ctx: CommandContext, engine: CliEngine): Promise<void> {
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
}

/** The password from STUDIO_SYNC_PASSWORD, or asked for on a terminal (twice for a new one); never from argv. */
async function readPassword(ctx: CommandContext, email: string, fresh: boolean): Promise<string> {
  const fromEnv = ctx.io.env.STUDIO_SYNC_PASSWORD;
  if (fromEnv) return fromEnv;
  if (process.stdin.isTTY !== true) {
    throw new UsageError('no password: set STUDIO_SYNC_PASSWORD, or run this on a terminal to be asked for it (a password is never taken from the command line)');
  }
  if (!fresh) return askPassword(ctx.io, `password for ${email}: `);
  const first = await askPassword(ctx.io, `new password for ${email}: `);
  const again = await askPassword(ctx.io, 'the same password again: ');
  if (first !== again) throw new UsageError('the two passwords differ: nothing was sent; run it again');
  return first;
}

async function login(ctx: CommandContext, engine: CliEngine): Promise<CloudStatus> {
  await setProject(ctx, engine);
  const email = typeof ctx.line.values.email === 'string' ? ctx.line.values.email : undefined;
  if (!email) throw new UsageError('--email is required: the email address you signed up with', '--email');
  const password = await readPassword(ctx, email, false);
  return invoke(engine.handlers, 'sync.login', { email, password });
}

async function signUp(ctx: CommandContext, engine: CliEngine): Promise<SyncSignUpResult> {
  await setProject(ctx, engine);
  const email = typeof ctx.line.values.email === 'string' ? ctx.line.values.email : undefined;
  if (!email) throw new UsageError('--email is required: the address for the new account', '--email');
  const password = await readPassword(ctx, email, true);
  return invoke(engine.handlers, 'sync.signUp', { email, password });
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
          const moving = s.files.transfer ? ` · ${terminalSafe(transferLine(s.files.transfer, 12), '')}` : '';
          // \x1b[K clears what a longer line before it left at the end.
          io.stderr.write(`\rsyncing… ${Math.max(0, before.waiting - s.waiting)}/${before.waiting} sent${moving}${'.'.repeat(ticks % 4)}\x1b[K`);
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
      const f = r.status.files;
      io.stdout.write(
        `files: ${r.uploaded} uploaded, ${r.downloaded} downloaded, ${r.removed} removed from the cloud; ${f.uploadsWaiting} waiting to upload, ${f.downloadsWaiting} to download` +
          `${f.localOnlyCount > 0 ? `, ${f.localOnlyCount} kept on this computer` : ''}${f.failures.length > 0 ? `, ${f.failures.length} failed` : ''}\n`,
      );
      if (f.failures.length > 0) io.stderr.write('files that failed are kept with the reason: see `studio sync status`, then `studio sync retry`\n');
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
    else io.stdout.write(terminalSafe(`${line ? `${line}\n` : ''}${statusText(s, io.now())}\n`));
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
      case 'sync signup': {
        const r = await signUp(ctx, engine);
        if (json) {
          io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
          return EXIT.ok;
        }
        const email = String(ctx.line.values.email);
        return show(
          r.status,
          r.confirmEmail
            ? `check your email: Supabase sent ${email} a link to confirm the address; open it, then \`studio sync login --email ${email}\` (no email within a few minutes? the address may already have an account: \`studio sync login\` or \`studio sync reset-password ${email}\`)`
            : `account created; signed in as ${r.status.signedInAs ?? email}${r.status.enabled ? '' : ' (sync is off: `studio sync on` turns it on)'}`,
        );
      }
      case 'sync reset-password': {
        await setProject(ctx, engine);
        return show(await invoke(engine.handlers, 'sync.resetPassword', { email: ctx.line.args[0] }), `${RESET_PASSWORD_SENT}; open it, then \`studio sync login\` with the new password`);
      }
      case 'sync logout':
        return show(await invoke(engine.handlers, 'sync.logout', undefined), 'signed out: the stored sign-in was removed');
      case 'sync retry': {
        const s = await invoke(engine.handlers, 'sync.retry', undefined);
        return show(s, 'refused changes and failed files will be sent again on the next sync (`studio sync now`; an open app or `studio serve` goes on by itself)');
      }
      case 'sync mirror': {
        const patch = await mirrorPatch(ctx, engine);
        if (Object.keys(patch).length === 0) {
          const s = await invoke(engine.handlers, 'sync.status', undefined);
          if (json) io.stdout.write(`${JSON.stringify(s.files.settings, null, 2)}\n`);
          else io.stdout.write(`${terminalSafe(mirrorText(s.files.settings))}\n`);
          return EXIT.ok;
        }
        const s = await invoke(engine.handlers, 'sync.setMirror', patch);
        if (s.files.settings.scope === 'projects' && s.files.settings.projectIds.length === 0) {
          io.stderr.write('note: no project is chosen, so no files are sent (records still are): add --project ID\n');
        }
        return show(s, `the mirror now sends ${mirrorText(s.files.settings)}`);
      }
    }
  });
}
