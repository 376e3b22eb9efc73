/**
 * Settings → Video → Choose ffmpeg…: the native file chooser, and main storing what was chosen.
 * This is the one way the window can name a program for the engine to run; `settings.update`
 * refuses an ffmpeg path (src-preload/contract/settings.ts says why). The page asks, the person
 * picks in the system's dialog, main hands the file to the engine's settings store, which refuses
 * anything that does not look like ffmpeg (ffmpeg-locate.ts, toolFileProblem). Only the app's own
 * top frame may open it, as with every gateway channel.
 */
import type { OpenDialogOptions } from 'electron';
import { PICK_FFMPEG_CHANNEL } from '../../src-preload/app-verbs.ts';
import type { PickFfmpegAnswer } from '../../src-preload/app-verbs.ts';
import { StudioError } from '../engine/errors.ts';
import { isTrustedSender } from './ipc-gateway.ts';
import type { FolderPickerOptions } from './folder-picker.ts';

export interface FfmpegPickerOptions extends FolderPickerOptions {
  /** Stores the chosen program as the ffmpeg setting (the engine's SettingsStore.update). */
  readonly setFfmpegPath: (file: string) => Promise<unknown>;
  /** Whose file names the dialog offers (default: this machine's). */
  readonly platform?: NodeJS.Platform;
}

/** One file; on Windows the .exe programs first (static builds unzip to bin\ffmpeg.exe). */
export function ffmpegDialogOptions(platform: NodeJS.Platform): OpenDialogOptions {
  return {
    title: 'Choose the ffmpeg program',
    buttonLabel: 'Use this ffmpeg',
    properties: ['openFile', 'dontAddToRecent'],
    ...(platform === 'win32'
      ? { filters: [{ name: 'ffmpeg (ffmpeg.exe)', extensions: ['exe'] }, { name: 'All files', extensions: ['*'] }] }
      : {}),
  };
}

export function registerFfmpegPicker(options: FfmpegPickerOptions): () => void {
  const platform = options.platform ?? process.platform;
  options.ipcMain.handle(PICK_FFMPEG_CHANNEL, async (event): Promise<PickFfmpegAnswer> => {
    if (!isTrustedSender(event.senderFrame, options.appUrl)) {
      options.log?.(`refused ${PICK_FFMPEG_CHANNEL} from ${event.senderFrame ? event.senderFrame.url : 'a destroyed frame'}`);
      return { outcome: 'refused', message: 'Only the studio window itself can choose the ffmpeg program.' };
    }
    const result = await options.showOpenDialog(ffmpegDialogOptions(platform));
    const file = result.canceled ? undefined : result.filePaths[0];
    if (file === undefined) return { outcome: 'cancelled' };
    try {
      await options.setFfmpegPath(file);
      return { outcome: 'set', path: file };
    } catch (e) {
      if (e instanceof StudioError) return { outcome: 'refused', message: e.message };
      const why = e instanceof Error ? e.message : String(e);
      options.log?.(`${PICK_FFMPEG_CHANNEL}: storing ${file} failed: ${why}`);
      return {
        outcome: 'refused',
        message: `The ffmpeg setting could not be saved (${why}). Try again, or run \`studio settings set ffmpegPath ${file}\`.`,
      };
    }
  });
  return () => options.ipcMain.removeHandler(PICK_FFMPEG_CHANNEL);
}
