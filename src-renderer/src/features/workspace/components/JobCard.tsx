/**
 * A live card per job submitted from the Workspace: what it is, how far along (step x of y, ETA,
 * the latest latent preview), then its results as they land — the image grid, a single image, or
 * the clip in a player — or why it failed, with Retry.
 */
import { Progress } from 'radix-ui';
import { useEffect } from 'react';
import type { CSSProperties, ReactNode } from 'react';
import { useActions } from '../../../app/actions-context.tsx';
import { isCutOff } from '../../../api/connection.ts';
import { unknownProgressText } from '../../jobs/components/JobRow.tsx';
import { VideoPlayer } from '../../../components/video/VideoPlayer.tsx';
import { PRESETS } from '../../../contract.ts';
import type { JobView } from '../../../contract.ts';
import { formatDuration, formatFullTime, formatTime, jobTypeLabel, ordinalPosition } from '../../../format.ts';
import { useStudio } from '../../../store.ts';
import { statusText } from '../../jobs/components/JobRow.tsx';
import { assetSrc } from '../media.ts';
import { SAMPLER_LABELS, clipDuration } from '../options.ts';
import { runningView } from '../phases.ts';
import { useWorkspaceActions } from '../use-workspace-actions.ts';
import { sentence } from './field-error.tsx';
import { CloseIcon, SettingsBackIcon } from '../../../components/icons.tsx';
import { ResultGrid } from './ResultGrid.tsx';

function paramsLine(job: JobView): string[] {
  const p = job.params;
  const preset = PRESETS[job.type];
  return [
    `seed ${p.seed}`,
    `${p.steps} steps`,
    `CFG ${p.guidance}`,
    SAMPLER_LABELS[p.scheduler] ?? p.scheduler,
    `${p.width}×${p.height}`,
    preset.kind === 'video' ? `${p.frames} frames · ${clipDuration(p.frames, p.fps)}` : null,
    p.batchIndex !== null ? `image ${p.batchIndex + 1} of the seed's batch` : p.count > 1 ? `×${p.count}` : null,
  ].filter((x): x is string => x !== null);
}

/** The grid of places results will take: tiles of the job's aspect, one per output. */
export function Tiles({ job, children }: { job: JobView; children: (index: number) => ReactNode }) {
  const count = PRESETS[job.type].kind === 'video' ? 1 : job.params.count;
  const { width, height } = job.params;
  return (
    <div
      className={`ws-tiles ws-tiles--${count === 1 ? 'single' : 'grid'}`}
      style={{ '--ws-aspect': `${width} / ${height}`, '--ws-ratio': String(width / height), '--ws-cols': String(count === 1 ? 1 : count <= 4 ? 2 : 3) } as CSSProperties}
    >
      {Array.from({ length: count }, (_, i) => children(i))}
    </div>
  );
}

function LiveProgress({ job }: { job: JobView }) {
  const eta = useStudio((s) => s.progress[job.id]?.etaMs ?? null);
  const stageProgress = useStudio((s) => s.progress[job.id]?.stageProgress ?? null);
  if (job.status.state !== 'running') return null;
  const view = runningView(PRESETS[job.type].kind, job.status, stageProgress);
  const counted = view.value !== null;
  return (
    <div className="ws-progress-box">
      <div className="ws-progress">
        <Progress.Root
          className={`progress${counted ? '' : ' progress--indeterminate'}`}
          value={view.value}
          max={view.max}
          aria-label={`Progress of ${jobTypeLabel(job.type)}`}
          aria-valuetext={view.text}
        >
          <Progress.Indicator className="progress-indicator" style={counted ? { width: `${Math.round((view.value! / view.max) * 100)}%` } : undefined} />
        </Progress.Root>
        <span className="ws-progress-text" data-testid="step-text">
          {view.text}
        </span>
        <span className="ws-progress-eta">{eta !== null && eta > 0 && view.phases[0]?.state === 'active' ? `about ${formatDuration(eta)} left` : ''}</span>
      </div>
      <ol className="ws-phases" aria-label="Stages" data-testid="job-phases">
        {view.phases.map((phase) => (
          <li key={phase.id} className="ws-phase" data-phase={phase.id} data-state={phase.state} aria-current={phase.state === 'active' ? 'step' : undefined}>
            <span className="ws-phase-mark" aria-hidden="true">
              {phase.state === 'done' ? '✓' : ''}
            </span>
            {phase.label}
          </li>
        ))}
      </ol>
    </div>
  );
}

function Waiting({ job }: { job: JobView }) {
  const paused = useStudio((s) => s.queue?.paused ?? false);
  const preview = useStudio((s) => s.progress[job.id]?.preview ?? null);
  const running = job.status.state === 'running';
  // No word from the engine (the server stopped): a frozen step count and ETA would mislead.
  const cutOff = useStudio((s) => isCutOff(s.connection));
  return (
    <>
      {running && cutOff ? (
        <p className="job-note job-note--unknown" data-testid="step-text">
          {unknownProgressText(job)}
        </p>
      ) : running ? (
        <LiveProgress job={job} />
      ) : (
        <p className="ws-waiting">
          {job.status.state === 'queued' && job.position !== null ? `${ordinalPosition(job.position)} in line` : 'Waiting'}
          {paused ? ' · the queue is paused; resume it in the Queue' : ' · starts when the GPU is free'}
        </p>
      )}
      <Tiles job={job}>
        {(i) =>
          i === 0 && running && preview ? (
            <div key={i} className="ws-tile ws-tile--preview">
              <img src={preview} alt="Live preview of the image being made" data-testid="live-preview" />
            </div>
          ) : (
            <div key={i} className={`ws-tile ws-tile--pending${running ? ' ws-tile--busy' : ''}`} aria-hidden="true" />
          )
        }
      </Tiles>
    </>
  );
}

function Results({ job }: { job: JobView }) {
  const actions = useWorkspaceActions();
  const loaded = useStudio((s) => s.jobAssets[job.id]);
  useEffect(() => {
    if (!loaded) void actions.loadJobAssets(job);
  }, [actions, job, loaded]);

  if (!loaded || loaded.status === 'loading') {
    return <Tiles job={job}>{(i) => <div key={i} className="ws-tile ws-tile--pending ws-tile--busy" aria-hidden="true" />}</Tiles>;
  }
  if (loaded.status === 'failed') {
    return (
      <div className="job-error ws-row-between">
        <span>Could not load the results: {loaded.message}</span>
        <button type="button" className="btn btn-ghost btn-small" onClick={() => void actions.loadJobAssets(job, { force: true })}>
          Try again
        </button>
      </div>
    );
  }
  const { assets, missing } = loaded;
  const note = missing > 0 ? <p className="ws-hint">{missing === 1 ? 'One result is' : `${missing} results are`} no longer in the library.</p> : null;
  const single = assets.length === 1 ? assets[0]! : null;
  if (single && single.kind === 'video') {
    return (
      <div className="ws-video-wrap" style={{ '--ws-ratio': String((single.width ?? job.params.width) / (single.height ?? job.params.height)) } as CSSProperties}>
        <VideoPlayer
          className="ws-video"
          src={assetSrc(single, 'original')}
          poster={single.thumbUrl ? assetSrc(single, 'thumb') : null}
          fps={single.fps ?? job.params.fps}
          frameCount={single.frameCount ?? job.params.frames}
          width={single.width ?? job.params.width}
          height={single.height ?? job.params.height}
          label={job.params.prompt}
          autoPlay
        />
        {note}
      </div>
    );
  }
  return (
    <>
      <ResultGrid job={job} assets={assets} />
      {note}
    </>
  );
}

export function JobCard({ id }: { id: string }) {
  const job = useStudio((s) => s.jobs[id]);
  const studio = useActions();
  const actions = useWorkspaceActions();
  const hideCard = useStudio((s) => s.hideCard);
  const cutOff = useStudio((s) => isCutOff(s.connection));
  // The model it ran on (or asked for), by the name the person gave it.
  const modelName = useStudio((s) => {
    const j = s.jobs[id];
    const modelId = j?.modelId ?? j?.params.model ?? null;
    return modelId ? (s.models?.find((m) => m.id === modelId)?.name ?? modelId) : null;
  });
  if (!job) return null;
  const st = job.status;
  // The rewrite the engine ran (an enhanced job), or the reviewed one sent with the request.
  const enhanced = job.enhancedPrompt ?? job.params.enhancedPrompt;
  const finished = st.state === 'done' || st.state === 'failed' || st.state === 'cancelled';
  return (
    <li className={`job ws-card job--${st.state}`} data-job-id={job.id} data-state={st.state} aria-label={`${jobTypeLabel(job.type)}: ${job.params.prompt}`}>
      <div className="ws-card-head">
        <span className={`ws-kind ws-kind--${PRESETS[job.type].kind}`}>{jobTypeLabel(job.type)}</span>
        <span className={`badge badge--${st.state}`} data-testid="job-status">
          {st.state === 'running' ? (cutOff ? statusText(job, true) : 'Running') : statusText(job)}
        </span>
        <time className="ws-card-time" dateTime={new Date(job.createdAt).toISOString()} title={`Queued ${formatFullTime(job.createdAt)}`}>
          {formatTime(job.createdAt)}
        </time>
        <div className="ws-card-actions">
          <button
            type="button"
            className="btn btn-ghost btn-small"
            title="Put this job's prompt and settings back into the form"
            onClick={() => actions.useJobSettings(job)}
          >
            <SettingsBackIcon /> Use settings
          </button>
          {st.state === 'queued' || st.state === 'running' ? (
            <button type="button" className="btn btn-ghost btn-small btn-danger" onClick={() => void studio.cancel(job.id)}>
              Cancel
            </button>
          ) : null}
          {st.state === 'failed' || st.state === 'cancelled' ? (
            <button type="button" className="btn btn-secondary btn-small" onClick={() => void studio.retry(job.id)}>
              Retry
            </button>
          ) : null}
          {finished ? (
            <button
              type="button"
              className="ws-icon-btn ws-card-close"
              aria-label="Remove from the workspace"
              title="Remove from the workspace (it stays in the Queue and the Library)"
              onClick={() => hideCard(job.id)}
            >
              <CloseIcon size={16} />
            </button>
          ) : null}
        </div>
      </div>
      <p className="ws-card-prompt" title={job.params.prompt}>
        {job.params.prompt}
      </p>
      {enhanced && enhanced !== job.params.prompt ? (
        <p className="ws-card-enhanced" title={enhanced}>
          <span className="ws-card-enhanced-label">Enhanced</span> {enhanced}
        </p>
      ) : null}
      {job.enhanceWarning ? <p className="ws-warning">{sentence(job.enhanceWarning)}</p> : null}
      {job.providerNote ? (
        <p className="ws-provider-note" data-testid="provider-note">
          {sentence(job.providerNote)}
        </p>
      ) : null}
      <div className="job-meta">
        {modelName ? <span title={job.modelId ?? undefined}>{modelName}</span> : null}
        {paramsLine(job).map((part) => (
          <span key={part}>{part}</span>
        ))}
      </div>
      {st.state === 'queued' || st.state === 'running' ? <Waiting job={job} /> : null}
      {st.state === 'done' ? <Results job={job} /> : null}
      {st.state === 'failed' ? (
        <p className="job-error" role="alert">
          {sentence(st.message)}
        </p>
      ) : null}
      {st.state === 'cancelled' ? <p className="ws-waiting">Cancelled before it finished; nothing was saved. Retry runs it again.</p> : null}
    </li>
  );
}
