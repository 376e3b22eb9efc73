/**
 * What every preparation shares (SDXL: prepare.ts; WAN: wan-prepare.ts): the options, progress and
 * result, cancellation, the folder id, reuse of an earlier preparation of the same unchanged files,
 * the free-space check, the sha256 of the model's files with progress and an ETA, each component's
 * graphs and weights.json, and the atomic staging folder (a model appears complete under its name,
 * or not at all).
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, statfs, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { encodeModel } from '../onnx/onnx-proto.ts';
import type { ModelProto } from '../onnx/onnx-proto.ts';
import { WeightFileError } from '../weights/errors.ts';
import type { WeightSet } from '../weights/tensor-ref.ts';
import { COMPONENT_WEIGHTS, CPU_GRAPH, GPU_GRAPH, PREPARED_FORMAT, readPreparedManifest } from './prepared.ts';
import type { ComponentWeights, PreparedManifest, SourceStamp } from './prepared.ts';

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
  /** The checkpoint file or model folder (SDXL, or a whole WAN 2.1 model). */
  readonly source: string;
  /**
   * Several paths that make one model together: a WAN 2.1 model's transformer, text encoder and
   * VAE files chosen one by one (ComfyUI's three files), with a tokenizer file or folder when the
   * text encoder carries none. When given, `source` is the first of them.
   */
  readonly sources?: readonly string[];
  /** A VAE file to use instead of (or for a checkpoint without) the one inside (SDXL). */
  readonly vae?: string | null;
  /** Display name (default: the file or folder name). */
  readonly name?: string | null;
  /** Where prepared models live (the data folder's models/). */
  readonly modelsDir: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: PrepareProgress) => void;
  /** Which graph sets to write (default both): 'gpu' adds model.gpu.onnx (fp16, fused attention). */
  readonly variants?: readonly ('cpu' | 'gpu')[];
}

export interface PrepareResult {
  readonly id: string;
  readonly folder: string;
  readonly manifest: PreparedManifest;
  /** True when an earlier preparation of the same unchanged file(s) was found and kept. */
  readonly reused: boolean;
}

export type Report = (phase: PreparePhase, fraction: number, bytesDone: number, bytesTotal: number, etaSeconds: number | null) => void;

export function reporter(options: Pick<PrepareOptions, 'onProgress'>): Report {
  return (phase, fraction, bytesDone, bytesTotal, etaSeconds) =>
    options.onProgress?.({ phase, fraction: Math.min(1, Math.max(0, fraction)), bytesDone, bytesTotal, etaSeconds });
}

/** Room the graphs and small files need (the weights are not copied). */
export const MIN_FREE_BYTES = 64 * 1024 * 1024;

export class PrepareCancelledError extends Error {
  constructor() {
    super('preparation cancelled');
    this.name = 'PrepareCancelledError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new PrepareCancelledError();
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

export function stampOf(path: string, realPath: string, size: number, mtimeMs: number): SourceStamp {
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

export async function freeId(modelsDir: string, wanted: string): Promise<string> {
  let id = wanted;
  for (let n = 2; existsSync(join(modelsDir, id)); n++) id = `${wanted}-${n}`;
  return id;
}

/** Refuses to start when the models folder's drive has no room for the graphs. */
export async function checkFreeSpace(modelsDir: string): Promise<void> {
  await mkdir(modelsDir, { recursive: true });
  const free = await statfs(modelsDir).then((s) => s.bavail * s.bsize).catch(() => Infinity);
  if (free < MIN_FREE_BYTES) {
    throw new WeightFileError('unsupported', `only ${Math.round(free / 1e6)} MB are free in ${modelsDir}; preparing a model needs about ${MIN_FREE_BYTES / 1e6} MB (the weights are not copied) — free some space and try again`);
  }
}

const HASH_CHUNK = 16 * 1024 * 1024;

/**
 * Streams files through sha256, reporting bytes as they pass. Two buffers take turns: the next
 * chunk is read (on libuv's pool) while the current one is hashed, so the file is read once at the
 * speed of the slower of the disk and the hash, not of both one after the other.
 */
export async function sha256Files(files: readonly { path: string; size: number }[], signal: AbortSignal | undefined, onBytes: (n: number) => void): Promise<string> {
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

/**
 * A byte counter for the hash phase that reports progress (0.02…0.95 of the whole) at most ten
 * times a second, with an ETA from the rate so far.
 */
export function hashProgress(report: Report, total: number): (n: number) => void {
  let done = 0;
  const start = performance.now();
  let last = 0;
  return (n) => {
    done += n;
    const now = performance.now();
    if (now - last < 100 && done < total) return;
    last = now;
    const rate = done / Math.max(1e-3, (now - start) / 1000);
    report('hashing', 0.02 + 0.93 * (done / Math.max(1, total)), done, total, done > 0 ? (total - done) / rate : null);
  };
}

/** weights.json of a component: the one folder its weight files are in, with their sizes. */
export function componentWeights(set: WeightSet): ComponentWeights {
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

export interface ComponentGraphs {
  readonly weights: WeightSet;
  readonly cpu: ModelProto;
  readonly gpu: ModelProto | null;
}

/** `<staging>/<component>/`: model.onnx, model.gpu.onnx when built, weights.json. */
export async function writeComponents(staging: string, components: Readonly<Record<string, ComponentGraphs>>, signal: AbortSignal | undefined): Promise<void> {
  for (const [component, graph] of Object.entries(components)) {
    const dir = join(staging, component);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, CPU_GRAPH), encodeModel(graph.cpu));
    if (graph.gpu) await writeFile(join(dir, GPU_GRAPH), encodeModel(graph.gpu));
    await writeFile(join(dir, COMPONENT_WEIGHTS), JSON.stringify(componentWeights(graph.weights), null, 2));
    throwIfAborted(signal);
  }
}

/**
 * Writes a model into a hidden staging folder with `write`, then renames it to a free id: it
 * appears complete under its name or not at all; a failure or cancel removes the staging folder.
 */
export async function writeAtomically(modelsDir: string, name: string, signal: AbortSignal | undefined, write: (staging: string) => Promise<void>): Promise<{ id: string; folder: string }> {
  const id = await freeId(modelsDir, modelIdFrom(name));
  const staging = join(modelsDir, `.preparing-${id}-${process.pid}-${Date.now().toString(36)}`);
  try {
    await mkdir(staging, { recursive: true });
    await write(staging);
    throwIfAborted(signal);
    const finalId = await freeId(modelsDir, id);
    await rename(staging, join(modelsDir, finalId));
    return { id: finalId, folder: join(modelsDir, finalId) };
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
}
