/**
 * Text in a file is read in time linear in its length, and hand-written text longer than anything
 * a tool writes is kept but not read. Each input below made a regex backtrack quadratically: the
 * lazy `[\s\S]*?` of an unclosed XML element, an unanchored `[\w-]+:` prefix, a `\0+$` or
 * `[\s,]+$` trim of a long inner run; or built a rope of millions of one-character strings.
 * The time bounds are generous (the inputs took minutes to hours before).
 */
import { describe, expect, it } from 'vitest';
import { readExifText, readXmpParameters } from '../../../src-main/engine/library/metadata/exif.ts';
import { fromInvokeAiDream } from '../../../src-main/engine/library/metadata/generators.ts';
import { MAX_READ_TEXT_CHARS, chooseGeneration } from '../../../src-main/engine/library/metadata/precedence.ts';
import { readXmpDigitalSourceType } from '../../../src-main/engine/media/png-generated.ts';
import { piexifUserComment } from '../../fixtures/library/formats.ts';

function within<T>(ms: number, work: () => T): T {
  const started = performance.now();
  const result = work();
  expect(performance.now() - started).toBeLessThan(ms);
  return result;
}

describe('XMP', () => {
  it('finds parameters in one pass, however many elements are left open', () => {
    expect(within(2000, () => readXmpParameters('<a:parameters>'.repeat(400_000)))).toBeUndefined();
    expect(within(2000, () => readXmpParameters('<exif:UserComment><rdf:Alt><rdf:li>'.repeat(150_000)))).toBeUndefined();
    // The same answers as the lazy regexes on what tools write.
    expect(readXmpParameters('<x:xmpmeta><exif:UserComment><rdf:Alt><rdf:li xml:lang="x-default">a cat\nSteps: 20</rdf:li></rdf:Alt></exif:UserComment>')).toBe('a cat\nSteps: 20');
    expect(readXmpParameters('<sd:parameters>a &amp; b</sd:parameters><sd:parameters>second</sd:parameters>')).toBe('a & b');
    expect(readXmpParameters('<a:parameters>open <b:parameters> </b:parameters>')).toBe('open <b:parameters> ');
    expect(readXmpParameters('<a:parameters>  </a:parameters> x:parameters="fallback"')).toBe('fallback');
  });

  it('finds DigitalSourceType without retrying every letter of a long run', () => {
    expect(within(2000, () => readXmpDigitalSourceType('a'.repeat(4_000_000)))).toBeUndefined();
    expect(readXmpDigitalSourceType('<rdf:Description Iptc4xmpExt:DigitalSourceType="http://x/trainedAlgorithmicMedia"/>')).toBe('http://x/trainedAlgorithmicMedia');
    expect(readXmpDigitalSourceType("ab-c:DigitalSourceType = 'single'")).toBe('single');
  });
});

describe('EXIF', () => {
  it('trims the NULs after a UserComment in one pass', () => {
    const exif = piexifUserComment(`a${'\0'.repeat(2_000_000)}b`);
    expect(within(3000, () => readExifText(exif))?.userComment).toHaveLength(2_000_002);
    expect(readExifText(piexifUserComment('a cat\0\0\0'))?.userComment).toBe('a cat');
  });
});

describe('InvokeAI 2 commands', () => {
  it('reads a quoted prompt with escapes, and a long one in one pass', () => {
    expect(fromInvokeAiDream('"a \\"red\\" cat [ugly, blurry]" -s 20 -S 42 -C 7.5 -A k_lms -W 512 -H 768')).toMatchObject({
      prompt: 'a "red" cat',
      negativePrompt: 'ugly, blurry',
      steps: 20,
      seed: 42,
      cfg: 7.5,
      width: 512,
      height: 768,
    });
    const long = within(3000, () => fromInvokeAiDream(`"a${' ,'.repeat(400_000)}b" -s 20 -S 1`));
    expect(long?.prompt).toBe(`a${','.repeat(400_000)}b`);
  });
});

describe('reading limits', () => {
  it('does not read hand-written text longer than a megabyte; JSON is bounded by its values instead', () => {
    const line = 'Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 9';
    const pad = 'x'.repeat(MAX_READ_TEXT_CHARS);
    expect(chooseGeneration({ texts: [{ text: `a fox\n${line}`, strict: false }] }, JSON.parse).fields).toMatchObject({ prompt: 'a fox', seed: 9 });
    expect(chooseGeneration({ texts: [{ text: `${pad}\n${line}`, strict: false }] }, JSON.parse)).toEqual({ source: null, fields: {} });
    expect(chooseGeneration({ invokeaiDream: `"${pad}" -s 20 -S 1`, texts: [] }, JSON.parse)).toEqual({ source: null, fields: {} });
  });
});
