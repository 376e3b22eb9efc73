/**
 * Execution-provider choice, with no onnxruntime import: which providers a platform can have, the
 * order to try them in, and the note that tells the user why a faster one was not used. Main may
 * import this (for settings and the GPU panel); runtime.ts, which loads onnxruntime, may not be.
 */
import type { InferenceSession } from 'onnxruntime-node';

/** Providers this app knows by name. Other names the binding lists (coreml…) pass through. */
export const KNOWN_PROVIDERS = ['cuda', 'dml', 'webgpu', 'cpu'] as const;
export type KnownProvider = (typeof KNOWN_PROVIDERS)[number];

const DISPLAY: Readonly<Record<string, string>> = { cuda: 'CUDA', dml: 'DirectML', webgpu: 'WebGPU', cpu: 'CPU' };

export function providerLabel(name: string): string {
  return DISPLAY[name] ?? name;
}

export interface PlatformInfo {
  readonly platform: NodeJS.Platform;
  readonly arch: string;
  /** Backends compiled into the onnxruntime-node binary (`listSupportedBackends()`). */
  readonly supportedBackends: readonly string[];
  /** Providers whose shared library is absent although the binary knows them (CUDA without its download). */
  readonly missingLibraries?: Readonly<Record<string, string>>;
}

/** Settings spell DirectML either way; onnxruntime-node calls it `dml`. */
export function normaliseProvider(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower === 'directml' ? 'dml' : lower;
}

/** The default order for a platform: the GPU providers it can have, then CPU. */
export function defaultProviderOrder(platform: Pick<PlatformInfo, 'platform' | 'arch'>): string[] {
  const order: string[] = [];
  if ((platform.platform === 'linux' || platform.platform === 'win32') && platform.arch === 'x64') order.push('cuda');
  if (platform.platform === 'win32') order.push('dml');
  order.push('webgpu', 'cpu');
  return order;
}

/** Why a provider cannot be tried at all on this platform, or null if it can. */
export function platformSkipReason(name: string, platform: PlatformInfo): string | null {
  const where = `${platform.platform} ${platform.arch}`;
  if (name === 'cuda' && !((platform.platform === 'linux' || platform.platform === 'win32') && platform.arch === 'x64')) {
    return `not on this platform (CUDA is for Linux and Windows x64; this is ${where})`;
  }
  if (name === 'dml' && platform.platform !== 'win32') return `not on this platform (DirectML is Windows-only; this is ${where})`;
  if (name === 'cpu') return null;
  const missing = platform.missingLibraries?.[name];
  if (missing) return missing;
  if (!platform.supportedBackends.includes(name)) {
    return (KNOWN_PROVIDERS as readonly string[]).includes(name)
      ? `not on this platform (this onnxruntime-node build for ${where} does not include it)`
      : `unknown execution provider (known here: ${[...new Set([...KNOWN_PROVIDERS, ...platform.supportedBackends])].join(', ')})`;
  }
  return null;
}

export interface ProviderAttempt {
  readonly provider: string;
  readonly outcome: 'used' | 'skipped' | 'failed';
  /** Why it was skipped or what failed; null when used. */
  readonly detail: string | null;
}

function oneLine(message: string): string {
  const flat = message.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}…` : flat;
}

/** "Using CPU: CUDA failed to initialise (…); WebGPU not on this platform (…)." — null if the first choice was used. */
export function describeFallback(attempts: readonly ProviderAttempt[]): string | null {
  const used = attempts.find((a) => a.outcome === 'used');
  const earlier = attempts.filter((a) => a.outcome !== 'used');
  if (!used || earlier.length === 0) return null;
  const reasons = earlier.map((a) =>
    a.outcome === 'skipped'
      ? `${providerLabel(a.provider)} ${a.detail ?? 'skipped'}`
      : `${providerLabel(a.provider)} failed to initialise (${a.detail ?? 'no message'})`,
  );
  return `Using ${providerLabel(used.provider)}: ${reasons.join('; ')}.`;
}

/** Thrown when no provider could open a model. Its message lists every attempt. */
export class SessionLoadError extends Error {
  readonly modelPath: string;
  readonly attempts: readonly ProviderAttempt[];
  constructor(modelPath: string, attempts: readonly ProviderAttempt[]) {
    const tried = attempts.map((a) => `${providerLabel(a.provider)}: ${a.outcome === 'skipped' ? '' : 'failed, '}${a.detail ?? ''}`);
    super(
      attempts.length === 0
        ? `Could not load ${modelPath}: no execution provider was requested. Add "cpu" to the provider list in settings.`
        : `Could not load ${modelPath} with any execution provider (${tried.join('; ')}). Check that the model file is complete and the GPU driver works.`,
    );
    this.name = 'SessionLoadError';
    this.modelPath = modelPath;
    this.attempts = attempts;
  }
}

export type SessionOptions = InferenceSession.SessionOptions;
/** Creates a session for one provider; injectable so the fallback logic is testable without a GPU. */
export type SessionFactory<S> = (modelPath: string, options: SessionOptions) => Promise<S>;

export interface OpenOptions<S> {
  /** Providers in the order to try; default `defaultProviderOrder(platform)`. */
  readonly providers?: readonly string[];
  readonly factory: SessionFactory<S>;
  /** Where this runs (runtime.ts passes `currentPlatform()`). */
  readonly platform: PlatformInfo;
  /** Session options other than `executionProviders`. */
  readonly sessionOptions?: Omit<SessionOptions, 'executionProviders'>;
  /**
   * Providers that already failed to initialise in this process, with why: not tried again (each
   * try costs seconds and prints onnxruntime's own error), reported with the first reason.
   */
  readonly knownFailures?: Map<string, string>;
  /** Extra options per provider, e.g. `{ cuda: { deviceId: 1 } }`. */
  readonly providerOptions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface OpenedSession<S> {
  readonly session: S;
  readonly provider: string;
  readonly note: string | null;
  readonly attempts: readonly ProviderAttempt[];
}

/** Failures of the provider itself (library, driver, adapter), not of one model file. */
function isInitFailure(detail: string): boolean {
  return /shared library|No supported adapters|Failed to get a WebGPU adapter|CUDA driver|cudaGetDeviceCount|DirectML|D3D12/i.test(detail);
}

/**
 * Opens `modelPath` with the first provider that initialises. Each provider is tried alone
 * (onnxruntime still places nodes a GPU provider lacks on the CPU inside that session), so a
 * provider that fails to initialise is reported instead of being dropped silently.
 */
export async function openSession<S>(modelPath: string, options: OpenOptions<S>): Promise<OpenedSession<S>> {
  const platform = options.platform;
  const order = (options.providers ?? defaultProviderOrder(platform)).map(normaliseProvider);
  const attempts: ProviderAttempt[] = [];
  for (const provider of [...new Set(order)]) {
    const skip = platformSkipReason(provider, platform);
    if (skip !== null) {
      attempts.push({ provider, outcome: 'skipped', detail: skip });
      continue;
    }
    const earlier = options.knownFailures?.get(provider);
    if (earlier !== undefined) {
      attempts.push({ provider, outcome: 'failed', detail: earlier });
      continue;
    }
    const extra = options.providerOptions?.[provider];
    const ep = extra ? { ...extra, name: provider } : provider;
    // A GPU provider that cannot start makes onnxruntime print its own error before throwing; we
    // report the reason ourselves, so its log is kept to fatal errors while trying.
    const quiet = provider === 'cpu' ? {} : { logSeverityLevel: 4 as const };
    try {
      const session = await options.factory(modelPath, { ...options.sessionOptions, ...quiet, executionProviders: [ep] });
      attempts.push({ provider, outcome: 'used', detail: null });
      return { session, provider, note: describeFallback(attempts), attempts };
    } catch (error) {
      const detail = oneLine(error instanceof Error ? error.message : String(error));
      attempts.push({ provider, outcome: 'failed', detail });
      if (isInitFailure(detail)) options.knownFailures?.set(provider, detail);
    }
  }
  throw new SessionLoadError(modelPath, attempts);
}
