/** The Workspace's left column: what to make and how, and the Generate button. */
import { useEffect, useId, useRef, useState } from 'react';
import type { FormEvent, KeyboardEvent } from 'react';
import { PRESETS } from '../../../contract.ts';
import type { JobPreset } from '../../../contract.ts';
import { useStudio } from '../../../store.ts';
import { clipDuration, jobTypeGroups, SAMPLER_LABELS } from '../options.ts';
import { isJobType } from '../request.ts';
import { useWorkspaceActions } from '../use-workspace-actions.ts';
import { useFieldError } from './field-error.tsx';
import { PromptFields } from './PromptFields.tsx';
import { FramesField, GuidanceField, SamplerField, SeedField, SizeField, StepsField } from './SettingsFields.tsx';
import { MissingModelNote, ModelField, useModelMissing } from './ModelField.tsx';

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

/** A short note when settings were just put into the form from a result or the Library. */
function AppliedNote() {
  const applied = useStudio((s) => s.recipeApplied);
  const [visible, setVisible] = useState(false);
  useEffect(() => {
    if (applied === 0) return;
    setVisible(true);
    const t = setTimeout(() => setVisible(false), 4000);
    return () => clearTimeout(t);
  }, [applied]);
  return (
    <p className="ws-applied" role="status">
      {visible ? 'Settings loaded into the form. Change anything, then Generate.' : ''}
    </p>
  );
}

export function GenerateForm() {
  const actions = useWorkspaceActions();
  const type = useStudio((s) => s.draft.type);
  const otherError = useFieldError('other');
  const applied = useStudio((s) => s.recipeApplied);
  const [pending, setPending] = useState(0);
  const form = useRef<HTMLFormElement>(null);
  const preset = PRESETS[type];
  const missingId = useId();
  const modelMissing = useModelMissing();

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
      await actions.generate();
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

  const output = preset.kind === 'video' ? 'a clip' : preset.count === 1 ? '1 image' : `${preset.count} images`;
  return (
    <form ref={form} className="ws-form" onSubmit={onSubmit} onKeyDown={onKeyDown} noValidate aria-label="Generation settings">
      <div className="ws-form-body">
        <AppliedNote />
        <PromptFields />
        <JobTypeField />
        <ModelField />
        <SeedField />
        <div className="ws-row">
          <StepsField />
          <SamplerField />
        </div>
        <GuidanceField />
        <SizeField />
        <FramesField />
        {otherError.message}
      </div>
      <div className="ws-form-foot">
        <MissingModelNote id={missingId} />
        <span className="hint">
          <kbd>{SHORTCUT}</kbd> queues {output}
        </span>
        <button type="submit" className="btn btn-primary btn-large" aria-busy={pending > 0} aria-describedby={modelMissing ? missingId : undefined}>
          Generate
        </button>
      </div>
    </form>
  );
}
