/**
 * Readers of the records other tools write, one per format, each from the writing tool's source:
 *
 *  - A1111 `parameters` infotext (modules/infotext_utils.py; also Forge, SD.Next, Fooocus's
 *    `a1111` scheme, Stability Matrix).
 *  - InvokeAI 3+ `invokeai_metadata`: the pydantic CoreMetadata (`positive_prompt`,
 *    `generation_mode`, `scheduler`, `model: {name}` …).
 *  - InvokeAI 2.x: `sd-metadata`, json.dumps of ldm/invoke/args.py `metadata_dumps` (`image:
 *    {prompt: [{prompt, weight}], seed, steps, cfg_scale, sampler, width, height}`, `model_id`),
 *    and `Dream`, the invoke> command line (`"prompt" -s 50 -S 42 -W 512 -H 768 -C 7.5 -A k_lms`,
 *    args.py `dream_prompt_str` / the web UI's `parameters_to_command`); negative prompts are the
 *    `[bracketed]` parts of the prompt.
 *  - NovelAI: tEXt `Software` = `NovelAI`, `Description` (the prompt), `Source` (the model) and
 *    `Comment`, JSON of the request (`prompt`, `uc`, `seed`, `steps`, `scale`, `sampler`,
 *    `noise_schedule`, `width`, `height`).
 *  - SwarmUI: `{"sui_image_params": {prompt, negativeprompt, seed, steps, cfgscale, sampler,
 *    scheduler, model, width, height, fluxguidancescale…}}` (docs/Image Metadata Format.md; values
 *    may be numbers written as text).
 *  - Fooocus `fooocus` scheme: json.dumps of sorted keys (modules/meta_parser.py
 *    FooocusMetadataParser; `prompt`, `negative_prompt`, `seed` as text, `steps`,
 *    `guidance_scale`, `sampler`, `scheduler`, `base_model`, `resolution` "(w, h)").
 *  - RuinedFooocus: `{"Prompt", "Negative", "steps", "cfg", "width", "height", "seed",
 *    "sampler_name", "scheduler", "base_model_name", …, "software": "RuinedFooocus"}`.
 *  - JSON with diffusers' pipeline argument names (`prompt`, `negative_prompt`,
 *    `num_inference_steps`, `guidance_scale`, `width`, `height`, plus `seed`), as Hugging Face
 *    Spaces dump them.
 *
 * Each reader answers null for a record that is not its tool's (it checks the keys only that tool
 * writes), so a reader can be asked about any record; which reading wins is precedence.ts's call.
 */
import { APP_NAME } from '../../version.ts';
import { parseA1111Parameters } from '../../media/a1111.ts';
import { trimWhere } from '../../media/trim.ts';
import { assignDefined, isRecord, jsonObject, num, seedOf, str } from './fields.ts';
import type { GenerationFields, MediaFields } from './fields.ts';

export type { GenerationFields, MediaFields } from './fields.ts';
export { fromComfyPrompt, fromComfyWorkflow } from './comfyui.ts';

type Reading = GenerationFields | null;

function nonEmpty(out: GenerationFields): Reading {
  return Object.keys(out).length > 0 ? out : null;
}

function size(out: GenerationFields, width: unknown, height: unknown): void {
  const w = num(width);
  const h = num(height);
  if (w !== undefined && h !== undefined) Object.assign(out, { width: w, height: h });
}

/** `strict`: the text came from a general-purpose field, so it must have A1111's parameter line. */
export function fromA1111(text: string, strict = false): Reading {
  const p = parseA1111Parameters(text);
  if (strict && Object.keys(p.params).length < 3) return null;
  const out = assignDefined<GenerationFields>(
    {},
    {
      prompt: p.prompt !== '' ? p.prompt : undefined,
      negativePrompt: p.negativePrompt !== '' ? p.negativePrompt : undefined,
      steps: p.steps,
      sampler: p.sampler,
      // A1111 1.9+ names the schedule apart; `Automatic` is the sampler's own default.
      scheduler: p.scheduleType !== undefined && p.scheduleType !== 'Automatic' ? p.scheduleType : undefined,
      cfg: p.cfgScale,
      // Forge's Flux guidance.
      guidance: num(p.params['Distilled CFG Scale']),
      seed: seedOf(p.seed),
      model: p.model ?? p.modelHash,
    },
  );
  if (p.width !== undefined && p.height !== undefined) Object.assign(out, { width: p.width, height: p.height });
  return nonEmpty(out);
}

/** A recipe this studio wrote (PNG `ourvidz_recipe`, or an MP4 `comment` signed with the app's name). */
export function isOurRecipe(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && value.app === APP_NAME;
}

export function fromOurRecipe(recipe: Record<string, unknown>): MediaFields {
  const params = isRecord(recipe.params) ? recipe.params : {};
  const n = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return assignDefined<MediaFields>(
    {},
    {
      prompt: str(recipe.prompt),
      negativePrompt: str(recipe.negativePrompt),
      enhancedPrompt: str(recipe.enhancedPrompt) ?? str(params.enhancedPrompt),
      seed: seedOf(n(recipe.seed)),
      steps: n(recipe.steps),
      cfg: n(recipe.guidance),
      sampler: str(recipe.scheduler),
      model: isRecord(recipe.model) ? str(recipe.model.id) : str(recipe.model),
      jobType: str(recipe.jobType),
      jobId: str(recipe.jobId),
      batchIndex: n(recipe.batchIndex),
      width: n(recipe.width),
      height: n(recipe.height),
    },
  );
}

/** InvokeAI 3/4/5 `invokeai_metadata` (core metadata). */
export function fromInvokeAi(value: unknown): Reading {
  // Only InvokeAI's core metadata has these; seed/steps/scheduler alone are in many records (ours too).
  if (!isRecord(value) || (typeof value.positive_prompt !== 'string' && typeof value.generation_mode !== 'string')) return null;
  const out = assignDefined<GenerationFields>(
    {},
    {
      prompt: str(value.positive_prompt),
      negativePrompt: str(value.negative_prompt),
      seed: seedOf(value.seed),
      steps: num(value.steps),
      cfg: num(value.cfg_scale),
      guidance: num(value.guidance),
      // InvokeAI's "scheduler" is the sampler (dpmpp_2m_k is DPM++ 2M with Karras sigmas).
      sampler: str(value.scheduler),
      model: isRecord(value.model) ? (str(value.model.name) ?? str(value.model.model_name)) : str(value.model),
    },
  );
  size(out, value.width, value.height);
  return nonEmpty(out);
}

/** InvokeAI 2.x: the prompt's `[bracketed]` parts are its negative prompt. */
function splitInvokePrompt(text: string): { prompt?: string; negativePrompt?: string } {
  const negatives: string[] = [];
  const positive = text.replace(/\[([^[\]]*)\]/gu, (_, inner: string) => {
    if (inner.trim() !== '') negatives.push(inner.trim());
    return ' ';
  });
  const tidy = trimWhere(positive.replace(/[ \t]+/gu, ' ').replace(/ ,/gu, ','), (c) => c === ',' || /\s/u.test(c));
  return assignDefined({}, { prompt: tidy !== '' ? tidy : undefined, negativePrompt: negatives.length > 0 ? negatives.join(', ') : undefined });
}

/** `sd-metadata` (InvokeAI 2.x's RFC 266 metadata). */
export function fromInvokeAiSdMetadata(value: unknown): Reading {
  if (!isRecord(value)) return null;
  const image = isRecord(value.image) ? value.image : Array.isArray(value.images) && isRecord(value.images[0]) ? value.images[0] : undefined;
  if (!image || !('prompt' in image)) return null;
  // A list of weighted sub-prompts ({prompt, weight}); one at weight 1 is the whole prompt.
  const parts = Array.isArray(image.prompt) ? image.prompt.filter(isRecord) : [];
  const text =
    typeof image.prompt === 'string'
      ? image.prompt
      : parts.length === 1
        ? str(parts[0]!.prompt)
        : parts.map((p) => `${str(p.prompt) ?? ''}:${num(p.weight) ?? 1}`).join(' ');
  const out = assignDefined<GenerationFields>(
    text === undefined ? {} : splitInvokePrompt(text),
    {
      seed: seedOf(image.seed),
      steps: num(image.steps),
      cfg: num(image.cfg_scale),
      sampler: str(image.sampler),
      model: str(value.model_id) ?? str(value.model_weights),
    },
  );
  size(out, image.width, image.height);
  return nonEmpty(out);
}

/** `Dream`: the invoke> command that made the image. */
export function fromInvokeAiDream(value: string | undefined): Reading {
  if (value === undefined) return null;
  let prompt: string;
  let switches: string;
  if (value.startsWith('"')) {
    // parse_cmd: a quoted prompt is read as the shell would (backslash escapes the quote).
    // Runs between escapes are sliced, not added a character at a time: a rope of millions of
    // one-character strings costs ~35 bytes each.
    let i = 1;
    let from = 1;
    const parts: string[] = [];
    for (; i < value.length && value[i] !== '"'; i++) {
      if (value[i] === '\\' && i + 1 < value.length) {
        parts.push(value.slice(from, i));
        i++;
        from = i;
      }
    }
    parts.push(value.slice(from, i));
    prompt = parts.join('');
    switches = value.slice(i + 1);
  } else {
    // parse_cmd: everything up to the first thing that looks like a switch.
    const m = /^(.+?)\s(--?[a-zA-Z][\s\S]*)$/u.exec(value);
    prompt = m ? m[1]! : value;
    switches = m ? m[2]! : '';
  }
  const tokens = switches.trim().split(/\s+/u);
  const opt = new Map<string, string>();
  for (let i = 0; i < tokens.length; i++) {
    const m = /^-([A-Za-z])(\S*)$/u.exec(tokens[i]!);
    if (!m) continue;
    const attached = m[2]!;
    opt.set(m[1]!, attached !== '' ? attached : (tokens[i + 1] ?? ''));
  }
  const out = assignDefined<GenerationFields>(splitInvokePrompt(prompt), {
    steps: num(opt.get('s')),
    seed: seedOf(opt.get('S')),
    cfg: num(opt.get('C')),
    sampler: opt.get('A') || undefined,
  });
  size(out, opt.get('W'), opt.get('H'));
  return out.steps !== undefined || out.seed !== undefined ? out : null;
}

export interface NovelAiChunks {
  readonly software?: string;
  readonly comment?: string;
  readonly description?: string;
  readonly source?: string;
}

/** NovelAI's PNG text chunks. */
export function fromNovelAi(chunks: NovelAiChunks | undefined, parse: (text: string) => unknown = JSON.parse): Reading {
  if (chunks?.software !== 'NovelAI') return null;
  const c = jsonObject(chunks.comment, parse) ?? {};
  const v4 = isRecord(c.v4_prompt) && isRecord(c.v4_prompt.caption) ? str(c.v4_prompt.caption.base_caption) : undefined;
  const out = assignDefined<GenerationFields>(
    {},
    {
      prompt: str(c.prompt) ?? v4 ?? chunks.description,
      negativePrompt: str(c.uc),
      seed: seedOf(c.seed),
      steps: num(c.steps),
      cfg: num(c.scale),
      sampler: str(c.sampler),
      scheduler: str(c.noise_schedule),
      // e.g. `Stable Diffusion XL C1E1DE52`: the model and its hash, as NovelAI names it.
      model: chunks.source,
    },
  );
  size(out, c.width, c.height);
  return nonEmpty(out);
}

/** SwarmUI's `parameters` JSON. */
export function fromSwarmUi(record: Record<string, unknown>): Reading {
  const p = record.sui_image_params;
  if (!isRecord(p)) return null;
  const out = assignDefined<GenerationFields>(
    {},
    {
      prompt: str(p.prompt),
      negativePrompt: str(p.negativeprompt),
      seed: seedOf(p.seed),
      steps: num(p.steps),
      cfg: num(p.cfgscale),
      guidance: num(p.fluxguidancescale),
      sampler: str(p.sampler),
      scheduler: str(p.scheduler),
      model: str(p.model),
    },
  );
  size(out, p.width, p.height);
  return nonEmpty(out);
}

/**
 * Fooocus's `fooocus` scheme. `scheme` is what the file says beside it (PNG `fooocus_scheme`, EXIF
 * MakerNote); older files say it only in the JSON's `metadata_scheme` or `version`.
 */
export function fromFooocus(record: Record<string, unknown>, scheme: string | undefined): Reading {
  const fooocus = scheme === 'fooocus' || record.metadata_scheme === 'fooocus' || /^Fooocus\b/u.test(str(record.version) ?? '');
  if (!fooocus) return null;
  const out = assignDefined<GenerationFields>(
    {},
    {
      prompt: str(record.prompt),
      negativePrompt: str(record.negative_prompt),
      seed: seedOf(record.seed),
      steps: num(record.steps),
      cfg: num(record.guidance_scale),
      sampler: str(record.sampler),
      scheduler: str(record.scheduler),
      model: str(record.base_model),
    },
  );
  // resolution is str((width, height)): "(1152, 896)".
  const m = /^\(\s*(\d+)\s*,\s*(\d+)\s*\)$/u.exec(str(record.resolution) ?? '');
  if (m) size(out, m[1], m[2]);
  return nonEmpty(out);
}

/** RuinedFooocus's `parameters` JSON. */
export function fromRuinedFooocus(record: Record<string, unknown>): Reading {
  if (record.software !== 'RuinedFooocus') return null;
  const out = assignDefined<GenerationFields>(
    {},
    {
      prompt: str(record.Prompt) ?? str(record.prompt),
      negativePrompt: str(record.Negative),
      seed: seedOf(record.seed),
      steps: num(record.steps),
      cfg: num(record.cfg),
      sampler: str(record.sampler_name),
      scheduler: str(record.scheduler),
      model: str(record.base_model_name),
    },
  );
  size(out, record.width, record.height);
  return nonEmpty(out);
}

/** A JSON record with diffusers' argument names that no tool signed (Hugging Face Spaces). */
export function fromDiffusersJson(record: Record<string, unknown>): Reading {
  if (typeof record.prompt !== 'string') return null;
  const out = assignDefined<GenerationFields>(
    {},
    {
      prompt: record.prompt,
      negativePrompt: str(record.negative_prompt),
      seed: seedOf(record.seed),
      steps: num(record.num_inference_steps),
      cfg: num(record.guidance_scale),
      sampler: str(record.scheduler) ?? str(record.sampler),
      model: str(record.model) ?? str(record.model_id),
    },
  );
  size(out, record.width, record.height);
  return nonEmpty(out);
}
