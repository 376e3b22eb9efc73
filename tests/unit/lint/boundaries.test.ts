/**
 * The process boundaries are enforced by eslint.config.js; these tests lint small in-memory files
 * at paths inside each boundary with the repository's real config.
 */
import path from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');

// Type-aware rules need files on disk; the boundary rules are syntactic, so they run without them.
const eslint = new ESLint({ cwd: root, overrideConfig: [tseslint.configs.disableTypeChecked] });

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  if (!result) throw new Error(`no lint result for ${file}`);
  return result.messages.map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

const restricted = (found: string[]) => found.filter((m) => /^no-restricted-(imports|syntax):/.test(m));

describe('engine boundary (src-main/engine)', () => {
  it('fails an engine file that imports electron', async () => {
    const found = await problems('src-main/engine/jobs/__probe__.ts', "import { app } from 'electron';\nexport const name = app.name;\n");
    expect(restricted(found)).toEqual([expect.stringContaining("'electron' import is restricted")]);
  });

  it('fails type-only, subpath, electron-store and dynamic imports of electron too', async () => {
    const code = [
      "import type { BrowserWindow } from 'electron';",
      "import Store from 'electron-store';",
      "import { ipcMain } from 'electron/main';",
      'export type W = BrowserWindow;',
      'export { Store, ipcMain };',
      "export const lazy = () => import('electron');",
    ].join('\n');
    expect(restricted(await problems('src-main/engine/__probe__.ts', code))).toHaveLength(4);
  });

  it('fails an engine file that reaches into the app glue', async () => {
    const found = await problems('src-main/engine/jobs/__probe__.ts', "import { APP_URL } from '../../app/origin.ts';\nexport { APP_URL };\n");
    expect(restricted(found)).toHaveLength(1);
  });

  it('passes an engine file that uses Node built-ins', async () => {
    const found = await problems('src-main/engine/__probe__.ts', "import { readFile } from 'node:fs/promises';\nexport const read = readFile;\n");
    expect(found).toEqual([]);
  });

  it('applies to the CLI as well', async () => {
    const found = await problems('src-main/cli/__probe__.ts', "import { app } from 'electron';\nexport const a = app;\n");
    expect(restricted(found)).toHaveLength(1);
  });
});

describe('renderer boundary (src-renderer)', () => {
  it('fails a renderer file that imports node:fs', async () => {
    const found = await problems('src-renderer/src/features/__probe__.ts', "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n");
    expect(restricted(found)).toEqual([expect.stringContaining("'node:fs' import is restricted")]);
  });

  it.each([
    ["import fs from 'fs';", 'a bare built-in'],
    ["import { readFile } from 'fs/promises';", 'a bare built-in subpath'],
    ["import { ipcRenderer } from 'electron';", 'electron'],
    ["import { Engine } from '../../../src-main/engine/engine.ts';", 'main-process code'],
    ["export const p = import('node:path');", 'a dynamic import of a built-in'],
    ["export const c = import('child_process');", 'a dynamic import of a bare built-in'],
  ])('fails %s (%s)', async (line) => {
    const found = await problems('src-renderer/src/features/__probe__.tsx', `${line}\nexport {};\n`);
    expect(restricted(found).length).toBeGreaterThanOrEqual(1);
  });

  it('passes a renderer file that imports React and the contract', async () => {
    const code = "import { useState } from 'react';\nimport { CHANNELS } from '../../contract.ts';\nexport const x = [useState, CHANNELS];\n";
    expect(await problems('src-renderer/src/features/__probe__.tsx', code)).toEqual([]);
  });

  it('holds the contract to the same rule, since the renderer imports it', async () => {
    const found = await problems('src-preload/contract/__probe__.ts', "import path from 'node:path';\nexport const p = path;\n");
    expect(restricted(found)).toHaveLength(1);
  });
});

describe('preload boundary (src-preload)', () => {
  it.each([
    ["import { ipcRenderer } from 'electron';\nexport { ipcRenderer };", 'export { ipcRenderer }'],
    ["export { ipcRenderer } from 'electron';", 're-export from electron'],
    ["export * from 'electron';", 'export * from electron'],
    ["import { ipcRenderer } from 'electron';\nexport const ipc = ipcRenderer;", 'export const ipc = ipcRenderer'],
    ["import { ipcRenderer } from 'electron';\nexport default ipcRenderer;", 'export default ipcRenderer'],
    ["import { contextBridge, ipcRenderer } from 'electron';\ncontextBridge.exposeInMainWorld('studio', { ipcRenderer });", 'exposeInMainWorld({ ipcRenderer })'],
    ["import { contextBridge, ipcRenderer } from 'electron';\ncontextBridge.exposeInMainWorld('studio', { send: ipcRenderer.send });", 'exposing a method'],
  ])('fails %#: %s', async (code) => {
    expect(restricted(await problems('src-preload/__probe__.ts', code)).length).toBeGreaterThanOrEqual(1);
  });

  it('passes the real preload', async () => {
    const { readFile } = await import('node:fs/promises');
    const code = await readFile(path.join(root, 'src-preload/index.ts'), 'utf8');
    expect(await problems('src-preload/index.ts', code)).toEqual([]);
  });
});
