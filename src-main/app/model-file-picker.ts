/**
 * The app-only file chooser of Models → Add model… (a checkpoint, or a VAE to go with one). Not a
 * contract channel: the engine has no dialogs, and a browser served by `studio serve` takes typed
 * paths. Only the app's own top frame may open it, as with every gateway channel. The file is
 * never trusted for its name: the engine reads its header next (models.inspect).
 */
import type { OpenDialogOptions } from 'electron';
import { PICK_MODEL_FILE_CHANNEL } from '../../src-preload/app-verbs.ts';
import { isTrustedSender } from './ipc-gateway.ts';
import type { FolderPickerOptions } from './folder-picker.ts';

/** .safetensors first (what A1111, ComfyUI and Civitai use); any file, so a .ckpt gets its sentence. */
export const MODEL_FILE_FILTERS: NonNullable<OpenDialogOptions['filters']> = [
  { name: 'Checkpoints (.safetensors)', extensions: ['safetensors'] },
  { name: 'All files', extensions: ['*'] },
];

export function registerModelFilePicker(options: FolderPickerOptions): () => void {
  options.ipcMain.handle(PICK_MODEL_FILE_CHANNEL, async (event, title) => {
    if (!isTrustedSender(event.senderFrame, options.appUrl)) {
      options.log?.(`refused ${PICK_MODEL_FILE_CHANNEL} from ${event.senderFrame ? event.senderFrame.url : 'a destroyed frame'}`);
      return null;
    }
    const result = await options.showOpenDialog({
      title: typeof title === 'string' && title !== '' ? title.slice(0, 200) : 'Choose a model file',
      properties: ['openFile', 'dontAddToRecent'],
      filters: MODEL_FILE_FILTERS,
    });
    return result.canceled ? null : (result.filePaths[0] ?? null);
  });
  return () => options.ipcMain.removeHandler(PICK_MODEL_FILE_CHANNEL);
}
