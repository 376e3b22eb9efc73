/**
 * Feeding and reading ONNX sessions whatever dtypes an export chose: inputs are converted to the
 * element type the session's metadata declares (float16/float32, int32/int64), outputs come back
 * as float32. Exports differ (Optimum SDXL: float vs int64 timestep, int32 vs int64 ids), so the
 * pipeline never assumes.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { inputInfo, tensorFloat16, tensorFloat32, tensorInt32, tensorInt64, toFloat32 } from '../../inference/runtime.ts';
import { PipelineError } from '../types.ts';

export interface InputSpec {
  readonly type: string;
  readonly shape: readonly (number | string)[] | null;
}

export function inputSpec(session: InferenceSession, name: string, component: string): InputSpec {
  const info = inputInfo(session).find((i) => i.name === name);
  if (!info) {
    throw new PipelineError(
      'model_invalid',
      `${component}/model.onnx has no input '${name}' (it has ${inputInfo(session).map((i) => i.name).join(', ')}); this export does not fit the pipeline`,
    );
  }
  return { type: info.type ?? 'float32', shape: info.shape ?? null };
}

export function floatTensor(spec: InputSpec, data: Float32Array, dims: readonly number[]): Tensor {
  if (spec.type === 'float16') return tensorFloat16(data, dims);
  if (spec.type === 'float32') return tensorFloat32(data, dims);
  throw new PipelineError('model_invalid', `an input declared as ${spec.type} where a float was expected`);
}

export function intTensor(spec: InputSpec, data: Int32Array, dims: readonly number[]): Tensor {
  if (spec.type === 'int64') return tensorInt64(Array.from(data), dims);
  if (spec.type === 'int32') return tensorInt32(data, dims);
  throw new PipelineError('model_invalid', `an input declared as ${spec.type} where integer ids were expected`);
}

/**
 * A timestep as the export wants it, for a UNet call on `batch` rows. Exports declare three shapes:
 * 0-d `[]` (Optimum >= 1.24, optimum-onnx), a fixed `[1]`, or one value per row (`[steps]` /
 * `[batch_size]`, older Optimum). A 0-d or `[1]` input takes the single value the model broadcasts
 * over the batch, as diffusers' UNet expands a scalar timestep to `sample.shape[0]`; any other
 * shape takes one value per row. Float types keep the value, integer types truncate like numpy.
 */
export function timestepTensor(spec: InputSpec, t: number, batch: number): Tensor {
  const scalar = spec.shape !== null && spec.shape.length === 0;
  const fixedOne = spec.shape?.length === 1 && spec.shape[0] === 1;
  const n = scalar || fixedOne ? 1 : batch;
  const dims = scalar ? [] : [n];
  if (spec.type === 'int64' || spec.type === 'int32') {
    const v = Math.trunc(t);
    return spec.type === 'int64' ? tensorInt64(new Array<number>(n).fill(v), dims) : tensorInt32(new Int32Array(n).fill(v), dims);
  }
  return floatTensor(spec, new Float32Array(n).fill(t), dims);
}

export function outputFloat32(outputs: InferenceSession.ReturnType, name: string, component: string): { data: Float32Array; dims: readonly number[] } {
  const t = outputs[name];
  if (!t) {
    throw new PipelineError('model_invalid', `${component}/model.onnx returned no '${name}' output (got ${Object.keys(outputs).join(', ')})`);
  }
  return { data: toFloat32(t), dims: t.dims };
}
