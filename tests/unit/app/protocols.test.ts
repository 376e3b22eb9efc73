import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRIVILEGED_SCHEMES, appProtocolHandler, mediaProtocolHandler, registerProtocols, resolveAppFile } from '../../../src-main/app/protocols.ts';
import { mediaUrl } from '../../../src-preload/contract/library.ts';
import { addAsset, makeWorld } from '../../fixtures/library/world.ts';
import type { World } from '../../fixtures/library/world.ts';

let dir: string;
let root: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'studio-protocol-'));
  root = path.join(dir, 'renderer');
  mkdirSync(path.join(root, 'assets'), { recursive: true });
  writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>studio</title>');
  writeFileSync(path.join(root, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'secret.txt'), 'outside the renderer');
  symlinkSync(path.join(dir, 'secret.txt'), path.join(root, 'assets', 'link.txt'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveAppFile', () => {
  it('maps studio://app/ URLs to files inside the renderer folder', async () => {
    expect(await resolveAppFile(root, 'studio://app/index.html')).toBe(path.join(root, 'index.html'));
    expect(await resolveAppFile(root, 'studio://app/')).toBe(path.join(root, 'index.html'));
    expect(await resolveAppFile(root, 'studio://app/assets/index-abc.js?v=1#x')).toBe(path.join(root, 'assets', 'index-abc.js'));
  });

  it.each([
    'studio://app/../secret.txt',
    'studio://app/%2e%2e/secret.txt',
    'studio://app/assets/..%2f..%2fsecret.txt',
    'studio://app/assets/link.txt',
    'studio://app/assets',
    'studio://app/missing.js',
    'studio://app/%00index.html',
    'studio://app/%E0%A4%A',
    'studio://other/index.html',
    'studio-media://app/index.html',
    'not a url',
  ])('refuses %s', async (url) => {
    expect(await resolveAppFile(root, url)).toBeNull();
  });
});

describe('appProtocolHandler', () => {
  const handler = () => appProtocolHandler({ root, csp: "default-src 'none'" });

  it('serves files with their type, the CSP and nosniff', async () => {
    const res = await handler()(new Request('studio://app/assets/index-abc.js'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe('console.log(1)');
  });

  it('answers 404 outside the folder and 405 for writes', async () => {
    expect((await handler()(new Request('studio://app/assets/link.txt'))).status).toBe(404);
    expect((await handler()(new Request('studio://app/index.html', { method: 'POST', body: 'x' }))).status).toBe(405);
  });
});

describe('studio-media://asset/<id>/<variant>', () => {
  let w: World;
  let video: Buffer;
  let videoId: string;
  let imageId: string;
  let escapeId: string;
  const handler = () => mediaProtocolHandler(w.library);

  beforeAll(() => {
    w = makeWorld();
    video = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7) % 256));
    videoId = addAsset(w, { kind: 'video', bytes: video, ext: '.mp4', bucket: 'video_fast' });
    imageId = addAsset(w);
    // A row whose file is a symlink inside the library pointing at a file outside it.
    escapeId = addAsset(w);
    writeFileSync(path.join(w.dir, 'private.png'), 'not yours');
    symlinkSync(path.join(w.dir, 'private.png'), path.join(w.layout.library, 'escape.png'));
    w.library.db.run('UPDATE assets SET file_path = ? WHERE id = ?', 'escape.png', escapeId);
  });
  afterAll(async () => {
    await w.close();
  });

  it('serves an image by id with its type, never a path', async () => {
    const res = await handler()(new Request(mediaUrl(imageId, 'original')));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('answers a Range with 206 and exactly those bytes, so a video seeks; 416 past the end', async () => {
    const res = await handler()(new Request(mediaUrl(videoId, 'original'), { headers: { range: 'bytes=4096-8191' } }));
    expect(res.status).toBe(206);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(res.headers.get('content-range')).toBe(`bytes 4096-8191/${video.length}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(video.subarray(4096, 8192))).toBe(true);
    const open = await handler()(new Request(mediaUrl(videoId, 'original'), { headers: { range: 'bytes=9000-' } }));
    expect(Buffer.from(await open.arrayBuffer()).equals(video.subarray(9000))).toBe(true);
    const past = await handler()(new Request(mediaUrl(videoId, 'original'), { headers: { range: `bytes=${video.length}-` } }));
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${video.length}`);
  });

  it.each([
    'studio-media://asset/../original',
    'studio-media://asset/%2e%2e/original',
    'studio-media://asset/%2e%2e%2f%2e%2e%2fstudio.db/original',
    'studio-media://asset/%2Fetc%2Fpasswd/original',
    'studio-media://asset//etc/passwd',
    'studio-media://asset/abc/raw',
    'studio-media://asset/abc',
    'studio-media://elsewhere/abc/original',
    'studio://app/index.html',
  ])('refuses the malformed address %s with 400', async (url) => {
    const res = await handler()(new Request(url));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/Not a media address/);
  });

  it('answers 404 for unknown ids, a symlink out of the library, and a thumbnail not made yet', async () => {
    for (const url of [mediaUrl('no-such-asset', 'original'), mediaUrl(escapeId, 'original'), mediaUrl(imageId, 'thumb')]) {
      const res = await handler()(new Request(url));
      expect(res.status, url).toBe(404);
      expect(await res.text()).not.toContain(w.dir);
    }
  });

  it('answers 404 for everything when there is no library, and 405 for writes', async () => {
    expect((await mediaProtocolHandler(null)(new Request(mediaUrl(imageId, 'original')))).status).toBe(404);
    expect((await handler()(new Request(mediaUrl(imageId, 'original'), { method: 'PUT', body: 'x' }))).status).toBe(405);
  });
});

describe('registerProtocols', () => {
  it('registers both schemes, privileged as standard and secure, media with streaming', async () => {
    const handled: { scheme: string; handler: (r: Request) => Response | Promise<Response> }[] = [];
    registerProtocols({ handle: (scheme, handler) => void handled.push({ scheme, handler }) }, { root, csp: '' });
    expect(handled.map((h) => h.scheme)).toEqual(['studio', 'studio-media']);
    // Without a library the media scheme is a 404, never a file.
    expect((await handled[1]!.handler(new Request('studio-media://asset/abc/original'))).status).toBe(404);
    for (const s of PRIVILEGED_SCHEMES) expect(s.privileges).toMatchObject({ standard: true, secure: true });
    expect(PRIVILEGED_SCHEMES.find((s) => s.scheme === 'studio-media')?.privileges?.stream).toBe(true);
  });
});
