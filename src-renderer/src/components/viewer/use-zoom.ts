/**
 * Zoom and pan state for a picture shown in a box (the surface): fitted until the user zooms, with
 * the wheel zooming about the pointer, a drag panning, a double-click going between fit and 1:1,
 * and +, −, 1:1 and Fit for buttons and keys. While fitted, the picture follows the box as the
 * window is resized; a new picture (another `resetKey`) starts fitted again.
 *
 * The surface may draw the picture more than once (side by side): `layout` says how big one copy's
 * box is and where a point on the surface falls in it, so every copy shares one view.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { MouseEvent, PointerEvent } from 'react';
import { canPan, clampPan, clampScale, fitScale, fitView, stepScale, wheelFactor, zoomAt } from './zoom.ts';
import type { Point, Size, View } from './zoom.ts';

export interface SurfaceLayout {
  /** The box one copy of the picture is drawn in, on a surface of this size. */
  box(surface: Size): Size;
  /** A point on the surface, in the coordinates of the box it falls in. */
  toBox(point: Point, surface: Size): Point;
}

export const WHOLE_SURFACE: SurfaceLayout = { box: (s) => s, toBox: (p) => p };

/** Marks a control drawn over the surface: pointer presses on it neither pan nor zoom. */
export const VIEWER_CONTROL = 'data-viewer-control';

type Placement = { readonly fit: true } | { readonly fit: false; readonly view: View };

export interface Zoom {
  /** Put on the element the picture is shown in. */
  surfaceRef(element: HTMLElement | null): void;
  /** Where the picture is drawn in its box; null until the box and the picture's size are known. */
  readonly view: View | null;
  readonly box: Size;
  /** Fitted to the box (and following its size). */
  readonly fit: boolean;
  /** The picture is larger than its box, so a drag moves it. */
  readonly pannable: boolean;
  readonly panning: boolean;
  readonly atMin: boolean;
  readonly atMax: boolean;
  zoomIn(): void;
  zoomOut(): void;
  /** One picture pixel per CSS pixel, about the box's centre. */
  actualSize(): void;
  fitToBox(): void;
  /** The surface's pointer handlers (the wheel is listened to directly: it must be able to cancel scrolling). */
  readonly handlers: {
    onPointerDown(e: PointerEvent): void;
    onPointerMove(e: PointerEvent): void;
    onPointerUp(e: PointerEvent): void;
    onPointerCancel(e: PointerEvent): void;
    onDoubleClick(e: MouseEvent): void;
  };
}

function placed(placement: Placement, box: Size, image: Size): View {
  if (placement.fit) return fitView(box, image);
  return clampPan({ ...placement.view, scale: clampScale(placement.view.scale, box, image) }, box, image);
}

const onControl = (target: EventTarget | null) => !!(target as Element | null)?.closest?.(`[${VIEWER_CONTROL}]`);

export function useZoom(image: Size | null, resetKey: string, layout: SurfaceLayout = WHOLE_SURFACE): Zoom {
  const [surface, setSurface] = useState<HTMLElement | null>(null);
  const [surfaceSize, setSurfaceSize] = useState<Size>({ w: 0, h: 0 });
  const [state, setState] = useState<{ readonly key: string; readonly placement: Placement }>({ key: resetKey, placement: { fit: true } });
  const [panning, setPanning] = useState(false);
  const drag = useRef<{ id: number; x: number; y: number } | null>(null);

  useLayoutEffect(() => {
    if (!surface) return;
    const measure = () => setSurfaceSize((s) => (s.w === surface.clientWidth && s.h === surface.clientHeight ? s : { w: surface.clientWidth, h: surface.clientHeight }));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(surface);
    return () => observer.disconnect();
  }, [surface]);

  const box = layout.box(surfaceSize);
  const measured = image !== null && image.w > 0 && image.h > 0 && box.w > 0 && box.h > 0;
  // Another picture starts fitted (checked while drawing, so it is never drawn at the old zoom).
  const placement: Placement = state.key === resetKey ? state.placement : { fit: true };
  const view = measured ? placed(placement, box, image) : null;

  const latest = useRef({ box, image, resetKey, layout, surfaceSize });
  latest.current = { box, image, resetKey, layout, surfaceSize };

  /** Changes the view from the one shown now (also between renders: wheel events come quickly). */
  const update = useCallback((change: (view: View, box: Size, image: Size) => View | 'fit') => {
    setState((prev) => {
      const { box: b, image: img, resetKey: key } = latest.current;
      if (!img || img.w <= 0 || img.h <= 0 || b.w <= 0 || b.h <= 0) return prev;
      const current = placed(prev.key === key ? prev.placement : { fit: true }, b, img);
      const next = change(current, b, img);
      return { key, placement: next === 'fit' ? { fit: true } : { fit: false, view: next } };
    });
  }, []);

  const centre = (b: Size): Point => ({ x: b.w / 2, y: b.h / 2 });
  const zoomIn = useCallback(() => update((v, b, img) => zoomAt(v, stepScale(v.scale, 1, b, img), centre(b), b, img)), [update]);
  const zoomOut = useCallback(
    () =>
      update((v, b, img) => {
        const next = stepScale(v.scale, -1, b, img);
        // Zooming out to the fitted size is fitting: the picture follows the window again.
        return Math.abs(next - fitScale(b, img)) < 1e-6 ? 'fit' : zoomAt(v, next, centre(b), b, img);
      }),
    [update],
  );
  const actualSize = useCallback(() => update((v, b, img) => zoomAt(v, 1, centre(b), b, img)), [update]);
  const fitToBox = useCallback(() => update(() => 'fit'), [update]);

  const pointIn = useCallback(
    (clientX: number, clientY: number): Point | null => {
      if (!surface) return null;
      const r = surface.getBoundingClientRect();
      return latest.current.layout.toBox({ x: clientX - r.left, y: clientY - r.top }, latest.current.surfaceSize);
    },
    [surface],
  );

  useEffect(() => {
    if (!surface) return;
    const onWheel = (e: WheelEvent) => {
      if (onControl(e.target)) return;
      const at = pointIn(e.clientX, e.clientY);
      if (!at) return;
      e.preventDefault();
      const factor = wheelFactor(e.deltaY, e.deltaMode);
      update((v, b, img) => zoomAt(v, v.scale * factor, at, b, img));
    };
    surface.addEventListener('wheel', onWheel, { passive: false });
    return () => surface.removeEventListener('wheel', onWheel);
  }, [surface, pointIn, update]);

  const pannable = view !== null && image !== null && canPan(view, box, image);
  const handlers = useMemo(
    () => ({
      onPointerDown(e: PointerEvent) {
        if (e.button !== 0 || onControl(e.target) || !pannable) return;
        e.preventDefault();
        (e.currentTarget as Element).setPointerCapture(e.pointerId);
        drag.current = { id: e.pointerId, x: e.clientX, y: e.clientY };
        setPanning(true);
      },
      onPointerMove(e: PointerEvent) {
        const d = drag.current;
        if (!d || d.id !== e.pointerId) return;
        const dx = e.clientX - d.x;
        const dy = e.clientY - d.y;
        drag.current = { id: d.id, x: e.clientX, y: e.clientY };
        if (dx !== 0 || dy !== 0) update((v) => ({ scale: v.scale, x: v.x + dx, y: v.y + dy }));
      },
      onPointerUp(e: PointerEvent) {
        if (drag.current?.id !== e.pointerId) return;
        drag.current = null;
        setPanning(false);
      },
      onPointerCancel(e: PointerEvent) {
        if (drag.current?.id !== e.pointerId) return;
        drag.current = null;
        setPanning(false);
      },
      onDoubleClick(e: MouseEvent) {
        if (onControl(e.target)) return;
        const at = pointIn(e.clientX, e.clientY);
        if (!at) return;
        // Fitted → 1:1 where the pointer is (or twice the fitted size for a picture smaller than the box); zoomed → fitted.
        update((v, b, img) => (placement.fit ? zoomAt(v, fitScale(b, img) < 1 ? 1 : fitScale(b, img) * 2, at, b, img) : 'fit'));
      },
    }),
    [pannable, placement.fit, pointIn, update],
  );

  return {
    surfaceRef: setSurface,
    view,
    box,
    fit: placement.fit,
    pannable,
    panning,
    atMin: view !== null && image !== null && view.scale <= clampScale(0, box, image) + 1e-6,
    atMax: view !== null && image !== null && view.scale >= clampScale(Infinity, box, image) - 1e-6,
    zoomIn,
    zoomOut,
    actualSize,
    fitToBox,
    handlers,
  };
}

/** The zoom keys of image viewers: + and − step, 0 fits, 1 shows 1:1. True when the key was one of them. */
export function zoomKey(e: { readonly key: string; readonly ctrlKey: boolean; readonly metaKey: boolean; readonly altKey: boolean }, zoom: Zoom): boolean {
  if (e.ctrlKey || e.metaKey || e.altKey) return false;
  switch (e.key) {
    case '+':
    case '=':
      zoom.zoomIn();
      return true;
    case '-':
    case '_':
      zoom.zoomOut();
      return true;
    case '0':
      zoom.fitToBox();
      return true;
    case '1':
      zoom.actualSize();
      return true;
    default:
      return false;
  }
}
