import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRIVILEGED_SCHEMES, appProtocolHandler, mediaPlaceholderHandler, registerProtocols, resolveAppFile } from '../../../src-main/app/protocols.ts';

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

describe('studio-media placeholder', () => {
  it('answers 404 until the library serves media', async () => {
    const res = mediaPlaceholderHandler()(new Request('studio-media://asset/123'));
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/not available/);
  });

  it('registers both schemes, privileged as standard and secure', () => {
    const handled: string[] = [];
    registerProtocols({ handle: (scheme) => void handled.push(scheme) }, { root, csp: '' });
    expect(handled).toEqual(['studio', 'studio-media']);
    for (const s of PRIVILEGED_SCHEMES) expect(s.privileges).toMatchObject({ standard: true, secure: true });
    expect(PRIVILEGED_SCHEMES.find((s) => s.scheme === 'studio-media')?.privileges?.stream).toBe(true);
  });
});
