/**
 * The A1111 infotext reader does what A1111's regexes do, in time linear in the text: a `parameters`
 * chunk may hold 16 MB, and the regexes (re_param's findall, a `[…]+$` strip) are quadratic on
 * a long line without a colon or a long inner run of spaces.
 */
import { describe, expect, it } from 'vitest';
import { PARAM_PATTERN, findParams, parseA1111Parameters, pythonStrip } from '../../../src-main/engine/media/a1111.ts';

/** What the reader must agree with: re.findall(re_param, line) as the regex does it. */
function byRegex(line: string): Array<[string, string]> {
  return Array.from(line.matchAll(PARAM_PATTERN), (m) => [m[1]!, m[2]!] as [string, string]);
}

/** A1111's unquote(). */
function unquoted(v: string): string {
  if (v.length < 2 || v[0] !== '"' || v.at(-1) !== '"') return v;
  try {
    const parsed: unknown = JSON.parse(v);
    return typeof parsed === 'string' ? parsed : v;
  } catch {
    return v;
  }
}

/** Random lines from the characters the grammar turns on, astral letters and odd spaces included. */
function* lines(count: number): Generator<string> {
  // Single characters and the pieces real lines are made of, so most lines hold several pairs.
  const alphabet = ['a', 'Z', '7', '_', ' ', '-', '/', ':', ',', '"', '\\', '\n', '\t', '\u00a0', 'é', '\u{1d49c}', 'Steps: 20', ', ', ': ', 'CFG scale', '\\"', '"a, b"'];
  let seed = 12345;
  const next = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 8;
  };
  for (let i = 0; i < count; i++) {
    let line = '';
    const length = next() % 24;
    for (let j = 0; j < length; j++) line += alphabet[next() % alphabet.length];
    yield line;
  }
}

describe('reading A1111 parameters in linear time', () => {
  it('finds the same Key: value pairs as re_param on 100,000 random lines', () => {
    let pairs = 0;
    for (const line of lines(100_000)) {
      const expected = byRegex(line);
      expect(findParams(line), JSON.stringify(line)).toEqual(expected);
      pairs += expected.length;
    }
    expect(pairs).toBeGreaterThan(50_000);
  });

  it('agrees with re_param on the lines real tools write', () => {
    for (const line of [
      'Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 3141592653, Size: 64x48, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Version: v1.10.1',
      'Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Lora hashes: "a: 1, b: 2", ADetailer prompt: "a \\"quoted\\" face", TI: x',
      'Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Broken: "unterminated, Next: 1',
    ]) {
      expect(findParams(line)).toEqual(byRegex(line));
      const want = Object.fromEntries(byRegex(line).filter(([, v]) => v.length > 0).map(([k, v]) => [k, unquoted(v)]));
      expect(parseA1111Parameters(`a prompt\n${line}`).params).toEqual(want);
    }
  });

  it('strips as Python does', () => {
    expect(pythonStrip('\u3000 \t a b \u00a0\n')).toBe('a b');
    expect(pythonStrip(' \n ')).toBe('');
    expect(pythonStrip('a')).toBe('a');
  });

  it('reads 4 MB lines built to be slow in a fraction of a second each (the regexes took minutes)', () => {
    for (const text of ['a'.repeat(4_000_000), `a${' '.repeat(4_000_000)}a`, 'ab '.repeat(1_300_000), `Steps: 1, Sampler: a, CFG scale: 2, K: "${'\\"'.repeat(1_000_000)}`]) {
      const started = performance.now();
      parseA1111Parameters(text);
      expect(performance.now() - started).toBeLessThan(3000);
    }
  });
});
