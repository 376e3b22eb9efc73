/**
 * Models → Add model…'s file chooser: the app's own window gets the chosen checkpoint, with
 * .safetensors offered first; no other frame opens a dialog; cancelling answers null.
 */
import type { OpenDialogOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { MODEL_FILE_FILTERS, registerModelFilePicker } from '../../../src-main/app/model-file-picker.ts';
import { registerFolderPicker } from '../../../src-main/app/folder-picker.ts';
import { PICK_FOLDER_CHANNEL, PICK_MODEL_FILE_CHANNEL } from '../../../src-preload/app-verbs.ts';
import { MockIpcMain, childFrame, mainFrame } from '../../helpers/electron-mock.ts';

const APP_URL = 'studio://app/index.html';

function setup(answer: { canceled: boolean; filePaths: string[] }) {
  const ipcMain = new MockIpcMain();
  const showOpenDialog = vi.fn(async (_options: OpenDialogOptions) => answer);
  const log = vi.fn();
  const unregister = registerModelFilePicker({ ipcMain, appUrl: APP_URL, showOpenDialog, log });
  return { ipcMain, showOpenDialog, log, unregister };
}

describe('model file chooser', () => {
  it('answers the app window with the file the person chose, asking for one file, .safetensors first', async () => {
    const { ipcMain, showOpenDialog } = setup({ canceled: false, filePaths: ['/mnt/sd/juggernautXL_v9.safetensors'] });
    expect(await ipcMain.invoke(PICK_MODEL_FILE_CHANNEL, mainFrame(APP_URL), 'Choose a checkpoint')).toBe('/mnt/sd/juggernautXL_v9.safetensors');
    expect(showOpenDialog).toHaveBeenCalledTimes(1);
    const options = showOpenDialog.mock.calls[0]![0];
    expect(options.properties).toBeDefined();
    expect(options).toMatchObject({ title: 'Choose a checkpoint', filters: MODEL_FILE_FILTERS });
    expect(options.properties).toContain('openFile');
    expect(options.properties).not.toContain('openDirectory');
    expect(options.properties).not.toContain('multiSelections');
    expect(MODEL_FILE_FILTERS[0]!.extensions).toEqual(['safetensors']);
  });

  it('titles the dialog itself when the page sends no title, and bounds a long one', async () => {
    const { ipcMain, showOpenDialog } = setup({ canceled: false, filePaths: ['/a.safetensors'] });
    await ipcMain.invoke(PICK_MODEL_FILE_CHANNEL, mainFrame(APP_URL), null);
    await ipcMain.invoke(PICK_MODEL_FILE_CHANNEL, mainFrame(APP_URL), 'y'.repeat(1000));
    expect(showOpenDialog.mock.calls.map((c) => c[0].title)).toEqual(['Choose a model file', 'y'.repeat(200)]);
  });

  it('answers null when the dialog is cancelled', async () => {
    const { ipcMain } = setup({ canceled: true, filePaths: [] });
    expect(await ipcMain.invoke(PICK_MODEL_FILE_CHANNEL, mainFrame(APP_URL), 'x')).toBeNull();
  });

  it('opens no dialog for a page from elsewhere, an iframe or a destroyed frame, and says so in the log', async () => {
    const { ipcMain, showOpenDialog, log } = setup({ canceled: false, filePaths: ['/etc/shadow'] });
    expect(await ipcMain.invoke(PICK_MODEL_FILE_CHANNEL, mainFrame('https://evil.example/'), 'x')).toBeNull();
    expect(await ipcMain.invoke(PICK_MODEL_FILE_CHANNEL, childFrame(APP_URL, mainFrame(APP_URL)), 'x')).toBeNull();
    expect(await ipcMain.invoke(PICK_MODEL_FILE_CHANNEL, null, 'x')).toBeNull();
    expect(showOpenDialog).not.toHaveBeenCalled();
    expect(log).toHaveBeenCalledTimes(3);
    expect(log.mock.calls[0]![0]).toContain('https://evil.example/');
  });

  it('lives beside the folder chooser on its own channel, and can be unregistered', () => {
    const ipcMain = new MockIpcMain();
    const showOpenDialog = vi.fn(async () => ({ canceled: true, filePaths: [] }));
    registerFolderPicker({ ipcMain, appUrl: APP_URL, showOpenDialog });
    const unregister = registerModelFilePicker({ ipcMain, appUrl: APP_URL, showOpenDialog });
    expect([...ipcMain.handlers.keys()].sort()).toEqual([PICK_FOLDER_CHANNEL, PICK_MODEL_FILE_CHANNEL].sort());
    unregister();
    expect(ipcMain.handlers.has(PICK_MODEL_FILE_CHANNEL)).toBe(false);
    expect(ipcMain.handlers.has(PICK_FOLDER_CHANNEL)).toBe(true);
  });
});
