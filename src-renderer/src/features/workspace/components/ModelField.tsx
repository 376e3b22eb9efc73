/**
 * Which model a job runs on: the ready models of the job type's family, by the name they were given
 * and how they are stored, or the engine's default (its first ready one). When the family has none,
 * the form says so beside Generate and links to where to fix it (Models → Add model…, Prepare, or
 * Settings → Models for a WAN folder).
 */
import { useId } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { PRESETS } from '../../../contract.ts';
import { useStudio } from '../../../store.ts';
import { missingModelNote, modelOptionLabel, readyModels } from '../../models/logic.ts';
import { useFieldError } from './field-error.tsx';

export function ModelField() {
  const family = useStudio((s) => PRESETS[s.draft.type].family);
  const model = useStudio((s) => s.draft.model);
  const update = useStudio((s) => s.updateDraft);
  const ready = useStudio(useShallow((s) => readyModels(s.models, family)));
  const id = useId();
  const hintId = useId();
  const error = useFieldError('model');
  const known = model === '' || ready.some((m) => m.id === model);
  const first = ready[0];
  return (
    <div className="field">
      <label htmlFor={id}>Model</label>
      <select id={id} value={model} onChange={(e) => update({ model: e.target.value })} aria-describedby={error.message ? undefined : hintId} {...error.props}>
        <option value="">Default (first ready)</option>
        {ready.map((m) => (
          <option key={m.id} value={m.id}>
            {modelOptionLabel(m)}
          </option>
        ))}
        {known ? null : <option value={model}>{model} (not available now)</option>}
      </select>
      {error.message ?? (
        <p className="ws-hint" id={hintId}>
          {!known
            ? 'This model is not ready on this machine; pick another or the default.'
            : model === '' && first
              ? `Default now: ${modelOptionLabel(first)}`
              : model !== ''
                ? (ready.find((m) => m.id === model)?.description ?? '')
                : ''}
        </p>
      )}
    </div>
  );
}

/** Beside Generate: why a job of this type would fail now, with the way to fix it. */
export function MissingModelNote({ id }: { id: string }) {
  const family = useStudio((s) => PRESETS[s.draft.type].family);
  const models = useStudio((s) => s.models);
  const navigate = useStudio((s) => s.navigate);
  const openAddModel = useStudio((s) => s.openAddModel);
  const note = missingModelNote(models, family);
  if (!note) return null;
  return (
    <p className="ws-model-missing" id={id} role="status">
      {note.message}{' '}
      <button
        type="button"
        className="btn-link"
        onClick={() => {
          navigate(note.action === 'folders' ? 'settings' : 'models');
          if (note.action === 'add') openAddModel();
        }}
      >
        {note.action === 'prepare' ? 'Open Models' : note.action === 'add' ? 'Add model…' : 'Model folders'}
      </button>
    </p>
  );
}

/** Whether the note above shows for the current job type (for the Generate button's description). */
export function useModelMissing(): boolean {
  const family = useStudio((s) => PRESETS[s.draft.type].family);
  const models = useStudio((s) => s.models);
  return missingModelNote(models, family) !== null;
}
