import { describe, expect, it } from 'vitest';
import { parsePythonJson } from '../../../src-main/engine/fs/python-json.ts';
import { parseSchedulerConfig } from '../../../src-main/engine/numerics/schedulers/index.ts';

describe('configs written by Python', () => {
  it('reads the bare Infinity / NaN tokens json.dumps writes as null, and leaves strings alone', () => {
    const text = '{"lambda_min_clipped": -Infinity, "a": Infinity, "b": NaN, "s": "NaN -Infinity \\" Infinity", "c": [1, -Infinity]}';
    expect(parsePythonJson(text)).toEqual({ lambda_min_clipped: null, a: null, b: null, s: 'NaN -Infinity " Infinity', c: [1, null] });
    expect(() => parsePythonJson('{"x": Infinityy}')).toThrow();
  });

  it("a DPMSolverMultistepScheduler config from diffusers (lambda_min_clipped -Infinity) means no clipping", () => {
    const config = parsePythonJson(
      '{"_class_name": "DPMSolverMultistepScheduler", "algorithm_type": "dpmsolver++", "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085, "lambda_min_clipped": -Infinity, "num_train_timesteps": 1000, "prediction_type": "epsilon", "solver_order": 2, "steps_offset": 1, "timestep_spacing": "leading"}',
    ) as Record<string, unknown>;
    const parsed = parseSchedulerConfig(config);
    expect(parsed.config.lambda_min_clipped).toBeNull();
    expect(parsed.notes).toEqual([]);
  });
});
