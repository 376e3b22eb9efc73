/**
 * What the enhancer asks Qwen2.5 Instruct for, per target model. WAN 2.1 reads a long UMT5 text
 * (512 tokens) and was trained on dense video captions, so it wants one descriptive paragraph:
 * subject, motion, camera, light. SDXL reads CLIP (77 tokens a chunk) and was trained on alt-text
 * and tag lists, so it wants comma-separated tags, most important first. One worked example per
 * target keeps small models (0.5B–3B) on format; the user's idea goes in a message of its own so
 * the instructions and the idea never blur.
 */
export type EnhanceTarget = 'wan' | 'sdxl';

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

const WAN_SYSTEM = `You write prompts for WAN 2.1, a text-to-video model. The user gives you an idea; you answer with the prompt for it and nothing else.

Write one paragraph of plain English prose, 60 to 150 words, in the present tense. Keep everything the user asked for — every subject, name, number, colour, place and style — and never contradict it. Then add what a video model needs:
- the subject: appearance, clothing or materials, expression;
- the motion: what moves and how, from the first frame to the last, at a natural pace;
- the camera: shot size, angle and any movement (static, slow push-in, pan, tracking, handheld);
- the light and atmosphere: time of day, light sources, colours, weather, mood;
- the setting: the place, the background and its depth.
Describe one continuous shot of a few seconds. No title, no preamble, no list, no quotation marks, no markdown, no sound, no on-screen text, no cuts, and do not mention prompts, models or these instructions.`;

const WAN_EXAMPLE_IDEA = 'a lighthouse keeper at night';
const WAN_EXAMPLE_ANSWER =
  'An elderly lighthouse keeper in a heavy navy wool coat climbs the last turn of a spiral iron staircase, one weathered hand on the rail, a brass lantern swinging gently from the other. He reaches the lamp room and looks out as the great lens turns, its white beam sweeping across a dark, restless sea. The camera follows him from behind in a slow, steady handheld move, then drifts past his shoulder toward the glass. Cold blue moonlight mixes with the warm amber glow of the lantern; rain streaks the windows and thin fog rolls over the black water far below.';

const SDXL_SYSTEM = `You write prompts for Stable Diffusion XL, a text-to-image model. The user gives you an idea; you answer with the prompt for it and nothing else.

Write one line of comma-separated tags and short phrases, 20 to 50 of them, most important first. Start with the main subject exactly as the user described it — keep every subject, name, number, colour, place and style they asked for and never contradict it — then add details of the subject, the setting, the composition and camera (shot type, angle, lens, depth of field), the lighting, the colour palette and mood, the medium or art style, and last a few quality tags such as highly detailed, sharp focus. No sentences, no numbering, no quotation marks, no markdown, no negative prompt, and do not mention prompts, models or these instructions.`;

const SDXL_EXAMPLE_IDEA = 'a lighthouse keeper at night';
const SDXL_EXAMPLE_ANSWER =
  'elderly lighthouse keeper, heavy navy wool coat, weathered face, holding a brass lantern, top of a spiral iron staircase, lamp room, great rotating lens, white beam over a dark stormy sea, night, rain on the windows, thin fog, medium shot, low angle, 35mm lens, shallow depth of field, cold blue moonlight, warm amber lantern glow, moody atmosphere, cinematic photography, film grain, highly detailed, sharp focus';

const SYSTEM: Readonly<Record<EnhanceTarget, string>> = { wan: WAN_SYSTEM, sdxl: SDXL_SYSTEM };
const EXAMPLES: Readonly<Record<EnhanceTarget, readonly [string, string]>> = {
  wan: [WAN_EXAMPLE_IDEA, WAN_EXAMPLE_ANSWER],
  sdxl: [SDXL_EXAMPLE_IDEA, SDXL_EXAMPLE_ANSWER],
};

/** Tokens the rewrite may take at most (Qwen tokens ≈ 0.75 words): WAN's asks for ≤ 150 words, SDXL's for ≤ 50 tags. */
export const DEFAULT_MAX_NEW_TOKENS: Readonly<Record<EnhanceTarget, number>> = { wan: 320, sdxl: 160 };

export function systemPrompt(target: EnhanceTarget): string {
  return SYSTEM[target];
}

function ideaMessage(idea: string): string {
  return `Idea: ${idea.trim()}`;
}

/** The conversation the model completes: instructions, one worked example, the user's idea. */
export function enhancementMessages(prompt: string, target: EnhanceTarget): ChatMessage[] {
  const [exampleIdea, exampleAnswer] = EXAMPLES[target];
  return [
    { role: 'system', content: SYSTEM[target] },
    { role: 'user', content: ideaMessage(exampleIdea) },
    { role: 'assistant', content: exampleAnswer },
    { role: 'user', content: ideaMessage(prompt) },
  ];
}

/**
 * What a GGUF model on llama.cpp writes: a JSON object, held to a JSON-schema grammar so a small
 * model cannot answer with anything else. An image asks for the prompt alone; a video also for
 * its four aspects (subject, motion, camera, light), each a short phrase from the paragraph.
 * String lengths are bounded in the grammar itself: a model that would run on is made to close.
 */
export type RewriteShape = 'image' | 'video';

export const REWRITE_FIELDS: Readonly<Record<RewriteShape, readonly string[]>> = {
  image: ['prompt'],
  video: ['prompt', 'subject', 'motion', 'camera', 'light'],
};

/** Longest prompt string the grammar allows per target (WAN: up to 150 words asked for; SDXL: 50 tags). */
export const MAX_PROMPT_CHARS: Readonly<Record<EnhanceTarget, number>> = { wan: 1200, sdxl: 700 };
export const MAX_ASPECT_CHARS = 200;

/** Tokens the JSON answer may take: the prose or tags, and for video the four short aspects. */
export const DEFAULT_MAX_JSON_TOKENS: Readonly<Record<EnhanceTarget, number>> = { wan: 480, sdxl: 220 };

export interface RewriteSchema {
  readonly type: 'object';
  readonly properties: Readonly<Record<string, { readonly type: 'string'; readonly minLength: number; readonly maxLength: number }>>;
  readonly required: readonly string[];
  readonly additionalProperties: false;
}

export function rewriteSchema(target: EnhanceTarget, shape: RewriteShape): RewriteSchema {
  const fields = REWRITE_FIELDS[shape];
  return {
    type: 'object',
    properties: Object.fromEntries(fields.map((f) => [f, { type: 'string', minLength: 1, maxLength: f === 'prompt' ? MAX_PROMPT_CHARS[target] : MAX_ASPECT_CHARS }])),
    required: fields,
    additionalProperties: false,
  };
}

const VIDEO_EXAMPLE_ASPECTS = {
  subject: 'an elderly lighthouse keeper in a heavy navy wool coat with a brass lantern',
  motion: 'climbs the last turn of the stairs, then looks out as the great lens turns',
  camera: 'slow, steady handheld follow from behind, drifting past his shoulder',
  light: 'cold blue moonlight, warm amber lantern glow, rain and thin fog',
};

function jsonInstruction(shape: RewriteShape): string {
  return shape === 'video'
    ? '\n\nAnswer with one JSON object and nothing else: "prompt" holds the paragraph, and "subject", "motion", "camera" and "light" each a short phrase taken from it.'
    : '\n\nAnswer with one JSON object and nothing else: "prompt" holds the prompt.';
}

/** The conversation for a JSON answer: the same instructions and example, the example answered in JSON. */
export function jsonEnhancementMessages(prompt: string, target: EnhanceTarget, shape: RewriteShape): ChatMessage[] {
  const [exampleIdea, exampleAnswer] = EXAMPLES[target];
  const example = shape === 'video' ? { prompt: exampleAnswer, ...VIDEO_EXAMPLE_ASPECTS } : { prompt: exampleAnswer };
  return [
    { role: 'system', content: SYSTEM[target] + jsonInstruction(shape) },
    { role: 'user', content: ideaMessage(exampleIdea) },
    { role: 'assistant', content: JSON.stringify(example) },
    { role: 'user', content: ideaMessage(prompt) },
  ];
}

export type RewriteFields = Readonly<Record<string, string>>;

/** The fields of a JSON answer, or why it is not one (cut off at the token limit, or not the asked shape). */
export function parseRewrite(raw: string, shape: RewriteShape, truncated: boolean): { ok: true; fields: RewriteFields } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, reason: truncated ? 'it ran past the length limit before its answer was complete' : 'it was not the JSON answer the enhancer asked for' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'it was not the JSON answer the enhancer asked for' };
  const record = value as Record<string, unknown>;
  const fields: Record<string, string> = {};
  for (const f of REWRITE_FIELDS[shape]) {
    if (typeof record[f] !== 'string') return { ok: false, reason: `its answer had no "${f}"` };
    fields[f] = record[f];
  }
  return { ok: true, fields };
}
