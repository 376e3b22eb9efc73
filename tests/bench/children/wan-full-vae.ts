/**
 * The full-size WAN 2.1 VAE decoder on the CPU, frame by frame, in a fresh process so its peak RSS
 * is the decoder's own (wan-full.bench.ts): reads the VAE file through the product's reader
 * (`storedFromFile` → `readWanVae`), builds the frame-cached float32 decoder
 * (`buildWanVaeDecoder`, weights left in the file as external data) and writes it to MODEL_OUT,
 * loads it as the pipeline does, then decodes CALLS latent frames of LATENT_HxLATENT_W one after
 * the other, each call's frame caches fed to the next (the first with `first_chunk` and zero
 * caches, as the pipeline starts a clip): build and load time, each call's time, RSS after load and
 * the peak RSS after each call (a process's peak only rises, so a later call's figure is the peak
 * up to and including it). A call whose output is not finite is refused.
 *
 * Prints JSON.
 *   node tests/bench/children/wan-full-vae.ts WEIGHTS MODEL_OUT 60x104 [CALLS=3]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import type { Tensor } from 'onnxruntime-node';
import * as ort from 'onnxruntime-node';
import { buildWanVaeDecoder, wanVaeDecoderConfigFromWeights } from '../../../src-main/engine/architectures/wan/vae-decoder.ts';
import { readWanVae } from '../../../src-main/engine/checkpoints/wan-vae-part.ts';
import { storedFromFile } from '../../../src-main/engine/checkpoints/wan-part-file.ts';
import { OrtRuntime, tensorFloat32 } from '../../../src-main/engine/inference/runtime.ts';
import { WAN_VAE_SESSION_OPTIONS } from '../../../src-main/engine/pipelines/wan/model.ts';
import { encodeModel } from '../../../src-main/engine/onnx/onnx-proto.ts';
import { Prng } from '../../../src-main/engine/onnx/tensor-data.ts';

const [weights, out, size, callsArg] = process.argv.slice(2);
const m = /^(\d+)x(\d+)$/.exec(size ?? '');
if (!weights || !out || !m) {
  console.error('usage: wan-full-vae.ts WEIGHTS MODEL_OUT LATENT_HxLATENT_W [CALLS]');
  process.exit(2);
}
const [h, w] = [Number(m[1]), Number(m[2])];
const calls = Number(callsArg ?? 3);
const rssMb = (): number => Math.round(process.memoryUsage().rss / 1e6);
const maxRssMb = (): number => Math.round((process.resourceUsage().maxRSS * 1024) / 1e6);

const start = performance.now();
const part = readWanVae(await storedFromFile(weights));
const config = wanVaeDecoderConfigFromWeights(part.weights);
const built = buildWanVaeDecoder(part.weights, config, { computeType: 'float32', folder: dirname(weights) });
const bytes = encodeModel(built.model);
writeFileSync(out, bytes);
const buildMs = performance.now() - start;
const maxRssAfterBuildMb = maxRssMb();

const runtime = new OrtRuntime({ providers: ['cpu'] });
// The session options the WAN pipeline loads its decoder with (no CPU arena: see WAN_VAE_SESSION_OPTIONS).
const loaded = await runtime.session(out, { providers: ['cpu'], externalDataFolder: dirname(weights), sessionOptions: WAN_VAE_SESSION_OPTIONS });
const rssAfterLoadMb = rssMb();
const maxRssAfterLoadMb = maxRssMb();

let caches: Record<string, Tensor> = {};
let cacheBytes = 0;
built.caches.forEach((c, i) => {
  const dims = [1, c.channels, 2, h * c.scale, w * c.scale];
  const n = dims.reduce((a, b) => a * b, 1);
  cacheBytes += 4 * n;
  caches[`feat_cache_in.${i}`] = tensorFloat32(new Float32Array(n), dims);
});
const prng = new Prng('wan-full-bench/vae');
const results = [];
for (let call = 0; call < calls; call++) {
  const feeds: Record<string, Tensor> = {
    latent_sample: tensorFloat32(prng.normalArray(16 * h * w, 1), [1, 16, 1, h, w]),
    first_chunk: new ort.Tensor('bool', Uint8Array.of(call === 0 ? 1 : 0), [1]),
    ...caches,
  };
  const t0 = performance.now();
  const result = await loaded.session.run(feeds);
  const ms = performance.now() - t0;
  const sample = result.sample!;
  const data = sample.data as Float32Array;
  let sum = 0;
  for (const v of data) {
    if (!Number.isFinite(v)) throw new Error(`VAE call ${call + 1} gave a non-finite output (${v}); the synthetic weights or the graph are wrong`);
    sum += v * v;
  }
  caches = {};
  built.caches.forEach((_, i) => {
    caches[`feat_cache_in.${i}`] = result[`feat_cache_out.${i}`]!;
  });
  results.push({ call: call + 1, firstChunk: call === 0, ms, outputDims: sample.dims, outputRms: Math.sqrt(sum / data.length), rssMb: rssMb(), maxRssMb: maxRssMb(), loadAverage: loadavg()[0] });
}
process.stdout.write(
  `${JSON.stringify({
    description: part.description,
    config: { zDim: config.zDim, mid: config.midChannels, upBlocks: config.upBlocks.map((b) => b.outChannels) },
    decoderParameters: [...part.weights.refs()].filter(([n]) => n.startsWith('decoder.') || n.startsWith('post_quant_conv.')).reduce((s, [, r]) => s + r.shape.reduce((a, b) => a * b, 1), 0),
    nodes: built.model.graph.nodes.length,
    caches: built.caches.length,
    cacheBytes,
    buildMs,
    maxRssAfterBuildMb,
    loadMs: loaded.loadMs,
    rssAfterLoadMb,
    maxRssAfterLoadMb,
    calls: results,
  })}\n`,
);
await runtime.releaseAll();
