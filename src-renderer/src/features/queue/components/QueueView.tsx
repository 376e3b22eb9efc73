import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useActions } from '../../../app/actions-context.tsx';
import { PauseIcon, PlayIcon } from '../../../components/icons.tsx';
import { ViewHeader } from '../../../app/ViewHeader.tsx';
import { useStudio } from '../../../store.ts';
import { JobRow } from '../../jobs/components/JobRow.tsx';
import { sharingRule } from '../logic.ts';
import { selectFinishedIds, selectQueuedIds, selectRunningIds } from '../selectors.ts';
import { FinishedRow } from './FinishedRow.tsx';
import { ResultsDialog } from './ResultsDialog.tsx';
import { WaitingList } from './WaitingList.tsx';
import '../queue.css';

function PauseButton() {
  const actions = useActions();
  const paused = useStudio((s) => s.queue?.paused ?? null);
  if (paused === null) return null;
  return paused ? (
    <button type="button" className="btn btn-primary" onClick={() => void actions.resumeQueue()}>
      <PlayIcon /> Resume queue
    </button>
  ) : (
    <button type="button" className="btn btn-secondary" onClick={() => void actions.pauseQueue()}>
      <PauseIcon /> Pause queue
    </button>
  );
}

/** How jobs share the GPU, in the scheduler's terms, and how to change the order. */
function Description() {
  const budget = useStudio((s) => s.gpu?.budgetMb ?? null);
  return (
    <span data-testid="queue-rule">
      {sharingRule(budget)} Fast job types go ahead of high-quality ones; drag a waiting job by its handle, or press ↑ ↓ on it, to change the
      order.
    </span>
  );
}

function SectionTitle({ title, count, note }: { title: string; count?: number; note?: string | null }) {
  return (
    <h2 className="section-title">
      {title}
      {count !== undefined ? <span className="section-count">{count}</span> : null}
      {note ? <span className="section-note">{note}</span> : null}
    </h2>
  );
}

function Running({ ids }: { ids: readonly string[] }) {
  const families = useStudio(useShallow((s) => ids.map((id) => s.jobs[id]?.family ?? null)));
  if (ids.length === 0) return null;
  const together = ids.length > 1 ? `side by side: ${families.map((f) => (f === 'sdxl' ? 'SDXL' : f === 'wan' ? 'WAN' : f)).join(' and ')}` : null;
  return (
    <section className="queue-section" aria-label="Running">
      <SectionTitle title="Running" count={ids.length} note={together} />
      <ul className="job-list">
        {ids.map((id) => (
          <JobRow key={id} id={id} />
        ))}
      </ul>
    </section>
  );
}

function Waiting({ ids }: { ids: readonly string[] }) {
  return (
    <section className="queue-section" aria-label="Up next">
      <SectionTitle title="Up next" count={ids.length} />
      {ids.length === 0 ? <p className="section-empty">Nothing waiting.</p> : <WaitingList ids={ids} />}
    </section>
  );
}

function Finished({ ids, onOpen }: { ids: readonly string[]; onOpen(id: string): void }) {
  const actions = useActions();
  if (ids.length === 0) return null;
  return (
    <section className="queue-section" aria-label="Finished">
      <div className="section-head">
        <SectionTitle title="Finished" count={ids.length} />
        <button
          type="button"
          className="btn btn-ghost btn-small"
          title="Clear done, failed and cancelled jobs from this list; their results stay in the Library"
          onClick={() => void actions.clearFinished()}
        >
          Clear finished
        </button>
      </div>
      <ul className="job-list">
        {ids.map((id) => (
          <FinishedRow key={id} id={id} onOpen={onOpen} />
        ))}
      </ul>
    </section>
  );
}

export function QueueView() {
  const running = useStudio(useShallow(selectRunningIds));
  const queued = useStudio(useShallow(selectQueuedIds));
  const finished = useStudio(useShallow(selectFinishedIds));
  const paused = useStudio((s) => s.queue?.paused ?? false);
  const navigate = useStudio((s) => s.navigate);
  const [open, setOpen] = useState<string | null>(null);
  const nothing = running.length === 0 && queued.length === 0 && finished.length === 0;

  return (
    <div className="view queue-view">
      <ViewHeader title="Queue" description={<Description />} actions={<PauseButton />} />
      {paused ? (
        <div className="banner banner--paused" role="status">
          <strong>Queue paused.</strong> Queued jobs wait here until you resume; you can still add, reorder and
          cancel them.
        </div>
      ) : null}
      {nothing ? (
        <div className="empty-state">
          <p className="empty-title">No jobs yet</p>
          <p>Write a prompt in the Workspace and press Generate; the job appears here and updates as it runs.</p>
          <button type="button" className="btn btn-secondary" onClick={() => navigate('workspace')}>
            Go to Workspace
          </button>
        </div>
      ) : (
        <>
          <Running ids={running} />
          <Waiting ids={queued} />
          <Finished ids={finished} onOpen={setOpen} />
        </>
      )}
      {open !== null ? <ResultsDialog id={open} onClose={() => setOpen(null)} /> : null}
    </div>
  );
}
