/**
 * "Add model" runs as cards above the model list: a progress bar with the phase, bytes read and an
 * ETA, and Cancel while it prepares; the engine's sentence and Try again when it failed or was
 * cancelled. A finished one leaves: its model appears in the list.
 */
import { Progress } from 'radix-ui';
import { useShallow } from 'zustand/react/shallow';
import type { Preparation } from '../../../contract.ts';
import { CloseIcon, LayersIcon } from '../../../components/icons.tsx';
import { useStudio } from '../../../store.ts';
import { asSentence, percent, progressLine, visiblePreparations } from '../logic.ts';
import { useModelsActions } from '../use-models-actions.ts';

function StateBadge({ p }: { p: Preparation }) {
  if (p.state === 'preparing') return <span className="badge badge--running">Preparing · {percent(p)}%</span>;
  if (p.state === 'failed') return <span className="badge badge--failed">Failed</span>;
  if (p.state === 'cancelled') return <span className="badge badge--cancelled">Cancelled</span>;
  return <span className="badge badge--done">Ready</span>;
}

function PreparationCard({ p }: { p: Preparation }) {
  const actions = useModelsActions();
  const finished = p.state !== 'preparing';
  return (
    <li className={`prep prep--${p.state}`} data-preparation-id={p.id} data-state={p.state} aria-label={`Preparing ${p.name}`}>
      <span className="prep-icon" aria-hidden="true">
        <LayersIcon size={18} />
      </span>
      <div className="prep-body">
        <div className="prep-head">
          <span className="prep-name">{p.name}</span>
          <StateBadge p={p} />
          <div className="prep-actions">
            {p.state === 'preparing' ? (
              <button type="button" className="btn btn-ghost btn-small btn-danger" onClick={() => void actions.cancel(p.id)}>
                Cancel
              </button>
            ) : null}
            {p.state === 'failed' || p.state === 'cancelled' ? (
              <button type="button" className="btn btn-secondary btn-small" onClick={() => void actions.retry(p)}>
                Try again
              </button>
            ) : null}
            {finished ? (
              <button type="button" className="prep-close" aria-label={`Close ${p.name}`} title="Close" onClick={() => actions.dismiss(p.id)}>
                <CloseIcon size={16} />
              </button>
            ) : null}
          </div>
        </div>
        {p.description ? <p className="prep-description">{p.description}</p> : null}
        {p.state === 'preparing' ? (
          <div className="prep-progress">
            <Progress.Root className="progress" value={percent(p)} max={100} aria-label={`Preparing ${p.name}`}>
              <Progress.Indicator className="progress-indicator" style={{ width: `${Math.max(2, percent(p))}%` }} />
            </Progress.Root>
            <span className="prep-progress-text" data-testid="preparation-progress">
              {progressLine(p)}
            </span>
          </div>
        ) : null}
        {p.state === 'failed' && p.error ? (
          <p className="prep-error" role="alert">
            {asSentence(p.error.message)}
          </p>
        ) : null}
        {p.state === 'cancelled' ? <p className="prep-note">Cancelled before it finished; nothing was kept. Try again starts over.</p> : null}
        <p className="prep-source" title={p.source}>
          {p.source}
          {p.vae ? ` + ${p.vae}` : ''}
        </p>
      </div>
    </li>
  );
}

export function Preparations() {
  const shown = useStudio(useShallow((s) => visiblePreparations(s.preparations, s.dismissedPreparations)));
  if (shown.length === 0) return null;
  const running = shown.filter((p) => p.state === 'preparing').length;
  return (
    <section className="panel prep-panel" aria-labelledby="preparations-title">
      <div className="panel-title-row">
        <h2 className="panel-title" id="preparations-title">
          Adding
        </h2>
        <span className="panel-subtitle">
          {running > 0
            ? `${running} preparing · the studio stays usable meanwhile`
            : `${shown.length} stopped · try again or close ${shown.length === 1 ? 'it' : 'them'}`}
        </span>
      </div>
      <ul className="prep-list" aria-label="Models being added">
        {shown.map((p) => (
          <PreparationCard key={p.id} p={p} />
        ))}
      </ul>
    </section>
  );
}
