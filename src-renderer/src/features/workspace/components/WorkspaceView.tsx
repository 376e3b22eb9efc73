import { useId, useState } from 'react';
import type { FormEvent, KeyboardEvent } from 'react';
import { useActions } from '../../../app/actions-context.tsx';
import { ViewHeader } from '../../../app/ViewHeader.tsx';
import { PRESETS } from '../../../contract.ts';
import type { JobPreset } from '../../../contract.ts';
import { useStudio } from '../../../store.ts';
import { JobRow } from '../../jobs/components/JobRow.tsx';
import { draftToRequest, isJobType } from '../request.ts';
import type { FieldError } from '../request.ts';
import type { WorkspaceDraft } from '../store.ts';

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);
const SHORTCUT = isMac ? '⌘ Enter' : 'Ctrl Enter';

/** The engine's messages start lower-case (they read well after a field name); alone they start a sentence. */
const sentence = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function PresetCard({ preset }: { preset: JobPreset }) {
  const output =
    preset.kind === 'video'
      ? `${preset.count} MP4 · ${preset.frames} frames at ${preset.fps} fps`
      : `${preset.count} PNG${preset.count === 1 ? '' : 's'}`;
  return (
    <section className="panel preset-card" aria-label="Defaults">
      <h2 className="panel-title">{preset.label}</h2>
      <p className="panel-subtitle">Defaults; what you type in the form overrides them.</p>
      <dl className="facts">
        <dt>Model</dt>
        <dd>{preset.family === 'sdxl' ? 'SDXL' : 'WAN 2.1'}</dd>
        <dt>Output</dt>
        <dd>{output}</dd>
        <dt>Size</dt>
        <dd>
          {preset.width}×{preset.height}
        </dd>
        <dt>Steps</dt>
        <dd>{preset.steps}</dd>
        <dt>Guidance</dt>
        <dd>{preset.guidance}</dd>
        <dt>Sampler</dt>
        <dd>{preset.scheduler}</dd>
        <dt>Prompt</dt>
        <dd>{preset.enhance ? 'enhanced by Qwen 2.5 7B first' : 'used as written'}</dd>
      </dl>
    </section>
  );
}

function Submitted() {
  const submitted = useStudio((s) => s.submitted);
  const navigate = useStudio((s) => s.navigate);
  return (
    <section className="panel" aria-label="Submitted from here">
      <div className="panel-title-row">
        <h2 className="panel-title">Submitted from here</h2>
        {submitted.length > 0 ? (
          <button type="button" className="btn btn-link" onClick={() => navigate('queue')}>
            Open queue
          </button>
        ) : null}
      </div>
      {submitted.length === 0 ? (
        <p className="muted">Jobs you generate appear here with their live status.</p>
      ) : (
        <ul className="job-list job-list--compact">
          {submitted.slice(0, 4).map((id) => (
            <JobRow key={id} id={id} compact />
          ))}
        </ul>
      )}
    </section>
  );
}

export function WorkspaceView() {
  const draft = useStudio((s) => s.draft);
  const updateDraft = useStudio((s) => s.updateDraft);
  const presets = useStudio((s) => s.presets);
  const actions = useActions();
  const [error, setError] = useState<FieldError | null>(null);
  const [pending, setPending] = useState(0);
  const ids = { prompt: useId(), negative: useId(), type: useId(), seed: useId(), steps: useId(), error: useId() };
  const preset = presets.find((p) => p.jobType === draft.type) ?? PRESETS[draft.type];

  const update = (patch: Partial<WorkspaceDraft>) => {
    updateDraft(patch);
    if (error && Object.keys(patch).includes(error.field)) setError(null);
  };

  // Every press queues one job, even while an earlier one is still on its way: queuing the same
  // prompt twice is how people ask for more variations, and a dropped press would be a silent loss.
  async function submit() {
    // Read at the moment of the press, not from the last render, so a keystroke just before
    // Ctrl+Enter is never lost.
    const built = draftToRequest(useStudio.getState().draft);
    if ('error' in built) {
      setError(built.error);
      return;
    }
    setError(null);
    setPending((n) => n + 1);
    const result = await actions.enqueue(built.request);
    setPending((n) => n - 1);
    if ('error' in result && result.error.field) {
      setError({ field: result.error.field.replace(/^request\./, ''), message: result.error.message });
    }
  }

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit();
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void submit();
    }
  };
  const fieldProps = (field: string) =>
    error?.field === field ? { 'aria-invalid': true as const, 'aria-describedby': ids.error } : {};
  const errorFor = (field: string) =>
    error?.field === field ? (
      <p className="field-error" id={ids.error}>
        {sentence(error.message)}
      </p>
    ) : null;
  const otherError = error && !['prompt', 'negativePrompt', 'type', 'seed', 'steps'].includes(error.field) ? error : null;

  return (
    <div className="view">
      <ViewHeader
        title="Workspace"
        description="Describe what you want to see, pick a job type and generate. It runs on your GPU; follow it here or in the Queue."
      />
      <div className="workspace-grid">
        <form className="panel compose" onSubmit={onSubmit} onKeyDown={onKeyDown} noValidate>
          <div className="field">
            <label htmlFor={ids.prompt}>Prompt</label>
            <textarea
              id={ids.prompt}
              className="prompt-input"
              rows={6}
              value={draft.prompt}
              placeholder="A lighthouse on a basalt cliff at dusk, volumetric light, 35mm film grain"
              onChange={(e) => update({ prompt: e.target.value })}
              {...fieldProps('prompt')}
            />
            {errorFor('prompt')}
          </div>
          <div className="field">
            <label htmlFor={ids.negative}>
              Negative prompt <span className="optional">optional</span>
            </label>
            <textarea
              id={ids.negative}
              rows={2}
              value={draft.negativePrompt}
              placeholder="What to keep out: blurry, washed out, text, watermark"
              onChange={(e) => update({ negativePrompt: e.target.value })}
              {...fieldProps('negativePrompt')}
            />
            {errorFor('negativePrompt')}
          </div>
          <div className="field-row">
            <div className="field field--grow">
              <label htmlFor={ids.type}>Job type</label>
              <select
                id={ids.type}
                value={draft.type}
                onChange={(e) => isJobType(e.target.value) && update({ type: e.target.value, steps: '' })}
                {...fieldProps('type')}
              >
                {(presets.length > 0 ? presets : Object.values(PRESETS)).map((p) => (
                  <option key={p.jobType} value={p.jobType}>
                    {p.label}
                  </option>
                ))}
              </select>
              {errorFor('type')}
            </div>
            <div className="field">
              <label htmlFor={ids.seed}>Seed</label>
              <input
                id={ids.seed}
                inputMode="numeric"
                autoComplete="off"
                value={draft.seed}
                placeholder="Random"
                onChange={(e) => update({ seed: e.target.value })}
                {...fieldProps('seed')}
              />
              {errorFor('seed')}
            </div>
            <div className="field field--narrow">
              <label htmlFor={ids.steps}>Steps</label>
              <input
                id={ids.steps}
                inputMode="numeric"
                autoComplete="off"
                value={draft.steps}
                placeholder={`default ${preset.steps}`}
                onChange={(e) => update({ steps: e.target.value })}
                {...fieldProps('steps')}
              />
              {errorFor('steps')}
            </div>
          </div>
          {otherError ? <p className="field-error">{sentence(otherError.message)}</p> : null}
          <div className="form-foot">
            <span className="hint">
              <kbd>{SHORTCUT}</kbd> to generate
            </span>
            <button type="submit" className="btn btn-primary btn-large" aria-busy={pending > 0}>
              Generate
            </button>
          </div>
        </form>
        <div className="workspace-side">
          <PresetCard preset={preset} />
          <Submitted />
        </div>
      </div>
    </div>
  );
}
