/** The timestep tensor for each shape and element type an export declares its `timestep` with. */
import { describe, expect, it } from 'vitest';
import { timestepTensor, type InputSpec } from '../../../src-main/engine/pipelines/common/session-io.ts';
import { toFloat32 } from '../../../src-main/engine/inference/runtime.ts';

const spec = (type: string, shape: InputSpec['shape']): InputSpec => ({ type, shape });

describe('timestepTensor', () => {
  it.each([
    ['0-d (Optimum >= 1.24)', [], []],
    ['fixed [1]', [1], [1]],
    ['dynamic [steps]', ['steps'], [12]],
    ['dynamic [batch_size]', ['batch_size'], [12]],
    ['undeclared', null, [12]],
  ] as const)('%s gets dims %j for a 12-row UNet call', (_label, shape, dims) => {
    const t = timestepTensor(spec('float32', shape), 999, 12);
    expect(t.dims).toEqual(dims);
    const count = dims.reduce((a: number, b: number) => a * b, 1);
    expect(Array.from(toFloat32(t))).toEqual(new Array<number>(count).fill(999));
  });

  it('keeps a fractional timestep in float types and truncates it in integer types, as numpy does', () => {
    expect(Array.from(toFloat32(timestepTensor(spec('float32', []), 980.5, 4)))).toEqual([980.5]);
    expect(Array.from(toFloat32(timestepTensor(spec('float16', []), 980.5, 4)))).toEqual([980.5]);
    const int64 = timestepTensor(spec('int64', []), 980.9, 4);
    expect(int64.type).toBe('int64');
    expect(int64.dims).toEqual([]);
    expect(Array.from(int64.data as BigInt64Array)).toEqual([980n]);
    const int32 = timestepTensor(spec('int32', ['steps']), 980.9, 3);
    expect(Array.from(int32.data as Int32Array)).toEqual([980, 980, 980]);
  });

  it('refuses a timestep declared with a non-numeric type', () => {
    expect(() => timestepTensor(spec('string', []), 1, 2)).toThrow(/declared as string/);
  });
});
