/**
 * Two pictures compared the ways image tools compare them: a slider (one over the other, a divider
 * to drag), side by side, and the difference (what changed shows bright, what did not stays black;
 * Amplify brightens small changes). Every mode shares one zoom and pan, so a detail can be followed
 * from one mode to the next. Each picture is labelled with its own caption (A and B).
 *
 * Both pictures are drawn in the first one's frame (the second contained in it), so pictures of
 * one batch line up pixel for pixel.
 */
import { useImperativeHandle, useMemo, useRef, useState } from 'react';
import type { KeyboardEvent, PointerEvent, ReactNode, Ref } from 'react';
import { VIEWER_CONTROL, WHOLE_SURFACE, useZoom, zoomKey } from './use-zoom.ts';
import type { SurfaceLayout } from './use-zoom.ts';
import { ZoomBar, frameStyle, pixelated } from './ImageViewer.tsx';
import type { ViewerHandle } from './ImageViewer.tsx';
import type { Size, View } from './zoom.ts';
import './viewer.css';

export type CompareMode = 'slider' | 'side' | 'difference';

export const COMPARE_MODES: readonly { readonly mode: CompareMode; readonly label: string; readonly hint: string }[] = [
  { mode: 'slider', label: 'Slider', hint: 'One over the other: drag the divider (or use ← → on it)' },
  { mode: 'side', label: 'Side by side', hint: 'Both at once, zoomed and moved together' },
  { mode: 'difference', label: 'Difference', hint: 'What differs shows bright; what is the same stays black' },
];

export interface ComparedImage {
  readonly src: string;
  readonly alt: string;
  /** Under the picture: what it is and its seed (and anything to do with it, e.g. copy the seed). */
  readonly caption: ReactNode;
}

/** The gap between the two pictures side by side, in CSS pixels. */
const SIDE_GAP = 12;

const sideBySide: SurfaceLayout = {
  box: (s) => ({ w: Math.max(0, (s.w - SIDE_GAP) / 2), h: s.h }),
  toBox: (p, s) => {
    const half = (s.w - SIDE_GAP) / 2;
    return p.x > half + SIDE_GAP / 2 ? { x: p.x - half - SIDE_GAP, y: p.y } : p;
  },
};

function Frame({ src, alt, view, image, className = '' }: { src: string; alt: string; view: View | null; image: Size; className?: string }) {
  return (
    <div className={`viewer-frame${pixelated(view)} ${className}`} style={view ? frameStyle(view, image) : { visibility: 'hidden' }}>
      <img className="viewer-img" src={src} alt={alt} draggable={false} />
    </div>
  );
}

export interface CompareViewerProps {
  readonly a: ComparedImage;
  readonly b: ComparedImage;
  /** The first picture's size (both are drawn in it). */
  readonly size: Size;
  /** A new key starts fitted again (another pair). */
  readonly resetKey: string;
  readonly initialMode?: CompareMode;
  readonly ref?: Ref<ViewerHandle>;
}

export function CompareViewer({ a, b, size, resetKey, initialMode = 'slider', ref }: CompareViewerProps) {
  const [mode, setMode] = useState<CompareMode>(initialMode);
  const [split, setSplit] = useState(0.5);
  const [amplify, setAmplify] = useState(false);
  const zoom = useZoom(size, resetKey, mode === 'side' ? sideBySide : WHOLE_SURFACE);
  const stage = useRef<HTMLDivElement>(null);
  const dragging = useRef<number | null>(null);
  useImperativeHandle(ref, () => ({ key: (e) => zoomKey(e, zoom) }), [zoom]);

  const splitAt = (clientX: number) => {
    const r = stage.current?.getBoundingClientRect();
    if (r && r.width > 0) setSplit(Math.min(1, Math.max(0, (clientX - r.left) / r.width)));
  };
  const divider = useMemo(
    () => ({
      onPointerDown(e: PointerEvent) {
        if (e.button !== 0) return;
        e.preventDefault();
        e.stopPropagation();
        (e.currentTarget as Element).setPointerCapture(e.pointerId);
        dragging.current = e.pointerId;
      },
      onPointerMove(e: PointerEvent) {
        if (dragging.current === e.pointerId) splitAt(e.clientX);
      },
      onPointerUp(e: PointerEvent) {
        if (dragging.current === e.pointerId) dragging.current = null;
      },
      onKeyDown(e: KeyboardEvent) {
        const step = e.shiftKey ? 0.1 : 0.02;
        const to = { ArrowLeft: split - step, ArrowDown: split - step, ArrowRight: split + step, ArrowUp: split + step, Home: 0, End: 1 }[e.key];
        if (to === undefined) return;
        e.preventDefault();
        e.stopPropagation(); // the dialog's ← → (previous, next) stay out of it
        setSplit(Math.min(1, Math.max(0, to)));
      },
    }),
    [split],
  );

  // In the slider, a press on the picture moves the divider there unless the picture is zoomed in (then it pans).
  const surfaceHandlers =
    mode === 'slider' && !zoom.pannable
      ? {
          ...zoom.handlers,
          onPointerDown(e: PointerEvent) {
            if (e.button !== 0 || (e.target as Element).closest(`[${VIEWER_CONTROL}]`)) return;
            splitAt(e.clientX);
            divider.onPointerDown(e);
          },
          onPointerMove: divider.onPointerMove,
          onPointerUp: divider.onPointerUp,
        }
      : zoom.handlers;

  const { view } = zoom;
  const pct = Math.round(split * 100);
  const surfaceClass = `viewer-surface compare-surface compare-surface--${mode}${zoom.pannable ? ' viewer-surface--pannable' : ''}${zoom.panning ? ' viewer-surface--panning' : ''}`;
  return (
    <div className="viewer compare" data-testid="compare-viewer" data-mode={mode} data-fit={zoom.fit}>
      <div className="compare-toolbar">
        <div className="compare-modes segmented" role="group" aria-label="Compare mode">
          {COMPARE_MODES.map((m) => (
            <button key={m.mode} type="button" aria-pressed={mode === m.mode} title={m.hint} onClick={() => setMode(m.mode)}>
              {m.label}
            </button>
          ))}
        </div>
        <span className="compare-toolbar-spacer" />
        {mode === 'difference' ? (
          <button
            type="button"
            className="btn btn-secondary btn-small compare-amplify"
            aria-pressed={amplify}
            title="Show small differences four times brighter"
            onClick={() => setAmplify((x) => !x)}
          >
            Amplify
          </button>
        ) : null}
        <ZoomBar zoom={zoom} />
      </div>
      <div
        ref={(el) => {
          stage.current = el;
          zoom.surfaceRef(el);
        }}
        className={surfaceClass}
        {...surfaceHandlers}
      >
        {mode === 'side' ? (
          <>
            <div className="compare-pane">
              <Frame src={a.src} alt={a.alt} view={view} image={size} />
              <span className="compare-tag">A</span>
            </div>
            <div className="compare-pane">
              <Frame src={b.src} alt={b.alt} view={view} image={size} />
              <span className="compare-tag">B</span>
            </div>
          </>
        ) : mode === 'slider' ? (
          <>
            <div className="compare-layer">
              <Frame src={a.src} alt={a.alt} view={view} image={size} />
            </div>
            <div className="compare-layer" style={{ clipPath: `inset(0 0 0 ${pct}%)` }} data-testid="compare-top">
              <Frame src={b.src} alt={b.alt} view={view} image={size} />
            </div>
            <span className="compare-tag">A</span>
            <span className="compare-tag compare-tag--right">B</span>
            <div
              className="compare-divider"
              style={{ left: `${split * 100}%` }}
              role="slider"
              tabIndex={0}
              aria-label="Divider: A to its left, B to its right"
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={pct}
              aria-valuetext={`${pct}% of the width shows A`}
              aria-orientation="horizontal"
              {...controlAttr}
              {...divider}
            >
              <span className="compare-grip" aria-hidden="true" />
            </div>
          </>
        ) : (
          <div className={`compare-difference${amplify ? ' compare-difference--amplified' : ''}`}>
            <div className="compare-layer">
              <Frame src={a.src} alt={a.alt} view={view} image={size} />
            </div>
            <div className="compare-layer compare-layer--difference" data-testid="compare-top">
              <Frame src={b.src} alt={b.alt} view={view} image={size} />
            </div>
          </div>
        )}
      </div>
      <div className="compare-captions">
        <div className="compare-caption" data-testid="compare-caption-a">
          <span className="compare-badge" aria-hidden="true">
            A
          </span>
          {a.caption}
        </div>
        <div className="compare-caption" data-testid="compare-caption-b">
          <span className="compare-badge" aria-hidden="true">
            B
          </span>
          {b.caption}
        </div>
      </div>
    </div>
  );
}

const controlAttr = { [VIEWER_CONTROL]: '' };
