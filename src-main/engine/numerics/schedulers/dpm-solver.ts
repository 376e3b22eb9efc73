/**
 * diffusers `DPMSolverMultistepScheduler` (scheduling_dpmsolver_multistep.py, commit 58eb52c)
 * configured as A1111's "DPM++ 2M": algorithm_type "dpmsolver++", solver_order 2, solver_type
 * "midpoint", lower_order_final true; with or without Karras sigmas. The update rules are
 * DPM-Solver++(2M) from Lu et al. 2022 ("DPM-Solver++", arXiv:2211.01095, Algorithm 2), written
 * with diffusers' float32 operation order.
 */

import { sqrtF32 } from '../float32.ts';
import type { SchedulerConfig } from './config.ts';
import {
  alphasCumprod,
  expF,
  karrasSigmas,
  logF,
  logF32,
  npArange,
  npLinspace,
  roundHalfEven,
  sigmaToT,
  trainingSigmas,
} from './noise-schedule.ts';
import { checkStepArgs, checkStepCount, type SamplerName, type Scheduler } from './types.ts';

const f = Math.fround;

interface AlphaSigma {
  alpha: number;
  sigma: number;
  lambda: number;
}

/** `_sigma_to_alpha_sigma_t` and λ = log α − log σ, all float32. */
function alphaSigma(sigma: number): AlphaSigma {
  const alpha = f(1 / sqrtF32(f(f(sigma * sigma) + 1)));
  const sigmaT = f(sigma * alpha);
  return { alpha, sigma: sigmaT, lambda: f(logF(alpha) - logF(sigmaT)) };
}

/** `set_timesteps` integer timesteps (descending) before any Karras conversion. */
function dpmTimesteps(config: SchedulerConfig, ac: Float32Array, steps: number): number[] {
  const n = config.num_train_timesteps;
  let lastTimestep = n;
  if (config.lambda_min_clipped !== null) {
    // searchsorted(flip(lambda_t), lambda_min_clipped): how many λ (ascending) lie below it
    let clipped = 0;
    for (let i = n - 1; i >= 0; i--) {
      const a = ac[i]!;
      const lambda = f(logF(sqrtF32(a)) - logF(sqrtF32(f(1 - a))));
      if (lambda < config.lambda_min_clipped) clipped++;
      else break;
    }
    lastTimestep = n - clipped;
  }
  switch (config.timestep_spacing) {
    case 'linspace':
      return Array.from(npLinspace(0, lastTimestep - 1, steps + 1), roundHalfEven).reverse().slice(0, steps);
    case 'leading': {
      const ratio = Math.floor(lastTimestep / (steps + 1));
      const ts: number[] = [];
      for (let i = steps; i >= 1; i--) ts.push(roundHalfEven(i * ratio) + config.steps_offset);
      return ts;
    }
    case 'trailing':
      return Array.from(npArange(lastTimestep, 0, -(n / steps)), (t) => roundHalfEven(t) - 1);
  }
}

export class DpmSolverMultistepScheduler implements Scheduler {
  readonly sampler: SamplerName;
  readonly config: SchedulerConfig;
  timesteps: readonly number[] = [];
  sigmas = new Float32Array(0);
  readonly initNoiseSigma = 1;
  private readonly karras: boolean;
  private readonly ac: Float32Array;
  private readonly trainSigmas: Float32Array;
  /** x0 prediction of the previous step (for the second-order update). */
  private previousX0: Float32Array | undefined;
  private nextStep = 0;

  constructor(config: SchedulerConfig, karras: boolean) {
    this.config = config;
    this.karras = karras;
    this.sampler = karras ? 'dpmpp_2m_karras' : 'dpmpp_2m';
    this.ac = alphasCumprod(config);
    this.trainSigmas = trainingSigmas(this.ac);
  }

  setTimesteps(steps: number): void {
    const config = this.config;
    checkStepCount(steps, config.num_train_timesteps);
    let timesteps = dpmTimesteps(config, this.ac, steps);
    let sigmas: ArrayLike<number>;
    if (this.karras) {
      const n = this.trainSigmas.length;
      // diffusers passes the flipped training sigmas: min = sigma(t=0), max = sigma(t=N-1)
      sigmas = karrasSigmas(this.trainSigmas[0]!, this.trainSigmas[n - 1]!, steps);
      const logSigmas = logF32(this.trainSigmas);
      const round = config.beta_schedule !== 'squaredcos_cap_v2' ? roundHalfEven : Math.trunc;
      timesteps = Array.from(sigmas, (s) => round(sigmaToT(s, logSigmas)));
    } else {
      sigmas = timesteps.map((t) => this.trainSigmas[t]!);
    }
    const last = config.final_sigmas_type === 'sigma_min' ? this.trainSigmas[0]! : 0;
    const all = new Float32Array(sigmas.length + 1);
    all.set(sigmas);
    all[sigmas.length] = last;
    this.timesteps = timesteps;
    this.sigmas = all;
    this.previousX0 = undefined;
    this.nextStep = 0;
  }

  /** DPM-Solver needs no input scaling: returns a copy of `sample`. */
  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array {
    checkStepArgs(this.timesteps.length, stepIndex, sample);
    return sample.slice();
  }

  /** `convert_model_output` for dpmsolver++: the model's prediction of x0. */
  private predictX0(modelOutput: Float32Array, sample: Float32Array, s: AlphaSigma): Float32Array {
    const prediction = this.config.prediction_type;
    if (prediction === 'sample') return modelOutput.slice();
    const x0 = new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      x0[i] =
        prediction === 'epsilon'
          ? f(sample[i]! - f(s.sigma * modelOutput[i]!)) / s.alpha
          : f(s.alpha * sample[i]!) - f(s.sigma * modelOutput[i]!);
    }
    return x0;
  }

  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array): Float32Array {
    const steps = this.timesteps.length;
    checkStepArgs(steps, stepIndex, sample, modelOutput);
    if (stepIndex === 0) this.previousX0 = undefined;
    else if (stepIndex !== this.nextStep) {
      throw new Error(`DPM-Solver steps must run in order: expected step ${this.nextStep}, got ${stepIndex}`);
    }
    if (this.previousX0 !== undefined && this.previousX0.length !== sample.length) {
      throw new RangeError('the sample changed shape between steps');
    }
    const s0 = alphaSigma(this.sigmas[stepIndex]!);
    const t = alphaSigma(this.sigmas[stepIndex + 1]!);
    const x0 = this.predictX0(modelOutput, sample, s0);
    const lowerOrderFinal =
      stepIndex === steps - 1 &&
      (this.config.euler_at_final || steps < 15 || this.config.final_sigmas_type === 'zero');

    const h = f(t.lambda - s0.lambda);
    const sampleCoef = f(t.sigma / s0.sigma);
    const d0Coef = f(t.alpha * f(expF(-h) - 1));
    const out = new Float32Array(sample.length);
    const previous = this.previousX0;
    if (previous === undefined || lowerOrderFinal) {
      // first order (DDIM-like): x_t = σ_t/σ_s · x − α_t (e^{−h} − 1) · x0
      for (let i = 0; i < out.length; i++) out[i] = f(sampleCoef * sample[i]!) - f(d0Coef * x0[i]!);
    } else {
      // second order, midpoint: D1 = (x0 − x0_prev) / r0, r0 = h_prev / h
      const s1 = alphaSigma(this.sigmas[stepIndex - 1]!);
      const r0 = f(f(s0.lambda - s1.lambda) / h);
      const invR0 = f(1 / r0);
      const d1Coef = f(0.5 * d0Coef);
      for (let i = 0; i < out.length; i++) {
        const d1 = f(invR0 * f(x0[i]! - previous[i]!));
        out[i] = f(f(sampleCoef * sample[i]!) - f(d0Coef * x0[i]!)) - f(d1Coef * d1);
      }
    }
    this.previousX0 = x0;
    this.nextStep = stepIndex + 1;
    return out;
  }
}
