/**
 * Verbs only the Electron app has, outside the engine's contract (a browser served by `studio serve`
 * has no native dialogs and cannot see where a dropped file lies, so its views type paths instead).
 * Exposed by the preload as `window.studioApp`; main answers the dialogs in src-main/app/
 * (folder-picker.ts, model-file-picker.ts) after the same sender check as the gateway's.
 */
import type { WebUtils } from 'electron';
import type { IpcRendererLike } from './bridge.ts';

export const PICK_FOLDER_CHANNEL = 'app:pickFolder';
export const PICK_MODEL_FILE_CHANNEL = 'app:pickModelFile';

/** The part of electron's webUtils the preload uses. */
export type WebUtilsLike = Pick<WebUtils, 'getPathForFile'>;

export interface StudioAppVerbs {
  /** Shows the system's folder chooser; resolves with the chosen folder, or null when cancelled. */
  pickFolder(title?: string): Promise<string | null>;
  /** Shows the system's file chooser for a checkpoint or VAE (.safetensors first); null when cancelled. */
  pickModelFile(title?: string): Promise<string | null>;
  /**
   * Where a file dropped on the window lies on disk (Electron's webUtils.getPathForFile); null for
   * anything that is not a file from disk.
   */
  pathForFile(file: unknown): string | null;
}

const titleOf = (title: unknown) => (typeof title === 'string' ? title.slice(0, 200) : null);

export function buildAppVerbs(ipc: Pick<IpcRendererLike, 'invoke'>, webUtils: WebUtilsLike): StudioAppVerbs {
  return {
    async pickFolder(title) {
      const answer: unknown = await ipc.invoke(PICK_FOLDER_CHANNEL, titleOf(title));
      return typeof answer === 'string' ? answer : null;
    },
    async pickModelFile(title) {
      const answer: unknown = await ipc.invoke(PICK_MODEL_FILE_CHANNEL, titleOf(title));
      return typeof answer === 'string' ? answer : null;
    },
    pathForFile(file) {
      try {
        // getPathForFile throws for anything that is not a File; the page may pass anything.
        const path = webUtils.getPathForFile(file as Parameters<WebUtilsLike['getPathForFile']>[0]);
        return typeof path === 'string' && path !== '' ? path : null;
      } catch {
        return null;
      }
    },
  };
}
