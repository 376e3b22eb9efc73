/**
 * An X/Y grid's jobs as one comparison sheet, as A1111's X/Y plot draws it: the X values across,
 * the Y values down, each cell the picture its job made (or its progress), enlarged in a viewer
 * that steps through the sheet with the arrow keys.
 */
import { Dialog } from 'radix-ui';
import { useEffect, useState } from 'react';
import type { CSSProperties, KeyboardEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useActions } from '../../../app/actions-context.tsx';
import { toWireError } from '../../../api/index.ts';
import type { AssetView, JobView } from '../../../contract.ts';
import { formatFullTime, formatTime, jobTypeLabel } from '../../../format.ts';
import { useStudio } from '../../../store.ts';
import { GRID_PARAM_LABELS } from '../grid.ts';
import { assetSrc } from '../media.ts';
import type { Sheet } from '../store.ts';
import { useWorkspaceActions } from '../use-workspace-actions.ts';
import { exportSheetPng } from '../save-download.ts';
import { exportSummary } from '../sheet-export.ts';
import { sentence } from './field-error.tsx';
import { ChevronLeftIcon, ChevronRightIcon, CloseIcon } from '../../../components/icons.tsx';

/** Where a sheet stands, from its jobs' states. */
export function sheetProgress(jobs: readonly (JobView | undefined)[]): { done: number; failed: number; active: number; total: number } {
  let done = 0;
  let failed = 0;
  let active = 0;
  for (const job of jobs) {
    const state = job?.status.state;
    if (state === 'done') done++;
    else if (state === 'failed' || state === 'cancelled') failed++;
    else active++;
  }
  return { done, failed, active, total: jobs.length };
}

function cellLabel(sheet: Sheet, index: number): string {
  const col = index % sheet.x.labels.length;
  const row = Math.floor(index / sheet.x.labels.length);
  return sheet.y ? `${sheet.x.labels[col]}, ${sheet.y.labels[row]}` : sheet.x.labels[col]!;
}

/** The first picture of a done cell, read from the library once. */
function useCellAsset(job: JobView | undefined): AssetView | null {
  const actions = useWorkspaceActions();
  const loaded = useStudio((s) => (job ? s.jobAssets[job.id] : undefined));
  useEffect(() => {
    if (job?.status.state === 'done' && !loaded) void actions.loadJobAssets(job);
  }, [actions, job, loaded]);
  return loaded?.status === 'ready' ? (loaded.assets[0] ?? null) : null;
}

function SheetCell({ sheet, index, onOpen }: { sheet: Sheet; index: number; onOpen(): void }) {
  const id = sheet.cells[index] ?? '';
  const job = useStudio((s) => (id ? s.jobs[id] : undefined));
  const asset = useCellAsset(job);
  const label = cellLabel(sheet, index);
  const st = job?.status;
  let body;
  if (asset) {
    body = (
      <button type="button" className="ws-sheet-open" aria-label={`Enlarge ${label}`} onClick={onOpen}>
        <img src={assetSrc(asset, 'thumb')} alt={label} draggable={false} />
      </button>
    );
  } else if (!id || !st) {
    body = <span className="ws-sheet-state">{id ? 'Waiting' : 'Not queued'}</span>;
  } else if (st.state === 'running') {
    const pct = st.of > 0 ? Math.round((st.step / st.of) * 100) : 0;
    body = (
      <span className="ws-sheet-state ws-sheet-state--running">
        <span className="ws-sheet-bar" style={{ '--pct': `${pct}%` } as CSSProperties} aria-hidden="true" />
        {st.of > 0 ? `Step ${st.step} of ${st.of}` : 'Starting'}
      </span>
    );
  } else if (st.state === 'queued') body = <span className="ws-sheet-state">Queued</span>;
  else if (st.state === 'failed') body = <span className="ws-sheet-state ws-sheet-state--failed" title={sentence(st.message)}>Failed</span>;
  else if (st.state === 'cancelled') body = <span className="ws-sheet-state">Cancelled</span>;
  else body = <span className="ws-sheet-state">Loading…</span>;
  return (
    <td className="ws-sheet-cell" data-state={st?.state ?? 'none'} data-testid="sheet-cell">
      <div className="ws-sheet-tile">{body}</div>
    </td>
  );
}

function SheetViewer({ sheet, index, onIndex, onClose }: { sheet: Sheet; index: number; onIndex(i: number): void; onClose(): void }) {
  const id = sheet.cells[index] ?? '';
  const job = useStudio((s) => (id ? s.jobs[id] : undefined));
  const asset = useCellAsset(job);
  const total = sheet.cells.length;
  const go = (delta: number) => onIndex((index + delta + total) % total);
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      e.preventDefault();
      go(e.key === 'ArrowLeft' ? -1 : 1);
    }
  };
  return (
    <Dialog.Root open onOpenChange={(open) => !open && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="ws-overlay" />
        <Dialog.Content className="ws-lightbox" onKeyDown={onKeyDown} aria-describedby={undefined}>
          <div className="ws-lightbox-stage">
            {asset ? <img src={assetSrc(asset, 'original')} alt={`${cellLabel(sheet, index)}, full size`} /> : <p className="ws-hint">Not made yet</p>}
            {total > 1 ? (
              <>
                <button type="button" className="stage-nav ws-nav--prev" aria-label="Previous cell" onClick={() => go(-1)}>
                  <ChevronLeftIcon />
                </button>
                <button type="button" className="stage-nav ws-nav--next" aria-label="Next cell" onClick={() => go(1)}>
                  <ChevronRightIcon />
                </button>
              </>
            ) : null}
          </div>
          <div className="ws-lightbox-side">
            <Dialog.Title className="ws-lightbox-title">{cellLabel(sheet, index)}</Dialog.Title>
            <p className="ws-lightbox-prompt">{job?.params.prompt ?? sheet.prompt}</p>
            {job ? (
              <dl className="facts">
                <dt>Seed</dt>
                <dd>{asset?.seed ?? job.params.seed}</dd>
                <dt>Steps</dt>
                <dd>{job.params.steps}</dd>
                <dt>Guidance</dt>
                <dd>{job.params.guidance}</dd>
                <dt>Sampler</dt>
                <dd>{job.params.scheduler}</dd>
                <dt>Size</dt>
                <dd>
                  {job.params.width}×{job.params.height}
                </dd>
              </dl>
            ) : null}
            <p className="ws-hint">
              <kbd>←</kbd> <kbd>→</kbd> step through the sheet · <kbd>Esc</kbd> closes
            </p>
          </div>
          <Dialog.Close className="ws-icon-btn ws-dialog-close" aria-label="Close">
            <CloseIcon size={16} />
          </Dialog.Close>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

/**
 * "Export as PNG": the finished sheet as one picture, labels and recipe included (sheet-export.ts).
 * The button says while it works; what came of it is a notice, and a refusal stays under the sheet.
 */
function useSheetExport(sheet: Sheet | undefined, jobs: readonly (JobView | undefined)[]) {
  const notify = useStudio((s) => s.notify);
  const [state, setState] = useState<{ readonly busy: boolean; readonly error: string | null }>({ busy: false, error: null });
  const run = async () => {
    if (!sheet || state.busy) return;
    setState({ busy: true, error: null });
    try {
      const result = await exportSheetPng(sheet, jobs);
      notify({ kind: 'info', ...exportSummary(result) });
      setState({ busy: false, error: null });
    } catch (error) {
      const message = sentence(toWireError(error).message);
      notify({ kind: 'error', title: 'Could not export the sheet', message });
      setState({ busy: false, error: message });
    }
  };
  return { ...state, run };
}

export function SheetCard({ id }: { id: string }) {
  const sheet = useStudio((s) => s.sheets[id]);
  const jobs = useStudio(useShallow((s) => (sheet ? sheet.cells.map((c) => (c ? s.jobs[c] : undefined)) : [])));
  const hideCard = useStudio((s) => s.hideCard);
  const studio = useActions();
  const [open, setOpen] = useState<number | null>(null);
  const exporting = useSheetExport(sheet, jobs);
  if (!sheet) return null;
  const { done, failed, active, total } = sheetProgress(jobs);
  const axes = `${GRID_PARAM_LABELS[sheet.x.param]}${sheet.y ? ` × ${GRID_PARAM_LABELS[sheet.y.param]}` : ''}`;
  const first = jobs.find((j) => j !== undefined);
  const w = first?.params.width ?? 1;
  const h = first?.params.height ?? 1;
  const state = active > 0 ? 'running' : failed === total ? 'failed' : 'done';
  const rows = sheet.y?.labels ?? [null];
  return (
    <li className={`job ws-card ws-sheet job--${state}`} data-sheet-id={sheet.id} aria-label={`X/Y grid, ${axes}: ${sheet.prompt}`}>
      <div className="ws-card-head">
        <span className="ws-kind ws-kind--image">X/Y grid · {jobTypeLabel(sheet.type)}</span>
        <span className={`badge badge--${state}`} data-testid="sheet-status">
          {active > 0 ? `${done} of ${total} done` : failed > 0 ? `Done · ${done} of ${total}, ${failed} failed` : `Done · ${total} cells`}
        </span>
        <time className="ws-card-time" dateTime={new Date(sheet.createdAt).toISOString()} title={`Queued ${formatFullTime(sheet.createdAt)}`}>
          {formatTime(sheet.createdAt)}
        </time>
        <div className="ws-card-actions">
          {active > 0 ? (
            <button
              type="button"
              className="btn btn-ghost btn-small btn-danger"
              onClick={() => {
                for (const j of jobs) if (j && (j.status.state === 'queued' || j.status.state === 'running')) void studio.cancel(j.id);
              }}
            >
              Cancel the rest
            </button>
          ) : (
            <>
              {done > 0 ? (
                <button
                  type="button"
                  className="btn btn-ghost btn-small ws-sheet-export"
                  aria-busy={exporting.busy}
                  aria-disabled={exporting.busy}
                  aria-describedby={exporting.error ? `sheet-export-error-${sheet.id}` : undefined}
                  title="Save the sheet as one PNG, labels and recipe included, as A1111 saves its grids"
                  onClick={() => void exporting.run()}
                >
                  {exporting.busy ? 'Exporting…' : 'Export as PNG'}
                </button>
              ) : null}
              <button
                type="button"
                className="ws-icon-btn ws-card-close"
                aria-label="Remove from the workspace"
                title="Remove from the workspace (the images stay in the Library)"
                onClick={() => hideCard(sheet.id)}
              >
                <CloseIcon size={16} />
              </button>
            </>
          )}
        </div>
      </div>
      <p className="ws-card-prompt" title={sheet.prompt}>
        {sheet.prompt}
      </p>
      <div className="job-meta">
        <span>X: {GRID_PARAM_LABELS[sheet.x.param]}</span>
        {sheet.y ? <span>Y: {GRID_PARAM_LABELS[sheet.y.param]}</span> : null}
        {first ? <span>{`${w}×${h}`}</span> : null}
      </div>
      <div className="ws-sheet-scroll">
        <table
          className="ws-sheet-grid"
          style={{ '--ws-aspect': `${w} / ${h}`, '--ws-cols': String(sheet.x.labels.length), '--ws-row-head': sheet.y ? '8.5em' : '0px' } as CSSProperties}
          aria-label={`Comparison sheet: ${axes}`}
        >
          <thead>
            <tr>
              {sheet.y ? <td className="ws-sheet-corner" /> : null}
              {sheet.x.labels.map((label) => (
                <th key={label} scope="col">
                  {label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((rowLabel, r) => (
              <tr key={rowLabel ?? r}>
                {rowLabel !== null ? <th scope="row">{rowLabel}</th> : null}
                {sheet.x.labels.map((_, c) => {
                  const index = r * sheet.x.labels.length + c;
                  return <SheetCell key={index} sheet={sheet} index={index} onOpen={() => setOpen(index)} />;
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {exporting.error ? (
        <p id={`sheet-export-error-${sheet.id}`} className="ws-sheet-export-error">
          {exporting.error}
        </p>
      ) : null}
      {open !== null ? <SheetViewer sheet={sheet} index={open} onIndex={setOpen} onClose={() => setOpen(null)} /> : null}
    </li>
  );
}
