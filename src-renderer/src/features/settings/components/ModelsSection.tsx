import { useStudio } from '../../../store.ts';
import type { SettingsState } from '../../../contract.ts';
import { folderStatus } from '../logic.ts';
import type { FolderStatus } from '../logic.ts';
import type { SettingsActions } from '../actions.ts';
import { useSave } from '../use-settings.ts';
import { CheckResults, PathInput, SettingsSection } from './parts.tsx';

function dotKind(status: FolderStatus): string {
  if (status.kind === 'missing') return 'missing';
  if (status.ready > 0) return 'ready';
  return status.models > 0 ? 'unusable' : 'empty';
}

function FolderLine({ dir, state, tag, onRemove, busy }: { dir: string; state: SettingsState; tag: string | null; onRemove?: () => void; busy: boolean }) {
  const models = useStudio((s) => s.models);
  const status = folderStatus(dir, state, models);
  return (
    <li className="folder" data-folder={dir}>
      <span className={`folder-dot folder-dot--${dotKind(status)}`} aria-hidden="true" />
      <div className="folder-body">
        <code className="folder-path">{dir}</code>
        <p className={status.kind === 'missing' ? 'folder-status folder-status--missing' : 'folder-status'} data-testid="folder-status">
          {status.kind === 'missing'
            ? status.message.charAt(0).toUpperCase() + status.message.slice(1)
            : models === null
              ? 'Scanning…'
              : status.models === 0
                ? 'No models in it yet'
                : `${status.models} model${status.models === 1 ? '' : 's'}, ${status.ready} ready${status.toPrepare > 0 ? `, ${status.toPrepare} to prepare` : ''}`}
          {tag ? <span className="folder-tag">{tag}</span> : null}
        </p>
      </div>
      {onRemove ? (
        <button type="button" className="btn btn-ghost btn-small btn-danger" disabled={busy} onClick={onRemove} aria-label={`Remove ${dir}`}>
          Remove
        </button>
      ) : null}
    </li>
  );
}

export function ModelsSection({ state, actions }: { state: SettingsState; actions: SettingsActions }) {
  const navigate = useStudio((s) => s.navigate);
  const add = useSave(actions);
  const remove = useSave(actions);
  const checks = useStudio((s) => s.settingsChecks.modelDirs);
  const stored = state.values.modelDirs;
  const extra = state.overrides.modelDirs ?? [];

  return (
    <SettingsSection
      id="settings-models"
      title="Models"
      subtitle="Folders the studio looks in for models: SDXL checkpoints (.safetensors) and diffusers folders, prepared in one click in the Models view, and ONNX model folders. A folder may be a model itself or hold several."
      action={
        <button type="button" className="btn-link" onClick={() => navigate('models')}>
          Open the Models view
        </button>
      }
    >
      <ul className="folder-list" aria-label="Model folders">
        <FolderLine dir={state.builtInModelDir} state={state} tag="Always scanned" busy={false} />
        {stored.map((dir) => (
          <FolderLine
            key={dir}
            dir={dir}
            state={state}
            tag={null}
            busy={remove.saving}
            onRemove={() => void remove.save({ modelDirs: stored.filter((d) => d !== dir) })}
          />
        ))}
        {extra.map((dir) => (
          <FolderLine key={`run:${dir}`} dir={dir} state={state} tag="This run only (--models)" busy={false} />
        ))}
      </ul>
      {remove.error ? <p className="field-error">{remove.error}</p> : null}
      {/* The list above already says what each folder holds; a check adds only what is wrong. */}
      <CheckResults items={checks?.filter((c) => c.ok === false)} label="Model folder check" />
      <PathInput
        label="Model folder to add"
        placeholder="/path/to/models"
        submitLabel="Add folder"
        pickTitle="Add a model folder"
        busy={add.saving}
        error={add.error}
        clearOnSubmit
        onEdit={add.clear}
        onSubmit={async (path) => {
          if (path === '') {
            add.fail('Type the full path of a folder first.');
            return false;
          }
          return add.save({ modelDirs: [...stored, path] });
        }}
      />
    </SettingsSection>
  );
}
