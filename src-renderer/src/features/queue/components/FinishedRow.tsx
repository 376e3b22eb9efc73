/**
 * A finished job in the Queue: its outputs as thumbnails (a click opens them), what it was, and what
 * to do next — put its settings back into the Workspace, run it again, retry it, or clear it from
 * the list.
 */
import { useState } from 'react';
import { useActions } from '../../../app/actions-context.tsx';
import { mediaUrl } from '../../../api/media.ts';
import { CloseIcon, ImageIcon, RerunIcon, SettingsBackIcon, VideoIcon } from '../../../components/icons.tsx';
import { PRESETS } from '../../../contract.ts';
import type { JobView } from '../../../contract.ts';
import { assetCountLabel, formatFullTime, formatTime, jobTypeLabel } from '../../../format.ts';
import { useStudio } from '../../../store.ts';
import { statusText } from '../../jobs/components/JobRow.tsx';
import { useWorkspaceActions } from '../../workspace/use-workspace-actions.ts';

/** Thumbnails shown in a row (one fewer in a narrow window); the rest are counted on the last one. */
const STRIP_MAX = 4;
const STRIP_NARROW = STRIP_MAX - 1;

function StripImage({ assetId, video }: { assetId: string; video: boolean }) {
  // The thumbnail is made shortly after the file; until then the original stands in (an image), or an icon (a clip).
  const [variant, setVariant] = useState<'thumb' | 'original' | 'none'>('thumb');
  if (variant === 'none') return <span className="strip-icon">{video ? <VideoIcon /> : <ImageIcon />}</span>;
  return (
    <img
      src={mediaUrl(assetId, variant)}
      alt=""
      draggable={false}
      loading="lazy"
      onError={() => setVariant(variant === 'thumb' && !video ? 'original' : 'none')}
    />
  );
}

function ResultStrip({ job, onOpen }: { job: JobView; onOpen(): void }) {
  if (job.status.state !== 'done' || job.status.assets.length === 0) {
    return (
      <div className="job-thumb job-thumb--icon" aria-hidden="true">
        {PRESETS[job.type]?.kind === 'video' ? <VideoIcon /> : <ImageIcon />}
      </div>
    );
  }
  const assets = job.status.assets;
  const video = PRESETS[job.type]?.kind === 'video';
  const shown = assets.slice(0, STRIP_MAX);
  const more = assets.length - shown.length;
  return (
    <button
      type="button"
      className="result-strip"
      onClick={onOpen}
      title="Open the results"
      data-testid="result-strip"
    >
      {/* The name is this text and the visible count ("+2"), so what is read matches what is seen. */}
      <span className="visually-hidden">{`Open the ${assetCountLabel(job, assets.length)} of “${job.params.prompt.slice(0, 60)}”`}</span>
      {shown.map((id, i) => (
        <span key={id} className={`strip-tile${i === STRIP_NARROW ? ' strip-tile--wide-only' : ''}`}>
          <StripImage assetId={id} video={video} />
          {i === shown.length - 1 && more > 0 ? (
            <span className="strip-more">
              +{more}
            </span>
          ) : null}
          {/* A narrow window shows one tile fewer: the count moves onto the tile before. */}
          {i === STRIP_NARROW - 1 && assets.length > STRIP_NARROW ? (
            <span className="strip-more strip-more--narrow">
              +{assets.length - STRIP_NARROW}
            </span>
          ) : null}
        </span>
      ))}
    </button>
  );
}

export function FinishedRow({ id, onOpen }: { id: string; onOpen(id: string): void }) {
  const job = useStudio((s) => s.jobs[id]);
  const actions = useActions();
  const workspace = useWorkspaceActions();
  if (!job) return null;
  const st = job.status;
  const p = job.params;
  const video = PRESETS[job.type]?.kind === 'video';
  return (
    <li className={`job job--finished job--${st.state}`} data-job-id={job.id} data-state={st.state}>
      <ResultStrip job={job} onOpen={() => onOpen(job.id)} />
      <div className="job-body">
        <div className="job-head">
          <span className="job-type">{jobTypeLabel(job.type)}</span>
          <span className={`badge badge--${st.state}`} data-testid="job-status">
            {statusText(job)}
          </span>
          <time className="job-time" dateTime={new Date(st.at).toISOString()} title={`Finished ${formatFullTime(st.at)}`}>
            {formatTime(st.at)}
          </time>
        </div>
        <p className="job-prompt" title={p.prompt}>
          {p.prompt}
        </p>
        <div className="job-meta">
          <span>{`seed ${p.seed}`}</span>
          <span>{`${p.steps} steps`}</span>
          <span>{`${p.width}×${p.height}`}</span>
          {video ? <span>{`${p.frames} frames`}</span> : p.count > 1 ? <span>{`×${p.count}`}</span> : null}
        </div>
        {st.state === 'failed' ? <p className="job-error">{st.message}</p> : null}
      </div>
      <div className="job-actions">
        <button
          type="button"
          className="btn btn-ghost btn-small"
          title="Put this job's prompt and settings into the Workspace form"
          onClick={() => workspace.useJobSettings(job)}
        >
          <SettingsBackIcon /> Load settings
        </button>
        {st.state === 'done' ? (
          <button
            type="button"
            className="btn btn-ghost btn-small"
            title="Queue it again: the same prompt, settings and seed"
            onClick={() => void actions.runAgain(job)}
          >
            <RerunIcon /> Run again
          </button>
        ) : (
          <button type="button" className="btn btn-ghost btn-small" title="Queue this job again" onClick={() => void actions.retry(job.id)}>
            <RerunIcon /> Retry
          </button>
        )}
        <button
          type="button"
          className="btn btn-ghost btn-small btn-icon"
          aria-label={`Clear “${p.prompt.slice(0, 40)}” from the list`}
          title="Clear from the list (it stays in the Library)"
          onClick={() => void actions.clearFinished([job.id])}
        >
          <CloseIcon size={14} />
        </button>
      </div>
    </li>
  );
}
