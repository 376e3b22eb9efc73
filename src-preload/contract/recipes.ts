/**
 * Recipe channels: how a picture, a clip or a pasted text says it was made, read by the engine's
 * metadata readers (src-main/engine/library/metadata/, the same ones the Library's import uses).
 *
 * The page hands over the file's bytes (a dropped File's `arrayBuffer()`, the same in Electron and
 * in a browser), never a path: the readers need Node (zlib for compressed PNG text, sharp for EXIF
 * and XMP, ffprobe for MP4 tags), so they run in the engine. The answer is what the file says in
 * its tool's own words; the Workspace maps it onto its form with the shared, pure
 * `studioSampler` (samplers.ts), against the models and job type it has at hand.
 */
import { z } from 'zod';
import type { JobType } from './catalog.ts';

function channel<R>() {
  return <S extends z.ZodType>(params: S) => ({ params, result: undefined as unknown as R });
}

export const RECIPE_LIMITS = {
  /** A file up to this size is sent whole. */
  maxWholeBytes: 40 * 1024 * 1024,
  /**
   * A larger MP4 is sent as its first and last this many bytes (its boxes: `moov` sits at one end),
   * which the engine lays out at their places in a sparse file of the full size.
   */
  partBytes: 16 * 1024 * 1024,
  /** Pasted text (an A1111 infotext, a ComfyUI graph). */
  maxTextChars: 4 * 1024 * 1024,
} as const;

const base64Of = (maxBytes: number) => z.base64({ error: 'the file must be sent as base64' }).max(Math.ceil(maxBytes / 3) * 4);

export const RecipeFileSchema = z.strictObject({
  /** The file's name, for messages only (the format is read from the bytes). */
  name: z.string().max(1024),
  /** The whole file's size in bytes. */
  size: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** The whole file, or its first bytes when `tail` is sent too. */
  head: base64Of(RECIPE_LIMITS.maxWholeBytes),
  /** The file's last bytes, for an MP4 too large to send whole. */
  tail: base64Of(RECIPE_LIMITS.partBytes).optional(),
});

export const RecipeTextSchema = z.strictObject({
  text: z.string().trim().min(1, { error: 'paste some text' }).max(RECIPE_LIMITS.maxTextChars),
});

/** The largest request body `recipes.fromFile` can need (base64 of the whole-file limit, plus JSON). */
export const RECIPE_FILE_BODY_BYTES = Math.ceil(RECIPE_LIMITS.maxWholeBytes / 3) * 4 + 64 * 1024;

/** The settings a record holds, in the words of the tool that wrote it; null for what it does not say. */
export interface RecipeFields {
  readonly prompt: string | null;
  readonly negativePrompt: string | null;
  /** This studio's reviewed or generated rewrite (its own files only). */
  readonly enhancedPrompt: string | null;
  readonly seed: number | null;
  readonly steps: number | null;
  /** The CFG scale (a distilled guidance when CFG was off). */
  readonly guidance: number | null;
  /** The sampler as the tool names it, its schedule joined on: `DPM++ 2M Karras`, `dpmpp_2m karras`. */
  readonly sampler: string | null;
  /** The model as the tool names it (a file name, a display name, or this studio's model id). */
  readonly model: string | null;
  /** A1111's short model hash, when the record has one. */
  readonly modelHash: string | null;
  readonly width: number | null;
  readonly height: number | null;
  /** A clip's frame count (from the video stream). */
  readonly frames: number | null;
  /** This studio's job type (its own files only). */
  readonly jobType: JobType | null;
}

export type RecipeSource = 'ourvidz' | 'invokeai' | 'novelai' | 'swarmui' | 'fooocus' | 'ruinedfooocus' | 'comfyui' | 'a1111' | 'json';

export interface RecipeReading {
  /** Whose record was read; null when the file says nothing about how it was made. */
  readonly source: RecipeSource | null;
  /** The tool in words ("A1111 / Forge", "ComfyUI", "this studio"). */
  readonly sourceLabel: string | null;
  readonly format: 'png' | 'jpeg' | 'webp' | 'mp4' | 'text';
  readonly kind: 'image' | 'video' | null;
  readonly fields: RecipeFields;
  /** Settings the record holds that this studio has no field for (`Hires upscale`, `Clip skip`, a LoRA). */
  readonly unused: readonly string[];
  /** What the reader noticed (a value outside any tool's range left out). */
  readonly notes: readonly string[];
}

export const recipeChannels = {
  /** How a PNG, JPEG, WebP or MP4 from any tool says it was made (A1111's PNG Info, ComfyUI's drop-to-load). */
  'recipes.fromFile': channel<RecipeReading>()(RecipeFileSchema),
  /** The same for pasted text: an A1111 infotext, or a ComfyUI/InvokeAI/SwarmUI JSON record. */
  'recipes.fromText': channel<RecipeReading>()(RecipeTextSchema),
} as const;
