/**
 * A weight file the studio cannot use, with a sentence that says what is wrong and what to do.
 * `code` lets callers group failures (a truncated download vs. a model of another kind).
 */
import { basename } from 'node:path';

export type WeightFileErrorCode =
  | 'not_found'
  | 'unreadable'
  | 'truncated'
  | 'corrupt'
  | 'unsupported'
  | 'wrong_kind'
  | 'unsafe'
  | 'incomplete';

export class WeightFileError extends Error {
  readonly code: WeightFileErrorCode;

  constructor(code: WeightFileErrorCode, message: string) {
    super(message);
    this.name = 'WeightFileError';
    this.code = code;
  }

  /** A filesystem error (ENOENT, EACCES, EISDIR…) turned into a sentence about the file. */
  static fromFs(e: unknown, path: string): WeightFileError {
    const code = (e as NodeJS.ErrnoException | null)?.code;
    if (code === 'ENOENT') return new WeightFileError('not_found', `${path} does not exist (moved, renamed or on a drive that is not connected?)`);
    if (code === 'EACCES' || code === 'EPERM') return new WeightFileError('unreadable', `${path} cannot be read: permission denied`);
    if (code === 'EISDIR') return new WeightFileError('unreadable', `${path} is a folder, not a file`);
    if (code === 'EIO') return new WeightFileError('unreadable', `${basename(path)} cannot be read: the drive reported an I/O error`);
    return new WeightFileError('unreadable', `${path} cannot be read: ${(e as Error)?.message ?? String(e)}`);
  }
}
