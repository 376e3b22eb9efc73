/**
 * Data files the app ships (resources/ in the repository): found beside the sources when running
 * from source (the CLI, tests), and under out/main/resources/ in the Electron build, where
 * electron.vite.config.ts copies them (the bundled code lives in out/main/ and out/main/chunks/).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function resourcePath(rel: string, base: string = import.meta.url): string {
  const candidates = base.endsWith('.ts')
    ? [new URL(`../../resources/${rel}`, base)]
    : [new URL(`./resources/${rel}`, base), new URL(`../resources/${rel}`, base)];
  const found = candidates.find((u) => existsSync(fileURLToPath(u))) ?? candidates[0]!;
  return fileURLToPath(found);
}
