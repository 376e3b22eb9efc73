import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mimeType, resolveInside } from '../../../src-main/cli/static-files.ts';

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
