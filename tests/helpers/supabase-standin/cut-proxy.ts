/**
 * A loopback TCP proxy in front of the Supabase stand-in that misbehaves like a bad network, for the
 * resumable-upload tests and benches:
 *
 *   - `cutNextUpload(afterBytes)`: the next PATCH (a TUS chunk) has its connection cut, both ways,
 *     once `afterBytes` bytes of its body have gone through: the server keeps what arrived, the
 *     client sees the connection reset mid-chunk and has to ask the server where to resume;
 *   - `down()` / `up()`: the port stops answering (connections refused, open ones dropped) and comes
 *     back on the same port;
 *   - `patches`: every PATCH seen, with its `Upload-Offset`, declared length and the body bytes that
 *     went through, so a test can count the chunk bytes sent again after a resume
 *     (`forwardedPatchBytes() - file size`).
 *
 * It reads just enough HTTP/1.1 on the way in (request line, headers, Content-Length) to find where
 * each request's body starts and ends on a kept-alive connection; a chunked request body is passed
 * through uncounted. Responses pass through untouched. The Host header is not rewritten, so the TUS
 * server hands out upload URLs on the proxy's port and every later request comes through here too.
 */
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

export interface PatchRecord {
  /** The request path (the upload URL's). */
  readonly path: string;
  /** The Upload-Offset the client sent. */
  readonly offset: number;
  /** The Content-Length the client declared. */
  readonly length: number;
  /** Body bytes passed to the server. */
  forwarded: number;
  /** Whether this proxy cut the connection in the middle of this body. */
  cut: boolean;
}

export interface CutProxy {
  /** http://127.0.0.1:<port>: use it in place of the stand-in's url. */
  readonly url: string;
  readonly patches: readonly PatchRecord[];
  /** The next PATCH is cut after this many body bytes have gone through (one shorter passes whole; the cut is spent). */
  cutNextUpload(afterBytes: number): void;
  /**
   * Client → server bytes (every connection together) at most this many per second, like a home
   * uplink; null: as fast as loopback goes.
   */
  limitUplink(bytesPerSecond: number | null): void;
  /** Body bytes of every PATCH passed to the server so far. */
  forwardedPatchBytes(): number;
  /** Forget the PATCHes seen so far. */
  resetCounts(): void;
  /** Stop listening and drop every open connection (a network gone). */
  down(): Promise<void>;
  /** Listen again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** One client connection: forwards to the target, watching request boundaries. */
function pipeConnection(
  client: Socket,
  target: { host: string; port: number },
  proxy: { patches: PatchRecord[]; takeCut(): number | null; reserve(bytes: number): number },
  sockets: Set<Socket>,
): void {
  const upstream = createConnection(target);
  sockets.add(upstream);
  upstream.on('close', () => sockets.delete(upstream));
  let head = Buffer.alloc(0);
  let state: 'head' | 'body' | 'opaque' | 'dead' = 'head';
  let remaining = 0;
  let record: PatchRecord | null = null;
  let cutAt: number | null = null;

  const kill = () => {
    state = 'dead';
    client.destroy();
    upstream.destroy();
  };
  upstream.on('error', () => kill());
  client.on('error', () => kill());
  upstream.on('close', () => client.destroy());
  client.on('close', () => upstream.destroy());
  upstream.on('data', (d: Buffer) => {
    if (state !== 'dead' && !client.write(d)) upstream.pause();
  });
  client.on('drain', () => upstream.resume());
  // The client waits while the server is slower (a 200 MB upload is not held in memory here).
  const toUpstream = (b: Buffer) => {
    if (!upstream.write(b)) client.pause();
  };
  upstream.on('drain', () => client.resume());

  const feed = (chunk: Buffer): void => {
    while (chunk.length > 0 && state !== 'dead') {
      if (state === 'opaque') {
        toUpstream(chunk);
        return;
      }
      if (state === 'head') {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf(HEAD_END);
        if (end < 0) return;
        const headBytes = head.subarray(0, end + 4);
        chunk = head.subarray(end + 4);
        head = Buffer.alloc(0);
        const lines = headBytes.toString('latin1').split('\r\n');
        const [method = '', path = ''] = lines[0]!.split(' ');
        const headers = new Map<string, string>();
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
        }
        toUpstream(headBytes);
        if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
          state = 'opaque';
          continue;
        }
        remaining = Number(headers.get('content-length') ?? 0) || 0;
        record = null;
        cutAt = null;
        if (method === 'PATCH') {
          record = { path, offset: Number(headers.get('upload-offset') ?? NaN), length: remaining, forwarded: 0, cut: false };
          proxy.patches.push(record);
          cutAt = proxy.takeCut();
        }
        state = remaining > 0 ? 'body' : 'head';
        continue;
      }
      // body
      let take = Math.min(remaining, chunk.length);
      if (record && cutAt !== null && record.forwarded + take >= cutAt) {
        take = cutAt - record.forwarded;
        record.forwarded += take;
        record.cut = true;
        state = 'dead';
        upstream.write(chunk.subarray(0, take), () => {
          client.destroy();
          upstream.destroy();
        });
        return;
      }
      toUpstream(chunk.subarray(0, take));
      if (record) record.forwarded += take;
      remaining -= take;
      chunk = chunk.subarray(take);
      if (remaining === 0) state = 'head';
    }
  };
  client.on('data', (chunk: Buffer) => {
    const wait = proxy.reserve(chunk.length);
    if (wait <= 0) return feed(chunk);
    // An uplink of limited speed: this chunk passes when the link has carried what came before it.
    client.pause();
    setTimeout(() => {
      feed(chunk);
      if (state !== 'dead') client.resume();
    }, wait);
  });
}

export async function startCutProxy(target: string): Promise<CutProxy> {
  const t = new URL(target);
  const to = { host: t.hostname, port: Number(t.port) };
  const patches: PatchRecord[] = [];
  const sockets = new Set<Socket>();
  let nextCut: number | null = null;
  let uplink: number | null = null;
  let linkFreeAt = 0;
  const state = {
    patches,
    takeCut() {
      const n = nextCut;
      nextCut = null;
      return n;
    },
    /** Milliseconds until `bytes` more have crossed the uplink (0 without a limit); books them. */
    reserve(bytes: number): number {
      if (!uplink) return 0;
      const now = performance.now();
      linkFreeAt = Math.max(linkFreeAt, now) + (bytes * 1000) / uplink;
      return linkFreeAt - now;
    },
  };
  let server: Server | null = null;
  let port = 0;

  const up = () =>
    new Promise<void>((resolve, reject) => {
      if (server) return resolve();
      const s = createServer((client) => {
        sockets.add(client);
        client.on('close', () => sockets.delete(client));
        pipeConnection(client, to, state, sockets);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });
  const down = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = null;
      for (const sock of sockets) sock.destroy();
      if (!s) return resolve();
      s.close(() => resolve());
    });

  await up();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    patches,
    cutNextUpload(afterBytes) {
      nextCut = afterBytes;
    },
    limitUplink(bytesPerSecond) {
      uplink = bytesPerSecond;
      linkFreeAt = 0;
    },
    forwardedPatchBytes() {
      return patches.reduce((n, p) => n + p.forwarded, 0);
    },
    resetCounts() {
      patches.length = 0;
    },
    down,
    up,
    close: down,
  };
}
