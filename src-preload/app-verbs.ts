/**
 * Verbs only the Electron app has, outside the engine's contract (a browser served by `studio serve`
 * has no native dialogs and cannot see where a dropped file lies, so its views type paths instead).
 * Exposed by the preload as `window.studioApp`; main answers the dialogs in src-main/app/
 * (folder-picker.ts, model-file-picker.ts, ffmpeg-picker.ts) after the same sender check as the
 * gateway's.
 */
import type { WebUtils } from 'electron';
import type { IpcRendererLike } from './bridge.ts';

export const PICK_FOLDER_CHANNEL = 'app:pickFolder';
export const PICK_MODEL_FILE_CHANNEL = 'app:pickModelFile';
export const PICK_FFMPEG_CHANNEL = 'app:pickFfmpeg';

/**
 * How Choose ffmpeg… ended. Main stores the chosen program itself (the page never hands over a
 * path to run): `set` with what was stored, or `refused` with the engine's sentence.
 */
export type PickFfmpegAnswer =
  | { readonly outcome: 'cancelled' }
  | { readonly outcome: 'set'; readonly path: string }
  | { readonly outcome: 'refused'; readonly message: string };

/** The part of electron's webUtils the preload uses. */
export type WebUtilsLike = Pick<WebUtils, 'getPathForFile'>;

export interface StudioAppVerbs {
  /** Shows the system's folder chooser; resolves with the chosen folder, or null when cancelled. */
  pickFolder(title?: string): Promise<string | null>;
  /** Shows the system's file chooser for a checkpoint or VAE (.safetensors first); null when cancelled. */
  pickModelFile(title?: string): Promise<string | null>;
  /**
   * Shows the system's file chooser for the ffmpeg program and, when one is chosen, main sets it as
   * Settings → Video's ffmpeg (the only way the window can name a program for the engine to run).
   */
  pickFfmpeg(): Promise<PickFfmpegAnswer>;
  /**
   * Where a file dropped on the window lies on disk (Electron's webUtils.getPathForFile); null for
   * anything that is not a file from disk.
   */
  pathForFile(file: unknown): string | null;
}

const titleOf = (title: unknown) => (typeof title === 'string' ? title.slice(0, 200) : null);

/** Only the answer's own fields cross to the page; anything else reads as cancelled. */
function ffmpegAnswer(answer: unknown): PickFfmpegAnswer {
  const a = (typeof answer === 'object' && answer !== null ? answer : {}) as Record<string, unknown>;
  if (a.outcome === 'set' && typeof a.path === 'string') return { outcome: 'set', path: a.path };
  if (a.outcome === 'refused' && typeof a.message === 'string') return { outcome: 'refused', message: a.message };
  return { outcome: 'cancelled' };
}

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
    async pickFfmpeg() {
      return ffmpegAnswer(await ipc.invoke(PICK_FFMPEG_CHANNEL));
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
