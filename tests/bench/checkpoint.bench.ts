/**
 * Preparing a creator's SDXL checkpoint at full size, on the CPU (docs/benchmarks.md, "Preparing a
 * full-size SDXL checkpoint"):
 *
 * - a synthetic single-file checkpoint of the real shapes (2.6 B-parameter UNet, both text
 *   encoders, VAE; random fp16, ≈ 6.9 GB) is written once by children/checkpoint-write.ts and kept
 *   in .fixtures/checkpoint-bench/ (git-ignored; about 14 GB free is needed while the copy exists);
 * - `prepareCheckpoint` against `fs.copyFile` of the same file on the same disk, alternating, each
 *   in a fresh process after reading the whole file once, so both start from a warm page cache
 *   (the prepared folder and the copy live beside the checkpoint): wall time, the ratio, peak RSS,
 *   the disk the prepared folder adds;
 * - the prepared UNet (float32, plain attention, as the pipeline loads it on the CPU) and the same
 *   UNet with fused attention: load time, one CFG step at 512×512, peak RSS, and how far their
 *   outputs differ.
 *
 * Runs from `npm run bench -- checkpoint` once registered in run.ts, or on its own:
 *   node tests/bench/checkpoint.bench.ts
 * Takes about 4–5 minutes on two cores (one more the first time, to write the checkpoint) and
 * needs about 20 GiB of free memory for the UNet loads.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench, Figure } from './harness.ts';
import { median, meets } from './harness.ts';

const CACHE = fileURLToPath(new URL('../../.fixtures/checkpoint-bench/', import.meta.url));
const CHECKPOINT = join(CACHE, 'sdxl-full-synthetic-fp16.safetensors');
const ROUNDS = 3;
const child = (name: string): string => fileURLToPath(new URL(`./children/${name}`, import.meta.url));

interface Written { bytes: number; written: boolean; ms: number; maxRssMb: number }
interface Prepared { ms: number; hashingAtMs: number | null; writingAtMs: number | null; folder: string; folderApparentBytes: number; folderAllocatedBytes: number; maxRssMb: number; loadAverage: number }
interface Copied { ms: number; fsyncMs: number; maxRssMb: number; loadAverage: number }
interface UnetRun { provider: string; buildMs: number | null; loadMs: number; stepMs: number[]; outputRms: number; loadAverage: number; rssAfterLoadMb: number; maxRssMb: number }

function runChild<T>(script: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): T {
  const out = execFileSync(process.execPath, [child(script), ...args], { encoding: 'utf8', maxBuffer: 1 << 20, env, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').at(-1)!) as T;
}

/** Reads the whole file once (into the page cache) and says how much of it is resident afterwards. */
async function warm(path: string): Promise<number | null> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(16 << 20);
    let position = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
    }
    return residentShare(path, position);
  } finally {
    await handle.close();
  }
}

/** The share of a file in the page cache (util-linux fincore), or null where that tool is missing. */
function residentShare(path: string, size: number): number | null {
  try {
    const bytes = Number(execFileSync('fincore', ['--bytes', '--noheadings', '--raw', '--output', 'RES', path], { encoding: 'utf8' }).trim());
    return Number.isFinite(bytes) ? bytes / size : null;
  } catch {
    return null;
  }
}

/** What a float32 full-size UNet load needs free: its peak RSS was 19.1 GiB (fp16 weights read, then cast). */
const UNET_NEEDS_GIB = 20;

/** MemAvailable from /proc/meminfo, or null off Linux. */
function availableGiB(): number | null {
  try {
    const kb = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
    return kb ? Number(kb) / 2 ** 20 : null;
  } catch {
    return null;
  }
}

const gb = (bytes: number): number => bytes / 1e9;
const pct = (share: number | null): string => (share === null ? 'unknown' : `${Math.round(100 * share)} %`);

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

export const checkpointBench: Bench = {
  name: 'checkpoint',
  async run(): Promise<Figure[]> {
    const written = runChild<Written>('checkpoint-write.ts', [CHECKPOINT]);
    const figures: Figure[] = [
      {
        name: 'synthetic full-size SDXL checkpoint (single file, fp16)',
        value: gb(written.bytes),
        unit: 'GB',
        note: written.written ? `written now in ${(written.ms / 1000).toFixed(0)} s, writer peak RSS ${written.maxRssMb} MB` : `cached in ${CACHE}`,
      },
    ];

    const prepared: Prepared[] = [];
    const copied: Copied[] = [];
    const resident: (number | null)[] = [];
    const copyPath = join(CACHE, 'copy.safetensors');
    const modelsDirs = Array.from({ length: ROUNDS }, (_, i) => join(CACHE, `models-${i}`));
    const fusedDir = join(CACHE, 'unet-fused-fp32');
    const outputs = { plain: join(CACHE, 'unet-plain.f32'), fused: join(CACHE, 'unet-fused.f32') };
    const cleanUp = async (): Promise<void> => {
      for (const path of [copyPath, fusedDir, ...modelsDirs, ...Object.values(outputs)]) await rm(path, { recursive: true, force: true });
    };
    await cleanUp();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        resident.push(await warm(CHECKPOINT));
        prepared.push(runChild<Prepared>('checkpoint-prepare.ts', ['prepare', CHECKPOINT, modelsDirs[round]!]));
        resident.push(await warm(CHECKPOINT));
        copied.push(runChild<Copied>('checkpoint-prepare.ts', ['copy', CHECKPOINT, copyPath]));
        await rm(copyPath, { force: true });
        if (round < ROUNDS - 1) await rm(modelsDirs[round]!, { recursive: true, force: true });
      }
      const prepareMs = median(prepared.map((p) => p.ms));
      const copyMs = median(copied.map((c) => c.ms));
      const hashMs = median(prepared.map((p) => (p.writingAtMs ?? NaN) - (p.hashingAtMs ?? NaN)));
      const last = prepared.at(-1)!;
      const load = Math.max(...prepared.map((p) => p.loadAverage), ...copied.map((c) => c.loadAverage));
      const warmNote = `median of ${ROUNDS}, alternating with the copy, file read once before each (page-cache resident: ${resident.map(pct).join(', ')}); 1-min load average up to ${load.toFixed(1)}`;
      figures.push(
        { name: 'prepare (prepareCheckpoint, both graph sets) wall time', value: prepareMs / 1000, unit: 's', note: `${warmNote}; runs ${prepared.map((p) => (p.ms / 1000).toFixed(1)).join(', ')} s` },
        { name: 'prepare: checking headers and building the graphs (before the hash)', value: median(prepared.map((p) => p.hashingAtMs ?? NaN)), unit: 'ms' },
        { name: 'prepare: sha256 of the whole file (the model hash)', value: hashMs / 1000, unit: 's', note: `${(gb(written.bytes) / (hashMs / 1000)).toFixed(2)} GB/s` },
        {
          name: 'plain copy of the same file (fs.copyFile, same disk) wall time',
          value: copyMs / 1000,
          unit: 's',
          note: `runs ${copied.map((c) => (c.ms / 1000).toFixed(1)).join(', ')} s; an fsync after it took ${copied.map((c) => c.fsyncMs.toFixed(0)).join(', ')} ms more (not counted)`,
        },
        { name: 'prepare time / copy time', value: prepareMs / copyMs, unit: '×', target: { op: '<', value: 1.2 } },
        { name: 'prepare peak RSS (highest of the rounds)', value: Math.max(...prepared.map((p) => p.maxRssMb)), unit: 'MB', target: { op: '<', value: 1000 } },
        { name: 'copy process peak RSS', value: Math.max(...copied.map((c) => c.maxRssMb)), unit: 'MB' },
        {
          name: 'extra disk: the prepared folder (allocated blocks; the weights stay in the checkpoint)',
          value: last.folderAllocatedBytes / 1e6,
          unit: 'MB',
          note: `${(last.folderApparentBytes / 1e6).toFixed(2)} MB of file contents, ${((100 * last.folderAllocatedBytes) / written.bytes).toFixed(3)} % of the checkpoint`,
        },
      );

      const available = availableGiB();
      if (available !== null && available < UNET_NEEDS_GIB) {
        figures.push({ name: `UNet figures skipped: the float32 load peaks near 19 GiB and ${UNET_NEEDS_GIB} GiB are wanted free`, value: available, unit: 'GiB available' });
        return figures;
      }
      const unet = {} as Record<'plain' | 'fused', UnetRun>;
      for (const mode of ['plain', 'fused'] as const) {
        const share = await warm(CHECKPOINT);
        const r = runChild<UnetRun>('checkpoint-unet.ts', mode === 'plain' ? ['plain', last.folder] : ['fused', last.folder, fusedDir], { ...process.env, OUTPUT_FILE: outputs[mode] });
        unet[mode] = r;
        const label = mode === 'plain' ? 'prepared UNet (model.onnx: float32, plain attention)' : 'same UNet, float32 with fused attention (MultiHeadAttention)';
        const built = r.buildMs !== null ? `graph built in ${r.buildMs.toFixed(0)} ms before it; ` : '';
        figures.push(
          { name: `${label}: load (onnxruntime session, CPU)`, value: r.loadMs / 1000, unit: 's', note: `${built}checkpoint page-cache resident before: ${pct(share)}` },
          {
            name: `${label}: one CFG step, 512×512 (batch 2, 64×64 latents, 77 tokens), best of 2`,
            value: Math.min(...r.stepMs) / 1000,
            unit: 's',
            note: `steps ${r.stepMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s; 1-min load average ${r.loadAverage.toFixed(1)}`,
          },
          { name: `${label}: RSS after load`, value: r.rssAfterLoadMb, unit: 'MB' },
          { name: `${label}: peak RSS`, value: r.maxRssMb, unit: 'MB' },
        );
      }
      const read = (path: string): Float32Array => {
        const bytes = readFileSync(path);
        return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      };
      if (existsSync(outputs.plain) && existsSync(outputs.fused)) {
        figures.push({
          name: 'fused vs plain attention: largest output difference',
          value: maxAbsDifference(read(outputs.plain), read(outputs.fused)),
          unit: '',
          note: `output RMS ${unet.plain.outputRms.toPrecision(4)}`,
        });
      }
    } finally {
      await cleanUp();
    }
    return figures;
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const f of await checkpointBench.run()) {
    const target = f.target ? ` (target ${f.target.op} ${f.target.value} ${f.unit}) ${meets(f) ? 'ok' : 'MISSED'}` : '';
    console.log(`- ${f.name}: ${f.value >= 100 ? f.value.toFixed(0) : f.value.toPrecision(3)} ${f.unit}${target}${f.note ? ` — ${f.note}` : ''}`);
  }
}
