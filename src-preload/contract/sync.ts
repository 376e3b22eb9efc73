/**
 * The cloud mirror (docs/cloud.md): the user's own Supabase project, their sign-in, the switch that
 * turns mirroring on, and its live status. Nothing leaves the machine until the user has signed in
 * AND turned sync on; the renderer never sees a token (the engine keeps the session).
 */
import { z } from 'zod';

function channel<R>() {
  return <S extends z.ZodType>(params: S) => ({ params, result: undefined as unknown as R });
}

const Empty = z.strictObject({}).optional();

/** A Supabase project URL: https://<ref>.supabase.co, or http(s)://host:port for a self-hosted one. */
export const CloudUrlSchema = z
  .string()
  .trim()
  .min(1, { error: 'enter the project URL (Supabase → Project Settings → API → Project URL)' })
  .max(2048)
  .refine(
    (s) => {
      try {
        const u = new URL(s);
        return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '' && u.username === '' && u.password === '';
      } catch {
        return false;
      }
    },
    { error: 'the project URL must be a web address such as https://abcd1234.supabase.co' },
  );

/** The project's anon (publishable) key: not a secret, it only identifies the project. */
export const AnonKeySchema = z
  .string()
  .trim()
  .min(20, { error: 'the anon key is too short: copy the whole anon (public) key from Supabase → Project Settings → API' })
  .max(4096)
  .regex(/^[A-Za-z0-9._-]+$/, { error: 'the anon key has characters a key never has: copy it again from Supabase → Project Settings → API' });

/**
 * Where the studio's cloud project is: the URL and anon key, or the text of an `ourvidz-sync.json`
 * (`{ "url": …, "anonKey": … }`) pasted whole.
 */
export const SyncConfigureSchema = z.union([
  z.strictObject({ url: CloudUrlSchema, anonKey: AnonKeySchema }),
  z.strictObject({ json: z.string().trim().min(2, { error: 'paste the contents of ourvidz-sync.json' }).max(16_384) }),
]);

export const SyncLoginSchema = z.strictObject({
  email: z.email({ error: 'enter the email address you signed up with' }).max(320),
  password: z.string().min(1, { error: 'enter your password' }).max(1024),
});

/**
 * The shortest password Supabase Auth takes unless the project asks for more (GoTrue's default
 * `GOTRUE_PASSWORD_MIN_LENGTH`, 6; Supabase → Authentication → Sign In / Providers → Email can raise
 * it and require kinds of characters, and the project then refuses with its reasons).
 */
export const SUPABASE_MIN_PASSWORD = 6;

/** A new account on the project (Supabase Auth sign-up): the same fields as signing in. */
export const SyncSignUpSchema = z.strictObject({
  email: z.email({ error: 'enter the email address for the new account' }).max(320),
  password: z
    .string()
    .min(SUPABASE_MIN_PASSWORD, { error: `a password has at least ${SUPABASE_MIN_PASSWORD} characters (Supabase's default minimum; the project may ask for more)` })
    .max(1024),
});

/** A link to set a new password, sent by Supabase to the address (when it has an account). */
export const SyncResetPasswordSchema = z.strictObject({
  email: z.email({ error: 'enter the email address of the account' }).max(320),
});

/**
 * What the studio says after asking for a password reset, whatever the address: it never tells
 * who has an account (Supabase answers the same for both).
 */
export const RESET_PASSWORD_SENT = 'If an account exists for that address, Supabase sent it a link to set a new password';

/** The answer to sync.signUp. */
export interface SyncSignUpResult {
  readonly status: CloudStatus;
  /**
   * true: the project confirms addresses first (Supabase's default): nothing is signed in or kept
   * here; the person opens the link in the email, then signs in. false: signed in at once.
   */
  readonly confirmEmail: boolean;
}

export interface CloudFailure {
  readonly opId: string;
  readonly table: string;
  readonly id: string;
  readonly reason: string;
}

/** What the mirror sends (Settings → Cloud). Records (jobs, projects, tags…) always sync; this picks files. */
export type MirrorScope = 'all' | 'favorites' | 'projects';

export interface MirrorSettings {
  /** Which assets' files go up: every asset, favourites only, or the assets of the chosen projects. */
  readonly scope: MirrorScope;
  /** The chosen projects (scope 'projects'). */
  readonly projectIds: readonly string[];
  /** Videos larger than this mirror their thumbnail only, the original stays here; null: always the original. */
  readonly videoThumbOnlyOverBytes: number | null;
  /** Originals made on other desktops come down by themselves (true) or when opened (false). Thumbnails always come. */
  readonly downloadOriginals: boolean;
  /** Upload and download speed limit in bytes per second; null: as fast as the network goes. */
  readonly bandwidthLimit: number | null;
  /** The project's global file size limit (Supabase → Storage → Settings; 50 MB on the free plan). */
  readonly projectFileLimit: number;
}

export const MirrorSettingsSchema = z.strictObject({
  scope: z.enum(['all', 'favorites', 'projects']).optional(),
  projectIds: z.array(z.uuid({ error: 'a project id is a UUID' })).max(10_000).optional(),
  videoThumbOnlyOverBytes: z.number().int().min(0).max(2 ** 50).nullable().optional(),
  downloadOriginals: z.boolean().optional(),
  bandwidthLimit: z
    .number()
    .int()
    .min(16 * 1024, { error: 'a speed limit under 16 KB/s would take hours for one image: leave it empty for no limit' })
    .max(2 ** 40)
    .nullable()
    .optional(),
  projectFileLimit: z.number().int().min(1024 * 1024, { error: 'the project file limit is at least 1 MB' }).max(500 * 1024 ** 3).optional(),
});

/** A file going up or down now. */
export interface CloudTransfer {
  readonly assetId: string;
  /** The asset's file name, for people. */
  readonly name: string;
  readonly direction: 'up' | 'down';
  readonly part: 'original' | 'thumbnail';
  readonly bytes: number;
  readonly total: number;
  /** Over the last few seconds; 0 while starting. */
  readonly bytesPerSecond: number;
}

/** An asset whose file stays on this computer, and why (over a bucket's limit, a mirror choice). */
export interface CloudLocalOnly {
  readonly assetId: string;
  readonly name: string;
  readonly reason: string;
}

/** A file that failed to go up or down, kept and retried by sync.retry. */
export interface CloudFileFailure {
  readonly assetId: string;
  readonly name: string;
  readonly direction: 'up' | 'down';
  readonly reason: string;
}

export interface CloudFilesStatus {
  readonly settings: MirrorSettings;
  readonly transfer: CloudTransfer | null;
  /** Files waiting to go up / come down (failed and local-only ones not counted). */
  readonly uploadsWaiting: number;
  readonly downloadsWaiting: number;
  /** Bytes waiting to go up. */
  readonly uploadBytesWaiting: number;
  /** The first 100 assets kept local, and how many there are in all. */
  readonly localOnly: readonly CloudLocalOnly[];
  readonly localOnlyCount: number;
  readonly failures: readonly CloudFileFailure[];
}

export interface CloudStatus {
  /** The project URL set, or null: nothing is set up yet. */
  readonly url: string | null;
  /** The signed-in user's email, or null. */
  readonly signedInAs: string | null;
  /** Mirroring on (the user's switch; kept in the studio's database). */
  readonly enabled: boolean;
  /** Sending and fetching held (the outbox keeps filling). */
  readonly paused: boolean;
  /** A sync is talking to the cloud right now. */
  readonly syncing: boolean;
  readonly lastSyncAt: number | null;
  /** Changes waiting to be sent (refused ones not counted). */
  readonly waiting: number;
  /** Changes the cloud refused, with its reason: kept until retried. */
  readonly failures: readonly CloudFailure[];
  /** Why the last sync stopped early (network, server, sign-in), or null. */
  readonly lastError: string | null;
  readonly nextAttemptAt: number | null;
  /** Where the sign-in is kept on this machine (the system keychain, or a file readable only by this user). */
  readonly sessionStorage: string;
  /** The files of the mirror: what goes up and comes down, and what stays here. */
  readonly files: CloudFilesStatus;
}

export interface SyncNowResult {
  readonly pushed: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly pulled: number;
  readonly applied: number;
  /** Files sent to the cloud, brought down from it, and cloud copies removed. */
  readonly uploaded: number;
  readonly downloaded: number;
  readonly removed: number;
  readonly status: CloudStatus;
}

export const syncChannels = {
  'sync.status': channel<CloudStatus>()(Empty),
  /** Sets the project (URL and anon key, or a pasted ourvidz-sync.json). Changing the project signs out. */
  'sync.configure': channel<CloudStatus>()(SyncConfigureSchema),
  /** Signs in with email and password (Supabase Auth); the password is never stored. */
  'sync.login': channel<CloudStatus>()(SyncLoginSchema),
  /**
   * Creates an account on the project (Supabase Auth sign-up). Signed in at once when the project
   * answers with a session; otherwise `confirmEmail` and nothing is kept until the person confirms.
   */
  'sync.signUp': channel<SyncSignUpResult>()(SyncSignUpSchema),
  /** Asks Supabase to email a link to set a new password; the same answer whether or not the address has an account. */
  'sync.resetPassword': channel<CloudStatus>()(SyncResetPasswordSchema),
  /** Signs out: stops all traffic and removes the stored session. */
  'sync.logout': channel<CloudStatus>()(Empty),
  /** One sync now: push what waits, pull what is new. */
  'sync.now': channel<SyncNowResult>()(Empty),
  'sync.pause': channel<CloudStatus>()(Empty),
  'sync.resume': channel<CloudStatus>()(Empty),
  /** Turns mirroring on (back-filling the library into the outbox) or off (no traffic at all). */
  'sync.setEnabled': channel<CloudStatus>()(z.strictObject({ enabled: z.boolean() })),
  /** Sends the changes the cloud refused again (after their cause was fixed), and the files that failed. */
  'sync.retry': channel<CloudStatus>()(Empty),
  /** Changes what the mirror sends (only the fields given). */
  'sync.setMirror': channel<CloudStatus>()(MirrorSettingsSchema),
  /**
   * Brings an asset's original down from the cloud now (the viewer asks when it opens one made on
   * another desktop); resolves once it is here and its sha256 checked.
   */
  'sync.download': channel<CloudStatus>()(z.strictObject({ assetId: z.uuid({ error: 'the asset id is a UUID' }) })),
} as const;

export interface SyncEvents {
  'sync.changed': CloudStatus;
}
export const SYNC_EVENT_NAMES = ['sync.changed'] as const;
