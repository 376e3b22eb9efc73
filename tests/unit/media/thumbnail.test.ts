import { describe, expect, it } from 'vitest';
import { decodePng } from '../../../src-main/engine/media/png.ts';
import type { RawImage } from '../../../src-main/engine/media/png.ts';
import { downscaleArea, fitWithin, makeThumbnail } from '../../../src-main/engine/media/thumbnail.ts';

function solid(width: number, height: number, pixel: number[]): RawImage {
  const channels = pixel.length as 3 | 4;
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++) data.set(pixel, i * channels);
  return { width, height, channels, data };
}

describe('fitWithin', () => {
  it.each([
    [1024, 1024, 256, 256, 256],
    [480, 832, 256, 148, 256],
    [832, 480, 256, 256, 148],
    [1216, 832, 300, 300, 205],
    [100, 50, 256, 100, 50], // never upscales
    [5000, 3, 256, 256, 1], // never collapses to zero
  ])('%i×%i into %i → %i×%i', (w, h, max, ew, eh) => {
    expect(fitWithin(w, h, max)).toEqual({ width: ew, height: eh });
  });
});

describe('downscaleArea', () => {
  it('averages 2×2 blocks exactly at an integer ratio', () => {
    const data = Uint8Array.from([0, 0, 0, 100, 100, 100, 200, 200, 200, 60, 60, 60]);
    const out = downscaleArea({ width: 2, height: 2, channels: 3, data }, 1, 1);
    expect(Array.from(out.data)).toEqual([90, 90, 90]);
  });

  it('weights partial coverage at a non-integer ratio (3 → 2)', () => {
    // One row: 0, 90, 180. Output cells cover [0,1.5) and [1.5,3):
    // left = (0·1 + 90·0.5) / 1.5 = 30, right = (90·0.5 + 180·1) / 1.5 = 150.
    const data = Uint8Array.from([0, 0, 0, 90, 90, 90, 180, 180, 180]);
    const out = downscaleArea({ width: 3, height: 1, channels: 3, data }, 2, 1);
    expect(Array.from(out.data)).toEqual([30, 30, 30, 150, 150, 150]);
  });

  it('keeps a flat colour flat at any ratio', () => {
    const out = downscaleArea(solid(1000, 700, [13, 200, 77]), 293, 205);
    expect(new Set(out.data.filter((_, i) => i % 3 === 0))).toEqual(new Set([13]));
    expect(new Set(out.data.filter((_, i) => i % 3 === 1))).toEqual(new Set([200]));
  });

  it('keeps a fine checkerboard mid-grey (no aliasing) at 1024 → 300', () => {
    const size = 1024;
    const data = new Uint8Array(size * size * 3);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data.fill((x + y) % 2 ? 255 : 0, (y * size + x) * 3, (y * size + x) * 3 + 3);
    const out = downscaleArea({ width: size, height: size, channels: 3, data }, 300, 300);
    const min = out.data.reduce((a, b) => Math.min(a, b), 255);
    const max = out.data.reduce((a, b) => Math.max(a, b), 0);
    const mean = out.data.reduce((a, b) => a + b, 0) / out.data.length;
    // Point sampling would give 0s and 255s; the area average stays near mid-grey everywhere
    // (cells of 3.41 px hold slightly unequal shares of black and white).
    expect(min).toBeGreaterThanOrEqual(120);
    expect(max).toBeLessThanOrEqual(135);
    expect(Math.abs(mean - 127.5)).toBeLessThan(0.5);
  });

  it('does not let transparent pixels darken the colour of visible ones (premultiplied alpha)', () => {
    // Left pixel opaque red, right pixel fully transparent black.
    const data = Uint8Array.from([255, 0, 0, 255, 0, 0, 0, 0]);
    const out = downscaleArea({ width: 2, height: 1, channels: 4, data }, 1, 1);
    expect(Array.from(out.data)).toEqual([255, 0, 0, 128]);
  });
});

describe('makeThumbnail', () => {
  it.each([
    [1024, 1024, 256, 256, 256],
    [480, 832, 256, 148, 256],
    [832, 480, 200, 200, 115],
    [64, 32, 256, 64, 32],
  ])('%i×%i at max %i → a %i×%i PNG', (w, h, max, ew, eh) => {
    const thumb = makeThumbnail(solid(w, h, [10, 20, 30]), max);
    expect([thumb.width, thumb.height]).toEqual([ew, eh]);
    const decoded = decodePng(thumb.png);
    expect([decoded.width, decoded.height]).toEqual([ew, eh]);
    expect(Array.from(decoded.data.subarray(0, 3))).toEqual([10, 20, 30]);
  });

  it('defaults to 256 px', () => {
    expect(makeThumbnail(solid(600, 300, [1, 2, 3, 4])).width).toBe(256);
  });
});
