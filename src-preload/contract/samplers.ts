/**
 * Other tools' sampler names as this studio's samplers, so a recipe from A1111, Forge, ComfyUI,
 * SwarmUI, InvokeAI, Fooocus, NovelAI or diffusers keeps its sampler and schedule. Pure: the
 * renderer maps dropped files and library assets with it; the engine may too.
 *
 * The names arrive as the library keeps them: a tool's sampler with its schedule joined on
 * (`DPM++ 2M Karras`, `dpmpp_2m karras`, `euler normal`), or one word that carries both
 * (InvokeAI's `dpmpp_2m_k`, NovelAI's `k_euler`).
 */
import type { ModelFamily, SamplerName } from './catalog.ts';

export interface SamplerMatch {
  readonly sampler: SamplerName;
  /** False when the tool's sampler or schedule is not here and this is the nearest one. */
  readonly exact: boolean;
  /** What differs, when not exact ("ancestral noise", "the exponential schedule"). */
  readonly differs: string | null;
}

/** Schedules that space the steps as the model's own schedule does, as this studio's plain samplers do. */
const PLAIN_SCHEDULES = new Set(['', 'normal', 'simple', 'sgm_uniform', 'uniform', 'automatic', 'native', 'default', 'discrete']);
const KARRAS_SCHEDULES = new Set(['karras', 'k']);

/** diffusers' scheduler classes, as Hugging Face Spaces and some JSON records name them. */
const DIFFUSERS_CLASSES: Readonly<Record<string, SamplerName>> = {
  eulerdiscretescheduler: 'euler',
  dpmsolvermultistepscheduler: 'dpmpp_2m',
  unipcmultistepscheduler: 'unipc',
  flowmatcheulerdiscretescheduler: 'flow_euler',
};

/** `DPM++ 2M Karras` → `dpmpp_2m_karras`; `k_euler_ancestral` → `euler_ancestral`. */
function canonical(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/\+\+/g, 'pp')
    .replace(/[\s\-.]+/g, '_')
    .replace(/^k_/, '')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '');
}

/** The schedule a joined name ends with, and the sampler before it. */
function splitSchedule(name: string): { base: string; schedule: string } {
  const schedules = ['sgm_uniform', 'ddim_uniform', 'align_your_steps', 'linear_quadratic', 'kl_optimal', 'polyexponential', 'exponential', 'karras', 'normal', 'simple', 'uniform', 'automatic', 'beta', 'native'];
  for (const s of schedules) {
    if (name === s) return { base: '', schedule: s };
    if (name.endsWith(`_${s}`)) return { base: name.slice(0, -s.length - 1), schedule: s };
  }
  // InvokeAI's `_k` suffix: Karras sigmas.
  if (name.endsWith('_k')) return { base: name.slice(0, -2), schedule: 'karras' };
  return { base: name, schedule: '' };
}

type Base = 'euler' | 'dpmpp_2m' | 'unipc' | 'flow_euler';

/** The algorithm family of a tool's sampler, and what about it is not here. */
function baseOf(base: string): { base: Base; differs: string | null } | null {
  switch (base) {
    case 'euler':
    case 'euler_discrete':
      return { base: 'euler', differs: null };
    case 'euler_a':
    case 'euler_ancestral':
    case 'euler_ancestral_cfg_pp':
    case 'euler_cfg_pp':
      return { base: 'euler', differs: base.includes('cfg_pp') ? 'CFG++' : 'ancestral noise' };
    case 'dpmpp_2m':
    case 'dpm_pp_2m':
    case 'dpmpp2m':
    case 'dpm_solver_multistep':
      return { base: 'dpmpp_2m', differs: null };
    case 'dpmpp_2m_sde':
    case 'dpmpp_2m_sde_gpu':
    case 'dpmpp_2m_sde_heun':
    case 'dpmpp_2m_sde_heun_gpu':
      return { base: 'dpmpp_2m', differs: 'SDE noise' };
    case 'unipc':
    case 'uni_pc':
    case 'uni_pc_bh2':
      return { base: 'unipc', differs: null };
    case 'flow_euler':
    case 'flow_match_euler':
    case 'flowmatch_euler':
      return { base: 'flow_euler', differs: null };
    default:
      return null;
  }
}

/**
 * The studio sampler for a tool's sampler name within a family, or null when there is no sensible
 * one (LMS, Heun, DDIM, LCM…: a different algorithm whose pictures would not be reproduced).
 */
export function studioSampler(name: string, family: ModelFamily): SamplerMatch | null {
  const c = canonical(name);
  if (c === '') return null;
  const direct = DIFFUSERS_CLASSES[c.replace(/_/g, '')];
  const { base: rawBase, schedule } = direct ? { base: direct as string, schedule: '' } : splitSchedule(c);
  // This studio's own names come back unchanged (`euler_karras` splits into euler + karras too).
  const found = baseOf(rawBase);
  if (!found) return null;
  const karras = KARRAS_SCHEDULES.has(schedule);
  const plain = PLAIN_SCHEDULES.has(schedule);
  const scheduleDiffers = karras || plain ? null : `the ${schedule.replace(/_/g, ' ')} schedule`;
  const differs = [found.differs, scheduleDiffers].filter((d): d is string => d !== null).join(' and ') || null;

  if (family === 'wan') {
    // WAN is a flow-matching model: an Euler there is the flow-matching Euler (ComfyUI's `euler`
    // with the `simple` schedule); sigma schedules such as Karras do not apply.
    if (found.base === 'unipc') return { sampler: 'unipc', exact: differs === null && !karras, differs: karras ? 'Karras sigmas' : differs };
    if (found.base === 'euler' || found.base === 'flow_euler') {
      return { sampler: 'flow_euler', exact: differs === null && !karras, differs: karras ? 'Karras sigmas' : differs };
    }
    return null;
  }
  if (found.base === 'unipc' || found.base === 'flow_euler') return null;
  const sampler: SamplerName = found.base === 'euler' ? (karras ? 'euler_karras' : 'euler') : karras ? 'dpmpp_2m_karras' : 'dpmpp_2m';
  return { sampler, exact: differs === null, differs };
}

/** Which family a tool's sampler name belongs to, when only one has it (UniPC and flow Euler: WAN). */
export function samplerFamilyHint(name: string): ModelFamily | null {
  const found = baseOf(splitSchedule(canonical(name)).base);
  if (!found) return null;
  return found.base === 'flow_euler' || found.base === 'unipc' ? 'wan' : null;
}
