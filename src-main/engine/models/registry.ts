/**
 * Finds model folders under the configured model directories and says what each one is.
 * A model directory may itself be a model folder or hold model folders one level down.
 * Family-specific validation (input names, dtypes, tokenizer files) plugs in through `validators`.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import type { ModelFamily } from '../../../src-preload/contract/catalog.ts';
import type { ModelInfo } from '../../../src-preload/contract/status.ts';
import { identifyFileSync } from '../checkpoints/identify.ts';
import type { Identified } from '../checkpoints/identify.ts';
import { readPreparedManifest } from '../checkpoints/prepared.ts';
import { DTYPE_LABEL } from '../weights/dtypes.ts';
import type { ModelChoices, ModelChoiceValues } from './choices.ts';
import { inspectQwenGguf } from './qwen-gguf.ts';
import type { QwenGgufInspection } from './qwen-gguf.ts';

export type DetectedFamily = ModelFamily | 'qwen';

export interface ValidationReport {
  readonly problems: string[];
  readonly precision: ModelInfo['precision'];
}

export type FamilyValidator = (folder: string) => ValidationReport;

/** Which pipeline class in model_index.json (diffusers/Optimum layout) means which family. */
const PIPELINE_CLASSES: Record<string, DetectedFamily> = {
  StableDiffusionXLPipeline: 'sdxl',
  ORTStableDiffusionXLPipeline: 'sdxl',
  WanPipeline: 'wan',
};

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Says which family a folder holds, or why it is not recognised (null when it is no model at all). */
export function detectFamily(folder: string): { family: DetectedFamily } | { problem: string } | null {
  const index = join(folder, 'model_index.json');
  if (existsSync(index)) {
    const json = readJson(index);
    if (!json) return { problem: 'model_index.json is not valid JSON' };
    const cls = String(json._class_name ?? '');
    const family = PIPELINE_CLASSES[cls];
    if (family) return { family };
    if (/StableDiffusion(Pipeline|Img2Img)|ORTStableDiffusionPipeline/.test(cls)) {
      return { problem: `model_index.json names ${cls} — this looks like an SD 1.5/2.x export, not SDXL` };
    }
    return { problem: `model_index.json names ${cls || 'no pipeline class'}, which this app does not run` };
  }
  const config = readJson(join(folder, 'config.json'));
  if (config && String(config.model_type ?? '').startsWith('qwen2')) return { family: 'qwen' };
  if (existsSync(join(folder, 'unet')) || existsSync(join(folder, 'transformer'))) {
    return { problem: 'has model components but no model_index.json; export it with the Optimum/diffusers layout' };
  }
  return null;
}

/**
 * Bytes under a model folder. Linked files count at their target's size (a Hugging Face cache
 * snapshot is all links into blobs/); linked folders are not walked, so a link loop cannot recurse.
 */
function folderSize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) total += folderSize(p);
    else if (entry.isFile()) total += statSync(p).size;
    else if (entry.isSymbolicLink()) {
      const target = statSync(p, { throwIfNoEntry: false });
      if (target?.isFile()) total += target.size;
    }
  }
  return total;
}

/** A folder, or a link to one (models kept on another drive and linked into the models folder). */
function isFolderEntry(dir: string, entry: Dirent): boolean {
  if (entry.isDirectory()) return true;
  return entry.isSymbolicLink() && statSync(join(dir, entry.name), { throwIfNoEntry: false })?.isDirectory() === true;
}

/** Checkpoint-like files directly in a folder (links to files included). */
function checkpointFiles(folder: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => /\.(safetensors|ckpt|pt|pth)$/i.test(e.name) && !e.name.startsWith('.'))
    .map((e) => join(folder, e.name))
    .filter((p) => statSync(p, { throwIfNoEntry: false })?.isFile() === true)
    .sort();
}

/** An Ollama blob (models/blobs/sha256-…): no extension, so only its first bytes say it is a GGUF. */
function isGgufBlob(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.toString('latin1') === 'GGUF';
  } finally {
    closeSync(fd);
  }
}

/**
 * GGUF files in a folder and, with `depth` 1, in its folders too (LM Studio keeps
 * models/<publisher>/<repo>/<file>.gguf). Ollama's blobs are found by their magic, and kept only
 * when they are Qwen models (its store holds every model the user pulled).
 */
function ggufFiles(folder: string, depth: number): { path: string; blob: boolean }[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: { path: string; blob: boolean }[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(folder, e.name);
    const isFile = e.isFile() || (e.isSymbolicLink() && statSync(p, { throwIfNoEntry: false })?.isFile() === true);
    if (isFile && /\.gguf$/i.test(e.name)) out.push({ path: p, blob: false });
    else if (isFile && /^sha256[-:][0-9a-f]{64}$/.test(e.name)) {
      try {
        if (isGgufBlob(p)) out.push({ path: p, blob: true });
      } catch {
        // an unreadable blob is not listed
      }
    } else if (depth > 0 && isFolderEntry(folder, e)) out.push(...ggufFiles(p, depth - 1));
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** A diffusers SDXL folder with weights but no ONNX graphs: the studio prepares it on request. */
function isUnpreparedDiffusers(folder: string): boolean {
  if (existsSync(join(folder, 'unet', 'model.onnx'))) return false;
  const unet = join(folder, 'unet');
  return existsSync(unet) && readdirSync(unet).some((f) => f.endsWith('.safetensors') || f.endsWith('.safetensors.index.json'));
}

/** A diffusers WAN folder with weights but no ONNX graphs: the studio prepares it on request. */
function isUnpreparedWanDiffusers(folder: string): boolean {
  if (existsSync(join(folder, 'transformer', 'model.onnx'))) return false;
  const transformer = join(folder, 'transformer');
  return existsSync(transformer) && readdirSync(transformer).some((f) => f.endsWith('.safetensors') || f.endsWith('.safetensors.index.json'));
}

/** Wan-AI's release folder: config.json of `WanModel` beside the transformer's safetensors. */
function isWanAiFolder(folder: string): boolean {
  const config = readJson(join(folder, 'config.json'));
  return config?._class_name === 'WanModel' && checkpointFiles(folder).some((f) => f.endsWith('.safetensors'));
}

/**
 * Refused files worth a row: checkpoints a creator would expect to load (pickles, SD 1.x/2.x,
 * Flux…, damaged files). LoRAs, embeddings, VAEs and lone text encoders in the same folder are not
 * models, so they are not listed.
 */
function isWorthListing(refusal: Extract<Identified, { ok: false }>): boolean {
  return !['a LoRA', 'a textual-inversion embedding', 'a text encoder'].includes(refusal.what ?? '');
}

function unprepared(model: ModelInfo): string {
  return `${model.name} (${model.description ?? 'a checkpoint'}) has not been prepared yet: add it in the Models view, or run studio models add "${model.path}"`;
}

function realPathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

export class ModelRegistry {
  private folders: readonly string[];
  private readonly validators: Partial<Record<DetectedFamily, FamilyValidator>>;
  private cache: ModelInfo[] | null = null;
  private vaeFiles: string[] = [];
  private readonly identified = new Map<string, { size: number; mtimeMs: number; result: Identified }>();
  private readonly ggufs = new Map<string, { size: number; mtimeMs: number; result: QwenGgufInspection }>();
  /** The person's default per family and the models removed from the list (none without). */
  readonly choices: ModelChoices | null;

  constructor(dirs: readonly string[], validators: Partial<Record<DetectedFamily, FamilyValidator>> = {}, choices: ModelChoices | null = null) {
    this.folders = [...new Set(dirs.map((d) => resolve(d)))];
    this.validators = validators;
    this.choices = choices;
  }

  get dirs(): readonly string[] {
    return this.folders;
  }

  /** Settings changed the model folders: the next scan (and job) uses the new list. */
  setDirs(dirs: readonly string[]): void {
    this.folders = [...new Set(dirs.map((d) => resolve(d)))];
    this.cache = null;
  }

  /**
   * Rescans the folders (cheap: directory listings, small JSON files and, for checkpoint files,
   * their headers — cached by path, size and modification time; validators may open ONNX headers).
   * Besides model folders it lists the SDXL checkpoints and diffusers folders it finds as "needs
   * preparation" (unless already prepared) — and WAN 2.1 models as they are published (a diffusers
   * folder, Wan-AI's release, a ComfyUI models/ folder) — and remembers SDXL VAE files for
   * checkpoints without one.
   */
  refresh(): ModelInfo[] {
    const found: ModelInfo[] = [];
    const candidates: ModelInfo[] = [];
    const vaes: string[] = [];
    const seen = new Set<string>();
    for (const dir of this.dirs) {
      if (!existsSync(dir)) continue;
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      const subfolders = entries.filter((e) => !e.name.startsWith('.') && isFolderEntry(dir, e)).map((e) => join(dir, e.name));
      for (const folder of [dir, ...subfolders]) {
        if (seen.has(folder)) continue;
        seen.add(folder);
        const detected = detectFamily(folder);
        if (detected && 'family' in detected && detected.family === 'sdxl' && isUnpreparedDiffusers(folder)) {
          candidates.push(this.candidate(folder, 'SDXL diffusers model', folderSize(folder), 'unknown'));
          continue;
        }
        if (detected && 'family' in detected && detected.family === 'wan' && isUnpreparedWanDiffusers(folder)) {
          candidates.push(this.candidate(folder, 'WAN 2.1 diffusers model', folderSize(folder), 'unknown', 'wan'));
          continue;
        }
        if (!detected && isWanAiFolder(folder)) {
          candidates.push(this.candidate(folder, "WAN 2.1 model (Wan-AI's release)", folderSize(folder), 'unknown', 'wan'));
          continue;
        }
        // ComfyUI's models/ folder: its WAN parts are one model (several transformers are told apart when it is added).
        const wanTree = !detected ? this.comfyWanTree(folder) : null;
        if (wanTree) candidates.push(wanTree);
        if (detected) {
          found.push(this.describe(folder, detected));
          continue;
        }
        for (const { path, blob } of ggufFiles(folder, folder === dir ? 0 : 1)) {
          if (seen.has(path)) continue;
          seen.add(path);
          const listed = this.describeGguf(path, blob);
          if (listed) found.push(listed);
        }
        for (const file of checkpointFiles(folder)) {
          if (seen.has(file)) continue;
          seen.add(file);
          const identified = this.identifyCached(file);
          if (identified.ok && identified.kind === 'sdxl_vae') vaes.push(file);
          else if (identified.ok && identified.kind === 'sdxl_single_file') {
            candidates.push(this.candidate(file, identified.description, identified.sizeBytes, identified.dtype ? DTYPE_LABEL[identified.dtype] : 'unknown'));
          } else if (!identified.ok && isWorthListing(identified)) {
            candidates.push({ ...this.candidate(file, identified.what ?? null, statSync(file).size, 'unknown'), status: 'invalid', problems: [identified.sentence] });
          }
        }
      }
    }
    // A checkpoint already prepared is listed once: as the prepared model.
    const prepared = new Set(found.map((m) => m.source).filter((p): p is string => !!p).map(realPathOr));
    // So is a WAN folder whose transformer a prepared model was made from (ComfyUI's files chosen one by one).
    const wanTransformers = found
      .filter((m) => m.family === 'wan' && m.source)
      .flatMap((m) => readPreparedManifest(m.path)?.wan?.parts.transformer.files ?? [])
      .map(realPathOr);
    const covered = (c: ModelInfo): boolean => c.family === 'wan' && wanTransformers.some((f) => f.startsWith(realPathOr(c.path) + sep));
    this.vaeFiles = vaes;
    this.cache = marked([...found, ...candidates.filter((c) => !prepared.has(realPathOr(c.path)) && !covered(c))], this.choices?.read() ?? null);
    return this.cache;
  }

  /** SDXL VAE files found in the model folders (for checkpoints that carry none). */
  vaes(): readonly string[] {
    if (this.cache === null) this.refresh();
    return this.vaeFiles;
  }

  private identifyCached(file: string): Identified {
    const info = statSync(file, { throwIfNoEntry: false });
    const cached = this.identified.get(file);
    if (cached && info && cached.size === info.size && cached.mtimeMs === info.mtimeMs) return cached.result;
    const result = identifyFileSync(file);
    if (info) this.identified.set(file, { size: info.size, mtimeMs: info.mtimeMs, result });
    return result;
  }

  /** A ComfyUI `models/` folder whose diffusion_models/ holds a WAN 2.1 transformer, with text_encoders/ and vae/ beside it. */
  private comfyWanTree(folder: string): ModelInfo | null {
    const transformers = join(folder, 'diffusion_models');
    if (!existsSync(transformers) || !existsSync(join(folder, 'text_encoders')) || !existsSync(join(folder, 'vae'))) return null;
    for (const file of checkpointFiles(transformers)) {
      const identified = this.identifyCached(file);
      if (identified.ok && identified.kind === 'wan_part' && identified.part === 'transformer') {
        const precision = identified.dtype ? DTYPE_LABEL[identified.dtype] : 'unknown';
        return this.candidate(folder, `WAN 2.1 model (ComfyUI files: ${identified.description}, with its text encoder and VAE)`, identified.sizeBytes, precision, 'wan');
      }
    }
    return null;
  }

  private candidate(path: string, description: string | null, sizeBytes: number, precision: string, family: ModelFamily = 'sdxl'): ModelInfo {
    const base = basename(path);
    const name = statSync(path, { throwIfNoEntry: false })?.isDirectory() ? base : base.replace(/\.[^.]+$/, '');
    return {
      id: `checkpoint:${base}`,
      family,
      name,
      path,
      sizeBytes,
      precision: (['fp32', 'fp16', 'bf16'] as const).find((p) => p === precision) ?? 'unknown',
      status: 'needs_preparation',
      problems: [],
      description,
      hash: null,
      source: null,
    };
  }

  list(): ModelInfo[] {
    return this.cache ?? this.refresh();
  }

  /** The model a job of this family uses: the one named, else the first ready one. */
  find(family: DetectedFamily, id: string | null): ModelInfo | { missing: string } {
    const models = this.refresh().filter((m) => m.family === family);
    if (id) {
      const named = models.find((m) => m.id === id);
      if (!named) return { missing: `no ${family} model named "${id}" in ${this.where()}` };
      if (named.status === 'needs_preparation') return { missing: unprepared(named) };
      if (named.status !== 'ready') return { missing: `${family} model "${id}" is not usable: ${named.problems.join('; ')}` };
      return named;
    }
    const ready = models.find((m) => m.isDefault);
    if (ready) return ready;
    const removed = models.filter((m) => m.status === 'ready' && m.hidden);
    if (removed.length > 0) {
      return { missing: `every ready ${family} model was removed from the list (${removed.map((m) => m.id).join(', ')}): put one back in the Models view, or name it with --model` };
    }
    const waiting = models.find((m) => m.status === 'needs_preparation' && !m.hidden);
    if (waiting) return { missing: unprepared(waiting) };
    const broken = models.filter((m) => m.status === 'invalid');
    const why = broken.length ? ` (found ${broken.map((m) => `${m.id}: ${m.problems.join('; ')}`).join(' | ')})` : '';
    return { missing: `no usable ${family} model in ${this.where()}${why}` };
  }

  private where(): string {
    return this.dirs.length ? this.dirs.join(', ') : '(no model folders configured)';
  }

  /** A GGUF file as a Qwen enhancer model: ready when it is a Qwen2.5 Instruct GGUF, else its refusal. */
  private describeGguf(path: string, blob: boolean): ModelInfo | null {
    const info = statSync(path, { throwIfNoEntry: false });
    if (!info) return null;
    const cached = this.ggufs.get(path);
    let result: QwenGgufInspection;
    if (cached && cached.size === info.size && cached.mtimeMs === info.mtimeMs) result = cached.result;
    else {
      result = inspectQwenGguf(path);
      this.ggufs.set(path, { size: info.size, mtimeMs: info.mtimeMs, result });
    }
    // Later parts of a split model are read through the first; other models in Ollama's store are not ours to list.
    if (!result.ok && (result.laterPart || blob)) return null;
    const base = basename(path);
    const name = blob ? `${result.ok ? (result.name ?? `Qwen2.5 ${result.size} Instruct`) : base} ${result.ok ? result.quantization : ''} (Ollama)`.replace(/\s+/g, ' ') : base.replace(/\.gguf$/i, '');
    const quant = result.ok ? result.quantization : '';
    return {
      id: blob ? `ollama-${base.slice(7, 19)}` : base,
      family: 'qwen',
      name,
      path,
      sizeBytes: result.ok ? result.sizeBytes : info.size,
      precision: quant === 'F16' ? 'fp16' : quant === 'BF16' ? 'bf16' : quant === 'F32' ? 'fp32' : 'unknown',
      status: result.ok ? 'ready' : 'invalid',
      problems: result.ok ? [] : [result.sentence],
      description: result.ok ? result.description : result.what,
      hash: null,
      source: null,
    };
  }

  private describe(folder: string, detected: { family: DetectedFamily } | { problem: string }): ModelInfo {
    const id = basename(folder);
    let sizeBytes = 0;
    try {
      sizeBytes = folderSize(folder);
    } catch {
      // unreadable parts are reported by the validator
    }
    if ('problem' in detected) {
      return { id, family: 'sdxl', name: id, path: folder, sizeBytes, precision: 'unknown', status: 'invalid', problems: [detected.problem] };
    }
    const validator = this.validators[detected.family];
    const report: ValidationReport = validator ? validator(folder) : { problems: [], precision: 'unknown' };
    // A model the studio prepared from a checkpoint: its graphs point into the user's file.
    const prepared = readPreparedManifest(folder);
    return {
      id,
      family: detected.family,
      name: prepared?.name ?? id,
      path: folder,
      sizeBytes: prepared?.weightBytes ?? sizeBytes,
      precision: prepared?.precision ?? report.precision,
      status: report.problems.length ? 'invalid' : 'ready',
      problems: report.problems,
      description: prepared?.description ?? null,
      hash: prepared?.shortHash ?? null,
      source: prepared?.input ?? null,
    };
  }
}

export const FAMILY_HELP: Record<DetectedFamily, string> = {
  sdxl: 'an SDXL ONNX export in the Hugging Face Optimum layout (model_index.json, text_encoder/, text_encoder_2/, unet/, vae_decoder/, tokenizer/, tokenizer_2/, scheduler/)',
  wan: 'a WAN 2.1 T2V ONNX export (model_index.json, text_encoder/, transformer/, vae_decoder/, tokenizer/, scheduler/)',
  qwen: 'a Qwen2.5 Instruct GGUF file (such as Qwen2.5-7B-Instruct-Q4_K_M.gguf from LM Studio, Ollama or Hugging Face), or a Qwen2.5 Instruct ONNX export in the transformers.js layout (config.json, tokenizer.json, onnx/model*.onnx)',
};

/**
 * The default of a family: the one the person chose, while it is ready and listed; else the first
 * ready one (for the enhancer a GGUF first: it runs on llama.cpp with GPU builds from npm).
 */
function defaultOf(models: readonly ModelInfo[], family: DetectedFamily, choices: ModelChoiceValues | null): ModelInfo | null {
  const usable = models.filter((m) => m.family === family && m.status === 'ready' && !choices?.hidden.includes(m.path));
  const chosen = choices?.defaults[family];
  return (chosen ? usable.find((m) => m.id === chosen) : undefined) ?? (family === 'qwen' ? usable.find(isGgufInfo) : undefined) ?? usable[0] ?? null;
}

/** The list with each family's default marked and the models removed from the list said. */
function marked(models: readonly ModelInfo[], choices: ModelChoiceValues | null): ModelInfo[] {
  const defaults = new Set((['sdxl', 'wan', 'qwen'] as const).map((f) => defaultOf(models, f, choices)).filter((m) => m !== null));
  return models.map((m) => ({ ...m, isDefault: defaults.has(m), hidden: choices?.hidden.includes(m.path) ?? false }));
}

/** A model listed from a GGUF file (the enhancer runs it on llama.cpp). */
export function isGgufInfo(model: Pick<ModelInfo, 'path'>): boolean {
  return /\.gguf$/i.test(model.path) || /(?:^|[\\/])sha256[-:][0-9a-f]{64}$/.test(model.path);
}
