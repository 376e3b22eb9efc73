import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodePng } from '../../../src-main/engine/media/png.ts';
import { VideoEncodeError } from '../../../src-main/engine/media/video-encode.ts';
import { readVideoRecipeMetadata } from '../../../src-main/engine/media/video-metadata.ts';
import { probeVideo } from '../../../src-main/engine/media/video-probe.ts';
import { writeGeneratedVideo } from '../../../src-main/engine/media/video-write.ts';
import type { VideoToWrite } from '../../../src-main/engine/media/video-write.ts';
import { CancelledError } from '../../../src-main/engine/pipelines/types.ts';
import { HAS_FFMPEG, RECIPE, entries, metadataFor, solidFrame, tempDir } from './helpers.ts';

let dir: string;
beforeEach(() => {
  dir = tempDir('ourvidz-video-write-');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** 17 solid frames, each its own grey level: the poster's colour says which frame it is. */
function greyFrames(width: number, height: number, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => solidFrame(width, height, [i * 12, i * 12, i * 12]));
}

describe.skipIf(!HAS_FFMPEG)('writeGeneratedVideo', () => {
  it('writes the MP4 and a poster thumbnail of the middle frame, and describes them', async () => {
    const { output } = await writeGeneratedVideo({
      frames: greyFrames(480, 832, 17),
      width: 480,
      height: 832,
      stagingDir: dir,
      name: 'job-1-0',
      metadata: metadataFor(),
      batchIndex: 0,
      seed: RECIPE.seed,
    });
    expect(output).toEqual({
      file: join(dir, 'job-1-0.mp4'),
      thumbFile: join(dir, 'job-1-0.thumb.png'),
      kind: 'video',
      mime: 'video/mp4',
      width: 480,
      height: 832,
      batchIndex: 0,
      seed: RECIPE.seed,
      durationMs: 1062.5,
      fps: 16,
      frameCount: 17,
      recipe: RECIPE,
    });
    expect(entries(dir)).toEqual(['job-1-0.mp4', 'job-1-0.thumb.png']);

    const thumb = decodePng(new Uint8Array(readFileSync(output.thumbFile!)));
    expect([thumb.width, thumb.height]).toEqual([148, 256]);
    // Middle of 17 frames is frame 8: grey 96.
    expect(Array.from(thumb.data.subarray(0, 3))).toEqual([96, 96, 96]);

    const probe = await probeVideo(output.file);
    expect(probe).toMatchObject({ codec: 'h264', frames: 17, width: 480, height: 832, fps: 16 });
    expect(readVideoRecipeMetadata(probe.tags).recipe).toEqual(RECIPE);
  });

  it('takes a lazy stream with its frame count, copying the poster frame as it passes', async () => {
    const reused = new Uint8Array(64 * 64 * 3); // a producer that reuses one buffer
    async function* frames(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 5; i++) {
        reused.fill(i * 50);
        yield reused;
      }
    }
    const { output } = await writeGeneratedVideo({ frames: frames(), frameCount: 5, width: 64, height: 64, stagingDir: dir, name: 'v', metadata: metadataFor(), batchIndex: 0, seed: 1 });
    expect(output.frameCount).toBe(5);
    const thumb = decodePng(new Uint8Array(readFileSync(output.thumbFile!)));
    expect(thumb.data[0]).toBe(100); // frame 2 of 5, not the last one written into the buffer
  });

  it('refuses a stream without its frame count, and an empty clip', async () => {
    async function* frames(): AsyncGenerator<Uint8Array> {
      yield solidFrame(64, 64, [0, 0, 0]);
    }
    const base = { width: 64, height: 64, stagingDir: dir, name: 'v', metadata: metadataFor(), batchIndex: 0, seed: 1 };
    await expect(writeGeneratedVideo({ ...base, frames: frames() } as unknown as VideoToWrite)).rejects.toBeInstanceOf(VideoEncodeError);
    await expect(writeGeneratedVideo({ ...base, frames: [] })).rejects.toMatchObject({ code: 'no_frames' });
    expect(entries(dir)).toEqual([]);
  });

  it('cancelled: neither the MP4 nor the thumbnail exists, nor any temp', async () => {
    const controller = new AbortController();
    async function* frames(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 17; i++) {
        if (i === 4) controller.abort();
        yield solidFrame(480, 832, [i, i, i]);
      }
    }
    await expect(
      writeGeneratedVideo({ frames: frames(), frameCount: 17, width: 480, height: 832, stagingDir: dir, name: 'v', metadata: metadataFor(), batchIndex: 0, seed: 1, signal: controller.signal }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(entries(dir)).toEqual([]);
  });
});
