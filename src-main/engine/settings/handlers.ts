/** The engine's implementation of the settings channels (src-preload/contract/settings.ts). */
import type { Handlers } from '../../../src-preload/contract/channels.ts';
import type { settingsChannels } from '../../../src-preload/contract/settings.ts';
import { runChecks } from './checks.ts';
import type { CheckPorts } from './checks.ts';
import type { SettingsStore } from './store.ts';

export type SettingsHandlers = Pick<Handlers, keyof typeof settingsChannels>;

export function settingsHandlers(store: SettingsStore, checks: CheckPorts): SettingsHandlers {
  return {
    'settings.get': async () => store.state(),
    'settings.update': async (patch) => (await store.update(patch)).state,
    'settings.check': async (p) => runChecks(checks, p?.only),
  };
}
