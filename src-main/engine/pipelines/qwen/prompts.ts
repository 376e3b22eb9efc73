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
