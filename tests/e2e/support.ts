/**
 * What the Chromium tests (and the Library UI bench) share: `studio serve` with the real engine and
 * the test-only pipeline (tests/fixtures/serve-host.ts), Debian's Chromium through playwright-core,
 * polling helpers, and screenshots.
 *
 * Screenshots go to out/screenshots/ (git-ignored), so a test run leaves the tree as it was; with
 * UPDATE_SCREENSHOTS=1 they replace the committed ones in docs/screenshots/.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, LaunchOptions, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { JobView } from '../../src-preload/contract/index.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const RENDERER_INDEX = path.join(ROOT, 'out/renderer/index.html');
const SERVE_HOST = path.join(ROOT, 'tests/fixtures/serve-host.ts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const UI_TIMEOUT = 30_000;
export const VIEWPORT = { width: 1360, height: 860 };

export interface Host {
  /** The server's origin (`http://127.0.0.1:<port>`). */
  readonly url: string;
  readonly token: string;
  /** The link the studio prints: the origin with the token in its fragment. */
  readonly openUrl: string;
  /**
   * POST /api/<channel> as any client of `studio serve` does (the page is driven by clicks; this
   * sets the scene and checks what the UI did).
   */
  api<T = unknown>(channel: string, params?: unknown): Promise<T>;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

export interface HostOptions {
  /** The engine's data folder. */
  readonly dataDir: string;
  /** More serve-host flags (`--max-attempts 1`, `--enhancer`). */
  readonly args?: readonly string[];
  /** More environment (OURVIDZ_TEST_STEP_MS: how long the test pipeline's steps take). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts serve-host on the built renderer and waits for the JSON line it prints when listening. */
export async function startHost({ dataDir, args = [], env = {} }: HostOptions): Promise<Host> {
  if (!existsSync(RENDERER_INDEX)) {
    throw new Error(`${path.relative(ROOT, RENDERER_INDEX)} is missing: build the renderer first with \`npx electron-vite build\` (npm test does this).`);
  }
  const child = spawn(process.execPath, [SERVE_HOST, '--data', dataDir, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`serve-host exited (${code}) before printing its URL:\n${stderr}`)));
    child.once('error', reject);
  });
  const ready = JSON.parse(line) as { url: string; token: string; openUrl?: string };
  return {
    url: ready.url,
    token: ready.token,
    openUrl: ready.openUrl ?? `${ready.url}/#token=${ready.token}`,
    async api<T>(channel: string, params: unknown = {}): Promise<T> {
      const res = await fetch(`${ready.url}/api/${channel}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ready.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(params),
      });
      if (!res.ok) throw new Error(`${channel}: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Waits (outside a test: set-up) until the jobs are done; throws if one fails or is cancelled. */
export async function jobsDone(host: Host, ids: readonly string[], timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const jobs = await Promise.all(ids.map((id) => host.api<JobView>('jobs.get', { id })));
    const ended = jobs.find((j) => j.status.state === 'failed' || j.status.state === 'cancelled');
    if (ended) throw new Error(`job ${ended.id} (${ended.type}), meant to fill the library, ended ${ended.status.state}`);
    if (jobs.every((j) => j.status.state === 'done')) return;
    if (Date.now() > end) throw new Error(`timed out waiting for jobs; last saw ${JSON.stringify(jobs.map((j) => j.status.state))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How every test starts Chromium: headless, no sandbox, no GPU, nothing fetched in the background. */
export function chromiumLaunchOptions(extraArgs: readonly string[] = []): LaunchOptions {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium or set CHROMIUM_PATH.`);
  return {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', ...extraArgs],
  };
}

export interface BrowserSession {
  readonly browser: Browser;
  /** The context of `page` (1360×860, device scale 1). */
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught errors in the page, collected for a test to check it saw none. */
  readonly pageErrors: string[];
  close(): Promise<void>;
}

/** Launches Chromium with one page: UI_TIMEOUT for its waits, its uncaught errors collected. */
export async function launchBrowser({ args = [] }: { args?: readonly string[] } = {}): Promise<BrowserSession> {
  const browser = await chromium.launch(chromiumLaunchOptions(args));
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return { browser, context, page, pageErrors, close: () => browser.close() };
}

/** Polls what the page shows until it matches (the engine works at its own pace). */
export const until = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: UI_TIMEOUT, interval: 50 });

/**
 * Saves a picture of the page as <name>.png: in docs/screenshots/ when UPDATE_SCREENSHOTS=1, else
 * in out/screenshots/ (git-ignored), so running the tests does not rewrite the committed pictures.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = path.join(ROOT, process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/screenshots' : 'out/screenshots');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * Records every status text the job status under `selector` shows, so states that pass quickly are
 * still seen, in order; read them with recordedStatuses. (Browser code, kept as text: the tests are
 * type-checked without the DOM library.)
 */
export async function recordStatuses(page: Page, selector: string): Promise<void> {
  await page.evaluate(`(() => {
    const seen = (window.__statuses = []);
    const read = () => {
      const el = document.querySelector(${JSON.stringify(selector)});
      const text = el ? el.textContent : null;
      if (text !== null && seen[seen.length - 1] !== text) seen.push(text);
    };
    read();
    new MutationObserver(read).observe(document.body, { subtree: true, childList: true, characterData: true });
  })()`);
}

export const recordedStatuses = (page: Page) => page.evaluate('window.__statuses') as Promise<string[]>;
