/**
 * Tensor helpers shared by pipelines: float16 bit conversion (models are often exported in half
 * precision while the numerics are done in float32), typed constructors, and reading any numeric
 * output back as float32.
 */
import ort from 'onnxruntime-node';
import type { Tensor } from 'onnxruntime-node';

export { float16BitToFloat32, float16BitsToFloat32, float32ToFloat16Bit, float32ToFloat16Bits } from '../numerics/float16.ts';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../numerics/float16.ts';

export type FloatDtype = 'float32' | 'float16';

export function tensorFloat32(data: Float32Array, dims: readonly number[]): Tensor {
  return new ort.Tensor('float32', data, dims);
}

/**
 * Makes a float16 tensor safe to feed to onnxruntime-node 1.30 on Node 24 / Electron 45.
 *
 * onnxruntime-common stores float16 data as a Float16Array wherever the runtime has one (Node 23+),
 * but the native binding sizes typed arrays with node-addon-api's element-size table, which has no
 * entry for Float16Array: every float16 input then fails with "not enough space: expected N, got 0"
 * (microsoft/onnxruntime PR #32323). The binding reads `tensor.data`, so an own `data` property
 * holding a Uint16Array view of the same bytes (which it has always accepted for float16) fixes
 * the feed without copying. Other tensors are returned unchanged.
 */
export function float16Safe(tensor: Tensor): Tensor {
  if (tensor.type !== 'float16' || tensor.location !== 'cpu') return tensor;
  const data = tensor.data as unknown as ArrayBufferView;
  if (data instanceof Uint16Array) return tensor;
  const bits = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
  Object.defineProperty(tensor, 'data', { value: bits, enumerable: true, configurable: true });
  return tensor;
}

/** A float16 tensor from raw binary16 bits. */
export function tensorFloat16Bits(bits: Uint16Array, dims: readonly number[]): Tensor {
  return float16Safe(new ort.Tensor('float16', bits, dims));
}

/** A float16 tensor from float32 values (converted with round-to-nearest-even). */
export function tensorFloat16(data: ArrayLike<number>, dims: readonly number[]): Tensor {
  return tensorFloat16Bits(float32ToFloat16Bits(data), dims);
}

/** float32 values as a tensor of the dtype a model input wants. */
export function tensorFloat(dtype: FloatDtype, data: Float32Array, dims: readonly number[]): Tensor {
  return dtype === 'float16' ? tensorFloat16(data, dims) : tensorFloat32(data, dims);
}

export function tensorInt32(data: Int32Array | readonly number[], dims: readonly number[]): Tensor {
  return new ort.Tensor('int32', data instanceof Int32Array ? data : Int32Array.from(data), dims);
}

/** An int64 tensor (token ids, timesteps). Numbers must be safe integers. */
export function tensorInt64(data: BigInt64Array | readonly number[] | readonly bigint[], dims: readonly number[]): Tensor {
  if (data instanceof BigInt64Array) return new ort.Tensor('int64', data, dims);
  const out = new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`int64 value at ${i} is not a safe integer: ${v}`);
    out[i] = BigInt(v);
  }
  return new ort.Tensor('int64', out, dims);
}

/** Any numeric tensor's values as float32 (float16 outputs arrive as Float16Array or raw bits). */
export function toFloat32(tensor: Pick<Tensor, 'type' | 'data'>): Float32Array {
  const data = tensor.data as unknown;
  switch (tensor.type) {
    case 'float32':
      return data as Float32Array;
    case 'float16':
      if (data instanceof Uint16Array) return float16BitsToFloat32(data);
      return Float32Array.from(data as ArrayLike<number>);
    case 'int64':
    case 'uint64': {
      const big = data as BigInt64Array | BigUint64Array;
      const out = new Float32Array(big.length);
      for (let i = 0; i < big.length; i++) out[i] = Number(big[i]!);
      return out;
    }
    case 'float64':
    case 'int32':
    case 'uint32':
    case 'int16':
    case 'uint16':
    case 'int8':
    case 'uint8':
    case 'bool':
      return Float32Array.from(data as ArrayLike<number>);
    default:
      throw new TypeError(`cannot read a ${tensor.type} tensor as float32`);
  }
}
