import type { SchedulerConfig } from './config.ts';

/** The samplers the studio offers for SDXL (A1111 names: see SAMPLERS in index.ts). */
export type SamplerName = 'euler' | 'euler_karras' | 'dpmpp_2m' | 'dpmpp_2m_karras';

/**
 * A diffusion sampler over flat float32 latents of any shape. Usage, as in diffusers' pipelines:
 *
 *   s.setTimesteps(steps);
 *   let x = noise.map((v) => Math.fround(v * s.initNoiseSigma));
 *   for (let i = 0; i < s.timesteps.length; i++) {
 *     const eps = unet(s.scaleModelInput(x, i), s.timesteps[i]);   // after CFG
 *     x = s.step(eps, i, x);
 *   }
 *
 * `step` must be called with i = 0, 1, 2, … in order after `setTimesteps` (multistep samplers
 * keep the previous model output); calling it with i = 0 again starts a new run.
 */
export interface Scheduler {
  readonly sampler: SamplerName;
  readonly config: SchedulerConfig;
  /** Timestep passed to the UNet at each step (float for Euler, integer for DPM-Solver). */
  readonly timesteps: readonly number[];
  /** Noise level at each step, plus the final one (0 unless final_sigmas_type is sigma_min). */
  readonly sigmas: Float32Array;
  /** Standard deviation to scale unit starting noise by (float32 value). */
  readonly initNoiseSigma: number;
  setTimesteps(steps: number): void;
  /** The UNet input for step `stepIndex` (a new array; `sample` is not modified). */
  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array;
  /** The sample after step `stepIndex`, given the model output for it (a new array). */
  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array): Float32Array;
}

export function checkStepArgs(
  steps: number,
  stepIndex: number,
  sample: Float32Array,
  other?: Float32Array,
): void {
  if (steps === 0) throw new Error('setTimesteps must be called before sampling');
  if (!Number.isInteger(stepIndex) || stepIndex < 0 || stepIndex >= steps) {
    throw new RangeError(`step index ${stepIndex} is outside [0, ${steps})`);
  }
  if (other !== undefined && other.length !== sample.length) {
    throw new RangeError(`model output has ${other.length} values but the sample has ${sample.length}`);
  }
}

export function checkStepCount(steps: number, trainSteps: number): void {
  if (!Number.isInteger(steps) || steps < 1 || steps > trainSteps) {
    throw new RangeError(`steps must be an integer from 1 to ${trainSteps}, got ${steps}`);
  }
}
