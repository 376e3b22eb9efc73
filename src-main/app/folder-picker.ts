/**
 * The app-only folder chooser (Settings → Models → Add folder…, Library → Move…). Not a contract
 * channel: the engine has no dialogs, and a browser served by `studio serve` takes typed paths.
 * Only the app's own top frame may open it, as with every gateway channel.
 */
import type { OpenDialogOptions } from 'electron';
import { PICK_FOLDER_CHANNEL } from '../../src-preload/app-verbs.ts';
import { isTrustedSender } from './ipc-gateway.ts';
import type { GatewayIpcMain } from './ipc-gateway.ts';

export interface FolderPickerOptions {
  readonly ipcMain: GatewayIpcMain;
  readonly appUrl: string;
  /** Electron's dialog.showOpenDialog, bound to the main window. */
  readonly showOpenDialog: (options: OpenDialogOptions) => Promise<{ canceled: boolean; filePaths: string[] }>;
  readonly log?: (message: string) => void;
}

export function registerFolderPicker(options: FolderPickerOptions): () => void {
  options.ipcMain.handle(PICK_FOLDER_CHANNEL, async (event, title) => {
    if (!isTrustedSender(event.senderFrame, options.appUrl)) {
      options.log?.(`refused ${PICK_FOLDER_CHANNEL} from ${event.senderFrame ? event.senderFrame.url : 'a destroyed frame'}`);
      return null;
    }
    const result = await options.showOpenDialog({
      title: typeof title === 'string' && title !== '' ? title.slice(0, 200) : 'Choose a folder',
      properties: ['openDirectory', 'createDirectory', 'dontAddToRecent'],
    });
    return result.canceled ? null : (result.filePaths[0] ?? null);
  });
  return () => options.ipcMain.removeHandler(PICK_FOLDER_CHANNEL);
}
