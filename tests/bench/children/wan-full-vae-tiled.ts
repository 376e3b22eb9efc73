/**
 * The full-size WAN 2.1 VAE decoder on the CPU decoding in spatial tiles, in a fresh process so its
 * peak RSS is the decode's own (wan-full.bench.ts): builds the frame-cached float32 decoder from
 * WEIGHTS as wan-full-vae.ts does, loads it as the pipeline does (WAN_VAE_SESSION_OPTIONS), then
 * decodes FRAMES latent frames of LATENT_HxLATENT_W (normal draws) through the product's
 * `decodeWanChunks` with `tiling: 'on'` at diffusers' default tiles (256 px every 192): each tile
 * over every frame with its own caches, blended, the clip's frames out at the end. Reports the
 * whole decode's time, each latent frame's time summed over the tiles (the first frame's calls
 * carry `first_chunk` and zero caches; the untiled figures are a call per frame), the calls, the
 * tiles, RSS after load and the process's peak RSS. A non-finite output is refused.
 *
 * Prints JSON.
 *   node tests/bench/children/wan-full-vae-tiled.ts WEIGHTS MODEL_OUT 60x104 [FRAMES=2]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { buildWanVaeDecoder, wanVaeDecoderConfigFromWeights, wanVaeDecoderConfigJson } from '../../../src-main/engine/architectures/wan/vae-decoder.ts';
import { readWanVae } from '../../../src-main/engine/checkpoints/wan-vae-part.ts';
import { storedFromFile } from '../../../src-main/engine/checkpoints/wan-part-file.ts';
import { OrtRuntime, inputInfo, outputInfo } from '../../../src-main/engine/inference/runtime.ts';
import { parseWanVaeConfig, resolveVaeDecoderIo, type IoValue } from '../../../src-main/engine/models/wan-validator.ts';
import { encodeModel } from '../../../src-main/engine/onnx/onnx-proto.ts';
import { Prng } from '../../../src-main/engine/onnx/tensor-data.ts';
import { WAN_VAE_SESSION_OPTIONS } from '../../../src-main/engine/pipelines/wan/model.ts';
import { decodeWanChunks, newDecodeStats } from '../../../src-main/engine/pipelines/wan/vae-decode.ts';

const [weights, out, size, framesArg] = process.argv.slice(2);
const m = /^(\d+)x(\d+)$/.exec(size ?? '');
if (!weights || !out || !m) {
  console.error('usage: wan-full-vae-tiled.ts WEIGHTS MODEL_OUT LATENT_HxLATENT_W [FRAMES]');
  process.exit(2);
}
const [h, w] = [Number(m[1]), Number(m[2])];
const frames = Number(framesArg ?? 2);
const rssMb = (): number => Math.round(process.memoryUsage().rss / 1e6);
const maxRssMb = (): number => Math.round((process.resourceUsage().maxRSS * 1024) / 1e6);

const start = performance.now();
const part = readWanVae(await storedFromFile(weights));
const config = wanVaeDecoderConfigFromWeights(part.weights);
writeFileSync(out, encodeModel(buildWanVaeDecoder(part.weights, config, { computeType: 'float32', folder: dirname(weights) }).model));
const buildMs = performance.now() - start;

const runtime = new OrtRuntime({ providers: ['cpu'] });
const loaded = await runtime.session(out, { providers: ['cpu'], externalDataFolder: dirname(weights), sessionOptions: WAN_VAE_SESSION_OPTIONS });
const rssAfterLoadMb = rssMb();
const maxRssAfterLoadMb = maxRssMb();
const json = wanVaeDecoderConfigJson(config);
const map = (v: ReturnType<typeof inputInfo>[number]): IoValue => ({ name: v.name, type: v.type ?? '', shape: v.shape ?? [] });
const problems: string[] = [];
const io = resolveVaeDecoderIo(inputInfo(loaded.session).map(map), outputInfo(loaded.session).map(map), json, problems);
const vaeConfig = parseWanVaeConfig(json, problems);
if (!io || !vaeConfig) throw new Error(`the decoder's contract: ${problems.join('; ')}`);

// Every call timed; a tile's calls run its latent frames in order, so call k of a tile is frame k.
const callMs: number[] = [];
const timed = Object.create(runtime) as OrtRuntime;
timed.run = async (session: InferenceSession, feeds: Parameters<OrtRuntime['run']>[1], options?: InferenceSession.RunOptions) => {
  const t0 = performance.now();
  const result = await runtime.run(session, feeds, options);
  callMs.push(performance.now() - t0);
  return result;
};

const latents = { data: new Prng('wan-full-bench/vae-tiled').normalArray(16 * frames * h * w, 1), frames, height: h, width: w };
const stats = newDecodeStats('cached');
const t0 = performance.now();
let videoFrames = 0;
let sum = 0;
let count = 0;
for await (const chunk of decodeWanChunks(timed, { session: loaded.session, io, config: vaeConfig }, latents, { signal: new AbortController().signal, tiling: 'on' }, stats)) {
  for (const v of chunk.data) {
    if (!Number.isFinite(v)) throw new Error(`the tiled decode gave a non-finite output (${v}); the synthetic weights or the graph are wrong`);
    sum += v * v;
  }
  count += chunk.data.length;
  videoFrames += chunk.count;
}
const decodeMs = performance.now() - t0;
const frameMs = Array.from({ length: frames }, (_, k) => callMs.filter((_, i) => i % frames === k).reduce((a, b) => a + b, 0));
process.stdout.write(
  `${JSON.stringify({
    description: part.description,
    latent: [frames, h, w],
    videoFrames,
    buildMs,
    loadMs: loaded.loadMs,
    rssAfterLoadMb,
    maxRssAfterLoadMb,
    tiled: stats.tiled,
    calls: stats.calls,
    decodeMs,
    frameMs,
    outputRms: Math.sqrt(sum / count),
    maxRssMb: maxRssMb(),
    rssMb: rssMb(),
    loadAverage: loadavg()[0],
  })}\n`,
);
await runtime.releaseAll();
