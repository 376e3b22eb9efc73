import { describe, expect, it } from 'vitest';
import {
  ProtocolError,
  WORKER_OPTIONS_ENV,
  checkPipelineResult,
  decodeStartOptions,
  encodeStartOptions,
  jobIdOf,
  parseFromWorker,
  parseToWorker,
  previewBytes,
} from '../../../src-main/engine/inference/protocol.ts';
import type { PipelineResult, RunRequest } from '../../../src-main/engine/pipelines/types.ts';

const request: RunRequest = {
  jobId: 'job-1',
  jobType: 'video_fast',
  params: {
    prompt: 'waves',
    negativePrompt: '',
    seed: 7,
    steps: 4,
    guidance: 5,
    width: 480,
    height: 832,
    frames: 17,
    count: 1,
    batchIndex: null,
    scheduler: 'unipc',
    model: null,
    enhancedPrompt: null,
    fps: 16,
  },
  model: { id: 'wan-1.3b', family: 'wan', path: '/models/wan' },
  enhancer: null,
  stagingDir: '/tmp/staging/job-1',
  maxBatch: 1,
  providers: ['cuda', 'webgpu', 'cpu'],
};

const result: PipelineResult = {
  outputs: [
    {
      file: '/tmp/staging/job-1/out.mp4',
      thumbFile: '/tmp/staging/job-1/thumb.png',
      kind: 'video',
      mime: 'video/mp4',
      width: 480,
      height: 832,
      batchIndex: 0,
      seed: 7,
      durationMs: 1062.5,
      fps: 16,
      frameCount: 17,
      recipe: { prompt: 'waves', steps: 4 },
    },
  ],
  provider: 'cuda',
  providerNote: null,
  enhancedPrompt: null,
  timings: { totalMs: 1000, runMs: 900 },
};

function thrown(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw e;
  }
  throw new Error('expected a ProtocolError');
}

describe('messages to the worker', () => {
  it('accepts every message type and keeps the run request intact', () => {
    expect(parseToWorker({ v: 1, type: 'run', request })).toEqual({ v: 1, type: 'run', request });
    expect(parseToWorker({ v: 1, type: 'cancel', jobId: 'job-1' }).type).toBe('cancel');
    expect(parseToWorker({ v: 1, type: 'unload' }).type).toBe('unload');
    expect(parseToWorker({ v: 1, type: 'shutdown' }).type).toBe('shutdown');
  });

  it('passes through request fields it does not know, rather than stripping them', () => {
    const extended = { ...request, params: { ...request.params, loraScale: 0.5 } };
    const parsed = parseToWorker({ v: 1, type: 'run', request: extended });
    expect(parsed.type === 'run' && (parsed.request.params as unknown as Record<string, unknown>)['loraScale']).toBe(0.5);
  });

  it('names the field that is wrong', () => {
    const bad = { ...request, jobType: 'sdxl_turbo', params: { ...request.params, steps: 0 } };
    const e = thrown(() => parseToWorker({ v: 1, type: 'run', request: bad }));
    expect(e.message).toContain('from the engine to the worker');
    expect(e.message).toContain('request.jobType');
    expect(e.message).toContain('request.params.steps');
  });

  it('says a version mismatch means two builds', () => {
    const e = thrown(() => parseToWorker({ v: 2, type: 'unload' }));
    expect(e.message).toMatch(/protocol version 2, expected 1/);
    expect(e.message).toMatch(/different builds/);
  });

  it('rejects non-objects and unknown types with a clear message', () => {
    expect(thrown(() => parseToWorker('run')).message).toMatch(/expected an object .* got string/);
    expect(thrown(() => parseToWorker(null)).message).toMatch(/got null/);
    expect(thrown(() => parseToWorker([])).message).toMatch(/got an array/);
    expect(thrown(() => parseToWorker({ v: 1, type: 'explode' })).message).toMatch(/unknown type "explode" \(known: run, cancel, unload, shutdown\)/);
  });

  it('finds the job id of a malformed run so the worker can still answer for it', () => {
    expect(jobIdOf({ v: 1, type: 'run', request: { jobId: 'job-9', params: 'nonsense' } })).toBe('job-9');
    expect(jobIdOf({ v: 1, type: 'run', request: {} })).toBeNull();
    expect(jobIdOf(42)).toBeNull();
  });
});

describe('messages from the worker', () => {
  it('accepts each message type', () => {
    const messages = [
      { v: 1, type: 'ready', pid: 123, providersAvailable: ['cpu', 'webgpu'] },
      { v: 1, type: 'progress', jobId: 'job-1', step: 2, of: 4, stage: 'denoise', preview: new Uint8Array([137, 80]) },
      { v: 1, type: 'progress', jobId: 'job-1', step: 2, of: 4, stage: null, preview: null },
      { v: 1, type: 'done', jobId: 'job-1', result },
      { v: 1, type: 'failed', jobId: 'job-1', code: 'model_missing', message: 'no unet', transient: false },
      { v: 1, type: 'cancelled', jobId: 'job-1' },
      { v: 1, type: 'unloaded', families: ['wan'] },
      { v: 1, type: 'exiting', reason: 'idle' },
      { v: 1, type: 'log', level: 'warn', message: 'slow', jobId: null },
    ];
    for (const m of messages) expect(parseFromWorker(m)).toEqual(m);
  });

  it('takes a preview as bytes or base64 and yields the same bytes', () => {
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
    const asText = Buffer.from(bytes).toString('base64');
    const m = parseFromWorker({ v: 1, type: 'progress', jobId: 'j', step: 1, of: 2, stage: null, preview: asText });
    expect(m.type === 'progress' && previewBytes(m.preview)).toEqual(bytes);
    expect(previewBytes(bytes)).toBe(bytes);
    expect(previewBytes(null)).toBeNull();
    expect(() => parseFromWorker({ v: 1, type: 'progress', jobId: 'j', step: 1, of: 2, stage: null, preview: 'not base64!' })).toThrow(ProtocolError);
  });

  it('rejects a done message whose result is malformed, naming the field', () => {
    const bad = { ...result, outputs: [{ ...result.outputs[0], kind: 'gif' }] };
    const e = thrown(() => parseFromWorker({ v: 1, type: 'done', jobId: 'job-1', result: bad }));
    expect(e.message).toContain('from the worker to the engine');
    expect(e.message).toContain('result.outputs.0.kind');
  });

  it('rejects a failed message without its transient flag', () => {
    expect(() => parseFromWorker({ v: 1, type: 'failed', jobId: 'j', code: 'x', message: 'y' })).toThrow(/transient/);
  });
});

describe('checkPipelineResult', () => {
  it('is null for a good result and names the problem otherwise', () => {
    expect(checkPipelineResult(result)).toBeNull();
    expect(checkPipelineResult({ ...result, provider: '' })).toMatch(/^provider:/);
    expect(checkPipelineResult({ outputs: [{ file: 42 }] })).toMatch(/outputs\.0\.file/);
  });
});

describe('worker start options', () => {
  it('round-trips through the environment', () => {
    const options = { slot: 'sdxl', pipelines: { sdxl: '/app/pipelines/sdxl.js' }, idleTimeoutMs: 600_000, previewIntervalMs: 250 };
    expect(decodeStartOptions({ ...encodeStartOptions(options) })).toEqual(options);
  });

  it('explains what is missing or wrong', () => {
    expect(() => decodeStartOptions({})).toThrow(/must be started by the WorkerSupervisor/);
    expect(() => decodeStartOptions({ [WORKER_OPTIONS_ENV]: '{' })).toThrow(/not valid JSON/);
    expect(() => decodeStartOptions({ [WORKER_OPTIONS_ENV]: JSON.stringify({ slot: 'x', pipelines: {}, idleTimeoutMs: -1, previewIntervalMs: 0 }) })).toThrow(
      /idleTimeoutMs/,
    );
  });
});
