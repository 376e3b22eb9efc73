/**
 * How much one Generate makes: images per job, runs (A1111's batch count, with the seeds going on
 * from run to run) and the X/Y grid, one job per cell shown as one comparison sheet.
 */
import { useId, useState } from 'react';
import { PRESETS } from '../../../contract.ts';
import { useStudio } from '../../../store.ts';
import { GRID_MAX_CELLS, GRID_PARAM_LABELS, GRID_PARAMS, RUNS_MAX, imagesPerJob, runSeeds } from '../grid.ts';
import type { GridParam } from '../grid.ts';
import { parseGrid } from '../request.ts';
import { useFieldError } from './field-error.tsx';

/** Images per job: SDXL makes a batch (1 to 12), WAN one picture or clip. */
export function ImagesField() {
  const type = useStudio((s) => s.draft.type);
  const count = useStudio((s) => s.draft.count);
  const update = useStudio((s) => s.updateDraft);
  const id = useId();
  const error = useFieldError('count');
  const preset = PRESETS[type];
  if (preset.maxCount <= 1) return null;
  return (
    <div className="field">
      <label htmlFor={id}>Images</label>
      <input
        id={id}
        inputMode="numeric"
        autoComplete="off"
        value={count}
        placeholder={`${preset.count} (preset)`}
        onChange={(e) => update({ count: e.target.value })}
        {...error.props}
      />
      {error.message ?? <p className="ws-hint">per job, 1 to {preset.maxCount}</p>}
    </div>
  );
}

/** Jobs per Generate, and which seeds they get. */
export function RunsField() {
  const runs = useStudio((s) => s.draft.runs);
  const seed = useStudio((s) => s.draft.seed);
  const type = useStudio((s) => s.draft.type);
  const count = useStudio((s) => s.draft.count);
  const grid = useStudio((s) => s.draft.xParam !== '');
  const update = useStudio((s) => s.updateDraft);
  const id = useId();
  const hintId = useId();
  const error = useFieldError('runs');
  const n = runs.trim() === '' ? 1 : Number(runs);
  const locked = seed.trim() !== '' && Number.isSafeInteger(Number(seed)) && Number(seed) >= 0;
  const perJob = imagesPerJob(type, count);
  let hint = 'one job per Generate';
  if (grid) hint = 'the grid decides: one job per cell';
  else if (Number.isInteger(n) && n > 1) {
    if (locked) {
      const seeds = runSeeds(Number(seed), n, perJob);
      hint = `seeds ${seeds[0]}, ${seeds[1]}${n > 2 ? `, … ${seeds[n - 1]}` : ''} (+${perJob} per run)`;
    } else hint = `${n} jobs, each with a new random seed`;
  }
  return (
    <div className="field">
      <label htmlFor={id}>Runs</label>
      <input
        id={id}
        inputMode="numeric"
        autoComplete="off"
        value={grid ? '' : runs}
        disabled={grid}
        placeholder="1"
        onChange={(e) => update({ runs: e.target.value })}
        aria-describedby={error.message ? undefined : hintId}
        {...error.props}
      />
      {error.message ?? (
        <p className="ws-hint" id={hintId}>
          {hint}
        </p>
      )}
    </div>
  );
}

function AxisRow({ axis }: { axis: 'x' | 'y' }) {
  const param = useStudio((s) => (axis === 'x' ? s.draft.xParam : s.draft.yParam));
  const values = useStudio((s) => (axis === 'x' ? s.draft.xValues : s.draft.yValues));
  const update = useStudio((s) => s.updateDraft);
  const paramId = useId();
  const valuesId = useId();
  const hintId = useId();
  const error = useFieldError(axis === 'x' ? 'xValues' : 'yValues');
  const name = axis.toUpperCase();
  const placeholder: Record<GridParam, string> = {
    seed: '1234, 1235, 1236',
    steps: '10-40 (+10)',
    guidance: '4, 6, 8',
    sampler: 'Euler, DPM++ 2M Karras',
    prompt: 'dusk, noon, night',
  };
  return (
    <div className="ws-axis">
      <div className="field">
        <label htmlFor={paramId}>{name} axis</label>
        <select
          id={paramId}
          value={param}
          onChange={(e) =>
            update(axis === 'x' ? { xParam: e.target.value as GridParam | '', ...(e.target.value === '' ? { yParam: '' } : {}) } : { yParam: e.target.value as GridParam | '' })
          }
        >
          <option value="">{axis === 'x' ? 'No grid' : 'None'}</option>
          {GRID_PARAMS.map((p) => (
            <option key={p} value={p}>
              {GRID_PARAM_LABELS[p]}
            </option>
          ))}
        </select>
      </div>
      {param !== '' ? (
        <div className="field ws-axis-values">
          <label htmlFor={valuesId}>{name} values</label>
          <input
            id={valuesId}
            autoComplete="off"
            spellCheck={false}
            value={values}
            placeholder={placeholder[param]}
            onChange={(e) => update(axis === 'x' ? { xValues: e.target.value } : { yValues: e.target.value })}
            aria-describedby={error.message ? undefined : hintId}
            {...error.props}
          />
          {error.message ?? (
            <p className="ws-hint" id={hintId}>
              {param === 'prompt' ? 'the first value is the text to find in the prompt; each value replaces it' : 'comma-separated; ranges as 10-40 (+10) or 3-7 [3]'}
            </p>
          )}
        </div>
      ) : null}
    </div>
  );
}

/** The X/Y grid: opened on demand (it changes what Generate does), and says what it will queue. */
export function GridFields() {
  const draft = useStudio((s) => s.draft);
  const active = draft.xParam !== '';
  const [open, setOpen] = useState(active);
  const regionId = useId();
  const { grid } = parseGrid(draft);
  const cells = grid ? grid.x.values.length * (grid.y?.values.length ?? 1) : 0;
  return (
    <section className="ws-grid-box" aria-label="X/Y grid">
      {active ? (
        <h3 className="ws-grid-title">
          X/Y grid <span className="optional">one job per cell</span>
        </h3>
      ) : (
        <button type="button" className="ws-disclosure" aria-expanded={open} aria-controls={regionId} onClick={() => setOpen(!open)}>
          <span className="ws-disclosure-mark" aria-hidden="true">
            {open ? '▾' : '▸'}
          </span>
          X/Y grid <span className="optional">compare settings side by side</span>
        </button>
      )}
      {open || active ? (
        <div id={regionId} className="ws-grid-fields">
          <AxisRow axis="x" />
          {active ? <AxisRow axis="y" /> : null}
          <p className="ws-hint" role="status">
            {grid
              ? `${grid.x.values.length}${grid.y ? ` × ${grid.y.values.length}` : ''} grid: ${cells} job${cells === 1 ? '' : 's'} of one image each, shown as one sheet${draft.seed.trim() === '' && grid.x.param !== 'seed' && grid.y?.param !== 'seed' ? ', all on one random seed' : ''}.`
              : active
                ? `Up to ${GRID_MAX_CELLS} cells, one job each.`
                : 'Pick a parameter for X (and one for Y) to queue one job per value and compare them in one sheet.'}
          </p>
        </div>
      ) : null}
    </section>
  );
}

/** What one press queues, for the foot of the form. */
export function useGenerateSummary(): string {
  const draft = useStudio((s) => s.draft);
  const preset = PRESETS[draft.type];
  const { grid } = parseGrid(draft);
  if (grid) {
    const cells = grid.x.values.length * (grid.y?.values.length ?? 1);
    return `queues a ${grid.x.values.length}${grid.y ? `×${grid.y.values.length}` : ''} grid (${cells} job${cells === 1 ? '' : 's'})`;
  }
  const perJob = imagesPerJob(draft.type, draft.count);
  const runs = draft.runs.trim() === '' ? 1 : Number(draft.runs);
  const n = Number.isInteger(runs) && runs >= 1 && runs <= RUNS_MAX ? runs : 1;
  const one = preset.kind === 'video' ? 'a clip' : perJob === 1 ? '1 image' : `${perJob} images`;
  if (n === 1) return `queues ${one}`;
  return preset.kind === 'video' ? `queues ${n} clips` : `queues ${n} runs · ${n * perJob} images`;
}
