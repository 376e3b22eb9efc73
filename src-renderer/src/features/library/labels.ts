/** How the Library names things: buckets, sizes, durations, an asset's one-line title. Pure. */
import { PRESETS } from '../../contract.ts';
import type { AssetView, Bucket, JobType } from '../../contract.ts';

export function bucketLabel(bucket: Bucket): string {
  if (bucket === 'reference_images') return 'Reference images';
  if (bucket === 'user_uploads') return 'Uploads & imports';
  return PRESETS[bucket as JobType]?.label ?? bucket;
}

/** "SDXL image · fast" for a generation, "Imported image" for a file from elsewhere. */
export function assetOrigin(asset: Pick<AssetView, 'jobType' | 'kind' | 'bucket'>): string {
  if (asset.jobType) return PRESETS[asset.jobType]?.label ?? asset.jobType;
  if (asset.bucket === 'reference_images') return 'Reference image';
  return asset.kind === 'video' ? 'Imported video' : 'Imported image';
}

export function dimensions(asset: Pick<AssetView, 'width' | 'height'>): string {
  return asset.width && asset.height ? `${asset.width}×${asset.height}` : '—';
}

/** 2.1 s, 1:05 — a clip's length. */
export function clipLength(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '';
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

/** A prompt for a tooltip or label, or a plain description when there is none. */
export function promptOrKind(asset: Pick<AssetView, 'prompt' | 'kind' | 'title'>): string {
  const p = asset.title?.trim() || asset.prompt?.trim();
  return p ? p : asset.kind === 'video' ? 'Video without a prompt' : 'Image without a prompt';
}

/** Timings as the engine records them (ms per stage) → "1.2 s". */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

/** What the pipelines record about a run, by key: a label people read, in the order a run goes. */
const RUN_FIGURES: Readonly<Record<string, string>> = {
  wallMs: 'Total',
  totalMs: 'Total',
  modelLoadMs: 'Model load',
  enhanceMs: 'Prompt enhancement',
  enhanceLoadMs: 'Enhancer load',
  enhancePromptTokens: 'Enhancer prompt',
  enhancePrefillMs: 'Enhancer prefill',
  enhanceDecodeMs: 'Enhancer writing',
  enhanceSessionRunMs: 'Enhancer in the model',
  enhanceTokens: 'Enhancer output',
  enhanceTokensPerSecond: 'Enhancer speed',
  encodeMs: 'Prompt encoding',
  denoiseMs: 'Denoising',
  stepMsMean: 'Per step (mean)',
  denoiseOverheadMs: 'Denoising overhead',
  batches: 'Batches',
  decodeMs: 'VAE decode',
  decodeOverheadMs: 'VAE decode overhead',
  vaeCalls: 'VAE calls',
  vaeDecodePeakRssMb: 'VAE decode peak memory',
  vaeDecodeRssGrowthMb: 'VAE decode memory growth',
  pngEncodeMs: 'PNG encoding',
  mp4EncodeMs: 'MP4 encoding',
  writeMs: 'Writing files',
  sessionRunMs: 'In the model',
  runMs: 'In the model',
  overheadMs: 'Outside the model',
};

const ORDER = Object.keys(RUN_FIGURES);

/** `total_ms` → "Total", `vae_decode` → "Vae decode": a key no table knows, said plainly. */
export function timingLabel(key: string): string {
  const known = RUN_FIGURES[key];
  if (known) return known;
  const words = key
    .replace(/(Ms|_ms|Mb|_mb|Bytes|_bytes)(Mean|Max|Min)?$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function mebibytes(mb: number): string {
  return mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${Math.round(mb)} MB`;
}

/**
 * One recorded figure in its own unit, read off its key as the pipelines name them: `…Ms`
 * milliseconds, `…Mb` mebibytes, `…Bytes` bytes, `…PerSecond` a rate, anything else a count.
 */
export function formatRunFigure(key: string, value: number): string {
  if (/(Ms|_ms)(Mean|Max|Min)?$/.test(key)) return formatMs(value);
  if (/(Mb|_mb)$/.test(key)) return mebibytes(value);
  if (/(Bytes|_bytes)$/.test(key)) return mebibytes(value / 2 ** 20);
  if (/PerSecond$|_per_second$/.test(key)) return `${value.toFixed(1)}${/tokens/i.test(key) ? ' tokens' : ''}/s`;
  const count = Number.isInteger(value) ? value.toLocaleString() : value.toFixed(2);
  return /tokens/i.test(key) ? `${count} tokens` : count;
}

/** The figures of an asset's run, labelled and in their units, in the order a run goes. */
export function runFigures(timings: Readonly<Record<string, unknown>>): { key: string; label: string; value: string }[] {
  const rank = (k: string) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length);
  return Object.entries(timings)
    .filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]))
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([key, value]) => ({ key, label: timingLabel(key), value: formatRunFigure(key, value) }));
}

const EXTENSIONS: Readonly<Record<string, string>> = { 'video/mp4': 'mp4', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/png': 'png' };

/** Characters no file system takes in a name (Windows' set, and controls), and trailing dots/spaces. */
function safeFileName(name: string): string {
  return name
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]+/g, '_')
    .replace(/[. ]+$/, '')
    .slice(0, 120);
}

/** The base name of a path written with / or \\ (but not the \\xNN the engine writes for a byte that is not UTF-8). */
function baseName(path: string): string {
  return path.split(/\/|\\(?!x[0-9a-fA-F]{2})/).pop() ?? path;
}

/**
 * The name "Download" saves a file under. An imported file keeps the name it came with (`imported`,
 * from its recipe); a generated one is named by its first prompt words and its seed, and its batch
 * index when not 0 — `lighthouse-on-a-basalt-cliff-1234-2.png` — so a folder of downloads reads
 * like the prompts that made them and each name says how to make that image again.
 */
export function downloadName(
  asset: Pick<AssetView, 'id' | 'mime' | 'seed' | 'bucket' | 'prompt' | 'title' | 'batchIndex' | 'jobType' | 'kind'>,
  imported?: string | null,
): string {
  const ext = EXTENSIONS[asset.mime] ?? (asset.kind === 'video' ? 'mp4' : 'png');
  if (imported) {
    const name = safeFileName(baseName(imported));
    if (name && name !== '_') return /\.[A-Za-z0-9]{1,5}$/.test(name) ? name : `${name}.${ext}`;
  }
  const source = asset.title?.trim() || asset.prompt?.trim() || assetOrigin(asset);
  // Words only: no weights (`(word:1.2)`), brackets or punctuation; the first few, to a readable length.
  const words: string[] = [];
  for (const word of source.toLowerCase().replace(/:\s*-?\d+(\.\d+)?/g, ' ').match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (words.length >= 8 || words.join('-').length + word.length > 60) break;
    words.push(word);
  }
  const stem = words.join('-') || (asset.kind === 'video' ? 'video' : 'image');
  const tail = asset.seed !== null ? `${asset.seed}${asset.batchIndex !== null && asset.batchIndex > 0 ? `-${asset.batchIndex}` : ''}` : asset.id.slice(0, 8);
  return `${stem}-${tail}.${ext}`;
}

/** The file name an imported asset came with, as its recipe records it; null for generated ones. */
export function importedName(recipe: Readonly<Record<string, unknown>> | null | undefined): string | null {
  const imported = recipe?.['imported'];
  if (!imported || typeof imported !== 'object') return null;
  const from = (imported as Record<string, unknown>)['from'];
  return typeof from === 'string' && from.trim() !== '' ? from : null;
}
