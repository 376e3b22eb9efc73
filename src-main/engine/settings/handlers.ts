/** The engine's implementation of the settings channels (src-preload/contract/settings.ts). */
import type { Handlers } from '../../../src-preload/contract/channels.ts';
import { FFMPEG_PATH_NOT_FROM_WINDOW } from '../../../src-preload/contract/settings.ts';
import type { settingsChannels } from '../../../src-preload/contract/settings.ts';
import { StudioError } from '../errors.ts';
import { runChecks } from './checks.ts';
import type { CheckPorts } from './checks.ts';
import type { SettingsStore } from './store.ts';

export type SettingsHandlers = Pick<Handlers, keyof typeof settingsChannels>;

/**
 * The contract's handlers serve the window and `studio serve`, so they never set a program to run:
 * the schema already refuses a string `ffmpegPath`, and this refuses it again for a caller that
 * skipped the schema. The app's native chooser and the CLI set it through `SettingsStore.update`.
 */
export function settingsHandlers(store: SettingsStore, checks: CheckPorts): SettingsHandlers {
  return {
    'settings.get': async () => store.state(),
    'settings.update': async (patch) => {
      const ffmpegPath: unknown = (patch as { ffmpegPath?: unknown }).ffmpegPath;
      if (ffmpegPath !== undefined && ffmpegPath !== null) {
        throw new StudioError('invalid_setting', FFMPEG_PATH_NOT_FROM_WINDOW, { field: 'ffmpegPath' });
      }
      return (await store.update(patch)).state;
    },
    'settings.check': async (p) => runChecks(checks, p?.only),
  };
}
