/**
 * The full-size WAN 2.1 1.3B transformer on the CPU, one operation per fresh process so each peak
 * RSS is that operation's own (wan-full.bench.ts):
 *
 *   build WEIGHTS MODEL_OUT           reads the weight file's header through the product's reader
 *                                     (`storedFromFile` → `readWanTransformer`: ComfyUI's names to
 *                                     canonical ones, every shape checked), builds the float32 graph
 *                                     the CPU runs (`buildWanTransformer`, plain attention, weights
 *                                     left in the file as external data) and writes it to MODEL_OUT:
 *                                     time of each phase, the graph's size, peak RSS.
 *   run MODEL WEIGHTS_FOLDER SIZE…    loads that graph into an onnxruntime CPU session as the
 *                                     pipeline does (external data resolved in the weights' folder;
 *                                     onnxruntime casts the bf16 weights to float32 once, at load),
 *                                     then ONE forward per SIZE (`FRAMESxHEIGHTxWIDTH` in pixels:
 *                                     batch 1, one CFG half, a 512-token text context): load time,
 *                                     RSS after load, each forward's time and the peak RSS after it.
 *                                     A forward whose output is not finite is refused.
 *
 * Prints JSON.
 *   node tests/bench/children/wan-full-transformer.ts build WEIGHTS MODEL_OUT
 *   node tests/bench/children/wan-full-transformer.ts run MODEL WEIGHTS_FOLDER 17x256x256 [17x480x832]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { buildWanTransformer } from '../../../src-main/engine/architectures/wan/transformer.ts';
import { readWanTransformer } from '../../../src-main/engine/checkpoints/wan-transformer-part.ts';
import { storedFromFile } from '../../../src-main/engine/checkpoints/wan-part-file.ts';
import { inputInfo, OrtRuntime, tensorFloat32 } from '../../../src-main/engine/inference/runtime.ts';
import { encodeModel } from '../../../src-main/engine/onnx/onnx-proto.ts';
import { Prng } from '../../../src-main/engine/onnx/tensor-data.ts';

const [mode, ...args] = process.argv.slice(2);
const rssMb = (): number => Math.round(process.memoryUsage().rss / 1e6);
const maxRssMb = (): number => Math.round((process.resourceUsage().maxRSS * 1024) / 1e6);
/** The WAN VAE's compression: 4 frames and 8×8 pixels a latent value (the 1.3B's patches are 1×2×2 latents). */
const TEMPORAL = 4;
const SPATIAL = 8;
const TEXT_TOKENS = 512;

if (mode === 'build' && args.length === 2) {
  const [weights, out] = args as [string, string];
  const start = performance.now();
  const part = readWanTransformer(await storedFromFile(weights));
  const readMs = performance.now() - start;
  const model = buildWanTransformer(part.weights, part.config, { computeType: 'float32', folder: dirname(weights) });
  const buildMs = performance.now() - start - readMs;
  const bytes = encodeModel(model);
  writeFileSync(out, bytes);
  const ms = performance.now() - start;
  process.stdout.write(
    `${JSON.stringify({
      size: part.size,
      description: part.description,
      config: { dim: part.config.dim, layers: part.config.numLayers, heads: part.config.heads, ffn: part.config.ffnDim, textDim: part.config.textDim },
      parameters: [...part.weights.refs()].reduce((sum, [, ref]) => sum + ref.shape.reduce((a, b) => a * b, 1), 0),
      weightBytes: part.sizeBytes,
      nodes: model.graph.nodes.length,
      initializers: model.graph.initializers.length,
      modelBytes: bytes.byteLength,
      readMs,
      buildMs,
      encodeWriteMs: ms - readMs - buildMs,
      ms,
      maxRssMb: maxRssMb(),
    })}\n`,
  );
} else if (mode === 'run' && args.length >= 3) {
  const [model, folder, ...sizes] = args as [string, string, ...string[]];
  const runtime = new OrtRuntime({ providers: ['cpu'] });
  const rssBeforeMb = rssMb();
  const loaded = await runtime.session(model, { providers: ['cpu'], externalDataFolder: folder });
  const afterLoad = { loadMs: loaded.loadMs, provider: loaded.provider, rssAfterLoadMb: rssMb(), maxRssAfterLoadMb: maxRssMb() };
  // The text width the graph reads (4096 for WAN 2.1's UMT5-XXL states).
  const textDim = inputInfo(loaded.session).find((v) => v.name === 'encoder_hidden_states')?.shape?.at(-1);
  if (typeof textDim !== 'number') throw new Error(`${model} has no encoder_hidden_states input of a fixed width`);
  const forwards = [];
  for (const size of sizes) {
    const m = /^(\d+)x(\d+)x(\d+)$/.exec(size);
    if (!m) throw new Error(`${size}: give FRAMESxHEIGHTxWIDTH, e.g. 17x256x256`);
    const [frames, height, width] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const latent = [1, 16, (frames - 1) / TEMPORAL + 1, height / SPATIAL, width / SPATIAL] as const;
    if (!latent.every(Number.isInteger)) throw new Error(`${size}: frames must be 4k+1 and the size a multiple of ${SPATIAL}`);
    const tokens = latent[2] * (latent[3] / 2) * (latent[4] / 2);
    const prng = new Prng(`wan-full-bench/${size}`);
    const feeds = {
      hidden_states: tensorFloat32(prng.normalArray(latent.reduce((a, b) => a * b, 1), 1), latent),
      timestep: tensorFloat32(Float32Array.of(937), [1]),
      encoder_hidden_states: tensorFloat32(prng.normalArray(TEXT_TOKENS * textDim, 0.2), [1, TEXT_TOKENS, textDim]),
    };
    const start = performance.now();
    const out = await loaded.session.run(feeds);
    const ms = performance.now() - start;
    const data = out.sample!.data as Float32Array;
    let sum = 0;
    for (const v of data) {
      if (!Number.isFinite(v)) throw new Error(`the forward at ${size} gave a non-finite output (${v}); the synthetic weights or the graph are wrong`);
      sum += v * v;
    }
    forwards.push({ size, latent, tokens, ms, outputRms: Math.sqrt(sum / data.length), maxRssMb: maxRssMb(), loadAverage: loadavg()[0] });
  }
  process.stdout.write(`${JSON.stringify({ ...afterLoad, rssBeforeMb, forwards, maxRssMb: maxRssMb() })}\n`);
  await runtime.releaseAll();
} else {
  console.error('usage: wan-full-transformer.ts build WEIGHTS MODEL_OUT | run MODEL WEIGHTS_FOLDER FRAMESxHxW…');
  process.exit(2);
}
