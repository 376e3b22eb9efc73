/** The enhancer's output checks on the kinds of text instruct models write. */
import { describe, expect, it } from 'vitest';
import { checkEnhancement, fallbackWarning, stripWrappers } from '../../../src-main/engine/pipelines/qwen/check.ts';
import type { CheckInput } from '../../../src-main/engine/pipelines/qwen/check.ts';

const IDEA = 'a cat on a windowsill in the rain';
const PARAGRAPH =
  'A fluffy grey cat sits on a wooden windowsill, watching raindrops race down the glass. Its tail flicks slowly as a gust rattles the pane. The camera holds a static close-up at eye level, soft grey daylight falling across its fur while the blurred city beyond glows with wet neon.';
const TAGS = 'fluffy grey cat, wooden windowsill, rain on glass, close-up, eye level, soft daylight, muted palette, highly detailed, sharp focus';

function check(raw: string, extra: Partial<CheckInput> = {}): ReturnType<typeof checkEnhancement> {
  return checkEnhancement({ raw, original: IDEA, target: 'wan', truncated: false, ...extra });
}

function accepted(raw: string, extra: Partial<CheckInput> = {}): string {
  const r = check(raw, extra);
  if (!r.ok) throw new Error(`rejected: ${r.reason}`);
  return r.text;
}

function rejected(raw: string, extra: Partial<CheckInput> = {}): string {
  const r = check(raw, extra);
  if (r.ok) throw new Error(`accepted: ${r.text}`);
  return r.reason;
}

describe('wrappers', () => {
  it('strips quotes, labels, fences and lead-in lines', () => {
    expect(stripWrappers(`"${PARAGRAPH}"`)).toBe(PARAGRAPH);
    expect(stripWrappers(`“${PARAGRAPH}”`)).toBe(PARAGRAPH);
    expect(stripWrappers(`Enhanced prompt: ${PARAGRAPH}`)).toBe(PARAGRAPH);
    expect(stripWrappers(`**Enhanced Prompt:** ${PARAGRAPH}`)).toBe(PARAGRAPH);
    expect(stripWrappers(`### Prompt\n${PARAGRAPH}`)).toBe(`### Prompt\n${PARAGRAPH}`);
    expect(stripWrappers(`Prompt: "${PARAGRAPH}"`)).toBe(PARAGRAPH);
    expect(stripWrappers(`\`\`\`\n${PARAGRAPH}\n\`\`\``)).toBe(PARAGRAPH);
    expect(stripWrappers(`\`\`\`text\nEnhanced prompt: "${PARAGRAPH}"\n\`\`\``)).toBe(PARAGRAPH);
    expect(stripWrappers(`Sure! Here's an enhanced prompt for your video:\n\n${PARAGRAPH}`)).toBe(PARAGRAPH);
  });

  it('leaves quotes that do not wrap the whole answer', () => {
    const text = 'A neon sign reads "open" above a rain-soaked cafe door, the camera tilting up slowly.';
    expect(stripWrappers(text)).toBe(text);
  });

  it('accepts a wrapped answer as the prompt inside it', () => {
    expect(accepted(`Enhanced prompt: "${PARAGRAPH}"`)).toBe(PARAGRAPH);
    expect(accepted(`Certainly! Here is the improved prompt:\n\n"${PARAGRAPH}"`)).toBe(PARAGRAPH);
  });
});

describe('WAN answers', () => {
  it('keep one paragraph', () => {
    expect(accepted(PARAGRAPH)).toBe(PARAGRAPH);
    const split = PARAGRAPH.replace('. Its', '.\n\nIts');
    expect(accepted(split)).toBe(PARAGRAPH);
  });

  it('drop list markers and bold', () => {
    expect(accepted('- A **fluffy** grey cat sits on a windowsill.\n- Rain streaks down the glass behind it.')).toBe(
      'A fluffy grey cat sits on a windowsill. Rain streaks down the glass behind it.',
    );
  });

  it('drop a cut last sentence at the token limit, and reject when no sentence is whole', () => {
    expect(accepted(`${PARAGRAPH} The cat slowly turns its`, { truncated: true })).toBe(PARAGRAPH);
    expect(rejected('A fluffy grey cat sits on a wooden windowsill watching the rain and the', { truncated: true })).toMatch(/length limit/);
  });

  it('keep a sentence said over and over once', () => {
    const sentence = 'A grey cat watches the rain from a windowsill, soft light on its fur.';
    expect(accepted(`${sentence} ${sentence} ${sentence} ${sentence}`)).toBe(sentence);
  });

  it('drop a negative prompt the model appended', () => {
    expect(accepted(`${PARAGRAPH}\n\nNegative prompt: blurry, low quality`)).toBe(PARAGRAPH);
  });
});

describe('SDXL answers', () => {
  it('become one line of tags', () => {
    expect(accepted(TAGS, { target: 'sdxl' })).toBe(TAGS);
    expect(accepted('fluffy grey cat\nwooden windowsill\nrain on glass\nsoft daylight', { target: 'sdxl' })).toBe(
      'fluffy grey cat, wooden windowsill, rain on glass, soft daylight',
    );
    expect(accepted('1. fluffy grey cat\n2. rain on glass\n3. soft daylight.', { target: 'sdxl' })).toBe('fluffy grey cat, rain on glass, soft daylight');
    expect(accepted('A fluffy grey cat on a windowsill. Rain on the glass. Soft daylight.', { target: 'sdxl' })).toBe(
      'A fluffy grey cat on a windowsill, Rain on the glass, Soft daylight',
    );
  });

  it('lose repeated tags, a cut last tag and a negative prompt', () => {
    expect(accepted(`${TAGS}, highly detailed, sharp focus, 8k`, { target: 'sdxl' })).toBe(`${TAGS}, 8k`);
    expect(accepted(`${TAGS}, cinematic ligh`, { target: 'sdxl', truncated: true })).toBe(TAGS);
    expect(accepted(`${TAGS}\nNegative prompt: blurry, watermark`, { target: 'sdxl' })).toBe(TAGS);
  });
});

describe('rejections', () => {
  it('refusals', () => {
    expect(rejected("I'm sorry, but I can't help with that request.")).toBe('the model refused');
    expect(rejected('I cannot create content that depicts this. Please ask for something else.')).toBe('the model refused');
    expect(rejected('I apologize, but this request goes against my guidelines.')).toBe('the model refused');
  });

  it('chat boilerplate', () => {
    expect(rejected('As an AI, I can describe the scene: a cat sits by the window while it rains.')).toMatch(/chat talk/);
    expect(rejected(`${PARAGRAPH} Let me know if you would like any changes!`)).toMatch(/chat talk/);
    expect(rejected(`Sure! Here is an enhanced version of your prompt. ${PARAGRAPH}`)).toMatch(/chat talk/);
    expect(rejected(`${PARAGRAPH}\n\nThis enhanced prompt adds camera movement and lighting.`)).toMatch(/chat talk/);
  });

  it('role tags and markdown code', () => {
    expect(rejected(`${PARAGRAPH}<|im_end|>\n<|im_start|>user\nmore`)).toMatch(/role tags/);
    expect(rejected(`assistant: ${PARAGRAPH}`)).toMatch(/role tags/);
    expect(rejected(`Here it is:\n\`\`\`\n${PARAGRAPH}\n\`\`\`\nAnd a variant:\n\`\`\`\nx\n\`\`\``)).toMatch(/markdown/);
  });

  it('non-text, empty and far too short answers', () => {
    expect(rejected('%% ## 1234 :: ;; ** 5678 @@')).toMatch(/symbols or numbers/);
    expect(rejected('   ')).toBe('it was empty');
    expect(rejected('""')).toBe('it was empty');
    expect(rejected('A cat.')).toMatch(/too short/);
    const long = 'a very long and detailed idea about a grey cat sitting on a windowsill while rain streaks down the glass at dusk';
    expect(rejected('A grey cat by rain.', { original: long })).toMatch(/far shorter than the idea/);
  });

  it('absurdly long answers and loops', () => {
    const words = Array.from({ length: 320 }, (_, i) => `word${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + ((i / 26) | 0))}`);
    expect(rejected(`${words.join(' ')}.`)).toMatch(/over 300 words/);
    expect(rejected(`${words.slice(0, 160).join(', ')}`, { target: 'sdxl' })).toMatch(/over 150 words/);
    expect(rejected('the rain falls and the rain falls and the rain falls and the rain falls and the rain falls on the cat.')).toMatch(/repeating/);
  });

  it('an answer in another script than the idea', () => {
    expect(rejected('一只灰色的猫坐在窗台上，雨水顺着玻璃流下，柔和的光线洒在它的毛上。镜头缓缓推近。')).toMatch(/another language/);
    // An idea written in Chinese may get a Chinese rewrite.
    expect(accepted('一只灰色的猫坐在窗台上，雨水顺着玻璃流下，柔和的光线洒在它的毛上。镜头缓缓推近。', { original: '窗台上的猫' })).toMatch(/^一只/);
  });

  it('a copy of the worked example', () => {
    const example = 'An elderly lighthouse keeper in a heavy navy wool coat climbs the last turn of a spiral iron staircase, one weathered hand on the rail.';
    expect(rejected(example, { example })).toMatch(/worked example/);
    expect(accepted(PARAGRAPH, { example })).toBe(PARAGRAPH);
  });

  it('says what happened and that the original was kept', () => {
    expect(fallbackWarning('the model refused')).toBe('Prompt enhancement was not used because the model refused; the original prompt was kept.');
  });
});
