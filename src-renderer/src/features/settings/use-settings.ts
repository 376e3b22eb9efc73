import { useMemo, useState } from 'react';
import { getStudioApi } from '../../api/index.ts';
import type { SettingsPatch, WireError } from '../../contract.ts';
import { useStudio } from '../../store.ts';
import { createSettingsActions } from './actions.ts';
import type { SettingsActions } from './actions.ts';
import { asSentence } from './logic.ts';

/** The Settings view's actions, bound to this window's engine API and store. */
export function useSettingsActions(): SettingsActions {
  return useMemo(() => createSettingsActions(getStudioApi(), useStudio), []);
}

export interface SaveState {
  readonly saving: boolean;
  /** The refusal to show at the field, as a sentence. */
  readonly error: string | null;
  /** The field whose refusal it is (`modelDirs.2`), when the engine named one. */
  readonly errorField: string | null;
  readonly saved: boolean;
  /** Saves the patch; resolves true when the engine took it. */
  save(patch: SettingsPatch): Promise<boolean>;
  /** Shows a problem found before asking the engine (a number that is not one). */
  fail(message: string): void;
  clear(): void;
}

/** Saving one field: its own error and "saved" mark, so each field answers for itself. */
export function useSave(actions: SettingsActions): SaveState {
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<WireError | null>(null);
  const [saved, setSaved] = useState(false);
  return {
    saving,
    error: error ? asSentence(error.message) : null,
    errorField: error?.field ?? null,
    saved,
    async save(patch) {
      setSaving(true);
      setSaved(false);
      const outcome = await actions.update(patch);
      setSaving(false);
      setError(outcome.ok ? null : outcome.error);
      setSaved(outcome.ok);
      return outcome.ok;
    },
    fail(message) {
      setSaved(false);
      setError({ code: 'invalid_setting', message });
    },
    clear() {
      setError(null);
      setSaved(false);
    },
  };
}

/** The app's folder chooser (Electron only); null in a browser, where paths are typed. */
export function appFolderPicker(): ((title: string) => Promise<string | null>) | null {
  const app = (globalThis as { studioApp?: { pickFolder?: (title?: string) => Promise<string | null> } }).studioApp;
  const pick = app?.pickFolder;
  return typeof pick === 'function' ? (title) => pick(title) : null;
}
