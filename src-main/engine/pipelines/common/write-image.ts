/**
 * Writes one generated image into the job's staging folder: the PNG with its A1111 `parameters`,
 * the recipe JSON and the XMP DigitalSourceType, plus a thumbnail — both atomically.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sharedPngPool } from '../../media/png-pool.ts';
import type { RawImage } from '../../media/png.ts';
import { writeFileAtomic } from '../../fs/atomic-write.ts';
import type { OutputFile } from '../types.ts';
import type { ShareableRecipe } from '../../media/recipe.ts';

export interface ImageToWrite {
  readonly image: RawImage;
  readonly stagingDir: string;
  readonly name: string;
  readonly parameters: string;
  /** Built by shareableRecipe: the file is shared, so it carries nothing about this machine. */
  readonly recipe: ShareableRecipe;
  readonly batchIndex: number;
  readonly seed: number;
  /** The caller is done with `image.data`: its buffer moves to the PNG thread instead of being copied. */
  readonly transferPixels?: boolean;
  /** Where to say (once) that the PNG thread could not start. */
  readonly log?: (message: string) => void;
}

/**
 * Encodes and writes one image. The encoding (filter, deflate, metadata, thumbnail) runs on the
 * process's PNG thread (media/png-pool.ts), so a pipeline may start this for image i and decode
 * image i+1 while it finishes; await every returned promise before the job ends.
 */
export async function writeGeneratedImage(w: ImageToWrite): Promise<{ output: OutputFile; encodeMs: number; writeMs: number }> {
  const t0 = performance.now();
  const { width, height } = w.image;
  const { png, thumb } = await sharedPngPool().encode(
    {
      rgb: w.image.data,
      width,
      height,
      channels: w.image.channels,
      parameters: w.parameters,
      recipe: w.recipe,
      thumbMaxSide: 256,
      transferPixels: w.transferPixels,
    },
    w.log,
  );
  const t1 = performance.now();
  const file = join(w.stagingDir, `${w.name}.png`);
  const thumbFile = join(w.stagingDir, `${w.name}.thumb.png`);
  await writeFileAtomic(file, png);
  await writeFileAtomic(thumbFile, thumb);
  const t2 = performance.now();
  return {
    output: {
      file,
      thumbFile,
      kind: 'image',
      mime: 'image/png',
      width,
      height,
      batchIndex: w.batchIndex,
      seed: w.seed,
      durationMs: null,
      fps: null,
      frameCount: null,
      recipe: { ...w.recipe },
    },
    encodeMs: t1 - t0,
    writeMs: t2 - t1,
  };
}
