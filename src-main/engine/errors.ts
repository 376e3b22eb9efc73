import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Errors a user can see. Each carries a stable code (for scripts and the UI) and a message that says
 * what happened and what to do next.
 */
export class StudioError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  constructor(code: string, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'StudioError';
    this.code = code;
    this.field = options.field;
  }
}

export function toWireError(e: unknown): { code: string; message: string; field?: string } {
  if (e instanceof StudioError) return { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) };
  if (e instanceof Error && e.name === 'ParamError') {
    return { code: 'invalid_params', message: e.message, field: (e as Error & { field: string }).field };
  }
  // A full or failing disk met anywhere (a file write, the database) is said as a sentence, never
  // as a raw ENOSPC or "disk I/O error".
  const disk = diskError(e, { what: 'could not finish' });
  if (disk) return { code: disk.code, message: disk.message };
  const file = fileError(e);
  if (file) return file;
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}

/** What a file-system refusal about a path means, said so the path can be fixed. */
const FILE_ERRORS: Readonly<Record<string, string>> = {
  ENAMETOOLONG: 'the path is too long for the file system',
  ENOENT: 'there is no such file or folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder, not a file',
  EEXIST: 'something is already there',
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted there',
  EROFS: 'the disk is read-only',
  ELOOP: 'the path has too many symbolic links',
};

/** The system call of a file-system error, as the thing that could not be done. */
const FILE_VERBS: Readonly<Record<string, string>> = {
  mkdir: 'create the folder',
  open: 'open',
  stat: 'look at',
  lstat: 'look at',
  scandir: 'list the folder',
  opendir: 'list the folder',
  realpath: 'find',
  access: 'reach',
  rename: 'move',
  copyfile: 'copy',
  unlink: 'remove',
  rmdir: 'remove the folder',
  read: 'read',
  write: 'write',
};

/** A file-system error naming a path (ENAMETOOLONG from a stat, say) as a sentence, or null. */
function fileError(e: unknown): { code: string; message: string } | null {
  const { code, path, syscall } = (e ?? {}) as NodeJS.ErrnoException;
  // Node refuses a path with a NUL in it before any system call (a C string would end there).
  if (code === 'ERR_INVALID_ARG_VALUE' && e instanceof Error && /without null bytes/.test(e.message)) {
    return { code: 'invalid_params', message: 'a path cannot contain a NUL character (\\0): check the path and try again' };
  }
  const meaning = typeof code === 'string' ? FILE_ERRORS[code] : undefined;
  if (!meaning || typeof path !== 'string') return null;
  const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  const verb = (syscall ? FILE_VERBS[syscall] : undefined) ?? 'use';
  return { code: 'file_error', message: `could not ${verb} ${shown}: ${meaning} (${code}); check the path and try again` };
}

// ── The disk under the data: full or failing ─────────────────────────────────────────────────────

export const DISK_FULL = 'disk_full';
export const DISK_IO_ERROR = 'disk_io_error';

export type DiskProblem = 'full' | 'io';

/** A full or failing disk, said as a sentence; `where` is the file or folder on that disk, when known. */
export class DiskError extends StudioError {
  readonly problem: DiskProblem;
  readonly where: string | null;
  constructor(problem: DiskProblem, message: string, where: string | null, cause: unknown) {
    super(problem === 'full' ? DISK_FULL : DISK_IO_ERROR, message, { cause });
    this.name = 'DiskError';
    this.problem = problem;
    this.where = where;
  }
}

// SQLite result codes (the low byte of an extended code): SQLITE_IOERR, SQLITE_FULL; and the
// extended read errors, SQLITE_IOERR_READ and SQLITE_IOERR_SHORT_READ.
const SQLITE_IOERR = 10;
const SQLITE_FULL = 13;
const SQLITE_IOERR_READS = new Set([266, 522]);

const FULL_TEXT = /\bENOSPC\b|no space left on device|database or disk is full|\bEDQUOT\b|disk quota exceeded/i;
const IO_TEXT = /\bEIO\b|disk I\/O error|input\/output error/i;

/**
 * What a failure says about the disk: `full` (ENOSPC or EDQUOT from a file write, SQLITE_FULL from
 * the database, ffmpeg's "No space left on device", or such an error that crossed a process as
 * text), `io` (EIO, SQLITE_IOERR), or null. Follows `cause` chains.
 */
export function diskProblemOf(error: unknown): DiskProblem | null {
  let current: unknown = error;
  for (let depth = 0; current !== null && current !== undefined && depth < 8; depth++) {
    if (current instanceof DiskError) return current.problem;
    if (typeof current === 'object') {
      const { code, errcode } = current as { code?: unknown; errcode?: unknown };
      if (code === 'ENOSPC' || code === 'EDQUOT') return 'full';
      if (code === 'EIO') return 'io';
      if (code === 'ERR_SQLITE_ERROR' && typeof errcode === 'number') {
        if ((errcode & 0xff) === SQLITE_FULL) return 'full';
        if ((errcode & 0xff) === SQLITE_IOERR) return 'io';
      }
    }
    const text = current instanceof Error ? current.message : typeof current === 'string' ? current : '';
    if (FULL_TEXT.test(text)) return 'full';
    if (IO_TEXT.test(text)) return 'io';
    current = typeof current === 'object' ? (current as { cause?: unknown }).cause : undefined;
  }
  return null;
}

export interface DiskErrorContext {
  /** What could not be done, as the start of the sentence: "could not save the job's results". */
  readonly what: string;
  /** A file or folder on the disk in question; else the path the error names, if any. */
  readonly where?: string;
  /** What to do once the disk is fixed: "try again" unless said. */
  readonly next?: string;
}

/**
 * The sentence for a full or failing disk — what happened, on which disk, how much is free, what
 * to free and what to do next — or null when `error` is not about the disk.
 */
export function diskError(error: unknown, context: DiskErrorContext): DiskError | null {
  const problem = diskProblemOf(error);
  if (problem === null) return null;
  const where = context.where ?? pathNamedBy(error) ?? null;
  const next = context.next ?? 'try again';
  if (problem === 'full') {
    const free = freeSpaceAt(where);
    const disk = where ? `the disk holding ${where} is full${free === null ? '' : ` (${free} free)`}` : 'the disk is full';
    return new DiskError(
      'full',
      `${context.what}: ${disk}. Free space on it — delete files you no longer need, empty the library's Trash, or move the library to a larger disk (Settings → Library, or \`studio library move DIR\`) — then ${next}.`,
      where,
      error,
    );
  }
  const disk = where ? `the disk holding ${where}` : 'the disk';
  return new DiskError(
    'io',
    `${context.what}: ${disk} reported an input/output error (${ioDetail(error)}). Check that the disk is still connected and healthy (run your system's disk check), then ${next}; if it keeps happening, copy the data folder to a healthy disk.`,
    where,
    error,
  );
}

/** The detail of an I/O error, for the sentence: the SQLite operation or the system call. */
function ioDetail(error: unknown): string {
  const e = error as { code?: unknown; errcode?: unknown; syscall?: unknown; where?: unknown; cause?: unknown };
  if (error instanceof DiskError) return ioDetail(error.cause);
  if (e?.code === 'ERR_SQLITE_ERROR' && typeof e.errcode === 'number') {
    return SQLITE_IOERR_READS.has(e.errcode) ? 'a read failed' : `SQLite error ${e.errcode}`;
  }
  if (e?.code === 'EIO') return typeof e.syscall === 'string' ? `EIO on ${e.syscall}` : 'EIO';
  return error instanceof Error ? error.message.split('\n')[0]!.slice(0, 200) : 'unknown';
}

function pathNamedBy(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 8; depth++) {
    const { where, path, dest } = current as { where?: unknown; path?: unknown; dest?: unknown };
    if (current instanceof DiskError && where) return String(where);
    if (typeof dest === 'string') return dirname(dest);
    if (typeof path === 'string') return path;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** "12 MB" free on the disk holding `path` (its nearest existing folder), or null when unknown. */
export function freeSpaceAt(path: string | null): string | null {
  if (!path) return null;
  let probe = path;
  for (let i = 0; i < 64; i++) {
    try {
      const s = statfsSync(probe);
      return formatBytes(Number(s.bavail) * Number(s.bsize));
    } catch {
      const up = dirname(probe);
      if (up === probe) return null;
      probe = up;
    }
  }
  return null;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}
