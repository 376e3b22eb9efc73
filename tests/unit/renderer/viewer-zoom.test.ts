import { describe, expect, it } from 'vitest';
import { canPan, clampPan, fitScale, fitView, minScale, stepScale, wheelFactor, zoomAt, zoomPercent } from '../../../src-renderer/src/components/viewer/zoom.ts';
import { imageSeedClipboard, imageSeedText, imageSeedValue } from '../../../src-renderer/src/seeds.ts';

const box = { w: 600, h: 500 };
const tall = { w: 512, h: 1024 };

describe('fitting a picture in a box', () => {
  it('fits a 512×1024 picture by its height, centred across', () => {
    expect(fitScale(box, tall)).toBeCloseTo(500 / 1024);
    const v = fitView(box, tall);
    expect(v.y).toBe(0);
    expect(v.x).toBeCloseTo((600 - 512 * (500 / 1024)) / 2);
  });

  it('enlarges a small picture to the box, and lets 1:1 be the smallest zoom then', () => {
    expect(fitScale({ w: 1000, h: 1000 }, { w: 256, h: 256 })).toBe(1000 / 256);
    expect(minScale({ w: 1000, h: 1000 }, { w: 256, h: 256 })).toBe(1);
    expect(minScale(box, tall)).toBeCloseTo(500 / 1024);
  });

  it('keeps a panned picture covering the box, and a narrower one centred', () => {
    expect(clampPan({ scale: 1, x: 40, y: -2000 }, box, tall)).toEqual({ scale: 1, x: 44, y: 500 - 1024 });
    expect(clampPan({ scale: 2, x: 100, y: 100 }, box, tall)).toEqual({ scale: 2, x: 0, y: 0 });
    expect(canPan(fitView(box, tall), box, tall)).toBe(false);
    expect(canPan({ scale: 1, x: 0, y: 0 }, box, tall)).toBe(true);
  });
});

describe('zooming', () => {
  it('keeps the picture point under the pointer where it is (when the picture covers the box)', () => {
    const start = { scale: 1, x: 0, y: -200 };
    const at = { x: 300, y: 250 };
    const before = { u: (at.x - start.x) / start.scale, v: (at.y - start.y) / start.scale };
    const z = zoomAt(start, 2, at, box, tall);
    expect(z.scale).toBe(2);
    expect(z.x + before.u * 2).toBeCloseTo(at.x);
    expect(z.y + before.v * 2).toBeCloseTo(at.y);
  });

  it('steps through the usual levels and the fitted size, within the limits', () => {
    const fit = fitScale(box, tall);
    expect(stepScale(fit, 1, box, tall)).toBe(0.5);
    expect(stepScale(0.5, -1, box, tall)).toBeCloseTo(fit);
    expect(stepScale(fit, -1, box, tall)).toBeCloseTo(fit);
    expect(stepScale(1, 1, box, tall)).toBe(1.5);
    expect(stepScale(32, 1, box, tall)).toBe(32);
  });

  it('zooms about 12% a mouse-wheel notch, the other way for the other direction', () => {
    expect(wheelFactor(-100, 0)).toBeCloseTo(Math.exp(0.12));
    expect(wheelFactor(100, 0) * wheelFactor(-100, 0)).toBeCloseTo(1);
    expect(wheelFactor(-3, 1)).toBeCloseTo(wheelFactor(-48, 0));
    expect(zoomPercent(0.48828125)).toBe('49%');
    expect(zoomPercent(0.05)).toBe('5.0%');
  });
});

describe('the seed that makes one image alone', () => {
  it('is the seed for the first image of a batch (or an image made alone)', () => {
    expect(imageSeedText({ seed: 1234, batchIndex: 0 })).toBe('seed 1234');
    expect(imageSeedClipboard({ seed: 1234, batchIndex: null })).toBe('1234');
  });

  it('is the batch seed and its batch index for the others', () => {
    expect(imageSeedValue({ seed: 1234, batchIndex: 2 })).toBe('1234, batch index 2');
    expect(imageSeedText({ seed: 1234, batchIndex: 2 })).toBe('seed 1234, batch index 2');
    expect(imageSeedClipboard({ seed: 1234, batchIndex: 2 })).toBe('seed 1234, batch index 2');
  });
});
