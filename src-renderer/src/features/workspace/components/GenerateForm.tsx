/** The Workspace's left column: what to make and how, and the Generate button. */
import { useEffect, useId, useRef, useState } from 'react';
import type { FormEvent, KeyboardEvent } from 'react';
import { PRESETS } from '../../../contract.ts';
import type { JobPreset } from '../../../contract.ts';
import { useStudio } from '../../../store.ts';
import { clipDuration, jobTypeGroups, SAMPLER_LABELS } from '../options.ts';
import { isJobType } from '../request.ts';
import { useWorkspaceActions } from '../use-workspace-actions.ts';
import { GridFields, ImagesField, RunsField, useGenerateSummary } from './BatchFields.tsx';
import { useFieldError } from './field-error.tsx';
import { PromptFields } from './PromptFields.tsx';
import { RecipeReportPanel } from './RecipeLoad.tsx';
import { FramesField, GuidanceField, SamplerField, SeedField, SizeField, StepsField } from './SettingsFields.tsx';
import { MissingModelNote, ModelField, useModelMissing } from './ModelField.tsx';
import { useLiveValidation } from './use-live-validation.ts';

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);
const SHORTCUT = isMac ? '⌘ Enter' : 'Ctrl Enter';

/** The chosen type's preset in one line: what a job of this type does when nothing is changed. */
function presetSummary(p: JobPreset): string {
  const output =
    p.kind === 'video'
      ? `${p.count} MP4 · ${p.frames} frames (${clipDuration(p.frames, p.fps)})`
      : `${p.count} PNG${p.count === 1 ? '' : 's'}`;
  return [
    p.family === 'sdxl' ? 'SDXL' : 'WAN 2.1',
    output,
    `${p.width}×${p.height}`,
    `${p.steps} steps`,
    `CFG ${p.guidance}`,
    SAMPLER_LABELS[p.scheduler],
    p.enhance ? 'prompt rewritten by Qwen 2.5 first' : null,
  ]
    .filter(Boolean)
    .join(' · ');
}

function JobTypeField() {
  const type = useStudio((s) => s.draft.type);
  const presets = useStudio((s) => s.presets);
  const setJobType = useStudio((s) => s.setJobType);
  const id = useId();
  const summaryId = useId();
  const error = useFieldError('type');
  const preset = presets.find((p) => p.jobType === type) ?? PRESETS[type];
  return (
    <div className="field">
      <label htmlFor={id}>Job type</label>
      <select
        id={id}
        value={type}
        aria-describedby={summaryId}
        onChange={(e) => isJobType(e.target.value) && setJobType(e.target.value)}
        {...error.props}
      >
        {jobTypeGroups(presets).map((g) => (
          <optgroup key={g.label} label={g.label}>
            {g.types.map((t) => (
              <option key={t} value={t}>
                {(presets.find((p) => p.jobType === t) ?? PRESETS[t]).label}
              </option>
            ))}
          </optgroup>
        ))}
      </select>
      <p className="ws-preset" id={summaryId}>
        <span className="ws-preset-kicker">Preset</span> {presetSummary(preset)}
      </p>
      {error.message}
    </div>
  );
}

/** A short note when settings were just put into the form from a result (a file or the Library gets a report instead). */
function AppliedNote() {
  const applied = useStudio((s) => s.recipeApplied);
  const reported = useStudio((s) => s.recipeReport !== null);
  const [visible, setVisible] = useState(false);
  useEffect(() => {
    if (applied === 0) return;
    setVisible(true);
    const t = setTimeout(() => setVisible(false), 4000);
    return () => clearTimeout(t);
  }, [applied]);
  return (
    <p className="ws-applied" role="status">
      {visible && !reported ? 'Settings loaded into the form. Change anything, then Generate.' : ''}
    </p>
  );
}

export function GenerateForm() {
  const actions = useWorkspaceActions();
  const otherError = useFieldError('other');
  const applied = useStudio((s) => s.recipeApplied);
  const [pending, setPending] = useState(0);
  const form = useRef<HTMLFormElement>(null);
  const missingId = useId();
  const modelMissing = useModelMissing();
  const summary = useGenerateSummary();
  useLiveValidation();

  // Settings sent back from a result: bring the form into view with the prompt ready to edit.
  useEffect(() => {
    if (applied === 0) return;
    const prompt = form.current?.querySelector<HTMLTextAreaElement>('textarea.prompt-input');
    prompt?.focus({ preventScroll: true });
    form.current?.scrollTo({ top: 0, behavior: 'smooth' });
  }, [applied]);

  // Every press queues one job, even while an earlier one is still on its way: queuing the same
  // prompt twice is how people ask for more variations, and a dropped press would be a silent loss.
  async function submit() {
    setPending((n) => n + 1);
    try {
      const error = await actions.generate();
      // The first field with a mistake gets the focus (once it shows as invalid).
      if (error) requestAnimationFrame(() => form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
    } finally {
      setPending((n) => n - 1);
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

  return (
    <form ref={form} className="ws-form" onSubmit={onSubmit} onKeyDown={onKeyDown} noValidate aria-label="Generation settings">
      <div className="ws-form-body">
        <AppliedNote />
        <RecipeReportPanel />
        <PromptFields />
        <JobTypeField />
        <ModelField />
        <SeedField />
        <div className="ws-row">
          <ImagesField />
          <RunsField />
        </div>
        <div className="ws-row">
          <StepsField />
          <SamplerField />
        </div>
        <GuidanceField />
        <SizeField />
        <FramesField />
        <GridFields />
        {otherError.message}
      </div>
      <div className="ws-form-foot">
        <MissingModelNote id={missingId} />
        <span className="hint" data-testid="generate-summary">
          <kbd>{SHORTCUT}</kbd> {summary}
        </span>
        <button type="submit" className="btn btn-primary btn-large" aria-busy={pending > 0} aria-describedby={modelMissing ? missingId : undefined}>
          Generate
        </button>
      </div>
    </form>
  );
}
