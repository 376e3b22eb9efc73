/**
 * Turns what the enhancer model wrote into a prompt, or says why it must not be used. Pure
 * functions, so each rule is tested on the kinds of text instruct models really write.
 *
 * Trivial wrappers are removed: surrounding quotes, a whole-answer code fence, labels such as
 * "Enhanced prompt:", a lead-in line ending in a colon ("Sure! Here is the enhanced prompt:"), a
 * trailing "Negative prompt: …", list markers and bold markers. WAN's answer is folded into one
 * paragraph, SDXL's into one line of tags. Anything else that is not a prompt — chat boilerplate,
 * role tags, refusals, markdown, non-text, a copy of the worked example, an answer far too short
 * or too long, a degenerate loop, or a reply in another script than the idea — is rejected, and
 * the caller keeps the original prompt with the reason shown.
 */
import type { EnhanceTarget } from './prompts.ts';

export interface CheckInput {
  readonly raw: string;
  readonly original: string;
  readonly target: EnhanceTarget;
  /** Generation stopped at the token limit, not at the end token: the last sentence may be cut. */
  readonly truncated: boolean;
  /** The worked example's answer, which a confused model may copy. */
  readonly example?: string;
}

export type CheckResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly reason: string };

/** Upper bounds on the rewrite (WAN's UMT5 reads 512 tokens; SDXL's CLIP chunks beyond 3 × 75 add little). */
export const MAX_WORDS: Readonly<Record<EnhanceTarget, number>> = { wan: 300, sdxl: 150 };
const MIN_WORDS = 3;

const ROLE_TAG = /<\|(?:im_start|im_end|endoftext|assistant|user|system)\|>|^\s*(?:system|user|assistant|human|ai)\s*:/im;
const FENCE = /```/;
const BOILERPLATE: readonly RegExp[] = [
  /\bas an ai\b/i,
  /\b(?:ai|language) model\b/i,
  /\bI(?:'m| am) (?:an? )?(?:ai|assistant|chatbot)\b/i,
  /\blet me know\b/i,
  /\bI hope (?:this|that|you)\b/i,
  /\b(?:feel free|happy to help|glad to help|I'd be happy|I would be happy)\b/i,
  /^(?:sure|certainly|of course|absolutely|okay|ok|great|here(?:'s| is| are))\b[\s\S]{0,80}?(?:prompt|version|description|rewrite)\b/i,
  /\b(?:this|the) (?:enhanced|improved|rewritten|revised|updated) (?:prompt|version|description)\b/i,
];
const REFUSAL: readonly RegExp[] = [
  /\bI(?:'m| am)? ?(?:sorry|afraid)\b/i,
  /\bI (?:can(?:no|')t|cannot|won't|will not|am unable to|am not able to|must decline)\b/i,
  /\b(?:unable|not able) to (?:help|assist|comply|fulfil|fulfill|provide|create|generate)\b/i,
  /\bI apologi[sz]e\b/i,
  /\bagainst (?:my|the|our) (?:guidelines|polic(?:y|ies)|principles)\b/i,
  /\b(?:inappropriate|not appropriate) (?:content|request|for)\b/i,
];
/** A label the model put before the prompt itself. */
const LABEL = /^(?:#+\s*)?(?:\*\*|__)?\s*(?:(?:enhanced|improved|rewritten|refined|revised|final|new|video|image|sdxl|wan(?: 2\.1)?)\s+)*(?:prompt|description|caption|tags)\s*(?:\*\*|__)?\s*[:：-]\s*(?:\*\*|__)?\s*/i;
/** A chatty line before the prompt, ending in a colon: "Sure! Here's an enhanced prompt:". */
const LEAD_IN = /^(?:sure|certainly|of course|absolutely|okay|ok|great|here(?:'s| is| are))\b[^\n]{0,120}:\s*\n+/i;
const NEGATIVE_TAIL = /(?:\n|(?<=[.!?])\s+|,\s*|^)(?:\*\*)?negative(?: prompt)?(?:\*\*)?\s*:[\s\S]*$/i;
const QUOTE_PAIRS: readonly [string, string][] = [
  ['"', '"'],
  ['“', '”'],
  ["'", "'"],
  ['‘', '’'],
  ['«', '»'],
  ['`', '`'],
];

function unwrapOnce(text: string): string {
  let t = text.trim();
  const fenced = /^```[\w-]*\s*\n?([\s\S]*?)\n?```$/.exec(t);
  if (fenced && !FENCE.test(fenced[1]!)) t = fenced[1]!.trim();
  t = t.replace(LEAD_IN, '').trim();
  t = t.replace(LABEL, '').trim();
  for (const [open, close] of QUOTE_PAIRS) {
    if (t.length >= 2 && t.startsWith(open) && t.endsWith(close) && !t.slice(1, -1).includes(close)) {
      t = t.slice(1, -1).trim();
      break;
    }
  }
  return t;
}

/** Removes wrappers until none is left (a label inside quotes inside a fence…). */
export function stripWrappers(text: string): string {
  let current = text;
  for (let i = 0; i < 5; i++) {
    const next = unwrapOnce(current);
    if (next === current) break;
    current = next;
  }
  return current;
}

/** Lines without list markers or emphasis, joined as the target wants. */
function fold(text: string, target: EnhanceTarget): string {
  const lines = text
    .split(/\n+/)
    .map((l) => l.replace(/^\s*(?:[-*•]|\d+[.)])\s+/, '').replace(/\*\*|__/g, '').trim())
    .filter(Boolean);
  if (target === 'wan') return lines.join(' ').replace(/\s+/g, ' ').trim();
  return lines
    .map((l) => l.replace(/[.;]+$/, '').replace(/[.;]\s+/g, ', '))
    .join(', ')
    .replace(/\s*,\s*(?:,\s*)*/g, ', ')
    .replace(/\s+/g, ' ')
    .replace(/^,\s*|,\s*$/g, '')
    .trim();
}

/** At the token limit the last sentence (WAN) or tag (SDXL) may be cut: drop it. */
function dropCutEnd(text: string, target: EnhanceTarget): string {
  if (target === 'wan') {
    const end = Math.max(text.lastIndexOf('. '), text.lastIndexOf('! '), text.lastIndexOf('? '));
    if (/[.!?]$/.test(text)) return text;
    return end > 0 ? text.slice(0, end + 1) : '';
  }
  const comma = text.lastIndexOf(',');
  return comma > 0 ? text.slice(0, comma).trim() : '';
}

/** Tags given twice ("highly detailed, …, highly detailed") are kept once. */
function dropRepeatedTags(text: string): string {
  const seen = new Set<string>();
  return text
    .split(/\s*,\s*/)
    .filter((tag) => {
      const key = tag.toLowerCase();
      if (!key || seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .join(', ');
}

/** Sentences said twice (a model looping until the token limit) are kept once. */
function dropRepeatedSentences(text: string): string {
  const sentences = text.match(/[^.!?]+[.!?]+(?:\s+|$)|[^.!?]+$/g) ?? [text];
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const s of sentences) {
    const key = s.trim().toLowerCase();
    if (!key || seen.has(key)) continue;
    seen.add(key);
    kept.push(s.trim());
  }
  return kept.join(' ');
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
}

function ngrams(ws: readonly string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + n <= ws.length; i++) out.push(ws.slice(i, i + n).join(' '));
  return out;
}

/** Share of letters in the Latin script (1 for text without letters). */
function latinShare(text: string): number {
  const letters = text.match(/\p{L}/gu) ?? [];
  if (letters.length === 0) return 1;
  return (text.match(/\p{Script=Latin}/gu) ?? []).length / letters.length;
}

function problem(text: string, input: CheckInput): string | null {
  const ws = words(text);
  if (text.length === 0 || ws.length === 0) return 'it was empty';
  if (ROLE_TAG.test(text)) return 'it contained chat role tags';
  if (FENCE.test(text)) return 'it contained markdown code';
  if (REFUSAL.some((r) => r.test(text))) return 'the model refused';
  if (BOILERPLATE.some((r) => r.test(text))) return 'it was chat talk, not a prompt';
  const visible = text.replace(/\s/g, '');
  const letters = (visible.match(/\p{L}/gu) ?? []).length;
  if (letters / visible.length < 0.6) return 'it was mostly symbols or numbers, not words';
  if (ws.length < MIN_WORDS) return 'it was too short to be a prompt';
  if (text.length < Math.min(40, 0.5 * input.original.trim().length)) return 'it was far shorter than the idea';
  if (ws.length > MAX_WORDS[input.target]) return `it was over ${MAX_WORDS[input.target]} words long`;
  if (latinShare(input.original) >= 0.8 && latinShare(text) < 0.5) return 'it was written in another language than the idea';
  const fours = ngrams(ws, 4);
  const counts = new Map<string, number>();
  for (const g of fours) counts.set(g, (counts.get(g) ?? 0) + 1);
  if ([...counts.values()].some((c) => c >= 4)) return 'it kept repeating itself';
  if (input.example && fours.length >= 8) {
    const example = new Set(ngrams(words(input.example), 4));
    const shared = fours.filter((g) => example.has(g)).length;
    if (shared / fours.length > 0.4) return 'it copied the worked example instead of the idea';
  }
  return null;
}

export function checkEnhancement(input: CheckInput): CheckResult {
  let text = stripWrappers(input.raw.replace(/\r\n?/g, '\n'));
  text = text.replace(NEGATIVE_TAIL, '').trim();
  text = stripWrappers(text);
  text = fold(text, input.target);
  if (input.truncated) {
    text = dropCutEnd(text, input.target);
    if (!text) return { ok: false, reason: 'it ran past the length limit without finishing a sentence' };
  }
  text = input.target === 'wan' ? dropRepeatedSentences(text) : dropRepeatedTags(text);
  const why = problem(text, input);
  return why ? { ok: false, reason: why } : { ok: true, text };
}

/** The warning shown when the original prompt is kept. */
export function fallbackWarning(reason: string): string {
  return `Prompt enhancement was not used because ${reason}; the original prompt was kept.`;
}
