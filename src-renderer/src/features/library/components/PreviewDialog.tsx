/**
 * One asset, large: the full image fitted to the room beside the details (the thumbnail shows at
 * once, the original replaces it when it has loaded), with zoom and pan (wheel, + −, 1:1, Fit,
 * drag), or the video in the shared player (play, scrub, loop), with the metadata panel beside it.
 * ← → step through the current list; Delete asks, then moves it to the trash with undo. Closing
 * gives the list focus back on the asset shown last.
 */
import { Dialog } from 'radix-ui';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { KeyboardEvent, ReactNode, Ref } from 'react';
import { displayUrl } from '../../../api/media.ts';
import { ImageViewer } from '../../../components/viewer/ImageViewer.tsx';
import type { ViewerHandle } from '../../../components/viewer/ImageViewer.tsx';
import { useReturnFocus } from '../../../components/return-focus.ts';
import { VideoPlayer } from '../../../components/video/VideoPlayer.tsx';
import type { AssetDetail, AssetView } from '../../../contract.ts';
import { useStudio } from '../../../store.ts';
import { useLibrary } from '../context.tsx';
import { toView } from '../feed.ts';
import { assetOrigin, promptOrKind } from '../labels.ts';
import { ConfirmDialog } from './dialogs.tsx';
import { ChevronLeftIcon, ChevronRightIcon } from '../../../components/icons.tsx';
import { focusListItem } from './list-focus.ts';
import { MetadataPanel } from './MetadataPanel.tsx';
import { CloudOriginal } from './CloudOriginal.tsx';
import { UNDO_BAR_CLASS } from './UndoToast.tsx';

function ImageView({ asset, viewer, children }: { asset: AssetView; viewer: Ref<ViewerHandle>; children?: ReactNode }) {
  const [failed, setFailed] = useState<string | null>(null);
  if (failed === asset.id) {
    return (
      <div className="preview-error" role="alert">
        The image could not be loaded. Its file may have been moved or deleted outside the studio; <code>studio library check</code> finds and repairs that.
      </div>
    );
  }
  return (
    <ImageViewer
      ref={viewer}
      className="preview-viewer"
      src={displayUrl(asset.mediaUrl)}
      alt={promptOrKind(asset)}
      width={asset.width}
      height={asset.height}
      placeholder={asset.thumbUrl ? displayUrl(asset.thumbUrl) : null}
      resetKey={asset.id}
      onError={() => setFailed(asset.id)}
    >
      {children}
    </ImageViewer>
  );
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el?.closest?.('input, textarea, select, [contenteditable="true"], .video-player');
}

export function PreviewDialog() {
  const controller = useLibrary();
  const feed = controller.feed;
  const target = useStudio((s) => s.libraryPreview);
  const total = useStudio((s) => s.libraryFeed.total) ?? 0;
  useStudio((s) => s.libraryFeed.version);
  const setPreview = useStudio((s) => s.setLibraryPreview);
  const setFocus = useStudio((s) => s.setLibraryFocus);
  const [detail, setDetail] = useState<AssetDetail | null>(null);
  const [confirming, setConfirming] = useState(false);
  // Read the asset again (its original came down from the cloud).
  const [reads, setReads] = useState(0);
  const viewer = useRef<ViewerHandle>(null);

  // The row as the list has it (kept fresh by library.changed), else the detail read below.
  let index = target?.index ?? -1;
  let asset: AssetView | undefined;
  if (target) {
    const at = feed.at(target.index);
    if (at?.id === target.id) asset = at;
    else {
      const found = feed.indexOf(target.id);
      if (found !== -1) {
        index = found;
        asset = feed.at(found);
      }
    }
    if (!asset && detail?.id === target.id) asset = toView(detail);
  }

  const id = target?.id ?? null;
  const updatedAt = asset?.updatedAt;
  const tagsKey = asset?.tags.join('\n');
  useEffect(() => {
    if (id === null) {
      setDetail(null);
      return;
    }
    let live = true;
    controller.detail(id).then(
      (d) => live && setDetail(d),
      () => live && setDetail(null),
    );
    return () => {
      live = false;
    };
  }, [controller, id, updatedAt, tagsKey, reads]);
  const inCloud = detail !== null && detail.id === id && detail.originalInCloud;

  const go = useCallback(
    async (delta: number) => {
      if (index < 0) return;
      const next = index + delta;
      if (next < 0 || next >= total) return;
      await feed.loadRange(next, next).catch(() => {});
      const a = feed.at(next);
      if (a) {
        setPreview({ index: next, id: a.id });
        setFocus(next);
      }
    },
    [feed, index, setFocus, setPreview, total],
  );

  const remove = useCallback(async () => {
    if (!asset) return;
    // Stay in the list: show the one after it (or before, at the end), which slides into its place.
    const neighbour = feed.at(index + 1) ?? (index > 0 ? feed.at(index - 1) : undefined);
    const ok = await controller.trash([asset.id]);
    if (!ok) return;
    if (neighbour) setPreview({ index: neighbour === feed.at(index + 1) ? index : index - 1, id: neighbour.id });
    else setPreview(null);
  }, [asset, controller, feed, index, setPreview]);

  const onKeyDown = (e: KeyboardEvent) => {
    if (isTyping(e.target) || e.altKey || e.ctrlKey || e.metaKey) return;
    if (viewer.current?.key(e)) {
      e.preventDefault();
    } else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      e.preventDefault();
      void go(e.key === 'ArrowLeft' ? -1 : 1);
    } else if (e.key === 'Delete' && asset && asset.trashedAt === null) {
      e.preventDefault();
      setConfirming(true);
    }
  };

  const open = target !== null;
  const counter = (
    <div className="preview-counter" aria-live="polite">
      {(index + 1).toLocaleString()} of {total.toLocaleString()}
    </div>
  );
  // Closing gives the list keyboard focus back, on the asset shown last.
  const returnFocus = useReturnFocus(open, () => focusListItem(index));
  return (
    <Dialog.Root open={open} onOpenChange={(o) => !o && setPreview(null)}>
      <Dialog.Portal>
        <Dialog.Overlay className="preview-overlay" />
        <Dialog.Content
          className="preview"
          onKeyDown={onKeyDown}
          aria-describedby={undefined}
          data-testid="library-preview"
          onCloseAutoFocus={returnFocus}
          // The undo bar floats above the preview: using it must not close the preview.
          onInteractOutside={(e) => {
            if ((e.target as HTMLElement | null)?.closest?.(`.${UNDO_BAR_CLASS}`)) e.preventDefault();
          }}
        >
          <Dialog.Title className="visually-hidden">{asset ? `${assetOrigin(asset)}: ${promptOrKind(asset)}` : 'Preview'}</Dialog.Title>
          <div className="preview-stage">
            {asset ? (
              inCloud ? (
                <CloudOriginal asset={asset} onArrived={() => setReads((n) => n + 1)} />
              ) : asset.kind === 'video' ? (
                <VideoPlayer
                  key={asset.id}
                  className="preview-video"
                  src={displayUrl(asset.mediaUrl)}
                  poster={asset.thumbUrl ? displayUrl(asset.thumbUrl) : null}
                  fps={asset.fps ?? 16}
                  frameCount={asset.frameCount}
                  width={asset.width}
                  height={asset.height}
                  label={promptOrKind(asset)}
                  autoPlay
                />
              ) : (
                <ImageView asset={asset} viewer={viewer}>
                  {index >= 0 ? counter : null}
                </ImageView>
              )
            ) : (
              <div className="preview-loading">Loading…</div>
            )}
            {index > 0 ? (
              <button type="button" className="stage-nav preview-nav--prev" aria-label="Previous" onClick={() => void go(-1)}>
                <ChevronLeftIcon />
              </button>
            ) : null}
            {index >= 0 && index < total - 1 ? (
              <button type="button" className="stage-nav preview-nav--next" aria-label="Next" onClick={() => void go(1)}>
                <ChevronRightIcon />
              </button>
            ) : null}
            {index >= 0 && asset?.kind === 'video' ? counter : null}
          </div>
          {asset ? <MetadataPanel asset={asset} detail={detail?.id === asset.id ? detail : null} onDelete={() => setConfirming(true)} onClose={() => setPreview(null)} /> : null}
          <ConfirmDialog
            open={confirming}
            onOpenChange={setConfirming}
            title={`Move this ${asset?.kind === 'video' ? 'video' : 'image'} to the trash?`}
            description="You can undo this from the notice that follows, or restore it from the trash later."
            confirmLabel="Move to trash"
            danger
            onConfirm={() => void remove()}
          />
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
