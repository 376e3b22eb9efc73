import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  float16BitToFloat32,
  float16BitsToFloat32,
  float32ToFloat16Bit,
  float32ToFloat16Bits,
  tensorFloat,
  tensorFloat16,
  tensorInt32,
  tensorInt64,
  toFloat32,
} from '../../../src-main/engine/inference/tensors.ts';
import { OrtRuntime } from '../../../src-main/engine/inference/runtime.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, encodeModel, saveModel } from '../../fixtures/onnx/index.ts';

/** Node 24's built-in Float16Array: the reference for IEEE binary16 rounding. */
const Float16 = (globalThis as unknown as { Float16Array: { new (n: number): ArrayLike<number> & { [i: number]: number; buffer: ArrayBuffer } } })
  .Float16Array;

function referenceBits(value: number): number {
  const h = new Float16(1);
  h[0] = value;
  return new Uint16Array(h.buffer)[0]!;
}

describe('float16 conversion', () => {
  it('decodes every one of the 65 536 half-precision bit patterns exactly', () => {
    const h = new Float16(1);
    const bits = new Uint16Array(h.buffer);
    for (let b = 0; b < 65536; b++) {
      bits[0] = b;
      const expected = h[0]!;
      const actual = float16BitToFloat32(b);
      if (Number.isNaN(expected)) expect(actual).toBeNaN();
      else expect(Object.is(actual, expected)).toBe(true);
    }
  });

  it('encodes like IEEE round-to-nearest-even, including ties, subnormals, overflow and NaN', () => {
    const samples: number[] = [0, -0, 1, -1, 0.1, 65504, 65519.99, 65520, 1e6, -1e6, Infinity, -Infinity, 2 ** -14, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0001, 2 ** -26, 1e-10, 3 * 2 ** -25];
    // Exact midpoints between neighbouring halves (ties) and values a hair either side of them.
    for (let b = 0; b < 0x7bff; b += 97) {
      const lo = float16BitToFloat32(b);
      const hi = float16BitToFloat32(b + 1);
      const mid = (lo + hi) / 2;
      samples.push(mid, -mid, Math.fround(mid * (1 + 2 ** -20)), Math.fround(mid * (1 - 2 ** -20)));
    }
    let seed = 12345;
    for (let i = 0; i < 20000; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      samples.push((seed / 2 ** 32 - 0.5) * 2 ** ((i % 40) - 25));
    }
    for (const v of samples) {
      const f = Math.fround(v);
      expect(float32ToFloat16Bit(f), `value ${f}`).toBe(referenceBits(f));
    }
    expect(Number.isNaN(float16BitToFloat32(float32ToFloat16Bit(NaN)))).toBe(true);
  });

  it('converts arrays both ways', () => {
    const values = Float32Array.of(0.5, -2, 1 / 3, 70000);
    const bits = float32ToFloat16Bits(values);
    expect(bits).toBeInstanceOf(Uint16Array);
    expect([...float16BitsToFloat32(bits)]).toEqual([0.5, -2, float16BitToFloat32(referenceBits(1 / 3)), Infinity]);
  });
});

describe('tensors through onnxruntime', () => {
  it('feeds a float16 input and int64 ids and reads float16 and int64 outputs back as float32', async () => {
    const g = new GraphBuilder({ name: 'casts' });
    const x = g.input('sample', 'float16', [2, 3]);
    const ids = g.input('input_ids', 'int64', [1, 3]);
    g.output(g.op('Mul', [x, g.op('Cast', [g.float32([2], [])], { to: 10 })]), 'doubled', 'float16', [2, 3]);
    g.output(g.op('Add', [ids, g.int64([1], [])]), 'next_ids', 'int64', [1, 3]);
    const session = await ort.InferenceSession.create(encodeModel(g.build()), { executionProviders: ['cpu'] });
    try {
      const out = await session.run({
        sample: tensorFloat16(Float32Array.of(0.5, -1.25, 3, 1000, 1 / 3, 0), [2, 3]),
        input_ids: tensorInt64([49406, 320, 49407], [1, 3]),
      });
      expect(out['doubled']!.type).toBe('float16');
      const doubled = [...toFloat32(out['doubled']!)];
      expect(doubled.slice(0, 4)).toEqual([1, -2.5, 6, 2000]);
      expect(doubled[4]).toBeCloseTo(2 / 3, 3);
      expect([...toFloat32(out['next_ids']!)]).toEqual([49407, 321, 49408]);
    } finally {
      await session.release();
    }
  });

  it('feeds a float16 output of one model into the next (text encoder → unet style) through OrtRuntime.run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ourvidz-f16-'));
    try {
      const encoder = new GraphBuilder({ name: 'encoder' });
      const ids = encoder.input('input_ids', 'int64', [1, 4]);
      encoder.output(encoder.op('Cast', [ids], { to: 10 }), 'hidden', 'float16', [1, 4]);
      const unet = new GraphBuilder({ name: 'unet' });
      const hidden = unet.input('encoder_hidden_states', 'float16', [1, 4]);
      unet.output(unet.op('Cast', [unet.op('Add', [hidden, hidden])], { to: 1 }), 'out', 'float32', [1, 4]);
      await saveModel(join(dir, 'encoder.onnx'), encoder.build());
      await saveModel(join(dir, 'unet.onnx'), unet.build());
      const runtime = new OrtRuntime({ providers: ['cpu'] });
      const a = await runtime.session(join(dir, 'encoder.onnx'));
      const b = await runtime.session(join(dir, 'unet.onnx'));
      const first = await runtime.run(a.session, { input_ids: tensorInt64([1, 2, 3, 4], [1, 4]) });
      const second = await runtime.run(b.session, { encoder_hidden_states: first['hidden']! });
      expect([...toFloat32(second['out']!)]).toEqual([2, 4, 6, 8]);
      await runtime.releaseAll();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('builds the dtype a model input asks for', () => {
    const data = Float32Array.of(1, 2);
    expect(tensorFloat('float16', data, [2]).type).toBe('float16');
    expect(tensorFloat('float32', data, [2]).data).toBe(data);
    expect(tensorInt32([1, 2, 3], [3]).data).toEqual(Int32Array.of(1, 2, 3));
    expect(tensorInt64([1n, 2n], [2]).data).toEqual(BigInt64Array.of(1n, 2n));
  });

  it('refuses int64 values that a JavaScript number cannot hold exactly', () => {
    expect(() => tensorInt64([2 ** 53], [1])).toThrow(/not a safe integer/);
  });

  it('refuses to read a string tensor as numbers', () => {
    expect(() => toFloat32(new ort.Tensor('string', ['a'], [1]))).toThrow(/cannot read a string tensor/);
  });
});
