/**
 * The preload: runs sandboxed in the window's isolated world and gives the page `window.studio`,
 * a set of named verbs, and `window.studioApp`, the few verbs only the app has (folder and model
 * file choosers, the path of a dropped file). Built to CommonJS (sandboxed preloads may only
 * `require('electron')`).
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { buildAppVerbs } from './app-verbs.ts';
import { buildStudioApi, toCrossWorldError } from './bridge.ts';

const studio = buildStudioApi(ipcRenderer, { rejectWith: toCrossWorldError });
contextBridge.exposeInMainWorld('studio', studio);
const studioApp = buildAppVerbs(ipcRenderer, webUtils);
contextBridge.exposeInMainWorld('studioApp', studioApp);
