/** The Workspace's parameter fields: seed, steps, guidance, sampler, size and frames. */
import { Slider, ToggleGroup } from 'radix-ui';
import { useId } from 'react';
import { LIMITS } from '../../../contract.ts';
import { useStudio } from '../../../store.ts';
import { clipDuration, FRAME_CHOICES, ratioLabel, SAMPLER_LABELS, samplersFor, sizesFor } from '../options.ts';
import { effectiveSettings } from '../request.ts';
import { randomSeed } from '../grid.ts';
import { useFieldError } from './field-error.tsx';
import { DiceIcon, LockIcon, SwapIcon, UnlockIcon } from '../../../components/icons.tsx';

export { randomSeed };

export function SeedField() {
  const seed = useStudio((s) => s.draft.seed);
  const update = useStudio((s) => s.updateDraft);
  const lastSeed = useStudio((s) => {
    const id = s.submitted[0];
    return id ? (s.jobs[id]?.params.seed ?? null) : null;
  });
  const id = useId();
  const error = useFieldError('seed');
  const locked = seed.trim() !== '';
  return (
    <div className="field">
      <label htmlFor={id}>Seed</label>
      <div className="ws-seed">
        <input
          id={id}
          inputMode="numeric"
          autoComplete="off"
          value={seed}
          placeholder="Random"
          onChange={(e) => update({ seed: e.target.value })}
          {...error.props}
        />
        <button
          type="button"
          className="ws-icon-btn"
          aria-label="Roll a new random number"
          title="New random seed, kept for the next jobs"
          onClick={() => update({ seed: String(randomSeed()) })}
        >
          <DiceIcon />
        </button>
        <button
          type="button"
          className="ws-icon-btn ws-lock"
          aria-label="Lock"
          aria-pressed={locked}
          title={
            locked
              ? 'Locked: every job uses this seed. Press for a new random seed each time.'
              : lastSeed !== null
                ? `Random for each job. Press to keep the last one (${lastSeed}).`
                : 'Random for each job. Press to keep one.'
          }
          onClick={() => update({ seed: locked ? '' : String(lastSeed ?? randomSeed()) })}
        >
          {locked ? <LockIcon /> : <UnlockIcon />}
        </button>
      </div>
      {error.message ?? <p className="ws-hint">{locked ? 'Same seed for every job' : 'A new seed for every job'}</p>}
    </div>
  );
}

export function StepsField() {
  const steps = useStudio((s) => s.draft.steps);
  const preset = useStudio((s) => effectiveSettings(s.draft).preset.steps);
  const update = useStudio((s) => s.updateDraft);
  const id = useId();
  const error = useFieldError('steps');
  return (
    <div className="field">
      <label htmlFor={id}>Steps</label>
      <input
        id={id}
        inputMode="numeric"
        autoComplete="off"
        value={steps}
        placeholder={`${preset} (preset)`}
        onChange={(e) => update({ steps: e.target.value })}
        {...error.props}
      />
      {error.message}
    </div>
  );
}

export function SamplerField() {
  const draft = useStudio((s) => s.draft);
  const update = useStudio((s) => s.updateDraft);
  const { preset } = effectiveSettings(draft);
  const id = useId();
  const error = useFieldError('sampler');
  return (
    <div className="field">
      <label htmlFor={id}>Sampler</label>
      <select id={id} value={draft.sampler} onChange={(e) => update({ sampler: e.target.value })} {...error.props}>
        <option value="">{SAMPLER_LABELS[preset.scheduler]} (preset)</option>
        {samplersFor(preset.family)
          .filter((s) => s !== preset.scheduler)
          .map((s) => (
            <option key={s} value={s}>
              {SAMPLER_LABELS[s]}
            </option>
          ))}
      </select>
      {error.message}
    </div>
  );
}

export function GuidanceField() {
  const draft = useStudio((s) => s.draft);
  const guidance = draft.guidance;
  const effective = effectiveSettings(draft);
  const update = useStudio((s) => s.updateDraft);
  const id = useId();
  const labelId = useId();
  const error = useFieldError('guidance');
  const value = Math.min(LIMITS.guidanceMax, Math.max(LIMITS.guidanceMin, effective.guidance));
  const max = effective.preset.family === 'sdxl' ? 15 : 10;
  return (
    <div className="field">
      <div className="ws-label-row">
        <label htmlFor={id} id={labelId}>
          Guidance <span className="optional">CFG</span>
        </label>
        {guidance !== '' ? (
          <button type="button" className="btn-link ws-reset" onClick={() => update({ guidance: '' })}>
            Preset {effective.preset.guidance}
          </button>
        ) : null}
      </div>
      <div className="ws-slider-row">
        <Slider.Root
          className="ws-slider"
          min={LIMITS.guidanceMin}
          max={Math.max(max, value)}
          step={0.5}
          value={[value]}
          onValueChange={([v]) => update({ guidance: v === effective.preset.guidance ? '' : String(v) })}
        >
          <Slider.Track className="ws-slider-track">
            <Slider.Range className="ws-slider-range" />
          </Slider.Track>
          <Slider.Thumb className="ws-slider-thumb" aria-labelledby={labelId} />
        </Slider.Root>
        <input
          id={id}
          className="ws-number"
          inputMode="decimal"
          autoComplete="off"
          value={guidance}
          placeholder={String(effective.preset.guidance)}
          onChange={(e) => update({ guidance: e.target.value })}
          {...error.props}
        />
      </div>
      {error.message}
    </div>
  );
}

/** The aspect glyph of a size tile: a rectangle of the size's proportions. */
function AspectGlyph({ width, height }: { width: number; height: number }) {
  const scale = 18 / Math.max(width, height);
  return (
    <span className="ws-aspect" aria-hidden="true">
      <span style={{ width: `${Math.round(width * scale)}px`, height: `${Math.round(height * scale)}px` }} />
    </span>
  );
}

export function SizeField() {
  const draft = useStudio((s) => s.draft);
  const update = useStudio((s) => s.updateDraft);
  const { preset, width, height } = effectiveSettings(draft);
  const widthId = useId();
  const heightId = useId();
  const widthError = useFieldError('width');
  const heightError = useFieldError('height');
  const sizes = sizesFor(preset.family);
  const key = (w: number, h: number) => `${w}x${h}`;
  const setSize = (w: number, h: number) =>
    update(w === preset.width && h === preset.height ? { width: '', height: '' } : { width: String(w), height: String(h) });
  return (
    <fieldset className="field ws-fieldset">
      <legend className="ws-legend">
        Size{' '}
        <span className="optional">
          {width}×{height} · {Number.isFinite(width / height) && height > 0 ? ratioLabel(width, height) : '—'}
        </span>
      </legend>
      <ToggleGroup.Root
        type="single"
        className="ws-sizes"
        aria-label="Size presets"
        value={key(width, height)}
        onValueChange={(v) => {
          const s = sizes.find((x) => key(x.width, x.height) === v);
          if (s) setSize(s.width, s.height);
        }}
      >
        {sizes.map((s) => (
          <ToggleGroup.Item
            key={key(s.width, s.height)}
            value={key(s.width, s.height)}
            className="ws-size"
            aria-label={`${s.width}×${s.height} (${s.ratio})`}
            title={`${s.width}×${s.height}${s.exact ? ` — exactly ${s.exact}` : ''}`}
          >
            <AspectGlyph width={s.width} height={s.height} />
            <span className="ws-size-ratio">{s.ratio}</span>
            <span className="ws-size-dims">
              {s.width}×{s.height}
            </span>
          </ToggleGroup.Item>
        ))}
      </ToggleGroup.Root>
      <div className="ws-dims">
        <label className="ws-dim" htmlFor={widthId}>
          <span>Width</span>
          <input
            id={widthId}
            inputMode="numeric"
            autoComplete="off"
            value={draft.width}
            placeholder={String(preset.width)}
            onChange={(e) => update({ width: e.target.value, height: draft.height || String(height) })}
            {...widthError.props}
          />
        </label>
        <button
          type="button"
          className="ws-icon-btn"
          aria-label="Swap width and height"
          title="Portrait ⇄ landscape"
          onClick={() => setSize(height, width)}
        >
          <SwapIcon />
        </button>
        <label className="ws-dim" htmlFor={heightId}>
          <span>Height</span>
          <input
            id={heightId}
            inputMode="numeric"
            autoComplete="off"
            value={draft.height}
            placeholder={String(preset.height)}
            onChange={(e) => update({ height: e.target.value, width: draft.width || String(width) })}
            {...heightError.props}
          />
        </label>
        <span className="ws-hint ws-dims-note">multiples of {preset.sizeMultiple}</span>
      </div>
      {widthError.message}
      {heightError.message}
    </fieldset>
  );
}

export function FramesField() {
  const draft = useStudio((s) => s.draft);
  const update = useStudio((s) => s.updateDraft);
  const { preset, frames } = effectiveSettings(draft);
  const error = useFieldError('frames');
  if (preset.kind !== 'video') return null;
  const choices = FRAME_CHOICES.includes(frames) ? FRAME_CHOICES : [...FRAME_CHOICES, frames].sort((a, b) => a - b);
  return (
    <fieldset className="field ws-fieldset">
      <legend className="ws-legend">
        Frames{' '}
        <span className="optional">
          {frames} frames · {clipDuration(frames, preset.fps)} at {preset.fps} fps
        </span>
      </legend>
      <ToggleGroup.Root
        type="single"
        className="ws-frames"
        aria-label="Frames"
        value={String(frames)}
        onValueChange={(v) => v && update({ frames: Number(v) === preset.frames ? '' : v })}
        {...error.props}
      >
        {choices.map((f) => (
          <ToggleGroup.Item key={f} value={String(f)} className="ws-frame" aria-label={`${f} frames, ${clipDuration(f, preset.fps)}`}>
            <span className="ws-frame-count">{f}</span>
            <span className="ws-frame-secs">{clipDuration(f, preset.fps)}</span>
          </ToggleGroup.Item>
        ))}
      </ToggleGroup.Root>
      {error.message}
    </fieldset>
  );
}
