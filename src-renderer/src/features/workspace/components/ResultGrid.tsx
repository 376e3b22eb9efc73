/**
 * A finished job's images: a grid to pick from (select, enlarge, compare two, copy what reproduces
 * one image, re-run one image alone), with a lightbox that steps through the batch and fits,
 * zooms and pans the picture. Each image is named by its own seed: the batch seed and its batch
 * index (see seeds.ts).
 */
import { Dialog } from 'radix-ui';
import { useRef, useState } from 'react';
import type { CSSProperties, KeyboardEvent } from 'react';
import type { AssetView, JobView } from '../../../contract.ts';
import { useReturnFocus } from '../../../components/return-focus.ts';
import { CompareDialog } from '../../../components/viewer/CompareDialog.tsx';
import { ImageViewer } from '../../../components/viewer/ImageViewer.tsx';
import type { ViewerHandle } from '../../../components/viewer/ImageViewer.tsx';
import { imageSeedText, imageSeedValue } from '../../../seeds.ts';
import type { ImageSeed } from '../../../seeds.ts';
import { assetSrc } from '../media.ts';
import { useWorkspaceActions } from '../use-workspace-actions.ts';
import { ChevronLeftIcon, ChevronRightIcon, CloseIcon, CompareIcon, CopyIcon, ExpandIcon, RerunIcon, SettingsBackIcon } from '../../../components/icons.tsx';

const positionOf = (asset: AssetView, index: number) => asset.batchIndex ?? index;

/** The image's own seed: its batch's seed and its place in that seed's batch. */
const seedOf = (job: JobView, asset: AssetView, index: number): ImageSeed => ({ seed: asset.seed ?? job.params.seed, batchIndex: positionOf(asset, index) });

function ResultTile({
  job,
  asset,
  index,
  total,
  selected,
  canRerun,
  onOpen,
  onToggle,
}: {
  job: JobView;
  asset: AssetView;
  index: number;
  total: number;
  selected: boolean;
  canRerun: boolean;
  onOpen(): void;
  onToggle(): void;
}) {
  const actions = useWorkspaceActions();
  const [broken, setBroken] = useState(false);
  const n = index + 1;
  const seed = seedOf(job, asset, index);
  return (
    <div className={`ws-tile ws-result${selected ? ' ws-result--selected' : ''}`} data-testid="result">
      {broken ? <span className="ws-result-broken">Could not load this image</span> : null}
      <button
        type="button"
        className="ws-result-open"
        aria-label={total > 1 ? `Enlarge image ${n} of ${total}` : 'Enlarge the image'}
        onClick={(e) => (e.shiftKey || e.ctrlKey || e.metaKey ? onToggle() : onOpen())}
      >
        <img
          src={assetSrc(asset, 'thumb')}
          alt={total > 1 ? `Image ${n} of ${total}` : 'The image'}
          draggable={false}
          onError={() => setBroken(true)}
          onLoad={() => setBroken(false)}
        />
      </button>
      {total > 1 ? (
        <button
          type="button"
          className="ws-select"
          aria-pressed={selected}
          aria-label={`Select image ${n}`}
          title={selected ? 'Selected for comparing' : 'Select to compare (or Shift+click the image)'}
          onClick={onToggle}
        >
          <span aria-hidden="true">{selected ? '✓' : ''}</span>
        </button>
      ) : null}
      <div className="ws-result-bar">
        <span className="ws-result-label">{total > 1 ? `#${n}` : `${asset.width ?? job.params.width}×${asset.height ?? job.params.height}`}</span>
        <span className="ws-result-tools">
          {canRerun ? (
            <button
              type="button"
              className="ws-tool"
              aria-label={`Re-run image ${n}`}
              title="Re-run this image alone: same seed and settings, one image"
              onClick={() => void actions.rerun(job, positionOf(asset, index))}
            >
              <RerunIcon />
            </button>
          ) : null}
          <button type="button" className="ws-tool" aria-label={`Copy seed of image ${n}`} title={`Copy ${imageSeedText(seed)}`} onClick={() => void actions.copySeed(seed)}>
            <CopyIcon />
          </button>
          <button type="button" className="ws-tool" aria-label={`Open image ${n} large`} title="Enlarge" onClick={onOpen}>
            <ExpandIcon />
          </button>
        </span>
      </div>
    </div>
  );
}

function Lightbox({
  job,
  assets,
  index,
  canRerun,
  onIndex,
  onClose,
}: {
  job: JobView;
  assets: readonly AssetView[];
  index: number;
  canRerun: boolean;
  onIndex(index: number): void;
  onClose(): void;
}) {
  const actions = useWorkspaceActions();
  const viewer = useRef<ViewerHandle>(null);
  const returnFocus = useReturnFocus(true);
  const asset = assets[index]!;
  const total = assets.length;
  const seed = seedOf(job, asset, index);
  const go = (delta: number) => onIndex((index + delta + total) % total);
  const onKeyDown = (e: KeyboardEvent) => {
    if (viewer.current?.key(e)) {
      e.preventDefault();
    } else if (e.key === 'ArrowLeft' && total > 1) {
      e.preventDefault();
      go(-1);
    } else if (e.key === 'ArrowRight' && total > 1) {
      e.preventDefault();
      go(1);
    }
  };
  return (
    <Dialog.Root open onOpenChange={(open) => !open && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="ws-overlay" />
        <Dialog.Content className="ws-lightbox" onKeyDown={onKeyDown} onCloseAutoFocus={returnFocus} aria-describedby={undefined}>
          <div className="ws-lightbox-stage">
            <ImageViewer
              ref={viewer}
              className="ws-lightbox-viewer"
              src={assetSrc(asset, 'original')}
              alt={total > 1 ? `Image ${index + 1} of ${total}, full size` : 'The image, full size'}
              width={asset.width ?? job.params.width}
              height={asset.height ?? job.params.height}
              placeholder={asset.thumbUrl ? assetSrc(asset, 'thumb') : null}
              resetKey={asset.id}
            />
            {total > 1 ? (
              <>
                <button type="button" className="stage-nav ws-nav--prev" aria-label="Previous image" onClick={() => go(-1)}>
                  <ChevronLeftIcon />
                </button>
                <button type="button" className="stage-nav ws-nav--next" aria-label="Next image" onClick={() => go(1)}>
                  <ChevronRightIcon />
                </button>
              </>
            ) : null}
          </div>
          <div className="ws-lightbox-side">
            <Dialog.Title className="ws-lightbox-title">{total > 1 ? `Image ${index + 1} of ${total}` : 'Image'}</Dialog.Title>
            <p className="ws-lightbox-prompt">{job.params.prompt}</p>
            <dl className="facts">
              <dt>Seed</dt>
              <dd data-testid="lightbox-seed">{imageSeedValue(seed)}</dd>
              <dt>Size</dt>
              <dd>
                {asset.width ?? job.params.width}×{asset.height ?? job.params.height}
              </dd>
              <dt>Steps</dt>
              <dd>{asset.steps ?? job.params.steps}</dd>
              <dt>Guidance</dt>
              <dd>{asset.guidance ?? job.params.guidance}</dd>
              <dt>Sampler</dt>
              <dd>{asset.scheduler ?? job.params.scheduler}</dd>
            </dl>
            <div className="ws-lightbox-actions">
              {canRerun ? (
                <button type="button" className="btn btn-secondary btn-small" onClick={() => void actions.rerun(job, positionOf(asset, index))}>
                  <RerunIcon /> Re-run this image
                </button>
              ) : null}
              <button type="button" className="btn btn-secondary btn-small" onClick={() => void actions.copySeed(seed)}>
                <CopyIcon /> Copy seed
              </button>
              <button
                type="button"
                className="btn btn-secondary btn-small"
                onClick={() => {
                  actions.useJobSettings(job);
                  onClose();
                }}
              >
                <SettingsBackIcon /> Use these settings
              </button>
            </div>
            <p className="ws-hint">
              {total > 1 ? (
                <>
                  <kbd>←</kbd> <kbd>→</kbd> step through the batch ·{' '}
                </>
              ) : null}
              <kbd>+</kbd> <kbd>−</kbd> zoom, <kbd>0</kbd> fit, <kbd>1</kbd> 1:1, drag to move · <kbd>Esc</kbd> closes
            </p>
          </div>
          <Dialog.Close className="ws-icon-btn ws-dialog-close" aria-label="Close">
            <CloseIcon size={16} />
          </Dialog.Close>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

/** Two images of the batch compared: slider, side by side or difference, each labelled with its own seed. */
function BatchCompare({ job, assets, pair, onClose }: { job: JobView; assets: readonly AssetView[]; pair: readonly [number, number]; onClose(): void }) {
  const actions = useWorkspaceActions();
  const [i, j] = pair;
  const first = assets[i];
  const second = assets[j];
  if (!first || !second) return null;
  const side = (asset: AssetView, index: number) => {
    const seed = seedOf(job, asset, index);
    return {
      src: assetSrc(asset, 'original'),
      alt: `Image ${index + 1}`,
      caption: (
        <>
          <span>Image {index + 1}</span>
          <button type="button" className="btn-link compare-seed" title="Copy what reproduces this image alone" onClick={() => void actions.copySeed(seed)}>
            {imageSeedText(seed)}
          </button>
        </>
      ),
    };
  };
  return (
    <CompareDialog
      title={`Image ${i + 1} and image ${j + 1}`}
      a={side(first, i)}
      b={side(second, j)}
      size={{ w: first.width ?? job.params.width, h: first.height ?? job.params.height }}
      resetKey={`${first.id}:${second.id}`}
      onClose={onClose}
    />
  );
}

export function ResultGrid({ job, assets }: { job: JobView; assets: readonly AssetView[] }) {
  const [selected, setSelected] = useState<readonly number[]>([]);
  const [open, setOpen] = useState<number | null>(null);
  const [comparing, setComparing] = useState(false);
  // Re-running one image only makes sense inside a batch; a single image would come out the same.
  const canRerun = job.params.count > 1;
  const total = assets.length;
  const toggle = (i: number) =>
    setSelected((s) => (s.includes(i) ? s.filter((x) => x !== i) : [...s, i].slice(-2)));
  const cols = total === 1 ? 1 : total <= 4 ? 2 : 3;
  const w = assets[0]?.width ?? job.params.width;
  const h = assets[0]?.height ?? job.params.height;

  return (
    <div className="ws-results">
      <div
        className={`ws-tiles ws-tiles--${total === 1 ? 'single' : 'grid'}`}
        style={{ '--ws-aspect': `${w} / ${h}`, '--ws-ratio': String(w / h), '--ws-cols': String(cols) } as CSSProperties}
      >
        {assets.map((asset, i) => (
          <ResultTile
            key={asset.id}
            job={job}
            asset={asset}
            index={i}
            total={total}
            selected={selected.includes(i)}
            canRerun={canRerun}
            onOpen={() => setOpen(i)}
            onToggle={() => toggle(i)}
          />
        ))}
      </div>
      {total > 1 ? (
        <div className="ws-results-bar">
          <span className="ws-hint">
            {selected.length === 0
              ? 'Click an image to enlarge it; select two to compare.'
              : selected.length === 1
                ? `Image ${selected[0]! + 1} selected; select one more to compare.`
                : `Images ${selected[0]! + 1} and ${selected[1]! + 1} selected.`}
          </span>
          {selected.length > 0 ? (
            <button type="button" className="btn btn-ghost btn-small" onClick={() => setSelected([])}>
              Clear
            </button>
          ) : null}
          <button type="button" className="btn btn-secondary btn-small" disabled={selected.length !== 2} onClick={() => setComparing(true)}>
            <CompareIcon /> Compare
          </button>
        </div>
      ) : null}
      {open !== null && assets[open] ? (
        <Lightbox job={job} assets={assets} index={open} canRerun={canRerun} onIndex={setOpen} onClose={() => setOpen(null)} />
      ) : null}
      {comparing && selected.length === 2 ? (
        <BatchCompare job={job} assets={assets} pair={[selected[0]!, selected[1]!]} onClose={() => setComparing(false)} />
      ) : null}
    </div>
  );
}
