import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createFlowScheduler,
  FLOW_SAMPLER_NAMES,
  parseFlowSchedulerConfig,
  WAN21_SCHEDULER_CONFIG,
  withFlowShift,
  type FlowSamplerName,
} from '../../../src-main/engine/numerics/flow/index.ts';
import { torchRandn } from '../../../src-main/engine/numerics/torch-randn.ts';

interface Step {
  outputSeed: number;
  outputSha256?: string;
  prevSample: number[];
}
interface Run {
  sampler: FlowSamplerName;
  config: string;
  steps: number;
  initNoiseSigma: number;
  timesteps: number[];
  timestepsDtype: 'int64' | 'float32';
  sigmas: number[];
  noiseSeed: number;
  noiseSha256: string;
  trajectory: Step[];
  finalSample?: number[];
}
const reference = JSON.parse(
  readFileSync(new URL('../../fixtures/reference/flow/schedulers.json', import.meta.url), 'utf8'),
) as {
  configs: Record<string, unknown>;
  sampleShape: number[];
  sampleIndices: number[];
  runs: Run[];
  divergent: Record<string, { config: unknown; steps: number; finiteAfterStep: boolean[] }>;
};

const RTOL = 1e-5;

/** Largest |actual − expected| / |expected| (0 where they are equal, e.g. both 0). */
function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] === expected[i]) continue;
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.abs(expected[i]!));
  }
  return worst;
}

/**
 * Largest |actual − expected| / max(|expected|, 1). Latents are O(1); an element that happens
 * to be near zero is compared at the latents' scale, not at its own.
 */
function maxLatentError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(Math.abs(expected[i]!), 1));
  }
  return worst;
}

const sha256 = (values: Float32Array) =>
  createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
const pick = (values: Float32Array, indices: readonly number[]) => indices.map((i) => values[i]!);

const runName = (r: Run) => `${r.sampler} ${r.config} ${r.steps} steps`;

describe.each(reference.runs.map((r) => [runName(r), r] as const))('matches diffusers: %s', (_name, run) => {
  const config = parseFlowSchedulerConfig(reference.configs[run.config]);

  it('timesteps, sigmas and init noise sigma', () => {
    const s = createFlowScheduler(run.sampler, config);
    s.setTimesteps(run.steps);
    if (run.timestepsDtype === 'int64') expect(s.timesteps.every(Number.isInteger)).toBe(true);
    expect(maxRelativeError(s.timesteps, run.timesteps)).toBeLessThanOrEqual(RTOL);
    expect(maxRelativeError(s.sigmas, run.sigmas)).toBeLessThanOrEqual(RTOL);
    expect(s.initNoiseSigma).toBe(run.initNoiseSigma);
  });

  it('every step of a whole run from the seed noise', () => {
    const shape = reference.sampleShape;
    const s = createFlowScheduler(run.sampler, config);
    s.setTimesteps(run.steps);
    let sample = torchRandn(shape, run.noiseSeed);
    // the inputs are regenerated with torchRandn: check they are diffusers' inputs first
    expect(sha256(sample), 'starting noise differs from torch.randn').toBe(run.noiseSha256);
    for (const [i, step] of run.trajectory.entries()) {
      const modelOutput = torchRandn(shape, step.outputSeed);
      if (step.outputSha256) {
        expect(sha256(modelOutput), 'model output differs from torch.randn').toBe(step.outputSha256);
      }
      const input = s.scaleModelInput(sample, i);
      expect(input).toEqual(sample);
      sample = s.step(modelOutput, i, sample);
      const error = maxLatentError(pick(sample, reference.sampleIndices), step.prevSample);
      expect(error, `step ${i}`).toBeLessThanOrEqual(RTOL);
    }
    if (run.finalSample) expect(maxLatentError(sample, run.finalSample)).toBeLessThanOrEqual(RTOL);
  });
});

describe('reference coverage', () => {
  it('has both samplers at 4, 6, 10 and 20 steps for flow_shift 3.0 and 5.0', () => {
    for (const sampler of FLOW_SAMPLER_NAMES) {
      for (const config of ['wan_480p', 'wan_720p']) {
        const steps = reference.runs.filter((r) => r.sampler === sampler && r.config === config).map((r) => r.steps);
        expect(steps).toEqual(expect.arrayContaining([4, 6, 10, 20]));
      }
    }
    expect(parseFlowSchedulerConfig(reference.configs['wan_480p'])).toEqual(WAN21_SCHEDULER_CONFIG);
    expect(parseFlowSchedulerConfig(reference.configs['wan_720p'])).toEqual(withFlowShift(WAN21_SCHEDULER_CONFIG, 5));
  });

  it.each(Object.entries(reference.divergent))(
    'refuses %s, which diffusers turns into non-finite latents at the last step',
    (_name, record) => {
      expect(record.finiteAfterStep.slice(0, -1).every(Boolean)).toBe(true);
      expect(record.finiteAfterStep.at(-1)).toBe(false);
      expect(() => parseFlowSchedulerConfig(record.config)).toThrow(/non-finite|NaN/);
    },
  );
});

describe('flow scheduler behaviour', () => {
  const shape = [1, 16, 2, 4, 4];
  const n = shape.reduce((a, b) => a * b);

  it.each(FLOW_SAMPLER_NAMES)('%s: an exact velocity v = noise − x0 lands on x0', (sampler) => {
    // rectified flow x_σ = (1 − σ)·x0 + σ·noise; a perfect model predicts v = noise − x0
    const x0 = torchRandn(shape, 11);
    const noise = torchRandn(shape, 12);
    const v = noise.map((e, i) => e - x0[i]!);
    const s = createFlowScheduler(sampler, WAN21_SCHEDULER_CONFIG);
    s.setTimesteps(6);
    let x = noise;
    for (let i = 0; i < 6; i++) {
      if (i > 0) expect(maxLatentError(x, x0)).toBeGreaterThan(1e-3); // not there before the end
      x = s.step(v, i, x);
    }
    expect(maxLatentError(x, x0)).toBeLessThan(1e-5);
  });

  it.each(FLOW_SAMPLER_NAMES)('%s: stepping from 0 again starts a fresh run', (sampler) => {
    const s = createFlowScheduler(sampler, WAN21_SCHEDULER_CONFIG);
    s.setTimesteps(4);
    const run = () => {
      let x = torchRandn(shape, 1);
      for (let i = 0; i < 4; i++) x = s.step(torchRandn(shape, 100 + i), i, x);
      return x;
    };
    const first = run();
    expect(run()).toEqual(first);
  });

  it('UniPC refuses steps out of order, and a sample that changes size', () => {
    const s = createFlowScheduler('unipc', WAN21_SCHEDULER_CONFIG);
    s.setTimesteps(4);
    const x = new Float32Array(n).fill(0.5);
    s.step(x, 0, x);
    expect(() => s.step(x, 2, x)).toThrow(/expected step 1, got 2/);
    expect(() => s.step(new Float32Array(8), 1, new Float32Array(8))).toThrow(/changed shape/);
  });

  it.each(FLOW_SAMPLER_NAMES)('%s: checks its arguments', (sampler) => {
    const s = createFlowScheduler(sampler, WAN21_SCHEDULER_CONFIG);
    const x = new Float32Array(n);
    expect(() => s.step(x, 0, x)).toThrow(/setTimesteps/);
    expect(() => s.setTimesteps(0)).toThrow(RangeError);
    expect(() => s.setTimesteps(2.5)).toThrow(RangeError);
    s.setTimesteps(4);
    expect(() => s.step(x, 4, x)).toThrow(/outside \[0, 4\)/);
    expect(() => s.step(new Float32Array(n - 1), 0, x)).toThrow(/model output/);
    const input = s.scaleModelInput(x, 0);
    expect(input).not.toBe(x);
    expect(s.initNoiseSigma).toBe(1);
  });

  it('the shift moves the schedule towards noise', () => {
    const sigmasAt = (shift: number) => {
      const s = createFlowScheduler('unipc', withFlowShift(WAN21_SCHEDULER_CONFIG, shift));
      s.setTimesteps(6);
      return s.sigmas;
    };
    const low = sigmasAt(1);
    const high = sigmasAt(5);
    for (let i = 1; i < 6; i++) expect(high[i]!).toBeGreaterThan(low[i]!);
    expect(high[6]).toBe(0);
  });
});

describe('UniPC state', () => {
  it('does not depend on the caller reusing the sample buffer after a step', () => {
    const shape = [1, 16, 1, 2, 2];
    const runOnce = (reuse: boolean) => {
      const s = createFlowScheduler('unipc', WAN21_SCHEDULER_CONFIG);
      s.setTimesteps(4);
      let x = torchRandn(shape, 3);
      for (let i = 0; i < 4; i++) {
        const next = s.step(torchRandn(shape, 30 + i), i, x);
        if (reuse) x.fill(Number.NaN); // a caller writing into its old buffer
        x = next;
      }
      return x;
    };
    expect(runOnce(true)).toEqual(runOnce(false));
  });
});
