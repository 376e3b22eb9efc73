import { describe, expect, it } from 'vitest';
import { nchwToHwc, vaeByteThresholds, vaeOutputToImage, vaePlanesToBytes, vaeValueToByte } from '../../../src-main/engine/media/image-convert.ts';

// Expected bytes below were computed with numpy exactly as diffusers does it:
//   t = (x / 2 + 0.5).clip(0, 1) in the VAE dtype; (t.astype(float32) * 255).round().astype(uint8)
describe('vaeValueToByte (diffusers VaeImageProcessor mapping)', () => {
  it.each([
    [-1, 0],
    [1, 255],
    [0, 128], // 127.5 → 128 (even)
    [-3, 0],
    [1.5, 255],
    // x·… lands exactly on k + 0.5: numpy rounds half to even, not up.
    [-0.4941176176071167, 64], // 64.5 → 64
    [-0.48627448081970215, 66], // 65.5 → 66
  ])('float32 %f → %i', (x, byte) => {
    expect(vaeValueToByte(Math.fround(x))).toBe(byte);
  });

  it.each([
    // Cases where a half-precision VAE gives a different byte than float32 would.
    [-6.520748138427734e-5, 127, 128],
    [0.51806640625, 194, 193],
    [0.37646484375, 175, 176],
  ])('x = %f: float32 → %i, float16 → %i', (x, f32, f16) => {
    expect(vaeValueToByte(x, 'float32')).toBe(f32);
    expect(vaeValueToByte(x, 'float16')).toBe(f16);
  });

  it('maps NaN to 0 instead of an arbitrary byte', () => {
    expect(vaeValueToByte(Number.NaN)).toBe(0);
  });
});

describe('vaePlanesToBytes (threshold table) gives the bytes of vaeValueToByte', () => {
  /** float32 values in value order around x: `span` neighbours on each side. */
  function around(x: number, span: number): number[] {
    const view = new DataView(new ArrayBuffer(4));
    const out: number[] = [];
    for (let d = -span; d <= span; d++) {
      view.setFloat32(0, x);
      const bits = view.getInt32(0);
      // Stepping the bit pattern walks away from zero for negatives, toward larger values for positives.
      view.setInt32(0, x === 0 ? d : bits + (x > 0 ? d : -d));
      out.push(view.getFloat32(0));
    }
    return out;
  }

  for (const precision of ['float32', 'float16'] as const) {
    it(`${precision}: at and beside every threshold, across [-1.5, 1.5], and for the special values`, () => {
      const t = vaeByteThresholds(precision);
      const values: number[] = [Number.NaN, Infinity, -Infinity, 0, -0, 1, -1, 3.4e38, -3.4e38, 1e-45, -1e-45, 0.1, 1 / 3];
      for (let b = 1; b <= 255; b++) values.push(...around(t[b]!, 40));
      for (let i = 0; i <= 200_000; i++) values.push(Math.fround(-1.5 + (3 * i) / 200_000));
      // A float16 VAE's outputs are float16 values.
      if (precision === 'float16') for (let i = 0; i < values.length; i++) values[i] = Math.f16round(values[i]!);
      const src = Float32Array.from(values);
      const out = new Uint8Array(src.length);
      vaePlanesToBytes(src, 0, 0, 1, src.length, out, precision);
      const bad: string[] = [];
      for (let i = 0; i < src.length && bad.length < 5; i++) {
        const want = vaeValueToByte(src[i]!, precision);
        if (out[i] !== want) bad.push(`${src[i]} → ${out[i]}, want ${want}`);
      }
      expect(bad).toEqual([]);
      // The thresholds are increasing and each one is the first value of its byte.
      for (let b = 1; b <= 255; b++) {
        expect(t[b]!).toBeGreaterThan(t[b - 1]!);
        expect(vaeValueToByte(t[b]!, precision)).toBe(b);
      }
    });
  }

  it('interleaves planes: channel c of pixel p lands at p·channels + c', () => {
    const src = Float32Array.from([-1, 0, 1, 0.5, -0.5, 0.25]); // 3 channels × 2 pixels, planar
    const out = new Uint8Array(6);
    vaePlanesToBytes(src, 0, 2, 3, 2, out);
    expect(Array.from(out)).toEqual([-1, 1, -0.5, 0, 0.5, 0.25].map((x) => vaeValueToByte(x)));
  });
});

describe('vaeOutputToImage', () => {
  // Batch of 2 images, 3 channels, 2×2. Value encodes (n, c, pixel) so misplacement shows.
  const dims = [2, 3, 2, 2];
  const data = new Float32Array(2 * 3 * 4);
  for (let n = 0; n < 2; n++) {
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 4; p++) data[n * 12 + c * 4 + p] = (n * 12 + c * 4 + p) / 12 - 1;
    }
  }

  it('interleaves NCHW planes into HWC for the requested image of the batch', () => {
    const image = vaeOutputToImage({ data, dims }, 1);
    expect([image.width, image.height, image.channels]).toEqual([2, 2, 3]);
    const expected: number[] = [];
    for (let p = 0; p < 4; p++) for (let c = 0; c < 3; c++) expected.push(vaeValueToByte(data[12 + c * 4 + p]!));
    expect(Array.from(image.data)).toEqual(expected);
    // Spot check against hand computation: image 1, channel 0, pixel 0 → x = 0 → 128.
    expect(image.data[0]).toBe(128);
  });

  it('rejects a bad index or shape with a clear message', () => {
    expect(() => vaeOutputToImage({ data, dims }, 2)).toThrow(/index 2 is outside the batch of 2/);
    expect(() => vaeOutputToImage({ data, dims: [2, 3, 4] }, 0)).toThrow(/expected an NCHW tensor/);
    expect(() => vaeOutputToImage({ data: data.subarray(1), dims }, 0)).toThrow(/holds 23 values/);
    expect(() => vaeOutputToImage({ data: new Float32Array(8), dims: [1, 2, 2, 2] })).toThrow(/3 \(RGB\) or 4/);
  });
});

describe('nchwToHwc', () => {
  it('copies values unchanged into interleaved order', () => {
    const src = Uint8Array.from([1, 2, 3, 4, 10, 20, 30, 40, 100, 101, 102, 103]); // 1×3×2×2
    const out = new Uint8Array(12);
    nchwToHwc(src, [1, 3, 2, 2], 0, out);
    expect(Array.from(out)).toEqual([1, 10, 100, 2, 20, 101, 3, 30, 102, 4, 40, 103]);
  });
});
