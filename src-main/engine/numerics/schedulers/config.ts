/**
 * The noise-schedule part of a diffusers `scheduler/scheduler_config.json`, validated, plus a
 * sentence for every value in it the studio does not reproduce.
 *
 * The sampler the user picks decides the algorithm, as swapping a pipeline's scheduler with
 * `EulerDiscreteScheduler.from_config(config)` / `DPMSolverMultistepScheduler.from_config(config)`
 * does in diffusers (commit 58eb52c); the config decides the noise schedule. What "honoured" means
 * follows from that: what the diffusers class behind the picked sampler would read from this file.
 * - Values those classes read and this module reproduces become the SchedulerConfig: silent.
 * - Keys the class does not read (clip_sample, set_alpha_to_one, skip_prk_steps, …; Euler reads no
 *   solver settings, DPM-Solver no interpolation_type) are ignored, as diffusers ignores them.
 * - Values the class reads that the studio does not reproduce (algorithm_type "sde-dpmsolver++",
 *   solver_order 3, thresholding, Lu lambdas, exponential sigmas, …) become a SchedulerConfigNote:
 *   the job runs with the studio's own choice and carries the sentence, naming the key, the value
 *   and what runs instead.
 * - Values of the reproduced keys that diffusers refuses too (an unknown beta_schedule or
 *   timestep_spacing, …), and values that make the model another kind (flow sigmas, continuous
 *   v-prediction timesteps: the UNet would be fed timesteps it was never trained on), throw
 *   SchedulerConfigError: the job fails with that sentence.
 * Keys and defaults follow the EulerDiscreteScheduler / DPMSolverMultistepScheduler constructors.
 */

import { z } from 'zod';
import type { SamplerName } from './types.ts';

const positiveInt = z.number().int().positive();

/** Keys whose values the studio does not reproduce: any JSON value, judged in `notesFor`. */
const noted = z.unknown().optional();

const rawSchema = z.object({
  num_train_timesteps: positiveInt.max(100_000).default(1000),
  beta_start: z.number().positive().default(0.0001),
  beta_end: z.number().positive().default(0.02),
  beta_schedule: z.enum(['linear', 'scaled_linear', 'squaredcos_cap_v2']).default('linear'),
  trained_betas: z.array(z.number().min(0).max(1)).nullable().default(null),
  prediction_type: z.enum(['epsilon', 'v_prediction', 'sample']).default('epsilon'),
  timestep_spacing: z.enum(['leading', 'trailing', 'linspace']).default('linspace'),
  steps_offset: z.number().int().min(0).default(0),
  rescale_betas_zero_snr: z.boolean().default(false),
  final_sigmas_type: z.enum(['zero', 'sigma_min']).default('zero'),
  sigma_min: z.number().positive().nullable().default(null),
  sigma_max: z.number().positive().nullable().default(null),
  use_karras_sigmas: z.boolean().nullable().default(false),
  euler_at_final: z.boolean().default(false),
  lambda_min_clipped: z.number().nullable().default(null),
  use_flow_sigmas: z.literal([false, null], { error: 'use_flow_sigmas is set: this is a flow-matching model, not an SDXL-style one' }).optional(),
  timestep_type: noted,
  interpolation_type: noted,
  use_exponential_sigmas: noted,
  use_beta_sigmas: noted,
  use_lu_lambdas: noted,
  thresholding: noted,
  algorithm_type: noted,
  solver_order: noted,
  solver_type: noted,
  lower_order_final: noted,
  variance_type: noted,
});

type RawConfig = z.output<typeof rawSchema>;
/** Keys read only to refuse or note them: not part of the schedule the samplers compute. */
type NotedKey =
  | 'use_flow_sigmas'
  | 'timestep_type'
  | 'interpolation_type'
  | 'use_exponential_sigmas'
  | 'use_beta_sigmas'
  | 'use_lu_lambdas'
  | 'thresholding'
  | 'algorithm_type'
  | 'solver_order'
  | 'solver_type'
  | 'lower_order_final'
  | 'variance_type';

/** A parsed scheduler config: diffusers' key names, every default filled in. */
export type SchedulerConfig = Readonly<Omit<RawConfig, NotedKey>>;

/** A value in the file the studio does not reproduce, for the samplers it concerns. */
export interface SchedulerConfigNote {
  readonly key: string;
  readonly value: unknown;
  /** The samplers whose diffusers class reads this key. */
  readonly samplers: readonly SamplerName[];
  /** One sentence for the job: the key, the value, and what the studio does instead. */
  readonly sentence: string;
}

export interface ParsedSchedulerConfig {
  readonly config: SchedulerConfig;
  readonly notes: readonly SchedulerConfigNote[];
}

export class SchedulerConfigError extends Error {
  override readonly name = 'SchedulerConfigError';
}

const EULER: readonly SamplerName[] = ['euler', 'euler_karras'];
const DPM: readonly SamplerName[] = ['dpmpp_2m', 'dpmpp_2m_karras'];
const ALL: readonly SamplerName[] = [...EULER, ...DPM];

/** Values diffusers accepts as another name for what DPM++ 2M runs (it re-registers them). */
const DPM_PLUS_PLUS_NAMES: readonly unknown[] = ['dpmsolver++', 'deis'];
const MIDPOINT_NAMES: readonly unknown[] = ['midpoint', 'logrho', 'bh1', 'bh2'];

const isOn = (v: unknown): boolean => v !== undefined && v !== null && v !== false;

function notesFor(c: RawConfig): SchedulerConfigNote[] {
  const notes: SchedulerConfigNote[] = [];
  const add = (key: keyof RawConfig, samplers: readonly SamplerName[], instead: string): void => {
    const value = c[key];
    notes.push({ key, value, samplers, sentence: `scheduler_config.json sets ${key} ${JSON.stringify(value)}, which the studio does not reproduce: ${instead}` });
  };
  const spacing = `timestep_spacing "${c.timestep_spacing}"`;
  for (const key of ['use_exponential_sigmas', 'use_beta_sigmas'] as const) {
    if (isOn(c[key])) add(key, ALL, `the steps keep the sampler's own spacing (Karras sigmas for the Karras samplers, otherwise ${spacing})`);
  }
  if (c.interpolation_type !== undefined && c.interpolation_type !== 'linear') {
    add('interpolation_type', EULER, 'Euler interpolates the sigmas linearly between training timesteps instead');
  }
  // diffusers' DPMSolverMultistepScheduler checks Karras before Lu lambdas, so only plain DPM++ 2M reads it.
  if (isOn(c.use_lu_lambdas)) add('use_lu_lambdas', ['dpmpp_2m'], `DPM++ 2M spaces its steps by ${spacing} instead`);
  if (isOn(c.thresholding)) add('thresholding', DPM, 'DPM++ 2M does not clip its predicted image (no dynamic thresholding) instead');
  if (c.algorithm_type !== undefined && !DPM_PLUS_PLUS_NAMES.includes(c.algorithm_type)) {
    add('algorithm_type', DPM, 'DPM++ 2M runs the deterministic "dpmsolver++" algorithm instead');
  }
  if (c.solver_order !== undefined && c.solver_order !== 2) add('solver_order', DPM, 'DPM++ 2M is a second-order solver (solver_order 2) instead');
  if (c.solver_type !== undefined && !MIDPOINT_NAMES.includes(c.solver_type)) {
    add('solver_type', DPM, 'DPM++ 2M takes the "midpoint" second-order step instead');
  }
  // lower_order_final only decides the last step of runs under 15 steps that end at sigma_min.
  if (c.lower_order_final === false && c.final_sigmas_type === 'sigma_min' && !c.euler_at_final) {
    add('lower_order_final', DPM, 'DPM++ 2M takes a first-order last step in jobs of fewer than 15 steps, as lower_order_final true does, instead');
  }
  if (c.variance_type === 'learned' || c.variance_type === 'learned_range') {
    add('variance_type', DPM, "DPM++ 2M takes the UNet's whole output as its prediction (no learned variance) instead");
  }
  // diffusers' DPM-Solver reads sigma_min / sigma_max (kept from the file) for its Karras ramp.
  for (const key of ['sigma_min', 'sigma_max'] as const) {
    if (c[key] !== null) add(key, ['dpmpp_2m_karras'], "DPM++ 2M Karras spans the training schedule's own sigma range instead");
  }
  return notes;
}

/**
 * Validates the parsed JSON of a `scheduler_config.json`: the config, and a note for each value
 * the studio does not reproduce (see `schedulerNotesFor`). Throws SchedulerConfigError naming every
 * unusable key, e.g. "scheduler_config.json is not usable: ✖ Invalid option … → at beta_schedule".
 */
export function parseSchedulerConfig(json: unknown): ParsedSchedulerConfig {
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
  // diffusers' Euler feeds such a UNet 0.25·ln σ instead of a training timestep; ours never does.
  if (c.timestep_type === 'continuous' && c.prediction_type === 'v_prediction') {
    throw new SchedulerConfigError(
      'scheduler_config.json is not usable: timestep_type "continuous" with v_prediction means the UNet takes 0.25·ln σ as its timestep, which the studio\'s samplers do not pass',
    );
  }
  const {
    use_flow_sigmas: _flow,
    timestep_type: _timestepType,
    interpolation_type: _interpolation,
    use_exponential_sigmas: _exponential,
    use_beta_sigmas: _beta,
    use_lu_lambdas: _lu,
    thresholding: _thresholding,
    algorithm_type: _algorithm,
    solver_order: _order,
    solver_type: _solverType,
    lower_order_final: _lowerOrderFinal,
    variance_type: _variance,
    ...config
  } = c;
  return { config: Object.freeze(config), notes: Object.freeze(notesFor(c)) };
}

/** The sentences of `notes` that concern a job run with `sampler`, in file order. */
export function schedulerNotesFor(notes: readonly SchedulerConfigNote[], sampler: SamplerName): string[] {
  return notes.filter((n) => n.samplers.includes(sampler)).map((n) => n.sentence);
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
}).config;
