import { describe, expect, it } from 'vitest';
import { ProgressThrottle } from '../../../src-main/engine/inference/progress-throttle.ts';

const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);

describe('ProgressThrottle', () => {
  it('sends every step change but at most one preview per interval', () => {
    let now = 0;
    const t = new ProgressThrottle(250, () => now);
    const sent = [];
    // A pipeline reporting every 50 ms with a preview each time, for one second.
    for (let step = 1; step <= 20; step++) {
      now = step * 50;
      const out = t.admit({ step, of: 20, stage: 'denoise', preview: png });
      if (out) sent.push(out);
    }
    expect(sent.map((u) => u.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const withPreview = sent.filter((u) => u.preview !== null).map((u) => u.step);
    expect(withPreview).toEqual([1, 6, 11, 16]);
  });

  it('drops repeats that carry nothing new, but lets a due preview through', () => {
    let now = 0;
    const t = new ProgressThrottle(250, () => now);
    expect(t.admit({ step: 3, of: 10, stage: 'decode', preview: null })).not.toBeNull();
    expect(t.admit({ step: 3, of: 10, stage: 'decode', preview: null })).toBeNull();
    expect(t.admit({ step: 3, of: 10, stage: 'decode', preview: png })).toMatchObject({ preview: png });
    now = 100;
    expect(t.admit({ step: 3, of: 10, stage: 'decode', preview: png })).toBeNull();
    now = 300;
    expect(t.admit({ step: 3, of: 10, stage: 'decode', preview: png })).toMatchObject({ step: 3, preview: png });
  });

  it('treats a new stage as news even at the same step', () => {
    const t = new ProgressThrottle(250, () => 0);
    expect(t.admit({ step: 4, of: 4, stage: 'denoise', preview: null })).not.toBeNull();
    expect(t.admit({ step: 4, of: 4, stage: 'vae decode', preview: null })).toMatchObject({ stage: 'vae decode' });
  });
});
