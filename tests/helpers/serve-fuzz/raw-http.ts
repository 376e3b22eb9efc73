/**
 * One HTTP exchange over a raw socket, for requests no HTTP client will send (a NUL in the target,
 * a Content-Length that lies, a chunk size that is not hex), and a strict reader of what comes
 * back: a status line, header lines, and a body framed by Content-Length, chunks or the close.
 * What matters is what a browser would get: a whole answer, never a reset or silence.
 */
import { connect } from 'node:net';

export interface RawPart {
  readonly bytes: Buffer;
  /** Wait this long before sending the part (a slow client). */
  readonly delayMs?: number;
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

export interface RawOutcome {
  /** The first answer, when one arrived whole; null otherwise. */
  readonly answer: RawAnswer | null;
  /** Why there is no whole answer, or what went wrong around it (null when all was well). */
  readonly problem: string | null;
  /** The socket was reset (ECONNRESET/EPIPE) at some point. */
  readonly reset: boolean;
  /** Everything received, for the failure message. */
  readonly received: Buffer;
}

export type Parsed = { readonly kind: 'more' } | { readonly kind: 'bad'; readonly why: string } | { readonly kind: 'whole'; readonly answer: RawAnswer };

const STATUS_LINE = /^HTTP\/1\.[01] ([1-5]\d\d) [\x20-\x7e]*$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\x20-\x7e\t]*?)[ \t]*$/;

/**
 * Reads one response from `buf`. `closed`: the server has finished sending, so a body framed by the
 * close is whole. `noBody`: the request was HEAD (or an upgrade), so only headers come back.
 */
export function parseResponse(buf: Buffer, closed: boolean, noBody: boolean): Parsed {
  const end = buf.indexOf('\r\n\r\n');
  if (end === -1) return closed ? { kind: 'bad', why: buf.length === 0 ? 'no answer at all' : 'the headers never ended' } : { kind: 'more' };
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const statusLine = STATUS_LINE.exec(lines[0]!);
  if (!statusLine) return { kind: 'bad', why: `malformed status line ${JSON.stringify(lines[0]!.slice(0, 120))}` };
  const status = Number(statusLine[1]);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const h = HEADER_LINE.exec(line);
    if (!h) return { kind: 'bad', why: `malformed header line ${JSON.stringify(line.slice(0, 120))}` };
    const name = h[1]!.toLowerCase();
    const prior = headers.get(name);
    if (name === 'content-length' && prior !== undefined && prior !== h[2]) return { kind: 'bad', why: 'two different Content-Length headers' };
    headers.set(name, prior === undefined || name === 'content-length' ? h[2]! : `${prior}, ${h[2]}`);
  }
  const rest = buf.subarray(end + 4);
  if (noBody || status === 101 || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return { kind: 'whole', answer: { status, headers, body: Buffer.alloc(0) } };
  }
  const te = headers.get('transfer-encoding');
  if (te !== undefined) {
    if (te.toLowerCase() !== 'chunked') return { kind: 'bad', why: `unexpected Transfer-Encoding ${JSON.stringify(te)}` };
    const chunks: Buffer[] = [];
    let at = 0;
    for (;;) {
      const eol = rest.indexOf('\r\n', at);
      if (eol === -1) return closed ? { kind: 'bad', why: 'the chunked body was cut off' } : { kind: 'more' };
      const sizeText = rest.subarray(at, eol).toString('latin1').split(';')[0]!.trim();
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return { kind: 'bad', why: `bad chunk size ${JSON.stringify(sizeText)}` };
      const size = parseInt(sizeText, 16);
      if (size === 0) {
        const trailerEnd = rest.indexOf('\r\n\r\n', eol);
        const last = trailerEnd === -1 ? rest.indexOf('\r\n', eol + 2) === eol + 2 : true;
        if (!last) return closed ? { kind: 'bad', why: 'the last chunk was cut off' } : { kind: 'more' };
        return { kind: 'whole', answer: { status, headers, body: Buffer.concat(chunks) } };
      }
      if (rest.length < eol + 2 + size + 2) return closed ? { kind: 'bad', why: 'a chunk was cut off' } : { kind: 'more' };
      chunks.push(rest.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
  }
  const cl = headers.get('content-length');
  if (cl !== undefined) {
    if (!/^\d{1,15}$/.test(cl)) return { kind: 'bad', why: `bad Content-Length ${JSON.stringify(cl)}` };
    const n = Number(cl);
    if (rest.length < n) return closed ? { kind: 'bad', why: `the body stopped at ${rest.length} of ${n} bytes` } : { kind: 'more' };
    return { kind: 'whole', answer: { status, headers, body: rest.subarray(0, n) } };
  }
  // Framed by the close (allowed for a response, and what a Connection: close answer may do).
  return closed ? { kind: 'whole', answer: { status, headers, body: rest } } : { kind: 'more' };
}

export interface ExchangeOptions {
  readonly port: number;
  readonly parts: readonly RawPart[];
  /** Send FIN after the last part (a client that has said all it will say). */
  readonly halfClose?: boolean;
  readonly noBody?: boolean;
  /** Give up after this long without a whole answer. */
  readonly timeoutMs: number;
  /** After a 101, send these bytes (WebSocket frames) and wait for the server to close. */
  readonly afterUpgrade?: Buffer;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function rawExchange(options: ExchangeOptions): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: options.port });
    const received: Buffer[] = [];
    let reset = false;
    let closed = false;
    let settled = false;
    let answer: RawAnswer | null = null;
    let upgradedAt = -1;
    /** Bytes of interim answers (100 Continue) already read past. */
    let interim = 0;
    const finish = (problem: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ answer, problem, reset, received: Buffer.concat(received) });
    };
    const examine = (): void => {
      const buf = Buffer.concat(received);
      if (answer === null) {
        const parsed = parseResponse(buf.subarray(interim), closed, options.noBody === true);
        if (parsed.kind === 'more') return;
        if (parsed.kind === 'bad') return finish(reset ? `connection reset (${parsed.why})` : parsed.why);
        if (parsed.answer.status >= 100 && parsed.answer.status < 200 && parsed.answer.status !== 101) {
          interim += buf.subarray(interim).indexOf('\r\n\r\n') + 4;
          return examine();
        }
        answer = parsed.answer;
        if (answer.status === 101 && options.afterUpgrade) {
          upgradedAt = interim + buf.subarray(interim).indexOf('\r\n\r\n') + 4;
          socket.write(options.afterUpgrade);
          return;
        }
        return finish(null);
      }
      // Upgraded: the server must end the conversation itself, answering junk frames with a close.
      if (closed) finish(reset && buf.length === upgradedAt ? 'the WebSocket was reset without a close frame' : null);
    };
    const timer = setTimeout(() => {
      const buf = Buffer.concat(received);
      if (answer?.status === 101) finish(`the WebSocket stayed open ${options.timeoutMs} ms after junk frames (${buf.length - upgradedAt} bytes back)`);
      else finish(`no whole answer within ${options.timeoutMs} ms (${buf.length} bytes)`);
    }, options.timeoutMs);
    socket.on('data', (d: Buffer) => {
      received.push(d);
      examine();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') reset = true;
      else finish(`socket error ${e.code ?? e.message}`);
    });
    socket.on('close', () => {
      closed = true;
      examine();
      if (!settled) finish(reset ? 'connection reset' : 'closed without a whole answer');
    });
    socket.once('connect', () => {
      void (async () => {
        for (const part of options.parts) {
          if (part.delayMs) await sleep(part.delayMs);
          if (settled || socket.destroyed || !socket.writable) return;
          socket.write(part.bytes);
        }
        if (options.halfClose && !settled && socket.writable) socket.end();
      })();
    });
  });
}
