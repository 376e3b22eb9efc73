/**
 * The WAN VAE decode in spatial tiles (`decodeWanChunks` with `tiling`) against diffusers' own tiled
 * decode (`AutoencoderKLWan.enable_tiling()` then `decode`) on the tiny random-weight VAE, through the
 * studio's frame-cached graph built from the same weights (references made by
 * make_vae_tiled_reference.py, see vae-tiled.md). Within 1e-4 relative (max |diff| / max |ref|,
 * float32), the bound the untiled comparison uses (tests/unit/architectures/wan-vae.test.ts).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWanVaeDecoder, wanVaeDecoderConfigFromWeights, wanVaeDecoderConfigJson } from '../../../src-main/engine/architectures/wan/vae-decoder.ts';
import { OrtRuntime, inputInfo, outputInfo } from '../../../src-main/engine/inference/runtime.ts';
import { parseWanVaeConfig, resolveVaeDecoderIo, type IoValue } from '../../../src-main/engine/models/wan-validator.ts';
import { encodeModel } from '../../../src-main/engine/onnx/index.ts';
import { DEFAULT_TILE_SIZE, DEFAULT_TILE_STRIDE, decodeWanChunks, newDecodeStats, videoFrames } from '../../../src-main/engine/pipelines/wan/vae-decode.ts';
import type { DecodeOptions, DecodeStats, LatentVideo, WanVae } from '../../../src-main/engine/pipelines/wan/vae-decode.ts';
import { readSafetensorsHeader, readTensorBytes, tensorRefs, type SafetensorsHeader } from '../../../src-main/engine/weights/safetensors.ts';
import { WeightSet } from '../../../src-main/engine/weights/tensor-ref.ts';
import { VAE_WEIGHTS_FILE, vaeFolderName } from '../../fixtures/reference/wan/vae-cases.ts';
import { VAE_TILED_CASES, VAE_TILED_INPUTS_FILE, vaeTiledCaseLatents, writeVaeTiledReferenceInputs, type VaeTiledCase } from '../../fixtures/reference/wan/vae-tiled-cases.ts';
import { relativeError } from '../architectures/compare.ts';

const REFERENCE = fileURLToPath(new URL('../../fixtures/reference/wan/vae-tiled-reference.safetensors', import.meta.url));
/** The untiled comparison's bound (wan-vae.test.ts): float32 through the same graph. */
const TOLERANCE = 1e-4;

let dir: string;
let reference: SafetensorsHeader;
let vae: WanVae;
const runtime = new OrtRuntime({ providers: ['cpu'], sessionOptions: { intraOpNumThreads: 2, logSeverityLevel: 3 } });
const measured: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ourvidz-wan-vae-tiled-'));
  await writeVaeTiledReferenceInputs(dir);
  reference = await readSafetensorsHeader(REFERENCE);
  const weights = new WeightSet('tiny WAN VAE (F32)', tensorRefs(await readSafetensorsHeader(join(dir, vaeFolderName('F32'), VAE_WEIGHTS_FILE))));
  const config = wanVaeDecoderConfigFromWeights(weights);
  const path = join(dir, 'vae-decoder.onnx');
  await writeFile(path, encodeModel(buildWanVaeDecoder(weights, config, { computeType: 'float32', folder: dir }).model));
  const { session } = await runtime.session(path, { externalDataFolder: dir });
  const json = wanVaeDecoderConfigJson(config);
  const map = (v: ReturnType<typeof inputInfo>[number]): IoValue => ({ name: v.name, type: v.type ?? '', shape: v.shape ?? [] });
  const problems: string[] = [];
  const io = resolveVaeDecoderIo(inputInfo(session).map(map), outputInfo(session).map(map), json, problems);
  const vaeConfig = parseWanVaeConfig(json, problems);
  expect(problems).toEqual([]);
  vae = { session, io: io!, config: vaeConfig! };
});
afterAll(async () => {
  await runtime.releaseAll();
  await rm(dir, { recursive: true, force: true });
  if (measured.length) console.log(`WAN VAE tiled decode vs diffusers, max |diff| / max |ref|:\n  ${measured.join('\n  ')}`);
});

const latentsOf = (c: VaeTiledCase): LatentVideo => ({ data: vaeTiledCaseLatents(c), frames: c.frames, height: c.height, width: c.width });
const tileOptions = (c: VaeTiledCase): Partial<DecodeOptions> => (c.tile ? { tileSize: c.tile.size, tileStride: c.tile.stride } : {});

/** The clip as the pipeline receives it, gathered into [3, frames, H, W]. */
async function decodeClip(v: WanVae, latents: LatentVideo, options: Partial<DecodeOptions>): Promise<{ clip: Float32Array; stats: DecodeStats }> {
  const F = videoFrames(latents.frames);
  const plane = 64 * latents.height * latents.width;
  const clip = new Float32Array(3 * F * plane);
  const stats = newDecodeStats('cached');
  let t = 0;
  for await (const chunk of decodeWanChunks(runtime, v, latents, { signal: new AbortController().signal, ...options }, stats)) {
    expect([chunk.height, chunk.width]).toEqual([8 * latents.height, 8 * latents.width]);
    for (let f = chunk.first; f < chunk.first + chunk.count; f++, t++) {
      for (let ch = 0; ch < 3; ch++) clip.set(chunk.data.subarray((ch * chunk.frames + f) * plane, (ch * chunk.frames + f + 1) * plane), (ch * F + t) * plane);
    }
  }
  expect(t).toBe(F);
  return { clip, stats };
}

async function referenceOutput(key: string): Promise<Float32Array> {
  const bytes = await readTensorBytes(reference, key);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

describe('tiled WAN VAE decode against diffusers', () => {
  it('was computed from exactly the files this test regenerates', async () => {
    const sources = JSON.parse(reference.metadata.sources ?? '{}') as Record<string, string>;
    expect(Object.keys(sources).sort()).toEqual(['vae-F32/config.json', 'vae-F32/diffusion_pytorch_model.safetensors', VAE_TILED_INPUTS_FILE].sort());
    for (const [file, hash] of Object.entries(sources)) expect(createHash('sha256').update(await readFile(join(dir, file))).digest('hex'), file).toBe(hash);
  });

  for (const c of VAE_TILED_CASES) {
    const size = c.tile?.size ?? DEFAULT_TILE_SIZE;
    const stride = c.tile?.stride ?? DEFAULT_TILE_STRIDE;
    const rows = Math.ceil(c.height / (stride / 8));
    const cols = Math.ceil(c.width / (stride / 8));

    it(`${c.name}: ${rows} × ${cols} tiles of ${size} px every ${stride} give diffusers' tiled frames`, async () => {
      const tiles = (JSON.parse(reference.metadata.tiles ?? '{}') as Record<string, { rows: number; columns: number; size: number; stride: number }>)[c.name];
      expect(tiles).toEqual({ rows, columns: cols, size, stride });
      // The defaults case is decoded the way the pipeline decodes: no option at all ('auto').
      const told: string[] = [];
      const onTile = (done: number, of: number): number => told.push(`${done}/${of}`);
      const { clip, stats } = await decodeClip(vae, latentsOf(c), c.tile ? { tiling: 'on', onTile, ...tileOptions(c) } : { onTile });
      expect(stats.tiled).toEqual({ tiles: rows * cols, tileSize: size, stride });
      expect(told).toEqual(Array.from({ length: rows * cols }, (_, k) => `${k + 1}/${rows * cols}`));
      expect(stats).toMatchObject({ mode: 'cached', calls: rows * cols * c.frames, note: null });
      const tiled = await referenceOutput(`tiled/${c.name}`);
      const untiled = await referenceOutput(`untiled/${c.name}`);
      const error = relativeError(clip, tiled);
      measured.push(`${c.name} tiled: ${error.toExponential(1)}`);
      expect(error).toBeLessThan(TOLERANCE);
      // The tiles really happen: against the untiled decode the seams differ far beyond rounding.
      const seams = relativeError(clip, untiled);
      measured.push(`${c.name} tiled vs untiled: ${seams.toExponential(1)}`);
      expect(seams).toBeGreaterThan(1e-2);
    });

    it(`${c.name}: tiling 'off' still gives diffusers' untiled frames`, async () => {
      const { clip, stats } = await decodeClip(vae, latentsOf(c), { tiling: 'off', ...tileOptions(c) });
      expect(stats).toMatchObject({ tiled: null, calls: c.frames });
      const error = relativeError(clip, await referenceOutput(`untiled/${c.name}`));
      measured.push(`${c.name} off: ${error.toExponential(1)}`);
      expect(error).toBeLessThan(TOLERANCE);
    });
  }
});

describe('when the decode is tiled', () => {
  const small = VAE_TILED_CASES.find((c) => c.name === 'small-tiles')!;

  it('decodes a frame no larger than one tile whole, even with tiling on (as diffusers does)', async () => {
    const latents = { ...latentsOf(small), height: 4, width: 4, data: latentsOf(small).data.subarray(0, 16 * small.frames * 16) };
    const { stats } = await decodeClip(vae, latents, { tiling: 'on', tileSize: 32, tileStride: 24 });
    expect(stats).toMatchObject({ tiled: null, calls: small.frames });
  });

  it("falls back to a whole-frame decode on 'auto', and refuses on 'on', when the export's frame size is fixed", async () => {
    const fixed: WanVae = { ...vae, io: { ...vae.io, latent: { ...vae.io.latent, shape: [1, 16, 1, small.height, small.width] } } };
    const options = { tileSize: 32, tileStride: 24 };
    const auto = await decodeClip(fixed, latentsOf(small), { tiling: 'auto', ...options });
    expect(auto.stats).toMatchObject({ tiled: null, calls: small.frames });
    await expect(decodeClip(fixed, latentsOf(small), { tiling: 'on', ...options })).rejects.toThrow(/fixed frame size, so it cannot decode in tiles; set VAE tiling to 'auto' or 'off'/);
  });

  it('refuses tile sizes the decoder cannot use, saying what would work', async () => {
    await expect(decodeClip(vae, latentsOf(small), { tileSize: 30 })).rejects.toThrow(/tile size must be a whole multiple of 8 pixels \(got 30\)/);
    await expect(decodeClip(vae, latentsOf(small), { tileSize: 32, tileStride: 40 })).rejects.toThrow(/stride \(40 px\) is larger than the tile \(32 px\)/);
  });

  it('stops between tiles when cancelled', async () => {
    const controller = new AbortController();
    const stats = newDecodeStats('cached');
    let calls = 0;
    const rt = Object.create(runtime) as OrtRuntime;
    rt.run = async (...args: Parameters<OrtRuntime['run']>) => {
      if (++calls === small.frames + 1) controller.abort();
      return runtime.run(...args);
    };
    const run = async (): Promise<void> => {
      for await (const chunk of decodeWanChunks(rt, vae, latentsOf(small), { signal: controller.signal, tiling: 'on', tileSize: 32, tileStride: 24 }, stats)) void chunk;
    };
    await expect(run()).rejects.toThrow('cancelled');
    expect(stats.calls).toBe(small.frames + 1);
  });
});
