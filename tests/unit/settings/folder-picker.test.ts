/** The app-only folder chooser: the app's own window gets the chosen folder; no other frame opens a dialog. */
import { describe, expect, it, vi } from 'vitest';
import { registerFolderPicker } from '../../../src-main/app/folder-picker.ts';
import { PICK_FOLDER_CHANNEL } from '../../../src-preload/app-verbs.ts';
import { MockIpcMain, mainFrame } from '../../helpers/electron-mock.ts';

const APP_URL = 'studio://app/index.html';

function setup(answer: { canceled: boolean; filePaths: string[] }) {
  const ipcMain = new MockIpcMain();
  const showOpenDialog = vi.fn(async () => answer);
  const unregister = registerFolderPicker({ ipcMain, appUrl: APP_URL, showOpenDialog });
  return { ipcMain, showOpenDialog, unregister };
}

describe('folder chooser', () => {
  it('answers the app window with the folder the person chose, asking for folders only', async () => {
    const { ipcMain, showOpenDialog } = setup({ canceled: false, filePaths: ['/mnt/models'] });
    expect(await ipcMain.invoke(PICK_FOLDER_CHANNEL, mainFrame(APP_URL), 'Add a model folder')).toBe('/mnt/models');
    expect(showOpenDialog).toHaveBeenCalledWith(expect.objectContaining({ title: 'Add a model folder', properties: expect.arrayContaining(['openDirectory']) }));
  });

  it('answers null when the dialog is cancelled', async () => {
    const { ipcMain } = setup({ canceled: true, filePaths: [] });
    expect(await ipcMain.invoke(PICK_FOLDER_CHANNEL, mainFrame(APP_URL), null)).toBeNull();
  });

  it('opens no dialog for a page from elsewhere or an iframe', async () => {
    const { ipcMain, showOpenDialog } = setup({ canceled: false, filePaths: ['/etc'] });
    expect(await ipcMain.invoke(PICK_FOLDER_CHANNEL, mainFrame('https://evil.example/'), 'x')).toBeNull();
    expect(await ipcMain.invoke(PICK_FOLDER_CHANNEL, { url: APP_URL, parent: mainFrame(APP_URL) } as never, 'x')).toBeNull();
    expect(showOpenDialog).not.toHaveBeenCalled();
  });

  it('can be unregistered', () => {
    const { ipcMain, unregister } = setup({ canceled: true, filePaths: [] });
    unregister();
    expect(ipcMain.handlers.has(PICK_FOLDER_CHANNEL)).toBe(false);
  });
});
