/**
 * Writes the checkpoint bench's full-size synthetic SDXL checkpoint: every weight of the real
 * architecture (canonical names and shapes of stabilityai/stable-diffusion-xl-base-1.0 from
 * tests/fixtures/reference/sdxl/state-dicts.json, "full") as random fp16, laid out as an
 * A1111/ComfyUI single file by the product's own table (`sdxlCanonicalToSingleFile`) and written by
 * the product's streaming writer — about 6.9 GB. Values are made per tensor, in chunks, as the
 * writer asks for them: the file is never in memory.
 *
 * Values are uniform with the standard deviation of fan-in scaling (1/√fan-in for matrices and
 * convolutions), norm weights near 1 and small biases, so the full UNet gives finite numbers. Each
 * tensor's values follow from its name (seeded xorshift32): the same file on every machine.
 *
 * Skips the work when the file is there and matches: a stamp beside it names this generator's
 * version, and the file's size, modification time and header are what this layout writes.
 * Prints JSON: { path, bytes, written, ms, maxRssMb }.
 *   node tests/bench/children/checkpoint-write.ts OUT_FILE
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { sdxlCanonicalToSingleFile } from '../../../src-main/engine/checkpoints/layouts/sdxl-single-file.ts';
import { hashString } from '../../../src-main/engine/onnx/tensor-data.ts';
import { layoutSafetensors, writeSafetensors } from '../../../src-main/engine/weights/safetensors-write.ts';
import type { TensorToWrite } from '../../../src-main/engine/weights/safetensors-write.ts';
import { sdxlStateDicts } from '../../fixtures/checkpoints/sdxl-tiny.ts';
import type { SdxlComponent } from '../../fixtures/checkpoints/sdxl-tiny.ts';

/** Bump when the values or layout written here change: a cached file of another version is rewritten. */
const GENERATOR_VERSION = 1;
const CHUNK = 1 << 22;
const METADATA = { format: 'pt', generator: `ourvidz-studio checkpoint bench v${GENERATOR_VERSION}` };

/** Uniform half-width and centre giving the standard deviation the tiny fixtures use (random-tensors.ts). */
function distribution(name: string, shape: readonly number[]): { halfWidth: number; centre: number } {
  const sqrt3 = Math.sqrt(3);
  if (shape.length >= 2) return { halfWidth: sqrt3 / Math.sqrt(shape.slice(1).reduce((a, b) => a * b, 1)), centre: 0 };
  if (/(^|\.)(norm\w*|ln_\w+|layer_norm\d*|final_layer_norm|group_norm)\.weight$/.test(name)) return { halfWidth: 0.1 * sqrt3, centre: 1 };
  return { halfWidth: 0.05 * sqrt3, centre: 0 };
}

/** One canonical tensor as fp16 chunks made on demand (the writer awaits each before asking for the next). */
function syntheticTensor(component: SdxlComponent, name: string, shape: readonly number[]): TensorToWrite {
  const count = shape.reduce((a, b) => a * b, 1);
  const { halfWidth, centre } = distribution(name, shape);
  return {
    name,
    dtype: 'F16',
    shape,
    data: async function* (): AsyncIterable<Uint8Array> {
      let s = hashString(`${component}/${name}`) || 1;
      const scale = halfWidth / 2147483648;
      const f32 = new Float32Array(Math.min(CHUNK, count));
      const f16 = new Float16Array(f32.length);
      for (let done = 0; done < count; done += f32.length) {
        const n = Math.min(f32.length, count - done);
        for (let i = 0; i < n; i++) {
          s ^= s << 13;
          s ^= s >>> 17;
          s ^= s << 5;
          f32[i] = centre + (s | 0) * scale;
        }
        f16.set(n === f32.length ? f32 : f32.subarray(0, n));
        yield new Uint8Array(f16.buffer, 0, n * 2);
      }
    },
  };
}

function fullSdxlSingleFileTensors(): TensorToWrite[] {
  const full = sdxlStateDicts().full;
  const part = (c: SdxlComponent): TensorToWrite[] => Object.entries(full[c]).map(([name, shape]) => syntheticTensor(c, name, shape));
  return sdxlCanonicalToSingleFile({ unet: part('unet'), textEncoder: part('text_encoder'), textEncoder2: part('text_encoder_2'), vae: part('vae') });
}

interface Stamp {
  readonly version: number;
  readonly bytes: number;
  readonly mtimeMs: number;
  readonly headerSha256: string;
}

const stampPath = (path: string): string => `${path}.stamp.json`;

async function matches(path: string, header: Buffer, bytes: number): Promise<boolean> {
  if (!existsSync(path) || !existsSync(stampPath(path))) return false;
  let stamp: Stamp;
  try {
    stamp = JSON.parse(readFileSync(stampPath(path), 'utf8')) as Stamp;
  } catch {
    return false;
  }
  const info = statSync(path);
  const headerSha256 = createHash('sha256').update(header).digest('hex');
  if (stamp.version !== GENERATOR_VERSION || stamp.bytes !== bytes || info.size !== bytes || stamp.mtimeMs !== info.mtimeMs || stamp.headerSha256 !== headerSha256) return false;
  const handle = await open(path, 'r');
  try {
    const onDisk = Buffer.alloc(header.length);
    await handle.read(onDisk, 0, header.length, 0);
    return onDisk.equals(header);
  } finally {
    await handle.close();
  }
}

/** The cached checkpoint at `path`, written if absent or stale. */
async function ensureFullSdxlCheckpoint(path: string): Promise<{ bytes: number; written: boolean; ms: number }> {
  const tensors = fullSdxlSingleFileTensors();
  const { header, totalBytes } = layoutSafetensors(tensors, METADATA);
  if (await matches(path, header, totalBytes)) return { bytes: totalBytes, written: false, ms: 0 };
  await mkdir(dirname(path), { recursive: true });
  await rm(stampPath(path), { force: true });
  const start = performance.now();
  const { bytes } = await writeSafetensors(path, tensors, { metadata: METADATA });
  const ms = performance.now() - start;
  const stamp: Stamp = { version: GENERATOR_VERSION, bytes, mtimeMs: statSync(path).mtimeMs, headerSha256: createHash('sha256').update(header).digest('hex') };
  await writeFile(stampPath(path), JSON.stringify(stamp, null, 2));
  return { bytes, written: true, ms };
}

const out = process.argv[2];
if (!out) {
  console.error('usage: checkpoint-write.ts OUT_FILE');
  process.exit(2);
}
const r = await ensureFullSdxlCheckpoint(out);
process.stdout.write(`${JSON.stringify({ path: out, ...r, maxRssMb: Math.round((process.resourceUsage().maxRSS * 1024) / 1e6) })}\n`);
