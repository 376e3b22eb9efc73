// Crash-safe file writes: the target path holds either the old content or the complete new
// content, never half a file. Data goes to a temp file in the same directory (same filesystem, so
// rename is atomic), is fsynced, renamed over the target, and the directory entry is fsynced.
//
// Temp files are named `.<target name>.<pid>.<random>.ourvidz-tmp` so a crash leaves something
// `removeStaleTempFiles` can recognise at the next start-up without touching anyone else's files.

import { randomBytes } from 'node:crypto';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const TEMP_FILE_SUFFIX = '.ourvidz-tmp';

/** What `writeFileAtomic` accepts: bytes, text (written as UTF-8), or a (possibly async) stream of chunks. */
export type AtomicWriteData =
  | Uint8Array
  | string
  | Iterable<Uint8Array>
  | AsyncIterable<Uint8Array>;

export class AtomicWriteError extends Error {
  /** Node error code of the underlying failure (`ENOSPC`, `EACCES`, …) when there was one. */
  readonly code: string | undefined;
  readonly path: string;

  constructor(message: string, path: string, cause: unknown) {
    super(message, { cause });
    this.name = 'AtomicWriteError';
    this.path = path;
    this.code = errorCode(cause);
  }
}

const TEMP_NAME = /^\.(.+)\.(\d+)\.([0-9a-f]{12})\.ourvidz-tmp$/;

export function tempPathFor(target: string): string {
  const name = `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_FILE_SUFFIX}`;
  return join(dirname(target), name);
}

/**
 * Write `data` to `target` atomically. On any failure the temp file is removed, the target is left
 * as it was, and an `AtomicWriteError` says what happened and what to do.
 */
export async function writeFileAtomic(target: string, data: AtomicWriteData): Promise<void> {
  const temp = tempPathFor(target);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx');
    await writeAll(handle, data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await renameWithRetry(temp, target);
  } catch (error) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw new AtomicWriteError(describeFailure(target, error), target, error);
  }
  // The file is complete under its final name; syncing the directory makes the rename itself
  // durable. A failure here cannot be undone and does not make the content wrong, so it is not
  // reported as a failed write.
  await syncDirectory(dirname(target));
}

async function writeAll(handle: FileHandle, data: AtomicWriteData): Promise<void> {
  if (typeof data === 'string' || data instanceof Uint8Array) {
    await writeChunk(handle, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    return;
  }
  for await (const chunk of data) {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(`data source yielded ${typeof chunk}, expected Uint8Array chunks`);
    }
    await writeChunk(handle, chunk);
  }
}

async function writeChunk(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

/**
 * For writers that produce the temp file themselves (ffmpeg writing an MP4): make the finished temp
 * (named with tempPathFor) durable, give it its final name, and make the rename durable.
 */
export async function commitTempFile(temp: string, target: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'r+');
    await handle.sync();
  } finally {
    await handle?.close();
  }
  await renameWithRetry(temp, target);
  await syncDirectory(dirname(target));
}

async function renameWithRetry(from: string, to: string): Promise<void> {
  // On Windows a virus scanner or indexer briefly holding the target makes rename fail with
  // EPERM/EACCES/EBUSY; a short retry is the standard remedy. Elsewhere these errors are real.
  const retryable = process.platform === 'win32' ? new Set(['EPERM', 'EACCES', 'EBUSY']) : new Set<string>();
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (error) {
      const code = errorCode(error);
      if (attempt >= 5 || code === undefined || !retryable.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
    }
  }
}

async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some filesystems (network mounts, FUSE) refuse fsync on directories; the data is written.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function describeFailure(target: string, error: unknown): string {
  const file = target;
  switch (errorCode(error)) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `disk full while writing ${file}: free space and retry; nothing was written`;
    case 'EACCES':
    case 'EPERM':
      return `no permission to write ${file}: check the folder's permissions or choose another folder; nothing was written`;
    case 'EROFS':
      return `cannot write ${file}: the disk is read-only; choose another folder; nothing was written`;
    case 'ENOENT':
    case 'ENOTDIR':
      return `cannot write ${file}: the folder ${dirname(target)} does not exist; create it or choose another folder; nothing was written`;
    case 'EMFILE':
    case 'ENFILE':
      return `cannot write ${file}: too many open files; close other programs and retry; nothing was written`;
    default: {
      const reason = error instanceof Error ? error.message : String(error);
      return `could not write ${file} (${reason}); nothing was written`;
    }
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export interface RemoveStaleTempFilesOptions {
  /** Also clean sub-folders (the library keeps one folder per asset bucket). */
  recursive?: boolean;
  /**
   * A temp file whose writer process is still alive is kept unless it is older than this; no
   * single write takes an hour, so an older one is a leftover of a process that reused the pid.
   */
  maxAgeMs?: number;
}

/**
 * Delete temp files that an interrupted `writeFileAtomic` left behind in `dir`. Call at start-up.
 * Only files matching this module's temp-name pattern are touched. Returns the paths removed; a
 * missing `dir` is not an error.
 */
export async function removeStaleTempFiles(
  dir: string,
  options: RemoveStaleTempFilesOptions = {},
): Promise<string[]> {
  const maxAgeMs = options.maxAgeMs ?? 60 * 60 * 1000;
  const removed: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return removed;
    throw error;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (options.recursive) removed.push(...(await removeStaleTempFiles(path, options)));
      continue;
    }
    const match = TEMP_NAME.exec(entry.name);
    if (!entry.isFile() || match === null) continue;
    const writerPid = Number(match[2]);
    if (processIsAlive(writerPid)) {
      const info = await stat(path).catch(() => undefined);
      if (info === undefined || Date.now() - info.mtimeMs < maxAgeMs) continue;
    }
    try {
      await unlink(path);
      removed.push(path);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
  }
  return removed;
}

function processIsAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return errorCode(error) === 'EPERM';
  }
}
