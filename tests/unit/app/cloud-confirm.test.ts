/**
 * The window cannot silently point the cloud mirror at another project: through the real IPC
 * gateway (the typed electron mock), `sync.configure` with a different URL while one is set opens
 * main's native dialog, and only "Change project" lets it through. The first project, the same one
 * again, and a refused dialog's Keep are checked too.
 */
import type { MessageBoxOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { cloudChangeDialog, confirmCloudProjectChange } from '../../../src-main/app/cloud-confirm.ts';
import { registerIpcGateway } from '../../../src-main/app/ipc-gateway.ts';
import { CHANNELS } from '../../../src-preload/contract/index.ts';
import type { CloudStatus, Handlers } from '../../../src-preload/contract/index.ts';
import { MockIpcMain, mainFrame } from '../../helpers/electron-mock.ts';

const APP_URL = 'studio://app/index.html';
const appFrame = mainFrame(APP_URL);
const KEY = 'eyJhbGciOiJIUzI1NiJ9.anon-key-of-the-project';
const HOME = 'https://home1234.supabase.co';
const OTHER = 'https://attacker99.supabase.co';

/** Engine handlers holding a project URL: sync.status reads it, sync.configure sets it. */
function world(initial: string | null, answer: number) {
  let url = initial;
  const configured: unknown[] = [];
  const handlers = Object.fromEntries(CHANNELS.map((c) => [c, async () => ({})])) as unknown as Handlers;
  handlers['sync.status'] = async () => ({ url }) as CloudStatus;
  handlers['sync.configure'] = async (params) => {
    configured.push(params);
    url = 'url' in params ? params.url.replace(/\/+$/, '') : (JSON.parse(params.json) as { url: string }).url;
    return { url } as CloudStatus;
  };
  const showMessageBox = vi.fn(async (_options: MessageBoxOptions) => ({ response: answer }));
  const log = vi.fn();
  const ipcMain = new MockIpcMain();
  registerIpcGateway({ ipcMain, handlers: confirmCloudProjectChange(handlers, { showMessageBox, log }), appUrl: APP_URL });
  return { ipcMain, showMessageBox, configured, log, url: () => url };
}

describe('changing the cloud project from the window', () => {
  it('asks in a native dialog; Keep (the default, and Escape) leaves the project as it was and says so', async () => {
    const w = world(HOME, 0);
    const answer = await w.ipcMain.invoke('sync.configure', appFrame, { url: OTHER, anonKey: KEY });
    expect(answer).toEqual({
      ok: false,
      error: { code: 'cancelled', message: `the cloud project was not changed: it is still ${HOME} (the change to ${OTHER} was not confirmed)` },
    });
    expect(w.configured).toEqual([]);
    expect(w.url()).toBe(HOME);
    expect(w.showMessageBox).toHaveBeenCalledTimes(1);
    const options = w.showMessageBox.mock.calls[0]![0];
    expect(options).toEqual(cloudChangeDialog(HOME, OTHER));
    expect(options.message).toBe(`Mirror this library to ${OTHER} instead of ${HOME}?`);
    expect(options.buttons![options.defaultId!]).toBe(`Keep ${HOME}`);
    expect(options.cancelId).toBe(options.defaultId);
  });

  it('"Change project" lets the change through to the engine', async () => {
    const w = world(HOME, 1);
    const answer = await w.ipcMain.invoke('sync.configure', appFrame, { url: OTHER, anonKey: KEY });
    expect(answer).toEqual({ ok: true, value: { url: OTHER } });
    expect(w.configured).toEqual([{ url: OTHER, anonKey: KEY }]);
    expect(w.showMessageBox).toHaveBeenCalledTimes(1);
  });

  it('a pasted ourvidz-sync.json naming another project asks too', async () => {
    const w = world(HOME, 0);
    const answer = (await w.ipcMain.invoke('sync.configure', appFrame, { json: JSON.stringify({ url: `${OTHER}/`, anonKey: KEY }) })) as { ok: boolean };
    expect(answer.ok).toBe(false);
    expect(w.showMessageBox).toHaveBeenCalledTimes(1);
    expect(w.url()).toBe(HOME);
  });

  it('asks nothing for the first project, nor for the same project again (a trailing slash is the same project)', async () => {
    const first = world(null, 0);
    expect(await first.ipcMain.invoke('sync.configure', appFrame, { url: HOME, anonKey: KEY })).toEqual({ ok: true, value: { url: HOME } });
    expect(await first.ipcMain.invoke('sync.configure', appFrame, { url: `${HOME}/`, anonKey: `${KEY}x` })).toEqual({ ok: true, value: { url: HOME } });
    expect(first.showMessageBox).not.toHaveBeenCalled();
    expect(first.configured).toHaveLength(2);
  });

  it('leaves a config the engine refuses to the engine, with no dialog', async () => {
    const w = world(HOME, 1);
    await w.ipcMain.invoke('sync.configure', appFrame, { json: '{"url": "ftp://x", "anonKey": "short"}' });
    expect(w.showMessageBox).not.toHaveBeenCalled();
  });
});
