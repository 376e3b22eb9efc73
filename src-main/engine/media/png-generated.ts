// Generated images that carry their recipe. Every PNG the studio writes holds, before the image data:
//
//   parameters         tEXt (iTXt if not Latin-1)  A1111 infotext: what Civitai, image browsers,
//                                                    A1111/Forge "PNG Info" and exiftool show
//   ourvidz_recipe     iTXt, UTF-8 JSON             the full recipe, enough to re-run the job here
//   XML:com.adobe.xmp  iTXt, uncompressed           XMP with IPTC DigitalSourceType
//                                                    trainedAlgorithmicMedia (disclosure of AI origin)
//   Software           tEXt                          the program that wrote the file
//
// The recipe keyword follows the `<tool>_<what>` style of InvokeAI's `invokeai_metadata`.
// The reader also recognises ComfyUI (`prompt`, `workflow`) and InvokeAI (`invokeai_metadata`).

import { findText, readPngMetadata } from './png-chunks.ts';
import type { DecodeTextOptions, PngTextEntry, TextChunkSpec } from './png-chunks.ts';
import { encodePng, encodePngAsync } from './png-encode.ts';
import { parseA1111Parameters } from './a1111.ts';
import { jsonBudget, parseJsonBounded } from './bounded-json.ts';
import type { JsonBudget } from './bounded-json.ts';
import type { ParsedA1111Parameters } from './a1111.ts';

export const PARAMETERS_KEYWORD = 'parameters';
export const RECIPE_KEYWORD = 'ourvidz_recipe';
export const XMP_KEYWORD = 'XML:com.adobe.xmp';
export const SOFTWARE_KEYWORD = 'Software';
export const DEFAULT_SOFTWARE = 'OurVidz Studio';

/** IPTC NewsCodes term for media created by a trained model from a prompt. */
export const DIGITAL_SOURCE_TYPE_TRAINED_ALGORITHMIC =
  'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

export interface XmpFields {
  digitalSourceType: string;
  creatorTool?: string;
}

/** A minimal, deterministic XMP packet (no timestamps, no instance ids). */
export function buildXmpPacket(fields: XmpFields): string {
  const attributes = [
    `Iptc4xmpExt:DigitalSourceType="${escapeXml(fields.digitalSourceType)}"`,
    ...(fields.creatorTool === undefined ? [] : [`xmp:CreatorTool="${escapeXml(fields.creatorTool)}"`]),
  ];
  return [
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    '  <rdf:Description rdf:about=""',
    '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"',
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"',
    ...attributes.map((a) => `    ${a}`),
    '  />',
    ' </rdf:RDF>',
    '</x:xmpmeta>',
    '<?xpacket end="r"?>',
  ].join('\n');
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface GeneratedPngInput {
  /** Interleaved 8-bit pixels, `channels` per pixel (default 3, RGB). */
  rgb: Uint8Array;
  width: number;
  height: number;
  channels?: 3 | 4;
  /** A1111 infotext, see buildA1111Parameters. */
  parameters: string;
  /** The studio's recipe; stored as JSON, so it must be JSON-serialisable. */
  recipe: object;
  software?: string;
  compressionLevel?: number;
}

export function encodeGeneratedPng(input: GeneratedPngInput): Uint8Array {
  const software = input.software ?? DEFAULT_SOFTWARE;
  return encodePng(
    { width: input.width, height: input.height, channels: input.channels ?? 3, data: input.rgb },
    {
      compressionLevel: input.compressionLevel,
      text: generatedTextChunks(input.parameters, input.recipe, software),
    },
  );
}

/** encodeGeneratedPng with the compression off the main thread (same bytes). */
export function encodeGeneratedPngAsync(input: GeneratedPngInput): Promise<Uint8Array> {
  const software = input.software ?? DEFAULT_SOFTWARE;
  return encodePngAsync(
    { width: input.width, height: input.height, channels: input.channels ?? 3, data: input.rgb },
    { compressionLevel: input.compressionLevel, text: generatedTextChunks(input.parameters, input.recipe, software) },
  );
}

export function generatedTextChunks(parameters: string, recipe: object, software: string): TextChunkSpec[] {
  let recipeJson: string | undefined;
  try {
    recipeJson = JSON.stringify(recipe);
  } catch (error) {
    throw new TypeError(`the recipe cannot be stored as JSON: ${(error as Error).message}`);
  }
  if (typeof recipeJson !== 'string') throw new TypeError('the recipe cannot be stored as JSON');
  return [
    { keyword: PARAMETERS_KEYWORD, text: parameters },
    { keyword: RECIPE_KEYWORD, text: recipeJson, international: true },
    {
      keyword: XMP_KEYWORD,
      text: buildXmpPacket({ digitalSourceType: DIGITAL_SOURCE_TYPE_TRAINED_ALGORITHMIC, creatorTool: software }),
      international: true,
    },
    { keyword: SOFTWARE_KEYWORD, text: software },
  ];
}

/** A JSON text chunk: the parsed value, or why it did not parse (the raw text is kept either way). */
export interface JsonText {
  text: string;
  value?: unknown;
  error?: string;
}

export interface ImageRecipeMetadata {
  width: number;
  height: number;
  /** Raw A1111 infotext and its parsed form (A1111, Forge, SD.Next, Fooocus-A1111 mode, this studio). */
  parameters?: { text: string; parsed: ParsedA1111Parameters };
  /** This studio's recipe. */
  recipe?: JsonText;
  /** ComfyUI: the API-format graph (`prompt`) and the UI workflow (`workflow`). */
  comfyui?: { prompt?: JsonText; workflow?: JsonText };
  /** InvokeAI 3+/4+ generation metadata. */
  invokeai?: JsonText;
  digitalSourceType?: string;
  software?: string;
  xmp?: string;
  /** Every text chunk, for anything not interpreted above. */
  text: PngTextEntry[];
}

/**
 * Read generation metadata from a PNG written by this studio or by another tool, without
 * decoding pixels. Structural problems (truncation, bad CRC) throw PngFormatError; a JSON chunk
 * that does not parse is reported in its `error` field instead, so one bad chunk does not hide
 * the others.
 */
export interface ReadRecipeOptions extends DecodeTextOptions {
  /** Values the file's JSON chunks may build together (see bounded-json.ts); default DEFAULT_MAX_JSON_VALUES. */
  maxJsonValues?: number;
}

export function readImageRecipeMetadata(bytes: Uint8Array, options: ReadRecipeOptions = {}): ImageRecipeMetadata {
  const { header, text } = readPngMetadata(bytes, options);
  const budget = jsonBudget(options.maxJsonValues);
  const parseJsonText = (json: string): JsonText => parseJsonTextWithin(json, budget);
  const result: ImageRecipeMetadata = { width: header.width, height: header.height, text };
  const parameters = findText(text, PARAMETERS_KEYWORD);
  if (parameters !== undefined) result.parameters = { text: parameters, parsed: parseA1111Parameters(parameters) };
  const recipe = findText(text, RECIPE_KEYWORD);
  if (recipe !== undefined) result.recipe = parseJsonText(recipe);
  const comfyPrompt = findText(text, 'prompt');
  const comfyWorkflow = findText(text, 'workflow');
  if (comfyPrompt !== undefined || comfyWorkflow !== undefined) {
    result.comfyui = {};
    if (comfyPrompt !== undefined) result.comfyui.prompt = parseJsonText(comfyPrompt);
    if (comfyWorkflow !== undefined) result.comfyui.workflow = parseJsonText(comfyWorkflow);
  }
  const invoke = findText(text, 'invokeai_metadata');
  if (invoke !== undefined) result.invokeai = parseJsonText(invoke);
  const xmp = findText(text, XMP_KEYWORD);
  if (xmp !== undefined) {
    result.xmp = xmp;
    const source = readXmpDigitalSourceType(xmp);
    if (source !== undefined) result.digitalSourceType = source;
  }
  const software = findText(text, SOFTWARE_KEYWORD);
  if (software !== undefined) result.software = software;
  return result;
}

function parseJsonTextWithin(text: string, budget: JsonBudget): JsonText {
  // Python's json.dumps writes NaN/Infinity, which are not JSON; say so rather than fail.
  const parsed = parseJsonBounded(text, budget);
  return parsed.error === undefined ? { text, value: parsed.value } : { text, error: parsed.error };
}

/** DigitalSourceType from an XMP packet, written as an attribute or as an element, any prefix. */
export function readXmpDigitalSourceType(xmp: string): string | undefined {
  // A prefix starts where a run of name characters starts: without the lookbehind the regex is tried
  // from every character of a long run, each try scanning to its end (80,000 letters took 18 s).
  const match =
    /(?<![\w-])[\w-]+:DigitalSourceType\s*=\s*"([^"]*)"/.exec(xmp) ??
    /(?<![\w-])[\w-]+:DigitalSourceType\s*=\s*'([^']*)'/.exec(xmp) ??
    /<[\w-]+:DigitalSourceType>([^<]*)<\//.exec(xmp);
  return match === null ? undefined : unescapeXml(match[1]!.trim());
}

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    const lower = entity.toLowerCase();
    if (lower in named) return named[lower]!;
    const code = lower.startsWith('#x') ? parseInt(lower.slice(2), 16) : parseInt(lower.slice(1), 10);
    return Number.isInteger(code) && code <= 0x10ffff ? String.fromCodePoint(code) : `&${entity};`;
  });
}
