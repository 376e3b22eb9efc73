/**
 * `settings.check`: each setting tried for real, with what was found and what to do about it.
 * Model folders are listed and scanned, ffmpeg is run, nvidia-smi is asked, and the providers come
 * from an inference worker's onnxruntime build (main never loads onnxruntime itself).
 */
import { dirname, resolve } from 'node:path';
import { ffmpegInstallAdvice } from '../media/ffmpeg-locate.ts';
import type { FfmpegLocation } from '../media/ffmpeg-locate.ts';
import type { GpuSnapshot } from '../gpu/monitor.ts';
import { platformSkipReason, providerLabel } from '../inference/providers.ts';
import type { ModelInfo } from '../../../src-preload/contract/status.ts';
import { SETTINGS_CHECKS } from '../../../src-preload/contract/settings.ts';
import type { SettingsCheckItem, SettingsCheckName, SettingsState } from '../../../src-preload/contract/settings.ts';
import { folderProblem } from './store.ts';

export interface CheckPorts {
  readonly state: () => SettingsState;
  /** Rescans the model folders. */
  readonly models: () => readonly ModelInfo[];
  /** Looks for ffmpeg again with the current setting (the engine keeps the answer for video jobs). */
  readonly ffmpeg: () => Promise<FfmpegLocation>;
  /** Asks nvidia-smi again. */
  readonly gpu: () => Promise<GpuSnapshot>;
  /** Backends of the workers' onnxruntime build; null where this process runs no workers. */
  readonly providersAvailable: () => Promise<readonly string[] | null>;
  readonly platform?: { readonly platform: NodeJS.Platform; readonly arch: string };
}

export async function runChecks(ports: CheckPorts, only: readonly SettingsCheckName[] = SETTINGS_CHECKS): Promise<SettingsCheckItem[]> {
  const wanted = new Set(only);
  const state = ports.state();
  const [ffmpeg, gpu, providers] = await Promise.all([
    wanted.has('ffmpeg') ? ports.ffmpeg() : null,
    wanted.has('gpu') ? ports.gpu() : null,
    wanted.has('providers') ? ports.providersAvailable().catch(() => null) : undefined,
  ]);
  const items: SettingsCheckItem[] = [];
  if (wanted.has('modelDirs')) items.push(...modelDirItems(state, ports.models()));
  if (ffmpeg) items.push(ffmpegItem(ffmpeg, ports.platform?.platform ?? process.platform));
  if (gpu) items.push(gpuItem(gpu, state));
  if (providers !== undefined) items.push(providersItem(state, providers, ports.platform ?? { platform: process.platform, arch: process.arch }));
  return items;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function modelDirItems(state: SettingsState, models: readonly ModelInfo[]): SettingsCheckItem[] {
  const stored = state.values.modelDirs.map((d) => resolve(d));
  return state.effective.modelDirs.map((dir) => {
    const field = stored.includes(dir) ? `modelDirs.${stored.indexOf(dir)}` : null;
    const where = dir === state.builtInModelDir ? 'the data folder’s own models folder' : field === null ? 'given on the command line for this run' : null;
    const item = `Model folder ${dir}${where ? ` (${where})` : ''}`;
    const problem = folderProblem(dir);
    if (problem) {
      return {
        check: 'modelDirs',
        item,
        ok: false,
        detail: problem,
        fix: field === null ? 'Create the folder, or start without it.' : 'Connect the drive or create the folder, or remove it from the list.',
        field,
      };
    }
    const inside = models.filter((m) => m.path === dir || dirname(m.path) === dir);
    const ready = inside.filter((m) => m.status === 'ready');
    if (inside.length === 0) {
      return {
        check: 'modelDirs',
        item,
        ok: true,
        detail: 'Readable; no model folders in it yet.',
        fix: 'Put ONNX model folders here (SDXL in the Hugging Face Optimum layout; WAN 2.1 and Qwen 2.5 in theirs).',
        field,
      };
    }
    const names = inside.map((m) => `${m.id} (${m.status === 'ready' ? 'ready' : `not usable: ${m.problems[0] ?? 'invalid'}`})`).join(', ');
    return {
      check: 'modelDirs',
      item,
      ok: true,
      detail: `${plural(inside.length, 'model')}, ${ready.length} ready: ${names}.`,
      fix: ready.length < inside.length ? 'See the Models view for what is wrong with each model that is not usable.' : null,
      field,
    };
  });
}

export function ffmpegItem(found: FfmpegLocation, platform: NodeJS.Platform): SettingsCheckItem {
  if (found.ok) {
    return {
      check: 'ffmpeg',
      item: 'ffmpeg',
      ok: true,
      detail: `ffmpeg ${found.version} at ${found.ffmpeg} (${found.source === 'setting' ? 'from Settings' : 'from PATH'}), with libx264 and ffprobe.`,
      fix: null,
      field: 'ffmpegPath',
    };
  }
  return { check: 'ffmpeg', item: 'ffmpeg', ok: false, detail: found.message, fix: ffmpegInstallAdvice(platform), field: 'ffmpegPath' };
}

export function gpuItem(gpu: GpuSnapshot, state: SettingsState): SettingsCheckItem {
  const budget = `the scheduler keeps to ${gpu.budgetMb} MB`;
  if (gpu.source === 'nvidia-smi') {
    const used = gpu.memoryUsedMb === null ? '' : `, ${gpu.memoryUsedMb} MB in use`;
    return {
      check: 'gpu',
      item: 'nvidia-smi',
      ok: true,
      detail: `${gpu.name ?? 'NVIDIA GPU'}: ${gpu.memoryTotalMb} MB${used}; ${budget}${state.effective.vramBudgetMb === null ? ' (measured total less a reserve)' : ' (your budget)'}.${gpu.note ? ` ${gpu.note}` : ''}`,
      fix: null,
      field: 'vramBudgetMb',
    };
  }
  return {
    check: 'gpu',
    item: 'nvidia-smi',
    ok: false,
    detail: gpu.note ?? `GPU memory is not measured; ${budget}.`,
    fix:
      state.effective.vramBudgetMb === null
        ? 'Install the NVIDIA driver (it provides nvidia-smi), or set the VRAM budget to your GPU’s memory by hand.'
        : 'Install the NVIDIA driver (it provides nvidia-smi) to have GPU memory measured; your budget applies meanwhile.',
    field: 'vramBudgetMb',
  };
}

export function providersItem(
  state: SettingsState,
  available: readonly string[] | null,
  platform: { readonly platform: NodeJS.Platform; readonly arch: string },
): SettingsCheckItem {
  const order = state.effective.providers;
  const orderText = order.map(providerLabel).join(' → ');
  if (available === null) {
    return {
      check: 'providers',
      item: 'Execution providers',
      ok: null,
      detail: `Jobs try ${orderText}. Which of them this onnxruntime build has is known to the process that runs jobs (the app or \`studio serve\`).`,
      fix: null,
      field: 'providers',
    };
  }
  const info = { platform: platform.platform, arch: platform.arch, supportedBackends: available };
  const skipped = order.map((p) => ({ p, why: platformSkipReason(p, info) })).filter((s) => s.why !== null);
  const usable = order.filter((p) => !skipped.some((s) => s.p === p));
  const has = `Usable on this machine: ${available.map(providerLabel).join(', ') || 'no providers'}.`;
  if (usable.length === 0) {
    return {
      check: 'providers',
      item: 'Execution providers',
      ok: false,
      detail: `${has} None of ${orderText} can run here: ${skipped.map((s) => `${providerLabel(s.p)} ${s.why}`).join('; ')}.`,
      fix: 'Add CPU to the provider list (or choose Automatic), so jobs always have a provider that works.',
      field: 'providers',
    };
  }
  const skips = skipped.length ? ` Skipped: ${skipped.map((s) => `${providerLabel(s.p)} (${s.why})`).join('; ')}.` : '';
  return {
    check: 'providers',
    item: 'Execution providers',
    ok: true,
    detail: `${has} Jobs use ${providerLabel(usable[0]!)} first${usable.length > 1 ? `, then ${usable.slice(1).map(providerLabel).join(' → ')}` : ''}.${skips}`,
    fix: null,
    field: 'providers',
  };
}

/** The worker status the providers check reads (WorkerSupervisor fits). */
export interface WorkerPort {
  status(): readonly { readonly state: string; readonly providersAvailable: readonly string[] }[];
  warm(slot: string): void;
}

/**
 * What a worker's onnxruntime build supports, from its `ready` message; starts a worker in `slot`
 * when none has said so yet (it stays to serve the next job, and leaves when idle).
 */
export async function workerProviders(workers: WorkerPort, slot: string, timeoutMs = 60_000, pollMs = 100): Promise<readonly string[] | null> {
  const known = (): readonly string[] | null => workers.status().find((w) => w.providersAvailable.length > 0)?.providersAvailable ?? null;
  const first = known();
  if (first) return first;
  workers.warm(slot);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, pollMs));
    const got = known();
    if (got) return got;
    if (workers.status().some((w) => w.state === 'gave-up')) return null;
  }
  return null;
}
