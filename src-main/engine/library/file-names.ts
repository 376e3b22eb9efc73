/**
 * File names as the file system has them: bytes. On Linux a name need not be valid UTF-8 (a file
 * copied from an old Latin-1 system, a camera card), and Node's string paths cannot name such a
 * file at all — the replacement character turns `caf\xe9.png` into a different, missing name. So
 * folders are read as bytes, such names are shown with their odd bytes written `\xE9`, and the
 * tools that only take string paths (sharp, ffprobe) reach the file through a link with a plain
 * name (`ByteNameLinks`).
 */
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, sep } from 'node:path';

const strict = new TextDecoder('utf-8', { fatal: true });

/** The bytes decode as UTF-8 and encode back to the same bytes. */
export function isUtf8Name(bytes: Buffer): boolean {
  return Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
}

/** The name for people: UTF-8 where it is, each byte that is not written `\xNN`. */
export function displayName(bytes: Buffer): string {
  if (isUtf8Name(bytes)) return bytes.toString('utf8');
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i]!;
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (length > 0 && i + length <= bytes.length) {
      try {
        out += strict.decode(bytes.subarray(i, i + length));
        i += length;
        continue;
      } catch {
        // not a valid sequence: fall through to the byte escape
      }
    }
    out += `\\x${lead.toString(16).toUpperCase().padStart(2, '0')}`;
    i++;
  }
  return out;
}

export function joinBytes(dir: Buffer, name: Buffer): Buffer {
  return Buffer.concat([dir, Buffer.from(sep), name]);
}

/** `candidate` lies strictly inside `root` (both real paths, as bytes). */
export function isInsideBytes(root: Buffer, candidate: Buffer): boolean {
  const prefix = root.at(-1) === sep.charCodeAt(0) ? root : Buffer.concat([root, Buffer.from(sep)]);
  return candidate.length > prefix.length && candidate.subarray(0, prefix.length).equals(prefix);
}

/**
 * String paths for files whose names are not UTF-8: a symbolic link with a plain name in a private
 * temporary folder, removed by `close()`. A name that is UTF-8 is returned as it is.
 */
export class ByteNameLinks {
  private dir: string | null = null;
  private count = 0;

  async pathFor(path: Buffer): Promise<string> {
    if (isUtf8Name(path)) return path.toString('utf8');
    this.dir ??= await mkdtemp(join(tmpdir(), 'studio-names-'));
    const ext = extname(displayName(path)).replace(/[^.\w]/g, '');
    const link = join(this.dir, `${this.count++}${ext}`);
    await symlink(path, link);
    return link;
  }

  async close(): Promise<void> {
    if (this.dir !== null) await rm(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}
