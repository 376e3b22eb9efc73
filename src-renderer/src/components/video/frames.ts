/** Frame and clock arithmetic for the video player: pure, so it is tested without a browser. */

/** The frame shown at `time` (0-based), clamped to the clip. */
export function frameAt(time: number, fps: number, frameCount: number): number {
  if (!(fps > 0) || !(frameCount > 0) || !Number.isFinite(time)) return 0;
  return Math.min(frameCount - 1, Math.max(0, Math.floor(time * fps + 1e-6)));
}

/**
 * Where to seek to show `frame`: its middle, not its start, so float rounding in the decoder can
 * never land on the frame before.
 */
export function seekTimeOf(frame: number, fps: number, frameCount: number): number {
  const f = Math.min(Math.max(0, Math.round(frame)), Math.max(0, frameCount - 1));
  return (f + 0.5) / fps;
}

/** How many frames a clip has: the recorded count when known, else its duration × fps. */
export function totalFrames(frameCount: number | null | undefined, duration: number, fps: number): number {
  if (frameCount && frameCount > 0) return frameCount;
  return Number.isFinite(duration) && duration > 0 ? Math.max(1, Math.round(duration * fps)) : 1;
}

/** "0:01.06": minutes, seconds and hundredths, which is what frame-level review needs. */
export function formatClock(seconds: number): string {
  const cs = Math.max(0, Math.round((Number.isFinite(seconds) ? seconds : 0) * 100));
  const m = Math.floor(cs / 6000);
  const s = Math.floor((cs % 6000) / 100);
  return `${m}:${String(s).padStart(2, '0')}.${String(cs % 100).padStart(2, '0')}`;
}

export type PlayerCommand =
  | { readonly kind: 'toggle' }
  | { readonly kind: 'step'; readonly frames: number }
  | { readonly kind: 'seek'; readonly seconds: number }
  | { readonly kind: 'first' }
  | { readonly kind: 'last' }
  | { readonly kind: 'loop' };

/**
 * The player's keys: space plays and pauses; ← → and , . step one frame (Shift+← → one second);
 * Home and End jump to the first and last frame; L toggles looping.
 */
export function keyCommand(key: string, shiftKey: boolean): PlayerCommand | null {
  switch (key) {
    case ' ':
    case 'k':
      return { kind: 'toggle' };
    case 'ArrowLeft':
      return shiftKey ? { kind: 'seek', seconds: -1 } : { kind: 'step', frames: -1 };
    case 'ArrowRight':
      return shiftKey ? { kind: 'seek', seconds: 1 } : { kind: 'step', frames: 1 };
    case ',':
      return { kind: 'step', frames: -1 };
    case '.':
      return { kind: 'step', frames: 1 };
    case 'Home':
      return { kind: 'first' };
    case 'End':
      return { kind: 'last' };
    case 'l':
    case 'L':
      return { kind: 'loop' };
    default:
      return null;
  }
}
