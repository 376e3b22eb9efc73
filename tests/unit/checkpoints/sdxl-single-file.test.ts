/**
 * The A1111 / ComfyUI / Civitai single-file SDXL layout ↔ canonical names, checked against
 * diffusers itself (tests/fixtures/reference/sdxl/single-file.md): our writer lays weights out
 * exactly as diffusers' conversion script does (tiny and full size), and a checkpoint read through
 * `splitSdxlSingleFile` gives, tensor for tensor, the bytes diffusers' single-file loader makes of it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdxlCanonicalToSingleFile, splitSdxlSingleFile } from '../../../src-main/engine/checkpoints/layouts/sdxl-single-file.ts';
import type { SdxlSingleFileParts } from '../../../src-main/engine/checkpoints/layouts/sdxl-single-file.ts';
import { sdxlSingleFileTable, structureFromSingleFile } from '../../../src-main/engine/checkpoints/layouts/sdxl-single-file-table.ts';
import { DTYPE_BYTES } from '../../../src-main/engine/weights/dtypes.ts';
import type { WeightDtype } from '../../../src-main/engine/weights/dtypes.ts';
import { WeightFileError } from '../../../src-main/engine/weights/errors.ts';
import { readSafetensorsHeader } from '../../../src-main/engine/weights/safetensors.ts';
import type { SafetensorsEntry, SafetensorsHeader } from '../../../src-main/engine/weights/safetensors.ts';
import type { TensorToWrite } from '../../../src-main/engine/weights/safetensors-write.ts';
import { canonicalShape } from '../../../src-main/engine/weights/tensor-ref.ts';
import type { TensorRef, WeightSet } from '../../../src-main/engine/weights/tensor-ref.ts';
import { EXTRA_KEYS, SINGLE_FILE_CASES, writeTinySdxlSingleFile } from '../../fixtures/checkpoints/sdxl-single-file.ts';
import { sdxlStateDicts, tinySdxlTensors } from '../../fixtures/checkpoints/sdxl-tiny.ts';
import type { SdxlComponent } from '../../fixtures/checkpoints/sdxl-tiny.ts';

type Shapes = Record<string, number[]>;
interface LoaderTensor {
  shape: number[];
  dtype: string;
  sha256: string;
}
const reference = (file: string): unknown => JSON.parse(readFileSync(new URL(`../../fixtures/reference/sdxl/${file}`, import.meta.url), 'utf8'));
const scriptNames = reference('single-file-names.json') as { tiny: Shapes; full: Shapes };
const loader = reference('single-file-loader.json') as {
  cases: Record<string, { checkpoint_sha256: string; parts: Partial<Record<SdxlComponent, Record<string, LoaderTensor>>> }>;
};

const PARTS = { unet: 'unet', text_encoder: 'textEncoder', text_encoder_2: 'textEncoder2', vae: 'vae' } as const;
const TORCH_DTYPE: Record<string, WeightDtype> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', int64: 'I64' };

function partOf(parts: SdxlSingleFileParts, component: SdxlComponent): WeightSet | null {
  return parts[PARTS[component]];
}

/** Canonical tensors of one size with data that must never be read (names and shapes only). */
function unreadTensors(shapes: Shapes): TensorToWrite[] {
  return Object.entries(shapes).map(([name, shape]) => ({
    name,
    dtype: 'F16',
    shape,
    data: () => {
      throw new Error(`${name}: data read where only the layout was asked for`);
    },
  }));
}

/** A header for these names and shapes, tensors packed one after another (split reads no bytes). */
function headerOf(shapes: Shapes, dtype: WeightDtype = 'F16'): SafetensorsHeader {
  const tensors = new Map<string, SafetensorsEntry>();
  let offset = 1024;
  for (const [name, shape] of Object.entries(shapes)) {
    const length = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    tensors.set(name, { name, dtype, shape, offset, length });
    offset += length;
  }
  return { path: '/models/merged_v3.safetensors', realPath: '/models/merged_v3.safetensors', size: offset, mtimeMs: 0, dataStart: 1024, tensors, metadata: {} };
}

function shapesOf(set: WeightSet): Shapes {
  return Object.fromEntries([...set.refs()].map(([name, ref]) => [name, canonicalShape(ref)]));
}

function sorted(shapes: Shapes): Shapes {
  return Object.fromEntries(Object.entries(shapes).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The canonical tensor's bytes: the referenced range, transposed when the reference says so. */
async function canonicalBytes(ref: TensorRef): Promise<Buffer> {
  const handle = await open(ref.file, 'r');
  try {
    const stored = Buffer.alloc(ref.length);
    await handle.read(stored, 0, ref.length, ref.offset);
    if (!ref.transposed) return stored;
    const [rows, cols] = ref.shape as [number, number];
    const width = DTYPE_BYTES[ref.dtype];
    const out = Buffer.alloc(stored.length);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) stored.copy(out, (c * rows + r) * width, (r * cols + c) * width, (r * cols + c + 1) * width);
    return out;
  } finally {
    await handle.close();
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function refusal(header: SafetensorsHeader): WeightFileError {
  try {
    splitSdxlSingleFile(header);
  } catch (e) {
    if (e instanceof WeightFileError) return e;
    throw e;
  }
  throw new Error('the file was accepted');
}

let dir: string;
const casePath = (name: string): string => join(dir, `${name}.safetensors`);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdxl-single-file-'));
  for (const [name, options] of Object.entries(SINGLE_FILE_CASES)) await writeTinySdxlSingleFile(casePath(name), options);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the single-file layout, against diffusers', () => {
  it.each(['tiny', 'full'] as const)('writes exactly the keys and shapes diffusers’ conversion script writes (%s)', (size) => {
    const canonical = sdxlStateDicts()[size];
    const written = sdxlCanonicalToSingleFile({
      unet: unreadTensors(canonical.unet),
      textEncoder: unreadTensors(canonical.text_encoder),
      textEncoder2: unreadTensors(canonical.text_encoder_2),
      vae: unreadTensors(canonical.vae),
    });
    expect(written).toHaveLength(Object.keys(scriptNames[size]).length);
    expect(sorted(Object.fromEntries(written.map((t) => [t.name, [...t.shape]])))).toEqual(sorted(scriptNames[size]));
  });

  it.each(['tiny', 'full'] as const)('reads such a file back to every canonical weight diffusers and transformers define (%s)', (size) => {
    const parts = splitSdxlSingleFile(headerOf(scriptNames[size]));
    for (const component of ['unet', 'text_encoder', 'text_encoder_2', 'vae'] as const) {
      expect(sorted(shapesOf(partOf(parts, component)!)), component).toEqual(sorted(sdxlStateDicts()[size][component]));
    }
    expect(parts.ignored).toEqual([]);
    expect(parts.markers).toEqual({ vPred: false, ztsnr: false });
  });

  it.each(Object.keys(loader.cases))('gives the bytes diffusers’ single-file loader makes of each tensor (%s)', async (name) => {
    const expected = loader.cases[name]!;
    const path = casePath(name);
    // The reference was computed from this very file: a change in the random weights or the writer shows here.
    expect(await sha256File(path), 'regenerate the reference (single-file.md)').toBe(expected.checkpoint_sha256);

    const parts = splitSdxlSingleFile(await readSafetensorsHeader(path));
    expect(parts.vae === null).toBe(expected.parts.vae === undefined);
    for (const [component, tensors] of Object.entries(expected.parts) as [SdxlComponent, Record<string, LoaderTensor>][]) {
      const set = partOf(parts, component)!;
      // diffusers passes CLIP's position_ids buffer on; transformers 5 has no such parameter, so we list it as ignored.
      const diffusersOnly = Object.keys(tensors).filter((n) => !set.has(n));
      expect(diffusersOnly, component).toEqual(component === 'text_encoder' && name.includes('extras') ? ['text_model.embeddings.position_ids'] : []);
      expect(set.size, component).toBe(Object.keys(tensors).length - diffusersOnly.length);
      for (const [tensor, ref] of set.refs()) {
        const want = tensors[tensor];
        expect(want, `${component} ${tensor}`).toBeDefined();
        const got = { shape: canonicalShape(ref), dtype: ref.dtype, sha256: createHash('sha256').update(await canonicalBytes(ref)).digest('hex') };
        expect(got, `${component} ${tensor}`).toEqual({ shape: want!.shape, dtype: TORCH_DTYPE[want!.dtype], sha256: want!.sha256 });
      }
    }
  });
});

describe('splitSdxlSingleFile', () => {
  it('reads markers and lists the extra keys of real files as ignored', async () => {
    const parts = splitSdxlSingleFile(await readSafetensorsHeader(casePath('f32-vae-extras')));
    expect(parts.markers).toEqual({ vPred: true, ztsnr: true });
    expect(parts.ignored).toEqual([...EXTRA_KEYS]);
    expect(parts.vae?.size).toBe(Object.keys(sdxlStateDicts().tiny.vae).length);
  });

  it('gives back, byte for byte, the fp16 weights a file was written from; no VAE when the file has none', async () => {
    const path = join(dir, 'f16-novae.safetensors');
    await writeTinySdxlSingleFile(path, { dtype: 'F16', withVae: false, vPred: true });
    const parts = splitSdxlSingleFile(await readSafetensorsHeader(path));
    expect(parts.vae).toBeNull();
    expect(parts.markers).toEqual({ vPred: true, ztsnr: false });
    expect(parts.ignored).toEqual([]);
    for (const component of ['unet', 'text_encoder', 'text_encoder_2'] as const) {
      const set = partOf(parts, component)!;
      expect(set.mainDtype()).toBe('F16');
      const written = tinySdxlTensors(component, 'F16');
      expect(set.size).toBe(written.length);
      for (const t of written) {
        const bytes = await canonicalBytes(set.require(t.name, t.shape));
        expect(bytes.equals(t.data as Uint8Array), `${component} ${t.name}`).toBe(true);
      }
    }
  });

  it('views open_clip and LDM tensors without copying: q/k/v rows, a transposed projection, 1×1 convolutions', () => {
    const parts = splitSdxlSingleFile(headerOf(scriptNames.full));
    const inProj = 'merged_v3.safetensors: conditioner.embedders.1.model.transformer.resblocks.7.attn.in_proj_weight';
    const q = parts.textEncoder2.require('text_model.encoder.layers.7.self_attn.q_proj.weight', [1280, 1280]);
    const v = parts.textEncoder2.require('text_model.encoder.layers.7.self_attn.v_proj.weight', [1280, 1280]);
    expect(v.offset - q.offset).toBe(2 * 1280 * 1280 * 2);
    expect([q.origin, v.origin]).toEqual([`${inProj} (q rows)`, `${inProj} (v rows)`]);
    expect(parts.textEncoder2.require('text_projection.weight').transposed).toBe(true);
    const toQ = parts.vae!.require('decoder.mid_block.attentions.0.to_q.weight', [512, 512]);
    expect(toQ.shape).toEqual([512, 512]);
    expect(toQ.origin).toBe('merged_v3.safetensors: first_stage_model.decoder.mid.attn_1.q.weight');
  });

  it('reads text_projection.weight (diffusers’ script before 2024) as a Linear weight, untransposed', () => {
    const names = { ...scriptNames.full };
    const projection = names['conditioner.embedders.1.model.text_projection']!;
    delete names['conditioner.embedders.1.model.text_projection'];
    names['conditioner.embedders.1.model.text_projection.weight'] = projection;
    const parts = splitSdxlSingleFile(headerOf(names));
    const ref = parts.textEncoder2.require('text_projection.weight', [1280, 1280]);
    expect(ref.transposed).toBeFalsy();
    expect(ref.origin).toMatch(/text_projection\.weight$/);
    expect(parts.ignored).toEqual([]);
  });

  it('loads a file with stray keys and lists them', () => {
    const strays = { 'model.diffusion_model.stray_buffer': [4], 'first_stage_model.decoder.stray': [1], 'merge_recipe.alpha': [] };
    const parts = splitSdxlSingleFile(headerOf({ ...scriptNames.tiny, ...strays }));
    expect(parts.ignored).toEqual(Object.keys(strays));
    expect(parts.unet.size).toBe(Object.keys(sdxlStateDicts().tiny.unet).length);
  });

  const only = (prefixes: string[]): Shapes => Object.fromEntries(Object.entries(scriptNames.tiny).filter(([k]) => prefixes.some((p) => k.startsWith(p))));
  const UNET = 'model.diffusion_model.';
  const CLIP_L = 'conditioner.embedders.0.transformer.';
  const CLIP_G = 'conditioner.embedders.1.model.';
  const VAE = 'first_stage_model.';

  it.each([
    ['a UNet alone', [UNET], 'incomplete', /^merged_v3\.safetensors holds only a UNet \(no text encoders\) — .*download the full checkpoint/],
    ['a UNet and a VAE', [UNET, VAE], 'incomplete', /holds only a UNet and a VAE \(no text encoders\)/],
    ['no OpenCLIP encoder', [UNET, CLIP_L, VAE], 'incomplete', /has the CLIP ViT-L text encoder but not the OpenCLIP ViT-bigG text encoder \(conditioner\.embedders\.1\.model\.\*\)/],
    ['no CLIP-L encoder', [UNET, CLIP_G], 'incomplete', /has the OpenCLIP ViT-bigG text encoder but not the CLIP ViT-L text encoder/],
    ['a VAE alone', [VAE], 'wrong_kind', /has no SDXL UNet \(no model\.diffusion_model\.\* weights\): it holds only a VAE/],
  ])('refuses %s with one sentence', (_what, prefixes, code, sentence) => {
    const e = refusal(headerOf(only(prefixes)));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(sentence);
  });

  it('refuses the SDXL refiner and SD 1.x checkpoints', () => {
    const refiner = Object.fromEntries(Object.entries(scriptNames.tiny).map(([k, v]) => [k.replace(CLIP_G, 'conditioner.embedders.0.model.'), v]).filter(([k]) => !(k as string).startsWith(CLIP_L)));
    expect(refusal(headerOf(refiner)).message).toMatch(/is the SDXL refiner/);
    expect(refusal(headerOf({ ...only([UNET]), 'cond_stage_model.transformer.text_model.final_layer_norm.weight': [768] })).message).toMatch(/Stable Diffusion 1\.x\/2\.x checkpoint, not SDXL/);
  });

  it('names a missing weight of an otherwise whole file', () => {
    const names = { ...scriptNames.tiny };
    delete names['model.diffusion_model.output_blocks.4.1.transformer_blocks.0.attn2.to_k.weight'];
    const e = refusal(headerOf(names));
    expect(e.code).toBe('incomplete');
    expect(e.message).toBe(
      'merged_v3.safetensors: its UNet lacks 1 weight (model.diffusion_model.output_blocks.4.1.transformer_blocks.0.attn2.to_k.weight) — the file is incomplete or damaged; download it again',
    );
  });
});

describe('the table', () => {
  it('has entries for the parts that are there only (a VAE file read through it)', () => {
    const vae = Object.keys(scriptNames.tiny).filter((k) => k.startsWith('first_stage_model.')).map((k) => k.slice('first_stage_model.'.length));
    const table = sdxlSingleFileTable(structureFromSingleFile({ unet: [], textEncoder: [], textEncoder2: [], vae }, 'sdxl_vae.safetensors'));
    expect(new Set(table.map((e) => e.part))).toEqual(new Set(['vae']));
    const required = table.filter((e) => !e.optional).map((e) => e.canonical);
    const canonical = Object.keys(sdxlStateDicts().tiny.vae);
    expect(required.every((n) => canonical.includes(n))).toBe(true);
    expect(canonical.every((n) => table.some((e) => e.canonical === n))).toBe(true);
  });
});

describe('sdxlCanonicalToSingleFile', () => {
  it('refuses a canonical weight the layout has no place for', () => {
    const tiny = sdxlStateDicts().tiny;
    expect(() =>
      sdxlCanonicalToSingleFile({
        unet: unreadTensors({ ...tiny.unet, 'down_blocks.0.extra.weight': [1] }),
        textEncoder: unreadTensors(tiny.text_encoder),
        textEncoder2: unreadTensors(tiny.text_encoder_2),
      }),
    ).toThrow(/no place in the SDXL single-file layout for 1 weight\(s\): UNet: down_blocks\.0\.extra\.weight/);
  });
});
