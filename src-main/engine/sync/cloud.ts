/**
 * CloudSync: the engine's owner of the cloud mirror — the project it talks to (URL and anon key),
 * the user's sign-in, the switch, and the SyncEngine that does the work (sync/engine.ts).
 *
 * Nothing leaves the machine until the user has signed in AND turned sync on:
 * - configuring the project sends nothing;
 * - signing in talks to Supabase Auth once (the user asked for it); the session's refresh token is
 *   kept in a SessionStore (the app: the system keychain through safeStorage; the CLI and
 *   `studio serve`: `<data>/cloud-session.json`, readable by this user only) and nothing else is sent;
 * - a stored sign-in is brought back (one refresh grant) only when sync is on and not paused;
 * - turning sync off or pausing stops the loop: no request at all (supabase-js's auto-refresh is
 *   off, the session lives in this process);
 * - signing out stops everything and removes the stored session.
 *
 * Runner vs client: the process that runs jobs (the app, `studio serve`) runs the background loop;
 * a client beside it (the CLI) syncs only when asked (`studio sync now`). Both read the switch and the
 * pause from the studio database, so `studio sync off` reaches an open app within a second.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CloudStatus, MirrorSettings, SyncNowResult, SyncSignUpResult } from '../../../src-preload/contract/sync.ts';
import { AnonKeySchema, CloudUrlSchema } from '../../../src-preload/contract/sync.ts';
import type { Database } from '../db/database.ts';
import { StudioError } from '../errors.ts';
import { SyncEngine } from './engine.ts';
import { filesStatus, setMirrorSettings } from './files.ts';
import type { SyncCycle, SyncEngineOptions } from './engine.ts';
import { setSyncEnabled, stateSet, stateValue, syncEnabled } from './outbox.ts';
import { SupabaseTransport, TransportError } from './transport.ts';
import type { SupabaseOptions, SyncTransport } from './transport.ts';

/** The sign-in kept between runs: enough to get a fresh session without the password. */
export interface StoredSession {
  readonly url: string;
  readonly email: string;
  readonly refreshToken: string;
}

/** Where the sign-in is kept. `where` says it in words (Settings → Cloud and `studio sync status`). */
export interface SessionStore {
  readonly where: string;
  load(): Promise<string | null>;
  save(value: string): Promise<void>;
  clear(): Promise<void>;
}

/** A file only its owner can read or write (0600), replaced whole on every save. */
export function fileSessionStore(file: string): SessionStore {
  return {
    where: `${file} (readable by this user only)`,
    async load() {
      if (!existsSync(file)) return null;
      return readFileSync(file, 'utf8');
    },
    async save(value) {
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, value, { mode: 0o600 });
      chmodSync(tmp, 0o600); // a umask cannot widen it, an old file's mode cannot either
      renameSync(tmp, file);
    },
    async clear() {
      rmSync(file, { force: true });
    },
  };
}

const KEY_URL = 'cloud.url';
const KEY_ANON = 'cloud.anon_key';
const KEY_PAUSED = 'sync.paused';

/** supabase-js as the sync engine uses it, plus bringing a stored sign-in back by its refresh token. */
class CloudTransport extends SupabaseTransport {
  #who: string | null = null;
  #inFlight = 0;
  readonly onBusy: () => void;

  constructor(options: SupabaseOptions, onBusy: () => void) {
    super(options);
    this.onBusy = onBusy;
  }

  override get user(): string | null {
    return this.#who ?? super.user;
  }

  get busy(): boolean {
    return this.#inFlight > 0;
  }

  /** A new session from a stored refresh token (Supabase Auth's refresh grant). */
  async restore(refreshToken: string, email: string): Promise<void> {
    const { data, error } = await this.client.auth.refreshSession({ refresh_token: refreshToken });
    if (error || !data.session) {
      const status = (error as { status?: number } | null)?.status ?? 0;
      const retry = status === 0 || status >= 500 || status === 429;
      throw new TransportError(
        retry
          ? `could not reach Supabase Auth to renew the sign-in (${error?.message ?? 'no session'}); will try again`
          : `the cloud no longer accepts this computer's sign-in (${error?.message ?? 'no session'}); sign in again`,
        retry,
      );
    }
    this.#who = data.user?.email ?? email;
  }

  override async signIn(email: string, password: string): Promise<void> {
    await super.signIn(email, password);
    this.#who = null;
  }

  override async signOut(): Promise<void> {
    this.#who = null;
    await super.signOut();
  }

  async refreshToken(): Promise<string | null> {
    const { data } = await this.client.auth.getSession();
    return data.session?.refresh_token ?? null;
  }

  private async track<T>(p: () => Promise<T>): Promise<T> {
    this.#inFlight++;
    this.onBusy();
    try {
      return await p();
    } finally {
      this.#inFlight--;
      this.onBusy();
    }
  }

  override push(...args: Parameters<SupabaseTransport['push']>) {
    return this.track(() => super.push(...args));
  }

  override pull(...args: Parameters<SupabaseTransport['pull']>) {
    return this.track(() => super.pull(...args));
  }
}

/** Stands in for the transport while signed out: says who (nobody) and never sends. */
const SIGNED_OUT: SyncTransport = {
  user: null,
  push: () => Promise.reject(new TransportError('not signed in to the cloud: sign in to sync', false)),
  pull: () => Promise.reject(new TransportError('not signed in to the cloud: sign in to sync', false)),
};

export interface CloudSyncOptions {
  readonly db: Database;
  readonly libraryRoot: () => string;
  readonly sessions: SessionStore;
  /** The process that runs jobs runs the background loop; a client syncs only when asked. */
  readonly background: boolean;
  readonly onChange: (status: CloudStatus) => void;
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Tests: the fetch supabase-js uses; the engine's intervals. */
  readonly fetch?: typeof fetch;
  readonly engine?: Partial<Pick<SyncEngineOptions, 'intervalMs' | 'backoffMs' | 'maxBackoffMs' | 'files'>>;
  /** A generation job is running (the runner's scheduler): background sync waits for it (engine.ts). */
  readonly busy?: () => boolean;
  /** How often a change of status is looked for while sync is on (default 1 s). */
  readonly watchMs?: number;
}

/** The project set in Settings → Cloud (or a pasted ourvidz-sync.json), checked. */
export function parseCloudConfig(input: { url: string; anonKey: string } | { json: string }): { url: string; anonKey: string } {
  let raw: unknown = input;
  if ('json' in input) {
    try {
      raw = JSON.parse(input.json);
    } catch {
      throw new StudioError('invalid_params', 'the pasted text is not JSON: paste the whole ourvidz-sync.json, { "url": …, "anonKey": … }', { field: 'json' });
    }
    if (typeof raw !== 'object' || raw === null) {
      throw new StudioError('invalid_params', 'ourvidz-sync.json must be an object: { "url": "https://….supabase.co", "anonKey": "…" }', { field: 'json' });
    }
    const o = raw as Record<string, unknown>;
    raw = { url: o.url, anonKey: o.anonKey ?? o.anon_key };
  }
  const o = raw as { url: unknown; anonKey: unknown };
  const url = CloudUrlSchema.safeParse(o.url);
  if (!url.success) throw new StudioError('invalid_params', url.error.issues[0]?.message ?? 'the project URL is not valid', { field: 'url' });
  const key = AnonKeySchema.safeParse(o.anonKey);
  if (!key.success) throw new StudioError('invalid_params', key.error.issues[0]?.message ?? 'the anon key is not valid', { field: 'anonKey' });
  return { url: url.data.replace(/\/+$/, ''), anonKey: key.data };
}

export class CloudSync {
  private readonly options: CloudSyncOptions;
  private readonly db: Database;
  private transport: CloudTransport | null = null;
  private engine: SyncEngine | null = null;
  private session: StoredSession | null = null;
  /** Why sync cannot run (a refused sign-in, the keychain), shown until it changes. */
  private problem: string | null = null;
  private storageNote: string | null = null;
  private watcher: NodeJS.Timeout | null = null;
  private lastSent = '';
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private lastStored: string | null = null;
  private recovering = false;
  private recoveredAt = 0;

  constructor(options: CloudSyncOptions) {
    this.options = options;
    this.db = options.db;
  }

  /** Reads the stored sign-in (no network) and, when sync is on, starts. */
  async open(): Promise<void> {
    await this.loadSession();
    await this.reconcile();
  }

  private async loadSession(): Promise<void> {
    try {
      const raw = await this.options.sessions.load();
      this.session = null;
      if (raw) {
        const s = JSON.parse(raw) as Partial<StoredSession>;
        if (typeof s.url === 'string' && typeof s.email === 'string' && typeof s.refreshToken === 'string') {
          this.session = { url: s.url, email: s.email, refreshToken: s.refreshToken };
        }
      }
    } catch (e) {
      this.options.log('warn', `the stored cloud sign-in could not be read (${(e as Error).message}); sign in again`);
    }
  }

  /**
   * The cloud stopped taking this process's session (another process sharing the stored sign-in,
   * `studio sync now` beside `studio serve`, renewed it first: refresh tokens are single-use). The
   * stored one is the newest: bring the sign-in back from it once; if that is refused too, the user
   * signs in again.
   */
  private recoverSignIn(): void {
    const lastError = this.engine?.status().lastError ?? '';
    if (this.recovering || !/the sign-in was refused/.test(lastError) || Date.now() - this.recoveredAt < 60_000) return;
    this.recovering = true;
    this.recoveredAt = Date.now();
    void this.serial(async () => {
      await this.stopEngine();
      this.transport = null;
      this.lastStored = null;
      await this.loadSession();
      this.options.log('info', 'the cloud refused this process\'s session; bringing the sign-in back from the stored one');
      await this.reconcileNow();
    })
      .catch(() => undefined)
      .finally(() => {
        this.recovering = false;
      });
  }

  config(): { url: string; anonKey: string } | null {
    const url = stateValue(this.db, KEY_URL);
    const anonKey = stateValue(this.db, KEY_ANON);
    return url && anonKey ? { url, anonKey } : null;
  }

  private paused(): boolean {
    return stateValue(this.db, KEY_PAUSED) === '1';
  }

  status(): CloudStatus {
    const engineStatus = (this.engine ?? new SyncEngine({ db: this.db, transport: SIGNED_OUT })).status();
    return {
      url: this.config()?.url ?? null,
      signedInAs: this.session?.email ?? null,
      enabled: engineStatus.enabled,
      paused: this.paused(),
      syncing: this.transport?.busy ?? false,
      lastSyncAt: engineStatus.lastSyncAt,
      waiting: engineStatus.waiting,
      failures: engineStatus.failures,
      lastError: this.problem ?? engineStatus.lastError,
      nextAttemptAt: engineStatus.running ? engineStatus.nextAttemptAt : null,
      sessionStorage: this.storageNote ?? this.options.sessions.where,
      files: filesStatus(this.db, this.engine?.files?.transfer ?? null),
    };
  }

  /** Sends sync.changed when something a person would see changed. */
  private changed(): void {
    if (this.closed) return;
    let s: CloudStatus;
    try {
      s = this.status();
    } catch {
      return; // the database is closing
    }
    const text = JSON.stringify(s);
    if (text === this.lastSent) return;
    this.lastSent = text;
    this.options.onChange(s);
  }

  /** One at a time: sign-in, sign-out and the reconcile after a switch never interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async configure(input: { url: string; anonKey: string } | { json: string }): Promise<CloudStatus> {
    const next = parseCloudConfig(input);
    return this.serial(async () => {
      const was = this.config();
      if (was && (was.url !== next.url || was.anonKey !== next.anonKey) && this.session) {
        await this.dropSession(); // a sign-in belongs to one project
      }
      this.db.transaction(() => {
        stateSet(this.db, KEY_URL, next.url);
        stateSet(this.db, KEY_ANON, next.anonKey);
      });
      this.options.log('info', `cloud project set to ${next.url}`);
      this.changed();
      return this.status();
    });
  }

  async login(email: string, password: string): Promise<CloudStatus> {
    return this.serial(async () => {
      const config = this.config();
      if (!config) {
        throw new StudioError('cloud_not_configured', 'set the cloud project first: its URL and anon key (Settings → Cloud, or `studio sync login --url … --anon-key …`)');
      }
      await this.stopEngine();
      const transport = this.makeTransport(config);
      try {
        await transport.signIn(email, password);
      } catch (e) {
        throw cloudError(e);
      }
      const refreshToken = await transport.refreshToken();
      if (!refreshToken) throw new StudioError('cloud_refused', 'Supabase Auth signed in but gave no session to keep; try again');
      await this.transport?.signOut().catch(() => undefined);
      this.transport = transport;
      this.session = { url: config.url, email: transport.user ?? email, refreshToken };
      this.problem = null;
      await this.store();
      this.options.log('info', `signed in to the cloud as ${this.session.email}`);
      await this.reconcileNow();
      return this.status();
    });
  }

  /**
   * Creates an account on the project (the user asked: one sign-up request). When the project signs
   * the new account in at once (email confirmation off) it is kept as a sign-in is; otherwise
   * nothing is kept or changed here and the person confirms by email, then signs in.
   */
  async signUp(email: string, password: string): Promise<SyncSignUpResult> {
    return this.serial(async () => {
      const config = this.config();
      if (!config) {
        throw new StudioError('cloud_not_configured', 'set the cloud project first: its URL and anon key (Settings → Cloud, or `studio sync signup --url … --anon-key …`)');
      }
      const transport = this.makeTransport(config);
      let signedIn: boolean;
      try {
        signedIn = await transport.signUp(email, password);
      } catch (e) {
        throw cloudError(e);
      }
      if (!signedIn) {
        this.options.log('info', `asked the cloud for an account for ${email}: Supabase emails a link to confirm it`);
        return { status: this.status(), confirmEmail: true };
      }
      const refreshToken = await transport.refreshToken();
      if (!refreshToken) throw new StudioError('cloud_refused', 'Supabase Auth created the account but gave no session to keep; sign in');
      await this.stopEngine();
      await this.transport?.signOut().catch(() => undefined);
      this.transport = transport;
      this.session = { url: config.url, email: transport.user ?? email, refreshToken };
      this.problem = null;
      await this.store();
      this.options.log('info', `created a cloud account and signed in as ${this.session.email}`);
      await this.reconcileNow();
      return { status: this.status(), confirmEmail: false };
    });
  }

  /**
   * Asks Supabase to email a link to set a new password (one request; the sign-in here is not
   * touched). Supabase answers the same whether or not the address has an account, and so does this.
   */
  async resetPassword(email: string): Promise<CloudStatus> {
    const config = this.config();
    if (!config) {
      throw new StudioError('cloud_not_configured', 'set the cloud project first: its URL and anon key (Settings → Cloud, or `studio sync login --url … --anon-key …`)');
    }
    try {
      await this.makeTransport(config).resetPassword(email);
    } catch (e) {
      throw cloudError(e);
    }
    this.options.log('info', 'asked the cloud to email a link to set a new password');
    return this.status();
  }

  async logout(): Promise<CloudStatus> {
    return this.serial(async () => {
      const who = this.session?.email;
      await this.dropSession();
      if (who) this.options.log('info', `signed out of the cloud (${who}); the stored sign-in was removed`);
      this.changed();
      return this.status();
    });
  }

  async setEnabled(on: boolean): Promise<CloudStatus> {
    return this.serial(async () => {
      const { backfilled } = setSyncEnabled(this.db, on);
      if (on) stateSet(this.db, KEY_PAUSED, null);
      this.options.log('info', on ? `cloud sync turned on (${backfilled} change(s) queued from the library)` : 'cloud sync turned off');
      await this.reconcileNow();
      return this.status();
    });
  }

  async pause(): Promise<CloudStatus> {
    return this.serial(async () => {
      stateSet(this.db, KEY_PAUSED, '1');
      await this.reconcileNow();
      return this.status();
    });
  }

  async resume(): Promise<CloudStatus> {
    return this.serial(async () => {
      stateSet(this.db, KEY_PAUSED, null);
      await this.reconcileNow();
      return this.status();
    });
  }

  async retry(): Promise<CloudStatus> {
    const n = this.db.run('UPDATE sync_outbox SET rejected_at = NULL WHERE rejected_at IS NOT NULL').changes;
    if (n > 0) this.options.log('info', `${n} refused change(s) will be sent again`);
    const f = this.db.run(`UPDATE sync_files SET state = 'waiting', reason = NULL WHERE state = 'failed'`).changes;
    if (f > 0) this.options.log('info', `${f} file(s) that failed will be tried again`);
    if (this.engine && this.options.background) void this.engine.syncNow({ background: true }).catch(() => undefined);
    this.changed();
    return this.status();
  }

  /** Changes what the mirror sends; a running sync plans again at once. */
  async setMirror(patch: Partial<MirrorSettings>): Promise<CloudStatus> {
    const next = setMirrorSettings(this.db, patch);
    this.options.log('info', `the cloud mirror now sends ${next.scope === 'all' ? 'every asset' : next.scope === 'favorites' ? 'favourites' : `the assets of ${String(next.projectIds.length)} chosen project(s)`}`);
    if (this.engine && this.options.background) void this.engine.syncNow({ background: true }).catch(() => undefined);
    this.changed();
    return this.status();
  }

  /** Brings an asset's original down now (the viewer opened one made on another desktop). */
  async download(assetId: string): Promise<CloudStatus> {
    if (!this.config() || !this.session) {
      throw new StudioError('cloud_signed_out', 'this original is in the cloud: sign in (Settings → Cloud) to bring it to this computer');
    }
    if (!syncEnabled(this.db) || this.paused()) {
      throw new StudioError('sync_off', 'this original is in the cloud: turn cloud sync on (or resume it) to bring it to this computer');
    }
    await this.serial(() => this.reconcileNow(true));
    const files = this.engine?.files;
    if (!files) throw new StudioError('cloud_signed_out', this.problem ?? 'not signed in to the cloud: sign in again');
    try {
      await files.fetchOriginal(assetId);
    } catch (e) {
      this.changed();
      throw cloudError(e);
    }
    this.changed();
    return this.status();
  }

  /** One sync now, whatever the loop's timer says. Refuses with what to do when it cannot run. */
  async syncNow(): Promise<SyncNowResult> {
    if (!this.config()) throw new StudioError('cloud_not_configured', 'no cloud project is set: set its URL and anon key first (Settings → Cloud, or `studio sync login`)');
    if (!this.session) throw new StudioError('cloud_signed_out', 'not signed in to the cloud: sign in first (Settings → Cloud, or `studio sync login`)');
    if (!syncEnabled(this.db)) throw new StudioError('sync_off', 'cloud sync is off, so nothing was sent: turn it on first (Settings → Cloud, or `studio sync on`)');
    if (this.paused()) throw new StudioError('sync_paused', 'cloud sync is paused, so nothing was sent: resume it first (Settings → Cloud, or `studio sync resume`)');
    await this.serial(() => this.reconcileNow(true));
    const engine = this.engine;
    if (!engine) throw new StudioError('cloud_signed_out', this.problem ?? 'not signed in to the cloud: sign in again');
    let cycle: SyncCycle;
    try {
      cycle = await engine.syncNow();
    } catch (e) {
      this.changed();
      throw cloudError(e);
    } finally {
      await this.store().catch(() => undefined);
    }
    this.changed();
    return { ...cycle, status: this.status() };
  }

  /** Another process changed the database (the CLI turned sync off, paused it): follow it. */
  poll(): void {
    void this.serial(() => this.reconcileNow()).catch(() => undefined);
  }

  private reconcile(): Promise<void> {
    return this.serial(() => this.reconcileNow());
  }

  /** Makes the running state match the switch, the pause and the sign-in. */
  private async reconcileNow(forNow = false): Promise<void> {
    if (this.closed) return;
    const config = this.config();
    const want = config !== null && this.session !== null && this.session.url === config.url && syncEnabled(this.db) && !this.paused();
    if (!want) {
      await this.stopEngine();
      this.changed();
      return;
    }
    // A client (the CLI) talks to the cloud only for `sync now`: its status, pause and switch send nothing.
    if (!this.options.background && !forNow) {
      this.changed();
      return;
    }
    if (!this.transport) {
      const transport = this.makeTransport(config!);
      try {
        await this.restoreShared(transport);
      } catch (e) {
        const err = cloudError(e);
        this.problem = err.message;
        if (e instanceof TransportError && !e.retry) {
          // The refresh token is no longer taken, and no other process stored a newer one: forget
          // it, the user signs in again.
          this.session = null;
          await this.options.sessions.clear().catch(() => undefined);
        }
        this.options.log('warn', err.message);
        this.changed();
        return;
      }
      this.transport = transport;
      this.problem = null;
      await this.store();
    }
    if (!this.engine) {
      this.engine = new SyncEngine({
        db: this.db,
        transport: this.transport,
        libraryRoot: this.options.libraryRoot(),
        ...this.options.engine,
        files: { ...this.options.engine?.files, onChange: () => this.changed() },
        ...(this.options.busy ? { busy: this.options.busy } : {}),
      });
    }
    this.engine.resume();
    if (this.options.background) this.engine.start();
    this.watch();
    this.changed();
  }

  /**
   * Renews the stored sign-in. Refresh tokens are single-use and shared by every process on this
   * data folder (`studio serve` syncing in the background, `studio sync now` beside it): a refusal
   * may only mean the other process renewed it a moment ago. Then the stored token changes — the
   * other process writes it right after its renewal — and that one is tried instead; only a token
   * that is refused while it is still the stored one is final.
   */
  private async restoreShared(transport: CloudTransport): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const tried = this.session!.refreshToken;
      try {
        await transport.restore(tried, this.session!.email);
        return;
      } catch (e) {
        if (!(e instanceof TransportError) || e.retry || attempt >= 2) throw e;
        let newer = false;
        for (let wait = 0; wait < 10 && !newer; wait++) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          await this.loadSession();
          if (!this.session) throw e;
          newer = this.session.refreshToken !== tried;
        }
        if (!newer) throw e;
      }
    }
  }

  private watch(): void {
    if (this.watcher) return;
    this.watcher = setInterval(() => {
      this.changed();
      this.recoverSignIn();
      void this.store().catch(() => undefined);
    }, this.options.watchMs ?? 1000);
    this.watcher.unref();
  }

  private async stopEngine(): Promise<void> {
    if (this.watcher) clearInterval(this.watcher);
    this.watcher = null;
    const engine = this.engine;
    this.engine = null;
    if (engine) {
      engine.pause();
      await engine.stop();
    }
  }

  private async dropSession(): Promise<void> {
    await this.stopEngine();
    const t = this.transport;
    this.transport = null;
    this.session = null;
    this.problem = null;
    await this.options.sessions.clear();
    // Tells Supabase Auth the session ended (best effort: signing out offline still removes the tokens here).
    await t?.signOut().catch(() => undefined);
  }

  /** Keeps the newest refresh token (supabase-js rotates it on every refresh). */
  private async store(): Promise<void> {
    if (!this.session) return;
    // Asked of supabase-js only while syncing: its getSession may renew an expired session, which is traffic.
    const token = (this.engine ? await this.transport?.refreshToken() : null) ?? this.session.refreshToken;
    if (token === this.session.refreshToken && this.storageNote === null && this.lastStored === token) return;
    this.session = { ...this.session, refreshToken: token };
    try {
      await this.options.sessions.save(JSON.stringify(this.session));
      this.storageNote = null;
    } catch (e) {
      // No keychain (Linux without one): signed in for this run only, and said so.
      this.storageNote = `not kept: ${(e as Error).message}`;
    }
    this.lastStored = token;
  }

  private makeTransport(config: { url: string; anonKey: string }): CloudTransport {
    return new CloudTransport({ url: config.url, anonKey: config.anonKey, ...(this.options.fetch ? { fetch: this.options.fetch } : {}) }, () => this.changed());
  }

  async close(): Promise<void> {
    await this.store().catch(() => undefined);
    await this.stopEngine().catch(() => undefined);
    this.closed = true;
  }
}

/** A transport failure as a sentence with a code each front door shows. */
function cloudError(e: unknown): Error {
  if (e instanceof StudioError) return e;
  if (e instanceof TransportError) return new StudioError(e.retry ? 'cloud_unreachable' : 'cloud_refused', e.message);
  return e as Error;
}
