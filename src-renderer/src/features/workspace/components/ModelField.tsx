/**
 * Which model a job runs on: the ready models of the job type's family, by the name they were given,
 * how they are stored and where they run, or the engine's default (the one made default in Models, else its first ready one). The pick
 * is remembered per job type. When the family has none — or an enhanced type has no Qwen model —
 * the form says so beside Generate and links to where to fix it (Models → Add model…, Prepare, or
 * Settings → Models for a model folder).
 */
import { useId } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { PRESETS } from '../../../contract.ts';
import { useStudio } from '../../../store.ts';
import { defaultModel, missingModelNote, modelOptionLabel, readyModels } from '../../models/logic.ts';
import { enhancerMissingNote, modelDetails } from '../model-place.ts';
import { useFieldError } from './field-error.tsx';

export function ModelField() {
  const family = useStudio((s) => PRESETS[s.draft.type].family);
  const model = useStudio((s) => s.draft.model);
  const update = useStudio((s) => s.updateDraft);
  const ready = useStudio(useShallow((s) => readyModels(s.models, family)));
  const id = useId();
  const hintId = useId();
  const error = useFieldError('model');
  const fallback = useStudio((s) => defaultModel(s.models, family));
  const removed = useStudio((s) => model !== '' && (s.models ?? []).some((m) => m.id === model && m.hidden));
  const known = model === '' || ready.some((m) => m.id === model);
  const shown = model === '' ? fallback : ready.find((m) => m.id === model);
  // A string, so a job's progress does not re-render the picker.
  const details = useStudio((s) => (shown ? modelDetails(shown, s.jobs, s.settings?.effective.providers ?? s.appInfo?.providers ?? []) : ''));
  return (
    <div className="field">
      <label htmlFor={id}>Model</label>
      <select id={id} value={model} onChange={(e) => update({ model: e.target.value })} aria-describedby={error.message ? undefined : hintId} {...error.props}>
        <option value="">{fallback ? `Default: ${modelOptionLabel(fallback)}` : 'Default (first ready)'}</option>
        {ready.map((m) => (
          <option key={m.id} value={m.id}>
            {modelOptionLabel(m)}
          </option>
        ))}
        {known ? null : <option value={model}>{model} (not available now)</option>}
      </select>
      {error.message ?? (
        <p className="ws-hint" id={hintId} data-testid="model-details">
          {!known
            ? removed
              ? 'This model was removed from the list in Models; pick another, the default, or put it back.'
              : 'This model is not ready on this machine; pick another or the default.'
            : shown
              ? `${model === '' ? (shown === ready[0] ? 'The first ready model · ' : 'The default chosen in Models · ') : ''}${details}`
              : ''}
        </p>
      )}
    </div>
  );
}

/** What stops a job of the chosen type now, with the way to fix it: its family's model, or the enhancer's. */
function useMissingNote(): { readonly message: string; readonly action: 'prepare' | 'add' | 'folders' } | null {
  const type = useStudio((s) => s.draft.type);
  const models = useStudio((s) => s.models);
  const note = missingModelNote(models, PRESETS[type].family);
  if (note) return note;
  const enhancer = PRESETS[type].enhance ? enhancerMissingNote(models) : null;
  return enhancer ? { message: enhancer, action: 'folders' } : null;
}

/** Beside Generate: why a job of this type would fail now, with the way to fix it. */
export function MissingModelNote({ id }: { id: string }) {
  const navigate = useStudio((s) => s.navigate);
  const openAddModel = useStudio((s) => s.openAddModel);
  const note = useMissingNote();
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
  return useMissingNote() !== null;
}
