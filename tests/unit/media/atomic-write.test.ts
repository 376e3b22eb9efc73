import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AtomicWriteError,
  TEMP_FILE_SUFFIX,
  removeStaleTempFiles,
  tempPathFor,
  writeFileAtomic,
} from '../../../src-main/engine/fs/atomic-write.ts';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ourvidz-atomic-'));
});

afterEach(() => {
  chmodSync(dir, 0o755);
  rmSync(dir, { recursive: true, force: true });
});

function tempFilesIn(folder: string): string[] {
  return readdirSync(folder).filter((name) => name.endsWith(TEMP_FILE_SUFFIX));
}

async function rejection(promise: Promise<unknown>): Promise<AtomicWriteError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AtomicWriteError);
    return error as AtomicWriteError;
  }
  throw new Error('expected the write to fail');
}

describe('writeFileAtomic', () => {
  it('writes bytes and text, replaces an existing file, and leaves no temp file', async () => {
    const target = join(dir, 'image.png');
    await writeFileAtomic(target, Uint8Array.of(1, 2, 3));
    expect(Array.from(readFileSync(target))).toEqual([1, 2, 3]);
    await writeFileAtomic(target, 'héllo');
    expect(readFileSync(target, 'utf8')).toBe('héllo');
    expect(readdirSync(dir)).toEqual(['image.png']);
  });

  it('writes a chunked (async) source', async () => {
    const target = join(dir, 'video.mp4');
    async function* chunks(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('abc');
      yield Buffer.from('def');
    }
    await writeFileAtomic(target, chunks());
    expect(readFileSync(target, 'utf8')).toBe('abcdef');
  });

  it('fails with a clear message when the folder does not exist, creating nothing', async () => {
    const target = join(dir, 'missing', 'image.png');
    const error = await rejection(writeFileAtomic(target, 'x'));
    expect(error.code).toBe('ENOENT');
    expect(error.message).toBe(
      `cannot write ${target}: the folder ${join(dir, 'missing')} does not exist; create it or choose another folder; nothing was written`,
    );
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('fails when the "folder" is a file', async () => {
    writeFileSync(join(dir, 'plain'), 'x');
    const error = await rejection(writeFileAtomic(join(dir, 'plain', 'image.png'), 'x'));
    expect(error.code).toBe('ENOTDIR');
    expect(readdirSync(dir)).toEqual(['plain']);
  });

  it.skipIf(process.platform === 'win32' || process.getuid?.() === 0)(
    'fails in a read-only folder with a permission message',
    async () => {
      chmodSync(dir, 0o555);
      const error = await rejection(writeFileAtomic(join(dir, 'image.png'), 'x'));
      expect(error.message).toMatch(/^no permission to write .*image\.png: .*nothing was written$/);
      chmodSync(dir, 0o755);
      expect(readdirSync(dir)).toEqual([]);
    },
  );

  it('keeps the old file and removes the temp file when the data source throws', async () => {
    const target = join(dir, 'image.png');
    writeFileSync(target, 'old content');
    function* failing(): Generator<Uint8Array> {
      yield Buffer.from('partial new content');
      throw new Error('VAE decode failed');
    }
    const error = await rejection(writeFileAtomic(target, failing()));
    expect(error.message).toBe(`could not write ${target} (VAE decode failed); nothing was written`);
    expect((error.cause as Error).message).toBe('VAE decode failed');
    expect(readFileSync(target, 'utf8')).toBe('old content');
    expect(tempFilesIn(dir)).toEqual([]);
  });

  it('says "disk full" for ENOSPC and leaves nothing behind', async () => {
    const target = join(dir, 'image.png');
    async function* fillsDisk(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(1024);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    const error = await rejection(writeFileAtomic(target, fillsDisk()));
    expect(error.code).toBe('ENOSPC');
    expect(error.message).toBe(`disk full while writing ${target}: free space and retry; nothing was written`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects a source that yields something other than bytes', async () => {
    const target = join(dir, 'x.bin');
    const bad = ['text'] as unknown as Iterable<Uint8Array>;
    const error = await rejection(writeFileAtomic(target, bad));
    expect(error.message).toMatch(/yielded string, expected Uint8Array/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('concurrent writes to one path each land whole, last rename wins', async () => {
    const target = join(dir, 'same.bin');
    const a = new Uint8Array(256 * 1024).fill(0xaa);
    const b = new Uint8Array(256 * 1024).fill(0xbb);
    await Promise.all([writeFileAtomic(target, a), writeFileAtomic(target, b)]);
    const result = readFileSync(target);
    expect(result.length).toBe(a.length);
    expect(result.every((v) => v === result[0])).toBe(true);
    expect(readdirSync(dir)).toEqual(['same.bin']);
  });
});

describe('removeStaleTempFiles', () => {
  function deadPid(): number {
    const child = spawnSync(process.execPath, ['-e', '0']);
    return child.pid!;
  }

  function fakeTemp(folder: string, target: string, pid: number): string {
    const name = `.${target}.${pid}.0123456789ab${TEMP_FILE_SUFFIX}`;
    writeFileSync(join(folder, name), 'partial');
    return join(folder, name);
  }

  it('removes leftovers of dead writers, keeps live recent ones and unrelated files', async () => {
    const dead = fakeTemp(dir, 'a.png', deadPid());
    const live = fakeTemp(dir, 'b.png', process.pid);
    const oldLive = fakeTemp(dir, 'c.png', process.pid);
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(oldLive, twoHoursAgo, twoHoursAgo);
    writeFileSync(join(dir, 'keep.png'), 'x');
    writeFileSync(join(dir, `.notours.123${TEMP_FILE_SUFFIX}`), 'x'); // wrong pattern: not ours

    const removed = await removeStaleTempFiles(dir);
    expect(removed.sort()).toEqual([dead, oldLive].sort());
    expect(existsSync(live)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual([`.b.png.${process.pid}.0123456789ab${TEMP_FILE_SUFFIX}`, `.notours.123${TEMP_FILE_SUFFIX}`, 'keep.png'].sort());
  });

  it('cleans sub-folders only when asked', async () => {
    const sub = join(dir, 'sdxl_image_fast');
    mkdirSync(sub);
    const nested = fakeTemp(sub, 'x.png', deadPid());
    expect(await removeStaleTempFiles(dir)).toEqual([]);
    expect(await removeStaleTempFiles(dir, { recursive: true })).toEqual([nested]);
  });

  it('treats a missing folder as nothing to clean', async () => {
    expect(await removeStaleTempFiles(join(dir, 'nope'))).toEqual([]);
  });

  it('names temp files so that the cleaner recognises them', async () => {
    const temp = tempPathFor(join(dir, 'photo.png'));
    writeFileSync(temp, 'x');
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(temp, old, old);
    expect(await removeStaleTempFiles(dir)).toEqual([temp]);
  });
});
