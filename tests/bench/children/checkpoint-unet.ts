/**
 * Loads a prepared full-size SDXL UNet on the CPU and runs one CFG step at 512×512 (batch 2,
 * 64×64 latents, a 77-token context), in a fresh process so the peak RSS is the UNet's own.
 *
 *   plain PREPARED_FOLDER            the prepared unet/model.onnx (float32, plain attention),
 *                                    opened as the pipeline opens it (`loadComponent`): the
 *                                    checkpoint's folder is the external-data folder and
 *                                    onnxruntime casts the fp16 weights to float32 once, at load.
 *   fused PREPARED_FOLDER BUILD_DIR  the same UNet built with fused attention
 *                                    (com.microsoft.MultiHeadAttention) in float32 — the CPU form of
 *                                    the GPU graph's attention — written to BUILD_DIR and opened the
 *                                    same way; its build time is reported apart from the load.
 *
 * Runs the step twice (the first call also sets up onnxruntime's buffers) and refuses to report a
 * step whose output is not finite. Prints JSON.
 * With OUTPUT_FILE set, the last step's output is written there (raw float32), for comparing variants.
 *   node tests/bench/children/checkpoint-unet.ts plain|fused PREPARED_FOLDER [BUILD_DIR]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from 'onnxruntime-node';
import { readComponentWeights, readPreparedManifest } from '../../../src-main/engine/checkpoints/prepared.ts';
import { splitSdxlSingleFile } from '../../../src-main/engine/checkpoints/layouts/sdxl-single-file.ts';
import { sdxlConfigs } from '../../../src-main/engine/checkpoints/sdxl-graphs.ts';
import { buildUnet } from '../../../src-main/engine/architectures/sdxl/unet.ts';
import { encodeModel } from '../../../src-main/engine/onnx/onnx-proto.ts';
import { Prng } from '../../../src-main/engine/onnx/tensor-data.ts';
import { OrtRuntime, tensorFloat32 } from '../../../src-main/engine/inference/runtime.ts';
import type { LoadedSession } from '../../../src-main/engine/inference/runtime.ts';
import { loadComponent } from '../../../src-main/engine/pipelines/common/model-files.ts';
import { readSafetensorsHeader } from '../../../src-main/engine/weights/safetensors.ts';

const [mode, folder, buildDir] = process.argv.slice(2);
if (!folder || (mode !== 'plain' && mode !== 'fused') || (mode === 'fused' && !buildDir)) {
  console.error('usage: checkpoint-unet.ts plain|fused PREPARED_FOLDER [BUILD_DIR]');
  process.exit(2);
}

const BATCH = 2;
const LATENT = 64;
const TOKENS = 77;
const rssMb = (): number => Math.round(process.memoryUsage().rss / 1e6);
const maxRssMb = (): number => Math.round((process.resourceUsage().maxRSS * 1024) / 1e6);

/** The fused-attention float32 UNet of the prepared model's checkpoint, written to `dir`. */
async function buildFused(dir: string): Promise<{ path: string; buildMs: number }> {
  const start = performance.now();
  const manifest = readPreparedManifest(folder!);
  const source = manifest?.sources[0];
  if (manifest?.kind !== 'sdxl_single_file' || !source) throw new Error(`${folder} is not a prepared single-file checkpoint`);
  const parts = splitSdxlSingleFile(await readSafetensorsHeader(source.realPath));
  const configs = sdxlConfigs({ unet: parts.unet, textEncoder: parts.textEncoder, textEncoder2: parts.textEncoder2, vae: parts.vae! });
  const weights = readComponentWeights(join(folder!, 'unet'))!;
  const graph = buildUnet(parts.unet, configs.unet, { computeType: 'float32', attention: 'fused', folder: weights.folder });
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'model.onnx');
  writeFileSync(path, encodeModel(graph));
  return { path, buildMs: performance.now() - start };
}

function feeds(): Record<string, Tensor> {
  const prng = new Prng('checkpoint-bench/unet-inputs');
  const normal = (n: number, std: number): Float32Array => prng.normalArray(n, std);
  const timeIds = Float32Array.from({ length: BATCH * 6 }, (_, i) => [512, 512, 0, 0, 512, 512][i % 6]!);
  return {
    sample: tensorFloat32(normal(BATCH * 4 * LATENT * LATENT, 1), [BATCH, 4, LATENT, LATENT]),
    timestep: tensorFloat32(Float32Array.from({ length: BATCH }, () => 500), [BATCH]),
    encoder_hidden_states: tensorFloat32(normal(BATCH * TOKENS * 2048, 1), [BATCH, TOKENS, 2048]),
    text_embeds: tensorFloat32(normal(BATCH * 1280, 1), [BATCH, 1280]),
    time_ids: tensorFloat32(timeIds, [BATCH, 6]),
  };
}

const runtime = new OrtRuntime({ providers: ['cpu'] });
let buildMs: number | null = null;
let loaded: LoadedSession;
if (mode === 'plain') {
  loaded = await loadComponent(runtime, folder, 'unet', ['cpu']);
} else {
  const built = await buildFused(buildDir!);
  buildMs = built.buildMs;
  loaded = await runtime.session(built.path, { providers: ['cpu'], externalDataFolder: readComponentWeights(join(folder, 'unet'))!.folder });
}
const rssAfterLoadMb = rssMb();
const maxRssAfterLoadMb = maxRssMb();
const inputs = feeds();
const stepMs: number[] = [];
let outputRms = 0;
let output: Float32Array = new Float32Array(0);
for (let i = 0; i < 2; i++) {
  const start = performance.now();
  const out = await loaded.session.run(inputs);
  stepMs.push(performance.now() - start);
  const data = out.out_sample!.data as Float32Array;
  let sum = 0;
  for (const v of data) {
    if (!Number.isFinite(v)) throw new Error(`the ${mode} UNet gave a non-finite output (${v}); the synthetic weights or the graph are wrong`);
    sum += v * v;
  }
  outputRms = Math.sqrt(sum / data.length);
  output = data;
}
// 1-minute load average over the steps (their own threads included): how much else shared the cores.
const loadAverage = loadavg()[0];
if (process.env.OUTPUT_FILE) writeFileSync(process.env.OUTPUT_FILE, output);
process.stdout.write(
  `${JSON.stringify({ mode, provider: loaded.provider, buildMs, loadMs: loaded.loadMs, stepMs, outputRms, loadAverage, rssAfterLoadMb, maxRssAfterLoadMb, maxRssMb: maxRssMb() })}\n`,
);
await runtime.releaseAll();
