import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMediaPath, parseMediaUrl, parseRange, planMediaReply, resolveMedia } from '../../../src-main/engine/library/media.ts';
import type { ResolvedMedia } from '../../../src-main/engine/library/media.ts';
import { mediaUrl } from '../../../src-preload/contract/library.ts';
import { addAsset, makeWorld, writeRaw } from '../../fixtures/library/world.ts';
import type { World } from '../../fixtures/library/world.ts';

describe('parseRange (RFC 9110)', () => {
  it.each([
    [null, 1000, { kind: 'full' }],
    ['bytes=0-499', 1000, { kind: 'partial', start: 0, end: 499 }],
    ['bytes=500-', 1000, { kind: 'partial', start: 500, end: 999 }],
    ['bytes=-200', 1000, { kind: 'partial', start: 800, end: 999 }],
    ['bytes=-5000', 1000, { kind: 'partial', start: 0, end: 999 }],
    ['bytes=900-5000', 1000, { kind: 'partial', start: 900, end: 999 }],
    ['bytes=999-999', 1000, { kind: 'partial', start: 999, end: 999 }],
    ['BYTES = 1 - 2', 1000, { kind: 'partial', start: 1, end: 2 }],
    ['bytes=1000-', 1000, { kind: 'unsatisfiable' }],
    ['bytes=1000-1001', 1000, { kind: 'unsatisfiable' }],
    ['bytes=-0', 1000, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=5-1', 1000, { kind: 'full' }],
    ['bytes=0-1,5-6', 1000, { kind: 'full' }],
    ['items=0-1', 1000, { kind: 'full' }],
    ['bytes=abc', 1000, { kind: 'full' }],
    ['bytes=-', 1000, { kind: 'full' }],
    ['bytes=99999999999999999999-', 1000, { kind: 'full' }],
  ] as const)('%s of %i bytes → %o', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });
});

describe('planMediaReply', () => {
  const media: ResolvedMedia = { path: '/lib/x.mp4', mime: 'video/mp4', size: 1000, etag: '"abc"', mtimeMs: 0 };

  it('answers 200 with the whole file, 206 with the range, 416 past the end, HEAD without a body', () => {
    const full = planMediaReply(media, { method: 'GET' });
    expect(full.status).toBe(200);
    expect(full.headers).toMatchObject({ 'content-length': '1000', 'accept-ranges': 'bytes', 'content-type': 'video/mp4', 'x-content-type-options': 'nosniff' });
    expect(full.body).toEqual({ path: '/lib/x.mp4', start: 0, end: 999 });
    const part = planMediaReply(media, { method: 'GET', range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers).toMatchObject({ 'content-range': 'bytes 100-199/1000', 'content-length': '100' });
    expect(part.body).toEqual({ path: '/lib/x.mp4', start: 100, end: 199 });
    const bad = planMediaReply(media, { method: 'GET', range: 'bytes=2000-' });
    expect(bad.status).toBe(416);
    expect(bad.headers['content-range']).toBe('bytes */1000');
    expect(bad.body).toBeNull();
    const head = planMediaReply(media, { method: 'HEAD', range: 'bytes=0-9' });
    expect(head.status).toBe(206);
    expect(head.body).toBeNull();
  });

  it('sends the whole file when If-Range names another version, 304 for a matching If-None-Match, 404/405 otherwise', () => {
    expect(planMediaReply(media, { method: 'GET', range: 'bytes=0-9', ifRange: '"old"' }).status).toBe(200);
    expect(planMediaReply(media, { method: 'GET', range: 'bytes=0-9', ifRange: '"abc"' }).status).toBe(206);
    expect(planMediaReply(media, { method: 'GET', ifNoneMatch: '"abc"' }).status).toBe(304);
    expect(planMediaReply(null, { method: 'GET' }).status).toBe(404);
    expect(planMediaReply(media, { method: 'POST' }).status).toBe(405);
  });
});

describe('media URLs', () => {
  it('accepts only asset ids with a known variant, from the protocol or the serve path', () => {
    expect(parseMediaUrl(mediaUrl('abc-1', 'original'))).toEqual({ id: 'abc-1', variant: 'original' });
    expect(parseMediaUrl('http://127.0.0.1:8123/studio-media/asset/abc/thumb')).toEqual({ id: 'abc', variant: 'thumb' });
    for (const bad of [
      'studio-media://asset/../original',
      'studio-media://asset/..%2F..%2Fetc%2Fpasswd/original',
      'studio-media://asset/%2Fetc%2Fpasswd/original',
      'studio-media://asset/abc/../../x',
      'studio-media://asset/abc/raw',
      'studio-media://asset/abc',
      'studio-media://asset//original',
      'studio-media://other/abc/original',
      'studio-media://asset/abc/original/extra',
      'file:///etc/passwd',
      'http://127.0.0.1/studio-media/asset/a%00b/original',
      'not a url',
    ]) {
      expect(parseMediaUrl(bad), bad).toBeNull();
    }
    expect(parseMediaPath('/abc/original')).toEqual({ id: 'abc', variant: 'original' });
    expect(parseMediaPath('abc/original')).toBeNull();
  });
});

describe('resolveMedia', () => {
  let w: World;
  beforeEach(() => {
    w = makeWorld();
  });
  afterEach(async () => {
    await w.close();
  });

  it('serves a known id from inside the library with its real path, size and type', async () => {
    const id = addAsset(w);
    const media = await resolveMedia(w.db, w.layout.library, id, 'original');
    expect(media).toMatchObject({ mime: 'image/png', path: expect.stringContaining(w.layout.library) });
    expect(media!.size).toBeGreaterThan(0);
    expect(await resolveMedia(w.db, w.layout.library, id, 'thumb')).toBeNull(); // no thumbnail yet
  });

  it('refuses unknown ids, traversal, absolute and tampered paths, symlinks out of the root, and folders', async () => {
    const outside = join(w.dir, 'outside');
    writeRaw(join(outside, 'secret.png'), 'secret');
    const lib = w.layout.library;
    const refuse = async (id: string, variant: 'original' | 'thumb' = 'original'): Promise<void> => {
      expect(await resolveMedia(w.db, lib, id, variant), `${id}/${variant}`).toBeNull();
    };
    await refuse('no-such-id');
    await refuse('../studio.db');
    await refuse('');
    await refuse('a/b');
    await refuse('ok', 'raw' as never);

    const up = addAsset(w);
    w.db.run('UPDATE assets SET file_path = ? WHERE id = ?', '../studio.db', up);
    await refuse(up);
    const deep = addAsset(w);
    w.db.run('UPDATE assets SET file_path = ? WHERE id = ?', 'sdxl_image_fast/../../outside/secret.png', deep);
    await refuse(deep);
    const abs = addAsset(w);
    w.db.run('UPDATE assets SET file_path = ? WHERE id = ?', join(outside, 'secret.png'), abs);
    await refuse(abs);

    // A symlink inside the library that points out of it.
    const linked = addAsset(w);
    symlinkSync(join(outside, 'secret.png'), join(lib, 'user_uploads-link.png'));
    w.db.run('UPDATE assets SET file_path = ? WHERE id = ?', 'user_uploads-link.png', linked);
    await refuse(linked);
    // A thumbnail path that is a symlink out of the root.
    const thumbed = addAsset(w);
    mkdirSync(join(lib, '.thumbs'), { recursive: true });
    symlinkSync(outside, join(lib, '.thumbs', 'escape'));
    w.db.run('UPDATE assets SET thumb_path = ? WHERE id = ?', join('.thumbs', 'escape', 'secret.png'), thumbed);
    await refuse(thumbed, 'thumb');
    // A directory is not a file.
    const dir = addAsset(w);
    mkdirSync(join(lib, 'user_uploads', 'a-folder.png'), { recursive: true });
    w.db.run('UPDATE assets SET file_path = ? WHERE id = ?', join('user_uploads', 'a-folder.png'), dir);
    await refuse(dir);
  });

  it('still serves a library reached through a symlinked root', async () => {
    const id = addAsset(w);
    const alias = join(w.dir, 'alias');
    symlinkSync(w.layout.library, alias);
    expect(await resolveMedia(w.db, alias, id, 'original')).not.toBeNull();
  });

  it('streams ranges through mediaResponse, so a video can seek', async () => {
    const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    const id = addAsset(w, { kind: 'video', bytes, ext: '.mp4' });
    const ranged = await w.library.mediaResponse(new Request(mediaUrl(id, 'original'), { headers: { range: 'bytes=1000-1999' } }));
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(1000, 2000))).toBe(true);
    const whole = await w.library.mediaResponse(new Request(mediaUrl(id, 'original')));
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    const missing = await w.library.mediaResponse(new Request('studio-media://asset/..%2Fstudio.db/original'));
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('Not found');
  });
});
