/**
 * WanPipeline's prompt cleaning (diffusers pipelines/wan/pipeline_wan.py):
 *
 *   basic_clean:       ftfy.fix_text when ftfy is installed; html.unescape twice; strip()
 *   whitespace_clean:  regex.sub(r"\s+", " ", text); strip()
 *
 * ftfy (mojibake repair) is not reproduced: it changes only text that was mis-decoded somewhere,
 * which a prompt typed into the app is not. `html.unescape` follows Python's html module: numeric
 * references with its replacement rules, every legacy (ISO-8859-1) name with or without its
 * semicolon, and the common typographic names below (Python knows all 2,231 HTML5 names; the
 * rest are left as written here). `\s` is the `regex` module's: Unicode White_Space; strip() is str.isspace().
 */
import { pythonStrip } from '../../media/a1111.ts';

/** Unicode White_Space, as the `regex` module's `\s` matches it in str patterns (not JS `\s`). */
const WHITESPACE_RUN = /[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/gu;

/** HTML's ISO-8859-1 entities, U+00A0 to U+00FF in order: the legacy names, also valid without `;`. */
const LATIN1 = (
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro ' +
  'para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil ' +
  'Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave ' +
  'Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml ' +
  'igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute ' +
  'thorn yuml'
).split(' ');

/** Named references (without the semicolon) → text. */
const NAMED: Readonly<Record<string, string>> = {
  ...Object.fromEntries(LATIN1.map((name, i) => [name, String.fromCharCode(0xa0 + i)])),
  amp: '&', AMP: '&', lt: '<', LT: '<', gt: '>', GT: '>', quot: '"', QUOT: '"', COPY: '©', REG: '®',
  apos: "'", trade: '™', hellip: '…', mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', sbquo: '‚', ldquo: '“',
  rdquo: '”', bdquo: '„', lsaquo: '‹', rsaquo: '›', bull: '•', euro: '€', OElig: 'Œ', oelig: 'œ', Scaron: 'Š',
  scaron: 'š', ensp: '\u2002', emsp: '\u2003', thinsp: '\u2009', zwj: '\u200d', zwnj: '\u200c', hearts: '♥', star: '☆',
  larr: '←', rarr: '→', uarr: '↑', darr: '↓',
};

/** HTML5's legacy names, which are also recognised without the semicolon. */
const LEGACY = new Set([...LATIN1, 'amp', 'AMP', 'lt', 'LT', 'gt', 'GT', 'quot', 'QUOT', 'COPY', 'REG']);

/** Python html._invalid_charrefs: C1 controls read as Windows-1252, NUL and CR. */
const INVALID_CHARREFS: Readonly<Record<number, string>> = {
  0x00: '\ufffd', 0x0d: '\r', 0x80: '\u20ac', 0x81: '\x81', 0x82: '\u201a', 0x83: '\u0192', 0x84: '\u201e',
  0x85: '\u2026', 0x86: '\u2020', 0x87: '\u2021', 0x88: '\u02c6', 0x89: '\u2030', 0x8a: '\u0160', 0x8b: '\u2039',
  0x8c: '\u0152', 0x8d: '\x8d', 0x8e: '\u017d', 0x8f: '\x8f', 0x90: '\x90', 0x91: '\u2018', 0x92: '\u2019',
  0x93: '\u201c', 0x94: '\u201d', 0x95: '\u2022', 0x96: '\u2013', 0x97: '\u2014', 0x98: '\u02dc', 0x99: '\u2122',
  0x9a: '\u0161', 0x9b: '\u203a', 0x9c: '\u0153', 0x9d: '\x9d', 0x9e: '\u017e', 0x9f: '\u0178',
};

/** Python html._invalid_codepoints: references to these become nothing. */
function invalidCodepoint(n: number): boolean {
  return (
    (n >= 0x1 && n <= 0x8) ||
    n === 0xb ||
    (n >= 0xe && n <= 0x1f) ||
    (n >= 0x7f && n <= 0x9f) ||
    (n >= 0xfdd0 && n <= 0xfdef) ||
    (n & 0xfffe) === 0xfffe
  );
}

const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

function replaceCharref(whole: string, ref: string): string {
  if (ref.startsWith('#')) {
    const digits = ref.replace(/;$/, '');
    const num = digits[1] === 'x' || digits[1] === 'X' ? Number.parseInt(digits.slice(2), 16) : Number.parseInt(digits.slice(1), 10);
    if (num in INVALID_CHARREFS) return INVALID_CHARREFS[num]!;
    if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff || !Number.isFinite(num)) return '\ufffd';
    if (invalidCodepoint(num)) return '';
    return String.fromCodePoint(num);
  }
  if (ref.endsWith(';') && NAMED[ref.slice(0, -1)] !== undefined) return NAMED[ref.slice(0, -1)]!;
  if (LEGACY.has(ref)) return NAMED[ref]!;
  // The longest legacy name the reference starts with, the rest kept (Python scans len−1 down to 2).
  for (let n = ref.length - 1; n > 1; n--) {
    const name = ref.slice(0, n);
    if (LEGACY.has(name)) return NAMED[name]! + ref.slice(n);
  }
  return whole;
}

/** Python's html.unescape (see the module comment for what is covered). */
export function htmlUnescape(text: string): string {
  return text.includes('&') ? text.replace(CHARREF, replaceCharref) : text;
}

export function basicClean(text: string): string {
  return pythonStrip(htmlUnescape(htmlUnescape(text)));
}

export function whitespaceClean(text: string): string {
  return pythonStrip(text.replace(WHITESPACE_RUN, ' '));
}

/** WanPipeline's prompt_clean: whitespace_clean(basic_clean(text)). */
export function cleanWanPrompt(text: string): string {
  return whitespaceClean(basicClean(text));
}
