import { useCallback, useEffect, useState } from 'react';
import { getStudioApi } from '../../../api/index.ts';
import type { BucketUsage, LibraryProgress, LibraryStats, MoveReport, SettingsState, StudioApi } from '../../../contract.ts';
import { formatBytes, jobTypeLabel } from '../../../format.ts';
import type { JobType } from '../../../contract.ts';
import type { SettingsActions } from '../actions.ts';
import { PathInput, SettingRow, SettingsSection } from './parts.tsx';

/** `library.progress`, where the engine's contract has it (the library's events are being added). */
function onLibraryProgress(api: StudioApi, listener: (p: LibraryProgress) => void): () => void {
  const events = api.library as unknown as { onProgress?: (l: (p: LibraryProgress) => void) => () => void };
  return typeof events.onProgress === 'function' ? events.onProgress(listener) : () => {};
}

const UPLOAD_LABELS: Record<string, string> = { reference_images: 'Reference images', user_uploads: 'Uploads and imports' };

function bucketLabel(bucket: string): string {
  return UPLOAD_LABELS[bucket] ?? jobTypeLabel(bucket as JobType);
}

function seconds(ms: number): string {
  return ms < 1000 ? 'under a second' : `${Math.round(ms / 1000)} s`;
}

/**
 * Files and bytes per bucket, counting the trash (its files are still on disk), and a total that is
 * the sum of the rows above it; the trash's share is said under it.
 */
function DiskUse({ stats, used }: { stats: LibraryStats; used: readonly BucketUsage[] }) {
  const files = used.reduce((n, b) => n + b.count, 0);
  const bytes = used.reduce((n, b) => n + b.bytes, 0);
  return (
    <table className="table usage-table" aria-label="Disk use per bucket">
      <thead>
        <tr>
          <th scope="col">Bucket</th>
          <th scope="col" className="num">
            Files
          </th>
          <th scope="col" className="num">
            Size
          </th>
        </tr>
      </thead>
      <tbody>
        {used.map((b) => (
          <tr key={b.bucket}>
            <td>{bucketLabel(b.bucket)}</td>
            <td className="num">{b.count}</td>
            <td className="num">{formatBytes(b.bytes)}</td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr className="usage-total">
          <th scope="row">Total</th>
          <td className="num">{files}</td>
          <td className="num">{formatBytes(bytes)}</td>
        </tr>
        {stats.trashed > 0 ? (
          <tr className="usage-trash">
            <td>of which in the trash</td>
            <td className="num">{stats.trashed}</td>
            <td className="num">{formatBytes(stats.trashedBytes)}</td>
          </tr>
        ) : null}
      </tfoot>
    </table>
  );
}

export function LibrarySection({ state, actions }: { state: SettingsState; actions: SettingsActions }) {
  const [stats, setStats] = useState<LibraryStats | null>(null);
  const [statsError, setStatsError] = useState<string | null>(null);
  const [moving, setMoving] = useState(false);
  const [showMove, setShowMove] = useState(false);
  const [moveError, setMoveError] = useState<string | null>(null);
  const [progress, setProgress] = useState<LibraryProgress | null>(null);
  const [report, setReport] = useState<MoveReport | null>(null);

  const loadStats = useCallback(() => {
    void actions.libraryStats().then((got) => {
      if (got.ok) {
        setStats(got.value);
        setStatsError(null);
      } else setStatsError(got.error.message);
    });
  }, [actions]);

  useEffect(() => loadStats(), [loadStats]);
  useEffect(() => onLibraryProgress(getStudioApi(), (p) => p.task === 'move' && setProgress(p)), []);

  const used = stats?.buckets.filter((b) => b.count > 0) ?? [];
  return (
    <SettingsSection
      id="settings-library"
      title="Library"
      subtitle="Where generated and imported images and videos are kept, and the space they take."
    >
      <SettingRow label="Library folder" hint="Moving it copies every file, checks it, then switches; an interrupted move resumes.">
        <code className="folder-path" data-testid="library-root">
          {stats?.root ?? state.values.libraryRoot}
        </code>
        {stats?.pendingMove ? (
          <p className="settings-note">
            A move to <code>{stats.pendingMove.to}</code> did not finish ({stats.pendingMove.phase}); moving there again resumes it.
          </p>
        ) : null}
        {showMove ? (
          <PathInput
            label="Move the library to"
            placeholder="/path/to/new/library"
            submitLabel={moving ? 'Moving…' : 'Move here'}
            pickTitle="Move the library to"
            busy={moving}
            error={moveError}
            onEdit={() => setMoveError(null)}
            onSubmit={async (to) => {
              if (to === '') {
                setMoveError('Type the full path of the new library folder first.');
                return false;
              }
              setMoving(true);
              setReport(null);
              setProgress(null);
              const got = await actions.moveLibrary(to);
              setMoving(false);
              if (!got.ok) {
                setMoveError(got.error.message);
                return false;
              }
              setReport(got.value);
              setShowMove(false);
              loadStats();
              void actions.load();
              return true;
            }}
          />
        ) : (
          <div className="settings-inline">
            <button type="button" className="btn btn-secondary btn-small" onClick={() => setShowMove(true)}>
              Move…
            </button>
          </div>
        )}
        {moving ? (
          <p className="settings-note" role="status">
            {progress && progress.total > 0
              ? `Moving… ${progress.done} of ${progress.total} files${progress.bytesTotal ? ` (${formatBytes(progress.bytesDone ?? 0)} of ${formatBytes(progress.bytesTotal)})` : ''}`
              : 'Moving the library… jobs keep their files until the switch.'}
          </p>
        ) : null}
        {report ? (
          <p className="settings-note" role="status">
            Moved {report.files} files ({formatBytes(report.bytes)}) to <code>{report.to}</code> in {seconds(report.durationMs)}.
          </p>
        ) : null}
      </SettingRow>
      <SettingRow
        label="Disk use"
        hint={
          stats
            ? `${stats.assets} assets (${stats.images} images, ${stats.videos} videos)${stats.trashed > 0 ? ` and ${stats.trashed} in the trash, whose files stay until it is emptied` : ''}.`
            : undefined
        }
      >
        {statsError ? (
          <p className="field-error">{statsError}</p>
        ) : stats === null ? (
          <p className="muted">Reading the library…</p>
        ) : used.length === 0 ? (
          <p className="muted">The library is empty.</p>
        ) : (
          <DiskUse stats={stats} used={used} />
        )}
      </SettingRow>
    </SettingsSection>
  );
}
