/**
 * Models → Add model… with a WAN 2.1 model from ComfyUI's files, end to end in a real browser: the
 * built renderer served by `studio serve` with the real engine (tests/fixtures/serve-host.ts),
 * driven in Debian's Chromium. The tiny WAN (the real architecture, random weights) is written as
 * ComfyUI's three files; the transformer's path is typed into the dialog, which says what it is and
 * asks for the text encoder and the VAE; with them chosen it shows what each file is, and Add
 * prepares the three as one WAN model that is listed Ready. Needs `electron-vite build` first.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeComfyModels } from '../fixtures/checkpoints/wan-layouts.ts';
import { launchBrowser, startHost, until } from './support.ts';
import type { BrowserSession, Host } from './support.ts';

describe('Models → Add model… with a WAN 2.1 model from ComfyUI files, live in the browser', () => {
  let root = '';
  let files: { transformer: string; textEncoder: string; vae: string };
  let host: Host | null = null;
  let session: BrowserSession | null = null;
  let page: Page;
  let pageErrors: string[];

  const dialog = () => page.getByRole('dialog', { name: 'Add model' });

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'ourvidz-e2e-models-wan-'));
    files = await writeComfyModels(path.join(root, 'ComfyUI', 'models'), { transformerDtype: 'BF16', textDtype: 'F16', vaeDtype: 'BF16' });
    host = await startHost({ dataDir: path.join(root, 'data'), args: ['--max-attempts', '1'] });
    session = await launchBrowser();
    ({ page, pageErrors } = session);
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(host.openUrl);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    await host?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('asks for the parts a WAN transformer needs, shows what each file is, and prepares the three as one model', async () => {
    await page.getByRole('tab', { name: /Models/ }).click();
    await page.getByRole('heading', { name: 'Models', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Add model…' }).first().click();
    await dialog().waitFor();
    await dialog().getByLabel('Checkpoint file or diffusers folder').fill(files.transformer);

    const found = dialog().getByTestId('model-found');
    await until(() => found.locator('.add-model-description').textContent()).toMatch(/^WAN 2\.1 T2V transformer \(256 wide, 2 blocks\), bf16, \d+ MB — choose its text encoder and VAE too$/);
    expect(await found.locator('.add-model-kind').textContent()).toBe('One part of a WAN 2.1 model');
    const add = dialog().getByRole('button', { name: 'Add', exact: true });
    expect(await add.isDisabled()).toBe(true);

    await dialog().getByLabel('Text encoder file').fill(files.textEncoder);
    const set = dialog().getByTestId('wan-set');
    await until(() => set.getByRole('status').textContent()).toBe('Still needed: VAE.');
    await dialog().getByLabel('VAE file').fill(files.vae);
    await until(() => set.locator('.add-model-description').textContent()).toMatch(/^WAN 2\.1 T2V \(256 wide, 2 blocks\), bf16, \d+ MB \(chosen files\)$/);
    const parts = await set.getByRole('list', { name: 'Parts found' }).locator('li').allTextContents();
    expect(parts.map((p) => p.split(':')[0])).toEqual(['Transformer', 'Text encoder', 'VAE']);
    expect(parts[1]).toMatch(/^Text encoder: UMT5 text encoder \(64 wide, 3 layers\), fp16, .*, tokenizer inside$/);

    await dialog().getByLabel('Name').fill('Tiny WAN');
    await until(() => add.isDisabled()).toBe(false);
    await add.click();
    await until(() => dialog().count()).toBe(0);

    const row = page.locator('tr[data-model-id="tiny-wan"]');
    await row.waitFor({ timeout: 120_000 });
    await until(() => row.locator('.badge').first().textContent()).toBe('Ready');
    expect(pageErrors).toEqual([]);
  });
});
