/**
 * A flow-matching `scheduler/scheduler_config.json` (WAN 2.1 and other rectified-flow models),
 * validated.
 *
 * Two diffusers classes write such configs: `UniPCMultistepScheduler` in flow mode (what the WAN
 * 2.1 Diffusers exports ship: prediction_type "flow_prediction", use_flow_sigmas true,
 * flow_shift 3.0) and `FlowMatchEulerDiscreteScheduler` (key `shift`). Either is accepted; the
 * sampler the user picks decides the algorithm, the config decides the schedule, so the shift is
 * read from whichever key the class uses and both samplers run from it. Keys and defaults follow
 * the two constructors (scheduling_unipc_multistep.py, scheduling_flow_match_euler_discrete.py,
 * diffusers commit 58eb52c). Keys that do not shape a flow schedule (beta_*, timestep_spacing,
 * thresholding ratio, …) are accepted and ignored; options that would change the result in ways
 * this module does not reproduce are rejected with a message naming the key.
 */

import { z } from 'zod';
import { SchedulerConfigError } from '../schedulers/config.ts';

export { SchedulerConfigError };

export type FlowSchedulerClass = 'UniPCMultistepScheduler' | 'FlowMatchEulerDiscreteScheduler';

/** A parsed flow scheduler config: diffusers' key names (UniPC's), every default filled in. */
export interface FlowSchedulerConfig {
  /** The diffusers class the file was written for (informative: both samplers run from either). */
  readonly sourceClass: FlowSchedulerClass;
  readonly num_train_timesteps: number;
  /** UniPC's `flow_shift`, or FlowMatchEuler's `shift`: σ' = s·σ / (1 + (s − 1)·σ). */
  readonly flow_shift: number;
  /** UniPC only (FlowMatchEuler has no solver settings and always ends at σ = 0). */
  readonly solver_order: number;
  readonly solver_type: 'bh1' | 'bh2';
  readonly lower_order_final: boolean;
  /** Steps whose UniC corrector is skipped (diffusers: step_index − 1 in the list). */
  readonly disable_corrector: readonly number[];
  readonly final_sigmas_type: 'zero' | 'sigma_min';
}

const off = (key: string, why: string) =>
  z.literal([false, null], { error: `${key} is not supported: ${why}` }).optional();

const rawSchema = z.object({
  _class_name: z
    .enum(['UniPCMultistepScheduler', 'FlowMatchEulerDiscreteScheduler'], {
      error: 'not a flow-matching scheduler: expected "UniPCMultistepScheduler" or "FlowMatchEulerDiscreteScheduler"',
    })
    .optional(),
  num_train_timesteps: z.number().int().positive().max(100_000).default(1000),
  flow_shift: z.number().positive().optional(),
  shift: z.number().positive().optional(),
  prediction_type: z.string().optional(),
  use_flow_sigmas: z.boolean().nullable().optional(),
  solver_order: z.number().int().min(1).max(3, { error: 'solver_order must be 1, 2 or 3' }).default(2),
  // diffusers' UniPC registers the DPM-Solver names "midpoint", "heun" and "logrho" as "bh2"
  solver_type: z.enum(['bh1', 'bh2', 'midpoint', 'heun', 'logrho']).default('bh2'),
  predict_x0: z
    .literal(true, {
      error: 'predict_x0 must be true: diffusers UniPC has no noise-space update for flow_prediction',
    })
    .default(true),
  lower_order_final: z.boolean().default(true),
  disable_corrector: z.array(z.number().int()).default([]),
  final_sigmas_type: z.enum(['zero', 'sigma_min']).default('zero'),
  solver_p: z.null({ error: 'solver_p (a custom predictor scheduler) is not supported' }).optional(),
  thresholding: off('thresholding', 'flow latents are not clipped'),
  use_karras_sigmas: off('use_karras_sigmas', 'only shifted flow sigmas are implemented'),
  use_exponential_sigmas: off('use_exponential_sigmas', 'only shifted flow sigmas are implemented'),
  use_beta_sigmas: off('use_beta_sigmas', 'only shifted flow sigmas are implemented'),
  use_dynamic_shifting: off(
    'use_dynamic_shifting',
    'it needs a resolution-dependent mu, which WAN 2.1 does not use',
  ),
  shift_terminal: z.literal([null, 0], { error: 'shift_terminal is not supported' }).optional(),
  invert_sigmas: off('invert_sigmas', 'inverted (Mochi-style) sigmas are not implemented'),
  stochastic_sampling: off('stochastic_sampling', 'only the deterministic Euler step is implemented'),
});

type RawConfig = z.output<typeof rawSchema>;

function sourceClassOf(c: RawConfig): FlowSchedulerClass {
  if (c._class_name !== undefined) return c._class_name;
  return c.shift !== undefined && c.flow_shift === undefined && c.use_flow_sigmas == null
    ? 'FlowMatchEulerDiscreteScheduler'
    : 'UniPCMultistepScheduler';
}

const schema = rawSchema.superRefine((c, ctx) => {
  const source = sourceClassOf(c);
  if (source === 'UniPCMultistepScheduler') {
    // diffusers' UniPC defaults are epsilon / VP sigmas: a config without these keys is not a flow model's
    if (c.prediction_type !== 'flow_prediction') {
      ctx.addIssue({
        code: 'custom',
        path: ['prediction_type'],
        message: `must be "flow_prediction" for a flow-matching model (got ${JSON.stringify(c.prediction_type ?? 'epsilon')})`,
      });
    }
    if (c.use_flow_sigmas !== true) {
      ctx.addIssue({ code: 'custom', path: ['use_flow_sigmas'], message: 'must be true for a flow-matching model' });
    }
  }
  // The final sigma 0 makes log σ = −inf in UniPC's last step; these settings turn that into
  // NaN / inf latents in diffusers (see tests/fixtures/reference/flow/README.md).
  if (c.final_sigmas_type === 'zero' && c.solver_type === 'bh1') {
    ctx.addIssue({
      code: 'custom',
      path: ['solver_type'],
      message: '"bh1" with final_sigmas_type "zero" ends in NaN latents in diffusers; use "bh2"',
    });
  }
  if (c.final_sigmas_type === 'zero' && !c.lower_order_final && c.solver_order > 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['lower_order_final'],
      message: 'false with final_sigmas_type "zero" ends in non-finite latents in diffusers; set it to true',
    });
  }
});

/**
 * Validates the parsed JSON of a flow-matching `scheduler_config.json`. Throws
 * SchedulerConfigError naming every bad key, e.g. "… ✖ must be "flow_prediction" … → at prediction_type".
 */
export function parseFlowSchedulerConfig(json: unknown): FlowSchedulerConfig {
  const result = schema.safeParse(json);
  if (!result.success) {
    throw new SchedulerConfigError(
      'scheduler_config.json is not usable for a flow-matching model; ' +
        `fix or replace the model's scheduler folder:\n${z.prettifyError(result.error)}`,
    );
  }
  const c = result.data;
  const sourceClass = sourceClassOf(c);
  return Object.freeze({
    sourceClass,
    num_train_timesteps: c.num_train_timesteps,
    flow_shift: (sourceClass === 'UniPCMultistepScheduler' ? c.flow_shift : c.shift) ?? 1.0,
    solver_order: c.solver_order,
    solver_type: c.solver_type === 'bh1' ? 'bh1' : 'bh2',
    lower_order_final: c.lower_order_final,
    disable_corrector: Object.freeze([...c.disable_corrector]),
    final_sigmas_type: c.final_sigmas_type,
  });
}

/**
 * `config` with another shift, as `UniPCMultistepScheduler.from_config(config, flow_shift=…)`
 * (WanPipeline's docstring: 3.0 for 480p, 5.0 for 720p).
 */
export function withFlowShift(config: FlowSchedulerConfig, flowShift: number): FlowSchedulerConfig {
  if (!Number.isFinite(flowShift) || flowShift <= 0) {
    throw new RangeError(`flow shift must be a positive number, got ${flowShift}`);
  }
  return Object.freeze({ ...config, flow_shift: flowShift });
}

/**
 * The scheduler of Wan-AI/Wan2.1-T2V-1.3B-Diffusers (scheduler/scheduler_config.json, written
 * by diffusers 0.33.0.dev0 from scripts/convert_wan_to_diffusers.py).
 */
export const WAN21_SCHEDULER_JSON = Object.freeze({
  _class_name: 'UniPCMultistepScheduler',
  _diffusers_version: '0.33.0.dev0',
  beta_end: 0.02,
  beta_schedule: 'linear',
  beta_start: 0.0001,
  disable_corrector: [],
  dynamic_thresholding_ratio: 0.995,
  final_sigmas_type: 'zero',
  flow_shift: 3.0,
  lower_order_final: true,
  num_train_timesteps: 1000,
  predict_x0: true,
  prediction_type: 'flow_prediction',
  rescale_betas_zero_snr: false,
  sample_max_value: 1.0,
  solver_order: 2,
  solver_p: null,
  solver_type: 'bh2',
  steps_offset: 0,
  thresholding: false,
  timestep_spacing: 'linspace',
  trained_betas: null,
  use_beta_sigmas: false,
  use_exponential_sigmas: false,
  use_flow_sigmas: true,
  use_karras_sigmas: false,
});

export const WAN21_SCHEDULER_CONFIG: FlowSchedulerConfig = parseFlowSchedulerConfig(WAN21_SCHEDULER_JSON);
