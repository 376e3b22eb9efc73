import { describe, expect, it } from 'vitest';
import {
  bearerToken,
  hostAllowed,
  loopbackBindAddress,
  newToken,
  originAllowed,
  tokenMatches,
  tokenProtocol,
} from '../../../src-main/cli/http-guard.ts';

describe('loopback binding', () => {
  it('accepts loopback addresses and maps localhost to 127.0.0.1', () => {
    expect(loopbackBindAddress(undefined)).toBe('127.0.0.1');
    expect(loopbackBindAddress('localhost')).toBe('127.0.0.1');
    expect(loopbackBindAddress('127.0.0.2')).toBe('127.0.0.2');
    expect(loopbackBindAddress('::1')).toBe('::1');
    expect(loopbackBindAddress('[::1]')).toBe('::1');
    expect(loopbackBindAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
  });

  it('refuses every address another machine could reach', () => {
    for (const h of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', '', '127.0.0.1.evil.com', 'fe80::1']) {
      expect(loopbackBindAddress(h), h).toBeNull();
    }
  });
});

describe('Host and Origin checks (DNS rebinding)', () => {
  it('allows loopback names on our port only', () => {
    expect(hostAllowed('127.0.0.1:4000', 4000, '127.0.0.1')).toBe(true);
    expect(hostAllowed('localhost:4000', 4000, '127.0.0.1')).toBe(true);
    expect(hostAllowed('LOCALHOST:4000', 4000, '127.0.0.1')).toBe(true);
    expect(hostAllowed('[::1]:4000', 4000, '::1')).toBe(true);
    expect(hostAllowed('127.0.0.1:4001', 4000, '127.0.0.1')).toBe(false);
    expect(hostAllowed('127.0.0.1', 4000, '127.0.0.1')).toBe(false);
    expect(hostAllowed('evil.example:4000', 4000, '127.0.0.1')).toBe(false);
    expect(hostAllowed('localhost.evil.example:4000', 4000, '127.0.0.1')).toBe(false);
    expect(hostAllowed(undefined, 4000, '127.0.0.1')).toBe(false);
  });

  it('allows no Origin or our own, refuses others and "null"', () => {
    expect(originAllowed(undefined, 4000, '127.0.0.1')).toBe(true);
    expect(originAllowed('http://127.0.0.1:4000', 4000, '127.0.0.1')).toBe(true);
    expect(originAllowed('http://localhost:4000', 4000, '127.0.0.1')).toBe(true);
    expect(originAllowed('http://evil.example:4000', 4000, '127.0.0.1')).toBe(false);
    expect(originAllowed('https://127.0.0.1:4000', 4000, '127.0.0.1')).toBe(false);
    expect(originAllowed('http://127.0.0.1:4001', 4000, '127.0.0.1')).toBe(false);
    expect(originAllowed('null', 4000, '127.0.0.1')).toBe(false);
  });
});

describe('token', () => {
  it('is 32 random bytes in base64url, new each launch', () => {
    const a = newToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(newToken()).not.toBe(a);
  });

  it('matches only the exact token', () => {
    const t = newToken();
    expect(tokenMatches(t, t)).toBe(true);
    expect(tokenMatches(`${t}x`, t)).toBe(false);
    expect(tokenMatches(t.slice(1), t)).toBe(false);
    expect(tokenMatches('', t)).toBe(false);
    expect(tokenMatches(null, t)).toBe(false);
  });

  it('reads it from an Authorization header or an offered WebSocket subprotocol', () => {
    const t = newToken();
    expect(bearerToken(`Bearer ${t}`)).toBe(t);
    expect(bearerToken(`bearer ${t}`)).toBe(t);
    expect(bearerToken(`Basic ${t}`)).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
    expect(tokenProtocol(['chat', `bearer.${t}`], t)).toBe(`bearer.${t}`);
    expect(tokenProtocol([t], t)).toBe(t);
    expect(tokenProtocol(['bearer.nope'], t)).toBeNull();
  });
});
