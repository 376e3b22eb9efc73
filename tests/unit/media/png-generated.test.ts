import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildA1111Parameters } from '../../../src-main/engine/media/a1111.ts';
import {
  DIGITAL_SOURCE_TYPE_TRAINED_ALGORITHMIC,
  RECIPE_KEYWORD,
  decodePng,
  encodeGeneratedPng,
  encodePng,
  readImageRecipeMetadata,
  readPngMetadata,
  readXmpDigitalSourceType,
} from '../../../src-main/engine/media/png.ts';

function hasExiftool(): boolean {
  try {
    execFileSync('exiftool', ['-ver'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const width = 24;
const height = 16;
const rgb = new Uint8Array(width * height * 3).map((_, i) => (i * 31) & 0xff);
const recipe = {
  schema: 1,
  jobType: 'sdxl_image_fast',
  prompt: 'a lighthouse at dusk, 灯台',
  negativePrompt: 'blurry',
  seed: 42,
  steps: 15,
  scheduler: 'EulerDiscreteScheduler',
  cfgScale: 7,
};
const parameters = buildA1111Parameters({
  prompt: 'a lighthouse at dusk',
  negativePrompt: 'blurry',
  steps: 15,
  sampler: 'Euler',
  scheduleType: 'Karras',
  cfgScale: 7,
  seed: 42,
  width,
  height,
  model: 'sd_xl_base_1.0',
});

describe('encodeGeneratedPng', () => {
  const png = encodeGeneratedPng({ rgb, width, height, parameters, recipe });

  it('keeps the pixels', () => {
    const decoded = decodePng(png);
    expect(Buffer.from(decoded.data).equals(Buffer.from(rgb))).toBe(true);
  });

  it('writes parameters, recipe, XMP and Software before the image data', () => {
    const meta = readPngMetadata(png);
    expect(meta.chunkTypes).toEqual(['IHDR', 'tEXt', 'iTXt', 'iTXt', 'tEXt', 'IDAT', 'IEND']);
    expect(meta.text.map((t) => t.keyword)).toEqual(['parameters', 'ourvidz_recipe', 'XML:com.adobe.xmp', 'Software']);
    expect(meta.text[2]!.compressed).toBe(false); // XMP must stay uncompressed to be found by scanners
  });

  it('reads everything back with our reader', () => {
    const meta = readImageRecipeMetadata(png);
    expect(meta.parameters?.text).toBe(parameters);
    expect(meta.parameters?.parsed).toMatchObject({ prompt: 'a lighthouse at dusk', seed: '42', steps: 15 });
    expect(meta.recipe?.value).toEqual(recipe);
    expect(meta.digitalSourceType).toBe(DIGITAL_SOURCE_TYPE_TRAINED_ALGORITHMIC);
    expect(meta.software).toBe('OurVidz Studio');
    expect([meta.width, meta.height]).toEqual([width, height]);
  });

  it('puts a non-Latin prompt in iTXt and reads it back', () => {
    const unicodeParameters = buildA1111Parameters({
      prompt: '夜の灯台、霧 — маяк',
      steps: 15,
      sampler: 'Euler',
      cfgScale: 7,
      seed: 42,
      width,
      height,
    });
    const out = encodeGeneratedPng({ rgb, width, height, parameters: unicodeParameters, recipe });
    const entry = readPngMetadata(out).text.find((t) => t.keyword === 'parameters')!;
    expect(entry.chunk).toBe('iTXt');
    expect(readImageRecipeMetadata(out).parameters?.parsed.prompt).toBe('夜の灯台、霧 — маяк');
  });

  it('is deterministic', () => {
    const again = encodeGeneratedPng({ rgb: rgb.slice(), width, height, parameters, recipe: { ...recipe } });
    expect(Buffer.from(again).equals(Buffer.from(png))).toBe(true);
  });

  it('refuses a recipe that is not JSON', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => encodeGeneratedPng({ rgb, width, height, parameters, recipe: cyclic })).toThrow(
      /recipe cannot be stored as JSON/,
    );
  });

  describe.skipIf(!hasExiftool())('as exiftool reads it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ourvidz-png-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    function exiftool(bytes: Uint8Array): Record<string, unknown> {
      const file = join(dir, `f${Math.random().toString(16).slice(2)}.png`);
      writeFileSync(file, bytes);
      const [tags] = JSON.parse(execFileSync('exiftool', ['-j', '-G1', file]).toString()) as Array<Record<string, unknown>>;
      return tags!;
    }

    it('shows Parameters, the recipe chunk, DigitalSourceType and Software, with no warnings', () => {
      const tags = exiftool(png);
      expect(tags['PNG:Parameters']).toBe(parameters);
      expect(JSON.parse(tags['PNG:Ourvidz_recipe'] as string)).toEqual(recipe);
      expect(tags['XMP-iptcExt:DigitalSourceType']).toBe(DIGITAL_SOURCE_TYPE_TRAINED_ALGORITHMIC);
      expect(tags['XMP-xmp:CreatorTool']).toBe('OurVidz Studio');
      expect(tags['PNG:Software']).toBe('OurVidz Studio');
      expect(tags['ExifTool:Warning']).toBeUndefined();
      expect(tags['PNG:ImageWidth']).toBe(width);
    });

    it('shows a non-Latin prompt intact', () => {
      const unicode = 'kočka na okně, 猫\nNegative prompt: ぼやけ\nSteps: 15, Sampler: Euler, Seed: 1';
      const tags = exiftool(encodeGeneratedPng({ rgb, width, height, parameters: unicode, recipe, software: 'Studio ✓' }));
      expect(tags['PNG:Parameters']).toBe(unicode);
      expect(tags['PNG:Software']).toBe('Studio ✓');
    });
  });
});

describe('readImageRecipeMetadata on other tools’ files', () => {
  const image = { width: 2, height: 2, channels: 3 as const, data: new Uint8Array(12) };

  it('recognises ComfyUI prompt/workflow, keeping non-JSON text with the parse error', () => {
    const png = encodePng(image, {
      text: [
        { keyword: 'prompt', text: '{"3": {"class_type": "KSampler", "inputs": {"seed": 5}}}' },
        { keyword: 'workflow', text: '{"nodes": [], "extra": {"ds": NaN}}' },
      ],
    });
    const meta = readImageRecipeMetadata(png);
    expect(meta.comfyui?.prompt?.value).toEqual({ '3': { class_type: 'KSampler', inputs: { seed: 5 } } });
    expect(meta.comfyui?.workflow?.value).toBeUndefined();
    expect(meta.comfyui?.workflow?.error).toBeTruthy();
    expect(meta.comfyui?.workflow?.text).toContain('NaN');
    expect(meta.recipe).toBeUndefined();
  });

  it('recognises InvokeAI metadata', () => {
    const png = encodePng(image, {
      text: [{ keyword: 'invokeai_metadata', text: '{"positive_prompt": "a fox", "seed": 7}', compress: true }],
    });
    expect(readImageRecipeMetadata(png).invokeai?.value).toEqual({ positive_prompt: 'a fox', seed: 7 });
  });

  it('finds DigitalSourceType written as an element, with another prefix', () => {
    const xmp =
      '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
      '<rdf:Description xmlns:ie="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">' +
      '<ie:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia</ie:DigitalSourceType>' +
      '</rdf:Description></rdf:RDF></x:xmpmeta>';
    expect(readXmpDigitalSourceType(xmp)).toBe(
      'http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia',
    );
    expect(readXmpDigitalSourceType('<x:xmpmeta/>')).toBeUndefined();
  });

  it('uses the documented recipe keyword', () => {
    expect(RECIPE_KEYWORD).toBe('ourvidz_recipe');
  });
});
