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

/** `total_ms` → "Total", `vae_decode` → "Vae decode". */
export function timingLabel(key: string): string {
  const words = key.replace(/Ms$|_ms$/i, '').replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A file name for "Download": the job type, seed and id, with the file's extension. */
export function downloadName(asset: Pick<AssetView, 'id' | 'mime' | 'seed' | 'bucket'>): string {
  const ext = asset.mime === 'video/mp4' ? 'mp4' : asset.mime === 'image/jpeg' ? 'jpg' : asset.mime === 'image/webp' ? 'webp' : 'png';
  return `${asset.bucket}${asset.seed !== null ? `-${asset.seed}` : ''}-${asset.id.slice(0, 8)}.${ext}`;
}
