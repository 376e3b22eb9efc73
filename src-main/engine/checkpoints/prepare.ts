/**
 * Prepares a creator's SDXL checkpoint (an A1111/ComfyUI/Civitai single file, or a diffusers
 * folder) for the SDXL pipeline: reads and checks its headers, sizes each architecture from the
 * weights' own shapes, hashes the file (A1111's "Model hash"), and writes a folder in the layout the
 * pipeline runs — ONNX graphs that point into the user's file (nothing is copied), tokenizers,
 * scheduler and VAE configs — atomically: it appears complete under its name, or not at all.
 * A WAN 2.1 model is prepared by wan-prepare.ts (prepareCheckpoint hands it over); what both share
 * is in prepare-common.ts. Runs anywhere (the CLI calls it directly; the app runs it on a thread:
 * prepare-thread.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { WeightFileError } from '../weights/errors.ts';
import { writeClipTokenizerFiles } from '../tokenizers/clip-files.ts';
import { APP_VERSION } from '../version.ts';
import { parsePythonJson } from '../fs/python-json.ts';
import { identify } from './identify.ts';
import type { Identified, SdxlDiffusersFolder, SdxlSingleFile, SdxlVaeFile } from './identify.ts';
import { componentWeightSet } from './diffusers-folder.ts';
import { splitSdxlSingleFile } from './layouts/sdxl-single-file.ts';
import { vaeWeightSetFromFile } from './layouts/vae-file.ts';
import { checkFreeSpace, componentWeights, findPrepared, hashProgress, reporter, sha256Files, stampOf, throwIfAborted, writeAtomically, writeComponents } from './prepare-common.ts';
import type { PrepareOptions, PrepareResult } from './prepare-common.ts';
import { PREPARED_FORMAT, PREPARED_MANIFEST } from './prepared.ts';
import type { PreparedManifest, SourceStamp } from './prepared.ts';
import { buildSdxlGraphs, SDXL_SCHEDULER_DEFAULTS } from './sdxl-graphs.ts';
import type { SdxlWeightSets } from './sdxl-graphs.ts';
import { prepareWan } from './wan-prepare.ts';

export { findPrepared, modelIdFrom, PrepareCancelledError } from './prepare-common.ts';
export type { PrepareOptions, PreparePhase, PrepareProgress, PrepareResult } from './prepare-common.ts';

function defaultName(identified: SdxlSingleFile | SdxlDiffusersFolder): string {
  const base = basename(identified.path);
  return identified.kind === 'sdxl_single_file' ? base.slice(0, base.length - extname(base).length) : base;
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

async function plan(options: PrepareOptions, identified: Identified): Promise<Plan> {
  if (!identified.ok) fail(identified);
  if (identified.kind === 'wan_part' || identified.kind === 'wan_model') throw new Error('a WAN model is prepared by prepareWan');
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

/**
 * Prepares a model from a creator's files: an SDXL checkpoint or diffusers folder here, a WAN 2.1
 * model (a folder, or its parts' files in `sources`) in wan-prepare.ts.
 */
export async function prepareCheckpoint(options: PrepareOptions): Promise<PrepareResult> {
  const report = reporter(options);
  report('checking', 0, 0, 0, null);
  throwIfAborted(options.signal);
  if (options.sources && options.sources.length > 1) return prepareWan(options, options.sources, report);
  const identified = await identify(options.source);
  if (identified.ok && (identified.kind === 'wan_part' || identified.kind === 'wan_model')) return prepareWan(options, [options.source], report);

  const p = await plan(options, identified);
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
  await checkFreeSpace(options.modelsDir);

  // Hash: the long part (the whole checkpoint is read once).
  const toHash = [...p.hashed, ...(p.vaeFile ? [{ path: p.vaeFile.header.realPath, size: p.vaeFile.header.size }] : [])];
  const total = toHash.reduce((s, f) => s + f.size, 0);
  const onBytes = hashProgress(report, total);
  const sha256 = await sha256Files(p.hashed, options.signal, onBytes);
  const vaeSha = p.vaeFile ? await sha256Files([{ path: p.vaeFile.header.realPath, size: p.vaeFile.header.size }], options.signal, onBytes) : null;
  report('writing', 0.96, total, total, 0);

  const name = (options.name ?? '').trim() || defaultName(p.identified);
  let manifest: PreparedManifest | null = null;
  const written = await writeAtomically(options.modelsDir, name, options.signal, async (staging) => {
    await writeComponents(staging, graphs.components, options.signal);
    await writeFile(join(staging, 'vae_decoder', 'config.json'), JSON.stringify(p.vaeConfig, null, 2));
    await mkdir(join(staging, 'scheduler'), { recursive: true });
    await writeFile(join(staging, 'scheduler', 'scheduler_config.json'), JSON.stringify(p.schedulerConfig, null, 2));
    for (const [folder, pad] of [['tokenizer', '<|endoftext|>'], ['tokenizer_2', '!']] as const) {
      const own = p.tokenizersFrom ? join(p.tokenizersFrom, folder) : null;
      if (own && existsSync(join(own, 'vocab.json')) && existsSync(join(own, 'merges.txt'))) await cp(own, join(staging, folder), { recursive: true });
      else await writeClipTokenizerFiles(join(staging, folder), { padToken: pad });
    }
    manifest = {
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
  });
  report('writing', 1, total, total, 0);
  return { ...written, manifest: manifest!, reused: false };
}
