import type { SettingsCheckItem, SettingsCheckName, SettingsState } from '../../contract.ts';
import type { SliceCreator } from '../../store-types.ts';

export interface SettingsSlice {
  /** The engine's settings as last read or pushed; null until the first answer. */
  readonly settings: SettingsState | null;
  /** The latest result of each check the user ran (Settings → Check), by check. */
  readonly settingsChecks: Partial<Record<SettingsCheckName, readonly SettingsCheckItem[]>>;
  setSettings(settings: SettingsState): void;
  setSettingsChecks(items: readonly SettingsCheckItem[], ran: readonly SettingsCheckName[]): void;
}

export const createSettingsSlice: SliceCreator<SettingsSlice> = (set) => ({
  settings: null,
  settingsChecks: {},
  setSettings: (settings) => set({ settings }),
  setSettingsChecks: (items, ran) =>
    set((s) => {
      const next = { ...s.settingsChecks };
      for (const check of ran) next[check] = items.filter((i) => i.check === check);
      return { settingsChecks: next };
    }),
});
