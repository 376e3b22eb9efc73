/**
 * What the Settings view asks of the engine. The answer goes into the store; a refusal comes back
 * to the caller (to show at its field), never as a toast: the person is looking at the field.
 */
import { toWireError } from '../../api/errors.ts';
import type {
  LibraryStats,
  MoveReport,
  SettingsCheckItem,
  SettingsCheckName,
  SettingsPatch,
  StudioApi,
  WireError,
} from '../../contract.ts';
import type { StudioStore } from '../../store.ts';

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: WireError };

export interface SettingsActions {
  load(): Promise<void>;
  update(patch: SettingsPatch): Promise<Outcome<null>>;
  check(only: readonly SettingsCheckName[]): Promise<Outcome<readonly SettingsCheckItem[]>>;
  libraryStats(): Promise<Outcome<LibraryStats>>;
  moveLibrary(to: string): Promise<Outcome<MoveReport>>;
}

async function attempt<T>(run: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error: toWireError(error) };
  }
}

export function createSettingsActions(api: StudioApi, store: StudioStore): SettingsActions {
  const s = () => store.getState();
  return {
    async load() {
      const got = await attempt(() => api.settings.get());
      if (got.ok) s().setSettings(got.value);
      else s().notify({ kind: 'error', title: 'Could not load the settings', message: got.error.message });
    },
    async update(patch) {
      const got = await attempt(() => api.settings.update(patch));
      if (!got.ok) return got;
      s().setSettings(got.value);
      return { ok: true, value: null };
    },
    async check(only) {
      const got = await attempt(() => api.settings.check({ only: [...only] }));
      if (got.ok) s().setSettingsChecks(got.value, only);
      return got;
    },
    libraryStats: () => attempt(() => api.library.stats()),
    moveLibrary: (to) => attempt(() => api.library.moveRoot({ to })),
  };
}
