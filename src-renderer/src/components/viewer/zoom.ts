/**
 * The arithmetic of looking at a picture in a box: fit it, zoom about a point (the pointer, or the
 * box's centre), step through the usual zoom levels, and keep a pan from losing the picture. Pure,
 * so the viewer's behaviour is tested without a browser.
 *
 * A view places the picture's top-left corner at (x, y) in the box, drawn `scale` times its size in
 * pixels. A picture smaller than the box along an axis is centred on that axis; a larger one always
 * covers the box along it (no empty band can be dragged into view).
 */

export interface Size {
  readonly w: number;
  readonly h: number;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface View {
  readonly scale: number;
  readonly x: number;
  readonly y: number;
}

/** The largest zoom: one picture pixel drawn 32 screen pixels wide. */
export const MAX_SCALE = 32;

/** Where +, − and the wheel's larger steps stop: the levels image editors offer. */
export const ZOOM_STEPS: readonly number[] = [0.05, 0.1, 0.125, 0.25, 1 / 3, 0.5, 2 / 3, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32];

const usable = (s: Size) => s.w > 0 && s.h > 0;

/** The scale that shows the whole picture as large as the box allows (up or down). */
export function fitScale(box: Size, image: Size): number {
  if (!usable(box) || !usable(image)) return 1;
  return Math.min(box.w / image.w, box.h / image.h);
}

/** The smallest zoom: the fitted size, or 1:1 when the picture fits the box at more than its size. */
export function minScale(box: Size, image: Size): number {
  return Math.min(fitScale(box, image), 1);
}

export function clampScale(scale: number, box: Size, image: Size): number {
  return Math.min(MAX_SCALE, Math.max(minScale(box, image), scale));
}

/** Keeps the picture where it can be seen: centred along an axis it fits, covering the box along one it does not. */
export function clampPan(view: View, box: Size, image: Size): View {
  const axis = (at: number, shown: number, room: number) => (shown <= room ? (room - shown) / 2 : Math.min(0, Math.max(room - shown, at)));
  return { scale: view.scale, x: axis(view.x, image.w * view.scale, box.w), y: axis(view.y, image.h * view.scale, box.h) };
}

/** The whole picture, centred, as large as the box allows. */
export function fitView(box: Size, image: Size): View {
  return clampPan({ scale: fitScale(box, image), x: 0, y: 0 }, box, image);
}

/** Zooms to `scale` keeping the picture point under `at` (box coordinates) where it is. */
export function zoomAt(view: View, scale: number, at: Point, box: Size, image: Size): View {
  const next = clampScale(scale, box, image);
  const k = next / view.scale;
  return clampPan({ scale: next, x: at.x - (at.x - view.x) * k, y: at.y - (at.y - view.y) * k }, box, image);
}

/** The next zoom level up (direction 1) or down (-1) from `scale`, from ZOOM_STEPS and the fitted size. */
export function stepScale(scale: number, direction: 1 | -1, box: Size, image: Size): number {
  const levels = [...ZOOM_STEPS, fitScale(box, image)].sort((a, b) => a - b);
  const next = direction > 0 ? levels.find((s) => s > scale * 1.001) : [...levels].reverse().find((s) => s < scale / 1.001);
  return clampScale(next ?? scale, box, image);
}

/** How far one wheel event zooms: a notch of a mouse wheel about 12%, a trackpad's small deltas smoothly. */
export function wheelFactor(deltaY: number, deltaMode: number): number {
  const pixels = deltaMode === 1 ? deltaY * 16 : deltaMode === 2 ? deltaY * 400 : deltaY;
  return Math.exp(-Math.max(-200, Math.min(200, pixels)) * 0.0012);
}

/** Whether some of the picture lies outside the box (so dragging moves it). */
export function canPan(view: View, box: Size, image: Size): boolean {
  return image.w * view.scale > box.w + 0.5 || image.h * view.scale > box.h + 0.5;
}

/** "100%", "33%", "1600%": a zoom as people read it. */
export function zoomPercent(scale: number): string {
  const pct = scale * 100;
  return `${pct >= 10 ? Math.round(pct) : pct.toFixed(1)}%`;
}
