/**
 * Other tools' files, written as each tool writes them (tests/fixtures/library/tool-formats.ts),
 * read by readMediaFacts: every recognised field against what the tool's own format says, and the
 * rule that picks one record when a file carries several.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readExifText } from '../../../src-main/engine/library/metadata/exif.ts';
import {
  fromComfyWorkflow,
  fromDiffusersJson,
  fromFooocus,
  fromInvokeAi,
  fromInvokeAiDream,
  fromInvokeAiSdMetadata,
  fromNovelAi,
  fromRuinedFooocus,
  fromSwarmUi,
} from '../../../src-main/engine/library/metadata/generators.ts';
import { chooseGeneration } from '../../../src-main/engine/library/metadata/precedence.ts';
import { readMediaFacts } from '../../../src-main/engine/library/metadata/read-media.ts';
import type { MediaFacts } from '../../../src-main/engine/library/metadata/read-media.ts';
import { encodeTextChunk, readPngMetadata } from '../../../src-main/engine/media/png-chunks.ts';
import { pilPng, pngChunk } from '../../fixtures/library/formats.ts';
import {
  comfyAnimatedWebp,
  comfyFluxPng,
  comfyFluxWorkflowOnlyPng,
  comfyWithPlaceholderPng,
  fluxGraph,
  fooocusJpeg,
  fooocusPng,
  fooocusWebp,
  invokeAi2DreamOnlyPng,
  invokeAi2Png,
  jsonParametersPng,
  jsonParametersWithComfyPng,
  novelAiPng,
  pillowExif,
  ruinedFooocusPng,
  stabilityMatrixPng,
  studioMp4,
  swarmUiPng,
} from '../../fixtures/library/tool-formats.ts';
import type { ExpectedFields, ToolFile } from '../../fixtures/library/tool-formats.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tool-meta-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function read(file: ToolFile): Promise<MediaFacts> {
  const path = join(dir, file.name);
  writeFileSync(path, file.bytes);
  return readMediaFacts(path, { name: file.name, size: file.bytes.length });
}

/** The facts as the asset's columns hold them. */
function columns(f: MediaFacts): ExpectedFields {
  return {
    prompt: f.fields.prompt ?? null,
    negativePrompt: f.fields.negativePrompt ?? null,
    seed: f.fields.seed ?? null,
    steps: f.fields.steps ?? null,
    guidance: f.fields.cfg ?? null,
    scheduler: f.fields.sampler ?? null,
    model: f.fields.model ?? null,
  };
}

async function expectRead(file: ToolFile): Promise<MediaFacts> {
  const f = await read(file);
  expect({ source: f.source, ...columns(f) }).toEqual({ source: file.tool, ...file.expected });
  return f;
}

describe('ComfyUI', () => {
  it('walks SamplerCustomAdvanced: seed from RandomNoise, steps and schedule from BasicScheduler, sampler from KSamplerSelect, model from UNETLoader, guidance from FluxGuidance', async () => {
    const f = await expectRead(comfyFluxPng());
    expect(f.fields).toMatchObject({ sampler: 'euler simple', scheduler: 'simple', guidance: 3.5, width: 1024, height: 1024 });
  });

  it('reads the same from the editor workflow alone', async () => {
    await expectRead(comfyFluxWorkflowOnlyPng());
  });

  it('reads the animated WebP of SaveAnimatedWEBP (graph in EXIF Model `prompt:` and Make `workflow:`), CFGGuider with its negative', async () => {
    const file = await comfyAnimatedWebp();
    const f = await expectRead(file);
    expect(f).toMatchObject({ format: 'webp', width: 24, height: 16 });
    expect(f.fields).toMatchObject({ width: 832, height: 480 });
    expect(String(f.raw.exifModel)).toMatch(/^prompt:\{/);
    expect(String(f.raw.exifMake)).toMatch(/^workflow:\{/);
  });

  it('keeps the schedule with the sampler for the classic KSampler too (euler normal)', async () => {
    const f = await read({ name: 'ks.png', bytes: pilPng({ width: 8, height: 8, text: [['prompt', '{"3": {"inputs": {"seed": 5, "steps": 12, "cfg": 7.0, "sampler_name": "dpmpp_2m", "scheduler": "karras", "denoise": 1.0}, "class_type": "KSampler"}}']] }), tool: '', expected: {} as ExpectedFields });
    expect(f.fields).toMatchObject({ seed: 5, steps: 12, cfg: 7, sampler: 'dpmpp_2m karras', scheduler: 'karras' });
  });
});

describe('tools that sign their records', () => {
  it('SwarmUI: sui_image_params in the parameters chunk, numbers written as text', async () => {
    await expectRead(swarmUiPng());
  });

  it('SwarmUI beside a ComfyUI graph: its own record wins, the graph is kept verbatim', async () => {
    const f = await expectRead(swarmUiPng({ withComfyGraph: true }));
    expect(JSON.parse(String(f.raw.prompt))['13'].class_type).toBe('SamplerCustomAdvanced');
  });

  it('InvokeAI 2.x: sd-metadata, with the [bracketed] negative prompt split out', async () => {
    const f = await expectRead(invokeAi2Png());
    expect(f.raw.Dream).toMatch(/^"professional photo/);
    expect(f.fields).toMatchObject({ width: 512, height: 768 });
  });

  it('InvokeAI 2.0/2.1: the Dream command line alone', async () => {
    await expectRead(invokeAi2DreamOnlyPng());
  });

  it('NovelAI: Comment JSON, Description, Source', async () => {
    const f = await expectRead(novelAiPng());
    expect(f.fields).toMatchObject({ width: 832, height: 1216 });
  });

  it('Fooocus: the fooocus scheme JSON in a PNG, and in JPEG and WebP EXIF IFD0', async () => {
    const png = await expectRead(fooocusPng());
    expect(png.fields).toMatchObject({ width: 1152, height: 896 });
    const jpeg = await expectRead(await fooocusJpeg());
    expect(jpeg.raw).toMatchObject({ exifSoftware: 'Fooocus v2.5.5', exifMakerNote: 'fooocus' });
    await expectRead(await fooocusWebp());
  });

  it('RuinedFooocus: its flat JSON in the parameters chunk', async () => {
    await expectRead(ruinedFooocusPng());
  });
});

describe('unsigned texts', () => {
  it('reads a UTF-8 parameters tEXt (Stability Matrix) as UTF-8', async () => {
    const f = await expectRead(stabilityMatrixPng());
    expect(f.raw.parameters).toMatch(/^ein Schloss am Meer, Möwen, 夕焼け, café crème\n/);
  });

  it('a ComfyUI graph wins over a placeholder A1111 text in the same file', async () => {
    const f = await expectRead(comfyWithPlaceholderPng());
    expect(f.raw.parameters).toMatch(/^prompt unknown/);
  });

  it('JSON in parameters is never A1111 text: beside a graph the graph is read; alone, its diffusers names are', async () => {
    await expectRead(jsonParametersWithComfyPng());
    await expectRead(jsonParametersPng());
  });
});

describe("this studio's own MP4", () => {
  it('is read from the recipe in its comment tag, not as InvokeAI, with the prompt', async () => {
    const { file, recipe, expected } = await studioMp4(dir);
    const f = await readMediaFacts(file, { name: 'job-fox-1-0.mp4', size: statSync(file).size });
    expect(f.source).toBe('ourvidz');
    expect(f.ourRecipe).toEqual(recipe);
    expect(columns(f)).toEqual(expected);
    expect(f.fields).toMatchObject({ jobType: 'video_fast', jobId: 'job-fox-1', width: 48, height: 32 });
  });

  it('the InvokeAI reader wants InvokeAI’s own keys, not any record with a seed, steps and a scheduler', () => {
    expect(fromInvokeAi({ app: 'OurVidz Studio', prompt: 'p', seed: 1, steps: 4, scheduler: 'unipc', guidance: 5 })).toBeNull();
    expect(fromInvokeAi({ positive_prompt: 'p', seed: 1, steps: 4, scheduler: 'euler' })).toMatchObject({ prompt: 'p', sampler: 'euler' });
  });
});

describe('PNG text in UTF-8 where the spec says Latin-1', () => {
  const chunkText = (chunk: Buffer): string => readPngMetadata(pilPng({ width: 1, height: 1, chunks: [chunk] })).text[0]!.text;

  it('reads tEXt and zTXt bytes that are valid UTF-8 as UTF-8, and Latin-1 bytes as Latin-1', () => {
    expect(chunkText(pngChunk('tEXt', Buffer.concat([Buffer.from('parameters\0'), Buffer.from('Möwen 夕焼け', 'utf8')])))).toBe('Möwen 夕焼け');
    expect(chunkText(pngChunk('tEXt', Buffer.concat([Buffer.from('parameters\0'), Buffer.from('café crème', 'latin1')])))).toBe('café crème');
    expect(chunkText(pngChunk('tEXt', Buffer.from('parameters\0plain ascii')))).toBe('plain ascii');
  });

  it('writes Latin-1 text that would read as UTF-8 in iTXt, so it comes back as written', () => {
    // Latin-1 bytes 6E 61 C3 AF 76 65: also valid UTF-8 (naïve).
    const text = 'naÃ¯ve';
    const chunk = Buffer.from(encodeTextChunk({ keyword: 'parameters', text }));
    expect(chunk.toString('latin1', 4, 8)).toBe('iTXt');
    expect(chunkText(chunk)).toBe(text);
    expect(Buffer.from(encodeTextChunk({ keyword: 'parameters', text: 'café' })).toString('latin1', 4, 8)).toBe('tEXt');
  });
});

describe('EXIF tags tools use', () => {
  it('reads IFD0 Make, Model, Software, MakerNote and UserComment as Pillow writes them, in either byte order', () => {
    for (const order of ['MM', 'II'] as const) {
      const exif = pillowExif([[0x010f, 'workflow:{}'], [0x0110, 'prompt:{}'], [0x0131, 'Fooocus v2.5.5'], [0x927c, 'fooocus'], [0x9286, '{"prompt": "x"}']], order);
      expect(readExifText(exif)).toEqual({ make: 'workflow:{}', model: 'prompt:{}', software: 'Fooocus v2.5.5', makerNote: 'fooocus', userComment: '{"prompt": "x"}' });
    }
  });
});

describe('precedence', () => {
  const flux = (seed: number): unknown =>
    Object.fromEntries(
      fluxGraph('graph prompt', seed).map((n) => [
        String(n.id),
        { class_type: n.type, inputs: Object.fromEntries(Object.entries(n.inputs).map(([k, v]) => [k, typeof v === 'object' && v !== null && 'from' in v ? [String((v as { from: number }).from), 0] : v])) },
      ]),
    );
  const a1111 = { text: 'a1111 prompt\nSteps: 9, Sampler: Euler, CFG scale: 3, Seed: 7', strict: false };

  it('orders: our recipe, then signed records, then the graph, then A1111 text, then unsigned JSON', () => {
    const ours = { app: 'OurVidz Studio', prompt: 'ours', seed: 1 };
    const swarm = { text: JSON.stringify({ sui_image_params: { prompt: 'swarm', seed: 2 } }), strict: false };
    const json = { text: JSON.stringify({ prompt: 'json', seed: 3 }), strict: false };
    const all = { ourRecipe: ours, comfyPrompt: flux(4), texts: [swarm, a1111, json] };
    const parse = JSON.parse as (t: string) => unknown;
    expect(chooseGeneration(all, parse)).toMatchObject({ source: 'ourvidz', fields: { prompt: 'ours' } });
    expect(chooseGeneration({ ...all, ourRecipe: undefined }, parse)).toMatchObject({ source: 'swarmui', fields: { prompt: 'swarm' } });
    expect(chooseGeneration({ comfyPrompt: flux(4), texts: [a1111, json] }, parse)).toMatchObject({ source: 'comfyui', fields: { seed: 4 } });
    expect(chooseGeneration({ texts: [json, a1111] }, parse)).toMatchObject({ source: 'a1111', fields: { prompt: 'a1111 prompt' } });
    expect(chooseGeneration({ texts: [json] }, parse)).toMatchObject({ source: 'json', fields: { prompt: 'json' } });
  });

  it('lets the next record speak when one says neither prompt nor seed', () => {
    const graphWithoutSampler = { '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'm.safetensors' } } };
    const parse = JSON.parse as (t: string) => unknown;
    expect(chooseGeneration({ comfyPrompt: graphWithoutSampler, texts: [a1111] }, parse)).toMatchObject({ source: 'a1111', fields: { seed: 7 } });
    expect(chooseGeneration({ comfyPrompt: graphWithoutSampler, texts: [] }, parse)).toEqual({ source: 'comfyui', fields: { model: 'm.safetensors' } });
  });
});

describe('hostile records', () => {
  it('end without throwing: garbage in every reader, Reroute loops in an editor graph', () => {
    const junk: unknown[] = [null, 1, 'x', [], {}, { sui_image_params: [] }, { image: { prompt: [null, 5] } }, { software: 'RuinedFooocus', seed: {} }, { prompt: 5 }];
    for (const j of junk) {
      expect(() => fromInvokeAiSdMetadata(j)).not.toThrow();
      if (typeof j === 'object' && j !== null && !Array.isArray(j)) {
        const r = j as Record<string, unknown>;
        expect(() => [fromSwarmUi(r), fromFooocus(r, 'fooocus'), fromRuinedFooocus(r), fromDiffusersJson(r)]).not.toThrow();
      }
    }
    for (const dream of ['', '"', '"unterminated -s 5', '-s', 'p -S -S -S', '"a" -s 1e999 -S 99999999999999999999']) expect(() => fromInvokeAiDream(dream)).not.toThrow();
    expect(fromNovelAi({ software: 'NovelAI', comment: '{not json' })).toBeNull();
    const loop = {
      nodes: [
        { id: 1, type: 'Reroute', inputs: [{ name: '', link: 2 }] },
        { id: 2, type: 'Reroute', inputs: [{ name: '', link: 1 }] },
        { id: 3, type: 'KSampler', inputs: [{ name: 'positive', link: 1 }, { name: 'model', link: 3 }], widgets_values: [1, 'fixed', 2, 3, 'euler', 'normal', 1] },
      ],
      links: [
        [1, 2, 0, 1, 0, 'CONDITIONING'],
        [2, 1, 0, 2, 0, 'CONDITIONING'],
        [3, 3, 0, 3, 0, 'MODEL'],
      ],
    };
    expect(fromComfyWorkflow(loop)).toEqual({ seed: 1, steps: 2, cfg: 3, sampler: 'euler', scheduler: 'normal' });
  });
});
