import { useId, useState } from 'react';
import { SETTINGS_LIMITS } from '../../../contract.ts';
import type { SettingsState } from '../../../contract.ts';
import type { SettingsActions } from '../actions.ts';
import { useSave } from '../use-settings.ts';
import { FieldError, NumberInput, SettingRow, SettingsSection } from './parts.tsx';

function NumberSetting({
  field,
  label,
  hint,
  unit,
  min,
  max,
  value,
  actions,
}: {
  field: 'previewEvery' | 'workerIdleMinutes';
  label: string;
  hint: string;
  unit: string;
  min: number;
  max: number;
  value: number;
  actions: SettingsActions;
}) {
  const id = useId();
  const save = useSave(actions);
  const [draft, setDraft] = useState<string | null>(null);
  const shown = draft ?? String(value);
  const commit = async () => {
    const text = shown.trim();
    if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
      save.fail(`Give a whole number from ${min} to ${max}.`);
      return;
    }
    if (Number(text) === value) {
      setDraft(null);
      return;
    }
    if (await save.save({ [field]: Number(text) })) setDraft(null);
  };
  return (
    <SettingRow label={label} htmlFor={id} hint={hint}>
      <NumberInput id={id} value={shown} unit={unit} save={save} onDraft={setDraft} onCommit={() => void commit()} />
      <FieldError id={`${id}-error`} message={save.error} />
    </SettingRow>
  );
}

export function PerformanceSection({ state, actions }: { state: SettingsState; actions: SettingsActions }) {
  return (
    <SettingsSection
      id="settings-performance"
      title="Performance"
      subtitle="Live previews cost a little time per step; an idle worker keeps its models in GPU memory until it exits."
    >
      <NumberSetting
        field="previewEvery"
        label="Preview every"
        hint="Show the picture taking shape every N denoising steps (1 = every step)."
        unit="steps"
        min={1}
        max={SETTINGS_LIMITS.previewEveryMax}
        value={state.values.previewEvery}
        actions={actions}
      />
      <NumberSetting
        field="workerIdleMinutes"
        label="Worker idle timeout"
        hint="An inference worker with nothing to do exits after this long, freeing its GPU memory (0 = never). Workers started from now on use it."
        unit="minutes"
        min={0}
        max={SETTINGS_LIMITS.workerIdleMinutesMax}
        value={state.values.workerIdleMinutes}
        actions={actions}
      />
    </SettingsSection>
  );
}
