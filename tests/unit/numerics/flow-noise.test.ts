import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { torchRandn } from '../../../src-main/engine/numerics/torch-randn.ts';

interface NoiseCase {
  frames: number;
  width: number;
  height: number;
  shape: number[];
  seed: string;
  indices: number[];
  bits: number[];
  sha256: string;
  frameSha256: string[];
}
const reference = JSON.parse(
  readFileSync(new URL('../../fixtures/reference/flow/wan-noise.json', import.meta.url), 'utf8'),
) as { cases: NoiseCase[] };

const sha256 = (values: Float32Array) =>
  createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
const bitsAt = (values: Float32Array, indices: readonly number[]) => {
  const bits = new Int32Array(values.buffer, values.byteOffset, values.length);
  return indices.map((i) => bits[i]!);
};

/** `latents[0, :, frame]` as a contiguous [16, h, w] copy, as torch's `.contiguous()` lays it out. */
function latentFrame(latents: Float32Array, shape: readonly number[], frame: number): Float32Array {
  const [, channels, frames, h, w] = shape as [number, number, number, number, number];
  const plane = h * w;
  const out = new Float32Array(channels * plane);
  for (let c = 0; c < channels; c++) {
    const start = (c * frames + frame) * plane;
    out.set(latents.subarray(start, start + plane), c * plane);
  }
  return out;
}

describe('WAN starting noise matches torch.randn([1, 16, (frames − 1)/4 + 1, h/8, w/8]) bit for bit', () => {
  it.each(reference.cases.map((c) => [`${c.frames} frames ${c.width}×${c.height}`, c.seed, c] as const))(
    '%s, seed %s',
    (_size, _seed, c) => {
      expect(c.shape).toEqual([1, 16, (c.frames - 1) / 4 + 1, c.height / 8, c.width / 8]);
      const noise = torchRandn(c.shape, BigInt(c.seed));
      expect(noise.length).toBe(c.shape.reduce((a, b) => a * b));
      expect(bitsAt(noise, c.indices)).toEqual(c.bits);
      expect(sha256(noise)).toBe(c.sha256);
      if (c.frames === 17) {
        expect(c.frameSha256.map((_, f) => sha256(latentFrame(noise, c.shape, f)))).toEqual(c.frameSha256);
      }
    },
  );

  it('covers the job types: 1 and 17 frames at 480×832', () => {
    const sizes = new Set(reference.cases.map((c) => `${c.frames}:${c.width}x${c.height}`));
    expect(sizes).toContain('1:480x832');
    expect(sizes).toContain('17:480x832');
  });
});
