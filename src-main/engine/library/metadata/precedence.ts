/**
 * Which record of a file says how it was made, when it carries several.
 *
 * Files often hold more than one: a ComfyUI PNG saved by a "save with metadata" node has the graph
 * and an A1111 text made from it; SwarmUI writes its parameters beside ComfyUI's graph; Fooocus's
 * JSON sits in the chunk A1111 text usually fills; this studio's own files carry the A1111 text
 * for other tools next to the full recipe. The rule, in order (the first that reads wins, whole;
 * the others stay verbatim in the asset's recipe):
 *
 *  1. This studio's recipe: exact, and what a re-run starts from.
 *  2. A record its tool signs — InvokeAI (`invokeai_metadata`; 2.x `sd-metadata`, then `Dream`),
 *     NovelAI (`Software: NovelAI`), SwarmUI (`sui_image_params`), Fooocus (`fooocus` scheme),
 *     RuinedFooocus (`software`): written by the program that made the image from its own state,
 *     with its own names for the settings.
 *  3. The ComfyUI graph (the API `prompt` before the editor `workflow`): what actually ran.
 *  4. Unsigned summaries — A1111 text (PNG `parameters`, EXIF UserComment, XMP, video tags), then
 *     JSON with diffusers' argument names: the common tongue tools write *as well as* their own
 *     record, derived from it, sometimes as a placeholder (`prompt unknown`, `Seed: 0`) when the
 *     saver could not resolve a value.
 *
 * A text that is a JSON object is never read as A1111 text, and a reading counts only when it found
 * the prompt or the seed; a record that yields neither lets the next one speak (and is used only
 * when none does).
 */
import { fromComfyPrompt, fromComfyWorkflow } from './comfyui.ts';
import {
  fromA1111,
  fromDiffusersJson,
  fromFooocus,
  fromInvokeAi,
  fromInvokeAiDream,
  fromInvokeAiSdMetadata,
  fromNovelAi,
  fromOurRecipe,
  fromRuinedFooocus,
  fromSwarmUi,
} from './generators.ts';
import type { NovelAiChunks } from './generators.ts';
import { jsonObject } from './fields.ts';
import type { GenerationFields, MediaFields } from './fields.ts';

export type GeneratorSource = 'ourvidz' | 'invokeai' | 'novelai' | 'swarmui' | 'fooocus' | 'ruinedfooocus' | 'comfyui' | 'a1111' | 'json';

/** A text from a field any tool may fill: PNG `parameters`, EXIF UserComment, XMP, a video tag. */
export interface FoundText {
  readonly text: string;
  /** The field is general-purpose (ImageDescription, a video comment): A1111 text must have its parameter line. */
  readonly strict: boolean;
}

/** Everything in one file that may say how it was made, gathered by its container's reader. */
export interface FoundMetadata {
  readonly ourRecipe?: Record<string, unknown>;
  /** InvokeAI 3+ core metadata (parsed). */
  readonly invokeai?: unknown;
  readonly invokeaiSdMetadata?: unknown;
  readonly invokeaiDream?: string;
  readonly novelai?: NovelAiChunks;
  /** What the file says its Fooocus scheme is (PNG `fooocus_scheme`, EXIF MakerNote). */
  readonly fooocusScheme?: string;
  /** ComfyUI graphs (parsed). */
  readonly comfyPrompt?: unknown;
  readonly comfyWorkflow?: unknown;
  readonly texts: readonly FoundText[];
}

export interface Generation {
  readonly source: GeneratorSource | null;
  readonly fields: MediaFields;
}

type Reader = (found: FoundMetadata, records: readonly Record<string, unknown>[], texts: readonly FoundText[]) => GenerationFields | null;

function first<T>(items: readonly T[], read: (item: T) => GenerationFields | null): GenerationFields | null {
  for (const item of items) {
    const fields = read(item);
    if (fields) return fields;
  }
  return null;
}

/** A graph in a JSON record: ComfyUI's video nodes write {"prompt": graph, "workflow": graph}, graphs sometimes as JSON text. */
function comfyInRecord(record: Record<string, unknown>, parse: (text: string) => unknown): GenerationFields | null {
  const unwrap = (v: unknown): unknown => (typeof v === 'string' ? jsonObject(v, parse) : v);
  return fromComfyPrompt(unwrap(record.prompt)) ?? fromComfyWorkflow(unwrap(record.workflow)) ?? fromComfyPrompt(record);
}

/** The rule, in order; see the top of this file for why. */
function precedence(parse: (text: string) => unknown): ReadonlyArray<readonly [GeneratorSource, Reader]> {
  return [
    ['ourvidz', (f) => (f.ourRecipe ? fromOurRecipe(f.ourRecipe) : null)],
    ['invokeai', (f, records) => fromInvokeAi(f.invokeai) ?? first(records, fromInvokeAi) ?? fromInvokeAiSdMetadata(f.invokeaiSdMetadata) ?? fromInvokeAiDream(f.invokeaiDream)],
    ['novelai', (f) => fromNovelAi(f.novelai, parse)],
    ['swarmui', (_, records) => first(records, fromSwarmUi)],
    [
      'fooocus',
      (f, records, texts) =>
        first(records, (r) => fromFooocus(r, f.fooocusScheme)) ?? (f.fooocusScheme === 'a1111' ? first(texts, (t) => fromA1111(t.text, t.strict)) : null),
    ],
    ['ruinedfooocus', (_, records) => first(records, fromRuinedFooocus)],
    ['comfyui', (f, records) => fromComfyPrompt(f.comfyPrompt) ?? fromComfyWorkflow(f.comfyWorkflow) ?? first(records, (r) => comfyInRecord(r, parse))],
    ['a1111', (_, __, texts) => first(texts, (t) => fromA1111(t.text, t.strict))],
    ['json', (_, records) => first(records, fromDiffusersJson)],
  ];
}

/**
 * One shape for every source: a schedule the tool keeps apart joins the sampler (`euler normal`,
 * `DPM++ 2M Karras`), as A1111 writes it and as the asset shows it; when CFG is off (absent or 1)
 * and a distilled guidance was set (Flux), that guidance is the guidance the picture was made with.
 */
export function normaliseFields(fields: MediaFields): MediaFields {
  const out: MediaFields = { ...fields };
  if (out.prompt === '') delete out.prompt;
  if (out.negativePrompt === '') delete out.negativePrompt;
  const schedule = out.scheduler?.trim();
  if (out.sampler !== undefined && schedule && !out.sampler.toLowerCase().endsWith(schedule.toLowerCase())) {
    out.sampler = `${out.sampler} ${schedule}`;
  }
  if (out.guidance !== undefined && (out.cfg === undefined || out.cfg === 1)) out.cfg = out.guidance;
  return out;
}

/**
 * The winning reading of a file's records (see the rule above). `parse` is the caller's JSON
 * parser (it bounds what one file may build).
 */
/**
 * Longest hand-written text (A1111 infotext, an InvokeAI command, NovelAI's plain fields) that is
 * read for settings. Reading such text costs up to ~50× its length (split lines, matched pairs,
 * global replaces), and no tool writes a megabyte of it; a longer one stays verbatim in the
 * asset's recipe, unread. JSON is bounded by the values it would build instead (bounded-json.ts).
 */
export const MAX_READ_TEXT_CHARS = 1024 * 1024;

function readable(text: string | undefined): string | undefined {
  return text !== undefined && (text.length <= MAX_READ_TEXT_CHARS || text.trimStart().startsWith('{')) ? text : undefined;
}

/** The found metadata without plain texts too long to read (see MAX_READ_TEXT_CHARS). */
function withinReadingLimit(found: FoundMetadata): FoundMetadata {
  const novelai = found.novelai;
  return {
    ...found,
    invokeaiDream: readable(found.invokeaiDream),
    fooocusScheme: readable(found.fooocusScheme),
    novelai: novelai && {
      software: readable(novelai.software),
      comment: readable(novelai.comment),
      description: readable(novelai.description),
      source: readable(novelai.source),
    },
    texts: found.texts.filter((t) => readable(t.text) !== undefined),
  };
}

export function chooseGeneration(everything: FoundMetadata, parse: (text: string) => unknown): Generation {
  const found = withinReadingLimit(everything);
  const records: Record<string, unknown>[] = [];
  const texts: FoundText[] = [];
  for (const t of found.texts) {
    const record = jsonObject(t.text, parse);
    if (record) records.push(record);
    // JSON is a record, never an A1111 prompt.
    else if (!t.text.trimStart().startsWith('{')) texts.push(t);
  }
  let partial: Generation | undefined;
  for (const [source, read] of precedence(parse)) {
    const fields = read(found, records, texts);
    if (!fields) continue;
    const reading = { source, fields: normaliseFields(fields) };
    if (source === 'ourvidz' || reading.fields.prompt !== undefined || reading.fields.seed !== undefined) return reading;
    partial ??= reading;
  }
  // Nothing said the prompt or the seed: the first record that said anything.
  return partial ?? { source: null, fields: {} };
}
