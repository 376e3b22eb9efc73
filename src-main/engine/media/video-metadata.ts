/**
 * What a generated MP4 says about itself, and reading it back.
 *
 * The MP4 muxer keeps only the iTunes-style `ilst` tags it knows (title, comment, description,
 * synopsis, keywords, …) and silently drops other keys unless `-movflags use_metadata_tags`, which
 * moves EVERY tag into QuickTime `mdta` keys that fewer players show. So the recipe rides in
 * standard atoms, checked with ffprobe 5.1 and exiftool 12.57:
 *
 *   title        ©nam  the title, else the prompt's first line (shortened)
 *   description  desc  A1111-style infotext: prompt, `Negative prompt:`, `Steps: …, Seed: …` line
 *   comment      ©cmt  the full recipe as JSON (`ourvidz_recipe` in our PNGs)
 *   synopsis     ldes  the caller's free-text comment, when there is one
 *   creation_time       not a tag: ffmpeg writes it as the movie, track and media creation
 *                       time (mvhd/tkhd/mdhd), which exiftool shows as CreateDate
 *
 * and, after ffmpeg, a top-level `uuid` box with XMP (Adobe's XMP-in-MP4 form, which exiftool and
 * ffprobe's export_xmp read) holding the IPTC DigitalSourceType the PNGs carry: made by a model.
 * It follows the media data, so no offset in the file changes when it is appended.
 *
 * The tags reach ffmpeg through an ffmetadata file, not `-metadata k=v` arguments: a recipe with
 * three 4000-character prompts would overflow Windows' 32,767-character command line.
 */
import { formatA1111ParamsLine, pythonStrip } from './a1111.ts';
import type { A1111Value } from './a1111.ts';

export interface VideoMetadata {
  /** Shown as the video's title by players; default: the prompt's first line, shortened. */
  readonly title?: string;
  /** A free-text note; stored in the `synopsis` tag (the `comment` tag holds the recipe). */
  readonly comment?: string;
  readonly prompt: string;
  readonly negativePrompt?: string;
  readonly seed: number;
  readonly model: string;
  readonly steps: number;
  readonly jobType: string;
  /** More `Key: value` pairs for the infotext line (sampler, guidance…), written after the standard ones. */
  readonly extraParameters?: ReadonlyArray<readonly [string, A1111Value | null | undefined]>;
  /** The studio's full recipe; stored as JSON, so it must be JSON-serialisable. */
  readonly recipe: Record<string, unknown>;
  /** When the video was made (default: when its tags are built, i.e. when the encode starts). */
  readonly createdAt?: Date;
}

/** The tag names used; ffprobe reports them under these keys in `format.tags`. */
export const VIDEO_TAG = Object.freeze({
  title: 'title',
  parameters: 'description',
  recipe: 'comment',
  note: 'synopsis',
  created: 'creation_time',
});

const TITLE_MAX = 120;

export interface VideoShape {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly frameCount: number | null;
}

/** The A1111-style infotext stored in `description`. */
export function videoParametersText(meta: VideoMetadata, shape: VideoShape): string {
  const line = formatA1111ParamsLine([
    ['Steps', meta.steps],
    ['Seed', meta.seed],
    ['Size', `${shape.width}x${shape.height}`],
    ['Model', meta.model],
    ['Job type', meta.jobType],
    ['Frames', shape.frameCount ?? undefined],
    ['FPS', shape.fps],
    ...(meta.extraParameters ?? []),
  ]);
  const negative = meta.negativePrompt ? `\nNegative prompt: ${meta.negativePrompt}` : '';
  return pythonStrip(`${meta.prompt}${negative}\n${line}`);
}

function defaultTitle(prompt: string): string {
  const first = (prompt.trim().split(/\r?\n/, 1)[0] ?? '').trim();
  return first.length <= TITLE_MAX ? first : `${first.slice(0, TITLE_MAX - 1).trimEnd()}…`;
}

/** The container tags to write, in order. */
export function videoTags(meta: VideoMetadata, shape: VideoShape): Array<[string, string]> {
  let recipeJson: string | undefined;
  try {
    recipeJson = JSON.stringify(meta.recipe);
  } catch (error) {
    throw new TypeError(`the recipe cannot be stored as JSON: ${(error as Error).message}`);
  }
  if (typeof recipeJson !== 'string') throw new TypeError('the recipe cannot be stored as JSON');
  const tags: Array<[string, string]> = [
    [VIDEO_TAG.title, meta.title ?? defaultTitle(meta.prompt)],
    [VIDEO_TAG.parameters, videoParametersText(meta, shape)],
    [VIDEO_TAG.recipe, recipeJson],
  ];
  if (meta.comment !== undefined && meta.comment !== '') tags.push([VIDEO_TAG.note, meta.comment]);
  const created = meta.createdAt ?? new Date();
  if (Number.isNaN(created.getTime())) throw new TypeError('the video\'s creation time is not a valid date');
  tags.push([VIDEO_TAG.created, created.toISOString()]);
  return tags;
}

/** The UUID of Adobe's XMP box in ISO base media files (XMP Specification Part 3, 1.2.7). */
const XMP_UUID = Uint8Array.from([0xbe, 0x7a, 0xcf, 0xcb, 0x97, 0xa9, 0x42, 0xe8, 0x9c, 0x71, 0x99, 0x94, 0x91, 0xe3, 0xaf, 0xac]);

/** A top-level `uuid` box holding an XMP packet, to append to a finished MP4. */
export function mp4XmpBox(xmp: string): Uint8Array {
  const packet = Buffer.from(xmp, 'utf8');
  const size = 8 + XMP_UUID.byteLength + packet.byteLength;
  const box = new Uint8Array(size);
  new DataView(box.buffer).setUint32(0, size);
  box.set([0x75, 0x75, 0x69, 0x64], 4); // 'uuid'
  box.set(XMP_UUID, 8);
  box.set(packet, 8 + XMP_UUID.byteLength);
  return box;
}

/**
 * Escape for ffmpeg's ffmetadata format: `=`, `;`, `#`, `\` and newline take a backslash. Carriage
 * returns become newlines and NULs are dropped, as the format cannot carry them.
 */
export function escapeFfmetadata(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/\0/g, '')
    .replace(/[=;#\\\n]/g, (c) => `\\${c}`);
}

/** The whole ffmetadata file for `tags` (global section only). */
export function ffmetadataFile(tags: ReadonlyArray<readonly [string, string]>): string {
  return `;FFMETADATA1\n${tags.map(([k, v]) => `${escapeFfmetadata(k)}=${escapeFfmetadata(v)}\n`).join('')}`;
}

export interface VideoRecipeMetadata {
  readonly title?: string;
  /** The A1111-style infotext (`description`). */
  readonly parameters?: string;
  /** The parsed recipe, when `comment` holds a JSON object. */
  readonly recipe?: Record<string, unknown>;
  readonly note?: string;
}

/** Read our tags back from ffprobe's `format.tags` (keys compared case-insensitively). */
export function readVideoRecipeMetadata(tags: Readonly<Record<string, string>>): VideoRecipeMetadata {
  const lower = new Map(Object.entries(tags).map(([k, v]) => [k.toLowerCase(), v]));
  const result: { -readonly [K in keyof VideoRecipeMetadata]: VideoRecipeMetadata[K] } = {};
  const title = lower.get(VIDEO_TAG.title);
  if (title !== undefined) result.title = title;
  const parameters = lower.get(VIDEO_TAG.parameters);
  if (parameters !== undefined) result.parameters = parameters;
  const note = lower.get(VIDEO_TAG.note);
  if (note !== undefined) result.note = note;
  const recipe = lower.get(VIDEO_TAG.recipe);
  if (recipe !== undefined) {
    try {
      const parsed: unknown = JSON.parse(recipe);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) result.recipe = parsed as Record<string, unknown>;
    } catch {
      // A comment someone else wrote, not our recipe.
    }
  }
  return result;
}
