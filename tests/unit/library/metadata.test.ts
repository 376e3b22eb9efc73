import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { decodeUserComment, readExifText, readXmpParameters } from '../../../src-main/engine/library/metadata/exif.ts';
import { fromComfyPrompt, fromComfyWorkflow, fromInvokeAi } from '../../../src-main/engine/library/metadata/generators.ts';
import { parseProbeJson } from '../../../src-main/engine/library/metadata/ffmpeg.ts';
import { readMediaFacts, sniffFormat } from '../../../src-main/engine/library/metadata/read-media.ts';
import { encodeGeneratedPng } from '../../../src-main/engine/media/png.ts';
import {
  A1111_INFOTEXT,
  a1111Jpeg,
  a1111Webp,
  comfyApiGraph,
  comfyWorkflow,
  invokeAiMetadata,
  mp4,
  piexifUserComment,
  pilPng,
  pixels,
  pythonJsonDumps,
} from '../../fixtures/library/formats.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'library-meta-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function facts(name: string, bytes: Buffer) {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return readMediaFacts(path, { name, size: bytes.length });
}

describe('EXIF UserComment as A1111 writes it (piexif)', () => {
  it('reads the UNICODE big-endian comment out of piexif.dump bytes', () => {
    const text = 'a castle, caf\u00e9, \u6771\u4eac\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 8x8';
    const exif = piexifUserComment(text);
    expect(exif.subarray(0, 14).toString('latin1')).toBe('Exif\0\0MM\0\x2a\0\0\0\x08');
    expect(readExifText(exif)).toEqual({ userComment: text });
    expect(readExifText(exif.subarray(6))).toEqual({ userComment: text }); // WebP stores it without the prefix
  });

  it('decodes ASCII and little-endian comments, and survives hostile EXIF', () => {
    expect(decodeUserComment(Buffer.concat([Buffer.from('ASCII\0\0\0'), Buffer.from('hello')]))).toBe('hello');
    expect(decodeUserComment(Buffer.concat([Buffer.from('UNICODE\0'), Buffer.from('hello', 'utf16le')]), true)).toBe('hello');
    expect(decodeUserComment(Buffer.concat([Buffer.from('UNICODE\0'), Buffer.from('hello', 'utf16le')]), false)).toBe('hello');
    const hostile = [
      Buffer.alloc(0),
      Buffer.from('Exif\0\0'),
      Buffer.from('Exif\0\0MM\0\x2a\xff\xff\xff\xff', 'latin1'),
      Buffer.from('Exif\0\0II\x2a\0\x08\0\0\0\xff\xff', 'latin1'),
      Buffer.concat([Buffer.from('MM\0\x2a\0\0\0\x08\0\x01\x87\x69\0\x04\0\0\0\x01', 'latin1'), Buffer.from([0x7f, 0xff, 0xff, 0xff])]),
      Buffer.alloc(4096, 0xff),
    ];
    for (const h of hostile) expect(() => readExifText(h)).not.toThrow();
  });

  it('finds parameters in XMP', () => {
    const xmp = '<x:xmpmeta><rdf:RDF><rdf:Description><exif:UserComment><rdf:Alt><rdf:li xml:lang="x-default">a &amp; b\nSteps: 4</rdf:li></rdf:Alt></exif:UserComment></rdf:Description></rdf:RDF></x:xmpmeta>';
    expect(readXmpParameters(xmp)).toBe('a & b\nSteps: 4');
    expect(readXmpParameters('<x:xmpmeta sd:parameters="p &#x41;"/>')).toBe('p A');
    expect(readXmpParameters('<x/>')).toBeUndefined();
  });
});

describe('ComfyUI graphs', () => {
  it('walks the API graph from the sampler to its texts and checkpoint', () => {
    expect(fromComfyPrompt(JSON.parse(pythonJsonDumps(comfyApiGraph('a glass bottle', 'text, watermark', 42))))).toEqual({
      seed: 42,
      steps: 20,
      cfg: 8,
      sampler: 'euler',
      scheduler: 'normal',
      prompt: 'a glass bottle',
      negativePrompt: 'text, watermark',
      model: 'v1-5-pruned-emaonly.safetensors',
      width: 512,
      height: 512,
    });
  });

  it('follows links through primitives, LoRA loaders and conditioning combiners, prefers the full-denoise pass', () => {
    const graph = {
      '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sdxl.safetensors' } },
      '2': { class_type: 'LoraLoader', inputs: { model: ['1', 0], clip: ['1', 1], lora_name: 'x.safetensors' } },
      '3': { class_type: 'PrimitiveNode', inputs: { value: 777 } },
      '4': { class_type: 'String Literal', inputs: { string: 'a neon alley' } },
      '5': { class_type: 'CLIPTextEncode', inputs: { text: ['4', 0], clip: ['2', 1] } },
      '6': { class_type: 'ConditioningCombine', inputs: { conditioning_1: ['5', 0], conditioning_2: ['5', 0] } },
      '7': { class_type: 'CLIPTextEncode', inputs: { text: 'rain', clip: ['2', 1] } },
      '10': { class_type: 'KSampler', inputs: { seed: 1, steps: 8, cfg: 4, sampler_name: 'dpmpp_2m', scheduler: 'karras', denoise: 0.4, model: ['2', 0], positive: ['7', 0], negative: ['7', 0] } },
      '9': { class_type: 'KSampler', inputs: { seed: ['3', 0], steps: 30, cfg: 6, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['2', 0], positive: ['6', 0], negative: ['7', 0] } },
    };
    expect(fromComfyPrompt(graph)).toMatchObject({ seed: 777, steps: 30, prompt: 'a neon alley', negativePrompt: 'rain', model: 'sdxl.safetensors' });
  });

  it('ends on cycles and garbage without throwing', () => {
    const cyclic = {
      '1': { class_type: 'KSampler', inputs: { seed: ['2', 0], positive: ['3', 0], model: ['4', 0] } },
      '2': { class_type: 'Primitive', inputs: { value: ['2', 0] } },
      '3': { class_type: 'ConditioningCombine', inputs: { conditioning_1: ['3', 0] } },
      '4': { class_type: 'LoraLoader', inputs: { model: ['4', 0] } },
    };
    expect(() => fromComfyPrompt(cyclic)).not.toThrow();
    for (const junk of [null, 1, 'x', [], { a: 1 }, { '1': { class_type: 5 } }, { '1': { class_type: 'KSampler', inputs: [] } }]) {
      expect(() => fromComfyPrompt(junk)).not.toThrow();
      expect(() => fromComfyWorkflow(junk)).not.toThrow();
      expect(() => fromInvokeAi(junk)).not.toThrow();
    }
  });

  it('reads the editor workflow when there is no API graph', () => {
    expect(fromComfyWorkflow(JSON.parse(pythonJsonDumps(comfyWorkflow('a red barn', 'people', 9))))).toEqual({
      seed: 9,
      steps: 20,
      cfg: 8,
      sampler: 'euler',
      scheduler: 'normal',
      prompt: 'a red barn',
      negativePrompt: 'people',
      model: 'v1-5-pruned-emaonly.safetensors',
      width: 512,
      height: 512,
    });
  });
});

describe('readMediaFacts', () => {
  it('reads A1111 PNG parameters and keeps the raw chunk', async () => {
    const f = await facts('a.png', pilPng({ width: 64, height: 48, text: [['parameters', A1111_INFOTEXT]] }));
    expect(f).toMatchObject({ format: 'png', kind: 'image', width: 64, height: 48, source: 'a1111' });
    expect(f.fields).toEqual({
      prompt: 'masterpiece, a lighthouse on a cliff at dusk, (dramatic sky:1.2)',
      negativePrompt: 'blurry, lowres, watermark',
      steps: 28,
      sampler: 'DPM++ 2M Karras',
      scheduler: 'Karras',
      cfg: 6.5,
      seed: 3141592653,
      model: 'sd_xl_base_1.0',
      width: 64,
      height: 48,
    });
    expect(f.raw.parameters).toBe(A1111_INFOTEXT);
  });

  it('reads ComfyUI and InvokeAI PNGs (InvokeAI non-Latin text lands in iTXt)', async () => {
    const comfy = await facts('c.png', pilPng({ width: 8, height: 8, text: [['prompt', pythonJsonDumps(comfyApiGraph('snow \u2744', 'x'))], ['workflow', '{"nodes": []}']] }));
    expect(comfy.source).toBe('comfyui');
    expect(comfy.fields.prompt).toBe('snow \u2744');
    expect(comfy.raw.workflow).toBe('{"nodes": []}');
    const invokePng = pilPng({ width: 8, height: 8, text: [['invokeai_metadata', invokeAiMetadata('\u9326\u9bc9 pond')]] });
    expect(invokePng.includes(Buffer.from('iTXtinvokeai_metadata'))).toBe(true);
    const invoke = await facts('i.png', invokePng);
    expect(invoke.source).toBe('invokeai');
    expect(invoke.fields).toMatchObject({ prompt: '\u9326\u9bc9 pond', negativePrompt: 'ugly, deformed', seed: 2361668801, steps: 30, cfg: 7.5, sampler: 'dpmpp_2m_k', model: 'Juggernaut XL v9' });
  });

  it('prefers this studio’s own recipe', async () => {
    const png = encodeGeneratedPng({
      rgb: pixels(8, 8),
      width: 8,
      height: 8,
      parameters: 'ignored\nSteps: 1, Sampler: Euler, CFG scale: 1, Seed: 1',
      recipe: { app: 'OurVidz Studio', jobId: 'j1', jobType: 'sdxl_image_fast', prompt: 'ours', negativePrompt: '', seed: 5, steps: 15, guidance: 7, scheduler: 'euler', model: { id: 'sdxl-base' }, batchIndex: 2 },
    });
    const f = await facts('o.png', Buffer.from(png));
    expect(f.source).toBe('ourvidz');
    expect(f.ourRecipe).toMatchObject({ jobId: 'j1' });
    expect(f.fields).toMatchObject({ prompt: 'ours', seed: 5, steps: 15, cfg: 7, sampler: 'euler', model: 'sdxl-base', jobType: 'sdxl_image_fast', batchIndex: 2 });
  });

  it('reads A1111 parameters from JPEG and WebP EXIF', async () => {
    const jpeg = await facts('p.jpg', await a1111Jpeg('a fox\nNegative prompt: cat\nSteps: 9, Sampler: Euler a, CFG scale: 3, Seed: 8, Size: 40x30, Model: m1'));
    expect(jpeg).toMatchObject({ format: 'jpeg', mime: 'image/jpeg', width: 40, height: 30, source: 'a1111' });
    expect(jpeg.fields).toMatchObject({ prompt: 'a fox', negativePrompt: 'cat', steps: 9, sampler: 'Euler a', seed: 8, model: 'm1' });
    const webp = await facts('p.webp', await a1111Webp('a wolf\nSteps: 2, Sampler: Euler, CFG scale: 3, Seed: 4, Size: 40x30'));
    expect(webp).toMatchObject({ format: 'webp', width: 40, height: 30, source: 'a1111' });
    expect(webp.fields.prompt).toBe('a wolf');
    // Sharp itself must agree the WebP is sound.
    expect((await sharp(join(dir, 'p.webp')).metadata()).width).toBe(40);
  });

  it('reads an MP4 through ffprobe, with a ComfyUI graph in its comment tag', async () => {
    const path = join(dir, 'v.mp4');
    mp4(path, { seconds: 2, fps: 8, comment: pythonJsonDumps({ prompt: pythonJsonDumps(comfyApiGraph('clouds', 'static', 4242)) }) });
    const { size } = statSync(path);
    const f = await readMediaFacts(path, { name: 'v.mp4', size });
    expect(f).toMatchObject({ format: 'mp4', kind: 'video', mime: 'video/mp4', width: 64, height: 48, durationMs: 2000, fps: 8, frameCount: 16, source: 'comfyui' });
    expect(f.fields).toMatchObject({ prompt: 'clouds', seed: 4242 });
  });

  it('parses real ffprobe JSON', () => {
    const path = join(dir, 'probe.mp4');
    mp4(path, { seconds: 1, fps: 16, size: '48x32' });
    const json = execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path]).toString();
    expect(parseProbeJson(json)).toMatchObject({ width: 48, height: 32, fps: 16, frameCount: 16, durationMs: 1000, codec: 'h264' });
    expect(() => parseProbeJson('{"streams": [{"codec_type": "audio"}]}')).toThrow(/no video stream/);
  });

  it('knows formats by their bytes, not their names', () => {
    expect(sniffFormat(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe('png');
    expect(sniffFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(sniffFormat(Buffer.from('RIFF\0\0\0\0WEBPVP8L', 'latin1'))).toBe('webp');
    expect(sniffFormat(Buffer.from('\0\0\0\x18ftypisom', 'latin1'))).toBe('mp4');
    expect(sniffFormat(Buffer.from('GIF89a'))).toBeNull();
    expect(sniffFormat(Buffer.alloc(0))).toBeNull();
  });
});
