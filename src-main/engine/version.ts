/** The app's name and version, from package.json, for recipes, file metadata and the CLI. */
import pkg from '../../package.json' with { type: 'json' };

export const APP_NAME = 'OurVidz Studio';
export const APP_VERSION: string = pkg.version;
