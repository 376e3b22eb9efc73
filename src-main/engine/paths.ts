/**
 * One data folder holds everything: the database, the library, staging for jobs in flight, and the
 * default models folder. Chosen by --data DIR, else STUDIO_DATA_DIR, else the app's user-data folder.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const PRODUCT_NAME = 'OurVidz Studio';

/** Electron's `app.getPath('userData')` for this product, computed without Electron. */
export function defaultDataDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), PRODUCT_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', PRODUCT_NAME);
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), PRODUCT_NAME);
}

export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.STUDIO_DATA_DIR ?? defaultDataDir(process.platform, env));
}

export interface DataLayout {
  readonly root: string;
  readonly database: string;
  readonly library: string;
  readonly staging: string;
  readonly models: string;
  readonly logs: string;
  readonly lock: string;
}

export function dataLayout(root: string): DataLayout {
  return {
    root,
    database: join(root, 'studio.db'),
    library: join(root, 'library'),
    staging: join(root, 'staging'),
    models: join(root, 'models'),
    logs: join(root, 'logs'),
    lock: join(root, 'engine.lock'),
  };
}
