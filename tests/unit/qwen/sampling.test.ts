/** The enhancer's sampling step: repetition penalty, temperature, top-k, top-p and the draw. */
import { describe, expect, it } from 'vitest';
import { penalise, sampleToken } from '../../../src-main/engine/pipelines/qwen/enhancer.ts';

const S = { temperature: 1, topK: 20, topP: 1, repetitionPenalty: 1 };

describe('sampleToken', () => {
  // softmax([3, 2, 1, 0]) = 0.644, 0.237, 0.087, 0.032
  const row = (): Float32Array => Float32Array.from([1, 3, 0, 2]);

  it('draws by probability among the kept tokens', () => {
    expect(sampleToken(row(), S, () => 0)).toBe(1);
    expect(sampleToken(row(), S, () => 0.7)).toBe(3);
    expect(sampleToken(row(), S, () => 0.9)).toBe(0);
    expect(sampleToken(row(), S, () => 0.99)).toBe(2);
  });

  it('keeps only the top k', () => {
    expect(sampleToken(row(), { ...S, topK: 1 }, () => 0.99)).toBe(1);
    expect(sampleToken(row(), { ...S, topK: 2 }, () => 0.99)).toBe(3);
  });

  it('keeps the smallest set whose probability reaches top_p, renormalised', () => {
    // 0.644 + 0.237 = 0.881 ≥ 0.8: tokens 1 and 3 remain, 1 with 0.731 of the mass.
    expect(sampleToken(row(), { ...S, topP: 0.8 }, () => 0.72)).toBe(1);
    expect(sampleToken(row(), { ...S, topP: 0.8 }, () => 0.74)).toBe(3);
    expect(sampleToken(row(), { ...S, topP: 0.8 }, () => 0.9999)).toBe(3);
    expect(sampleToken(row(), { ...S, topP: 0.5 }, () => 0.9999)).toBe(1);
  });

  it('sharpens with a lower temperature', () => {
    // At temperature 0.25 token 1 has e^4 / (e^4 + 1 + …) ≈ 0.98 of the mass.
    expect(sampleToken(row(), { ...S, temperature: 0.25 }, () => 0.97)).toBe(1);
    expect(sampleToken(row(), S, () => 0.97)).toBe(2);
  });

  it('finds the top tokens in a full-size vocabulary', () => {
    const big = new Float32Array(151936).fill(-5);
    big[100_000] = 9;
    big[7] = 8;
    big[151_935] = 8.5;
    const picks = new Set([0, 0.5, 0.8, 0.95, 0.999].map((r) => sampleToken(big, S, () => r)));
    expect(picks).toEqual(new Set([100_000, 151_935, 7]));
  });

  it('returns a token even when every logit is −∞', () => {
    expect(sampleToken(new Float32Array(4).fill(Number.NEGATIVE_INFINITY), S, () => 0.5)).toBe(0);
  });
});

describe('penalise', () => {
  it('divides positive and multiplies negative logits of seen tokens, as HF does', () => {
    const row = Float32Array.from([2, -2, 2, -2]);
    penalise(row, new Set([0, 1, 9]), 2);
    expect(Array.from(row)).toEqual([1, -4, 2, -2]);
    const same = Float32Array.from([2, -2]);
    penalise(same, new Set([0, 1]), 1);
    expect(Array.from(same)).toEqual([2, -2]);
  });
});
