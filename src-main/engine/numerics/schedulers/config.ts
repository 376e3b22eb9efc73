/**
 * The noise-schedule part of a diffusers `scheduler/scheduler_config.json`, validated.
 *
 * Keys and defaults follow diffusers' EulerDiscreteScheduler / DPMSolverMultistepScheduler
 * constructors. Keys that do not shape the schedule (clip_sample, skip_prk_steps, solver
 * settings of other samplers, …) are accepted and ignored: the sampler the user picks decides
 * the algorithm, the config decides the noise schedule. Options that would change the result in
 * ways this module does not reproduce are rejected with a message, never silently ignored.
 */

import { z } from 'zod';

const positiveInt = z.number().int().positive();

const rawSchema = z.object({
  num_train_timesteps: positiveInt.max(100_000).default(1000),
  beta_start: z.number().positive().default(0.0001),
  beta_end: z.number().positive().default(0.02),
  beta_schedule: z.enum(['linear', 'scaled_linear', 'squaredcos_cap_v2']).default('linear'),
  trained_betas: z.array(z.number().min(0).max(1)).nullable().default(null),
  prediction_type: z.enum(['epsilon', 'v_prediction', 'sample']).default('epsilon'),
  interpolation_type: z.literal('linear', { error: 'only "linear" interpolation_type is supported' }).default('linear'),
  timestep_spacing: z.enum(['leading', 'trailing', 'linspace']).default('linspace'),
  timestep_type: z.literal('discrete', { error: 'only "discrete" timestep_type is supported' }).default('discrete'),
  steps_offset: z.number().int().min(0).default(0),
  rescale_betas_zero_snr: z.boolean().default(false),
  final_sigmas_type: z.enum(['zero', 'sigma_min']).default('zero'),
  sigma_min: z.number().positive().nullable().default(null),
  sigma_max: z.number().positive().nullable().default(null),
  use_karras_sigmas: z.boolean().nullable().default(false),
  euler_at_final: z.boolean().default(false),
  lambda_min_clipped: z.number().nullable().default(null),
  // Present in some exports; accepted only with the value that means "off".
  use_exponential_sigmas: z.literal([false, null], { error: 'use_exponential_sigmas is not supported' }).optional(),
  use_beta_sigmas: z.literal([false, null], { error: 'use_beta_sigmas is not supported' }).optional(),
  use_lu_lambdas: z.literal([false, null], { error: 'use_lu_lambdas is not supported' }).optional(),
  use_flow_sigmas: z.literal([false, null], { error: 'use_flow_sigmas (flow-matching models) is not supported' }).optional(),
  thresholding: z.literal([false, null], { error: 'thresholding is not supported' }).optional(),
});

/** A parsed scheduler config: diffusers' key names, every default filled in. */
export type SchedulerConfig = Readonly<Omit<z.output<typeof rawSchema>, `use_${'exponential' | 'beta' | 'flow'}_sigmas` | 'use_lu_lambdas' | 'thresholding'>>;

export class SchedulerConfigError extends Error {
  override readonly name = 'SchedulerConfigError';
}

/**
 * Validates the parsed JSON of a `scheduler_config.json`. Throws SchedulerConfigError naming
 * every bad key, e.g. "scheduler_config.json is not usable: ✖ Invalid option … → at beta_schedule".
 */
export function parseSchedulerConfig(json: unknown): SchedulerConfig {
  const result = rawSchema.safeParse(json);
  if (!result.success) {
    throw new SchedulerConfigError(
      `scheduler_config.json is not usable; fix or replace the model's scheduler folder:\n${z.prettifyError(result.error)}`,
    );
  }
  const c = result.data;
  if (c.trained_betas !== null && c.trained_betas.length !== c.num_train_timesteps) {
    throw new SchedulerConfigError(
      `scheduler_config.json is not usable: trained_betas has ${c.trained_betas.length} values but num_train_timesteps is ${c.num_train_timesteps}`,
    );
  }
  if (c.trained_betas === null && c.beta_schedule !== 'squaredcos_cap_v2' && !(c.beta_end > c.beta_start)) {
    throw new SchedulerConfigError(
      `scheduler_config.json is not usable: beta_end (${c.beta_end}) must be larger than beta_start (${c.beta_start})`,
    );
  }
  const {
    use_exponential_sigmas: _e,
    use_beta_sigmas: _b,
    use_lu_lambdas: _l,
    use_flow_sigmas: _f,
    thresholding: _t,
    ...config
  } = c;
  return Object.freeze(config);
}

/** The scheduler config of the SDXL base 1.0 export (stabilityai/stable-diffusion-xl-base-1.0). */
export const SDXL_SCHEDULER_CONFIG: SchedulerConfig = parseSchedulerConfig({
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  interpolation_type: 'linear',
  prediction_type: 'epsilon',
  steps_offset: 1,
  timestep_spacing: 'leading',
  trained_betas: null,
  use_karras_sigmas: false,
});
