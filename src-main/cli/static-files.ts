/**
 * Serves the built renderer (`out/renderer`) to the browser: correct MIME types, no way out of the
 * folder (decoded, normalised and real-path checked), `index.html` for app routes, and a page that
 * says how to build when there is nothing to serve yet.
 *
 * Source maps are never served (404), though the build writes them: they stay on disk for the
 * Electron window (`npm start` loads the same build through studio://, where DevTools maps stack
 * traces to the TypeScript) and for reading a stack trace by hand, while the packaged app leaves
 * them out (electron-builder.yml) and `electron-vite dev` serves its own from memory.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { requestTarget } from './http-guard.ts';

export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

/** A source map (`x.js.map`, any case): never served. */
export function isSourceMap(file: string): boolean {
  return path.extname(file).toLowerCase() === '.map';
}

export function mimeType(file: string): string {
  return MIME_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The file a URL path names inside `root`, or null when it would leave `root` (`..`, encoded
 * slashes or backslashes, NUL). Pure: the real-path check against symlinks happens when serving.
 */
export function resolveInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  if (decoded.split('/').some((seg) => seg === '..')) return null;
  const resolved = path.resolve(root, `.${path.posix.normalize(`/${decoded}`)}`);
  return resolved === root || resolved.startsWith(root + path.sep) ? resolved : null;
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OurVidz Studio: not built yet</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>The app is not built yet</h1>
<p>The studio API is running, but there is no built app to show. In the project folder run</p>
<pre>npm run build</pre>
<p>then reload this page (the server picks the build up without a restart).</p>
</body></html>
`;

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(head ? undefined : body);
}

async function fileStat(p: string): Promise<import('node:fs').Stats | null> {
  try {
    return await stat(p);
  } catch {
    return null;
  }
}

export async function serveStatic(req: IncomingMessage, res: ServerResponse, rootDir: string): Promise<void> {
  const head = req.method === 'HEAD';
  if (req.method !== 'GET' && !head) {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n', head);
    return;
  }
  const root = path.resolve(rootDir);
  const index = path.join(root, 'index.html');
  if (!(await fileStat(index))?.isFile()) {
    send(res, 503, 'text/html; charset=utf-8', NOT_BUILT_PAGE, head);
    return;
  }
  const urlPath = requestTarget(req.url)?.pathname ?? null;
  let file = urlPath === null ? null : resolveInside(root, urlPath);
  if (file === null || urlPath === null) {
    send(res, 404, 'text/plain; charset=utf-8', 'Not found\n', head);
    return;
  }
  let st = await fileStat(file);
  if (st?.isDirectory()) {
    file = path.join(file, 'index.html');
    st = await fileStat(file);
  }
  if (!st?.isFile()) {
    // App routes (no extension) get the app; a missing asset stays a 404 so the failure is visible.
    if (path.extname(urlPath) !== '') {
      send(res, 404, 'text/plain; charset=utf-8', 'Not found\n', head);
      return;
    }
    file = index;
    st = await fileStat(file);
    if (!st?.isFile()) {
      send(res, 503, 'text/html; charset=utf-8', NOT_BUILT_PAGE, head);
      return;
    }
  }
  const [realRoot, realFile] = await Promise.all([realpath(root), realpath(file)]);
  // Checked on the file about to be sent, however the URL spelt it (%2Emap, .MAP, a link to one).
  if (isSourceMap(file) || isSourceMap(realFile) || (realFile !== realRoot && !realFile.startsWith(realRoot + path.sep))) {
    send(res, 404, 'text/plain; charset=utf-8', 'Not found\n', head);
    return;
  }
  const hashed = file !== index && /\/assets\//.test(urlPath);
  res.writeHead(200, {
    'Content-Type': mimeType(file),
    'Content-Length': st.size,
    'Cache-Control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
  });
  if (head) {
    res.end();
    return;
  }
  const stream = createReadStream(realFile);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
