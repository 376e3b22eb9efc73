import { describe, expect, it } from 'vitest';
import {
  buildA1111Parameters,
  formatA1111ParamsLine,
  parseA1111Parameters,
  pythonStrip,
  quoteA1111Value,
} from '../../../src-main/engine/media/a1111.ts';
import type { A1111Generation } from '../../../src-main/engine/media/a1111.ts';

const base: A1111Generation = {
  prompt: 'a cat on a windowsill, golden hour',
  negativePrompt: 'blurry, lowres',
  steps: 15,
  sampler: 'Euler',
  scheduleType: 'Karras',
  cfgScale: 7,
  seed: 42,
  width: 1024,
  height: 1024,
  modelHash: '31e35c80fc',
  model: 'sd_xl_base_1.0',
  version: 'v1.10.1',
};

describe('buildA1111Parameters', () => {
  it('writes prompt, negative prompt and the parameter line in A1111 order', () => {
    expect(buildA1111Parameters(base)).toBe(
      'a cat on a windowsill, golden hour\n' +
        'Negative prompt: blurry, lowres\n' +
        'Steps: 15, Sampler: Euler, Schedule type: Karras, CFG scale: 7, Seed: 42, Size: 1024x1024, ' +
        'Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Version: v1.10.1',
    );
  });

  it('omits the negative prompt line when it is empty, and absent keys', () => {
    const text = buildA1111Parameters({
      prompt: 'a cat',
      steps: 4,
      sampler: 'Euler',
      cfgScale: 7.5,
      seed: 1,
      width: 480,
      height: 832,
    });
    expect(text).toBe('a cat\nSteps: 4, Sampler: Euler, CFG scale: 7.5, Seed: 1, Size: 480x832');
  });

  it('reproduces a real A1111 1.10 infotext byte for byte, extras before Version', () => {
    const real =
      'masterpiece, best quality, 1girl, <lora:add_detail:0.6>\n' +
      'sitting on a bench\n' +
      'Negative prompt: (worst quality, low quality:1.4), EasyNegative\n' +
      'Steps: 25, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 1234567890, Size: 832x1216, ' +
      'Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Denoising strength: 0.4, Clip skip: 2, Hires upscale: 1.5, ' +
      'Hires steps: 10, Hires upscaler: 4x-UltraSharp, Lora hashes: "add_detail: 7c6bad76eb54", ' +
      'TI hashes: "EasyNegative: c74b4e810b03", Version: v1.10.1';
    const built = buildA1111Parameters({
      prompt: 'masterpiece, best quality, 1girl, <lora:add_detail:0.6>\nsitting on a bench',
      negativePrompt: '(worst quality, low quality:1.4), EasyNegative',
      steps: 25,
      sampler: 'DPM++ 2M',
      scheduleType: 'Karras',
      cfgScale: 6.5,
      seed: 1234567890,
      width: 832,
      height: 1216,
      modelHash: '31e35c80fc',
      model: 'sd_xl_base_1.0',
      denoisingStrength: 0.4,
      clipSkip: 2,
      extra: [
        ['Hires upscale', 1.5],
        ['Hires steps', 10],
        ['Hires upscaler', '4x-UltraSharp'],
        ['Lora hashes', 'add_detail: 7c6bad76eb54'],
        ['TI hashes', 'EasyNegative: c74b4e810b03'],
      ],
      version: 'v1.10.1',
    });
    expect(built).toBe(real);
  });

  it('leaves Clip skip 1 out, as A1111 does', () => {
    expect(buildA1111Parameters({ ...base, clipSkip: 1 })).not.toContain('Clip skip');
  });

  it('writes the batch as A1111 does: size and place for 2 or more, nothing for one image but a place that is not the first', () => {
    const fields = (gen: Partial<A1111Generation>) => parseA1111Parameters(buildA1111Parameters({ ...base, ...gen })).params;
    expect(fields({ batchSize: 2, batchPos: 1 })).toMatchObject({ 'Batch size': '2', 'Batch pos': '1' });
    expect(fields({ batchSize: 1, batchPos: 0 })).not.toHaveProperty('Batch size');
    expect(fields({ batchSize: 1, batchPos: 0 })).not.toHaveProperty('Batch pos');
    // One image of a 6-image job re-run alone: its place, without claiming a batch A1111 would draw.
    const rerun = fields({ batchSize: 1, batchPos: 3 });
    expect(rerun).not.toHaveProperty('Batch size');
    expect(rerun['Batch pos']).toBe('3');
  });

  it('writes the noise source the way A1111 reads its RNG setting, after Clip skip and before the extras', () => {
    const text = buildA1111Parameters({ ...base, clipSkip: 2, rng: 'CPU', extra: [['Frames', 1]] });
    expect(text).toContain('Clip skip: 2, RNG: CPU, Frames: 1, Version: v1.10.1');
    expect(parseA1111Parameters(text).params.RNG).toBe('CPU');
  });
});

describe('quoteA1111Value (json.dumps when the text holds , : or newline)', () => {
  it.each([
    ['Euler a', 'Euler a'],
    ['a, b', '"a, b"'],
    ['key: v', '"key: v"'],
    ['line1\nline2', '"line1\\nline2"'],
    ['say "hi"', 'say "hi"'],
    ['say "hi", then', '"say \\"hi\\", then"'],
    ['back\\slash: x', '"back\\\\slash: x"'],
    ['tab\there, x', '"tab\\there, x"'],
    ['ctl\u0001, x', '"ctl\\u0001, x"'],
    ['猫, ねこ', '"猫, ねこ"'],
  ])('%j → %s', (value, quoted) => {
    expect(quoteA1111Value(value)).toBe(quoted);
  });

  it('prints numbers, bigints and booleans as Python str() does', () => {
    expect(quoteA1111Value(7)).toBe('7');
    expect(quoteA1111Value(0.35)).toBe('0.35');
    expect(quoteA1111Value(18446744073709551615n)).toBe('18446744073709551615');
    expect(quoteA1111Value(true)).toBe('True');
  });

  it('writes a string value equal to its key as the bare key and skips null/undefined', () => {
    expect(formatA1111ParamsLine([['Tiling', 'Tiling'], ['A', null], ['B', undefined], ['C', 'c']])).toBe('Tiling, C: c');
  });
});

describe('parseA1111Parameters', () => {
  it('parses the docstring example from A1111’s parse_generation_parameters', () => {
    const parsed = parseA1111Parameters(
      "girl with an artist's beret, determined, blue eyes, desert scene, computer monitors, heavy makeup, by Alphonse Mucha and Charlie Bowater, ((eyeshadow)), (coquettish), detailed, intricate\n" +
        'Negative prompt: ugly, fat, obese, chubby, (((deformed))), [blurry], bad anatomy, disfigured, poorly drawn face, mutation, mutated, (extra_limb), (ugly), (poorly drawn hands), messy drawing\n' +
        'Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512, Model hash: 45dee52b',
    );
    expect(parsed.prompt).toMatch(/^girl with an artist's beret, .* detailed, intricate$/);
    expect(parsed.negativePrompt).toMatch(/^ugly, fat, .* messy drawing$/);
    expect(parsed.params).toEqual({
      Steps: '20',
      Sampler: 'Euler a',
      'CFG scale': '7',
      Seed: '965400086',
      Size: '512x512',
      'Model hash': '45dee52b',
    });
    expect(parsed).toMatchObject({ steps: 20, sampler: 'Euler a', cfgScale: 7, seed: '965400086', width: 512, height: 512 });
  });

  it('unquotes JSON-quoted values, including escaped quotes and newlines', () => {
    const parsed = parseA1111Parameters(
      'p\nSteps: 20, Sampler: Euler, Lora hashes: "add_detail: 7c6bad76eb54, more: 3b8aa1d351ef", ' +
        'Template: "say \\"hi\\", ok", Note: "two\\nlines", Size: 512x768',
    );
    expect(parsed.params['Lora hashes']).toBe('add_detail: 7c6bad76eb54, more: 3b8aa1d351ef');
    expect(parsed.params['Template']).toBe('say "hi", ok');
    expect(parsed.params['Note']).toBe('two\nlines');
    expect([parsed.width, parsed.height]).toEqual([512, 768]);
  });

  it('keeps a quoted value that is not valid JSON as written (A1111 unquote fallback)', () => {
    const parsed = parseA1111Parameters('p\nSteps: 1, Sampler: Euler, Odd: "a\\qb", Seed: 3');
    expect(parsed.params['Odd']).toBe('"a\\qb"');
    expect(parsed.seed).toBe('3');
  });

  it('treats a last line with fewer than three pairs as prompt', () => {
    const parsed = parseA1111Parameters('a photo\nstyle: film, grain: heavy');
    expect(parsed.prompt).toBe('a photo\nstyle: film, grain: heavy');
    expect(parsed.params).toEqual({});
  });

  it('reads multi-line prompts and negative prompts, stripping each line', () => {
    const parsed = parseA1111Parameters(
      '  first line  \r\nsecond line\nNegative prompt:   neg one\n neg two \nSteps: 5, Sampler: Euler, Seed: 9',
    );
    expect(parsed.prompt).toBe('first line\nsecond line');
    expect(parsed.negativePrompt).toBe('neg one\nneg two');
  });

  it('drops empty values and lets a later duplicate win, like the Python dict', () => {
    const parsed = parseA1111Parameters('p\nSteps: 5, Sampler: , Seed: 1, Seed: 2');
    expect(parsed.params).toEqual({ Steps: '5', Seed: '2' });
    expect(parsed.sampler).toBeUndefined();
  });

  it('reads keys with Unicode letters, dashes and slashes', () => {
    const parsed = parseA1111Parameters('p\nSteps: 5, ADetailer model: face_yolov8n.pt, Hires CFG/Scale: 5, Clé-ß: x');
    expect(Object.keys(parsed.params)).toEqual(['Steps', 'ADetailer model', 'Hires CFG/Scale', 'Clé-ß']);
  });

  it('parses an infotext with only a parameter line (empty prompt)', () => {
    const parsed = parseA1111Parameters('Steps: 15, Sampler: Euler, Seed: 42');
    expect(parsed.prompt).toBe('');
    expect(parsed.steps).toBe(15);
  });
});

describe('round trip', () => {
  const prompts: Array<[string, string]> = [
    ['a cat', ''],
    ['portrait: woman, "red" coat, 85mm', 'cartoon, (ugly:1.3)'],
    ['line one\nline two, with: colon\nline three', 'neg line 1\nneg line 2'],
    ['猫が座っている、夕焼け, ночь, 🐈', 'ぼやけ'],
    ['Steps: 1, Seed: 2, Size: 3x3\nreal prompt', 'Steps: 9, CFG scale: 1, Seed: 7'],
  ];

  it.each(prompts)('%j / %j', (prompt, negativePrompt) => {
    const gen: A1111Generation = {
      ...base,
      prompt,
      negativePrompt,
      model: 'my model, v2: final',
      seed: 18446744073709551615n,
      extra: [['Notes', 'multi\nline, "quoted": value']],
    };
    const parsed = parseA1111Parameters(buildA1111Parameters(gen));
    expect(parsed.prompt).toBe(prompt);
    expect(parsed.negativePrompt).toBe(negativePrompt);
    expect(parsed.model).toBe('my model, v2: final');
    expect(parsed.seed).toBe('18446744073709551615');
    expect(parsed.params['Notes']).toBe('multi\nline, "quoted": value');
    expect(parsed).toMatchObject({ steps: 15, sampler: 'Euler', scheduleType: 'Karras', cfgScale: 7, width: 1024, height: 1024 });
  });

  it('strips surrounding whitespace per line on reading (A1111 behaviour, not a bug here)', () => {
    const parsed = parseA1111Parameters(buildA1111Parameters({ ...base, prompt: '  padded  \n\tindented' }));
    expect(parsed.prompt).toBe('padded\nindented');
  });
});

describe('pythonStrip', () => {
  it('strips what Python str.strip() strips, which differs from String.prototype.trim', () => {
    expect(pythonStrip('\x1c\x1d a \x85\u3000')).toBe('a');
    expect(pythonStrip('\ufeffa')).toBe('\ufeffa'); // BOM is not whitespace in Python
  });
});
