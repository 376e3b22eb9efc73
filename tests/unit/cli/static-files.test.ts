import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mimeType, resolveInside, serveStatic } from '../../../src-main/cli/static-files.ts';

const root = path.resolve('/srv/renderer');

describe('static file paths', () => {
  it('resolves files inside the build folder', () => {
    expect(resolveInside(root, '/index.html')).toBe(path.join(root, 'index.html'));
    expect(resolveInside(root, '/assets/app-1a2b.js')).toBe(path.join(root, 'assets', 'app-1a2b.js'));
    expect(resolveInside(root, '/')).toBe(root);
    expect(resolveInside(root, '/a%20b.png')).toBe(path.join(root, 'a b.png'));
  });

  it('never leaves it, however the path is spelled', () => {
    for (const p of ['/../etc/passwd', '/assets/../../etc/passwd', '/%2e%2e/etc/passwd', '/%2E%2E%2Fetc%2Fpasswd', '/..%5c..%5cwin.ini', '/a%00.html', '/%E0%A4%A']) {
      expect(resolveInside(root, p), p).toBeNull();
    }
  });
});

describe('MIME types', () => {
  it('labels what the renderer build contains', () => {
    expect(mimeType('index.html')).toBe('text/html; charset=utf-8');
    expect(mimeType('a.JS')).toBe('text/javascript; charset=utf-8');
    expect(mimeType('a.css')).toBe('text/css; charset=utf-8');
    expect(mimeType('a.svg')).toBe('image/svg+xml');
    expect(mimeType('a.woff2')).toBe('font/woff2');
    expect(mimeType('a.wasm')).toBe('application/wasm');
    expect(mimeType('a.unknownext')).toBe('application/octet-stream');
  });
});

describe('source maps', () => {
  it('are not served, however the address spells them, while the bundle beside them is', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'studio-static-maps-'));
    const build = path.join(dir, 'renderer');
    mkdirSync(path.join(build, 'assets'), { recursive: true });
    writeFileSync(path.join(build, 'index.html'), '<!doctype html><script src="./assets/index-1a2b.js"></script>');
    writeFileSync(path.join(build, 'assets', 'index-1a2b.js'), 'console.log(1)\n//# sourceMappingURL=index-1a2b.js.map\n');
    writeFileSync(path.join(build, 'assets', 'index-1a2b.js.map'), '{"version":3,"sources":["../../src/secret-plan.ts"],"sourcesContent":["// private"]}');
    // A link with an innocent name that leads to a map is refused too.
    symlinkSync(path.join(build, 'assets', 'index-1a2b.js.map'), path.join(build, 'assets', 'innocent.json'));
    const server = createServer((req, res) => void serveStatic(req, res, build));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const js = await fetch(`${base}/assets/index-1a2b.js`);
      expect(js.status).toBe(200);
      for (const address of ['/assets/index-1a2b.js.map', '/assets/index-1a2b.js.MAP', '/assets/index-1a2b.js%2Emap', '/assets/innocent.json']) {
        const res = await fetch(`${base}${address}`);
        const body = await res.text();
        expect(res.status, address).toBe(404);
        expect(body, address).not.toContain('secret-plan');
        expect((await fetch(`${base}${address}`, { method: 'HEAD' })).status, `HEAD ${address}`).toBe(404);
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
