/**
 * Samplers for flow-matching models (WAN 2.1), matching diffusers' schedulers for the same
 * scheduler_config.json, and their menu labels.
 */

import type { FlowSchedulerConfig } from './config.ts';
import { FlowMatchEulerDiscreteScheduler } from './flow-euler.ts';
import type { FlowSamplerName, FlowScheduler } from './types.ts';
import { UniPCMultistepScheduler } from './unipc.ts';

export {
  parseFlowSchedulerConfig,
  SchedulerConfigError,
  WAN21_SCHEDULER_CONFIG,
  WAN21_SCHEDULER_JSON,
  withFlowShift,
} from './config.ts';
export type { FlowSchedulerClass, FlowSchedulerConfig } from './config.ts';
export type { FlowSamplerName, FlowScheduler } from './types.ts';

export interface FlowSamplerInfo {
  /** One-line label for menus. */
  readonly label: 'UniPC' | 'Flow Euler';
  /** The diffusers class this reproduces. */
  readonly diffusersClass: 'UniPCMultistepScheduler' | 'FlowMatchEulerDiscreteScheduler';
}

export const FLOW_SAMPLERS: Readonly<Record<FlowSamplerName, FlowSamplerInfo>> = {
  unipc: { label: 'UniPC', diffusersClass: 'UniPCMultistepScheduler' },
  flow_euler: { label: 'Flow Euler', diffusersClass: 'FlowMatchEulerDiscreteScheduler' },
};

/** In menu order; the first is WanPipeline's (and the WAN 2.1 exports') default. */
export const FLOW_SAMPLER_NAMES: readonly FlowSamplerName[] = ['unipc', 'flow_euler'];

/**
 * A scheduler for `sampler` over the flow schedule in `config`, as diffusers builds them for
 * WanPipeline:
 * - `unipc`: `UniPCMultistepScheduler` with the config's solver settings, flow_prediction and
 *   flow sigmas shifted by `flow_shift` (from a FlowMatchEuler config: its `shift`, UniPC defaults);
 * - `flow_euler`: `FlowMatchEulerDiscreteScheduler.from_config(config, shift=config.flow_shift)`.
 * Call `setTimesteps(steps)` before use.
 */
export function createFlowScheduler(sampler: FlowSamplerName, config: FlowSchedulerConfig): FlowScheduler {
  switch (sampler) {
    case 'unipc':
      return new UniPCMultistepScheduler(config);
    case 'flow_euler':
      return new FlowMatchEulerDiscreteScheduler(config);
  }
}
