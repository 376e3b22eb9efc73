/**
 * Settings end to end in a real browser: the built renderer (out/renderer) served by `studio serve`
 * with the real engine (tests/fixtures/serve-host.ts), driven in Debian's Chromium.
 *
 * A person opens Settings, adds a model folder (typed: a browser has no folder dialog) and sees it
 * listed with its model, and the Models view shows that model without a restart; a folder that does
 * not exist is refused at the field; the VRAM budget set here is the one the status bar reports; the
 * ffmpeg Check shows the version found (or the install advice). A screenshot of the view is written
 * to docs/screenshots/settings.png.
 *
 * Needs `electron-vite build` first (npm test runs it).
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const RENDERER_INDEX = path.join(ROOT, 'out/renderer/index.html');
const SERVE_HOST = path.join(ROOT, 'tests/fixtures/serve-host.ts');
const SCREENSHOTS = path.join(ROOT, 'docs/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const UI_TIMEOUT = 30_000;

const hasFfmpeg = (() => {
  try {
    execFileSync('ffmpeg', ['-hide_banner', '-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface Host {
  readonly child: ChildProcess;
  readonly openUrl: string;
  /** POST /api/<channel> as a script would (the page is driven by clicks; this only sets the scene). */
  call(channel: string, params?: unknown): Promise<unknown>;
}

async function startServeHost(dataDir: string): Promise<Host> {
  const child = spawn(process.execPath, [SERVE_HOST, '--data', dataDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`serve-host exited (${code}) before printing its URL:\n${stderr}`)));
    child.once('error', reject);
  });
  const ready = JSON.parse(line) as { url: string; token: string; openUrl?: string };
  const call = async (channel: string, params?: unknown): Promise<unknown> => {
    const res = await fetch(`${ready.url}/api/${channel}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ready.token}`, 'Content-Type': 'application/json' },
      body: params === undefined ? '' : JSON.stringify(params),
    });
    const body = (await res.json()) as unknown;
    if (!res.ok) throw new Error(`${channel}: ${JSON.stringify(body)}`);
    return body;
  };
  return { child, openUrl: ready.openUrl ?? `${ready.url}/#token=${ready.token}`, call };
}

async function stopServeHost(host: Host | null): Promise<void> {
  if (!host || host.child.exitCode !== null) return;
  const exited = new Promise((resolve) => host.child.once('exit', resolve));
  host.child.kill('SIGTERM');
  await exited;
}

const until = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: UI_TIMEOUT, interval: 50 });

describe('Settings, live in the browser against studio serve', () => {
  let root = '';
  let modelsDir = '';
  let host: Host | null = null;
  let browser: Browser | null = null;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(RENDERER_INDEX)) {
      throw new Error(`${path.relative(ROOT, RENDERER_INDEX)} is missing: build the renderer first with \`npx electron-vite build\` (npm test does this).`);
    }
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium or set CHROMIUM_PATH.`);
    root = await mkdtemp(path.join(tmpdir(), 'ourvidz-e2e-settings-'));
    // A folder on "another drive" holding one SDXL export (its index only: listed, not usable).
    modelsDir = path.join(root, 'external', 'onnx-models');
    await mkdir(path.join(modelsDir, 'juggernaut-xl'), { recursive: true });
    await writeFile(path.join(modelsDir, 'juggernaut-xl', 'model_index.json'), JSON.stringify({ _class_name: 'StableDiffusionXLPipeline' }));
    host = await startServeHost(path.join(root, 'data'));
    // Something in the library, so Disk use has buckets to show.
    for (const [type, prompt] of [
      ['sdxl_image_fast', 'A lighthouse on a basalt cliff at dusk'],
      ['image_fast', 'Misty pine forest at sunrise'],
    ] as const) {
      const job = (await host.call('jobs.enqueue', { request: { type, prompt, steps: 2, width: 512, height: 512 } })) as { id: string };
      for (let state = ''; state !== 'done'; ) {
        state = ((await host.call('jobs.get', { id: job.id })) as { status: { state: string } }).status.state;
        if (state === 'failed' || state === 'cancelled') throw new Error(`the ${type} job meant to fill the library ended ${state}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
    page = await browser.newPage({ viewport: { width: 1360, height: 860 }, deviceScaleFactor: 1 });
    page.setDefaultTimeout(UI_TIMEOUT);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.goto(host.openUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await page.getByRole('tab', { name: /Settings/ }).click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await stopServeHost(host);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('adds a model folder, lists it with its model, and the Models view has the model at once', async () => {
    const folders = page.getByRole('list', { name: 'Model folders' });
    await folders.locator('li').first().waitFor();
    expect(await folders.locator('li').count()).toBe(1);
    await expect(folders.locator('li').first().textContent()).resolves.toContain('Always scanned');

    await page.getByLabel('Model folder to add').fill(modelsDir);
    await page.getByRole('button', { name: 'Add folder' }).click();
    const added = folders.locator(`li[data-folder="${modelsDir}"]`);
    await until(() => added.getByTestId('folder-status').textContent()).toBe('1 model, 0 ready');
    expect(await page.getByLabel('Model folder to add').inputValue()).toBe('');

    await page.getByRole('button', { name: 'Open the Models view' }).click();
    await page.getByRole('heading', { name: 'Models', level: 1 }).waitFor();
    await page.locator('tr[data-model-id="juggernaut-xl"]').waitFor();
    await page.getByRole('tab', { name: /Settings/ }).click();
  });

  it('refuses a folder that does not exist, at the field, and keeps the list as it was', async () => {
    const input = page.getByLabel('Model folder to add');
    await input.fill(path.join(root, 'unplugged-drive'));
    await input.press('Enter');
    const error = page.getByRole('alert').filter({ hasText: 'this folder does not exist' });
    await error.waitFor();
    expect(await input.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('list', { name: 'Model folders' }).locator('li').count()).toBe(2);
    // Editing the path clears the complaint.
    await input.fill('');
    await until(() => error.count()).toBe(0);
  });

  it('sets a fixed VRAM budget that the status bar reports at once, and refuses one too small', async () => {
    const budget = page.getByRole('radiogroup', { name: 'How the budget is set' });
    // The choice is saved at once; the number field appears when the engine has taken it.
    await budget.getByLabel('Fixed').click();
    const input = page.getByLabel('VRAM budget', { exact: true });
    await input.waitFor();
    expect(await budget.getByLabel('Fixed').isChecked()).toBe(true);
    await input.fill('6144');
    await input.press('Enter');
    await until(() => page.getByTestId('gpu-budget').textContent()).toBe('budget 6.0 GB');

    await input.fill('100');
    await input.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'Must be at least 512 MB' }).waitFor();
    expect(await page.getByTestId('gpu-budget').textContent()).toBe('budget 6.0 GB');
    await input.fill('6144');
    await input.press('Enter');
  });

  it('keeps a provider order of my own, moved with the arrows', async () => {
    await page.getByRole('radiogroup', { name: 'How providers are chosen' }).getByLabel('My order').click();
    const order = page.getByRole('list', { name: 'Provider order' });
    await order.waitFor();
    const ticked = async () =>
      order.locator('li.provider--on').evaluateAll((items) => items.map((li) => li.textContent?.replace(/[↑↓]/g, '').trim()));
    const first = await ticked();
    expect(first.at(-1)).toBe('CPU');
    await order.getByRole('button', { name: 'Move CPU up' }).click();
    await until(ticked).toEqual([...first.slice(0, -2), 'CPU', first.at(-2)]);
    // Unticking every provider is refused at the field: a job needs at least one.
    for (const name of await ticked()) await order.getByRole('checkbox', { name: name!, exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'at least one provider' }).waitFor();
    expect((await ticked()).length).toBe(1);
    // Back to the platform's order, as a list of my own.
    await page.getByRole('radiogroup', { name: 'How providers are chosen' }).getByLabel('Automatic').click();
    await until(() => order.count()).toBe(0);
    await page.getByRole('radiogroup', { name: 'How providers are chosen' }).getByLabel('My order').click();
    await until(ticked).toEqual(first);
  });

  it('checks ffmpeg and shows what was found', async () => {
    const video = page.getByRole('region', { name: 'Video' });
    await video.getByRole('button', { name: 'Check' }).click();
    const result = video.getByRole('list', { name: 'ffmpeg check' });
    if (hasFfmpeg) {
      await until(() => result.textContent()).toMatch(/ffmpeg \S+ at \S+ \(from PATH\), with libx264 and ffprobe\./);
    } else {
      await until(() => result.textContent()).toContain('none was found on PATH');
    }
  });

  it('runs every check and shows each result in its section', async () => {
    await page.getByRole('button', { name: 'Check everything' }).click();
    await page.getByRole('list', { name: 'Provider check' }).getByText('This onnxruntime build has').waitFor();
    await page.getByRole('list', { name: 'GPU check' }).waitFor();
    await until(() => page.getByRole('button', { name: 'Check everything' }).isEnabled()).toBe(true);
  });

  it('takes a screenshot of the whole view', async () => {
    await page.getByRole('tab', { name: /Settings/ }).click();
    await page.mouse.move(0, 0);
    await page.setViewportSize({ width: 1360, height: 2150 });
    await page.getByRole('table', { name: 'Disk use per bucket' }).waitFor();
    expect(await page.getByRole('table', { name: 'Disk use per bucket' }).textContent()).toContain('SDXL');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'settings.png') });
    expect(pageErrors).toEqual([]);
  });
});
