/**
 * One picture in the box it is given, fitted at every window size, with zoom (wheel about the
 * pointer, + and −, 1:1, Fit, double-click) and pan (drag). The Library's preview and the
 * Workspace's lightbox show their images with it; the dialog around it passes its keys in through
 * `handle.key`, so + − 0 1 work wherever focus is inside the dialog.
 *
 * While the original loads, a placeholder (the thumbnail) is drawn in its place at the same size.
 */
import { useEffect, useImperativeHandle, useState } from 'react';
import type { ReactNode, Ref } from 'react';
import { MinusIcon, PlusIcon } from '../icons.tsx';
import { VIEWER_CONTROL, useZoom, zoomKey } from './use-zoom.ts';
import type { Zoom } from './use-zoom.ts';
import { zoomPercent } from './zoom.ts';
import type { Size, View } from './zoom.ts';
import './viewer.css';

/** What a dialog holding a viewer can ask of it. */
export interface ViewerHandle {
  /** Handles a zoom key (+ − 0 1); true when it was one. */
  key(e: { readonly key: string; readonly ctrlKey: boolean; readonly metaKey: boolean; readonly altKey: boolean }): boolean;
}

const controlProps = { [VIEWER_CONTROL]: '' };

/** −, the zoom level, +, 1:1 and Fit. */
export function ZoomBar({ zoom, className = '' }: { zoom: Zoom; className?: string }) {
  const actual = zoom.view !== null && Math.abs(zoom.view.scale - 1) < 1e-6;
  return (
    <div className={`zoom-bar ${className}`} role="toolbar" aria-label="Zoom" {...controlProps}>
      <button type="button" className="zoom-btn" aria-label="Zoom out" title="Zoom out (−)" disabled={!zoom.view || zoom.atMin} onClick={zoom.zoomOut}>
        <MinusIcon />
      </button>
      <span className="zoom-level" data-testid="zoom-level" title="Zoom: the wheel zooms about the pointer, a drag moves a zoomed picture">
        {zoom.view ? zoomPercent(zoom.view.scale) : '—'}
      </span>
      <button type="button" className="zoom-btn" aria-label="Zoom in" title="Zoom in (+)" disabled={!zoom.view || zoom.atMax} onClick={zoom.zoomIn}>
        <PlusIcon />
      </button>
      <button type="button" className="zoom-btn zoom-btn--text" aria-label="1:1, actual size" aria-pressed={actual} title="Actual size: one picture pixel per screen pixel (1)" onClick={zoom.actualSize}>
        1:1
      </button>
      <button type="button" className="zoom-btn zoom-btn--text" aria-pressed={zoom.fit} title="Fit the whole picture in the window (0)" onClick={zoom.fitToBox}>
        Fit
      </button>
    </div>
  );
}

/** Where one copy of the picture is drawn: positioned and sized by the view (sharper than a CSS scale). */
export function frameStyle(view: View, image: Size) {
  return {
    width: image.w * view.scale,
    height: image.h * view.scale,
    transform: `translate(${view.x}px, ${view.y}px)`,
  };
}

/** Pixels drawn as squares once each is three screen pixels wide or more, as image editors do. */
export const pixelated = (view: View | null) => (view !== null && view.scale >= 3 ? ' viewer-frame--pixels' : '');

export interface ImageViewerProps {
  readonly src: string;
  readonly alt: string;
  /** The picture's size when known beforehand (so it is fitted before it has loaded). */
  readonly width?: number | null;
  readonly height?: number | null;
  /** Shown in the picture's place until it has loaded (a thumbnail). */
  readonly placeholder?: string | null;
  /** A new key starts fitted again (another picture). */
  readonly resetKey: string;
  readonly onError?: () => void;
  /** More controls for the bar beside the zoom (drawn over the picture). */
  readonly children?: ReactNode;
  readonly className?: string;
  readonly ref?: Ref<ViewerHandle>;
}

export function ImageViewer({ src, alt, width, height, placeholder, resetKey, onError, children, className = '', ref }: ImageViewerProps) {
  const given = width && height ? { w: width, h: height } : null;
  const [natural, setNatural] = useState<{ key: string; size: Size } | null>(null);
  const [loaded, setLoaded] = useState<string | null>(null);
  const image = natural?.key === resetKey ? natural.size : given;
  const zoom = useZoom(image, resetKey);

  useImperativeHandle(ref, () => ({ key: (e) => zoomKey(e, zoom) }), [zoom]);
  useEffect(() => setLoaded(null), [src]);

  const { view } = zoom;
  const ready = loaded === src;
  return (
    <div className={`viewer ${className}`} data-testid="image-viewer" data-fit={zoom.fit}>
      <div
        ref={zoom.surfaceRef}
        className={`viewer-surface${zoom.pannable ? ' viewer-surface--pannable' : ''}${zoom.panning ? ' viewer-surface--panning' : ''}`}
        {...zoom.handlers}
      >
        <div className={`viewer-frame${pixelated(view)}`} style={view && image ? frameStyle(view, image) : { visibility: 'hidden' }}>
          {placeholder && !ready ? <img className="viewer-img viewer-img--placeholder" src={placeholder} alt="" aria-hidden="true" draggable={false} /> : null}
          <img
            key={src}
            className={`viewer-img${ready ? '' : ' viewer-img--loading'}`}
            src={src}
            alt={alt}
            draggable={false}
            onLoad={(e) => {
              const img = e.currentTarget;
              setNatural({ key: resetKey, size: { w: img.naturalWidth, h: img.naturalHeight } });
              setLoaded(src);
            }}
            onError={onError}
          />
        </div>
      </div>
      <div className="viewer-bar" {...controlProps}>
        {children}
        <ZoomBar zoom={zoom} />
      </div>
    </div>
  );
}
