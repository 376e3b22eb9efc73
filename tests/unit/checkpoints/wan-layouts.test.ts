/**
 * WAN 2.1's published namings ↔ the canonical (diffusers / transformers) names, one table per
 * layout, checked against the reference (tests/fixtures/reference/wan/layouts.md):
 *
 * - names: at the tiny, 1.3B and 14B sizes each table gives exactly the names and order of the
 *   module Wan-AI builds (WanModel, WanVAE_, T5Encoder) and, where diffusers converts one naming
 *   into the other, exactly its pairing — read either way (structure counted from either naming);
 * - bytes: the tiny model written in each layout through the inverse tables is the file the
 *   reference read (sha256) — where diffusers' converter gave back the canonical tensors bit for
 *   bit, Wan-AI's VAE decoded and encoded exactly as diffusers' and Wan-AI's text encoder ran as
 *   transformers' — and reading it back through the forward tables gives every canonical weight
 *   with its name, shape, dtype and bytes, fp8 scales attached, nothing copied.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readThroughTable, writeThroughTable } from '../../../src-main/engine/checkpoints/layouts/wan-layout.ts';
import type { WanLayoutTable } from '../../../src-main/engine/checkpoints/layouts/wan-layout.ts';
import { umt5StructureFromCanonical, umt5StructureFromWan, umt5TransformersTable, umt5WanTable } from '../../../src-main/engine/checkpoints/layouts/wan-t5-table.ts';
import { wanTransformerStructureFromCanonical, wanTransformerStructureFromOriginal, wanTransformerTable } from '../../../src-main/engine/checkpoints/layouts/wan-transformer-table.ts';
import { wanVaeStructureFromCanonical, wanVaeStructureFromOriginal, wanVaeTable } from '../../../src-main/engine/checkpoints/layouts/wan-vae-table.ts';
import { readWanParts } from '../../../src-main/engine/checkpoints/wan-identify.ts';
import type { WanParts } from '../../../src-main/engine/checkpoints/wan-identify.ts';
import { loadUmt5Tokenizer, Umt5UnigramTokenizer } from '../../../src-main/engine/tokenizers/umt5-tokenizer.ts';
import { readRange } from '../../../src-main/engine/weights/safetensors.ts';
import type { TensorToWrite } from '../../../src-main/engine/weights/safetensors-write.ts';
import type { TensorRef, WeightSet } from '../../../src-main/engine/weights/tensor-ref.ts';
import { TINY_SPIECE_MODEL, tinyCanonical, WAN_LAYOUT_SIZES, writeWanLayoutFiles } from '../../fixtures/checkpoints/wan-layouts.ts';
import type { WanLayoutPart } from '../../fixtures/checkpoints/wan-layouts.ts';

type Named = [string, number[]];
type Pair = [string, string, number[]];
interface PartNames {
  pairs?: Pair[];
  original?: Named[];
  canonical?: Named[];
}
const reference = (file: string): unknown => JSON.parse(readFileSync(new URL(`../../fixtures/reference/wan/${file}`, import.meta.url), 'utf8'));
const names = reference('layouts-names.json') as Record<string, Record<WanLayoutPart, PartNames>>;
const check = reference('layouts-check.json') as {
  sha256: Record<string, string>;
  transformer: Record<string, { tensors: number; bit_exact: boolean }>;
  vae: Record<string, { decode_max_abs_diff: number; encode_max_abs_diff: number; decode_max_abs: number }>;
  text_encoder: Record<string, { max_abs_diff?: number; max_abs?: number; bit_exact?: boolean; spiece_model_matches_tokenizer_file: boolean; spiece_model_ids?: number[]; scaled_weights?: number; max_error_relative_to_max?: number }>;
};

function tableFromOriginal(part: WanLayoutPart, original: readonly string[]): WanLayoutTable {
  if (part === 'transformer') return wanTransformerTable(wanTransformerStructureFromOriginal(original, 'reference'));
  if (part === 'vae') return wanVaeTable(wanVaeStructureFromOriginal(original, 'reference'));
  return umt5WanTable(umt5StructureFromWan(original, 'reference'));
}

function tableFromCanonical(part: WanLayoutPart, canonical: readonly string[]): WanLayoutTable {
  if (part === 'transformer') return wanTransformerTable(wanTransformerStructureFromCanonical(canonical, 'reference'));
  if (part === 'vae') return wanVaeTable(wanVaeStructureFromCanonical(canonical, 'reference'));
  return umt5WanTable(umt5StructureFromCanonical(canonical, 'reference'));
}

function originalOf(p: PartNames): Named[] {
  return p.pairs ? p.pairs.map(([o, , s]) => [o, s]) : p.original!;
}

function canonicalOf(p: PartNames): Named[] {
  return p.pairs ? p.pairs.map(([, c, s]) => [c, s]) : p.canonical!;
}

describe('the WAN layout tables against Wan-AI\'s modules and diffusers\' conversions', () => {
  for (const size of WAN_LAYOUT_SIZES) {
    for (const part of ['transformer', 'vae', 'text_encoder'] as const) {
      it(`${size} ${part}: Wan-AI's names in Wan-AI's order, onto the canonical names with the same shapes${names[size]![part].pairs ? ", paired as diffusers pairs them" : ''}, either way round`, () => {
        const entry = names[size]![part];
        const original = originalOf(entry);
        const canonical = canonicalOf(entry);
        const table = tableFromOriginal(part, original.map(([n]) => n));
        expect(table.map((e) => e.stored)).toEqual(original.map(([n]) => n));
        expect(table.map((e) => e.canonical).sort()).toEqual(canonical.map(([n]) => n).sort());
        const originalShape = new Map(original);
        const canonicalShape = new Map(canonical);
        for (const e of table) expect([e.stored, originalShape.get(e.stored)]).toEqual([e.stored, canonicalShape.get(e.canonical)]);
        if (entry.pairs) expect(table.map((e) => [e.stored, e.canonical])).toEqual(entry.pairs.map(([o, c]) => [o, c]));
        expect(tableFromCanonical(part, canonical.map(([n]) => n))).toEqual(table);
      });
    }
    it(`${size} text encoder in transformers' naming: the canonical names themselves, in transformers' order`, () => {
      const canonical = names[size]!.text_encoder.canonical!.map(([n]) => n);
      const table = umt5TransformersTable(umt5StructureFromCanonical(canonical, 'reference'));
      expect(table.map((e) => e.stored)).toEqual(canonical);
      expect(table.every((e) => e.stored === e.canonical)).toBe(true);
    });
  }

  it('read and written through one table: stored → canonical → stored is the identity, and a missing or extra tensor is named', () => {
    const canonical = names.tiny!.transformer.pairs!.map(([, c, s]): TensorToWrite => ({ name: c, dtype: 'F16', shape: s, data: new Uint8Array(0) }));
    const table = tableFromCanonical('transformer', canonical.map((t) => t.name));
    const stored = writeThroughTable(table, canonical, 'model.diffusion_model.');
    expect(stored.map((t) => t.name)).toEqual(names.tiny!.transformer.pairs!.map(([o]) => `model.diffusion_model.${o}`));
    const refs = new Map(stored.map((t, i): [string, TensorRef] => [t.name, { file: 'f', offset: i, length: 0, dtype: 'F16', shape: t.shape, origin: t.name }]));
    const reading = readThroughTable(table, refs, 'model.diffusion_model.');
    expect(reading.missing).toEqual([]);
    expect([...reading.refs.keys()]).toEqual(canonical.map((t) => t.name));
    refs.delete('model.diffusion_model.blocks.1.norm3.bias');
    expect(readThroughTable(table, refs, 'model.diffusion_model.').missing).toEqual(['model.diffusion_model.blocks.1.norm3.bias']);
    expect(() => writeThroughTable(table, [...canonical, { name: 'blocks.0.attn2.add_k_proj.weight', dtype: 'F16', shape: [1], data: new Uint8Array(2) }])).toThrow(/no place in this layout for 1 tensor\(s\): blocks\.0\.attn2\.add_k_proj\.weight/);
    expect(() => writeThroughTable(table, canonical.slice(1))).toThrow(/no tensor for patch_embedding\.weight/);
  });
});

async function bytesOf(ref: TensorRef): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of readRange(ref.file, ref.offset, ref.length)) parts.push(chunk);
  return Buffer.concat(parts, ref.length);
}

/** Every canonical tensor, by name, shape, dtype and bytes, from the references the tables made. */
async function expectCanonical(weights: WeightSet, expected: readonly TensorToWrite[]): Promise<void> {
  const own = expected.filter((t) => !t.name.endsWith('.scale_weight'));
  expect(weights.names().sort()).toEqual(own.map((t) => t.name).sort());
  for (const t of own) {
    const ref = weights.require(t.name, t.shape);
    expect([t.name, ref.dtype, ref.transposed ?? false]).toEqual([t.name, t.dtype, false]);
    expect((await bytesOf(ref)).equals(t.data as Uint8Array), t.name).toBe(true);
    const scale = t.name.endsWith('.weight') ? expected.find((s) => s.name === t.name.replace(/\.weight$/, '.scale_weight')) : undefined;
    if (scale) {
      expect(ref.scale?.origin).toMatch(/\.scale_weight$/);
      expect((await bytesOf(ref.scale!)).equals(scale.data as Uint8Array)).toBe(true);
    } else {
      expect(ref.scale).toBeUndefined();
    }
  }
}

describe('the tiny model in each published layout, read back to the canonical weights', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wan-layouts-'));
    await writeWanLayoutFiles(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes exactly the files the reference read (sha256), where diffusers and Wan-AI read them as the canonical weights', async () => {
    for (const [file, sha] of Object.entries(check.sha256)) {
      expect([file, createHash('sha256').update(await readFile(join(dir, file))).digest('hex')]).toEqual([file, sha]);
    }
    for (const [file, r] of Object.entries(check.transformer)) expect([file, r.bit_exact, r.tensors]).toEqual([file, true, 69]);
    for (const [file, r] of Object.entries(check.vae)) {
      expect([file, r.decode_max_abs_diff, r.encode_max_abs_diff]).toEqual([file, 0, 0]);
      expect(r.decode_max_abs).toBeLessThan(1); // diffusers' clamp to [-1, 1] did not act
    }
    const wanT5 = check.text_encoder['wan-ai/models_t5_umt5-xxl-enc-bf16.pth']!;
    expect(wanT5.max_abs_diff! / wanT5.max_abs!).toBeLessThan(2e-6);
    expect(check.text_encoder['comfy/text_encoders/umt5_xxl_tiny_f16.safetensors']).toMatchObject({ bit_exact: true, spiece_model_matches_tokenizer_file: true });
    const fp8 = check.text_encoder['comfy-whole/text_encoders/umt5_xxl_tiny_fp8_e4m3fn_scaled.safetensors']!;
    expect(fp8).toMatchObject({ scaled_weights: 21, spiece_model_matches_tokenizer_file: true });
    expect(fp8.max_error_relative_to_max).toBeLessThan(1 / 16); // e4m3: 3 mantissa bits
  });

  const cases: readonly { layout: string; paths: (d: string) => string | string[]; transformer: string; text: string; vae: string; tokenizer: WanParts['tokenizer']['kind'] }[] = [
    { layout: "ComfyUI's models folder (bf16 transformer, fp16 UMT5 with spiece_model, bf16 VAE)", paths: (d) => join(d, 'comfy'), transformer: 'BF16', text: 'F16', vae: 'BF16', tokenizer: 'spiece_model' },
    {
      layout: "ComfyUI's files picked one by one (whole-model fp16 transformer under model.diffusion_model., scaled fp8 UMT5)",
      paths: (d) => [join(d, 'comfy-whole/diffusion_models/wan2.1_t2v_tiny_f16_whole.safetensors'), join(d, 'comfy-whole/text_encoders/umt5_xxl_tiny_fp8_e4m3fn_scaled.safetensors'), join(d, 'comfy-whole/vae/wan_2.1_vae_tiny.safetensors')],
      transformer: 'F16',
      text: 'F8_E4M3',
      vae: 'BF16',
      tokenizer: 'spiece_model',
    },
    { layout: "Wan-AI's release (fp32 safetensors, fp32 Wan2.1_VAE.pth, bf16 models_t5_umt5-xxl-enc-bf16.pth, google/umt5-xxl/)", paths: (d) => join(d, 'wan-ai'), transformer: 'F32', text: 'BF16', vae: 'F32', tokenizer: 'tokenizer.json' },
  ];
  for (const c of cases) {
    it(`${c.layout}: every weight under its canonical name, shape, dtype and bytes`, async () => {
      const parts = await readWanParts(c.paths(dir));
      await expectCanonical(parts.transformer, tinyCanonical('transformer', c.transformer as 'F32'));
      await expectCanonical(parts.textEncoder, tinyCanonical('text_encoder', c.text as 'F32'));
      await expectCanonical(parts.vae, tinyCanonical('vae', c.vae as 'F32'));
      expect(parts.tokenizer.kind).toBe(c.tokenizer);
      for (const p of [parts.parts.transformer, parts.parts.textEncoder, parts.parts.vae]) expect(p.ignored).toEqual([]);
      // The tokenizer found loads as the tokenizer module reads it, and tokenizes as sentencepiece does ComfyUI's spiece_model.
      const prompt = 'a fox runs through the snow at dawn';
      const sentencepiece = check.text_encoder['comfy/text_encoders/umt5_xxl_tiny_f16.safetensors']!.spiece_model_ids!;
      if (parts.tokenizer.kind === 'spiece_model') {
        const bytes = await bytesOf(parts.tokenizer.tensor);
        expect(bytes.equals(TINY_SPIECE_MODEL)).toBe(true);
        expect(Umt5UnigramTokenizer.fromSpieceModel(bytes).ids(prompt, false)).toEqual(sentencepiece);
      }
      if (parts.tokenizer.kind === 'tokenizer.json') {
        expect(relative(dir, parts.tokenizer.folder)).toBe(join('wan-ai', 'google', 'umt5-xxl'));
        expect((await loadUmt5Tokenizer(parts.tokenizer.folder)).ids(prompt, false)).toEqual(sentencepiece);
      }
      // Nothing copied: every reference points into the user's own files.
      const files = new Set(parts.files.map((f) => f.realPath));
      for (const set of [parts.transformer, parts.textEncoder, parts.vae]) for (const file of set.files()) expect(files.has(file)).toBe(true);
    });
  }
});
