/**
 * The onnxruntime-node runtime every pipeline uses inside an inference worker.
 *
 * - Sessions are created with execution providers tried one at a time in order (default CUDA →
 *   DirectML → WebGPU → CPU, as far as the platform has them). The result names the provider
 *   used and a note saying why each earlier one was skipped, so a fall-back is never silent.
 * - Sessions are cached by model file path and released explicitly (`session.release()` frees
 *   the native memory, GPU memory included; dropping the JS object does not do that promptly).
 * - Models are loaded by path, so ONNX external data (`model.onnx_data` beside `model.onnx`, the
 *   layout Optimum writes for models over 2 GB) is found by onnxruntime itself. Models the studio
 *   prepared from a checkpoint point into the user's file in another folder: those are loaded from
 *   their bytes with that folder named in the session config (`externalDataFolder`).
 * - `session.run` blocks its thread for the whole inference, which is why this module is only
 *   ever imported inside a worker process, never in main.
 */
import { dirname, join, resolve as resolvePath } from 'node:path';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import ort from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import {
  KNOWN_PROVIDERS,
  openSession,
  platformSkipReason,
  type OpenedSession,
  type OpenOptions,
  type PlatformInfo,
  type ProviderAttempt,
  type SessionFactory,
  type SessionOptions,
} from './providers.ts';
import { float16Safe } from './tensors.ts';

export * from './providers.ts';
export * from './tensors.ts';

/** This process's platform and the backends its onnxruntime-node binary was built with. */
export function currentPlatform(): PlatformInfo {
  return {
    platform: process.platform,
    arch: process.arch,
    supportedBackends: ort.listSupportedBackends().map((b) => b.name),
    missingLibraries: missingProviderLibraries(),
  };
}

/**
 * onnxruntime-node ships CPU and WebGPU inside the package; the CUDA provider is downloaded by its
 * install step. Say so plainly when that download is absent, instead of letting onnxruntime fail.
 */
function missingProviderLibraries(): Record<string, string> {
  const missing: Record<string, string> = {};
  // On Linux a GPU shows up as a device node; without one WebGPU can only find software adapters
  // (or none), and trying prints the Vulkan loader's errors. Windows and macOS always try.
  if (process.platform === 'linux' && !existsSync('/dev/dri') && !existsSync('/dev/nvidia0') && !existsSync('/dev/dxg')) {
    missing.webgpu = 'skipped: no GPU device on this machine (no /dev/dri, /dev/nvidia0 or /dev/dxg)';
  }
  if (process.arch !== 'x64' || (process.platform !== 'linux' && process.platform !== 'win32')) return missing;
  let binDir: string;
  try {
    binDir = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return missing;
  }
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  if (existsSync(join(binDir, lib))) return missing;
  return {
    ...missing,
    cuda: `not installed (${lib} is missing: onnxruntime-node's install step downloads it — reinstall with network access and without ONNXRUNTIME_NODE_INSTALL=skip; it needs the CUDA 12 runtime and an NVIDIA driver)`,
  };
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

/** The session-config key that tells onnxruntime where a model loaded from bytes keeps its external data. */
export const EXTERNAL_DATA_FOLDER_KEY = 'model_external_initializers_file_folder_path';

function externalDataFolderOf(options: SessionOptions): string | undefined {
  const session = (options.extra as { session?: Record<string, unknown> } | undefined)?.session;
  const folder = session?.[EXTERNAL_DATA_FOLDER_KEY];
  return typeof folder === 'string' ? folder : undefined;
}

/**
 * Loads by path, so onnxruntime finds `model.onnx_data` beside the model. A prepared model whose
 * weights stay in the user's checkpoint (another folder) is loaded from its bytes instead, with the
 * checkpoint's folder as the external-data folder: onnxruntime refuses external data outside the
 * model's own folder, links included, but accepts any folder named in the session config.
 */
const defaultFactory: SessionFactory<InferenceSession> = async (path, options) => {
  if (externalDataFolderOf(options) === undefined) return ort.InferenceSession.create(path, options);
  return ort.InferenceSession.create(await readFile(path), options);
};

export class OrtRuntime {
  readonly timer = new RunTimer();
  readonly #options: RuntimeOptions;
  readonly #sessions = new Map<string, Promise<LoadedSession>>();
  /** Providers that failed to initialise in this worker, kept so later sessions skip them. */
  readonly #failedProviders = new Map<string, string>();

  constructor(options: RuntimeOptions = {}) {
    this.#options = options;
  }

  /**
   * The session for a model file, loading it on first use. Cached by absolute path: a second
   * call (even while the first is loading) returns the same session, whatever providers it names.
   */
  session(
    modelPath: string,
    options: { providers?: readonly string[]; externalDataFolder?: string; sessionOptions?: Omit<SessionOptions, 'executionProviders' | 'extra'> } = {},
  ): Promise<LoadedSession> {
    const path = resolvePath(modelPath);
    const cached = this.#sessions.get(path);
    if (cached) return cached;
    const loading = (async (): Promise<LoadedSession> => {
      const start = performance.now();
      const opened: OpenedSession<InferenceSession> = await openSession(path, {
        factory: this.#options.factory ?? defaultFactory,
        providers: options.providers ?? this.#options.providers,
        platform: this.#options.platform ?? currentPlatform(),
        sessionOptions: withExternalDataFolder({ ...this.#options.sessionOptions, ...options.sessionOptions }, options.externalDataFolder),
        providerOptions: this.#options.providerOptions,
        knownFailures: this.#failedProviders,
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

function withExternalDataFolder(
  base: Omit<SessionOptions, 'executionProviders'> | undefined,
  folder: string | undefined,
): Omit<SessionOptions, 'executionProviders'> | undefined {
  if (folder === undefined) return base;
  const extra = (base?.extra ?? {}) as Record<string, unknown>;
  const session = (extra.session ?? {}) as Record<string, unknown>;
  return { ...base, extra: { ...extra, session: { ...session, [EXTERNAL_DATA_FOLDER_KEY]: folder } } };
}

let shared: OrtRuntime | null = null;

/** The one runtime of this worker process, shared by every pipeline so `unload` reaches all sessions. */
export function workerRuntime(): OrtRuntime {
  shared ??= new OrtRuntime();
  return shared;
}

/** Backend names the onnxruntime-node binary supports here (for the worker's `ready` message). */
export function providersAvailable(): string[] {
  // What a job can actually use here: known to the studio, built into this binary, and not missing
  // its library or a GPU device (CUDA without its download is listed by onnxruntime but unusable).
  const platform = currentPlatform();
  return platform.supportedBackends.filter((name) => (KNOWN_PROVIDERS as readonly string[]).includes(name) && platformSkipReason(name, platform) === null);
}
