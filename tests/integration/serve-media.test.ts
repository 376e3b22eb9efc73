/**
 * Library media over `studio serve`: `/studio-media/asset/<id>/<variant>` through the real loopback
 * server and a real library on disk. Requests are sent raw (node:http does not normalise paths), so
 * traversal reaches the server exactly as an attacker would send it.
 */
import { execFileSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaKeyFor } from '../../src-main/cli/media-route.ts';
import { startServer } from '../../src-main/cli/serve.ts';
import type { RunningServer } from '../../src-main/cli/serve.ts';
import { handlersFor } from '../../src-main/engine/library/handlers.ts';
import type { Handlers } from '../../src-preload/contract/channels.ts';
import { addAsset, makeWorld } from '../fixtures/library/world.ts';
import type { World } from '../fixtures/library/world.ts';
import { mediaKey } from '../../src-renderer/src/api/media.ts';

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

let w: World;
let server: RunningServer;
let mp4: Buffer;
let videoId: string;
let imageId: string;
let escapeId: string;

function get(target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: target, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const key = () => mediaKeyFor(server.token);
const media = (id: string, variant = 'original') => `/studio-media/asset/${id}/${variant}?key=${key()}`;

beforeAll(async () => {
  w = makeWorld();
  // A real H.264 MP4 (two seconds, faststart), so the bytes served are what a browser would play.
  const file = path.join(w.dir, 'clip.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=10:duration=2', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-movflags', '+faststart', file]);
  mp4 = (await import('node:fs')).readFileSync(file);
  videoId = addAsset(w, { kind: 'video', bytes: mp4, ext: '.mp4', bucket: 'video_fast' });
  imageId = addAsset(w);
  escapeId = addAsset(w);
  writeFileSync(path.join(w.dir, 'private.png'), 'outside the library');
  symlinkSync(path.join(w.dir, 'private.png'), path.join(w.layout.library, 'escape.png'));
  w.db.run('UPDATE assets SET file_path = ? WHERE id = ?', 'escape.png', escapeId);
  const target = {
    handlers: handlersFor(w.library) as unknown as Handlers,
    on: () => () => {},
    library: w.library,
  };
  server = await startServer(target, { rendererDir: path.join(w.dir, 'no-renderer') });
});

afterAll(async () => {
  await server?.close();
  await w?.close();
});

describe('studio serve /studio-media/', () => {
  it('derives the same media key in the renderer as on the server, and it is not the token', () => {
    expect(mediaKey(server.token)).toBe(key());
    expect(key()).not.toBe(server.token);
  });

  it('serves an asset by id with the media key, with its type and ranges advertised', async () => {
    const res = await get(media(videoId));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('video/mp4');
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(res.body.equals(mp4)).toBe(true);
    const png = await get(media(imageId));
    expect(png.headers['content-type']).toBe('image/png');
  });

  it('answers a Range with 206 and Content-Range, and 416 past the end', async () => {
    const part = await get(media(videoId), { Range: 'bytes=100-1123' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-1123/${mp4.length}`);
    expect(part.body.equals(mp4.subarray(100, 1124))).toBe(true);
    const tail = await get(media(videoId), { Range: 'bytes=-64' });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(mp4.subarray(mp4.length - 64))).toBe(true);
    const past = await get(media(videoId), { Range: `bytes=${mp4.length + 10}-` });
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${mp4.length}`);
    expect(past.body.length).toBe(0);
  });

  it('refuses requests without the key, with a wrong key, or with the key of another session', async () => {
    expect((await get(`/studio-media/asset/${imageId}/original`)).status).toBe(401);
    expect((await get(`/studio-media/asset/${imageId}/original?key=nope`)).status).toBe(401);
    expect((await get(`/studio-media/asset/${imageId}/original?key=${mediaKeyFor('another-session')}`)).status).toBe(401);
    // The raw session token is not a media key (a media key must not be turned back into it).
    expect((await get(`/studio-media/asset/${imageId}/original?key=${server.token}`)).status).toBe(401);
    // Scripts may use the bearer header instead.
    expect((await get(`/studio-media/asset/${imageId}/original`, { Authorization: `Bearer ${server.token}` })).status).toBe(200);
  });

  it.each([
    '/studio-media/asset/../../studio.db/original',
    '/studio-media/asset/%2e%2e/original',
    '/studio-media/asset/%2e%2e%2f%2e%2e%2fstudio.db/original',
    '/studio-media/asset/..%2F..%2Fstudio.db/original',
    '/studio-media/asset//etc/passwd/original',
    '/studio-media/asset/%2Fetc%2Fpasswd/original',
    '/studio-media/asset/abc/raw',
    '/studio-media/asset/abc',
    '/studio-media/other/abc/original',
  ])('refuses the traversal or malformed address %s with 400', async (target) => {
    const res = await get(`${target}?key=${key()}`);
    expect(res.status).toBe(400);
    expect(res.body.toString()).not.toContain(w.dir);
  });

  it('answers 404 for an unknown id, a file that is a symlink out of the library, and a missing thumbnail', async () => {
    for (const target of [media('no-such-asset'), media(escapeId), media(imageId, 'thumb')]) {
      const res = await get(target);
      expect(res.status, target).toBe(404);
      expect(res.body.toString()).not.toContain('outside the library');
    }
  });

  it('keeps the Host and Origin checks, and is read-only', async () => {
    expect((await get(media(imageId), { Host: 'evil.example' })).status).toBe(403);
    expect((await get(media(imageId), { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await get(media(imageId), {}, 'DELETE')).status).toBe(405);
    const head = await get(media(videoId), {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(mp4.length));
    expect(head.body.length).toBe(0);
  });
});
