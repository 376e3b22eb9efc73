/**
 * The hostile requests, made from a seed: request lines and targets no browser sends, every
 * contract channel with params accepted, mutated, nested or oversized, wrong methods, Host, Origin
 * and Authorization variants, chunked and Content-Length lies, slow senders, WebSocket upgrades with
 * bad keys, versions, protocols and tokens (and junk frames once accepted), media and static paths
 * that try to climb out. Each request says what it is in a label a failure can print.
 */
import { CHANNELS, channels } from '../../../src-preload/contract/channels.ts';
import { JOB_TYPES, PRESETS } from '../../../src-preload/contract/catalog.ts';
import { HOSTILE_STRINGS, deeplyNested, garbage, mutate, valueFor } from './params.ts';
import type { ParamContext } from './params.ts';
import type { Random } from './random.ts';
import type { RawPart } from './raw-http.ts';

export type FuzzKind = 'target' | 'params' | 'method' | 'headers' | 'framing' | 'slow' | 'websocket' | 'media' | 'static';

export interface FuzzRequest {
  readonly n: number;
  readonly kind: FuzzKind;
  readonly label: string;
  /** Raw bytes over a socket (any request at all), or fetch (what a page's script can send). */
  readonly raw?: { readonly parts: readonly RawPart[]; readonly halfClose?: boolean; readonly noBody?: boolean; readonly afterUpgrade?: Buffer };
  readonly fetch?: { readonly path: string; readonly method: string; readonly headers: Record<string, string>; readonly body?: Buffer };
  /**
   * true: carries the right token (or media key), Host and Origin, so it may succeed; false: it
   * must not reach the API, the media or the event stream; null: either is fine.
   */
  readonly trusted: boolean | null;
  /** A jobs.enqueue call: a 200 answer names the job it made. */
  readonly enqueue?: boolean;
}

export interface FuzzTarget {
  readonly port: number;
  readonly token: string;
  readonly mediaKey: string;
  /** An asset that exists, for media requests. */
  readonly assetId: string;
  readonly params: Omit<ParamContext, 'marker'>;
}

const CRLF = '\r\n';
const utf8AsLatin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

/** A request as bytes: every character below 256 is sent as that byte (so `\x00`, `\xff` go raw). */
function requestBytes(method: string, target: string, headers: readonly (readonly [string, string])[], body?: Buffer): Buffer {
  const head = `${method} ${target} HTTP/1.1${CRLF}${headers.map(([k, v]) => `${k}: ${v}${CRLF}`).join('')}${CRLF}`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body ?? Buffer.alloc(0)]);
}

/** Short, printable form of a request for a failure message. */
function show(bytes: Buffer | string, max = 300): string {
  const s = typeof bytes === 'string' ? bytes : bytes.toString('latin1');
  const j = JSON.stringify(s.length > max ? `${s.slice(0, max)}…(${s.length} bytes)` : s);
  return j.slice(1, -1);
}

export class RequestMaker {
  private n = 0;
  private readonly r: Random;
  private readonly t: FuzzTarget;
  private readonly host: string;
  constructor(r: Random, t: FuzzTarget) {
    this.r = r;
    this.t = t;
    this.host = `127.0.0.1:${t.port}`;
  }

  private get auth(): [string, string] {
    return ['Authorization', `Bearer ${this.t.token}`];
  }

  /** `count` requests, drawn by kind. */
  make(count: number): FuzzRequest[] {
    const out: FuzzRequest[] = [];
    for (let i = 0; i < count; i++) {
      const kind = this.r.weighted<FuzzKind>([
        [15, 'target'],
        [30, 'params'],
        [6, 'method'],
        [12, 'headers'],
        [9, 'framing'],
        [4, 'slow'],
        [10, 'websocket'],
        [9, 'media'],
        [5, 'static'],
      ]);
      out.push(this[kind]());
    }
    return out;
  }

  target(): FuzzRequest {
    const r = this.r;
    const P = this.t.port;
    const base = r.pick([
      '//', '//[', '///', '//x@', '//[::1]', '//a:b@c/d', `//127.0.0.1:${P}/api/queue.state`, 'example.com:80', `127.0.0.1:${P}`, '*',
      `http://127.0.0.1:${P}/`, 'http://evil.example/api/queue.state', `HTTP://127.0.0.1:${P}/api/queue.state`, 'ftp://x/', 'http://[::1', 'http:',
      'javascript:alert(1)', 'file:///etc/passwd', '/%', '/%0', '/%zz', '/%00', '/%2e%2e/%2e%2e/etc/passwd', '/%c0%ae%c0%ae/', '/%ff%fe',
      '/%252e%252e/', '/api/%71ueue.state', '/api%2fqueue.state', '/api/queue.state%00', '/api/queue%2estate', '/\x00', '/a\rb', '/a\nb',
      '/\t', '/ /', '/\x7f', '/\x80\xff', utf8AsLatin1('/é'), utf8AsLatin1('/😀'), '/.', '/..', '/../..', '/./api/queue.state',
      '/api/../api/queue.state', '/api//queue.state', '/api/queue.state/', '/\\..\\..\\', '/#frag', '/?', '/??&&==', '/?a=%zz',
      `/${'a'.repeat(8000)}`, `/${'a'.repeat(20_000)}`, `/api/${'x'.repeat(5000)}`, `/?${'k=v&'.repeat(3000)}`, '', ' ', '/api/queue.state HTTP/1.1',
      '/api/events', '/studio-media/', '/studio-media/asset/%2e%2e/original',
    ]);
    // Sometimes a random byte is spliced in, so the list is a start, not the whole search.
    const target = r.chance(0.3) ? this.splice(base) : base;
    const method = r.pick(['GET', 'GET', 'POST', 'HEAD', 'OPTIONS', 'DELETE']);
    const withToken = r.chance(0.5);
    const headers: [string, string][] = [['Host', this.host], ...(withToken ? [this.auth] : []), ['Connection', 'close']];
    const body = method === 'POST' ? Buffer.from('{}') : undefined;
    if (body) headers.push(['Content-Length', String(body.length)]);
    const bytes = requestBytes(method, target, headers, body);
    return { n: this.n++, kind: 'target', label: show(bytes), raw: { parts: [{ bytes }], noBody: method === 'HEAD' }, trusted: withToken ? null : false };
  }

  private splice(s: string): string {
    const at = this.r.int(0, s.length);
    const ch = this.r.pick(['\x00', '\r', '\n', ' ', '\t', '%', '#', '?', '\\', '\x7f', '\xff', '/', '..', '@', '[', ']', ':']);
    return s.slice(0, at) + ch + s.slice(at);
  }

  /** A channel (or a name that is not one) with params from its schema. */
  params(): FuzzRequest {
    const r = this.r;
    // One in twenty is a job the engine accepts, so jobs run (and write into the library) while
    // the rest of the requests come in.
    const plausibleJob = r.chance(0.05);
    const name = plausibleJob ? 'jobs.enqueue' : r.chance(0.93) ? r.pick(CHANNELS) : r.pick(['__proto__', 'constructor', 'toString', 'jobs', 'jobs.', '.enqueue', 'JOBS.ENQUEUE', 'jobs.enqueue.x', '', 'hasOwnProperty']);
    const trustedToken = r.chance(0.85);
    const marker = trustedToken ? `fuzz-auth-${this.n}` : `fuzz-unauth-${this.n}`;
    const ctx: ParamContext = { ...this.t.params, marker };
    const schema = (channels as Record<string, { params: Parameters<typeof valueFor>[0] } | undefined>)[name]?.params;
    const valid = (): unknown => (schema ? valueFor(schema, r, ctx) : {});
    const variant = plausibleJob ? 'plausible' : r.weighted<string>([
      [40, 'valid'],
      [22, 'mutated'],
      [8, 'garbage'],
      [5, 'nested'],
      [10, 'text'],
      [5, 'oversized'],
      [5, 'empty'],
    ]);
    let body: Buffer;
    switch (variant) {
      case 'valid': {
        const v = valid();
        body = Buffer.from(v === undefined ? '' : JSON.stringify(v), 'utf8');
        break;
      }
      case 'plausible': {
        const type = r.pick(JOB_TYPES);
        const video = PRESETS[type].kind === 'video';
        const request = {
          type,
          prompt: `${marker} ${r.pick(HOSTILE_STRINGS)}`,
          ...(r.chance(0.5) ? { negativePrompt: r.pick(HOSTILE_STRINGS) } : {}),
          seed: r.int(0, 1_000_000),
          steps: r.int(1, 3),
          width: 256,
          height: 256,
          ...(video ? { frames: 5 } : { count: r.int(1, Math.min(2, PRESETS[type].maxCount)) }),
        };
        body = Buffer.from(JSON.stringify({ request, ...(r.chance(0.2) ? { idempotencyKey: r.pick(['k1', 'k2', `k-${this.n}`]) } : {}) }));
        break;
      }
      case 'mutated':
        body = Buffer.from(JSON.stringify(mutate(valid(), r)) ?? 'null', 'utf8');
        break;
      case 'garbage':
        body = Buffer.from(JSON.stringify(garbage(r)) ?? 'null', 'utf8');
        break;
      case 'nested': {
        const depth = r.pick([100, 1000, 10_000, 100_000, 300_000]);
        const nested = deeplyNested(depth, r.chance(0.5));
        body = Buffer.from(r.chance(0.5) ? nested : `{"request":${nested}}`);
        break;
      }
      case 'text':
        body = r.pick([
          () => Buffer.from(JSON.stringify(valid() ?? {}).slice(0, -1)),
          () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(valid() ?? {}))]),
          () => Buffer.concat([Buffer.from('{"prompt":"'), r.bytes(r.int(1, 64)), Buffer.from('"}')]),
          () => Buffer.from('NaN'),
          () => Buffer.from('{"a":1}garbage'),
          () => Buffer.from('{"id":"a","id":"b"}'),
          () => Buffer.from('{"limit":1e999}'),
          () => Buffer.from(`{"limit":${'9'.repeat(400)}}`),
          () => Buffer.from('{"id":"\\ud800"}'),
          () => Buffer.from('{"id":"a\\u0000b"}'),
          () => Buffer.from('// comment\n{}'),
          () => Buffer.from("{'single':'quotes'}"),
          () => r.bytes(r.int(1, 2000)),
          () => Buffer.from(JSON.stringify(valid() ?? {}), 'utf16le'),
        ])();
        break;
      case 'oversized': {
        const size = r.pick([1024 * 1024 + 1, 1024 * 1024 + r.int(2, 300_000), 3 * 1024 * 1024]);
        const id = '"abcdefgh",';
        const inner = id.repeat(Math.ceil(size / id.length)).slice(0, -1);
        body = Buffer.from(`{"ids":[${inner}]}`);
        break;
      }
      default:
        body = Buffer.alloc(0);
    }
    const contentType = r.pick(['application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', null]);
    const headers: Record<string, string> = { ...(contentType ? { 'Content-Type': contentType } : {}) };
    if (trustedToken) headers.Authorization = `Bearer ${this.t.token}`;
    else if (r.chance(0.5)) headers.Authorization = `Bearer ${r.pick(['', 'x', this.t.token.slice(1), `${this.t.token}x`])}`;
    const path = `/api/${encodeURIComponent(name).replace(/%2E/gi, '.')}`;
    const label = `POST ${path} [${variant}, ${body.length} bytes${trustedToken ? ', token' : ', no token'}] ${show(body, 200)}`;
    const trusted = trustedToken ? null : false;
    const enqueue = name === 'jobs.enqueue';
    if (r.chance(0.5)) return { n: this.n++, kind: 'params', label: `fetch ${label}`, fetch: { path, method: 'POST', headers, body }, trusted, enqueue };
    const rawHeaders: [string, string][] = [['Host', this.host], ...Object.entries(headers), ['Content-Length', String(body.length)], ['Connection', 'close']];
    return { n: this.n++, kind: 'params', label: `raw ${label}`, raw: { parts: [{ bytes: requestBytes('POST', path, rawHeaders, body) }] }, trusted, enqueue };
  }

  method(): FuzzRequest {
    const r = this.r;
    const method = r.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'post', 'Post', 'P@ST', 'GE T', `${'X'.repeat(300)}`, 'HEAD', 'CONNECT', 'M-SEARCH', 'SOURCE', 'PURGE', 'QUERY', 'LINK', 'PRI', '']);
    const path = r.pick(['/api/queue.state', '/api/jobs.enqueue', `/api/${r.pick(CHANNELS)}`, '/', '/index.html', `/studio-media/asset/${this.t.assetId}/original?key=${this.t.mediaKey}`, '/api/events']);
    const target = method === 'CONNECT' ? r.pick([this.host, path, 'evil.example:443']) : path;
    const headers: [string, string][] = [['Host', this.host], this.auth, ['Connection', 'close'], ['Content-Length', '2']];
    const bytes = requestBytes(method, target, headers, Buffer.from('{}'));
    const trusted = method === 'POST' || method === 'GET' || method === 'HEAD' ? null : false;
    return { n: this.n++, kind: 'method', label: show(bytes), raw: { parts: [{ bytes }], noBody: method === 'HEAD' }, trusted };
  }

  headers(): FuzzRequest {
    const r = this.r;
    const P = this.t.port;
    const T = this.t.token;
    const goodHosts = [`127.0.0.1:${P}`, `localhost:${P}`];
    const hosts: (string | null)[] = [
      ...goodHosts, null, '', 'evil.example', `evil.example:${P}`, '127.0.0.1', `127.0.0.1:${P + 1}`, `[::1]:${P}`, `LOCALHOST:${P}`,
      `127.0.0.1:${P}.evil.example`, `127.0.0.1:0${P}`, `127.0.0.1:00000${P}`, `127.0.0.2:${P}`, `0x7f.1:${P}`, `2130706433:${P}`, `127.1:${P}`,
      `127.0.0.1.:${P}`, `user@127.0.0.1:${P}`, `127.0.0.1:${P}\x00`, `${'a'.repeat(5000)}:${P}`, utf8AsLatin1(`ℓocalhost:${P}`), `127.0.0.1:${P}, evil.example`,
      `[::ffff:127.0.0.1]:${P}`, `127.0.0.1:${P}/`, `127.0.0.1 :${P}`,
    ];
    // What a browser sends from a page this server served: its origin exactly, or nothing.
    const goodOrigins = [null, `http://127.0.0.1:${P}`, `http://localhost:${P}`];
    const origins: (string | null)[] = [
      ...goodOrigins, 'null', 'http://evil.example', `http://127.0.0.1:${P}/`, `https://127.0.0.1:${P}`, `http://127.0.0.1:${P}.evil.example`,
      `http://127.0.0.1:${P}@evil.example`, `http://evil.example@127.0.0.1:${P}`, '', 'file://', `http://127.0.0.1:${P}/x`, '\x00', `HTTP://127.0.0.1:${P}`,
      `http://127.0.0.1:${P}#`, `http://127.0.0.1:${P}?`, `http://127.0.0.1:0${P}`, `http://127.0.0.1:${P}\t`, `http://LOCALHOST:${P}`,
    ];
    const goodAuths = [`Bearer ${T}`, `bearer ${T}`, `Bearer  ${T}`, `Bearer ${T} `];
    const auths: (string | null)[] = [
      ...goodAuths, null, 'Bearer', 'Bearer ', `Bearer ${T},Bearer x`, `Bearer ${T} x`, `Basic ${Buffer.from(`x:${T}`).toString('base64')}`,
      `Bearer ${T.toUpperCase()}`, `Bearer ${T}x`, `Bearer ${T.slice(0, -1)}`, `Bearer ${'A'.repeat(20_000)}`, utf8AsLatin1(`Bearer ${T}é`), `Token ${T}`, T,
      `Bearer\t${T}`, `Bearer ${T}\t`,
    ];
    const host = r.chance(0.5) ? r.pick(goodHosts) : r.pick(hosts);
    const origin = r.chance(0.5) ? r.pick(goodOrigins) : r.pick(origins);
    const auth = r.chance(0.5) ? r.pick(goodAuths) : r.pick(auths);
    const headers: [string, string][] = [];
    if (host !== null) headers.push(['Host', host]);
    if (r.chance(0.08)) headers.push(['Host', r.pick(hosts) ?? 'evil.example']);
    if (origin !== null) headers.push(['Origin', origin]);
    if (r.chance(0.05)) headers.push(['Origin', 'http://evil.example']);
    if (auth !== null) headers.push(['Authorization', auth]);
    if (r.chance(0.05)) headers.push(['Authorization', 'Bearer wrong']);
    const route = r.pick(['api', 'api', 'static', 'media']);
    const path = route === 'api' ? `/api/${r.pick(['queue.state', 'jobs.list', 'library.stats', 'settings.get'])}` : route === 'static' ? '/' : `/studio-media/asset/${this.t.assetId}/original`;
    const method = route === 'api' ? 'POST' : 'GET';
    headers.push(['Connection', 'close']);
    if (method === 'POST') headers.push(['Content-Length', '2']);
    const bytes = requestBytes(method, path, headers, method === 'POST' ? Buffer.from('{}') : undefined);
    const hosts2 = headers.filter(([k]) => k === 'Host').length;
    // Other names of this machine at this port: no page elsewhere can make a browser send them
    // (DNS rebinding sends the attacker's name), so the server may accept them.
    const sameMachine = [`[::1]:${P}`, `LOCALHOST:${P}`];
    // Judged on the headers as sent: a second Host or Origin may be the only one.
    const sentHosts = headers.filter(([k]) => k === 'Host').map(([, v]) => v);
    const hostGood = sentHosts.length === 1 && (goodHosts.includes(sentHosts[0]!) || sameMachine.includes(sentHosts[0]!));
    // Other spellings of this server's own origin (case, a default-port zero, an empty query or
    // fragment, trailing white space) are no foreign page: a browser never sends them, and one
    // that is accepted gives nothing a request without Origin would not get.
    const sameServer = [`http://LOCALHOST:${P}`, `HTTP://127.0.0.1:${P}`, `http://127.0.0.1:0${P}`, `http://127.0.0.1:${P}#`, `http://127.0.0.1:${P}?`, `http://127.0.0.1:${P}\t`];
    const sentOrigins = headers.filter(([k]) => k === 'Origin').map(([, v]) => v);
    const originGood = sentOrigins.length === 0 || (sentOrigins.length === 1 && (goodOrigins.includes(sentOrigins[0]!) || sameServer.includes(sentOrigins[0]!)));
    // A second Authorization or Host is dropped by Node (the first counts); no page can send two Hosts.
    // Node drops white space (space or tab) around a header value, as HTTP says to.
    const authGood = auth !== null && (goodAuths.includes(auth) || auth === `Bearer ${T}\t`);
    const trusted = route === 'static' || hosts2 > 1 ? null : hostGood && originGood && authGood ? null : false;
    return { n: this.n++, kind: 'headers', label: show(bytes), raw: { parts: [{ bytes }] }, trusted };
  }

  framing(): FuzzRequest {
    const r = this.r;
    const path = `/api/${r.pick(['queue.state', 'jobs.list', 'library.query', 'settings.get', 'jobs.get'])}`;
    const base: [string, string][] = [['Host', this.host], this.auth];
    const body = '{}';
    const variant = r.pick([
      ['both', [['Content-Length', '2'], ['Transfer-Encoding', 'chunked']], `2${CRLF}{}${CRLF}0${CRLF}${CRLF}`, false],
      ['bad-size', [['Transfer-Encoding', 'chunked']], `zz${CRLF}{}${CRLF}0${CRLF}${CRLF}`, false],
      ['negative-size', [['Transfer-Encoding', 'chunked']], `-2${CRLF}{}${CRLF}0${CRLF}${CRLF}`, false],
      ['hex-prefix', [['Transfer-Encoding', 'chunked']], `0x2${CRLF}{}${CRLF}0${CRLF}${CRLF}`, false],
      ['huge-size', [['Transfer-Encoding', 'chunked']], `ffffffffffffffff${CRLF}{}${CRLF}`, true],
      ['extension', [['Transfer-Encoding', 'chunked']], `2;a=b;c${CRLF}{}${CRLF}0${CRLF}${CRLF}`, false],
      ['no-crlf', [['Transfer-Encoding', 'chunked']], `2${CRLF}{}0${CRLF}${CRLF}`, false],
      ['trailers', [['Transfer-Encoding', 'chunked']], `2${CRLF}{}${CRLF}0${CRLF}X-Trailer: 1${CRLF}${CRLF}`, false],
      ['no-last-chunk', [['Transfer-Encoding', 'chunked']], `2${CRLF}{}${CRLF}`, true],
      ['gzip-chunked', [['Transfer-Encoding', 'gzip, chunked']], `2${CRLF}{}${CRLF}0${CRLF}${CRLF}`, false],
      ['chunked-gzip', [['Transfer-Encoding', 'chunked, gzip']], body, false],
      ['identity', [['Transfer-Encoding', 'identity']], body, false],
      ['case', [['Transfer-Encoding', 'Chunked']], `2${CRLF}{}${CRLF}0${CRLF}${CRLF}`, false],
      ['two-te', [['Transfer-Encoding', 'chunked'], ['Transfer-Encoding', 'chunked']], `2${CRLF}{}${CRLF}0${CRLF}${CRLF}`, false],
      ['cl-negative', [['Content-Length', '-1']], body, false],
      ['cl-exp', [['Content-Length', '1e3']], body, false],
      ['cl-space', [['Content-Length', '2 2']], body, false],
      ['cl-hex', [['Content-Length', '0x2']], body, false],
      ['cl-huge', [['Content-Length', '99999999999999999999']], body, true],
      ['cl-two', [['Content-Length', '2'], ['Content-Length', '3']], body, false],
      ['cl-two-same', [['Content-Length', '2'], ['Content-Length', '2']], body, false],
      ['cl-short', [['Content-Length', '1']], `${body}GARBAGE / HTTP/1.1${CRLF}${CRLF}`, false],
      ['cl-long', [['Content-Length', '100']], body, true],
      ['cl-over-limit', [['Content-Length', String(2 * 1024 * 1024)]], body, true],
      ['expect', [['Content-Length', '2'], ['Expect', '100-continue']], body, false],
      ['expect-bogus', [['Content-Length', '2'], ['Expect', 'bogus']], body, false],
      ['pipelined', [['Content-Length', '2']], `${body}POST ${path} HTTP/1.1${CRLF}Host: ${this.host}${CRLF}Content-Length: 2${CRLF}${CRLF}{}`, false],
      ['pipelined-junk', [['Content-Length', '2']], `${body}\x00\x01\x02 junk${CRLF}${CRLF}`, false],
      ['big-chunked', [['Transfer-Encoding', 'chunked']], `100000${CRLF}${' '.repeat(0x100000)}${CRLF}100000${CRLF}${' '.repeat(0x100000)}${CRLF}0${CRLF}${CRLF}`, false],
    ] as const);
    const [name, extra, payload, halfClose] = variant;
    const headers: [string, string][] = [...base, ...extra.map(([k, v]) => [k, v] as [string, string]), ['Connection', r.chance(0.5) ? 'close' : 'keep-alive']];
    const bytes = requestBytes('POST', path, headers, Buffer.from(payload, 'latin1'));
    return { n: this.n++, kind: 'framing', label: `${name}${halfClose ? ' (then FIN)' : ''}: ${show(bytes)}`, raw: { parts: [{ bytes }], halfClose }, trusted: null };
  }

  /** A request sent in pieces with pauses: headers, then a body a few bytes at a time. */
  slow(): FuzzRequest {
    const r = this.r;
    const inner = r.chance(0.5) ? this.params() : this.headers();
    this.n--;
    const bytes = inner.raw?.parts[0]?.bytes ?? requestBytes('POST', inner.fetch!.path, [['Host', this.host], ...Object.entries(inner.fetch!.headers), ['Content-Length', String(inner.fetch!.body?.length ?? 0)], ['Connection', 'close']], inner.fetch!.body);
    const pieces = r.int(2, 8);
    const parts: RawPart[] = [];
    let at = 0;
    for (let i = 0; i < pieces; i++) {
      const end = i === pieces - 1 ? bytes.length : Math.min(bytes.length, at + r.int(1, Math.max(1, Math.floor(bytes.length / 2))));
      parts.push({ bytes: bytes.subarray(at, end), delayMs: i === 0 ? 0 : r.int(10, 250) });
      at = end;
    }
    return { ...inner, n: this.n++, kind: 'slow', label: `in ${pieces} pieces: ${inner.label}`, raw: { parts, ...(inner.raw?.noBody ? { noBody: true } : {}) }, fetch: undefined };
  }

  websocket(): FuzzRequest {
    const r = this.r;
    const T = this.t.token;
    const goodKey = r.bytes(16).toString('base64');
    const key = r.weighted<string | null>([[7, goodKey], [1, null], [1, 'x'], [1, 'A'.repeat(24)], [1, `${goodKey}${goodKey}`], [1, utf8AsLatin1('ключ')]]);
    const version = r.weighted<string | null>([[8, '13'], [1, null], [1, '8'], [1, 'abc'], [1, '13, 8']]);
    const tokenWay = r.pick(['query', 'protocol', 'none', 'wrong-query', 'wrong-protocol', 'both-mismatch', 'encoded-query', 'protocol-list', 'protocol-junk']);
    const path = r.chance(0.9) ? '/api/events' : r.pick(['/', '/api/queue.state', '/api/events/', '/API/EVENTS', `/studio-media/asset/${this.t.assetId}/original`, '//api/events', '/api/events%00']);
    let query = '';
    let protocol: string | null = null;
    switch (tokenWay) {
      case 'query': query = `?token=${T}`; break;
      case 'protocol': protocol = `bearer.${T}`; break;
      case 'wrong-query': query = `?token=${T.slice(0, -2)}`; break;
      case 'wrong-protocol': protocol = 'bearer.wrong'; break;
      case 'both-mismatch': query = '?token=wrong'; protocol = `bearer.${T}`; break;
      case 'encoded-query': query = `?token=${encodeURIComponent(T).replace(/-/g, '%2D')}`; break;
      case 'protocol-list': protocol = `chat, bearer.${T}, superchat`; break;
      case 'protocol-junk': protocol = r.pick([',,,', 'a b', `bearer.${T}\x01`, 'x'.repeat(5000), `bearer.${T},bearer.${T}`, '']); break;
    }
    const upgrade = r.weighted<string | null>([[9, 'websocket'], [1, 'WebSocket'], [1, 'h2c'], [1, null], [1, 'websocket, h2c']]);
    const connection = r.weighted<string>([[9, 'Upgrade'], [1, 'keep-alive, Upgrade'], [1, 'keep-alive'], [1, 'close']]);
    const host = r.chance(0.9) ? this.host : r.pick(['evil.example', `127.0.0.1:${this.t.port + 1}`]);
    const origin = r.chance(0.85) ? null : r.pick(['http://evil.example', `http://127.0.0.1:${this.t.port}`, 'null']);
    const headers: [string, string][] = [['Host', host]];
    if (upgrade !== null) headers.push(['Upgrade', upgrade]);
    headers.push(['Connection', connection]);
    if (key !== null) headers.push(['Sec-WebSocket-Key', key]);
    if (version !== null) headers.push(['Sec-WebSocket-Version', version]);
    if (protocol !== null) headers.push(['Sec-WebSocket-Protocol', protocol]);
    if (origin !== null) headers.push(['Origin', origin]);
    const method = r.chance(0.95) ? 'GET' : 'POST';
    const bytes = requestBytes(method, `${path}${query}`, headers);
    const afterUpgrade = this.junkFrames();
    const tokenGood = ['query', 'encoded-query'].includes(tokenWay) || (protocol?.includes(`bearer.${T}`) ?? false);
    const trusted = host === this.host && (origin === null || origin === `http://127.0.0.1:${this.t.port}`) && tokenGood ? null : false;
    return { n: this.n++, kind: 'websocket', label: `${show(bytes)} then frames ${afterUpgrade.subarray(0, 24).toString('hex')}…`, raw: { parts: [{ bytes }], afterUpgrade }, trusted };
  }

  /** Frames that must end the connection: unmasked, oversized, bad opcode, or a proper close. */
  private junkFrames(): Buffer {
    const r = this.r;
    const mask = r.bytes(4);
    const masked = (opcode: number, payload: Buffer, fin = true): Buffer => {
      const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
      const len = payload.length;
      const head = len < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | len]) : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, len >> 8, len & 0xff]);
      return Buffer.concat([head, mask, body]);
    };
    const close = masked(0x8, Buffer.from([0x03, 0xe8]));
    return r.pick([
      // Random bytes after a first byte with the reserved bits set (no extension was agreed), so
      // the first frame is a protocol error at once rather than, by chance, half of a valid one.
      () => Buffer.concat([Buffer.from([0xf0 | r.int(0, 15)]), r.bytes(r.int(0, 199))]),
      () => Buffer.from([0x81, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f]), // unmasked text
      () => Buffer.concat([Buffer.from([0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), mask]), // 2^63-byte payload declared
      () => masked(0x3, Buffer.from('reserved opcode')),
      () => masked(0x9, Buffer.alloc(200), false), // fragmented, oversized ping
      () => Buffer.concat([masked(0x1, Buffer.from('{"subscribe":"all"}')), close]),
      () => Buffer.concat([masked(0x1, Buffer.from([0xc3, 0x28])), close]), // invalid UTF-8 text
      () => masked(0x2, Buffer.alloc(70_000)), // over maxPayload
      () => close,
    ])();
  }

  media(): FuzzRequest {
    const r = this.r;
    const id = r.pick([
      this.t.assetId, this.t.assetId, 'nope', '..', '%2e%2e', '..%2f..%2f..%2ffuzz-secret.txt', '%252e%252e', '.', '', 'a'.repeat(65), 'a'.repeat(5000),
      `${this.t.assetId}%00`, `${this.t.assetId}/../${this.t.assetId}`, '..\\..\\fuzz-secret.txt', utf8AsLatin1('ünïcode'), '%ff', `${this.t.assetId}%2f..`,
      '../../../../../../etc/passwd%00', 'CON', '*',
    ]);
    const variant = r.pick(['original', 'original', 'thumb', 'ORIGINAL', '..', 'original/', 'original/..', 'thumb%00', '', 'original?', 'original#x', '../../fuzz-secret.txt']);
    const credential = r.weighted<string>([[5, 'key'], [2, 'bearer'], [2, 'none'], [1, 'wrong-key'], [1, 'key-twice'], [1, 'token-as-key']]);
    let query = '';
    const headers: [string, string][] = [['Host', this.host]];
    if (credential === 'key') query = `?key=${this.t.mediaKey}`;
    if (credential === 'wrong-key') query = `?key=${this.t.mediaKey.slice(0, -1)}`;
    if (credential === 'key-twice') query = `?key=wrong&key=${this.t.mediaKey}`;
    if (credential === 'token-as-key') query = `?key=${this.t.token}`;
    if (credential === 'bearer') headers.push(this.auth);
    if (r.chance(0.4)) {
      headers.push(['Range', r.pick(['bytes=0-', 'bytes=0-0', 'bytes=-1', 'bytes=5-1', 'bytes=0-99999999999999999999', 'bytes=-0', 'bytes=0-1,2-3', 'bytes=', 'items=0-1', 'bytes=99999999-', `bytes=${'0-1,'.repeat(2000)}0-1`, 'bytes=-9007199254740993'])]);
    }
    if (r.chance(0.15)) headers.push(['If-Range', r.pick(['"x"', 'Wed, 21 Oct 2015 07:28:00 GMT', '\x01'])]);
    if (r.chance(0.15)) headers.push(['If-None-Match', r.pick(['*', '"x"', 'W/"x", "y"', ''])]);
    headers.push(['Connection', 'close']);
    const method = r.weighted<string>([[8, 'GET'], [2, 'HEAD'], [1, 'POST'], [1, 'DELETE']]);
    const prefix = r.weighted<string>([[9, '/studio-media/asset/'], [1, '/studio-media/asset//'], [1, '/studio-media/./asset/'], [1, '/studio-media/%61sset/'], [1, '/STUDIO-MEDIA/asset/']]);
    const bytes = requestBytes(method, `${prefix}${id}/${variant}${query}`, headers);
    const credentialGood = credential === 'key' || credential === 'bearer' || credential === 'key-twice';
    return { n: this.n++, kind: 'media', label: show(bytes), raw: { parts: [{ bytes }], noBody: method === 'HEAD' }, trusted: credentialGood ? null : false };
  }

  static(): FuzzRequest {
    const r = this.r;
    const path = r.pick([
      '/', '/index.html', '/icon.svg', '/assets/', '/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/.%2e/package.json', '/%2e%2e%2fpackage.json',
      '/assets/x.js.map', '/assets/index.js.MAP', '/index.html%00.png', '/index.HTML', '/favicon.ico', '/deep/app/route', '/package.json', '/..%5cpackage.json',
      '/%5c..%5cpackage.json', '/assets/..%2f..%2f..%2fpackage.json', '/assets/%2e%2e/%2e%2e/%2e%2e/package.json', '/....//....//package.json',
      '/%c0%ae%c0%ae/package.json', '/%u002e%u002e/package.json', '/index.html/', '/index.html/..', '/.git/config', '/out/renderer/index.html',
    ]);
    const method = r.weighted<string>([[8, 'GET'], [2, 'HEAD']]);
    const bytes = requestBytes(method, path, [['Host', this.host], ['Connection', 'close'], ...(r.chance(0.2) ? [['Range', 'bytes=0-10'] as [string, string]] : [])]);
    return { n: this.n++, kind: 'static', label: show(bytes), raw: { parts: [{ bytes }], noBody: method === 'HEAD' }, trusted: null };
  }
}
