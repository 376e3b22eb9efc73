/**
 * Prepares a WAN 2.1 text-to-video model from the files creators have — a diffusers folder,
 * Wan-AI's release folder, a ComfyUI `models/` folder, or ComfyUI's three files chosen one by one
 * (wan-sets.ts reads them into canonical weights and refuses what it will not take in a sentence) —
 * into the layout the WAN pipeline loads (docs/models.md "WAN 2.1 T2V"):
 *
 *   model_index.json (WanPipeline; written last)   prepared.json
 *   transformer/, text_encoder/, vae_decoder/      model.onnx (fp32), model.gpu.onnx, weights.json
 *   vae_decoder/config.json                        the frame-cached decoder's config
 *   tokenizer/                                     tokenizer.json (+ config) or spiece.model
 *   scheduler/scheduler_config.json                the source's, else the released UniPC config
 *
 * The graphs point into the user's files (each component's weights.json names its folder — the
 * three ComfyUI files may sit in three folders); conversions (bf16, fp8 × scale) are graph nodes
 * folded when a session loads (wan-graphs.ts). The transformer's file(s) are hashed for the
 * recipe's model hash. Written atomically, reused when the same unchanged files are added again,
 * cancellable between steps (prepare-common.ts).
 */
import { copyFile, mkdir, open, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { WAN21_SCHEDULER_JSON } from '../numerics/flow/index.ts';
import { APP_VERSION } from '../version.ts';
import { WeightFileError } from '../weights/errors.ts';
import type { TensorRef } from '../weights/tensor-ref.ts';
import { checkFreeSpace, componentWeights, findPrepared, hashProgress, sha256Files, stampOf, throwIfAborted, writeAtomically, writeComponents } from './prepare-common.ts';
import type { PrepareOptions, PrepareResult, Report } from './prepare-common.ts';
import { PREPARED_FORMAT, PREPARED_MANIFEST } from './prepared.ts';
import type { PreparedManifest, WanPreparedKind } from './prepared.ts';
import { buildWanGraphs } from './wan-graphs.ts';
import { readWanParts } from './wan-sets.ts';
import type { WanParts, WanSetLayout, WanTokenizerSource } from './wan-sets.ts';

const KIND: Readonly<Record<WanSetLayout, WanPreparedKind>> = { diffusers: 'wan_diffusers', wan_ai: 'wan_ai', comfyui: 'wan_comfyui', files: 'wan_files' };

/** The size ComfyUI's `spiece_model` may have (UMT5's is 4.5 MB): a bound on what is read into memory. */
const MAX_SPIECE_BYTES = 64 * 1024 * 1024;

function precisionOf(parts: WanParts): PreparedManifest['precision'] {
  switch (parts.dtype) {
    case 'F32':
      return 'fp32';
    case 'F16':
      return 'fp16';
    case 'BF16':
      return 'bf16';
    default:
      return 'mixed';
  }
}

function defaultName(paths: readonly string[], parts: WanParts): string {
  if (paths.length === 1 && parts.layout !== 'files') return basename(paths[0]!);
  const file = parts.parts.transformer.files[0]!.path;
  const base = basename(file);
  return base.slice(0, base.length - extname(base).length).replace(/\.safetensors$/, '');
}

async function readRef(ref: TensorRef): Promise<Buffer> {
  if (ref.length > MAX_SPIECE_BYTES) throw new WeightFileError('corrupt', `${ref.origin} is ${ref.length} bytes, far more than a SentencePiece model: the file is damaged`);
  const handle = await open(ref.file, 'r');
  try {
    const bytes = Buffer.alloc(ref.length);
    const { bytesRead } = await handle.read(bytes, 0, ref.length, ref.offset);
    if (bytesRead !== ref.length) throw new WeightFileError('truncated', `${ref.origin} ended early while reading it (was the file changed or moved?)`);
    return bytes;
  } finally {
    await handle.close();
  }
}

/** `tokenizer/`: the source's tokenizer.json (+ config) copied, or the SentencePiece model as spiece.model. */
async function writeTokenizer(dir: string, source: WanTokenizerSource): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (source.kind === 'tokenizer.json') {
    for (const file of source.files) await copyFile(join(source.folder, file), join(dir, file));
  } else if (source.kind === 'spiece.model') {
    await copyFile(source.file, join(dir, 'spiece.model'));
  } else {
    await writeFile(join(dir, 'spiece.model'), await readRef(source.tensor));
  }
}

/**
 * Prepares the WAN 2.1 model in `paths` (one folder, or its parts' files). Throws a
 * `WeightFileError` whose message is one sentence for anything that is not a whole WAN 2.1 T2V model.
 */
export async function prepareWan(options: PrepareOptions, paths: readonly string[], report: Report): Promise<PrepareResult> {
  const parts = await readWanParts(paths.length === 1 ? paths[0]! : paths);
  throwIfAborted(options.signal);
  const sources = parts.files.map((f) => stampOf(f.path, f.realPath, f.size, f.mtimeMs));
  const reused = await findPrepared(options.modelsDir, sources, null);
  if (reused) {
    report('writing', 1, 0, 0, 0);
    return { ...reused, reused: true };
  }

  // Sized and checked (every weight's shape) before the long hash, so a wrong file fails fast.
  report('building', 0.01, 0, 0, null);
  const graphs = buildWanGraphs(parts, { variants: options.variants ?? ['cpu', 'gpu'], folderOf: (set) => componentWeights(set).folder });
  throwIfAborted(options.signal);
  await checkFreeSpace(options.modelsDir);

  const hashed = parts.parts.transformer.files.map((f) => ({ path: f.realPath, size: f.size }));
  const total = hashed.reduce((s, f) => s + f.size, 0);
  const sha256 = await sha256Files(hashed, options.signal, hashProgress(report, total));
  report('writing', 0.96, total, total, 0);

  const name = (options.name ?? '').trim() || defaultName(paths, parts);
  const { transformer, textEncoder, vae } = parts.parts;
  const manifest: PreparedManifest = {
    format: PREPARED_FORMAT,
    kind: KIND[parts.layout],
    input: paths[0]!,
    name,
    description: parts.description,
    sha256,
    shortHash: sha256.slice(0, 10),
    sources,
    vae: null,
    prediction: 'flow_prediction',
    precision: precisionOf(parts),
    weightBytes: Object.values(graphs.components).reduce((s, c) => s + c.weights.bytes(), 0),
    appVersion: APP_VERSION,
    preparedAt: new Date().toISOString(),
    wan: {
      size: parts.size,
      textDim: parts.transformerConfig.textDim,
      parts: {
        transformer: { files: transformer.files.map((f) => f.path), precision: transformer.precision, description: transformer.description },
        textEncoder: { files: textEncoder.files.map((f) => f.path), precision: textEncoder.precision, description: textEncoder.description },
        vae: { files: vae.files.map((f) => f.path), precision: vae.precision, description: vae.description },
      },
      tokenizer: parts.tokenizer.kind,
    },
  };
  const written = await writeAtomically(options.modelsDir, name, options.signal, async (staging) => {
    await writeComponents(staging, graphs.components, options.signal);
    await writeFile(join(staging, 'vae_decoder', 'config.json'), JSON.stringify(graphs.vaeConfigJson, null, 2));
    await writeTokenizer(join(staging, 'tokenizer'), parts.tokenizer);
    await mkdir(join(staging, 'scheduler'), { recursive: true });
    await writeFile(join(staging, 'scheduler', 'scheduler_config.json'), JSON.stringify(parts.schedulerConfig ?? WAN21_SCHEDULER_JSON, null, 2));
    await writeFile(join(staging, PREPARED_MANIFEST), JSON.stringify(manifest, null, 2));
    // model_index.json last: a folder without it is never taken for a model by the registry.
    await writeFile(join(staging, 'model_index.json'), JSON.stringify({ _class_name: 'WanPipeline', _prepared_by: `OurVidz Studio ${APP_VERSION}` }, null, 2));
  });
  report('writing', 1, total, total, 0);
  return { ...written, manifest, reused: false };
}
