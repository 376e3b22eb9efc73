/**
 * AUTOMATIC1111 attention syntax → weighted text fragments.
 *
 * Rules follow `parse_prompt_attention` in AUTOMATIC1111/stable-diffusion-webui
 * `modules/prompt_parser.py` (read as the reference, not copied):
 *   (abc)        weight × 1.1            [abc]       weight ÷ 1.1
 *   (abc:1.3)    weight × 1.3            nesting multiplies
 *   \( \) \[ \]  literal brackets        \\          literal backslash; a lone \ is dropped
 *   ")" or "]" with nothing open, and ":" outside "(…:w)", are plain text
 *   brackets still open at the end apply to everything after them (round ones first)
 *   adjacent fragments of exactly equal weight are merged
 *   BREAK (upper case, a whole word) ends the current 75-token chunk
 *
 * Two deliberate differences, both where A1111 misbehaves:
 * - A1111 stores BREAK as the pair ("BREAK", -1), so a BREAK inside brackets gets its -1 multiplied,
 *   stops being recognised and is encoded as the word "break" with a negative weight. Here BREAK is
 *   its own fragment kind that brackets never touch.
 * - A weight that is not a number, such as "(a:1.2.3)", makes A1111 raise; here ":1.2.3)" stays
 *   plain text, and the bracket it would have closed stays open (so it counts as ×1.1).
 */

export interface TextFragment {
  kind: 'text';
  text: string;
  weight: number;
}

export interface BreakFragment {
  kind: 'break';
}

export type PromptFragment = TextFragment | BreakFragment;

const ROUND_MULTIPLIER = 1.1;
const SQUARE_MULTIPLIER = 1 / 1.1;

/**
 * One alternative per token kind, in A1111's order: escapes, a lone backslash, openers, a weighted
 * closer, plain closers, a run of ordinary text, a stray colon. Together they match every character.
 */
const ATTENTION_TOKEN = /\\\(|\\\)|\\\[|\\\]|\\\\|\\|\(|\[|:([+-]?[.\d]+)\)|\)|\]|[^\\()[\]:]+|:/g;

/**
 * Python's `\s*\bBREAK\b\s*`. JavaScript's \b only knows ASCII word characters even with the u flag,
 * so the word boundary is spelled out with Unicode letters, numbers and underscore, as Python's \w.
 */
const BREAK_WORD = /\s*(?<![\p{L}\p{N}_])BREAK(?![\p{L}\p{N}_])\s*/u;

export function parsePromptAttention(prompt: string): PromptFragment[] {
  const res: PromptFragment[] = [];
  const roundOpen: number[] = [];
  const squareOpen: number[] = [];

  const multiplyFrom = (start: number, multiplier: number): void => {
    for (let p = start; p < res.length; p++) {
      const fragment = res[p]!;
      if (fragment.kind === 'text') fragment.weight *= multiplier;
    }
  };

  for (const match of prompt.matchAll(ATTENTION_TOKEN)) {
    const token = match[0];
    const weightText = match[1];
    const weight = weightText === undefined ? Number.NaN : Number(weightText);

    if (token.startsWith('\\')) {
      res.push({ kind: 'text', text: token.slice(1), weight: 1 });
    } else if (token === '(') {
      roundOpen.push(res.length);
    } else if (token === '[') {
      squareOpen.push(res.length);
    } else if (weightText !== undefined && !Number.isNaN(weight) && roundOpen.length > 0) {
      multiplyFrom(roundOpen.pop()!, weight);
    } else if (token === ')' && roundOpen.length > 0) {
      multiplyFrom(roundOpen.pop()!, ROUND_MULTIPLIER);
    } else if (token === ']' && squareOpen.length > 0) {
      multiplyFrom(squareOpen.pop()!, SQUARE_MULTIPLIER);
    } else {
      token.split(BREAK_WORD).forEach((part, i) => {
        if (i > 0) res.push({ kind: 'break' });
        res.push({ kind: 'text', text: part, weight: 1 });
      });
    }
  }

  for (const start of roundOpen) multiplyFrom(start, ROUND_MULTIPLIER);
  for (const start of squareOpen) multiplyFrom(start, SQUARE_MULTIPLIER);

  if (res.length === 0) res.push({ kind: 'text', text: '', weight: 1 });

  const merged: PromptFragment[] = [];
  for (const fragment of res) {
    const last = merged[merged.length - 1];
    if (last?.kind === 'text' && fragment.kind === 'text' && last.weight === fragment.weight) {
      last.text += fragment.text;
    } else {
      merged.push(fragment);
    }
  }
  return merged;
}
