/**
 * diffusers `EulerDiscreteScheduler` (scheduling_euler_discrete.py, commit 58eb52c) without
 * churn (s_churn = 0, the default), with or without Karras sigmas. Timesteps and sigmas follow
 * its `set_timesteps`; the per-step arithmetic is float32, operation by operation, as the torch
 * tensors compute it (Karras et al. 2022, Algorithm 2 with gamma = 0).
 */

import { sqrtF32 } from '../float32.ts';
import type { SchedulerConfig } from './config.ts';
import {
  alphasCumprod,
  karrasSigmas,
  logF32,
  npArange,
  npInterpIndex,
  npLinspace,
  roundHalfEven,
  sigmaToT,
  trainingSigmas,
} from './noise-schedule.ts';
import { checkStepArgs, checkStepCount, type SamplerName, type Scheduler } from './types.ts';

const f = Math.fround;

/** `set_timesteps` without custom timesteps: float32 timesteps (descending) for `steps`. */
function eulerTimesteps(config: SchedulerConfig, steps: number): number[] {
  const n = config.num_train_timesteps;
  switch (config.timestep_spacing) {
    case 'linspace':
      return Array.from(npLinspace(0, n - 1, steps), (t) => f(t)).reverse();
    case 'leading': {
      const ratio = Math.floor(n / steps);
      const ts: number[] = [];
      for (let i = steps - 1; i >= 0; i--) ts.push(f(f(roundHalfEven(i * ratio)) + config.steps_offset));
      return ts;
    }
    case 'trailing':
      return Array.from(npArange(n, 0, -(n / steps)), (t) => f(f(roundHalfEven(t)) - 1));
  }
}

export class EulerDiscreteScheduler implements Scheduler {
  readonly sampler: SamplerName;
  readonly config: SchedulerConfig;
  timesteps: readonly number[] = [];
  sigmas = new Float32Array(0);
  initNoiseSigma = 1;
  private readonly karras: boolean;
  private readonly trainSigmas: Float32Array;

  constructor(config: SchedulerConfig, karras: boolean) {
    this.config = config;
    this.karras = karras;
    this.sampler = karras ? 'euler_karras' : 'euler';
    this.trainSigmas = trainingSigmas(alphasCumprod(config));
  }

  setTimesteps(steps: number): void {
    const config = this.config;
    checkStepCount(steps, config.num_train_timesteps);
    let timesteps: number[] = eulerTimesteps(config, steps);
    // np.interp of float32 training sigmas at the (float32) timesteps, in float64
    let sigmas: ArrayLike<number> = timesteps.map((t) => npInterpIndex(t, this.trainSigmas));
    if (this.karras) {
      const sigmaMin = config.sigma_min ?? sigmas[sigmas.length - 1]!;
      const sigmaMax = config.sigma_max ?? sigmas[0]!;
      sigmas = karrasSigmas(sigmaMin, sigmaMax, steps);
      const logSigmas = logF32(this.trainSigmas);
      timesteps = Array.from(sigmas, (s) => f(sigmaToT(s, logSigmas)));
    }
    const last = config.final_sigmas_type === 'sigma_min' ? this.trainSigmas[0]! : 0;
    const all = new Float32Array(sigmas.length + 1);
    all.set(sigmas);
    all[sigmas.length] = last;
    this.timesteps = timesteps;
    this.sigmas = all;
    const maxSigma = all.reduce((a, b) => (b > a ? b : a), -Infinity);
    this.initNoiseSigma =
      config.timestep_spacing === 'leading' ? sqrtF32(f(f(maxSigma * maxSigma) + 1)) : maxSigma;
  }

  /** sample / sqrt(sigma² + 1). */
  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array {
    checkStepArgs(this.timesteps.length, stepIndex, sample);
    const sigma = this.sigmas[stepIndex]!;
    const denom = sqrtF32(f(f(sigma * sigma) + 1));
    const out = new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) out[i] = sample[i]! / denom;
    return out;
  }

  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array): Float32Array {
    checkStepArgs(this.timesteps.length, stepIndex, sample, modelOutput);
    const sigma = this.sigmas[stepIndex]!;
    const dt = f(this.sigmas[stepIndex + 1]! - sigma);
    const out = new Float32Array(sample.length);
    const prediction = this.config.prediction_type;
    // v-prediction: x0 = v · (-σ / sqrt(σ² + 1)) + x / (σ² + 1)
    const sigmaSqPlus1 = f(f(sigma * sigma) + 1);
    const vOut = f(-sigma / sqrtF32(sigmaSqPlus1));
    for (let i = 0; i < sample.length; i++) {
      const x = sample[i]!;
      const m = modelOutput[i]!;
      let x0: number;
      if (prediction === 'epsilon') x0 = f(x - f(sigma * m));
      else if (prediction === 'v_prediction') x0 = f(f(m * vOut) + f(x / sigmaSqPlus1));
      else x0 = m;
      const derivative = f(f(x - x0) / sigma);
      out[i] = x + f(derivative * dt);
    }
    return out;
  }
}
