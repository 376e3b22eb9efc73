/**
 * Prepares a creator's SDXL checkpoint (an A1111/ComfyUI/Civitai single file, or a diffusers
 * folder) for the SDXL pipeline: reads and checks its headers, sizes each architecture from the
 * weights' own shapes, hashes the file (A1111's "Model hash"), and writes a folder in the layout the
 * pipeline runs — ONNX graphs that point into the user's file (nothing is copied), tokenizers,
 * scheduler and VAE configs — atomically: it appears complete under its name, or not at all.
 * Runs anywhere (the CLI calls it directly; the app runs it on a thread: prepare-thread.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, open, readdir, rename, rm, statfs, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { encodeModel } from '../onnx/onnx-proto.ts';
import { WeightFileError } from '../weights/errors.ts';
import type { WeightSet } from '../weights/tensor-ref.ts';
import { writeClipTokenizerFiles } from '../tokenizers/clip-files.ts';
import { APP_VERSION } from '../version.ts';
import { parsePythonJson } from '../fs/python-json.ts';
import { identify } from './identify.ts';
import type { Identified, SdxlDiffusersFolder, SdxlSingleFile, SdxlVaeFile } from './identify.ts';
import { wanNotPreparedYet } from './wan-identify.ts';
import { componentWeightSet } from './diffusers-folder.ts';
import { splitSdxlSingleFile } from './layouts/sdxl-single-file.ts';
import { vaeWeightSetFromFile } from './layouts/vae-file.ts';
import { COMPONENT_WEIGHTS, CPU_GRAPH, GPU_GRAPH, PREPARED_FORMAT, PREPARED_MANIFEST, readPreparedManifest } from './prepared.ts';
import type { ComponentWeights, PreparedManifest, SourceStamp } from './prepared.ts';
import { buildSdxlGraphs, SDXL_SCHEDULER_DEFAULTS } from './sdxl-graphs.ts';
import type { SdxlWeightSets } from './sdxl-graphs.ts';

export type PreparePhase = 'checking' | 'hashing' | 'building' | 'writing';

export interface PrepareProgress {
  readonly phase: PreparePhase;
  /** 0..1 over the whole preparation. */
  readonly fraction: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly etaSeconds: number | null;
}

export interface PrepareOptions {
  /** The checkpoint file or diffusers folder. */
  readonly source: string;
  /** A VAE file to use instead of (or for a checkpoint without) the one inside. */
  readonly vae?: string | null;
  /** Display name (default: the file or folder name). */
  readonly name?: string | null;
  /** Where prepared models live (the data folder's models/). */
  readonly modelsDir: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: PrepareProgress) => void;
  /** Which graph sets to write (default both): 'gpu' adds model.fp16.onnx with fused attention. */
  readonly variants?: readonly ('cpu' | 'gpu')[];
}

export interface PrepareResult {
  readonly id: string;
  readonly folder: string;
  readonly manifest: PreparedManifest;
  /** True when an earlier preparation of the same unchanged file(s) was found and kept. */
  readonly reused: boolean;
}

/** Room the graphs and small files need (the weights are not copied). */
const MIN_FREE_BYTES = 64 * 1024 * 1024;

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new PrepareCancelledError();
}

export class PrepareCancelledError extends Error {
  constructor() {
    super('preparation cancelled');
    this.name = 'PrepareCancelledError';
  }
}

/** A folder-safe id from a display name: "Pony Diffusion V6 XL" → "pony-diffusion-v6-xl". */
export function modelIdFrom(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._]+/g, '-')
    .replace(/^[-.]+|-+$/g, '')
    .slice(0, 80);
  return slug || 'model';
}

function defaultName(identified: SdxlSingleFile | SdxlDiffusersFolder): string {
  const base = basename(identified.path);
  return identified.kind === 'sdxl_single_file' ? base.slice(0, base.length - extname(base).length) : base;
}

function stampOf(path: string, realPath: string, size: number, mtimeMs: number): SourceStamp {
  return { path, realPath, size, mtimeMs };
}

function sameStamp(a: SourceStamp | null | undefined, b: SourceStamp | null | undefined): boolean {
  if (!a || !b) return a === b || (!a && !b);
  return a.realPath === b.realPath && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** An earlier preparation of exactly these files, if one is in the models folder. */
export async function findPrepared(modelsDir: string, sources: readonly SourceStamp[], vae: SourceStamp | null): Promise<{ id: string; folder: string; manifest: PreparedManifest } | null> {
  if (!existsSync(modelsDir)) return null;
  for (const entry of await readdir(modelsDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const folder = join(modelsDir, entry.name);
    const manifest = readPreparedManifest(folder);
    if (!manifest || manifest.sources.length !== sources.length) continue;
    if (manifest.sources.every((s, i) => sameStamp(s, sources[i])) && sameStamp(manifest.vae, vae)) return { id: entry.name, folder, manifest };
  }
  return null;
}

async function freeId(modelsDir: string, wanted: string): Promise<string> {
  let id = wanted;
  for (let n = 2; existsSync(join(modelsDir, id)); n++) id = `${wanted}-${n}`;
  return id;
}

const HASH_CHUNK = 16 * 1024 * 1024;

/**
 * Streams files through sha256, reporting bytes as they pass. Two buffers take turns: the next
 * chunk is read (on libuv's pool) while the current one is hashed, so the file is read once at the
 * speed of the slower of the disk and the hash, not of both one after the other.
 */
async function sha256Files(files: readonly { path: string; size: number }[], signal: AbortSignal | undefined, onBytes: (n: number) => void): Promise<string> {
  const hash = createHash('sha256');
  const buffers = [Buffer.allocUnsafe(HASH_CHUNK), Buffer.allocUnsafe(HASH_CHUNK)] as const;
  for (const file of files) {
    const handle = await open(file.path, 'r');
    let pending: Promise<{ bytesRead: number }> | null = null;
    try {
      let position = 0;
      let turn = 0;
      const readAt = (buffer: Buffer, at: number) => handle.read(buffer, 0, Math.min(HASH_CHUNK, file.size - at), at);
      pending = file.size > 0 ? readAt(buffers[0], 0) : null;
      while (pending) {
        const { bytesRead } = await pending;
        pending = null;
        if (bytesRead === 0) throw new WeightFileError('truncated', `${basename(file.path)} ended early while reading it (was it changed or moved?)`);
        const current = buffers[turn]!;
        position += bytesRead;
        if (position < file.size) pending = readAt(buffers[1 - turn]!, position);
        throwIfAborted(signal);
        hash.update(current.subarray(0, bytesRead));
        onBytes(bytesRead);
        turn = 1 - turn;
      }
    } finally {
      await pending?.catch(() => undefined);
      await handle.close();
    }
  }
  return hash.digest('hex');
}

function fail(identified: Identified): never {
  if (identified.ok) throw new Error('not a refusal');
  throw new WeightFileError(identified.code, identified.sentence);
}

interface Plan {
  readonly kind: PreparedManifest['kind'];
  readonly weights: SdxlWeightSets;
  readonly sources: readonly SourceStamp[];
  /** Files whose sha256 is the model hash. */
  readonly hashed: readonly { path: string; size: number }[];
  readonly vae: SourceStamp | null;
  readonly vaeFile: SdxlVaeFile | null;
  readonly identified: SdxlSingleFile | SdxlDiffusersFolder;
  readonly schedulerConfig: Record<string, unknown>;
  readonly vaeConfig: Record<string, unknown>;
  readonly forceZeros: boolean;
  readonly tokenizersFrom: string | null;
}

async function plan(options: PrepareOptions): Promise<Plan> {
  const identified = await identify(options.source);
  if (!identified.ok) fail(identified);
  if (identified.kind === 'wan_part' || identified.kind === 'wan_model') throw new WeightFileError('unsupported', wanNotPreparedYet(identified));
  if (identified.kind === 'sdxl_vae') {
    throw new WeightFileError('wrong_kind', `${basename(identified.path)} is a VAE on its own: add the SDXL checkpoint, and choose this file as its VAE`);
  }
  let vaeFile: SdxlVaeFile | null = null;
  if (options.vae) {
    const v = await identify(options.vae);
    if (!v.ok) fail(v);
    if (v.kind !== 'sdxl_vae') throw new WeightFileError('wrong_kind', `${basename(options.vae)} is not a VAE (${v.description}): choose an SDXL VAE file such as sdxl_vae.safetensors`);
    vaeFile = v;
  }
  const vaeStamp = vaeFile ? stampOf(vaeFile.path, vaeFile.header.realPath, vaeFile.header.size, vaeFile.header.mtimeMs) : null;
  const vaeOverride = vaeFile ? vaeWeightSetFromFile(vaeFile.header) : null;

  if (identified.kind === 'sdxl_single_file') {
    const h = identified.header;
    const parts = splitSdxlSingleFile(h);
    const vae = vaeOverride ?? parts.vae;
    if (!vae) {
      throw new WeightFileError('incomplete', `${basename(h.path)} has no VAE inside: choose a VAE file for it (the standard SDXL VAE, sdxl_vae.safetensors, or the fp16-fix VAE)`);
    }
    const scheduler: Record<string, unknown> = { ...SDXL_SCHEDULER_DEFAULTS, prediction_type: identified.prediction };
    if (identified.zeroSnr) scheduler.rescale_betas_zero_snr = true;
    return {
      kind: 'sdxl_single_file',
      weights: { unet: parts.unet, textEncoder: parts.textEncoder, textEncoder2: parts.textEncoder2, vae },
      sources: [stampOf(h.path, h.realPath, h.size, h.mtimeMs)],
      hashed: [{ path: h.realPath, size: h.size }],
      vae: vaeStamp,
      vaeFile,
      identified,
      schedulerConfig: scheduler,
      vaeConfig: { scaling_factor: 0.13025, force_upcast: true },
      forceZeros: true,
      tokenizersFrom: null,
    };
  }

  const c = identified.components;
  const allHeaders = [c.unet, c.text_encoder, c.text_encoder_2, c.vae].flatMap((x) => x.headers);
  const readJson = (rel: string): Record<string, unknown> => {
    try {
      return parsePythonJson(readFileSync(join(identified.path, rel), 'utf8')) as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  const index = readJson('model_index.json');
  const scheduler = { ...SDXL_SCHEDULER_DEFAULTS, ...readJson('scheduler/scheduler_config.json') };
  const vaeCfg = c.vae.config;
  return {
    kind: 'sdxl_diffusers',
    weights: {
      unet: componentWeightSet('unet', c.unet),
      textEncoder: componentWeightSet('text_encoder', c.text_encoder),
      textEncoder2: componentWeightSet('text_encoder_2', c.text_encoder_2),
      vae: vaeOverride ?? componentWeightSet('vae', c.vae),
      configs: { unet: c.unet.config, textEncoder: c.text_encoder.config, textEncoder2: c.text_encoder_2.config, vae: vaeOverride ? {} : vaeCfg },
    },
    sources: allHeaders.map((h) => stampOf(h.path, h.realPath, h.size, h.mtimeMs)),
    hashed: c.unet.headers.map((h) => ({ path: h.realPath, size: h.size })),
    vae: vaeStamp,
    vaeFile,
    identified,
    schedulerConfig: scheduler,
    vaeConfig: {
      scaling_factor: typeof vaeCfg.scaling_factor === 'number' && !vaeOverride ? vaeCfg.scaling_factor : 0.13025,
      force_upcast: vaeOverride ? true : vaeCfg.force_upcast !== false,
      ...(Array.isArray(vaeCfg.latents_mean) && !vaeOverride ? { latents_mean: vaeCfg.latents_mean, latents_std: vaeCfg.latents_std } : {}),
    },
    forceZeros: index.force_zeros_for_empty_prompt !== false,
    tokenizersFrom: identified.path,
  };
}

function precisionOf(sets: SdxlWeightSets): PreparedManifest['precision'] {
  const kinds = new Set([sets.unet, sets.textEncoder, sets.textEncoder2].map((s) => s.mainDtype()));
  if (kinds.size > 1) return 'mixed';
  const only = [...kinds][0];
  return only === 'F16' ? 'fp16' : only === 'BF16' ? 'bf16' : only === 'F32' ? 'fp32' : 'mixed';
}

function componentWeights(set: WeightSet): ComponentWeights {
  const files = set.files();
  const folders = new Set(files.map(dirname));
  if (folders.size !== 1) throw new WeightFileError('unsupported', `${set.label} spans several folders (${[...folders].join(', ')}); keep a model's files together`);
  return {
    format: PREPARED_FORMAT,
    folder: [...folders][0]!,
    files: files.map((f) => {
      const info = statSync(f);
      return { name: basename(f), size: info.size, mtimeMs: info.mtimeMs };
    }),
    bytes: set.bytes(),
  };
}

export async function prepareCheckpoint(options: PrepareOptions): Promise<PrepareResult> {
  const report = (phase: PreparePhase, fraction: number, bytesDone: number, bytesTotal: number, etaSeconds: number | null): void =>
    options.onProgress?.({ phase, fraction: Math.min(1, Math.max(0, fraction)), bytesDone, bytesTotal, etaSeconds });
  report('checking', 0, 0, 0, null);
  throwIfAborted(options.signal);

  const p = await plan(options);
  throwIfAborted(options.signal);
  const reused = await findPrepared(options.modelsDir, p.sources, p.vae);
  if (reused) {
    report('writing', 1, 0, 0, 0);
    return { ...reused, reused: true };
  }

  // The graphs are sized (and every weight checked) before the long hash, so a wrong file fails fast.
  const variants = options.variants ?? ['cpu', 'gpu'];
  const graphs = buildSdxlGraphs(p.weights, { forceUpcastVae: p.vaeConfig.force_upcast !== false, variants, folderOf: (set) => componentWeights(set).folder });
  throwIfAborted(options.signal);

  await mkdir(options.modelsDir, { recursive: true });
  const free = await statfs(options.modelsDir).then((s) => s.bavail * s.bsize).catch(() => Infinity);
  if (free < MIN_FREE_BYTES) {
    throw new WeightFileError('unsupported', `only ${Math.round(free / 1e6)} MB are free in ${options.modelsDir}; preparing a model needs about ${MIN_FREE_BYTES / 1e6} MB (the weights are not copied) — free some space and try again`);
  }

  // Hash: the long part (the whole checkpoint is read once).
  const toHash = [...p.hashed, ...(p.vaeFile ? [{ path: p.vaeFile.header.realPath, size: p.vaeFile.header.size }] : [])];
  const total = toHash.reduce((s, f) => s + f.size, 0);
  let done = 0;
  const hashStart = performance.now();
  let lastReport = 0;
  const onBytes = (n: number): void => {
    done += n;
    const now = performance.now();
    if (now - lastReport < 100 && done < total) return;
    lastReport = now;
    const rate = done / Math.max(1e-3, (now - hashStart) / 1000);
    report('hashing', 0.02 + 0.93 * (done / Math.max(1, total)), done, total, done > 0 ? (total - done) / rate : null);
  };
  const sha256 = await sha256Files(p.hashed, options.signal, onBytes);
  const vaeSha = p.vaeFile ? await sha256Files([{ path: p.vaeFile.header.realPath, size: p.vaeFile.header.size }], options.signal, onBytes) : null;
  report('writing', 0.96, total, total, 0);

  const name = (options.name ?? '').trim() || defaultName(p.identified);
  const id = await freeId(options.modelsDir, modelIdFrom(name));
  const staging = join(options.modelsDir, `.preparing-${id}-${process.pid}-${Date.now().toString(36)}`);
  try {
    await mkdir(staging, { recursive: true });
    for (const [component, graph] of Object.entries(graphs.components)) {
      const dir = join(staging, component);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, CPU_GRAPH), encodeModel(graph.cpu));
      if (graph.gpu) await writeFile(join(dir, GPU_GRAPH), encodeModel(graph.gpu));
      await writeFile(join(dir, COMPONENT_WEIGHTS), JSON.stringify(componentWeights(graph.weights), null, 2));
      throwIfAborted(options.signal);
    }
    await writeFile(join(staging, 'vae_decoder', 'config.json'), JSON.stringify(p.vaeConfig, null, 2));
    await mkdir(join(staging, 'scheduler'), { recursive: true });
    await writeFile(join(staging, 'scheduler', 'scheduler_config.json'), JSON.stringify(p.schedulerConfig, null, 2));
    for (const [folder, pad] of [['tokenizer', '<|endoftext|>'], ['tokenizer_2', '!']] as const) {
      const own = p.tokenizersFrom ? join(p.tokenizersFrom, folder) : null;
      if (own && existsSync(join(own, 'vocab.json')) && existsSync(join(own, 'merges.txt'))) await cp(own, join(staging, folder), { recursive: true });
      else await writeClipTokenizerFiles(join(staging, folder), { padToken: pad });
    }
    const manifest: PreparedManifest = {
      format: PREPARED_FORMAT,
      kind: p.kind,
      input: p.identified.path,
      name,
      description: p.identified.description,
      sha256,
      shortHash: sha256.slice(0, 10),
      sources: p.sources,
      vae: p.vae,
      ...(vaeSha ? { vaeSha256: vaeSha, vaeName: basename(p.vaeFile!.path) } : {}),
      prediction: p.identified.prediction,
      precision: precisionOf(p.weights),
      weightBytes: Object.values(graphs.components).reduce((s, c) => s + c.weights.bytes(), 0),
      appVersion: APP_VERSION,
      preparedAt: new Date().toISOString(),
    };
    await writeFile(join(staging, PREPARED_MANIFEST), JSON.stringify(manifest, null, 2));
    // model_index.json last: a folder without it is never taken for a model by the registry.
    await writeFile(
      join(staging, 'model_index.json'),
      JSON.stringify({ _class_name: 'StableDiffusionXLPipeline', force_zeros_for_empty_prompt: p.forceZeros, _prepared_by: `OurVidz Studio ${APP_VERSION}` }, null, 2),
    );
    throwIfAborted(options.signal);
    const finalId = await freeId(options.modelsDir, id);
    await rename(staging, join(options.modelsDir, finalId));
    report('writing', 1, total, total, 0);
    return { id: finalId, folder: join(options.modelsDir, finalId), manifest, reused: false };
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
}

