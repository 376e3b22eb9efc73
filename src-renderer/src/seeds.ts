/**
 * What reproduces one image alone. A batch draws the starting noise of all its images from one
 * seed (torch.randn on a CPU generator, one row per image, as diffusers and ComfyUI do), so image k
 * of a batch is the batch seed *and* its row — `seed` and `batchIndex` in its recipe. The seed
 * alone makes the first image (index 0); any other needs its index too (`studio generate --seed S
 * --batch-index k --count 1`, or Re-run in the Workspace).
 */

export interface ImageSeed {
  readonly seed: number;
  /** The image's row in its seed's batch (0 for the first, or for an image made alone). */
  readonly batchIndex: number | null;
}

const indexOf = (s: ImageSeed) => (s.batchIndex !== null && s.batchIndex > 0 ? s.batchIndex : 0);

/** "1234", or "1234, batch index 2": the value of a Seed field that tells this image from its batch's others. */
export function imageSeedValue(s: ImageSeed): string {
  const k = indexOf(s);
  return k > 0 ? `${s.seed}, batch index ${k}` : String(s.seed);
}

/** "seed 1234", or "seed 1234, batch index 2": the same as a label. */
export function imageSeedText(s: ImageSeed): string {
  return `seed ${imageSeedValue(s)}`;
}

/** What "Copy seed" puts on the clipboard: the seed, with the batch index when the seed alone would make another image. */
export function imageSeedClipboard(s: ImageSeed): string {
  return indexOf(s) > 0 ? imageSeedText(s) : String(s.seed);
}
