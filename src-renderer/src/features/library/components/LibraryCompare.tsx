/**
 * Two selected images compared (Compare in the selection bar): slider, side by side or difference,
 * each labelled with its prompt and its own seed (the batch seed and its batch index), which a
 * click copies.
 */
import { useEffect, useState } from 'react';
import { displayUrl } from '../../../api/media.ts';
import { CompareDialog } from '../../../components/viewer/CompareDialog.tsx';
import type { ComparedImage } from '../../../components/viewer/CompareViewer.tsx';
import type { AssetDetail } from '../../../contract.ts';
import { imageSeedClipboard, imageSeedText } from '../../../seeds.ts';
import { useStudio } from '../../../store.ts';
import { useLibrary } from '../context.tsx';
import { promptOrKind } from '../labels.ts';
import { copyToClipboard } from './MetadataPanel.tsx';

function side(asset: AssetDetail, letter: string): ComparedImage {
  const seed = asset.seed !== null ? { seed: asset.seed, batchIndex: asset.batchIndex } : null;
  return {
    src: displayUrl(asset.mediaUrl),
    alt: `${letter}: ${promptOrKind(asset)}`,
    caption: (
      <>
        <span className="compare-caption-text" title={promptOrKind(asset)}>
          {promptOrKind(asset)}
        </span>
        {seed ? (
          <button type="button" className="btn-link compare-seed" title="Copy what reproduces this image alone" onClick={() => copyToClipboard(imageSeedClipboard(seed), 'Seed')}>
            {imageSeedText(seed)}
          </button>
        ) : (
          <span className="muted">no seed recorded</span>
        )}
      </>
    ),
  };
}

export function LibraryCompare({ ids, onClose }: { ids: readonly [string, string]; onClose(): void }) {
  const controller = useLibrary();
  const [pair, setPair] = useState<readonly [AssetDetail, AssetDetail] | null>(null);
  const [a, b] = ids;

  useEffect(() => {
    let live = true;
    Promise.all([controller.detail(a), controller.detail(b)]).then(
      ([first, second]) => {
        if (!live) return;
        const notify = useStudio.getState().notify;
        if (!first || !second) {
          notify({ kind: 'error', title: 'Could not compare', message: 'One of the two assets is no longer in the library.' });
          onClose();
        } else if (first.kind !== 'image' || second.kind !== 'image') {
          notify({ kind: 'error', title: 'Compare shows two images', message: 'Select two images to compare; videos open one at a time in the preview.' });
          onClose();
        } else setPair([first, second]);
      },
      (error: unknown) => {
        if (!live) return;
        useStudio.getState().notify({ kind: 'error', title: 'Could not compare', message: error instanceof Error ? error.message : String(error) });
        onClose();
      },
    );
    return () => {
      live = false;
    };
  }, [controller, a, b, onClose]);

  if (!pair) return null;
  const [first, second] = pair;
  return (
    <CompareDialog
      title="Compare two images"
      a={side(first, 'A')}
      b={side(second, 'B')}
      size={{ w: first.width ?? 1024, h: first.height ?? 1024 }}
      resetKey={`${first.id}:${second.id}`}
      onClose={onClose}
    />
  );
}
