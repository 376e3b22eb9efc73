/**
 * Writes one generated image into the job's staging folder: the PNG with its A1111 `parameters`,
 * the recipe JSON and the XMP DigitalSourceType, plus a thumbnail — both atomically.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeGeneratedPngAsync } from '../../media/png-generated.ts';
import { makeThumbnail } from '../../media/thumbnail.ts';
import type { RawImage } from '../../media/png.ts';
import { writeFileAtomic } from '../../fs/atomic-write.ts';
import type { OutputFile } from '../types.ts';

export interface ImageToWrite {
  readonly image: RawImage;
  readonly stagingDir: string;
  readonly name: string;
  readonly parameters: string;
  readonly recipe: Record<string, unknown>;
  readonly batchIndex: number;
  readonly seed: number;
}

/**
 * Encodes and writes one image. The deflate runs on libuv's thread pool, so a pipeline may start
 * this for image i and decode image i+1 while it finishes; await every returned promise before the
 * job ends.
 */
export async function writeGeneratedImage(w: ImageToWrite): Promise<{ output: OutputFile; encodeMs: number; writeMs: number }> {
  const t0 = performance.now();
  const png = await encodeGeneratedPngAsync({
    rgb: w.image.data,
    width: w.image.width,
    height: w.image.height,
    channels: w.image.channels,
    parameters: w.parameters,
    recipe: w.recipe,
  });
  const thumb = makeThumbnail(w.image, 256);
  const t1 = performance.now();
  const file = join(w.stagingDir, `${w.name}.png`);
  const thumbFile = join(w.stagingDir, `${w.name}.thumb.png`);
  await writeFileAtomic(file, png);
  await writeFileAtomic(thumbFile, thumb.png);
  const t2 = performance.now();
  return {
    output: {
      file,
      thumbFile,
      kind: 'image',
      mime: 'image/png',
      width: w.image.width,
      height: w.image.height,
      batchIndex: w.batchIndex,
      seed: w.seed,
      durationMs: null,
      fps: null,
      frameCount: null,
      recipe: w.recipe,
    },
    encodeMs: t1 - t0,
    writeMs: t2 - t1,
  };
}
