/**
 * Verbs only the Electron app has, outside the engine's contract (a browser served by `studio serve`
 * has no native dialogs, so its views type paths instead). Exposed by the preload as
 * `window.studioApp`; main answers them in src-main/app/folder-picker.ts after the same sender check
 * as the gateway's.
 */
import type { IpcRendererLike } from './bridge.ts';

export const PICK_FOLDER_CHANNEL = 'app:pickFolder';

export interface StudioAppVerbs {
  /** Shows the system's folder chooser; resolves with the chosen folder, or null when cancelled. */
  pickFolder(title?: string): Promise<string | null>;
}

export function buildAppVerbs(ipc: Pick<IpcRendererLike, 'invoke'>): StudioAppVerbs {
  return {
    async pickFolder(title) {
      const answer: unknown = await ipc.invoke(PICK_FOLDER_CHANNEL, typeof title === 'string' ? title.slice(0, 200) : null);
      return typeof answer === 'string' ? answer : null;
    },
  };
}
