/**
 * The preload: runs sandboxed in the window's isolated world and gives the page `window.studio`,
 * a set of named verbs. Built to CommonJS (sandboxed preloads may only `require('electron')`).
 */
import { contextBridge, ipcRenderer } from 'electron';
import { buildStudioApi, toCrossWorldError } from './bridge.ts';

const studio = buildStudioApi(ipcRenderer, { rejectWith: toCrossWorldError });
contextBridge.exposeInMainWorld('studio', studio);
