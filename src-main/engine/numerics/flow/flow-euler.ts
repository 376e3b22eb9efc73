/**
 * diffusers `FlowMatchEulerDiscreteScheduler` (scheduling_flow_match_euler_discrete.py, commit
 * 58eb52c) with a static shift (use_dynamic_shifting false) and deterministic steps: the Euler
 * method on the rectified-flow ODE dx/dσ = v (Liu et al. 2022, "Flow Straight and Fast",
 * arXiv:2209.03003; the shifted schedule of Esser et al. 2024, "Scaling Rectified Flow
 * Transformers", arXiv:2403.03206, eq. 23). Float32 where diffusers uses torch tensors,
 * float64 where it uses numpy.
 */

import { checkStepArgs, checkStepCount } from '../schedulers/types.ts';
import { npLinspace } from '../schedulers/noise-schedule.ts';
import type { FlowSchedulerConfig } from './config.ts';
import type { FlowSamplerName, FlowScheduler } from './types.ts';

const f = Math.fround;

/** `np.linspace` including numpy's one-sample case (just `start`). */
function linspace(start: number, stop: number, num: number): Float64Array {
  return num === 1 ? Float64Array.of(start) : npLinspace(start, stop, num);
}

export class FlowMatchEulerDiscreteScheduler implements FlowScheduler {
  readonly sampler: FlowSamplerName = 'flow_euler';
  readonly config: FlowSchedulerConfig;
  timesteps: readonly number[] = [];
  sigmas = new Float32Array(0);
  readonly initNoiseSigma = 1;
  /** σ at the first and last training step, as the constructor leaves them (float32 values). */
  private readonly sigmaMax: number;
  private readonly sigmaMin: number;

  constructor(config: FlowSchedulerConfig) {
    this.config = config;
    // __init__: training sigmas t / N for t = N … 1, shifted once in float32 tensor ops
    const n = config.num_train_timesteps;
    const shift = f(config.flow_shift);
    const shiftMinusOne = f(config.flow_shift - 1);
    const shifted = (t: number) => {
      const s = f(t / n);
      return f(f(shift * s) / f(1 + f(shiftMinusOne * s)));
    };
    this.sigmaMax = shifted(n);
    this.sigmaMin = shifted(1);
  }

  setTimesteps(steps: number): void {
    const n = this.config.num_train_timesteps;
    checkStepCount(steps, n);
    const shift = this.config.flow_shift;
    // set_timesteps: evenly spaced between the constructor's (already shifted) end points and
    // shifted again, in float64 — diffusers applies the shift twice to the smallest sigma
    const ts = linspace(this.sigmaMax * n, this.sigmaMin * n, steps);
    const sigmas = new Float32Array(steps + 1);
    const timesteps: number[] = [];
    for (let i = 0; i < steps; i++) {
      const s = ts[i]! / n;
      sigmas[i] = (shift * s) / (1 + (shift - 1) * s);
      timesteps.push(f(sigmas[i]! * n));
    }
    sigmas[steps] = 0;
    this.timesteps = timesteps;
    this.sigmas = sigmas;
  }

  /** Flow matching needs no input scaling: returns a copy of `sample`. */
  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array {
    checkStepArgs(this.timesteps.length, stepIndex, sample);
    return sample.slice();
  }

  /** x + (σ_next − σ)·v. */
  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array): Float32Array {
    checkStepArgs(this.timesteps.length, stepIndex, sample, modelOutput);
    const dt = f(this.sigmas[stepIndex + 1]! - this.sigmas[stepIndex]!);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) out[i] = sample[i]! + f(dt * modelOutput[i]!);
    return out;
  }
}
