import { Progress } from 'radix-ui';
import { useActions } from '../../../app/actions-context.tsx';
import { ImageIcon, VideoIcon } from '../../../components/icons.tsx';
import { PRESETS } from '../../../contract.ts';
import type { JobView } from '../../../contract.ts';
import { assetCountLabel, formatDuration, formatFullTime, formatTime, jobTypeLabel, ordinalPosition } from '../../../format.ts';
import { useStudio } from '../../../store.ts';
import { isCutOff } from '../../../api/connection.ts';

/**
 * The one-line status a person reads first: what state, and how far along. `cutOff`: this window
 * no longer hears from the engine (the server stopped), so a running job's state is unknown.
 */
export function statusText(job: JobView, cutOff = false): string {
  const st = job.status;
  switch (st.state) {
    case 'queued':
      return job.position === null ? 'Queued' : `Queued · ${ordinalPosition(job.position)}`;
    case 'running':
      if (cutOff) return 'Unknown · server stopped';
      return st.of > 0 ? `Running · step ${st.step} of ${st.of}` : 'Running · starting';
    case 'done':
      return `Done · ${assetCountLabel(job, st.assets.length)}`;
    case 'failed':
      return 'Failed';
    case 'cancelled':
      return 'Cancelled';
  }
}

function Details({ job }: { job: JobView }) {
  const p = job.params;
  const preset = PRESETS[job.type];
  const parts = [
    `seed ${p.seed}`,
    `${p.steps} steps`,
    `${p.width}×${p.height}`,
    preset?.kind === 'video' ? `${p.frames} frames` : p.count > 1 ? `×${p.count}` : null,
  ].filter((x): x is string => x !== null);
  return (
    <div className="job-meta">
      <time dateTime={new Date(job.createdAt).toISOString()} title={`Created ${formatFullTime(job.createdAt)}`}>
        {formatTime(job.createdAt)}
      </time>
      {parts.map((part) => (
        <span key={part}>{part}</span>
      ))}
    </div>
  );
}

/** Said instead of a progress bar that would stand still: the last step seen, and why nothing newer. */
export function unknownProgressText(job: JobView): string {
  const st = job.status;
  const last = st.state === 'running' && st.of > 0 ? `It was at step ${st.step} of ${st.of}` : 'It had just started';
  return `${last} when the studio server stopped; whether it finished will show once this page is connected again.`;
}

function RunningProgress({ job }: { job: JobView }) {
  const eta = useStudio((s) => s.progress[job.id]?.etaMs ?? null);
  const cutOff = useStudio((s) => isCutOff(s.connection));
  if (job.status.state !== 'running') return null;
  if (cutOff) return <p className="job-note job-note--unknown">{unknownProgressText(job)}</p>;
  const { step, of, stage } = job.status;
  const pct = of > 0 ? Math.round((step / of) * 100) : null;
  return (
    <div className="job-progress">
      <Progress.Root
        className="progress"
        value={of > 0 ? step : null}
        max={of > 0 ? of : 100}
        aria-label={`${jobTypeLabel(job.type)} progress`}
      >
        <Progress.Indicator className="progress-indicator" style={{ width: `${pct ?? 30}%` }} />
      </Progress.Root>
      <span className="job-progress-text">
        {stage ? `${stage} · ` : ''}
        {pct !== null ? `${pct}%` : 'preparing'}
        {eta !== null && eta > 0 ? ` · about ${formatDuration(eta)} left` : ''}
      </span>
    </div>
  );
}

function Thumb({ job }: { job: JobView }) {
  const preview = useStudio((s) => (job.status.state === 'running' ? (s.progress[job.id]?.preview ?? null) : null));
  if (preview) return <img className="job-thumb" src={preview} alt="" />;
  return <div className="job-thumb job-thumb--icon">{PRESETS[job.type]?.kind === 'video' ? <VideoIcon /> : <ImageIcon />}</div>;
}

/** Cancel, move to front, retry — whichever the job's state allows (compact rows: cancel and retry). */
function Actions({ job, compact = false }: { job: JobView; compact?: boolean }) {
  const actions = useActions();
  const st = job.status.state;
  return (
    <div className="job-actions">
      {!compact && st === 'queued' && job.position !== null && job.position > 0 ? (
        <button type="button" className="btn btn-ghost btn-small" onClick={() => void actions.moveToFront(job.id)}>
          Move to front
        </button>
      ) : null}
      {st === 'queued' || st === 'running' ? (
        <button type="button" className="btn btn-ghost btn-small btn-danger" onClick={() => void actions.cancel(job.id)}>
          Cancel
        </button>
      ) : null}
      {st === 'failed' || st === 'cancelled' ? (
        <button type="button" className="btn btn-ghost btn-small" onClick={() => void actions.retry(job.id)}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

/** A job as a card: the Queue's full row, or the Workspace's compact one (`compact`). */
export function JobRow({ id, compact = false }: { id: string; compact?: boolean }) {
  const job = useStudio((s) => s.jobs[id]);
  const cutOff = useStudio((s) => isCutOff(s.connection));
  if (!job) return null;
  const st = job.status;
  const unknown = cutOff && st.state === 'running';
  const badge = (
    <span className={`badge badge--${unknown ? 'unknown' : st.state}`} data-testid="job-status">
      {statusText(job, cutOff)}
    </span>
  );
  if (compact) {
    return (
      <li className={`job job--compact job--${st.state}`} data-job-id={job.id} data-state={st.state}>
        <div className="job-body">
          <p className="job-prompt" title={job.params.prompt}>
            {job.params.prompt}
          </p>
          <div className="job-head">
            {badge}
            <span className="job-type">{jobTypeLabel(job.type)}</span>
          </div>
          <RunningProgress job={job} />
          {st.state === 'failed' ? <p className="job-error">{st.message}</p> : null}
        </div>
        <Actions job={job} compact />
      </li>
    );
  }
  return (
    <li className={`job job--${st.state}`} data-job-id={job.id} data-state={st.state}>
      <Thumb job={job} />
      <div className="job-body">
        <div className="job-head">
          <span className="job-type">{jobTypeLabel(job.type)}</span>
          {badge}
        </div>
        <p className="job-prompt" title={job.params.prompt}>
          {job.params.prompt}
        </p>
        <Details job={job} />
        <RunningProgress job={job} />
        {st.state === 'failed' ? <p className="job-error">{st.message}</p> : null}
        {st.state === 'queued' && st.notBefore !== null ? (
          <p className="job-note">
            Waits until {formatTime(st.notBefore)}
            {st.reason ? ` — ${st.reason}` : ''}
          </p>
        ) : null}
      </div>
      <Actions job={job} />
    </li>
  );
}
