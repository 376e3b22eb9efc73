/**
 * Settings → Video → Choose ffmpeg…: the native chooser in main, which stores what the person chose
 * in the engine's real settings store. The page never hands over a path; a file that is not an
 * ffmpeg program comes back refused with the store's sentence; no other frame opens a dialog.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { OpenDialogOptions } from 'electron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ffmpegDialogOptions, registerFfmpegPicker } from '../../../src-main/app/ffmpeg-picker.ts';
import { SettingsStore } from '../../../src-main/engine/settings/store.ts';
import { PICK_FFMPEG_CHANNEL } from '../../../src-preload/app-verbs.ts';
import { MockIpcMain, childFrame, mainFrame } from '../../helpers/electron-mock.ts';

const APP_URL = 'studio://app/index.html';
const posix = process.platform !== 'win32';
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'studio-ffmpeg-picker-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function program(rel: string): string {
  const file = path.join(dir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '#!/bin/sh\n', { mode: 0o755 });
  return file;
}

function setup(answer: { canceled: boolean; filePaths: string[] }, platform: NodeJS.Platform = 'linux') {
  const ipcMain = new MockIpcMain();
  const store = new SettingsStore({
    file: path.join(dir, 'settings.json'),
    builtInModelDir: path.join(dir, 'models'),
    libraryRoot: () => path.join(dir, 'library'),
    defaultProviders: () => ['cpu'],
  });
  const showOpenDialog = vi.fn(async (_options: OpenDialogOptions) => answer);
  const log = vi.fn();
  const unregister = registerFfmpegPicker({
    ipcMain,
    appUrl: APP_URL,
    showOpenDialog,
    log,
    platform,
    setFfmpegPath: (file) => store.update({ ffmpegPath: file }),
  });
  return { ipcMain, store, showOpenDialog, log, unregister };
}

describe('Choose ffmpeg…', () => {
  it.skipIf(!posix)('stores the program the person chose in the dialog, and says so', async () => {
    const ffmpeg = program('ffmpeg-7.1/bin/ffmpeg');
    const { ipcMain, store, showOpenDialog } = setup({ canceled: false, filePaths: [ffmpeg] });
    // Whatever the page sends is ignored: it cannot suggest a path.
    expect(await ipcMain.invoke(PICK_FFMPEG_CHANNEL, mainFrame(APP_URL), '/bin/sh')).toEqual({ outcome: 'set', path: ffmpeg });
    expect(store.get('ffmpegPath')).toBe(ffmpeg);
    expect(JSON.parse(readFileSync(path.join(dir, 'settings.json'), 'utf8'))).toMatchObject({ ffmpegPath: ffmpeg });
    expect(showOpenDialog).toHaveBeenCalledTimes(1);
    const options = showOpenDialog.mock.calls[0]![0];
    expect(options.title).toBe('Choose the ffmpeg program');
    expect(options.properties).toContain('openFile');
    expect(options.properties).not.toContain('openDirectory');
    expect(options.properties).not.toContain('multiSelections');
  });

  it.skipIf(!posix)('refuses a chosen file that is not an ffmpeg program with the sentence, storing nothing', async () => {
    const sh = program('bin/sh');
    const { ipcMain, store } = setup({ canceled: false, filePaths: [sh] });
    expect(await ipcMain.invoke(PICK_FFMPEG_CHANNEL, mainFrame(APP_URL))).toEqual({
      outcome: 'refused',
      message: `${sh} is not an ffmpeg program: only a file named ffmpeg is run as ffmpeg (this one is named sh). Choose the ffmpeg program itself (or the folder holding it).`,
    });
    expect(store.get('ffmpegPath')).toBeNull();
  });

  it('answers cancelled, storing nothing, when the dialog is closed', async () => {
    const { ipcMain, store } = setup({ canceled: true, filePaths: [] });
    expect(await ipcMain.invoke(PICK_FFMPEG_CHANNEL, mainFrame(APP_URL))).toEqual({ outcome: 'cancelled' });
    expect(store.get('ffmpegPath')).toBeNull();
  });

  it('opens no dialog for a page from elsewhere, an iframe or a destroyed frame, and logs it', async () => {
    const { ipcMain, showOpenDialog, log, store } = setup({ canceled: false, filePaths: ['/usr/bin/ffmpeg'] });
    for (const frame of [mainFrame('https://evil.example/'), childFrame(APP_URL, mainFrame(APP_URL)), null]) {
      expect(await ipcMain.invoke(PICK_FFMPEG_CHANNEL, frame)).toMatchObject({ outcome: 'refused' });
    }
    expect(showOpenDialog).not.toHaveBeenCalled();
    expect(log).toHaveBeenCalledTimes(3);
    expect(store.get('ffmpegPath')).toBeNull();
  });

  it('offers ffmpeg.exe first on Windows, and any file elsewhere (programs have no extension there)', () => {
    expect(ffmpegDialogOptions('win32').filters?.[0]).toEqual({ name: 'ffmpeg (ffmpeg.exe)', extensions: ['exe'] });
    expect(ffmpegDialogOptions('linux').filters).toBeUndefined();
    expect(ffmpegDialogOptions('darwin').filters).toBeUndefined();
  });

  it('can be unregistered', () => {
    const { ipcMain, unregister } = setup({ canceled: true, filePaths: [] });
    expect(ipcMain.handlers.has(PICK_FFMPEG_CHANNEL)).toBe(true);
    unregister();
    expect(ipcMain.handlers.has(PICK_FFMPEG_CHANNEL)).toBe(false);
  });
});
