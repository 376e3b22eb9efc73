/**
 * Settings end to end in a real browser: the built renderer (out/renderer) served by `studio serve`
 * with the real engine (tests/fixtures/serve-host.ts), driven in Debian's Chromium.
 *
 * A person opens Settings, adds a model folder (typed: a browser has no folder dialog) and sees it
 * listed with its model, and the Models view shows that model without a restart; a folder that does
 * not exist is refused at the field; the VRAM budget set here is the one the status bar reports; the
 * ffmpeg Check shows the version found (or the install advice). A screenshot of the view:
 * settings.png (see support.ts's screenshot).
 *
 * Needs `electron-vite build` first (npm test runs it).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src-preload/contract/index.ts';
import { jobsDone, launchBrowser, screenshot, startHost, until } from './support.ts';
import type { BrowserSession, Host } from './support.ts';

const hasFfmpeg = (() => {
  try {
    execFileSync('ffmpeg', ['-hide_banner', '-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('Settings, live in the browser against studio serve', () => {
  let root = '';
  let modelsDir = '';
  let host: Host | null = null;
  let session: BrowserSession | null = null;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'ourvidz-e2e-settings-'));
    // A folder on "another drive" holding one SDXL export (its index only: listed, not usable).
    modelsDir = path.join(root, 'external', 'onnx-models');
    await mkdir(path.join(modelsDir, 'juggernaut-xl'), { recursive: true });
    await writeFile(path.join(modelsDir, 'juggernaut-xl', 'model_index.json'), JSON.stringify({ _class_name: 'StableDiffusionXLPipeline' }));
    host = await startHost({ dataDir: path.join(root, 'data') });
    // Something in the library, so Disk use has buckets to show.
    for (const [type, prompt] of [
      ['sdxl_image_fast', 'A lighthouse on a basalt cliff at dusk'],
      ['image_fast', 'Misty pine forest at sunrise'],
    ] as const) {
      const job = await host.api<JobView>('jobs.enqueue', { request: { type, prompt, steps: 2, width: 512, height: 512 } });
      await jobsDone(host, [job.id]);
    }
    session = await launchBrowser();
    ({ page, pageErrors } = session);
    await page.goto(host.openUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await page.getByRole('tab', { name: /Settings/ }).click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
  });

  afterAll(async () => {
    await session?.close();
    await host?.stop();
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

  it('says where the ffmpeg program is set instead of offering a field, and the page may still clear it', async () => {
    const video = page.getByRole('region', { name: 'Video' });
    expect(await video.getByTestId('ffmpeg-where').textContent()).toContain('studio settings set ffmpegPath /path/to/ffmpeg');
    expect(await video.getByRole('textbox').count()).toBe(0);
    expect(await video.getByRole('button', { name: 'Choose ffmpeg…' }).count()).toBe(0);
    // What the page's own API would send is refused with the sentence; clearing is allowed.
    const refused = await page.evaluate(async ([url, token]) => {
      const res = await fetch(`${url}/api/settings.update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ ffmpegPath: '/bin/sh' }),
      });
      return { status: res.status, body: (await res.json()) as { error: { message: string } } };
    }, [host!.url, host!.token] as const);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('Choose ffmpeg…');
    expect((await host!.api<{ values: { ffmpegPath: unknown } }>('settings.update', { ffmpegPath: null })).values.ffmpegPath).toBeNull();
  });

  it('is served without source maps: the bundle loads, its .map is a 404', async () => {
    const script = await page.locator('script[src]').first().getAttribute('src');
    expect(script).toMatch(/\.js$/);
    const bundle = new URL(script!, host!.url).href;
    expect((await fetch(bundle)).status).toBe(200);
    const map = await fetch(`${bundle}.map`);
    expect(map.status).toBe(404);
  });

  it('runs every check and shows each result in its section', async () => {
    await page.getByRole('button', { name: 'Check everything' }).click();
    await page.getByRole('list', { name: 'Provider check' }).getByText('Usable on this machine:').waitFor();
    await page.getByRole('list', { name: 'GPU check' }).waitFor();
    await until(() => page.getByRole('button', { name: 'Check everything' }).isEnabled()).toBe(true);
  });

  it('takes a screenshot of the whole view', async () => {
    await page.getByRole('tab', { name: /Settings/ }).click();
    await page.mouse.move(0, 0);
    await page.setViewportSize({ width: 1360, height: 2150 });
    await page.getByRole('table', { name: 'Disk use per bucket' }).waitFor();
    expect(await page.getByRole('table', { name: 'Disk use per bucket' }).textContent()).toContain('SDXL');
    await screenshot(page, 'settings');
    expect(pageErrors).toEqual([]);
  });
});
