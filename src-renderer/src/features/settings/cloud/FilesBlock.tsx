/**
 * Settings → Cloud → Files, live from the engine's sync.changed events: the file moving now (name,
 * part, a progress bar with bytes of total and the speed), what waits to go up and come down, the
 * files kept on this computer with the reason, and files that failed with the reason and a Retry.
 */
import type { CloudFilesStatus } from '../../../contract.ts';
import { sizeText, transferPercent, transferText } from './cloud-store.ts';

export function FilesBlock({ files, onRetry, busy }: { files: CloudFilesStatus; onRetry(): void; busy: boolean }) {
  const t = files.transfer;
  return (
    <div className="cloud-files" data-testid="cloud-files">
      <h3 className="cloud-files-head">Files</h3>
      {t ? (
        <div className="cloud-transfer" data-testid="cloud-transfer">
          <p>
            {t.direction === 'up' ? 'Uploading' : 'Downloading'} <strong>{t.name}</strong> <span className="muted">({t.part})</span>
          </p>
          <div
            className="cloud-bar"
            role="progressbar"
            aria-label={`${t.direction === 'up' ? 'Uploading' : 'Downloading'} ${t.name}`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={transferPercent(t)}
            aria-valuetext={transferText(t)}
          >
            <span className="cloud-bar-fill" style={{ width: `${transferPercent(t)}%` }} />
          </div>
          <p className="cloud-transfer-bytes" data-testid="cloud-transfer-bytes">
            {transferText(t)}
          </p>
        </div>
      ) : null}
      <dl className="cloud-facts">
        <dt>Waiting to upload</dt>
        <dd data-testid="cloud-uploads-waiting">
          {files.uploadsWaiting} file{files.uploadsWaiting === 1 ? '' : 's'}
          {files.uploadsWaiting > 0 ? ` · ${sizeText(files.uploadBytesWaiting)}` : ''}
        </dd>
        <dt>Waiting to download</dt>
        <dd data-testid="cloud-downloads-waiting">
          {files.downloadsWaiting} file{files.downloadsWaiting === 1 ? '' : 's'}
        </dd>
      </dl>
      {files.localOnlyCount > 0 ? (
        <details className="cloud-local" data-testid="cloud-local-only">
          <summary>Kept on this computer ({files.localOnlyCount})</summary>
          <ul>
            {files.localOnly.map((l) => (
              <li key={l.assetId}>
                <strong>{l.name}</strong>: {l.reason}
              </li>
            ))}
          </ul>
          {files.localOnlyCount > files.localOnly.length ? (
            <p className="muted">
              … and {files.localOnlyCount - files.localOnly.length} more (<code>studio sync status --json</code> lists them).
            </p>
          ) : null}
        </details>
      ) : null}
      {files.failures.length > 0 ? (
        <div className="cloud-failures" data-testid="cloud-file-failures">
          <p>
            {files.failures.length} file{files.failures.length === 1 ? '' : 's'} could not be {files.failures.every((f) => f.direction === 'down') ? 'brought down' : 'sent'}; kept here until tried again:
          </p>
          <ul>
            {files.failures.slice(0, 10).map((f) => (
              <li key={`${f.assetId}-${f.direction}`}>
                <span aria-hidden="true">{f.direction === 'up' ? '↑ ' : '↓ '}</span>
                <strong>{f.name}</strong>: {f.reason}
              </li>
            ))}
          </ul>
          <button type="button" className="btn btn-secondary btn-small" disabled={busy} onClick={onRetry}>
            Retry
          </button>
        </div>
      ) : null}
    </div>
  );
}
