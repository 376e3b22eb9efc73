/**
 * Electron's main entry: wiring only. The engine does the work; app/ adapts it to Electron
 * (window, IPC gateway, protocols, worker processes, settings), each piece tested on its own.
 */
import { BrowserWindow, app, dialog, ipcMain, protocol, safeStorage, session, shell, utilityProcess } from 'electron';
import type { OpenDialogOptions } from 'electron';
import Store from 'electron-store';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Engine, sourcePipelineModules } from '../engine/engine.ts';
import { dataLayout } from '../engine/paths.ts';
import { closeBeforeQuit } from './lifecycle.ts';
import { forwardEvents, registerIpcGateway } from './ipc-gateway.ts';
import { confirmCloudProjectChange } from './cloud-confirm.ts';
import { APP_URL } from './origin.ts';
import { PRIVILEGED_SCHEMES, registerProtocols } from './protocols.ts';
import { APP_SETTINGS_NAME, AppSettingsStore, rememberWindowSize } from './settings.ts';
import { registerFolderPicker } from './folder-picker.ts';
import { registerModelFilePicker } from './model-file-picker.ts';
import { registerFfmpegPicker } from './ffmpeg-picker.ts';
import { createUtilitySpawner } from './utility-spawner.ts';
import { contentSecurityPolicy, createMainWindow, hardenSession } from './window.ts';

// Built layout: out/main/index.js (this file), out/main/worker.js, out/main/pipelines/<family>.js,
// out/preload/index.cjs, out/renderer/ (see electron.vite.config.ts).
const here = import.meta.dirname;

/** The bundled pipeline per family the engine knows (source paths only exist in a checkout). */
function bundledPipelineModules(): Record<string, string> {
  return Object.fromEntries(Object.keys(sourcePipelineModules()).map((family) => [family, path.join(here, 'pipelines', `${family}.js`)]));
}
const devServerUrl = app.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL || undefined;
const appUrl = devServerUrl ?? APP_URL;
const csp = contentSecurityPolicy({ appUrl, dev: devServerUrl !== undefined });

const log = (message: string, detail?: unknown): void => {
  if (detail === undefined) console.warn(`[studio] ${message}`);
  else console.warn(`[studio] ${message}`, detail);
};

// Schemes must be registered before `ready`.
protocol.registerSchemesAsPrivileged(PRIVILEGED_SCHEMES);

let mainWindow: BrowserWindow | null = null;

function openWindow(appSettings: AppSettingsStore): void {
  mainWindow = createMainWindow(BrowserWindow, {
    preloadPath: path.join(here, '../preload/index.cjs'),
    appUrl,
    openExternal: (url, options) => shell.openExternal(url, options),
    log,
  });
  rememberWindowSize(mainWindow, appSettings);
  mainWindow.on('closed', () => {
    mainWindow = null;
  });
}

async function start(): Promise<void> {
  const dataDir = process.env.STUDIO_DATA_DIR ? path.resolve(process.env.STUDIO_DATA_DIR) : app.getPath('userData');
  const layout = dataLayout(dataDir);
  mkdirSync(layout.logs, { recursive: true });

  // The app's own things (window place, secrets); the studio's settings are the engine's settings.json.
  const appSettings = new AppSettingsStore(
    new Store<Record<string, unknown>>({ name: APP_SETTINGS_NAME, cwd: dataDir, accessPropertiesByDotNotation: false }),
    safeStorage,
  );

  const workerLog = createWriteStream(path.join(layout.logs, 'worker.log'), { flags: 'a' });
  // A log that cannot be written (its folder removed, a full or unplugged disk) loses the workers'
  // log lines, never the app: without a listener the stream's error would end the main process.
  let workerLogFailed = false;
  workerLog.on('error', (e) => {
    if (workerLogFailed) return;
    workerLogFailed = true;
    log(`worker.log cannot be written; the workers' log lines are dropped until the app restarts`, e);
  });
  const engine = await Engine.open({
    frontDoor: 'electron',
    dataDir,
    workerSpawner: createUtilitySpawner({ utilityProcess, log: workerLog }),
    workerEntry: path.join(here, 'worker.js'),
    pipelineModules: bundledPipelineModules(),
    // "Reveal in folder" for library assets: the engine resolves the real path inside the library.
    reveal: (file) => shell.showItemInFolder(file),
    // The cloud sign-in (Settings → Cloud) only touches disk encrypted by the system keychain.
    cloudSessions: {
      where: 'the system keychain (encrypted with safeStorage)',
      load: () => appSettings.getSecret('supabaseSession'),
      save: (value) => appSettings.setSecret('supabaseSession', value),
      clear: async () => appSettings.deleteSecret('supabaseSession'),
    },
  });
  closeBeforeQuit(app, async () => {
    await engine.close();
    workerLog.end();
  }, { log });

  registerProtocols(protocol, { root: path.join(here, '../renderer'), csp, media: engine.library });
  hardenSession(session.defaultSession, { csp, appUrl });
  // Pointing the mirror at another cloud project needs the person's yes in a native dialog.
  const handlers = confirmCloudProjectChange(engine.handlers, {
    showMessageBox: (options) => (mainWindow ? dialog.showMessageBox(mainWindow, options) : dialog.showMessageBox(options)),
    log,
  });
  registerIpcGateway({ ipcMain, handlers, appUrl, log });
  const pickers = {
    ipcMain,
    appUrl,
    showOpenDialog: (options: OpenDialogOptions) => (mainWindow ? dialog.showOpenDialog(mainWindow, options) : dialog.showOpenDialog(options)),
    log,
  };
  registerFolderPicker(pickers);
  registerModelFilePicker(pickers);
  // The one way the window names a program to run: main stores what the person chose in the dialog.
  registerFfmpegPicker({ ...pickers, setFfmpegPath: (file) => engine.settings.update({ ffmpegPath: file }) });
  forwardEvents(
    (event, listener) => engine.on(event, listener),
    () => (mainWindow && !mainWindow.isDestroyed() ? mainWindow.webContents : null),
  );

  openWindow(appSettings);
  app.on('activate', () => {
    if (mainWindow === null) openWindow(appSettings); // macOS: dock click with no window open
  });
}

if (!app.requestSingleInstanceLock()) {
  // Another window already owns the data folder's runner lock; it gets focus instead (below).
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app
    .whenReady()
    .then(start)
    .catch((e: unknown) => {
      const message = e instanceof Error ? e.message : String(e);
      dialog.showErrorBox(
        'OurVidz Studio could not start',
        `${message}\n\nIf another copy of the studio or \`studio serve\` is using the same data folder, close it and try again.`,
      );
      app.exit(1);
    });
}
