import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  SAMPLER_NAMES,
  SAMPLERS,
  SDXL_SCHEDULER_CONFIG,
  SchedulerConfigError,
  parseSchedulerConfig,
  samplerFromA1111,
  schedulerNotesFor,
  type SamplerName,
} from '../../../src-main/engine/numerics/schedulers/index.ts';

const reference = JSON.parse(readFileSync(new URL('../../fixtures/reference/schedulers.json', import.meta.url), 'utf8')) as {
  configs: Record<string, unknown>;
};

// stabilityai/stable-diffusion-xl-base-1.0 scheduler/scheduler_config.json
const SDXL_EXPORT_JSON = {
  _class_name: 'EulerDiscreteScheduler',
  _diffusers_version: '0.19.0.dev0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  interpolation_type: 'linear',
  num_train_timesteps: 1000,
  prediction_type: 'epsilon',
  sample_max_value: 1.0,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  timestep_spacing: 'leading',
  trained_betas: null,
  use_karras_sigmas: false,
};

// A DPMSolverMultistepScheduler config as diffusers writes it for SDE-DPM++ 3M sampling.
const SDE_DPM_JSON = {
  ...SDXL_EXPORT_JSON,
  _class_name: 'DPMSolverMultistepScheduler',
  algorithm_type: 'sde-dpmsolver++',
  solver_order: 3,
  solver_type: 'heun',
  thresholding: true,
  use_lu_lambdas: true,
};

const sentences = (json: unknown, sampler: SamplerName): string[] => schedulerNotesFor(parseSchedulerConfig(json).notes, sampler);

describe('parseSchedulerConfig', () => {
  it('reads the SDXL export config, ignoring keys that do not shape the schedule, with nothing to say', () => {
    const { config, notes } = parseSchedulerConfig(SDXL_EXPORT_JSON);
    expect(config).toEqual(SDXL_SCHEDULER_CONFIG);
    expect(config).toMatchObject({ beta_schedule: 'scaled_linear', timestep_spacing: 'leading', steps_offset: 1 });
    expect(config).not.toHaveProperty('clip_sample');
    expect(notes).toEqual([]);
  });

  it('says nothing about the values it reproduces: every config our samplers were checked against diffusers with', () => {
    for (const [name, json] of Object.entries(reference.configs)) {
      expect(parseSchedulerConfig(json).notes, name).toEqual([]);
    }
    // the solver settings of A1111's DPM++ 2M, and the names diffusers maps onto them
    const dpmpp2m = { ...SDXL_EXPORT_JSON, algorithm_type: 'dpmsolver++', solver_order: 2, solver_type: 'midpoint', lower_order_final: true };
    expect(parseSchedulerConfig(dpmpp2m).notes).toEqual([]);
    expect(parseSchedulerConfig({ ...dpmpp2m, algorithm_type: 'deis', solver_type: 'bh2', thresholding: false, use_lu_lambdas: null }).notes).toEqual([]);
  });

  it('fills in diffusers defaults', () => {
    expect(parseSchedulerConfig({}).config).toMatchObject({
      num_train_timesteps: 1000,
      beta_start: 0.0001,
      beta_end: 0.02,
      beta_schedule: 'linear',
      prediction_type: 'epsilon',
      timestep_spacing: 'linspace',
      steps_offset: 0,
      final_sigmas_type: 'zero',
      rescale_betas_zero_snr: false,
      sigma_min: null,
      lambda_min_clipped: null,
    });
  });

  it('names each value DPM++ 2M does not reproduce, with the value and what it runs instead', () => {
    expect(sentences(SDE_DPM_JSON, 'dpmpp_2m')).toEqual([
      'scheduler_config.json sets use_lu_lambdas true, which the studio does not reproduce: DPM++ 2M spaces its steps by timestep_spacing "leading" instead',
      'scheduler_config.json sets thresholding true, which the studio does not reproduce: DPM++ 2M does not clip its predicted image (no dynamic thresholding) instead',
      'scheduler_config.json sets algorithm_type "sde-dpmsolver++", which the studio does not reproduce: DPM++ 2M runs the deterministic "dpmsolver++" algorithm instead',
      'scheduler_config.json sets solver_order 3, which the studio does not reproduce: DPM++ 2M is a second-order solver (solver_order 2) instead',
      'scheduler_config.json sets solver_type "heun", which the studio does not reproduce: DPM++ 2M takes the "midpoint" second-order step instead',
    ]);
    // diffusers reads Karras before Lu lambdas: the Karras sampler does not use them either way
    expect(sentences(SDE_DPM_JSON, 'dpmpp_2m_karras').join(' ')).not.toMatch(/use_lu_lambdas/);
    expect(sentences(SDE_DPM_JSON, 'dpmpp_2m_karras')).toHaveLength(4);
  });

  it('says nothing about solver settings on an Euler job: diffusers\' Euler does not read them', () => {
    expect(sentences(SDE_DPM_JSON, 'euler')).toEqual([]);
    expect(sentences(SDE_DPM_JSON, 'euler_karras')).toEqual([]);
  });

  it.each([
    [{ interpolation_type: 'log_linear' }, ['euler', 'euler_karras'], /interpolation_type "log_linear".*linearly/],
    [{ use_exponential_sigmas: true }, ['euler', 'euler_karras', 'dpmpp_2m', 'dpmpp_2m_karras'], /use_exponential_sigmas true.*Karras sigmas for the Karras samplers, otherwise timestep_spacing "leading"/],
    [{ use_beta_sigmas: true }, ['euler', 'euler_karras', 'dpmpp_2m', 'dpmpp_2m_karras'], /use_beta_sigmas true/],
    [{ variance_type: 'learned_range' }, ['dpmpp_2m', 'dpmpp_2m_karras'], /variance_type "learned_range".*whole output/],
    [{ lower_order_final: false, final_sigmas_type: 'sigma_min' }, ['dpmpp_2m', 'dpmpp_2m_karras'], /lower_order_final false.*fewer than 15 steps/],
    [{ sigma_min: 0.1 }, ['dpmpp_2m_karras'], /sigma_min 0\.1.*training schedule's own sigma range/],
  ] as const)('notes %j on the samplers that read it', (patch, samplers, sentence) => {
    const { notes } = parseSchedulerConfig({ ...SDXL_EXPORT_JSON, ...patch });
    expect(notes).toHaveLength(1);
    expect(notes[0]!.samplers).toEqual(samplers);
    expect(notes[0]!.sentence).toMatch(sentence);
    for (const sampler of SAMPLER_NAMES) expect(schedulerNotesFor(notes, sampler)).toHaveLength((samplers as readonly SamplerName[]).includes(sampler) ? 1 : 0);
  });

  it('keeps lower_order_final false silent where diffusers\' last step is first order anyway', () => {
    expect(parseSchedulerConfig({ ...SDXL_EXPORT_JSON, lower_order_final: false }).notes).toEqual([]);
    expect(parseSchedulerConfig({ ...SDXL_EXPORT_JSON, lower_order_final: false, final_sigmas_type: 'sigma_min', euler_at_final: true }).notes).toEqual([]);
  });

  it('names the bad key and says what to do', () => {
    const attempt = () => parseSchedulerConfig({ ...SDXL_EXPORT_JSON, beta_schedule: 'sigmoid' });
    expect(attempt).toThrow(SchedulerConfigError);
    expect(attempt).toThrow(/beta_schedule/);
    expect(attempt).toThrow(/fix or replace the model's scheduler folder/);
  });

  it.each([
    [{ timestep_type: 'continuous', prediction_type: 'v_prediction' }, /timestep_type "continuous" with v_prediction/],
    [{ use_flow_sigmas: true }, /use_flow_sigmas.*flow-matching model/],
    [{ prediction_type: 'flow_prediction' }, /prediction_type/],
    [{ timestep_spacing: 'spread' }, /timestep_spacing/],
    [{ final_sigmas_type: 'one' }, /final_sigmas_type/],
    [{ trained_betas: [0.1, 0.2] }, /trained_betas has 2 values/],
    [{ beta_start: 0.02, beta_end: 0.01 }, /beta_end/],
    [{ num_train_timesteps: 0 }, /num_train_timesteps/],
  ])('rejects %j, which diffusers refuses too or which means another kind of model', (patch, message) => {
    expect(() => parseSchedulerConfig({ ...SDXL_EXPORT_JSON, ...patch })).toThrow(message);
  });

  it('accepts continuous timesteps with epsilon prediction, which diffusers runs as discrete ones', () => {
    expect(parseSchedulerConfig({ ...SDXL_EXPORT_JSON, timestep_type: 'continuous' }).notes).toEqual([]);
  });

  it('rejects input that is not an object', () => {
    expect(() => parseSchedulerConfig('{"beta_start": 1}')).toThrow(SchedulerConfigError);
    expect(() => parseSchedulerConfig(null)).toThrow(SchedulerConfigError);
  });
});

describe('sampler names', () => {
  it('labels every sampler the way A1111 shows it', () => {
    expect(SAMPLER_NAMES.map((n) => SAMPLERS[n].label)).toEqual(['Euler', 'Euler Karras', 'DPM++ 2M', 'DPM++ 2M Karras']);
    expect(SAMPLERS.dpmpp_2m_karras).toMatchObject({ a1111Sampler: 'DPM++ 2M', a1111ScheduleType: 'Karras' });
    // Never `Automatic`: A1111 1.9+ resolves that to the sampler's default, Karras for DPM++ 2M.
    expect(SAMPLERS.euler).toMatchObject({ a1111Sampler: 'Euler', a1111ScheduleType: 'Uniform' });
    expect(SAMPLERS.dpmpp_2m).toMatchObject({ a1111Sampler: 'DPM++ 2M', a1111ScheduleType: 'Uniform' });
  });

  it.each([
    ['Euler', undefined, 'euler'],
    ['Euler', 'Automatic', 'euler'],
    ['Euler', 'Karras', 'euler_karras'],
    ['DPM++ 2M', 'Karras', 'dpmpp_2m_karras'],
    ['DPM++ 2M Karras', undefined, 'dpmpp_2m_karras'],
    ['dpm++ 2m', 'automatic', 'dpmpp_2m_karras'],
    ['DPM++ 2M', 'Uniform', 'dpmpp_2m'],
    ['DPM++ 2M', undefined, 'dpmpp_2m'],
    ['Euler', 'Uniform', 'euler'],
    ['Euler a', undefined, undefined],
    ['DPM++ 2M', 'Exponential', undefined],
    ['DPM++ 2M SDE Karras', undefined, undefined],
  ])('reads A1111 sampler %j with schedule type %j as %j', (sampler, schedule, expected) => {
    expect(samplerFromA1111(sampler, schedule)).toBe(expected);
  });
});
