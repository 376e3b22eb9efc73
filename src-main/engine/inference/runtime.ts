/**
 * The onnxruntime-node runtime every pipeline uses inside an inference worker.
 *
 * - Sessions are created with execution providers tried one at a time in order (default CUDA →
 *   DirectML → WebGPU → CPU, as far as the platform has them). The result names the provider
 *   used and a note saying why each earlier one was skipped, so a fall-back is never silent.
 * - Sessions are cached by model file path and released explicitly (`session.release()` frees
 *   the native memory, GPU memory included; dropping the JS object does not do that promptly).
 * - Models are always loaded by path, so ONNX external data (`model.onnx_data` beside
 *   `model.onnx`, the layout Optimum writes for models over 2 GB) is found by onnxruntime itself;
 *   loading from a buffer would lose the folder it resolves `location` against.
 * - `session.run` blocks its thread for the whole inference, which is why this module is only
 *   ever imported inside a worker process, never in main.
 */
import { resolve as resolvePath } from 'node:path';
import ort from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';

import { float16Safe } from './tensors.ts';

export * from './tensors.ts';

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
}

export function currentPlatform(): PlatformInfo {
  return {
    platform: process.platform,
    arch: process.arch,
    supportedBackends: ort.listSupportedBackends().map((b) => b.name),
  };
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
  readonly platform?: PlatformInfo;
  /** Session options other than `executionProviders`. */
  readonly sessionOptions?: Omit<SessionOptions, 'executionProviders'>;
  /** Extra options per provider, e.g. `{ cuda: { deviceId: 1 } }`. */
  readonly providerOptions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface OpenedSession<S> {
  readonly session: S;
  readonly provider: string;
  readonly note: string | null;
  readonly attempts: readonly ProviderAttempt[];
}

/**
 * Opens `modelPath` with the first provider that initialises. Each provider is tried alone
 * (onnxruntime still places nodes a GPU provider lacks on the CPU inside that session), so a
 * provider that fails to initialise is reported instead of being dropped silently.
 */
export async function openSession<S>(modelPath: string, options: OpenOptions<S>): Promise<OpenedSession<S>> {
  const platform = options.platform ?? currentPlatform();
  const order = (options.providers ?? defaultProviderOrder(platform)).map(normaliseProvider);
  const attempts: ProviderAttempt[] = [];
  for (const provider of [...new Set(order)]) {
    const skip = platformSkipReason(provider, platform);
    if (skip !== null) {
      attempts.push({ provider, outcome: 'skipped', detail: skip });
      continue;
    }
    const extra = options.providerOptions?.[provider];
    const ep = extra ? { ...extra, name: provider } : provider;
    try {
      const session = await options.factory(modelPath, { ...options.sessionOptions, executionProviders: [ep] });
      attempts.push({ provider, outcome: 'used', detail: null });
      return { session, provider, note: describeFallback(attempts), attempts };
    } catch (error) {
      attempts.push({ provider, outcome: 'failed', detail: oneLine(error instanceof Error ? error.message : String(error)) });
    }
  }
  throw new SessionLoadError(modelPath, attempts);
}

// ---------------------------------------------------------------------------------------------
// Metadata

export interface ValueInfo {
  readonly name: string;
  readonly isTensor: boolean;
  /** 'float32', 'float16', 'int64'…; null for non-tensor values. */
  readonly type: string | null;
  /** Dimensions; symbolic ones by name ('batch', 'height'…); null for non-tensor values. */
  readonly shape: readonly (number | string)[] | null;
}

function toInfo(metadata: readonly InferenceSession.ValueMetadata[]): ValueInfo[] {
  return metadata.map((m) =>
    m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false, type: null, shape: null },
  );
}

type WithMetadata = Pick<InferenceSession, 'inputMetadata' | 'outputMetadata'>;

export function inputInfo(session: WithMetadata): ValueInfo[] {
  return toInfo(session.inputMetadata);
}

export function outputInfo(session: WithMetadata): ValueInfo[] {
  return toInfo(session.outputMetadata);
}

/** The dtype of a named input (for choosing float16 vs float32 feeds); throws naming the inputs if absent. */
export function inputType(session: WithMetadata, name: string): string {
  const info = inputInfo(session).find((i) => i.name === name);
  if (!info) throw new Error(`model has no input "${name}" (inputs: ${inputInfo(session).map((i) => i.name).join(', ')})`);
  return info.type ?? 'non-tensor';
}

/** "sample: float16[batch, 4, height, width]" per value, for validation messages. */
export function describeValues(values: readonly ValueInfo[]): string {
  return values.map((v) => (v.isTensor ? `${v.name}: ${v.type}[${(v.shape ?? []).join(', ')}]` : `${v.name}: (non-tensor)`)).join(', ');
}

// ---------------------------------------------------------------------------------------------
// Timing

/** Accumulates time spent inside `session.run`, so pipelines can report overhead = wall − run. */
export class RunTimer {
  #ms = 0;
  #calls = 0;

  get ms(): number {
    return this.#ms;
  }

  get calls(): number {
    return this.#calls;
  }

  reset(): void {
    this.#ms = 0;
    this.#calls = 0;
  }

  async time<T>(fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.#ms += performance.now() - start;
      this.#calls += 1;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The session cache

export interface LoadedSession {
  readonly path: string;
  readonly session: InferenceSession;
  readonly provider: string;
  readonly note: string | null;
  readonly attempts: readonly ProviderAttempt[];
  readonly loadMs: number;
}

export interface RuntimeOptions {
  /** Default for `session()` calls that name no providers. */
  readonly providers?: readonly string[];
  readonly sessionOptions?: Omit<SessionOptions, 'executionProviders'>;
  readonly providerOptions?: OpenOptions<InferenceSession>['providerOptions'];
  readonly factory?: SessionFactory<InferenceSession>;
  readonly platform?: PlatformInfo;
}

const defaultFactory: SessionFactory<InferenceSession> = (path, options) => ort.InferenceSession.create(path, options);

export class OrtRuntime {
  readonly timer = new RunTimer();
  readonly #options: RuntimeOptions;
  readonly #sessions = new Map<string, Promise<LoadedSession>>();

  constructor(options: RuntimeOptions = {}) {
    this.#options = options;
  }

  /**
   * The session for a model file, loading it on first use. Cached by absolute path: a second
   * call (even while the first is loading) returns the same session, whatever providers it names.
   */
  session(modelPath: string, options: { providers?: readonly string[] } = {}): Promise<LoadedSession> {
    const path = resolvePath(modelPath);
    const cached = this.#sessions.get(path);
    if (cached) return cached;
    const loading = (async (): Promise<LoadedSession> => {
      const start = performance.now();
      const opened = await openSession(path, {
        factory: this.#options.factory ?? defaultFactory,
        providers: options.providers ?? this.#options.providers,
        platform: this.#options.platform,
        sessionOptions: this.#options.sessionOptions,
        providerOptions: this.#options.providerOptions,
      });
      return { path, ...opened, loadMs: performance.now() - start };
    })();
    this.#sessions.set(path, loading);
    loading.catch(() => {
      if (this.#sessions.get(path) === loading) this.#sessions.delete(path);
    });
    return loading;
  }

  /** Paths of the sessions loaded or loading. */
  loaded(): string[] {
    return [...this.#sessions.keys()];
  }

  /** Releases one model's session; false if it was not loaded. */
  async release(modelPath: string): Promise<boolean> {
    const path = resolvePath(modelPath);
    const entry = this.#sessions.get(path);
    if (!entry) return false;
    this.#sessions.delete(path);
    const loaded = await entry.catch(() => null);
    if (loaded) await loaded.session.release();
    return loaded !== null;
  }

  /** Releases every session. */
  async releaseAll(): Promise<void> {
    await Promise.all(this.loaded().map((path) => this.release(path)));
  }

  /**
   * `session.run`, with its time added to `timer`. Float16 feeds are made safe for the binding
   * first (see `float16Safe`), including float16 outputs of one model fed into the next.
   */
  run(
    session: InferenceSession,
    feeds: Record<string, Tensor>,
    options?: InferenceSession.RunOptions,
  ): Promise<InferenceSession.ReturnType> {
    for (const tensor of Object.values(feeds)) float16Safe(tensor);
    return this.timer.time(() => (options ? session.run(feeds, options) : session.run(feeds)));
  }
}

let shared: OrtRuntime | null = null;

/** The one runtime of this worker process, shared by every pipeline so `unload` reaches all sessions. */
export function workerRuntime(): OrtRuntime {
  shared ??= new OrtRuntime();
  return shared;
}

/** Backend names the onnxruntime-node binary supports here (for the worker's `ready` message). */
export function providersAvailable(): string[] {
  return ort.listSupportedBackends().map((b) => b.name);
}
