/** The video player's frame arithmetic and keys (components/video/frames.ts). */
import { describe, expect, it } from 'vitest';
import { formatClock, frameAt, keyCommand, seekTimeOf, totalFrames } from '../../../src-renderer/src/components/video/frames.ts';

describe('frames and time', () => {
  it('seeks to a time that shows exactly the frame asked for, for every frame of a clip', () => {
    for (const [fps, count] of [
      [16, 17],
      [16, 81],
      [24, 49],
      [30, 129],
    ] as const) {
      for (let f = 0; f < count; f++) expect(frameAt(seekTimeOf(f, fps, count), fps, count)).toBe(f);
    }
  });

  it('clamps to the first and last frame', () => {
    expect(seekTimeOf(-3, 16, 17)).toBe(seekTimeOf(0, 16, 17));
    expect(seekTimeOf(40, 16, 17)).toBe(seekTimeOf(16, 16, 17));
    expect(frameAt(99, 16, 17)).toBe(16);
    expect(frameAt(Number.NaN, 16, 17)).toBe(0);
  });

  it('knows a frame exactly at its start time (a paused video reports it that way)', () => {
    expect(frameAt(9 / 16, 16, 17)).toBe(9);
    expect(frameAt(1 / 3, 30, 129)).toBe(10);
  });

  it('counts frames from the recorded count, else from the duration', () => {
    expect(totalFrames(17, Number.NaN, 16)).toBe(17);
    expect(totalFrames(null, 1.0625, 16)).toBe(17);
    expect(totalFrames(undefined, Number.NaN, 16)).toBe(1);
  });

  it('shows the clock to the hundredth', () => {
    expect(formatClock(0)).toBe('0:00.00');
    expect(formatClock(17 / 16)).toBe('0:01.06');
    expect(formatClock(65.5)).toBe('1:05.50');
    expect(formatClock(Number.NaN)).toBe('0:00.00');
  });
});

describe('keys', () => {
  it('plays and pauses with space, steps a frame with ← → and , .', () => {
    expect(keyCommand(' ', false)).toEqual({ kind: 'toggle' });
    expect(keyCommand('ArrowLeft', false)).toEqual({ kind: 'step', frames: -1 });
    expect(keyCommand('ArrowRight', false)).toEqual({ kind: 'step', frames: 1 });
    expect(keyCommand(',', false)).toEqual({ kind: 'step', frames: -1 });
    expect(keyCommand('.', false)).toEqual({ kind: 'step', frames: 1 });
  });

  it('jumps a second with Shift+← →, to the ends with Home/End, toggles looping with L', () => {
    expect(keyCommand('ArrowRight', true)).toEqual({ kind: 'seek', seconds: 1 });
    expect(keyCommand('ArrowLeft', true)).toEqual({ kind: 'seek', seconds: -1 });
    expect(keyCommand('Home', false)).toEqual({ kind: 'first' });
    expect(keyCommand('End', false)).toEqual({ kind: 'last' });
    expect(keyCommand('l', false)).toEqual({ kind: 'loop' });
    expect(keyCommand('x', false)).toBeNull();
  });
});
