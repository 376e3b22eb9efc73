/**
 * Finds model folders under the configured model directories and says what each one is.
 * A model directory may itself be a model folder or hold model folders one level down.
 * Family-specific validation (input names, dtypes, tokenizer files) plugs in through `validators`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { ModelFamily } from '../../../src-preload/contract/catalog.ts';
import type { ModelInfo } from '../../../src-preload/contract/status.ts';

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

export class ModelRegistry {
  private folders: readonly string[];
  private readonly validators: Partial<Record<DetectedFamily, FamilyValidator>>;
  private cache: ModelInfo[] | null = null;

  constructor(dirs: readonly string[], validators: Partial<Record<DetectedFamily, FamilyValidator>> = {}) {
    this.folders = [...new Set(dirs.map((d) => resolve(d)))];
    this.validators = validators;
  }

  get dirs(): readonly string[] {
    return this.folders;
  }

  /** Settings changed the model folders: the next scan (and job) uses the new list. */
  setDirs(dirs: readonly string[]): void {
    this.folders = [...new Set(dirs.map((d) => resolve(d)))];
    this.cache = null;
  }

  /** Rescans the folders (cheap: directory listings and small JSON files; validators may open ONNX headers). */
  refresh(): ModelInfo[] {
    const found: ModelInfo[] = [];
    const seen = new Set<string>();
    for (const dir of this.dirs) {
      if (!existsSync(dir)) continue;
      const candidates = [dir, ...readdirSync(dir, { withFileTypes: true }).filter((e) => isFolderEntry(dir, e)).map((e) => join(dir, e.name))];
      for (const folder of candidates) {
        if (seen.has(folder)) continue;
        const detected = detectFamily(folder);
        if (!detected) continue;
        seen.add(folder);
        found.push(this.describe(folder, detected));
      }
    }
    this.cache = found;
    return found;
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
      if (named.status !== 'ready') return { missing: `${family} model "${id}" is not usable: ${named.problems.join('; ')}` };
      return named;
    }
    const ready = models.find((m) => m.status === 'ready');
    if (ready) return ready;
    const broken = models.filter((m) => m.status !== 'ready');
    const why = broken.length ? ` (found ${broken.map((m) => `${m.id}: ${m.problems.join('; ')}`).join(' | ')})` : '';
    return { missing: `no usable ${family} model in ${this.where()}${why}` };
  }

  private where(): string {
    return this.dirs.length ? this.dirs.join(', ') : '(no model folders configured)';
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
    return {
      id,
      family: detected.family,
      name: id,
      path: folder,
      sizeBytes,
      precision: report.precision,
      status: report.problems.length ? 'invalid' : 'ready',
      problems: report.problems,
    };
  }
}

export const FAMILY_HELP: Record<DetectedFamily, string> = {
  sdxl: 'an SDXL ONNX export in the Hugging Face Optimum layout (model_index.json, text_encoder/, text_encoder_2/, unet/, vae_decoder/, tokenizer/, tokenizer_2/, scheduler/)',
  wan: 'a WAN 2.1 T2V ONNX export (model_index.json, text_encoder/, transformer/, vae_decoder/, tokenizer/, scheduler/)',
  qwen: 'a Qwen2.5 Instruct ONNX export in the transformers.js layout (config.json, tokenizer.json, onnx/model*.onnx)',
};
