/**
 * Samplers for SDXL, matching diffusers' schedulers for the same scheduler_config.json, and the
 * names Automatic1111's WebUI shows for them (sampler + "Schedule type", WebUI >= 1.9).
 */

import type { SchedulerConfig } from './config.ts';
import { DpmSolverMultistepScheduler } from './dpm-solver.ts';
import { EulerDiscreteScheduler } from './euler.ts';
import type { SamplerName, Scheduler } from './types.ts';

export { parseSchedulerConfig, SchedulerConfigError, schedulerNotesFor, SDXL_SCHEDULER_CONFIG } from './config.ts';
export type { ParsedSchedulerConfig, SchedulerConfig, SchedulerConfigNote } from './config.ts';
export type { SamplerName, Scheduler } from './types.ts';

export interface SamplerInfo {
  /** A1111 "Sampler" field. */
  readonly a1111Sampler: 'Euler' | 'DPM++ 2M';
  /**
   * A1111 "Schedule type" field, always named: A1111 1.9+ reads `Automatic` as the sampler's own
   * default, which for DPM++ 2M is Karras. `Uniform` is k-diffusion's plain discretisation, what
   * A1111 ran for a plain `Euler` or `DPM++ 2M` before schedule types existed.
   */
  readonly a1111ScheduleType: 'Uniform' | 'Karras';
  /** One-line label for menus, e.g. "DPM++ 2M Karras". */
  readonly label: string;
  /** The diffusers class this reproduces. */
  readonly diffusersClass: 'EulerDiscreteScheduler' | 'DPMSolverMultistepScheduler';
}

export const SAMPLERS: Readonly<Record<SamplerName, SamplerInfo>> = {
  euler: { a1111Sampler: 'Euler', a1111ScheduleType: 'Uniform', label: 'Euler', diffusersClass: 'EulerDiscreteScheduler' },
  euler_karras: {
    a1111Sampler: 'Euler',
    a1111ScheduleType: 'Karras',
    label: 'Euler Karras',
    diffusersClass: 'EulerDiscreteScheduler',
  },
  dpmpp_2m: {
    a1111Sampler: 'DPM++ 2M',
    a1111ScheduleType: 'Uniform',
    label: 'DPM++ 2M',
    diffusersClass: 'DPMSolverMultistepScheduler',
  },
  dpmpp_2m_karras: {
    a1111Sampler: 'DPM++ 2M',
    a1111ScheduleType: 'Karras',
    label: 'DPM++ 2M Karras',
    diffusersClass: 'DPMSolverMultistepScheduler',
  },
};

export const SAMPLER_NAMES: readonly SamplerName[] = ['euler', 'euler_karras', 'dpmpp_2m', 'dpmpp_2m_karras'];

/**
 * The sampler for A1111 infotext fields: `Sampler: DPM++ 2M, Schedule type: Karras`, or the
 * pre-1.9 single field `Sampler: DPM++ 2M Karras`. An explicit `Automatic` is read as A1111 1.9+
 * resolves it (the sampler's default: Karras for DPM++ 2M, Uniform for Euler); no schedule type at
 * all is a pre-1.9 text, where a plain name meant Uniform. Undefined for samplers this studio lacks.
 */
export function samplerFromA1111(sampler: string, scheduleType?: string): SamplerName | undefined {
  let name = sampler.trim();
  let schedule = (scheduleType ?? 'Uniform').trim();
  if (/ Karras$/i.test(name)) {
    name = name.slice(0, -' Karras'.length);
    schedule = 'Karras';
  }
  const dpm = /^dpm\+\+ 2m$/i.test(name);
  if (!dpm && !/^euler$/i.test(name)) return undefined;
  if (/^automatic$/i.test(schedule)) schedule = dpm ? 'Karras' : 'Uniform';
  const karras = /^karras$/i.test(schedule);
  if (!karras && !/^uniform$/i.test(schedule)) return undefined;
  if (dpm) return karras ? 'dpmpp_2m_karras' : 'dpmpp_2m';
  return karras ? 'euler_karras' : 'euler';
}

/**
 * A scheduler for `sampler` over the noise schedule in `config`. The sampler decides the
 * algorithm and whether sigmas are Karras-spaced (the config's use_karras_sigmas is ignored),
 * as `DPMSolverMultistepScheduler.from_config(config, use_karras_sigmas=…)` does in diffusers.
 * Call `setTimesteps(steps)` before use.
 */
export function createScheduler(sampler: SamplerName, config: SchedulerConfig): Scheduler {
  switch (sampler) {
    case 'euler':
      return new EulerDiscreteScheduler(config, false);
    case 'euler_karras':
      return new EulerDiscreteScheduler(config, true);
    case 'dpmpp_2m':
      return new DpmSolverMultistepScheduler(config, false);
    case 'dpmpp_2m_karras':
      return new DpmSolverMultistepScheduler(config, true);
  }
}
