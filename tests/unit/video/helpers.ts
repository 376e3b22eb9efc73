/** Shared bits of the video tests: tool detection, synthetic frames, temp folders. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VideoMetadata } from '../../../src-main/engine/media/video-metadata.ts';

export function hasTool(name: string, versionFlag = '-version'): boolean {
  try {
    execFileSync(name, [versionFlag], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const HAS_FFMPEG = hasTool('ffmpeg') && hasTool('ffprobe');
export const HAS_EXIFTOOL = hasTool('exiftool', '-ver');

export function tempDir(prefix = 'ourvidz-video-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Every entry in `dir`, hidden ones (temp files) included. */
export function entries(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** A frame filled with one RGB colour. */
export function solidFrame(width: number, height: number, rgb: readonly [number, number, number]): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) {
    data[i] = rgb[0];
    data[i + 1] = rgb[1];
    data[i + 2] = rgb[2];
  }
  return data;
}

/** A moving gradient, different in every frame, so the encoder has real work. */
export function gradientFrame(width: number, height: number, index: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      data[p] = (x + index * 4) & 0xff;
      data[p + 1] = (y + index * 2) & 0xff;
      data[p + 2] = ((x ^ y) + index * 8) & 0xff;
    }
  }
  return data;
}

export function gradientFrames(width: number, height: number, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => gradientFrame(width, height, i));
}

export const RECIPE = Object.freeze({
  jobType: 'video_fast',
  prompt: 'a red fox runs through snow; camera tracks = left # dusk \\ glow\nsecond line ü 🎥',
  negativePrompt: 'blurry, "low" quality',
  seed: 1234567890,
  steps: 4,
  model: 'wan2.1-t2v-1.3b',
  frames: 17,
  fps: 16,
  scheduler: 'unipc',
  flowShift: 3,
});

export function metadataFor(recipe: Record<string, unknown> = { ...RECIPE }): VideoMetadata {
  return {
    prompt: RECIPE.prompt,
    negativePrompt: RECIPE.negativePrompt,
    seed: RECIPE.seed,
    model: RECIPE.model,
    steps: RECIPE.steps,
    jobType: RECIPE.jobType,
    recipe,
  };
}
