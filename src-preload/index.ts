/**
 * The preload: runs sandboxed in the window's isolated world and gives the page `window.studio`,
 * a set of named verbs, and `window.studioApp`, the few verbs only the app has (a folder chooser).
 * Built to CommonJS (sandboxed preloads may only `require('electron')`).
 */
import { contextBridge, ipcRenderer } from 'electron';
import { buildAppVerbs } from './app-verbs.ts';
import { buildStudioApi, toCrossWorldError } from './bridge.ts';

const studio = buildStudioApi(ipcRenderer, { rejectWith: toCrossWorldError });
contextBridge.exposeInMainWorld('studio', studio);
const studioApp = buildAppVerbs(ipcRenderer);
contextBridge.exposeInMainWorld('studioApp', studioApp);
