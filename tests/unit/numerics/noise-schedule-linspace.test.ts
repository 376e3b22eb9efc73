import { describe, expect, it } from 'vitest';
import { npLinspace } from '../../../src-main/engine/numerics/schedulers/noise-schedule.ts';
import { createScheduler, parseSchedulerConfig, SDXL_SCHEDULER_CONFIG } from '../../../src-main/engine/numerics/schedulers/index.ts';

describe('npLinspace', () => {
  it('returns [start] for one sample, as numpy does', () => {
    expect([...npLinspace(999, 0, 1)]).toEqual([999]);
    expect([...npLinspace(0, 1, 3)]).toEqual([0, 0.5, 1]);
  });

  it('gives SDXL Euler with linspace spacing a finite 1-step schedule', () => {
    const config = parseSchedulerConfig({ ...SDXL_SCHEDULER_CONFIG, timestep_spacing: 'linspace' }).config;
    const s = createScheduler('euler', config);
    s.setTimesteps(1);
    expect(s.timesteps).toHaveLength(1);
    expect(Number.isFinite(s.timesteps[0]!)).toBe(true);
    expect([...s.sigmas].every(Number.isFinite)).toBe(true);
  });
});
