import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createScheduler,
  parseSchedulerConfig,
  type SamplerName,
} from '../../../src-main/engine/numerics/schedulers/index.ts';
import { alphasCumprod } from '../../../src-main/engine/numerics/schedulers/noise-schedule.ts';

interface TrajectoryStep {
  modelOutput: number[];
  prevSample: number[];
  scaledInput?: number[];
}
interface Run {
  config: string;
  sampler: SamplerName;
  steps: number;
  initNoiseSigma: number;
  timesteps: number[];
  sigmas: number[];
  initialSample: number[];
  trajectory: TrajectoryStep[];
}
const reference = JSON.parse(
  readFileSync(new URL('../../fixtures/reference/schedulers.json', import.meta.url), 'utf8'),
) as {
  configs: Record<string, unknown>;
  sdxlSchedule: { alphasCumprodBits: number[] };
  zeroSnrSchedule: { alphasCumprodBits: number[] };
  runs: Run[];
};

const RTOL = 1e-5;

/** Largest |actual − expected| / |expected| (0 when both are 0). */
function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (a === e) continue;
    worst = Math.max(worst, Math.abs(a - e) / Math.abs(e));
  }
  return worst;
}

/**
 * Largest |actual − expected| / max(|expected|, 1). Latents are O(1) and larger; an element
 * that happens to cross zero is compared at the latents' scale, not at its own.
 */
function maxLatentError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(Math.abs(expected[i]!), 1));
  }
  return worst;
}

const bits = (values: Float32Array) => Array.from(new Int32Array(values.buffer));

describe('training schedule', () => {
  it('builds the SDXL alphas_cumprod bit for bit (torch >= 2 float32 linspace and cumprod)', () => {
    const ac = alphasCumprod(parseSchedulerConfig(reference.configs['sdxl']).config);
    expect(bits(ac)).toEqual(reference.sdxlSchedule.alphasCumprodBits);
  });

  it('builds the zero-terminal-SNR alphas_cumprod bit for bit', () => {
    const ac = alphasCumprod(parseSchedulerConfig(reference.configs['sdxl_vpred_zsnr_trailing']).config);
    expect(bits(ac)).toEqual(reference.zeroSnrSchedule.alphasCumprodBits);
  });
});

const runName = (r: Run) => `${r.config} ${r.sampler} ${r.steps} steps`;

describe.each(reference.runs.map((r) => [runName(r), r] as const))('matches diffusers: %s', (_name, run) => {
  const config = parseSchedulerConfig(reference.configs[run.config]).config;

  it('timesteps, sigmas and init noise sigma', () => {
    const s = createScheduler(run.sampler, config);
    s.setTimesteps(run.steps);
    expect(maxRelativeError(s.timesteps, run.timesteps)).toBeLessThanOrEqual(RTOL);
    expect(maxRelativeError(s.sigmas, run.sigmas)).toBeLessThanOrEqual(RTOL);
    expect(maxRelativeError([s.initNoiseSigma], [run.initNoiseSigma])).toBeLessThanOrEqual(RTOL);
  });

  it('each step from the reference sample', () => {
    const s = createScheduler(run.sampler, config);
    s.setTimesteps(run.steps);
    let sample = Float32Array.from(run.initialSample);
    run.trajectory.forEach((step, i) => {
      const scaled = s.scaleModelInput(sample, i);
      if (step.scaledInput) expect(maxLatentError(scaled, step.scaledInput)).toBeLessThanOrEqual(RTOL);
      else expect(scaled).toEqual(sample);
      const next = s.step(Float32Array.from(step.modelOutput), i, sample);
      expect(maxLatentError(next, step.prevSample)).toBeLessThanOrEqual(RTOL);
      sample = Float32Array.from(step.prevSample);
    });
  });

  it('a whole run from the starting noise', () => {
    const s = createScheduler(run.sampler, config);
    s.setTimesteps(run.steps);
    let sample: Float32Array = Float32Array.from(run.initialSample);
    for (const [i, step] of run.trajectory.entries()) {
      sample = s.step(Float32Array.from(step.modelOutput), i, sample);
    }
    expect(maxLatentError(sample, run.trajectory.at(-1)!.prevSample)).toBeLessThanOrEqual(RTOL);
  });
});

describe('scheduler behaviour', () => {
  const sdxl = parseSchedulerConfig(reference.configs['sdxl']).config;

  it('takes Karras spacing from the sampler name, not from the config', () => {
    const withFlag = parseSchedulerConfig({ ...(reference.configs['sdxl'] as object), use_karras_sigmas: true }).config;
    const a = createScheduler('euler', withFlag);
    const b = createScheduler('euler', sdxl);
    a.setTimesteps(10);
    b.setTimesteps(10);
    expect(a.sigmas).toEqual(b.sigmas);
  });

  it('restarts a DPM++ 2M run at step 0 and gives the same result twice', () => {
    const s = createScheduler('dpmpp_2m', sdxl);
    s.setTimesteps(5);
    const noise = Float32Array.from({ length: 8 }, (_, i) => Math.sin(i + 1));
    const run = () => {
      let x: Float32Array = noise;
      for (let i = 0; i < 5; i++) x = s.step(Float32Array.from(x, (v) => v * 0.1), i, x);
      return x;
    };
    expect(run()).toEqual(run());
  });

  it('refuses DPM++ 2M steps out of order, with the expected step in the message', () => {
    const s = createScheduler('dpmpp_2m_karras', sdxl);
    s.setTimesteps(5);
    const x = new Float32Array(4).fill(1);
    s.step(x, 0, x);
    expect(() => s.step(x, 2, x)).toThrow(/expected step 1, got 2/);
  });

  it('refuses to step before setTimesteps, past the end, or with mismatched sizes', () => {
    const x = new Float32Array(4);
    expect(() => createScheduler('euler', sdxl).step(x, 0, x)).toThrow(/setTimesteps/);
    const s = createScheduler('euler', sdxl);
    s.setTimesteps(3);
    expect(() => s.step(x, 3, x)).toThrow(RangeError);
    expect(() => s.step(new Float32Array(5), 0, x)).toThrow(/5 values but the sample has 4/);
    expect(() => s.setTimesteps(0)).toThrow(RangeError);
    expect(() => s.setTimesteps(1001)).toThrow(/1 to 1000/);
  });

  it('does not modify its inputs', () => {
    const s = createScheduler('euler', sdxl);
    s.setTimesteps(3);
    const x = Float32Array.of(1, 2, 3);
    const m = Float32Array.of(0.5, -0.5, 0.25);
    s.scaleModelInput(x, 0);
    s.step(m, 0, x);
    expect(Array.from(x)).toEqual([1, 2, 3]);
    expect(Array.from(m)).toEqual([0.5, -0.5, 0.25]);
  });
});
