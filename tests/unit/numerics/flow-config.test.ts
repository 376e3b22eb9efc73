import { describe, expect, it } from 'vitest';
import {
  FLOW_SAMPLER_NAMES,
  FLOW_SAMPLERS,
  parseFlowSchedulerConfig,
  SchedulerConfigError,
  WAN21_SCHEDULER_CONFIG,
  WAN21_SCHEDULER_JSON,
  withFlowShift,
} from '../../../src-main/engine/numerics/flow/index.ts';

describe('parseFlowSchedulerConfig', () => {
  it('reads the WAN 2.1 T2V 1.3B Diffusers export config', () => {
    expect(WAN21_SCHEDULER_CONFIG).toEqual({
      sourceClass: 'UniPCMultistepScheduler',
      num_train_timesteps: 1000,
      flow_shift: 3,
      solver_order: 2,
      solver_type: 'bh2',
      lower_order_final: true,
      disable_corrector: [],
      final_sigmas_type: 'zero',
    });
    expect(Object.isFrozen(WAN21_SCHEDULER_CONFIG)).toBe(true);
    expect(WAN21_SCHEDULER_CONFIG).not.toHaveProperty('beta_schedule');
  });

  it("fills in diffusers' UniPC defaults for a minimal flow config", () => {
    expect(parseFlowSchedulerConfig({ prediction_type: 'flow_prediction', use_flow_sigmas: true })).toEqual({
      ...WAN21_SCHEDULER_CONFIG,
      flow_shift: 1,
    });
  });

  it('takes the shift of a FlowMatchEulerDiscreteScheduler config from "shift"', () => {
    const c = parseFlowSchedulerConfig({
      _class_name: 'FlowMatchEulerDiscreteScheduler',
      num_train_timesteps: 1000,
      shift: 7.0,
      use_dynamic_shifting: false,
      base_shift: 0.5,
      max_shift: 1.15,
    });
    expect(c).toMatchObject({ sourceClass: 'FlowMatchEulerDiscreteScheduler', flow_shift: 7, solver_order: 2 });
    // without a class name, a config with only `shift` is a FlowMatchEuler one
    expect(parseFlowSchedulerConfig({ shift: 5, num_train_timesteps: 1000 }).flow_shift).toBe(5);
    // UniPC ignores `shift`, FlowMatchEuler ignores `flow_shift`, as their constructors do
    expect(parseFlowSchedulerConfig({ ...WAN21_SCHEDULER_JSON, shift: 9 }).flow_shift).toBe(3);
  });

  it('maps the DPM-Solver solver_type names to bh2, as diffusers does', () => {
    expect(parseFlowSchedulerConfig({ ...WAN21_SCHEDULER_JSON, solver_type: 'midpoint' }).solver_type).toBe('bh2');
  });

  it('names the bad key and says what to do', () => {
    const attempt = () => parseFlowSchedulerConfig({ ...WAN21_SCHEDULER_JSON, prediction_type: 'epsilon' });
    expect(attempt).toThrow(SchedulerConfigError);
    expect(attempt).toThrow(/must be "flow_prediction"[^]*at prediction_type/);
    expect(attempt).toThrow(/fix or replace the model's scheduler folder/);
  });

  it.each([
    [{ use_flow_sigmas: false }, /use_flow_sigmas/],
    [{ use_karras_sigmas: true }, /use_karras_sigmas is not supported/],
    [{ use_dynamic_shifting: true }, /use_dynamic_shifting is not supported/],
    [{ thresholding: true }, /thresholding is not supported/],
    [{ predict_x0: false }, /predict_x0 must be true/],
    [{ solver_order: 4 }, /solver_order must be 1, 2 or 3/],
    [{ solver_type: 'bh3' }, /at solver_type/],
    [{ solver_type: 'bh1' }, /"bh1" with final_sigmas_type "zero" ends in NaN[^]*at solver_type/],
    [{ lower_order_final: false }, /non-finite[^]*at lower_order_final/],
    [{ flow_shift: 0 }, /at flow_shift/],
    [{ num_train_timesteps: 0 }, /at num_train_timesteps/],
    [{ _class_name: 'EulerDiscreteScheduler' }, /not a flow-matching scheduler/],
    [{ solver_p: {} }, /solver_p/],
    [{ disable_corrector: [0.5] }, /at disable_corrector/],
  ])('rejects %j', (change, message) => {
    expect(() => parseFlowSchedulerConfig({ ...WAN21_SCHEDULER_JSON, ...change })).toThrow(message);
  });

  it('rejects FlowMatchEuler options it does not reproduce', () => {
    const base = { _class_name: 'FlowMatchEulerDiscreteScheduler', shift: 3 };
    expect(() => parseFlowSchedulerConfig({ ...base, stochastic_sampling: true })).toThrow(/stochastic_sampling/);
    expect(() => parseFlowSchedulerConfig({ ...base, invert_sigmas: true })).toThrow(/invert_sigmas/);
    expect(() => parseFlowSchedulerConfig({ ...base, shift_terminal: 0.1 })).toThrow(/shift_terminal/);
  });

  it('allows the combinations that stay finite', () => {
    const bh1 = parseFlowSchedulerConfig({
      ...WAN21_SCHEDULER_JSON,
      solver_type: 'bh1',
      final_sigmas_type: 'sigma_min',
    });
    expect(bh1.solver_type).toBe('bh1');
    const firstOrder = parseFlowSchedulerConfig({ ...WAN21_SCHEDULER_JSON, lower_order_final: false, solver_order: 1 });
    expect(firstOrder.lower_order_final).toBe(false);
  });
});

describe('withFlowShift', () => {
  it('changes only the shift', () => {
    expect(withFlowShift(WAN21_SCHEDULER_CONFIG, 5)).toEqual({ ...WAN21_SCHEDULER_CONFIG, flow_shift: 5 });
    expect(WAN21_SCHEDULER_CONFIG.flow_shift).toBe(3);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses %s', (shift) => {
    expect(() => withFlowShift(WAN21_SCHEDULER_CONFIG, shift)).toThrow(RangeError);
  });
});

describe('flow sampler names', () => {
  it('labels every sampler for menus, UniPC first', () => {
    expect(FLOW_SAMPLER_NAMES).toEqual(['unipc', 'flow_euler']);
    expect(FLOW_SAMPLER_NAMES.map((s) => FLOW_SAMPLERS[s].label)).toEqual(['UniPC', 'Flow Euler']);
    expect(Object.keys(FLOW_SAMPLERS).sort()).toEqual([...FLOW_SAMPLER_NAMES].sort());
  });
});
