/**
 * How the sync engine reaches the cloud: `sync_push` and `sync_pull` (supabase/migrations) called
 * with the signed-in user's session. SupabaseTransport uses @supabase/supabase-js as it is: sign-in
 * with email and password through Supabase Auth, then `rpc()` through PostgREST with the user's
 * access token, so the project's row-level security decides every read and write.
 */
import { createClient } from '@supabase/supabase-js';
import type { SupabaseClient } from '@supabase/supabase-js';
import type { PulledRow } from './apply.ts';

export interface SyncOp {
  readonly op_id: string;
  readonly table: string;
  readonly id: string;
  readonly hlc: string;
  readonly set: Record<string, unknown>;
}

export interface PushResult {
  readonly applied: number;
  readonly duplicate: number;
  readonly rejected: number;
  readonly results: readonly { op_id: string; status: 'applied' | 'duplicate' | 'rejected'; reason?: string }[];
}

/**
 * A failure the engine can act on: `retry` (network, 5xx, 429 — back off and send the same ops
 * again) or not (the request itself is wrong or the user is not allowed: shown, not repeated).
 */
export class TransportError extends Error {
  readonly retry: boolean;
  constructor(message: string, retry: boolean) {
    super(message);
    this.retry = retry;
  }
}

export interface SupabaseOptions {
  /** The project URL, e.g. https://<ref>.supabase.co */
  readonly url: string;
  /** The project's anon (publishable) key. */
  readonly anonKey: string;
  /** The fetch to use (tests count and cut requests through it); the global one by default. */
  readonly fetch?: typeof fetch;
}

export interface SyncTransport {
  /** Who is signed in (an email), or null. */
  readonly user: string | null;
  push(ops: readonly SyncOp[]): Promise<PushResult>;
  pull(since: number, limit: number): Promise<PulledRow[]>;
  /** Storage for the mirror's files (sync/files.ts); absent: records only. */
  readonly files?: FileTransport;
}

/** What the file mirror needs of the cloud: where Storage is, who is signed in, the client. */
export interface FileTransport {
  /** The project URL (Storage is at <url>/storage/v1). */
  readonly url: string;
  readonly anonKey: string;
  readonly client: SupabaseClient;
  readonly fetch: typeof fetch;
  /** The signed-in user's id and a current access token (renewed when it ran out). */
  session(): Promise<{ userId: string; accessToken: string }>;
}

export class SupabaseTransport implements SyncTransport, FileTransport {
  readonly client: SupabaseClient;
  readonly url: string;
  readonly anonKey: string;
  readonly fetch: typeof fetch;
  private email: string | null = null;

  constructor(options: SupabaseOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.anonKey = options.anonKey;
    this.fetch = options.fetch ?? fetch;
    this.client = createClient(options.url, options.anonKey, {
      // The session lives in this process (the app stores it encrypted itself); nothing in a browser store.
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      global: options.fetch ? { fetch: options.fetch } : {},
    });
  }

  get user(): string | null {
    return this.email;
  }

  get files(): FileTransport {
    return this;
  }

  async session(): Promise<{ userId: string; accessToken: string }> {
    // getSession renews an access token that ran out (auto-refresh is off: renewal happens on use).
    const { data, error } = await this.client.auth.getSession();
    if (error || !data.session) {
      const status = (error as { status?: number } | null)?.status ?? 0;
      throw new TransportError(`could not renew the cloud sign-in (${error?.message ?? 'no session'})${status === 0 || status >= 500 ? '; will try again' : '; sign in again'}`, status === 0 || status >= 500);
    }
    return { userId: data.session.user.id, accessToken: data.session.access_token };
  }

  async signIn(email: string, password: string): Promise<void> {
    const { data, error } = await this.client.auth.signInWithPassword({ email, password });
    if (error && (error as { code?: string }).code === 'email_not_confirmed') {
      throw new TransportError(
        `could not sign in as ${email}: the address is not confirmed yet. Open the link in the email Supabase sent when the account was created, then sign in (no email? create the account again to have it sent again)`,
        false,
      );
    }
    if (error) {
      const status = (error as { status?: number }).status ?? 0;
      throw new TransportError(
        status === 400 || status === 401
          ? `could not sign in as ${email}: ${error.message}. Check the email and password, or set a new password with "Forgot password?" (\`studio sync reset-password\`).`
          : `could not reach Supabase Auth to sign in (${error.message}); check the project URL and the network, then try again`,
        status === 0 || status >= 500 || status === 429,
      );
    }
    this.email = data.user?.email ?? email;
  }

  /**
   * Creates an account (Supabase Auth `POST /auth/v1/signup`). Resolves true when the project
   * signed the new account in at once (email confirmation off), false when it sent a confirmation
   * link instead (on, Supabase's default) — also the answer for an address that already has an
   * account on such a project, which Supabase does not tell apart. No redirect is asked for: the
   * link opens the project's Site URL (Supabase → Authentication → URL Configuration).
   */
  async signUp(email: string, password: string): Promise<boolean> {
    const { data, error } = await this.client.auth.signUp({ email, password });
    if (error) throw authError('create the account', email, error);
    if (!data.session) return false;
    this.email = data.user?.email ?? email;
    return true;
  }

  /**
   * Asks Supabase Auth to email a link to set a new password (`POST /auth/v1/recover`). Supabase
   * answers the same whether or not the address has an account.
   */
  async resetPassword(email: string): Promise<void> {
    const { error } = await this.client.auth.resetPasswordForEmail(email);
    if (error) throw authError('send a password reset link', email, error);
  }

  async signOut(): Promise<void> {
    await this.client.auth.signOut({ scope: 'local' });
    this.email = null;
  }

  /**
   * One RPC; a 401 (a token the server no longer takes: expired early, signing key rotated) refreshes
   * the session once and tries again. A retried push is safe: its op ids make it idempotent.
   */
  private async call(fn: 'sync_push' | 'sync_pull', args: Record<string, unknown>) {
    const first = await this.client.rpc(fn, args);
    if (first.status !== 401) return first;
    const { error } = await this.client.auth.refreshSession();
    if (error) return first;
    return this.client.rpc(fn, args);
  }

  async push(ops: readonly SyncOp[]): Promise<PushResult> {
    const { data, error, status } = await this.call('sync_push', { ops });
    if (error) throw rpcError('send changes to', error, status);
    return data as PushResult;
  }

  async pull(since: number, limit: number): Promise<PulledRow[]> {
    const { data, error, status } = await this.call('sync_pull', { since, lim: limit });
    if (error) throw rpcError('fetch changes from', error, status);
    return (data as { entity: string; entity_id: string; seq: number | string; data: Record<string, unknown> }[]).map((r) => ({
      entity: r.entity,
      entity_id: r.entity_id,
      seq: Number(r.seq),
      data: r.data,
    }));
  }
}

function rpcError(what: string, error: { message: string; code?: string }, status: number): TransportError {
  const retry = status === 0 || status >= 500 || status === 429 || status === 408;
  if (status === 401 || status === 403) {
    return new TransportError(`could not ${what} the cloud: the sign-in was refused (${error.message}); sign in again`, false);
  }
  return new TransportError(
    retry
      ? `could not ${what} the cloud (${error.message || `HTTP ${status}`}); will try again`
      : `the cloud refused the request to ${what} it (HTTP ${status}: ${error.message})`,
    retry,
  );
}

/** What Supabase Auth calls a password's weaknesses (GoTrue's `weak_password.reasons`), in words. */
const WEAK_REASONS: Readonly<Record<string, string>> = {
  length: 'it is shorter than the project allows',
  characters: 'it lacks a kind of character the project asks for (lower case, upper case, digits or symbols)',
  pwned: 'it is in a list of leaked passwords',
};

/**
 * A refusal of sign-up or password reset as a sentence saying what to do (GoTrue's error codes:
 * weak_password, user_already_exists / email_exists, over_email_send_rate_limit, signup_disabled,
 * email_address_invalid). Network and server failures may be tried again.
 */
function authError(what: string, email: string, error: { message: string; status?: number; code?: string; reasons?: unknown }): TransportError {
  const status = error.status ?? 0;
  const code = error.code ?? '';
  if (code === 'weak_password') {
    const reasons = Array.isArray(error.reasons) ? error.reasons.map((r) => WEAK_REASONS[String(r)] ?? String(r)) : [];
    return new TransportError(
      `Supabase refused the password: ${error.message.replace(/\.$/, '')}${reasons.length > 0 ? ` (${reasons.join('; ')})` : ''}. Choose a stronger one and try again`,
      false,
    );
  }
  if (code === 'user_already_exists' || code === 'email_exists') {
    return new TransportError(`an account for ${email} already exists on this project: sign in, or use "Forgot password?" (\`studio sync reset-password\`) to set a new password`, false);
  }
  if (code === 'over_email_send_rate_limit' || code === 'over_request_rate_limit' || status === 429) {
    return new TransportError(
      `Supabase did not ${what} for now: it has sent as many emails as it allows for a while (${error.message}). Wait a few minutes and try again (a project without its own SMTP server may send only a few an hour)`,
      true,
    );
  }
  if (code === 'signup_disabled') {
    return new TransportError('this project does not take new accounts (Supabase → Authentication → Sign In / Providers → Allow new users to sign up is off): ask its owner for one', false);
  }
  if (code === 'email_address_invalid' || code === 'email_address_not_authorized') {
    return new TransportError(`Supabase does not accept the address ${email} (${error.message}): use another address`, false);
  }
  if (status === 0 || status >= 500) {
    return new TransportError(`could not reach Supabase Auth to ${what} (${error.message}); check the project URL and the network, then try again`, true);
  }
  return new TransportError(`Supabase Auth refused to ${what} (HTTP ${status}${code ? ` ${code}` : ''}: ${error.message})`, false);
}
