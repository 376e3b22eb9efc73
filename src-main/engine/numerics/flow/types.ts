import type { FlowSchedulerConfig } from './config.ts';

/** The samplers the studio offers for flow-matching models (WAN 2.1): see FLOW_SAMPLERS in index.ts. */
export type FlowSamplerName = 'unipc' | 'flow_euler';

/**
 * A flow-matching sampler over flat float32 latents of any shape. Usage, as in diffusers'
 * WanPipeline:
 *
 *   s.setTimesteps(steps);
 *   let x = noise;                                   // initNoiseSigma is 1
 *   for (let i = 0; i < s.timesteps.length; i++) {
 *     const v = transformer(s.scaleModelInput(x, i), s.timesteps[i]);   // after CFG
 *     x = s.step(v, i, x);
 *   }
 *
 * `step` must be called with i = 0, 1, 2, … in order after `setTimesteps` (UniPC keeps earlier
 * model outputs and corrects the previous step); calling it with i = 0 again starts a new run.
 */
export interface FlowScheduler {
  readonly sampler: FlowSamplerName;
  readonly config: FlowSchedulerConfig;
  /** Timestep passed to the transformer at each step: σ·1000, truncated to an integer (UniPC) or float32 (Euler). */
  readonly timesteps: readonly number[];
  /** Noise level σ at each step, plus the final one (0, or the last σ for final_sigmas_type sigma_min). */
  readonly sigmas: Float32Array;
  /** Always 1: flow models start from unit noise. */
  readonly initNoiseSigma: number;
  setTimesteps(steps: number): void;
  /** The transformer input for step `stepIndex`: a copy of `sample` (flow schedulers do not scale it). */
  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array;
  /** The sample after step `stepIndex`, given the model's velocity prediction for it (a new array). */
  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array): Float32Array;
}
