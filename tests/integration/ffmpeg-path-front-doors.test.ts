/**
 * The ffmpeg setting names a program the engine runs, so the renderer's front doors cannot set it:
 * the app window through the IPC gateway, and a browser (or anything holding the token) through
 * `studio serve`. Both answer with the sentence that says where it is set; nothing is stored and
 * nothing is run. Clearing it still works from both, and the CLI still sets it. The real engine,
 * the real gateway (over the typed electron mock) and the real HTTP server.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerIpcGateway } from '../../src-main/app/ipc-gateway.ts';
import { APP_URL } from '../../src-main/app/origin.ts';
import { startServer } from '../../src-main/cli/serve.ts';
import type { RunningServer } from '../../src-main/cli/serve.ts';
import { Engine } from '../../src-main/engine/engine.ts';
import { FFMPEG_PATH_NOT_FROM_WINDOW } from '../../src-preload/contract/settings.ts';
import { MockIpcMain, mainFrame } from '../helpers/electron-mock.ts';
import { studio } from '../helpers/cli.ts';

const posix = process.platform !== 'win32';
let root: string;
let engine: Engine | null = null;
let server: RunningServer | null = null;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'studio-ffmpeg-doors-'));
});
afterEach(async () => {
  await server?.close();
  server = null;
  await engine?.close();
  engine = null;
  rmSync(root, { recursive: true, force: true });
});

/**
 * What an attacker would name: a program called ffmpeg (so the name rule alone would let it run)
 * that leaves a mark when run.
 */
function payload(): { dir: string; file: string; ran: string } {
  const dir = path.join(root, 'Downloads', 'payload');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'ffmpeg');
  const ran = path.join(root, 'payload-ran');
  writeFileSync(file, `#!/bin/sh\ntouch '${ran}'\necho 'ffmpeg version 9.9'\n`, { mode: 0o755 });
  return { dir, file, ran };
}

async function open() {
  engine = await Engine.open({ dataDir: path.join(root, 'data'), frontDoor: 'serve', role: 'runner' });
  const ipcMain = new MockIpcMain();
  registerIpcGateway({ ipcMain, handlers: engine.handlers, appUrl: APP_URL });
  const rendererDir = path.join(root, 'renderer');
  mkdirSync(rendererDir, { recursive: true });
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>OurVidz Studio</title>');
  server = await startServer(engine, { rendererDir });
  const s = server;
  return {
    engine,
    window: (params: unknown) => ipcMain.invoke('settings.update', mainFrame(APP_URL), params),
    browser: async (params: unknown) => {
      const res = await fetch(`${s.url}/api/settings.update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${s.token}` },
        body: JSON.stringify(params),
      });
      return { status: res.status, body: (await res.json()) as unknown };
    },
    settingsFile: () => (existsSync(path.join(root, 'data', 'settings.json')) ? readFileSync(path.join(root, 'data', 'settings.json'), 'utf8') : null),
  };
}

describe.skipIf(!posix)('the ffmpeg program cannot be named by the window or a browser', () => {
  it('the app window gets the sentence, and nothing is stored or run', async () => {
    const doors = await open();
    const evil = payload();
    const before = doors.settingsFile();
    for (const value of [evil.file, evil.dir]) {
      expect(await doors.window({ ffmpegPath: value })).toEqual({
        ok: false,
        error: { code: 'invalid_params', message: FFMPEG_PATH_NOT_FROM_WINDOW, field: 'ffmpegPath' },
      });
    }
    expect(FFMPEG_PATH_NOT_FROM_WINDOW).toContain('Choose ffmpeg…');
    expect(FFMPEG_PATH_NOT_FROM_WINDOW).toContain('studio settings set ffmpegPath');
    expect(doors.settingsFile()).toBe(before);
    expect(doors.engine.settings.get('ffmpegPath')).toBeNull();
    const [item] = await doors.engine.handlers['settings.check']({ only: ['ffmpeg'] });
    expect(item!.detail).not.toContain(evil.file);
    expect(existsSync(evil.ran)).toBe(false);
  });

  it('studio serve answers 400 with the same sentence, and nothing is stored or run', async () => {
    const doors = await open();
    const evil = payload();
    const answer = await doors.browser({ ffmpegPath: evil.file });
    expect(answer).toEqual({ status: 400, body: { error: { code: 'invalid_params', message: FFMPEG_PATH_NOT_FROM_WINDOW, field: 'ffmpegPath' } } });
    expect(doors.engine.settings.get('ffmpegPath')).toBeNull();
    await doors.engine.handlers['settings.check']({ only: ['ffmpeg'] });
    expect(existsSync(evil.ran)).toBe(false);
  });

  it("the engine's own handler refuses a path even when the schema was skipped", async () => {
    const doors = await open();
    const evil = payload();
    const refused = await doors.engine.handlers['settings.update']({ ffmpegPath: evil.file } as never).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'invalid_setting', field: 'ffmpegPath', message: FFMPEG_PATH_NOT_FROM_WINDOW });
    expect(doors.engine.settings.get('ffmpegPath')).toBeNull();
  });

  it('the CLI sets it (and refuses a program of another name), and both doors can clear it', async () => {
    const doors = await open();
    const evil = payload();
    const data = path.join(root, 'data');
    const wrong = path.join(evil.dir, 'not-ffmpeg');
    writeFileSync(wrong, '#!/bin/sh\n', { mode: 0o755 });
    const refusedByCli = await studio(['--data', data, 'settings', 'set', 'ffmpegPath', wrong]);
    expect(refusedByCli.code).toBe(2);
    expect(refusedByCli.stderr).toContain('only a file named ffmpeg is run as ffmpeg (this one is named not-ffmpeg)');

    const set = await studio(['--data', data, 'settings', 'set', 'ffmpegPath', evil.dir]);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout).toBe(`ffmpegPath = ${evil.dir}\n`);
    // The open engine sees the CLI's write (the file is watched); the window clears it again.
    await expect.poll(() => doors.engine.settings.get('ffmpegPath'), { timeout: 15_000 }).toBe(evil.dir);
    const cleared = (await doors.window({ ffmpegPath: null })) as { ok: boolean; value: { values: { ffmpegPath: unknown } } };
    expect(cleared.ok).toBe(true);
    expect(cleared.value.values.ffmpegPath).toBeNull();

    await doors.engine.settings.update({ ffmpegPath: evil.dir });
    expect((await doors.browser({ ffmpegPath: null })).status).toBe(200);
    expect(doors.engine.settings.get('ffmpegPath')).toBeNull();
  });
});
