import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXTERNAL_DATA_FOLDER_KEY,
  OrtRuntime,
  SessionLoadError,
  defaultProviderOrder,
  describeValues,
  inputInfo,
  inputType,
  openSession,
  outputInfo,
  tensorFloat32,
  toFloat32,
  type PlatformInfo,
  type SessionOptions,
} from '../../../src-main/engine/inference/runtime.ts';
import { GraphBuilder, saveModel } from '../../fixtures/onnx/index.ts';
import { WAN_VAE_SESSION_OPTIONS } from '../../../src-main/engine/pipelines/wan/model.ts';

const linux: PlatformInfo = { platform: 'linux', arch: 'x64', supportedBackends: ['cpu', 'webgpu', 'cuda', 'tensorrt'] };
const windows: PlatformInfo = { platform: 'win32', arch: 'x64', supportedBackends: ['cpu', 'webgpu', 'dml'] };
const mac: PlatformInfo = { platform: 'darwin', arch: 'arm64', supportedBackends: ['cpu', 'webgpu', 'coreml'] };
const linuxArm: PlatformInfo = { platform: 'linux', arch: 'arm64', supportedBackends: ['cpu'] };

/** A session factory that fails for the named providers with the given messages and records every call. */
function fakeFactory(failures: Record<string, string>) {
  const calls: SessionOptions['executionProviders'][] = [];
  const factory = async (_path: string, options: SessionOptions) => {
    calls.push(options.executionProviders);
    const ep = options.executionProviders![0]!;
    const name = typeof ep === 'string' ? ep : ep.name;
    if (failures[name]) throw new Error(failures[name]);
    return { provider: name };
  };
  return { factory, calls };
}

const CUDA_MISSING = 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library';
const NO_ADAPTER =
  '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters';

describe('execution provider order and fallback', () => {
  it('defaults to the GPU providers each platform can have, then CPU', () => {
    expect(defaultProviderOrder(linux)).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(defaultProviderOrder(windows)).toEqual(['cuda', 'dml', 'webgpu', 'cpu']);
    expect(defaultProviderOrder(mac)).toEqual(['webgpu', 'cpu']);
    expect(defaultProviderOrder(linuxArm)).toEqual(['webgpu', 'cpu']);
  });

  it('uses the first provider that initialises, with no note', async () => {
    const { factory, calls } = fakeFactory({});
    const opened = await openSession('/m/unet/model.onnx', { factory, platform: linux });
    expect(opened.provider).toBe('cuda');
    expect(opened.note).toBeNull();
    expect(opened.session).toEqual({ provider: 'cuda' });
    expect(calls).toEqual([['cuda']]);
  });

  it('tries each provider alone, in order, and says why each earlier one failed', async () => {
    const { factory, calls } = fakeFactory({ cuda: CUDA_MISSING, webgpu: NO_ADAPTER });
    const opened = await openSession('/m/unet/model.onnx', { factory, platform: linux });
    expect(calls).toEqual([['cuda'], ['webgpu'], ['cpu']]);
    expect(opened.provider).toBe('cpu');
    expect(opened.attempts.map((a) => [a.provider, a.outcome])).toEqual([
      ['cuda', 'failed'],
      ['webgpu', 'failed'],
      ['cpu', 'used'],
    ]);
    expect(opened.note).toBe(
      `Using CPU: CUDA failed to initialise (${CUDA_MISSING}); WebGPU failed to initialise (${NO_ADAPTER}).`,
    );
  });

  it('skips providers this platform cannot have without trying them, and says so', async () => {
    const { factory, calls } = fakeFactory({});
    const opened = await openSession('/m/model.onnx', { factory, platform: linux, providers: ['DirectML', 'cpu'] });
    expect(calls).toEqual([['cpu']]);
    expect(opened.note).toMatch(/^Using CPU: DirectML not on this platform \(DirectML is Windows-only; this is linux x64\)\.$/);

    const mac1 = await openSession('/m/model.onnx', { factory, platform: mac, providers: ['cuda', 'webgpu'] });
    expect(mac1.provider).toBe('webgpu');
    expect(mac1.note).toContain('CUDA not on this platform (CUDA is for Linux and Windows x64; this is darwin arm64)');

    const win = await openSession('/m/model.onnx', { factory, platform: windows });
    expect(win.provider).toBe('dml');
    expect(win.note).toContain('CUDA not on this platform (this onnxruntime-node build for win32 x64 does not include it)');
  });

  it('names an unknown provider, and drops repeats', async () => {
    const { factory, calls } = fakeFactory({});
    const opened = await openSession('/m/model.onnx', { factory, platform: linux, providers: ['tpu', 'cpu', 'CPU'] });
    expect(calls).toEqual([['cpu']]);
    expect(opened.note).toMatch(/tpu unknown execution provider \(known here: cuda, dml, webgpu, cpu, tensorrt\)/);
  });

  it('passes per-provider options such as the CUDA device', async () => {
    const { factory, calls } = fakeFactory({});
    await openSession('/m/model.onnx', { factory, platform: linux, providerOptions: { cuda: { deviceId: 1 } } });
    expect(calls).toEqual([[{ name: 'cuda', deviceId: 1 }]]);
  });

  it("lets one session add its own options to the runtime's, such as the WAN VAE's plain CPU allocation", async () => {
    const seen: SessionOptions[] = [];
    const factory = async (_path: string, options: SessionOptions) => {
      seen.push(options);
      return { provider: 'cpu' };
    };
    const runtime = new OrtRuntime({ factory: factory as never, platform: linux, providers: ['cpu'], sessionOptions: { intraOpNumThreads: 2 } });
    await runtime.session('/m/vae_decoder/model.onnx', { externalDataFolder: '/weights', sessionOptions: WAN_VAE_SESSION_OPTIONS });
    await runtime.session('/m/transformer/model.onnx');
    expect(seen[0]).toMatchObject({ intraOpNumThreads: 2, enableCpuMemArena: false, enableMemPattern: false });
    expect((seen[0]!.extra as { session: Record<string, unknown> }).session[EXTERNAL_DATA_FOLDER_KEY]).toBe('/weights');
    expect(seen[1]).toMatchObject({ intraOpNumThreads: 2 });
    expect(seen[1]!.enableCpuMemArena).toBeUndefined();
  });

  it('fails with every attempt listed when nothing can open the model', async () => {
    const { factory } = fakeFactory({ cuda: CUDA_MISSING, webgpu: NO_ADAPTER, cpu: 'Load model from /m/model.onnx failed: Protobuf parsing failed.' });
    const error = await openSession('/m/model.onnx', { factory, platform: linux }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionLoadError);
    const e = error as SessionLoadError;
    expect(e.attempts).toHaveLength(3);
    expect(e.message).toContain('Could not load /m/model.onnx with any execution provider');
    expect(e.message).toContain('CPU: failed, Load model from /m/model.onnx failed: Protobuf parsing failed.');
    expect(e.message).toMatch(/Check that the model file is complete/);

    const none = await openSession('/m/model.onnx', { factory, platform: linux, providers: [] }).catch((x: unknown) => x);
    expect((none as Error).message).toMatch(/no execution provider was requested/);
  });
});

describe('OrtRuntime with onnxruntime-node on the CPU', () => {
  let dir: string;
  let modelPath: string;
  let weights: Float32Array;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ourvidz-runtime-'));
    // y = x · W with a 256×256 weight (256 KiB) stored in model.onnx_data, as Optimum exports do.
    const g = new GraphBuilder({ name: 'external-data' });
    const x = g.input('x', 'float32', ['batch', 256]);
    const w = g.weight('proj.weight', [256, 256], { std: 0.1 });
    g.output(g.op('MatMul', [x, w]), 'y', 'float32', ['batch', 256]);
    const model = g.build();
    const saved = await saveModel(join(dir, 'unet', 'model.onnx'), model, { externalData: true });
    modelPath = saved.path;
    const raw = model.graph.initializers.find((t) => t.name === 'proj.weight')!.rawData!;
    weights = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The real factory, counting releases. */
  function countingRuntime() {
    const released: string[] = [];
    const runtime = new OrtRuntime({
      providers: ['cpu'],
      factory: async (path, options) => {
        const session = await ort.InferenceSession.create(path, options);
        const release = session.release.bind(session);
        session.release = async () => {
          released.push(path);
          await release();
        };
        return session;
      },
    });
    return { runtime, released };
  }

  it('loads a model whose weights live in model.onnx_data beside it, and computes with them', async () => {
    expect((await stat(modelPath)).size).toBeLessThan(4096);
    expect((await stat(join(dir, 'unet', 'model.onnx_data'))).size).toBe(256 * 256 * 4);
    const runtime = new OrtRuntime({ providers: ['cpu'] });
    const loaded = await runtime.session(modelPath);
    expect(loaded.provider).toBe('cpu');
    expect(loaded.note).toBeNull();

    const x = new Float32Array(256).map((_, i) => Math.sin(i));
    const out = await runtime.run(loaded.session, { x: tensorFloat32(x, [1, 256]) });
    const y = toFloat32(out['y']!);
    const expected = new Float32Array(256);
    for (let j = 0; j < 256; j++) {
      let sum = 0;
      for (let i = 0; i < 256; i++) sum += x[i]! * weights[i * 256 + j]!;
      expected[j] = sum;
    }
    for (let j = 0; j < 256; j++) expect(y[j]).toBeCloseTo(expected[j]!, 4);
    await runtime.releaseAll();
  });

  it('describes inputs and outputs with names, dtypes and symbolic dims', async () => {
    const runtime = new OrtRuntime({ providers: ['cpu'] });
    const { session } = await runtime.session(modelPath);
    expect(inputInfo(session)).toEqual([{ name: 'x', isTensor: true, type: 'float32', shape: ['batch', 256] }]);
    expect(outputInfo(session)).toEqual([{ name: 'y', isTensor: true, type: 'float32', shape: ['batch', 256] }]);
    expect(inputType(session, 'x')).toBe('float32');
    expect(() => inputType(session, 'sample')).toThrow('model has no input "sample" (inputs: x)');
    expect(describeValues(inputInfo(session))).toBe('x: float32[batch, 256]');
    await runtime.releaseAll();
  });

  it('caches one session per model file and releases it explicitly', async () => {
    const { runtime, released } = countingRuntime();
    const [a, b] = await Promise.all([runtime.session(modelPath), runtime.session(relative(process.cwd(), modelPath))]);
    expect(a.session).toBe(b.session);
    expect(runtime.loaded()).toEqual([modelPath]);

    expect(await runtime.release(modelPath)).toBe(true);
    expect(released).toEqual([modelPath]);
    expect(runtime.loaded()).toEqual([]);
    expect(await runtime.release(modelPath)).toBe(false);

    const again = await runtime.session(modelPath);
    expect(again.session).not.toBe(a.session);
    await runtime.releaseAll();
    expect(released).toEqual([modelPath, modelPath]);
    expect(runtime.loaded()).toEqual([]);
  });

  it('accumulates the time spent inside session.run', async () => {
    const runtime = new OrtRuntime({ providers: ['cpu'] });
    const { session } = await runtime.session(modelPath);
    const feeds = { x: tensorFloat32(new Float32Array(256 * 8).fill(0.5), [8, 256]) };
    await runtime.run(session as InferenceSession, feeds);
    await runtime.run(session, feeds);
    expect(runtime.timer.calls).toBe(2);
    expect(runtime.timer.ms).toBeGreaterThan(0);
    runtime.timer.reset();
    expect([runtime.timer.calls, runtime.timer.ms]).toEqual([0, 0]);
    await runtime.releaseAll();
  });

  it('reports a missing model file with the path, and does not cache the failure', async () => {
    const runtime = new OrtRuntime({ providers: ['cpu'] });
    const missing = join(dir, 'vae_decoder', 'model.onnx');
    const error = await runtime.session(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionLoadError);
    expect((error as Error).message).toContain(missing);
    expect(runtime.loaded()).toEqual([]);
  });
});
