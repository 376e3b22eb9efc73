/**
 * Element types of weight files, named as safetensors names them, with their byte widths and the
 * ONNX TensorProto data type each maps to (onnx/onnx `onnx.proto`). Readers of other formats
 * (PyTorch archives, GGUF) translate their own type names into these.
 */
import { OnnxDataType } from '../onnx/onnx-proto.ts';

export const WEIGHT_DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL', 'F8_E4M3', 'F8_E5M2'] as const;
export type WeightDtype = (typeof WEIGHT_DTYPES)[number];

export const DTYPE_BYTES: Readonly<Record<WeightDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

/** ONNX TensorProto.DataType for each weight dtype (FLOAT8E4M3FN = 17, FLOAT8E5M2 = 19). */
export const DTYPE_ONNX: Readonly<Record<WeightDtype, number>> = {
  F64: OnnxDataType.DOUBLE,
  F32: OnnxDataType.FLOAT,
  F16: OnnxDataType.FLOAT16,
  BF16: OnnxDataType.BFLOAT16,
  I64: OnnxDataType.INT64,
  I32: OnnxDataType.INT32,
  I16: OnnxDataType.INT16,
  I8: OnnxDataType.INT8,
  U8: OnnxDataType.UINT8,
  BOOL: OnnxDataType.BOOL,
  F8_E4M3: 17,
  F8_E5M2: 19,
};

/** How people name these precisions (the Models view and messages). */
export const DTYPE_LABEL: Readonly<Record<WeightDtype, string>> = {
  F64: 'fp64',
  F32: 'fp32',
  F16: 'fp16',
  BF16: 'bf16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
  F8_E4M3: 'fp8 e4m3',
  F8_E5M2: 'fp8 e5m2',
};

export function isWeightDtype(value: unknown): value is WeightDtype {
  return typeof value === 'string' && (WEIGHT_DTYPES as readonly string[]).includes(value);
}

export function isFloatDtype(dtype: WeightDtype): boolean {
  return dtype === 'F64' || dtype === 'F32' || dtype === 'F16' || dtype === 'BF16' || dtype === 'F8_E4M3' || dtype === 'F8_E5M2';
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
