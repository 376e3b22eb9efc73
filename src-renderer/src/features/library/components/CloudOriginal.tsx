/**
 * The viewer's stage for an asset made on another desktop whose original is only in the cloud so
 * far: it asks `sync.download` for it at once and says so ("In the cloud — bringing the original…"),
 * over the thumbnail when there is one; when the original is here the viewer shows it. A refusal
 * (signed out, sync off, not in the cloud, a failed check) is said in the engine's sentence, with a
 * Try again.
 */
import { useEffect, useState } from 'react';
import { toWireError } from '../../../api/errors.ts';
import { getStudioApi } from '../../../api/index.ts';
import { displayUrl } from '../../../api/media.ts';
import type { AssetView } from '../../../contract.ts';
import { setCloudStatus } from '../../settings/cloud/cloud-store.ts';
import './cloud-original.css';

function sentence(text: string): string {
  const t = text.trim();
  return `${t.charAt(0).toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}`;
}

export function CloudOriginal({ asset, onArrived }: { asset: AssetView; onArrived(): void }) {
  const [attempt, setAttempt] = useState(0);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setFailed(null);
    getStudioApi()
      .sync.download({ assetId: asset.id })
      .then(
        (status) => {
          setCloudStatus(status);
          if (live) onArrived();
        },
        (e: unknown) => live && setFailed(sentence(toWireError(e).message)),
      );
    return () => {
      live = false;
    };
    // Not on onArrived: the viewer's "read the asset again" is a new function each render, and must not start another download.
  }, [asset.id, attempt]);
  return (
    <div className="preview-cloud" data-testid="preview-cloud">
      {asset.thumbUrl ? <img className="preview-cloud-thumb" src={displayUrl(asset.thumbUrl)} alt="" /> : null}
      {failed ? (
        <div className="preview-cloud-note" role="alert">
          <p>{failed}</p>
          <button type="button" className="btn btn-secondary btn-small" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </div>
      ) : (
        <p className="preview-cloud-note" role="status">
          In the cloud — bringing the original…
        </p>
      )}
    </div>
  );
}
