// JSON from files other tools wrote (ComfyUI graphs, InvokeAI metadata, recipes), parsed only when
// what it would build is bounded. JSON.parse turns 16 MB of `[{},{},…]` into ~500 MB of objects,
// so the text is scanned first — one pass, no allocation — and parsed only when its values and its
// nesting stay within the budget the caller shares across one file.

/** The values (containers, elements, members) one file's JSON texts may build together. */
export const DEFAULT_MAX_JSON_VALUES = 1_000_000;

/** Deeper nesting than any real graph; deep enough to stop recursive walkers and JSON.stringify overflowing. */
export const DEFAULT_MAX_JSON_DEPTH = 256;

export interface JsonBudget {
  /** Values still allowed, shared by every text parsed for one file. */
  remaining: number;
  readonly maxDepth: number;
}

export function jsonBudget(maxValues = DEFAULT_MAX_JSON_VALUES, maxDepth = DEFAULT_MAX_JSON_DEPTH): JsonBudget {
  return { remaining: maxValues, maxDepth };
}

export type BoundedJson = { value: unknown; error?: undefined } | { value?: undefined; error: string };

/**
 * Parses `text` when it builds at most `budget.remaining` values nested at most `budget.maxDepth`
 * deep (and takes them from the budget); otherwise says why it was not parsed.
 */
export function parseJsonBounded(text: string, budget: JsonBudget): BoundedJson {
  let values = 1;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    switch (c) {
      case 0x22: // "
        inString = true;
        break;
      case 0x7b: // {
      case 0x5b: // [
        if (++depth > budget.maxDepth) return { error: `it is nested more than ${budget.maxDepth} levels deep, so it was not read` };
        values++;
        break;
      case 0x7d: // }
      case 0x5d: // ]
        depth--;
        break;
      case 0x2c: // ,  one more element or member
      case 0x3a: // :  a member's value
        values++;
        break;
    }
    if (values > budget.remaining) {
      return { error: `it holds more values than the ${budget.remaining} still allowed for this file, so it was not read` };
    }
  }
  try {
    const value = JSON.parse(text) as unknown;
    budget.remaining -= values;
    return { value };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
