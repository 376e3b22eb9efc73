/**
 * Writes the WAN full-size bench's synthetic WAN 2.1 T2V 1.3B as ComfyUI's repackaged files lay it
 * out, into OUT_DIR:
 *
 *   diffusion_models/wan2.1_t2v_1.3B_bf16.safetensors   the transformer (Wan-AI's names, as ComfyUI's
 *                                                       file has them), 1.42 B parameters, bf16
 *   vae/wan_2.1_vae.safetensors                         the whole WAN 2.1 VAE (encoder and decoder), bf16
 *   text_encoders/umt5_xxl_bf16.safetensors             with --text-encoder only: UMT5-XXL's encoder,
 *                                                       5.7 B parameters, bf16, the test tokenizer's
 *                                                       sentencepiece model inside as `spiece_model`
 *
 * With --vae-only, only the VAE (for the VAE figures alone: wan-full-vae*.ts).
 *
 * Every weight of the real architecture, under the names and shapes diffusers defines
 * (tests/fixtures/reference/wan/state-dicts*.json, "1.3B"), renamed by the product's own layout
 * tables (wan-layouts.ts → checkpoints/layouts/wan-*.ts) and streamed by the product's safetensors
 * writer: values are made per tensor, in chunks, as the writer asks for them, so no file is ever in
 * memory. Values are uniform with the standard deviation the tiny fixtures use (wan-tiny.ts,
 * wan-tiny-vae.ts, random-tensors.ts): 1/√fan-in for matrices and convolutions, norm scales near 1,
 * WAN's modulation tables with a 0.3 spread, small biases, the VAE's output convolution at 1/3 —
 * so the full networks give finite numbers. Each tensor's values follow from its name (seeded
 * xorshift32), so the same files come out on every machine.
 *
 * Prints JSON: { files: { part: { path, bytes } }, bytes, ms, maxRssMb }.
 *   node tests/bench/children/wan-full-write.ts OUT_DIR [--text-encoder | --vae-only]
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { hashString } from '../../../src-main/engine/onnx/tensor-data.ts';
import { writeSafetensors } from '../../../src-main/engine/weights/safetensors-write.ts';
import type { TensorToWrite } from '../../../src-main/engine/weights/safetensors-write.ts';
import { inWanNaming, TINY_SPIECE_MODEL } from '../../fixtures/checkpoints/wan-layouts.ts';
import type { WanLayoutPart } from '../../fixtures/checkpoints/wan-layouts.ts';
import { wanStateDicts } from '../../fixtures/checkpoints/wan-tiny.ts';
import { UMT5_TIED_COPIES } from '../../fixtures/checkpoints/wan-tiny-text.ts';
import { TINY_VAE_CONV_OUT_GAIN, wanVaeStateDicts } from '../../fixtures/checkpoints/wan-tiny-vae.ts';

const CHUNK = 1 << 22;
const SQRT3 = Math.sqrt(3);

/** Uniform half-width and centre giving the standard deviation the tiny WAN fixtures draw with. */
function distribution(part: WanLayoutPart, name: string, shape: readonly number[]): { halfWidth: number; centre: number; gain: number } {
  const gain = part === 'vae' && name === 'decoder.conv_out.weight' ? TINY_VAE_CONV_OUT_GAIN : 1;
  if (/(^|\.)scale_shift_table$/.test(name)) return { halfWidth: 0.3 * SQRT3, centre: 0, gain };
  if (/\.norm_[qk]\.weight$/.test(name) || name.endsWith('.gamma')) return { halfWidth: 0.1 * SQRT3, centre: 1, gain };
  if (part === 'text_encoder' && name.endsWith('.relative_attention_bias.weight')) return { halfWidth: SQRT3, centre: 0, gain };
  if (part === 'text_encoder' && name.endsWith('.SelfAttention.q.weight')) return { halfWidth: SQRT3 / Math.sqrt(shape[1]! * 64), centre: 0, gain };
  if (shape.length >= 2) return { halfWidth: SQRT3 / Math.sqrt(shape.slice(1).reduce((a, b) => a * b, 1)), centre: 0, gain };
  if (/(^|\.)(norm\w*|layer_norm\d*|final_layer_norm)\.weight$/.test(name)) return { halfWidth: 0.1 * SQRT3, centre: 1, gain };
  return { halfWidth: 0.05 * SQRT3, centre: 0, gain };
}

/** One canonical tensor as bf16 chunks made on demand (round to nearest even, as torch's .to(torch.bfloat16)). */
function syntheticTensor(part: WanLayoutPart, name: string, shape: readonly number[]): TensorToWrite {
  const count = shape.reduce((a, b) => a * b, 1);
  const { halfWidth, centre, gain } = distribution(part, name, shape);
  return {
    name,
    dtype: 'BF16',
    shape,
    data: async function* (): AsyncIterable<Uint8Array> {
      let s = hashString(`wan-full/${part}/${name}`) || 1;
      const scale = (gain * halfWidth) / 2147483648;
      const f32 = new Float32Array(Math.min(CHUNK, count));
      const bits = new Uint32Array(f32.buffer);
      const bf16 = new Uint16Array(f32.length);
      for (let done = 0; done < count; done += f32.length) {
        const n = Math.min(f32.length, count - done);
        for (let i = 0; i < n; i++) {
          s ^= s << 13;
          s ^= s >>> 17;
          s ^= s << 5;
          f32[i] = gain * centre + (s | 0) * scale;
          const b = bits[i]!;
          bf16[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
        }
        yield new Uint8Array(bf16.buffer, 0, n * 2);
      }
    },
  };
}

function canonical(part: WanLayoutPart): TensorToWrite[] {
  const shapes = part === 'vae' ? wanVaeStateDicts()['1.3B'].vae : wanStateDicts()['1.3B'][part];
  if (!shapes) throw new Error(`state-dicts.json has no 1.3B ${part}`);
  return Object.entries(shapes)
    .filter(([name]) => part !== 'text_encoder' || !UMT5_TIED_COPIES.includes(name))
    .map(([name, shape]) => syntheticTensor(part, name, shape));
}

const [out, flag] = process.argv.slice(2);
if (!out || (flag !== undefined && flag !== '--text-encoder' && flag !== '--vae-only')) {
  console.error('usage: wan-full-write.ts OUT_DIR [--text-encoder | --vae-only]');
  process.exit(2);
}

const start = performance.now();
const files: Record<string, { path: string; bytes: number }> = {};
const write = async (part: WanLayoutPart, path: string, tensors: TensorToWrite[]): Promise<void> => {
  await mkdir(join(path, '..'), { recursive: true });
  const { bytes } = await writeSafetensors(path, tensors, { metadata: { format: 'pt' } });
  files[part] = { path, bytes };
};
if (flag !== '--vae-only') await write('transformer', join(out, 'diffusion_models', 'wan2.1_t2v_1.3B_bf16.safetensors'), inWanNaming('transformer', canonical('transformer')));
await write('vae', join(out, 'vae', 'wan_2.1_vae.safetensors'), inWanNaming('vae', canonical('vae')));
if (flag === '--text-encoder') {
  // ComfyUI's UMT5 files keep transformers' names; the tokenizer travels inside as a uint8 tensor.
  const spiece: TensorToWrite = { name: 'spiece_model', dtype: 'U8', shape: [TINY_SPIECE_MODEL.length], data: new Uint8Array(TINY_SPIECE_MODEL) };
  await write('text_encoder', join(out, 'text_encoders', 'umt5_xxl_bf16.safetensors'), [...canonical('text_encoder'), spiece]);
}
const bytes = Object.values(files).reduce((sum, f) => sum + f.bytes, 0);
process.stdout.write(`${JSON.stringify({ files, bytes, ms: performance.now() - start, maxRssMb: Math.round((process.resourceUsage().maxRSS * 1024) / 1e6) })}\n`);
