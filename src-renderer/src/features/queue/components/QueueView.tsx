import { useShallow } from 'zustand/react/shallow';
import { useActions } from '../../../app/actions-context.tsx';
import { PauseIcon, PlayIcon } from '../../../components/icons.tsx';
import { ViewHeader } from '../../../app/ViewHeader.tsx';
import { useStudio } from '../../../store.ts';
import { JobRow } from '../../jobs/components/JobRow.tsx';
import { selectFinishedIds, selectQueuedIds, selectRunningIds } from '../selectors.ts';

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

function Section({ title, count, ids, empty }: { title: string; count?: number; ids: readonly string[]; empty?: string }) {
  if (ids.length === 0 && !empty) return null;
  return (
    <section className="queue-section" aria-label={title}>
      <h2 className="section-title">
        {title}
        {count !== undefined ? <span className="section-count">{count}</span> : null}
      </h2>
      {ids.length === 0 ? (
        <p className="section-empty">{empty}</p>
      ) : (
        <ul className="job-list">
          {ids.map((id) => (
            <JobRow key={id} id={id} />
          ))}
        </ul>
      )}
    </section>
  );
}

export function QueueView() {
  const running = useStudio(useShallow(selectRunningIds));
  const queued = useStudio(useShallow(selectQueuedIds));
  const finished = useStudio(useShallow(selectFinishedIds));
  const paused = useStudio((s) => s.queue?.paused ?? false);
  const navigate = useStudio((s) => s.navigate);
  const nothing = running.length === 0 && queued.length === 0 && finished.length === 0;

  return (
    <div className="view">
      <ViewHeader
        title="Queue"
        description="Jobs run one at a time on your GPU, fast job types ahead of high-quality ones. Changes show here live."
        actions={<PauseButton />}
      />
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
          <Section title="Running" ids={running} />
          <Section title="Up next" count={queued.length} ids={queued} empty="Nothing waiting." />
          <Section title="Finished" ids={finished} />
        </>
      )}
    </div>
  );
}
