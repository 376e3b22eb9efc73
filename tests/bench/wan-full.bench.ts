/**
 * WAN 2.1 T2V 1.3B at full size on the CPU (docs/benchmarks.md, "WAN 2.1 1.3B at full size"):
 *
 * - a synthetic 1.3B set of the real shapes (transformer: dim 1536, 30 blocks, 12 heads, FFN 8960,
 *   text 4096, 16 latent channels, 1×2×2 patches; the whole WAN 2.1 VAE; UMT5-XXL's encoder when
 *   the disk has room), random bf16 weights, as ComfyUI's `models/` folder lays out its files,
 *   written by children/wan-full-write.ts into a temporary folder (3.1 GB, 14.5 GB with UMT5-XXL)
 *   and deleted afterwards;
 * - `prepareCheckpoint` on that folder against a plain copy of the same files (and of the
 *   transformer file alone), alternating, three rounds: wall time, the ratio, peak RSS, extra disk;
 * - the transformer graph built from those weights by the product's reader and builder, in a
 *   fresh process: time and peak RSS;
 * - that float32 graph loaded into an onnxruntime CPU session and ONE forward (batch 1, one CFG
 *   half, 512 text tokens) per size, each size in a fresh process: load time, RSS after load, the
 *   forward's time, peak RSS. 17 frames at 256×256 (1,280 tokens) always; 17 frames at 480×832
 *   (7,800 tokens, the real job's size) when `WAN_FULL_SIZES` names it or by default when enough
 *   memory is free (its plain attention holds 12 × 7,800² float32 scores a layer);
 * - the frame-cached VAE decoder (`buildWanVaeDecoder`) at 480×832 (latent 60×104): build, load,
 *   the first call (first_chunk, zero caches) and the next one (the first call's caches), each
 *   call's time and the peak RSS after it;
 * - the same decoder decoding 2 latent frames at that size in spatial tiles (`decodeWanChunks`,
 *   diffusers' default 256-pixel tiles every 192), in a fresh process: the whole decode's time,
 *   each latent frame's time summed over its tiles, peak RSS (children/wan-full-vae-tiled.ts).
 *
 * Runs from `npm run bench -- wan-full`, or on its own: node tests/bench/wan-full.bench.ts
 * Needs about 32 GB free in the temporary folder for the prepare figures (4 GB without them) and
 * 16 GiB of free memory for the 480×832 forward (less for the rest; the bench skips what does not
 * fit, saying so). Took 16 minutes on two shared cores (2026-12-06), most of it the 480×832 forward; the tiled VAE decode at 480×832 adds about 7 minutes. `WAN_FULL_SIZES=17x256x256` keeps it to the small forward.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench, Figure } from './harness.ts';
import { median, meets } from './harness.ts';

const child = (name: string): string => fileURLToPath(new URL(`./children/${name}`, import.meta.url));
const DEFAULT_SIZES = ['17x256x256', '17x480x832'];
/** Free memory wanted before each step (GiB): the float32 weights are 5.7 GB; 480×832's attention scores add ~3 GB a copy. */
const NEEDS_GIB = { transformer: 10, transformerLarge: 16, vae: 8 } as const;
/** Latent size of the VAE figures: 60×104 (480×832, a released size; peak ≈ 16 GB) by default; `WAN_FULL_VAE_LATENT=30x52` for 240×416 on a smaller machine. */
const VAE_LATENT = process.env.WAN_FULL_VAE_LATENT ?? '60x104';
const VAE_CALLS = 2;
/** Latent frames of the tiled VAE figure: the first (first_chunk) and a later one, as the untiled calls. */
const VAE_TILED_FRAMES = 2;

interface Prepared { ms: number; phaseAt: Record<string, number>; folder: string; description: string; folderApparentBytes: number; folderAllocatedBytes: number; maxRssMb: number; loadAverage: number }
interface Copied { ms: number; fsyncMs: number; maxRssMb: number; loadAverage: number }
interface Written { files: Record<string, { path: string; bytes: number }>; bytes: number; ms: number; maxRssMb: number }
interface Built {
  size: string | null;
  description: string;
  config: Record<string, number>;
  parameters: number;
  weightBytes: number;
  nodes: number;
  initializers: number;
  modelBytes: number;
  readMs: number;
  buildMs: number;
  encodeWriteMs: number;
  ms: number;
  maxRssMb: number;
}
interface Forward { size: string; latent: number[]; tokens: number; ms: number; outputRms: number; maxRssMb: number; loadAverage: number }
interface Ran { loadMs: number; provider: string; rssBeforeMb: number; rssAfterLoadMb: number; maxRssAfterLoadMb: number; forwards: Forward[]; maxRssMb: number }
interface VaeCall { call: number; firstChunk: boolean; ms: number; outputDims: number[]; outputRms: number; rssMb: number; maxRssMb: number; loadAverage: number }
interface VaeRun {
  description: string;
  decoderParameters: number;
  nodes: number;
  caches: number;
  cacheBytes: number;
  buildMs: number;
  maxRssAfterBuildMb: number;
  loadMs: number;
  rssAfterLoadMb: number;
  maxRssAfterLoadMb: number;
  calls: VaeCall[];
}

/** Runs a child and returns its JSON, printed as it comes so a later failure loses nothing. */
function runChild<T>(script: string, args: readonly string[]): T {
  const out = execFileSync(process.execPath, [child(script), ...args], { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = out.trim().split('\n').at(-1)!;
  console.log(`  ${script} ${args.at(0) ?? ''}: ${line}`);
  return JSON.parse(line) as T;
}

/** A child that failed (killed for memory, above all) as a figure saying so, instead of losing the run's other figures. */
function failed(what: string, e: unknown): Figure {
  const error = e as { signal?: string | null; status?: number | null; message?: string };
  const how = error.signal ? `killed by ${error.signal}${error.signal === 'SIGKILL' ? ' (the kernel\'s OOM killer, when memory runs out)' : ''}` : `exit status ${error.status ?? '?'}`;
  console.log(`  ${what} failed: ${how}`);
  return { name: `${what}: FAILED, ${how}`, value: NaN, unit: '', note: (error.message ?? String(e)).split('\n')[0] };
}

/** MemAvailable from /proc/meminfo, or null off Linux. */
function availableGiB(): number | null {
  try {
    const kb = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
    return kb ? Number(kb) / 2 ** 20 : null;
  } catch {
    return null;
  }
}

/** A figure saying a step was skipped for want of memory, or null when there is enough. */
function tooLittleMemory(what: string, needs: number): Figure | null {
  const available = availableGiB();
  if (available === null || available >= needs) return null;
  return { name: `${what} skipped: ${needs} GiB of free memory wanted`, value: available, unit: 'GiB available' };
}

/** Reads each file once (into the page cache) and says how much of them is resident afterwards. */
async function warm(paths: readonly string[]): Promise<number | null> {
  let bytes = 0;
  let resident = 0;
  for (const path of paths) {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.allocUnsafe(16 << 20);
      let position = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) break;
        position += bytesRead;
      }
      bytes += position;
    } finally {
      await handle.close();
    }
    const share = residentBytes(path);
    if (share === null) return null;
    resident += share;
  }
  return resident / bytes;
}

/** Bytes of a file in the page cache (util-linux fincore), or null where that tool is missing. */
function residentBytes(path: string): number | null {
  try {
    const bytes = Number(execFileSync('fincore', ['--bytes', '--noheadings', '--raw', '--output', 'RES', path], { encoding: 'utf8' }).trim());
    return Number.isFinite(bytes) ? bytes : null;
  } catch {
    return null;
  }
}

const pct = (share: number | null): string => (share === null ? 'unknown' : `${Math.round(100 * share)} %`);
/** Free disk wanted for the whole set (3.1 GB + UMT5-XXL 11.4 GB) and a copy of it beside. */
const PREPARE_DISK = 32e9;
const ROUNDS = 3;

/**
 * `prepareCheckpoint` on the ComfyUI folder against `fs.copyFile` of the set's files to the same
 * disk, alternating, each in a fresh process after reading the files it reads, so both start from
 * a warm page cache as far as memory allows (the residency is reported).
 */
async function prepareFigures(root: string, setDir: string, written: Written): Promise<Figure[]> {
  const files = Object.values(written.files).map((f) => f.path);
  const transformer = written.files.transformer!;
  const prepared: Prepared[] = [];
  const copiedSet: Copied[] = [];
  const copiedTransformer: Copied[] = [];
  const resident: string[] = [];
  const copyDir = join(root, 'copy');
  for (let round = 0; round < ROUNDS; round++) {
    const modelsDir = join(root, `models-${round}`);
    resident.push(`prepare ${pct(await warm([transformer.path]))} of the transformer`);
    prepared.push(runChild<Prepared>('wan-full-prepare.ts', ['prepare', setDir, modelsDir]));
    if (round < ROUNDS - 1) await rm(modelsDir, { recursive: true, force: true });
    resident.push(`set copy ${pct(await warm(files))}`);
    copiedSet.push(runChild<Copied>('wan-full-prepare.ts', ['copy', copyDir, ...files]));
    await rm(copyDir, { recursive: true, force: true });
    await warm([transformer.path]);
    copiedTransformer.push(runChild<Copied>('wan-full-prepare.ts', ['copy', copyDir, transformer.path]));
    await rm(copyDir, { recursive: true, force: true });
  }
  const prepareMs = median(prepared.map((p) => p.ms));
  const setMs = median(copiedSet.map((c) => c.ms));
  const transformerMs = median(copiedTransformer.map((c) => c.ms));
  const phase = (name: string): number => median(prepared.map((p) => p.phaseAt[name] ?? NaN));
  const hashMs = phase('writing') - phase('hashing');
  const last = prepared.at(-1)!;
  const load = Math.max(...prepared.map((p) => p.loadAverage), ...copiedSet.map((c) => c.loadAverage));
  const runs = (xs: readonly { ms: number }[]): string => xs.map((x) => s(x.ms).toFixed(1)).join(', ');
  return [
    {
      name: 'prepareCheckpoint on the full-size ComfyUI set (transformer + UMT5-XXL + VAE, both graph sets), wall time',
      value: s(prepareMs),
      unit: 's',
      note: `${last.description}; median of ${ROUNDS}, runs ${runs(prepared)} s, alternating with the copies; page cache before each: ${resident.join('; ')}; 1-min load average up to ${load.toFixed(1)}`,
    },
    { name: 'prepare: reading the set and building the six graphs (before the hash)', value: s(phase('hashing')), unit: 's' },
    { name: 'prepare: sha256 of the transformer file (the model hash)', value: s(hashMs), unit: 's', note: `${gb(transformer.bytes).toFixed(2)} GB, ${(gb(transformer.bytes) / s(hashMs)).toFixed(2)} GB/s` },
    {
      name: `plain copy of the set's files (fs.copyFile, same disk, ${gb(written.bytes).toFixed(2)} GB) wall time`,
      value: s(setMs),
      unit: 's',
      note: `runs ${runs(copiedSet)} s; an fsync after it took ${copiedSet.map((c) => c.fsyncMs.toFixed(0)).join(', ')} ms more (not counted)`,
    },
    { name: 'prepare time / set copy time', value: prepareMs / setMs, unit: '×', target: { op: '<', value: 1.2 } },
    {
      name: `plain copy of the transformer file alone (${gb(transformer.bytes).toFixed(2)} GB, the bytes the prepare hashes)`,
      value: s(transformerMs),
      unit: 's',
      note: `runs ${runs(copiedTransformer)} s; prepare / this copy ${(prepareMs / transformerMs).toFixed(2)}×`,
    },
    { name: 'prepare peak RSS (highest of the rounds)', value: Math.max(...prepared.map((p) => p.maxRssMb)), unit: 'MB', target: { op: '<', value: 1000 } },
    {
      name: 'extra disk: the prepared folder (allocated blocks; the weights stay in the set)',
      value: last.folderAllocatedBytes / 1e6,
      unit: 'MB',
      note: `${(last.folderApparentBytes / 1e6).toFixed(2)} MB of file contents, ${((100 * last.folderAllocatedBytes) / written.bytes).toFixed(3)} % of the set`,
    },
  ];
}

const gb = (bytes: number): number => bytes / 1e9;
const s = (ms: number): number => ms / 1000;
const pixels = (size: string): string => {
  const [frames, height, width] = size.split('x');
  return `${frames} frames ${height}×${width}`;
};

export const wanFullBench: Bench = {
  name: 'wan-full',
  async run(): Promise<Figure[]> {
    const figures: Figure[] = [];
    const sizes = process.env.WAN_FULL_SIZES ? process.env.WAN_FULL_SIZES.split(',').map((x) => x.trim()) : DEFAULT_SIZES;
    const free = statfsSync(tmpdir());
    const freeBytes = free.bavail * free.bsize;
    if (freeBytes < 4e9) throw new Error(`${tmpdir()} has ${gb(freeBytes).toFixed(1)} GB free; the synthetic WAN 1.3B transformer and VAE need about 4 GB`);
    const withText = freeBytes >= PREPARE_DISK;
    const root = mkdtempSync(join(tmpdir(), 'ourvidz-wan-full-'));
    const setDir = join(root, 'comfy');
    try {
      console.log(`  writing the synthetic WAN 2.1 1.3B set to ${setDir}`);
      const written = runChild<Written>('wan-full-write.ts', withText ? [setDir, '--text-encoder'] : [setDir]);
      const transformerFile = written.files.transformer!.path;
      const vaeFile = written.files.vae!.path;
      const text = written.files.text_encoder;
      figures.push({
        name: `synthetic WAN 2.1 T2V 1.3B set written (ComfyUI files, bf16: transformer + VAE${text ? ' + UMT5-XXL' : ''})`,
        value: gb(written.bytes),
        unit: 'GB',
        note: `transformer ${gb(written.files.transformer!.bytes).toFixed(2)} GB, VAE ${gb(written.files.vae!.bytes).toFixed(3)} GB${text ? `, UMT5-XXL ${gb(text.bytes).toFixed(2)} GB` : ''}; written in ${s(written.ms).toFixed(0)} s, writer peak RSS ${written.maxRssMb} MB`,
      });

      if (text) {
        console.log('  prepareCheckpoint against a plain copy, alternating');
        try {
          figures.push(...(await prepareFigures(root, setDir, written)));
        } catch (e) {
          figures.push(failed('prepare against a plain copy', e));
        }
      } else {
        figures.push({ name: `prepare figures skipped: the set with UMT5-XXL and its copy want ${gb(PREPARE_DISK).toFixed(0)} GB free in ${tmpdir()}`, value: gb(freeBytes), unit: 'GB free' });
      }

      console.log('  building the transformer graph');
      const model = join(root, 'transformer-fp32.onnx');
      const built = runChild<Built>('wan-full-transformer.ts', ['build', transformerFile, model]);
      const c = built.config;
      figures.push(
        {
          name: 'transformer graph built from the weights (read + build + encode/write), float32 CPU graph',
          value: built.ms,
          unit: 'ms',
          note: `${built.description}; ${(built.parameters / 1e9).toFixed(3)} B parameters, dim ${c.dim}, ${c.layers} blocks, ${c.heads} heads, FFN ${c.ffn}, text ${c.textDim}; read ${built.readMs.toFixed(0)} ms, build ${built.buildMs.toFixed(0)} ms, encode+write ${built.encodeWriteMs.toFixed(0)} ms; ${built.nodes} nodes, ${built.initializers} initializers, graph ${(built.modelBytes / 1e6).toFixed(2)} MB`,
        },
        { name: 'transformer graph build: peak RSS of the building process', value: built.maxRssMb, unit: 'MB' },
      );

      for (const size of sizes) {
        const large = size !== '17x256x256';
        const skipped = tooLittleMemory(`transformer forward at ${pixels(size)}`, large ? NEEDS_GIB.transformerLarge : NEEDS_GIB.transformer);
        if (skipped) {
          figures.push(skipped);
          continue;
        }
        console.log(`  transformer: load + one forward at ${pixels(size)}`);
        let ran: Ran;
        try {
          ran = runChild<Ran>('wan-full-transformer.ts', ['run', model, dirname(transformerFile), size]);
        } catch (e) {
          figures.push(failed(`transformer forward at ${pixels(size)}`, e));
          continue;
        }
        const f = ran.forwards[0]!;
        const label = `transformer, float32 on the CPU (${ran.provider})`;
        figures.push(
          { name: `${label}: session load (before the ${pixels(size)} forward)`, value: s(ran.loadMs), unit: 's', note: 'bf16 weights cast to float32 by onnxruntime at load' },
          { name: `${label}: RSS after load`, value: ran.rssAfterLoadMb, unit: 'MB', note: `peak during load ${ran.maxRssAfterLoadMb} MB; ${ran.rssBeforeMb} MB before it` },
          {
            name: `${label}: ONE forward, ${pixels(size)} (latent ${f.latent.slice(2).join('×')}, ${f.tokens.toLocaleString('en')} tokens), batch 1, 512 text tokens`,
            value: s(f.ms),
            unit: 's',
            note: `one CFG half of one denoising step; output RMS ${f.outputRms.toPrecision(3)}; 1-min load average ${f.loadAverage.toFixed(1)}`,
          },
          { name: `${label}: peak RSS, load + the ${pixels(size)} forward`, value: f.maxRssMb, unit: 'MB' },
        );
      }

      const skipped = tooLittleMemory('VAE decode', NEEDS_GIB.vae);
      if (skipped) figures.push(skipped);
      else {
        console.log(`  VAE: build, load, ${VAE_CALLS} frame-cached calls at latent ${VAE_LATENT}`);
        let vae: VaeRun | null = null;
        try {
          vae = runChild<VaeRun>('wan-full-vae.ts', [vaeFile, join(root, 'vae-decoder-fp32.onnx'), VAE_LATENT, String(VAE_CALLS)]);
        } catch (e) {
          figures.push(failed(`VAE decode at latent ${VAE_LATENT}`, e));
        }
        if (vae) figures.push(...vaeFigures(vae));
        console.log(`  VAE in tiles: ${VAE_TILED_FRAMES} latent frames at latent ${VAE_LATENT}`);
        try {
          figures.push(...vaeTiledFigures(runChild<VaeTiledRun>('wan-full-vae-tiled.ts', [vaeFile, join(root, 'vae-decoder-tiled-fp32.onnx'), VAE_LATENT, String(VAE_TILED_FRAMES)])));
        } catch (e) {
          figures.push(failed(`VAE decode in tiles at latent ${VAE_LATENT}`, e));
        }
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    return figures;
  },
};

function vaeFigures(vae: VaeRun): Figure[] {
  const [first, later] = vae.calls as [VaeCall, VaeCall];
  const px = `${first.outputDims[3]}×${first.outputDims[4]}`;
  return [
    {
      name: 'VAE decoder (frame-cached, float32): graph build from the weights',
      value: vae.buildMs,
      unit: 'ms',
      note: `${vae.description}; decoder ${(vae.decoderParameters / 1e6).toFixed(1)} M parameters, ${vae.nodes} nodes, ${vae.caches} frame caches (${(vae.cacheBytes / 1e6).toFixed(0)} MB at this size)`,
    },
    { name: 'VAE decoder: session load', value: s(vae.loadMs), unit: 's', note: `RSS after load ${vae.rssAfterLoadMb} MB` },
    {
      name: `VAE decoder: first call (first_chunk, zero caches), latent 1×${VAE_LATENT.replace('x', '×')} → ${px}`,
      value: s(first.ms),
      unit: 's',
      note: `gives the clip's first frame; 1-min load average ${first.loadAverage.toFixed(1)}`,
    },
    { name: 'VAE decoder: peak RSS after the first call', value: first.maxRssMb, unit: 'MB' },
    {
      name: `VAE decoder: a later call (the first call's caches), latent 1×${VAE_LATENT.replace('x', '×')} → 4 frames ${px}`,
      value: s(later.ms),
      unit: 's',
      note: `1-min load average ${later.loadAverage.toFixed(1)}`,
    },
    { name: 'VAE decoder: peak RSS after the later call (process peak so far)', value: later.maxRssMb, unit: 'MB', note: `RSS after it ${later.rssMb} MB` },
  ];
}

interface VaeTiledRun {
  latent: number[];
  videoFrames: number;
  loadMs: number;
  rssAfterLoadMb: number;
  tiled: { tiles: number; tileSize: number; stride: number };
  calls: number;
  decodeMs: number;
  frameMs: number[];
  maxRssMb: number;
  loadAverage: number;
}

function vaeTiledFigures(run: VaeTiledRun): Figure[] {
  const [, h, w] = run.latent as [number, number, number];
  const px = `${h * 8}×${w * 8}`;
  const tiles = `${run.tiled.tiles} tiles of ${run.tiled.tileSize} px every ${run.tiled.stride} px`;
  return [
    {
      name: `VAE decoder in tiles: ${run.latent[0]} latent frames → ${run.videoFrames} frames ${px}, whole decode`,
      value: s(run.decodeMs),
      unit: 's',
      note: `${tiles}, ${run.calls} calls; 1-min load average ${run.loadAverage.toFixed(1)} at the end`,
    },
    { name: `VAE decoder in tiles: the first latent frame (first_chunk) over all tiles, ${px}`, value: s(run.frameMs[0]!), unit: 's' },
    { name: `VAE decoder in tiles: a later latent frame (4 frames) over all tiles, ${px}`, value: s(run.frameMs[1] ?? NaN), unit: 's' },
    { name: 'VAE decoder in tiles: peak RSS of the process (load + the whole decode)', value: run.maxRssMb, unit: 'MB', note: `RSS after load ${run.rssAfterLoadMb} MB` },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const f of await wanFullBench.run()) {
    const target = f.target ? ` (target ${f.target.op} ${f.target.value} ${f.unit}) ${meets(f) ? 'ok' : 'MISSED'}` : '';
    console.log(`- ${f.name}: ${f.value >= 100 ? f.value.toFixed(0) : f.value.toPrecision(3)} ${f.unit}${target}${f.note ? ` — ${f.note}` : ''}`);
  }
}
