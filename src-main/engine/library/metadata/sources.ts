/**
 * What each container carries about how it was made, gathered for precedence.ts: PNG text chunks,
 * JPEG/WebP EXIF and XMP, MP4 tags. Where each tool puts what is said in generators.ts, comfyui.ts
 * and exif.ts.
 */
import type { ImageRecipeMetadata } from '../../media/png.ts';
import { comfyExifEntry } from './comfyui.ts';
import { readExifText, readXmpParameters } from './exif.ts';
import { isRecord, jsonObject } from './fields.ts';
import type { MediaFields } from './fields.ts';
import { isOurRecipe } from './generators.ts';
import { chooseGeneration } from './precedence.ts';
import type { FoundText, GeneratorSource } from './precedence.ts';

export interface CarriedGeneration {
  readonly source: GeneratorSource | null;
  readonly fields: MediaFields;
  /** This studio's own recipe, when the file carries one. */
  readonly ourRecipe: Record<string, unknown> | null;
  /** The metadata as found, verbatim, for the asset's recipe. */
  readonly raw: Record<string, unknown>;
}

type Parse = (text: string) => unknown;

/** PNG text chunks kept verbatim beside the ones read (InvokeAI 2.x, NovelAI, Fooocus, Stability Matrix). */
const PNG_KEPT = [
  'invokeai_graph',
  'invokeai_workflow',
  'Dream',
  'sd-metadata',
  'fooocus_scheme',
  'parameters-json',
  'Title',
  'Software',
  'Source',
  'Comment',
  'Description',
  'Generation time',
];

export function pngGeneration(meta: ImageRecipeMetadata, parse: Parse): CarriedGeneration {
  const chunk = (keyword: string): string | undefined => meta.text.find((t) => t.keyword === keyword)?.text;
  const raw: Record<string, unknown> = {};
  const parameters = chunk('parameters');
  if (parameters !== undefined) raw.parameters = parameters;
  if (meta.comfyui?.prompt) raw.prompt = meta.comfyui.prompt.text;
  if (meta.comfyui?.workflow) raw.workflow = meta.comfyui.workflow.text;
  if (meta.invokeai) raw.invokeai_metadata = meta.invokeai.text;
  for (const key of PNG_KEPT) {
    const text = chunk(key);
    if (text !== undefined) raw[key] = text;
  }
  const ourRecipe = isRecord(meta.recipe?.value) ? meta.recipe.value : null;
  const { source, fields } = chooseGeneration(
    {
      ...(ourRecipe ? { ourRecipe } : {}),
      invokeai: meta.invokeai?.value,
      invokeaiSdMetadata: jsonObject(chunk('sd-metadata'), parse),
      invokeaiDream: chunk('Dream'),
      novelai: { software: chunk('Software'), comment: chunk('Comment'), description: chunk('Description'), source: chunk('Source') },
      fooocusScheme: chunk('fooocus_scheme'),
      comfyPrompt: meta.comfyui?.prompt?.value,
      comfyWorkflow: meta.comfyui?.workflow?.value,
      texts: parameters === undefined ? [] : [{ text: parameters, strict: false }],
    },
    parse,
  );
  return { source, fields, ourRecipe, raw };
}

/** JPEG and WebP: EXIF (as sharp gives it) and XMP. */
export function exifGeneration(exifBytes: Buffer | undefined, xmpBytes: Buffer | undefined, parse: Parse): CarriedGeneration {
  const exif = exifBytes ? readExifText(exifBytes) : undefined;
  const raw: Record<string, unknown> = {};
  const keep: Array<[string, string | undefined]> = [
    ['exifUserComment', exif?.userComment],
    ['exifImageDescription', exif?.imageDescription],
    ['exifMake', exif?.make],
    ['exifModel', exif?.model],
    ['exifSoftware', exif?.software],
    ['exifMakerNote', exif?.makerNote],
  ];
  for (const [key, value] of keep) if (value !== undefined) raw[key] = value;
  const xmp = xmpBytes ? readXmpParameters(xmpBytes.toString('utf8')) : undefined;
  if (xmp !== undefined) raw.xmpParameters = xmp;

  // ComfyUI's WebP: `prompt:<json>` in Model, `workflow:<json>` in Make, more below Make.
  const graphs = new Map<string, unknown>();
  const comfyTexts = new Set<string>();
  for (const text of [exif?.model, exif?.make, exif?.imageDescription]) {
    const entry = comfyExifEntry(text, parse);
    if (entry && !graphs.has(entry.key)) {
      graphs.set(entry.key, entry.value);
      comfyTexts.add(text!);
    }
  }
  const texts: FoundText[] = [];
  if (exif?.userComment !== undefined) texts.push({ text: exif.userComment, strict: false });
  if (exif?.imageDescription !== undefined && !comfyTexts.has(exif.imageDescription)) texts.push({ text: exif.imageDescription, strict: true });
  if (xmp !== undefined) texts.push({ text: xmp, strict: true });
  const { source, fields } = chooseGeneration(
    {
      // Fooocus says its scheme in MakerNote (`fooocus` or `a1111`); a camera's MakerNote is binary.
      fooocusScheme: exif?.makerNote,
      comfyPrompt: graphs.get('prompt'),
      comfyWorkflow: graphs.get('workflow'),
      texts,
    },
    parse,
  );
  return { source, fields, ourRecipe: null, raw };
}

/**
 * MP4 container tags as ffprobe reports them (keys in lower case). This studio's videos carry the
 * recipe in `comment` (signed with the app's name) and A1111 text in `description`; ComfyUI's video
 * nodes write the graphs in `comment` as {"prompt", "workflow"} or in `prompt`/`workflow` tags.
 */
export function videoGeneration(tags: Readonly<Record<string, string>>, parse: Parse): Omit<CarriedGeneration, 'raw'> {
  const comment = jsonObject(tags.comment, parse);
  const ourRecipe = isOurRecipe(comment) ? comment : null;
  const texts: FoundText[] = [];
  for (const key of ['comment', 'description', 'parameters', 'prompt']) {
    const text = tags[key];
    if (text !== undefined && !(key === 'comment' && ourRecipe)) texts.push({ text, strict: true });
  }
  const { source, fields } = chooseGeneration(
    { ...(ourRecipe ? { ourRecipe } : {}), comfyWorkflow: jsonObject(tags.workflow, parse), texts },
    parse,
  );
  return { source, fields, ourRecipe };
}
