import { describe, expect, it } from 'vitest';
import {
  SAMPLER_NAMES,
  SAMPLERS,
  SDXL_SCHEDULER_CONFIG,
  SchedulerConfigError,
  parseSchedulerConfig,
  samplerFromA1111,
} from '../../../src-main/engine/numerics/schedulers/index.ts';

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

describe('parseSchedulerConfig', () => {
  it('reads the SDXL export config, ignoring keys that do not shape the schedule', () => {
    const c = parseSchedulerConfig(SDXL_EXPORT_JSON);
    expect(c).toEqual(SDXL_SCHEDULER_CONFIG);
    expect(c).toMatchObject({ beta_schedule: 'scaled_linear', timestep_spacing: 'leading', steps_offset: 1 });
    expect(c).not.toHaveProperty('clip_sample');
  });

  it('fills in diffusers defaults', () => {
    expect(parseSchedulerConfig({})).toMatchObject({
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

  it('names the bad key and says what to do', () => {
    const attempt = () => parseSchedulerConfig({ ...SDXL_EXPORT_JSON, beta_schedule: 'sigmoid' });
    expect(attempt).toThrow(SchedulerConfigError);
    expect(attempt).toThrow(/beta_schedule/);
    expect(attempt).toThrow(/fix or replace the model's scheduler folder/);
  });

  it.each([
    [{ use_exponential_sigmas: true }, /use_exponential_sigmas/],
    [{ use_beta_sigmas: true }, /use_beta_sigmas/],
    [{ thresholding: true }, /thresholding/],
    [{ interpolation_type: 'log_linear' }, /interpolation_type/],
    [{ timestep_type: 'continuous' }, /timestep_type/],
    [{ prediction_type: 'flow_prediction' }, /prediction_type/],
    [{ trained_betas: [0.1, 0.2] }, /trained_betas has 2 values/],
    [{ beta_start: 0.02, beta_end: 0.01 }, /beta_end/],
    [{ num_train_timesteps: 0 }, /num_train_timesteps/],
  ])('rejects %j rather than silently computing something else', (patch, message) => {
    expect(() => parseSchedulerConfig({ ...SDXL_EXPORT_JSON, ...patch })).toThrow(message);
  });

  it('accepts the "off" values of unsupported options', () => {
    expect(() =>
      parseSchedulerConfig({ ...SDXL_EXPORT_JSON, use_exponential_sigmas: false, use_beta_sigmas: null }),
    ).not.toThrow();
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
    expect(SAMPLERS.euler).toMatchObject({ a1111Sampler: 'Euler', a1111ScheduleType: 'Automatic' });
  });

  it.each([
    ['Euler', undefined, 'euler'],
    ['Euler', 'Automatic', 'euler'],
    ['Euler', 'Karras', 'euler_karras'],
    ['DPM++ 2M', 'Karras', 'dpmpp_2m_karras'],
    ['DPM++ 2M Karras', undefined, 'dpmpp_2m_karras'],
    ['dpm++ 2m', 'automatic', 'dpmpp_2m'],
    ['Euler a', undefined, undefined],
    ['DPM++ 2M', 'Exponential', undefined],
    ['DPM++ 2M SDE Karras', undefined, undefined],
  ])('reads A1111 sampler %j with schedule type %j as %j', (sampler, schedule, expected) => {
    expect(samplerFromA1111(sampler, schedule)).toBe(expected);
  });
});
