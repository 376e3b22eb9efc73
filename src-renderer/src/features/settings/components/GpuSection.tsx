import { useId, useState } from 'react';
import { PROVIDER_LABELS, SETTINGS_LIMITS } from '../../../contract.ts';
import type { ProviderName, SettingsState } from '../../../contract.ts';
import { formatMb } from '../../../format.ts';
import { useStudio } from '../../../store.ts';
import type { SettingsActions } from '../actions.ts';
import { moveProvider, providerRows, toggleProvider } from '../logic.ts';
import { useSave } from '../use-settings.ts';
import { CheckResults, FieldError, NumberInput, Saved, SettingRow, SettingsSection } from './parts.tsx';

function label(name: string): string {
  return PROVIDER_LABELS[name as ProviderName] ?? name;
}

function Providers({ state, actions }: { state: SettingsState; actions: SettingsActions }) {
  const save = useSave(actions);
  const checks = useStudio((s) => s.settingsChecks.providers);
  const [checking, setChecking] = useState(false);
  const errorId = useId();
  const value = state.values.providers;
  const auto = value === 'auto';
  const order: ProviderName[] = auto ? [] : [...value];
  const rows = providerRows(auto ? state.effective.providers : order);
  const override = state.overrides.providers;

  return (
    <SettingRow
      label="Execution providers"
      hint="Tried in this order for each model; a provider that cannot start here is skipped and the job says why."
    >
      <div className="choice" role="radiogroup" aria-label="How providers are chosen">
        <label>
          <input type="radio" name="providers-mode" checked={auto} onChange={() => void save.save({ providers: 'auto' })} />
          Automatic <span className="muted">({state.platformProviders.map(label).join(' → ')} on this platform)</span>
        </label>
        <label>
          <input
            type="radio"
            name="providers-mode"
            checked={!auto}
            onChange={() => void save.save({ providers: state.platformProviders.filter((p): p is ProviderName => p in PROVIDER_LABELS) })}
          />
          My order
        </label>
      </div>
      {!auto ? (
        <ol className="provider-list" aria-label="Provider order" aria-describedby={save.error ? errorId : undefined}>
          {rows.map(({ name, on }) => {
            const i = order.indexOf(name);
            return (
              <li key={name} className={on ? 'provider provider--on' : 'provider'}>
                <label>
                  <input type="checkbox" checked={on} disabled={save.saving} onChange={(e) => void save.save({ providers: toggleProvider(order, name, e.target.checked) })} />
                  {label(name)}
                </label>
                <span className="provider-moves">
                  <button type="button" className="btn btn-ghost btn-small" aria-label={`Move ${label(name)} up`} disabled={!on || i === 0 || save.saving} onClick={() => void save.save({ providers: moveProvider(order, name, -1) })}>
                    ↑
                  </button>
                  <button type="button" className="btn btn-ghost btn-small" aria-label={`Move ${label(name)} down`} disabled={!on || i === order.length - 1 || save.saving} onClick={() => void save.save({ providers: moveProvider(order, name, 1) })}>
                    ↓
                  </button>
                </span>
              </li>
            );
          })}
        </ol>
      ) : null}
      <FieldError id={errorId} message={save.error} />
      {override && override !== 'auto' ? <p className="settings-note">This run uses {override.map(label).join(' → ')} (set on the command line).</p> : null}
      <div className="settings-inline">
        <button
          type="button"
          className="btn btn-ghost btn-small"
          disabled={checking}
          onClick={() => {
            setChecking(true);
            void actions.check(['providers']).finally(() => setChecking(false));
          }}
        >
          {checking ? 'Checking…' : 'Check providers'}
        </button>
        <Saved show={save.saved} />
      </div>
      <CheckResults items={checks} label="Provider check" />
    </SettingRow>
  );
}

function VramBudget({ state, actions }: { state: SettingsState; actions: SettingsActions }) {
  const save = useSave(actions);
  const gpu = useStudio((s) => s.gpu);
  const checks = useStudio((s) => s.settingsChecks.gpu);
  const id = useId();
  const stored = state.values.vramBudgetMb;
  const [draft, setDraft] = useState<string | null>(null);
  const shown = draft ?? (stored === null ? '' : String(stored));
  const measured = gpu?.source === 'nvidia-smi';
  const commit = async () => {
    const text = shown.trim();
    if (!/^\d+$/.test(text)) {
      save.fail(`Give the budget as a whole number of MB (${SETTINGS_LIMITS.vramMinMb} or more).`);
      return;
    }
    if (Number(text) === stored) return;
    if (await save.save({ vramBudgetMb: Number(text) })) setDraft(null);
  };
  const suggested = gpu ? Math.max(SETTINGS_LIMITS.vramMinMb, Math.round(gpu.budgetMb)) : 8192;

  return (
    <SettingRow
      label="VRAM budget"
      htmlFor={stored === null ? undefined : id}
      hint="How much GPU memory the scheduler may fill with models and their work. Lower it to leave room for other apps."
    >
      <p className="settings-measured" data-testid="gpu-measured">
        {gpu === null
          ? 'GPU: waiting for the engine…'
          : measured
            ? `${gpu.name ?? 'GPU'}: ${formatMb(gpu.memoryTotalMb)} measured with nvidia-smi · budget now ${formatMb(gpu.budgetMb)}`
            : `GPU memory is not measured here (no nvidia-smi) · budget now ${formatMb(gpu.budgetMb)}`}
      </p>
      <div className="choice" role="radiogroup" aria-label="How the budget is set">
        <label>
          <input type="radio" name="vram-mode" checked={stored === null} onChange={() => void save.save({ vramBudgetMb: null }).then(() => setDraft(null))} />
          {measured ? 'Measured total less a reserve' : 'Default (8 GB until nvidia-smi measures the GPU)'}
        </label>
        <label>
          <input type="radio" name="vram-mode" checked={stored !== null} onChange={() => void save.save({ vramBudgetMb: suggested })} />
          Fixed
        </label>
      </div>
      {stored !== null ? (
        <NumberInput id={id} value={shown} unit="MB" save={save} onDraft={setDraft} onCommit={() => void commit()} />
      ) : (
        <Saved show={save.saved} />
      )}
      <FieldError id={`${id}-error`} message={save.error} />
      {state.overrides.vramBudgetMb != null ? (
        <p className="settings-note">This run uses {formatMb(state.overrides.vramBudgetMb)} (--vram-budget); your setting applies from the next start.</p>
      ) : null}
      <CheckResults items={checks} label="GPU check" />
    </SettingRow>
  );
}

export function GpuSection({ state, actions }: { state: SettingsState; actions: SettingsActions }) {
  return (
    <SettingsSection
      id="settings-gpu"
      title="GPU & providers"
      subtitle="Which onnxruntime backends run the models, and how much GPU memory they may use."
    >
      <Providers state={state} actions={actions} />
      <VramBudget state={state} actions={actions} />
    </SettingsSection>
  );
}
