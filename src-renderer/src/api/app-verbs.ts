/**
 * The verbs only the Electron app has (`window.studioApp`, see src-preload/app-verbs.ts): native
 * choosers and the path of a dropped file. In a browser under `studio serve` each is null, and the
 * views take typed paths instead.
 */
/** How the app's Choose ffmpeg… ended; main stores the chosen program itself (src-main/app/ffmpeg-picker.ts). */
export type PickFfmpegAnswer =
  | { readonly outcome: 'cancelled' }
  | { readonly outcome: 'set'; readonly path: string }
  | { readonly outcome: 'refused'; readonly message: string };

export interface AppVerbs {
  readonly pickFolder: ((title: string) => Promise<string | null>) | null;
  readonly pickModelFile: ((title: string) => Promise<string | null>) | null;
  /** The only way a view can name the ffmpeg program: a native dialog whose choice main stores. */
  readonly pickFfmpeg: (() => Promise<PickFfmpegAnswer>) | null;
  readonly pathForFile: ((file: File) => string | null) | null;
}

type Fn = (...args: never[]) => unknown;

export function appVerbs(): AppVerbs {
  const app = (globalThis as { studioApp?: Record<string, unknown> }).studioApp;
  const verb = <F extends Fn>(name: string): F | null => {
    const fn = app?.[name];
    return typeof fn === 'function' ? (fn as F) : null;
  };
  const pickFolder = verb<(title?: string) => Promise<string | null>>('pickFolder');
  const pickModelFile = verb<(title?: string) => Promise<string | null>>('pickModelFile');
  const pickFfmpeg = verb<() => Promise<PickFfmpegAnswer>>('pickFfmpeg');
  const pathForFile = verb<(file: unknown) => string | null>('pathForFile');
  return {
    pickFolder: pickFolder ? (title) => pickFolder(title) : null,
    pickModelFile: pickModelFile ? (title) => pickModelFile(title) : null,
    pickFfmpeg: pickFfmpeg ? () => pickFfmpeg() : null,
    pathForFile: pathForFile ? (file) => pathForFile(file) : null,
  };
}
