/**
 * The running job's phase line: a tiled VAE decode (WAN on the CPU when a whole frame would not fit
 * in memory) is told tile by tile, since no frame comes out before the last tile.
 */
import { describe, expect, it } from 'vitest';
import { runningView } from '../../../src-renderer/src/features/workspace/phases.ts';

describe('runningView', () => {
  it('tells a tiled decode tile by tile, for a video and for an image', () => {
    const video = runningView('video', { step: 4, of: 4, stage: 'decoding tiles' }, { done: 3, of: 15 });
    expect(video.text).toBe('Decoding in tiles (to fit in memory) · 3 of 15');
    expect([video.value, video.max]).toEqual([3, 15]);
    expect(video.phases.map((p) => [p.label, p.state])).toEqual([
      ['Steps 4/4', 'done'],
      ['Decode 3/15 tiles', 'active'],
      ['Encode MP4', 'waiting'],
    ]);
    const image = runningView('image', { step: 4, of: 4, stage: 'decoding tiles' }, { done: 1, of: 6 });
    expect(image.text).toBe('Decoding in tiles (to fit in memory) · 1 of 6');
  });

  it('still tells frames once they come out', () => {
    const v = runningView('video', { step: 4, of: 4, stage: 'decoding' }, { done: 8, of: 17 });
    expect(v.text).toBe('Decoding frames · 8 of 17');
  });
});
