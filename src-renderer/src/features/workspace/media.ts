/**
 * Where the Workspace loads an asset's picture or clip from: the api layer's media URLs (the
 * `studio-media://` protocol in Electron, the token-keyed `/studio-media/` route under `studio serve`).
 */
import { mediaUrl } from '../../api/media.ts';
import type { AssetView, MediaVariant } from '../../contract.ts';

/** The thumbnail while it exists (it is made shortly after the file), else the original. */
export function assetSrc(asset: AssetView, variant: MediaVariant): string {
  return mediaUrl(asset.id, variant === 'thumb' && asset.thumbUrl === null ? 'original' : variant);
}
