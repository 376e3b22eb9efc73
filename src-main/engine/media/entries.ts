/**
 * Where a thread or helper-process entry lives, from the module that starts it: the `.ts` sibling
 * when running from source; in the Electron build the calling code is bundled into
 * out/main/pipelines/<family>.js or out/main/chunks/*.js, and each entry is its own file in
 * out/main/pipelines/ (electron.vite.config.ts, `threadEntries`).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function entryBeside(name: string, base: string): URL {
  if (base.endsWith('.ts')) return new URL(`./${name}.ts`, base);
  // Bundled into out/main/pipelines/*.js, out/main/chunks/*.js, or out/main/index.js itself.
  const candidates = [`./${name}.js`, `../pipelines/${name}.js`, `./pipelines/${name}.js`].map((rel) => new URL(rel, base));
  return candidates.find((u) => existsSync(fileURLToPath(u))) ?? candidates[0]!;
}
