/**
 * A finished job's results, opened from its row in the Queue: the images (the Workspace's grid —
 * enlarge, compare, copy a seed, re-run one image) or the clip, with what made them, and the row's
 * next steps (Load settings, Run again).
 */
import { Dialog } from 'radix-ui';
import { useEffect } from 'react';
import type { CSSProperties } from 'react';
import { useActions } from '../../../app/actions-context.tsx';
import { VideoPlayer } from '../../../components/video/VideoPlayer.tsx';
import { CloseIcon, RerunIcon, SettingsBackIcon } from '../../../components/icons.tsx';
import type { JobView } from '../../../contract.ts';
import { assetCountLabel, formatFullTime, jobTypeLabel } from '../../../format.ts';
import { useStudio } from '../../../store.ts';
import { ResultGrid } from '../../workspace/components/ResultGrid.tsx';
import { assetSrc } from '../../workspace/media.ts';
import { SAMPLER_LABELS } from '../../workspace/options.ts';
import { useWorkspaceActions } from '../../workspace/use-workspace-actions.ts';

function Results({ job }: { job: JobView }) {
  const workspace = useWorkspaceActions();
  const loaded = useStudio((s) => s.jobAssets[job.id]);
  useEffect(() => {
    if (!loaded) void workspace.loadJobAssets(job);
  }, [workspace, job, loaded]);

  if (!loaded || loaded.status === 'loading') return <p className="results-note">Loading the results…</p>;
  if (loaded.status === 'failed') {
    return (
      <div className="job-error results-error">
        <span>Could not load the results: {loaded.message}</span>
        <button type="button" className="btn btn-ghost btn-small" onClick={() => void workspace.loadJobAssets(job, { force: true })}>
          Try again
        </button>
      </div>
    );
  }
  const { assets, missing } = loaded;
  const note = missing > 0 ? <p className="results-note">{missing === 1 ? 'One result is' : `${missing} results are`} no longer in the library.</p> : null;
  const single = assets.length === 1 ? assets[0]! : null;
  if (single && single.kind === 'video') {
    const w = single.width ?? job.params.width;
    const h = single.height ?? job.params.height;
    return (
      <div className="results-video" style={{ '--ws-ratio': String(w / h) } as CSSProperties}>
        <VideoPlayer
          className="ws-video"
          src={assetSrc(single, 'original')}
          poster={single.thumbUrl ? assetSrc(single, 'thumb') : null}
          fps={single.fps ?? job.params.fps}
          frameCount={single.frameCount ?? job.params.frames}
          width={w}
          height={h}
          label={job.params.prompt}
        />
        {note}
      </div>
    );
  }
  // The grid's rows (as ResultGrid lays it out), so the dialog can size the tiles to show them all.
  const cols = assets.length === 1 ? 1 : assets.length <= 4 ? 2 : 3;
  return (
    <div style={{ '--results-rows': String(Math.max(1, Math.ceil(assets.length / cols))) } as CSSProperties}>
      <ResultGrid job={job} assets={assets} />
      {note}
    </div>
  );
}

export function ResultsDialog({ id, onClose }: { id: string; onClose(): void }) {
  const job = useStudio((s) => s.jobs[id]);
  const actions = useActions();
  const workspace = useWorkspaceActions();
  if (!job || job.status.state !== 'done') return null;
  const p = job.params;
  return (
    <Dialog.Root open onOpenChange={(open) => !open && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="results-overlay" />
        <Dialog.Content className="results-dialog" aria-describedby={undefined} data-testid="results-dialog">
          <header className="results-head">
            <div className="results-title-block">
              <Dialog.Title className="results-title">
                {jobTypeLabel(job.type)} · {assetCountLabel(job, job.status.assets.length)}
              </Dialog.Title>
              <p className="results-prompt">{p.prompt}</p>
              <p className="job-meta">
                <span>{`seed ${p.seed}`}</span>
                <span>{`${p.steps} steps`}</span>
                <span>{`CFG ${p.guidance}`}</span>
                <span>{SAMPLER_LABELS[p.scheduler] ?? p.scheduler}</span>
                <span>{`${p.width}×${p.height}`}</span>
                {job.finishedAt ? <span>{`finished ${formatFullTime(job.finishedAt)}`}</span> : null}
              </p>
            </div>
            <div className="results-actions">
              <button
                type="button"
                className="btn btn-secondary btn-small"
                onClick={() => {
                  workspace.useJobSettings(job);
                  onClose();
                }}
              >
                <SettingsBackIcon /> Load settings
              </button>
              <button type="button" className="btn btn-secondary btn-small" onClick={() => void actions.runAgain(job)}>
                <RerunIcon /> Run again
              </button>
              <Dialog.Close className="ws-icon-btn" aria-label="Close">
                <CloseIcon size={16} />
              </Dialog.Close>
            </div>
          </header>
          <div className="results-body">
            <Results job={job} />
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
