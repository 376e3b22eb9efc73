/**
 * The exit codes scripts can rely on. Documented in `studio --help` and docs; keep them stable.
 */
export const EXIT = {
  /** The command did what was asked (for `generate --wait`: the job is done). */
  ok: 0,
  /** The job ran and failed, or someone else cancelled it while we waited. */
  jobFailed: 1,
  /** Bad usage or bad parameters: nothing was queued or changed. */
  usage: 2,
  /** The engine refused or could not do it (unknown job, job in the wrong state, model missing, data folder locked…). */
  engine: 3,
  /** Interrupted with Ctrl-C (128 + SIGINT); a job we were waiting for was cancelled first. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0    ok
  1    the job failed (or was cancelled by someone else while --wait waited)
  2    bad usage or parameters; nothing was queued
  3    the engine refused or failed (unknown job, wrong state, model not installed, data folder busy)
  130  interrupted by Ctrl-C (the job being waited for is cancelled first)`;

/** A mistake in the command line itself, reported before anything is opened or queued. */
export class UsageError extends Error {
  /** The flag or argument at fault, as the user typed it (`--steps`), when there is one. */
  readonly flag: string | undefined;
  constructor(message: string, flag?: string) {
    super(message);
    this.name = 'UsageError';
    this.flag = flag;
  }
}

/** Maps a wire error code to the process exit code. */
export function exitCodeForError(code: string): ExitCode {
  return code === 'invalid_params' || code === 'usage' ? EXIT.usage : EXIT.engine;
}
