/**
 * An SDXL single-file checkpoint (A1111 / Forge / ComfyUI / Civitai, Stability's SGM layout) read
 * as four canonical weight sets, and canonical weights written back in that layout — both through
 * the one table of sdxl-single-file-table.ts.
 *
 * Reading copies nothing: every canonical weight is a TensorRef into the user's file, with the
 * view that makes it canonical — a third of open_clip's fused q/k/v rows (`rowSlice`), the
 * transposed text_projection (`transposedRef`), a 1×1 convolution seen as a Linear weight
 * (`reshapedRef`). Keys the table does not know (EMA copies, position_ids, logit_scale,
 * denoiser.sigmas, stray keys of merging tools) are listed, not refused: such files load in
 * A1111 and ComfyUI too.
 */
import { basename } from 'node:path';
import { DTYPE_BYTES } from '../../weights/dtypes.ts';
import { WeightFileError } from '../../weights/errors.ts';
import { tensorRefs } from '../../weights/safetensors.ts';
import type { SafetensorsHeader } from '../../weights/safetensors.ts';
import type { TensorToWrite } from '../../weights/safetensors-write.ts';
import { WeightSet, reshapedRef, rowSlice, transposedRef } from '../../weights/tensor-ref.ts';
import type { TensorRef } from '../../weights/tensor-ref.ts';
import { SDXL_PARTS, SINGLE_FILE_PREFIX, sdxlSingleFileTable, structureFromCanonical, structureFromSingleFile } from './sdxl-single-file-table.ts';
import type { LayoutEntry, NamesByPart, SdxlPart } from './sdxl-single-file-table.ts';

/** Marker tensors (empty) that v-prediction fine-tunes carry; ComfyUI writes and reads them. */
export const V_PRED_MARKER = 'v_pred';
/** Zero terminal SNR training (NoobAI-style), alongside v_pred. */
export const ZTSNR_MARKER = 'ztsnr';

export interface SdxlSingleFileParts {
  readonly unet: WeightSet;
  readonly textEncoder: WeightSet;
  readonly textEncoder2: WeightSet;
  /** null for a "no VAE" upload: the user picks a VAE file. */
  readonly vae: WeightSet | null;
  readonly markers: { readonly vPred: boolean; readonly ztsnr: boolean };
  /** Keys no part reads, in file order. */
  readonly ignored: readonly string[];
}

const PART_LABEL: Readonly<Record<SdxlPart, string>> = {
  unet: 'UNet',
  textEncoder: 'CLIP ViT-L text encoder',
  textEncoder2: 'OpenCLIP ViT-bigG text encoder',
  vae: 'VAE',
};

function keysByPart(keys: readonly string[]): NamesByPart {
  const names: Record<SdxlPart, string[]> = { unet: [], textEncoder: [], textEncoder2: [], vae: [] };
  for (const key of keys) {
    for (const part of SDXL_PARTS) {
      if (key.startsWith(SINGLE_FILE_PREFIX[part])) names[part].push(key.slice(SINGLE_FILE_PREFIX[part].length));
    }
  }
  return names;
}

/** Refuses, in one sentence, a file that is not a whole SDXL checkpoint in this layout. */
function checkParts(name: string, keys: readonly string[], parts: NamesByPart): void {
  const has = (prefix: string): boolean => keys.some((k) => k.startsWith(prefix));
  if (has('cond_stage_model.')) {
    throw new WeightFileError('wrong_kind', `${name} is a Stable Diffusion 1.x/2.x checkpoint, not SDXL: use an SDXL checkpoint`);
  }
  if (has('conditioner.embedders.0.model.')) {
    throw new WeightFileError('wrong_kind', `${name} is the SDXL refiner (one OpenCLIP text encoder), which only finishes another model's pictures: use an SDXL base checkpoint`);
  }
  if (parts.unet.length === 0) {
    const found = (['vae', 'textEncoder', 'textEncoder2'] as const).filter((p) => parts[p].length > 0).map((p) => `a ${PART_LABEL[p]}`);
    const holds = found.length ? `it holds only ${found.join(' and ')}` : 'none of its keys are in the A1111/ComfyUI checkpoint layout';
    throw new WeightFileError('wrong_kind', `${name} has no SDXL UNet (no model.diffusion_model.* weights): ${holds} — use a full SDXL checkpoint`);
  }
  if (parts.textEncoder.length === 0 && parts.textEncoder2.length === 0) {
    const what = parts.vae.length ? 'a UNet and a VAE' : 'a UNet';
    throw new WeightFileError(
      'incomplete',
      `${name} holds only ${what} (no text encoders) — SDXL needs its two text encoders, which full A1111/ComfyUI/Civitai checkpoints include: download the full checkpoint rather than the UNet-only file`,
    );
  }
  for (const [missing, present] of [['textEncoder', 'textEncoder2'], ['textEncoder2', 'textEncoder']] as const) {
    if (parts[missing].length === 0) {
      throw new WeightFileError(
        'incomplete',
        `${name} has the ${PART_LABEL[present]} but not the ${PART_LABEL[missing]} (${SINGLE_FILE_PREFIX[missing]}*) an SDXL checkpoint needs: the file is incomplete — download it again`,
      );
    }
  }
}

/** The stored reference seen as the canonical weight. */
function viewed(entry: LayoutEntry, ref: TensorRef, name: string): TensorRef {
  switch (entry.view.kind) {
    case 'same':
      return ref;
    case 'qkvRows': {
      const rows = ref.shape[0] ?? 0;
      if (rows % 3 !== 0) throw new WeightFileError('corrupt', `${name}: ${entry.stored} has ${rows} rows, not three equal q/k/v blocks; the file is damaged`);
      return rowSlice(ref, entry.view.third * (rows / 3), rows / 3, ` (${'qkv'[entry.view.third]} rows)`);
    }
    case 'transposed':
      if (ref.shape.length !== 2) throw new WeightFileError('wrong_kind', `${name}: ${entry.stored} is [${ref.shape.join(', ')}], not a 2-D projection`);
      return transposedRef(ref);
    case 'conv1x1':
      // Files converted by some tools already hold the Linear form; take either.
      return ref.shape.length > 2 && ref.shape.slice(2).every((d) => d === 1) ? reshapedRef(ref, ref.shape.slice(0, 2)) : ref;
  }
}

/** The parts of an SDXL single-file checkpoint under canonical names, as references into the file. */
export function splitSdxlSingleFile(header: SafetensorsHeader): SdxlSingleFileParts {
  const name = basename(header.path);
  const keys = [...header.tensors.keys()];
  const parts = keysByPart(keys);
  checkParts(name, keys, parts);

  const table = sdxlSingleFileTable(structureFromSingleFile(parts, name));
  const stored = tensorRefs(header);
  const refs: Record<SdxlPart, Map<string, TensorRef>> = { unet: new Map(), textEncoder: new Map(), textEncoder2: new Map(), vae: new Map() };
  const missing: Record<SdxlPart, string[]> = { unet: [], textEncoder: [], textEncoder2: [], vae: [] };
  const used = new Set<string>([V_PRED_MARKER, ZTSNR_MARKER]);
  for (const entry of table) {
    const key = stored.has(entry.stored) ? entry.stored : entry.legacyStored && stored.has(entry.legacyStored) ? entry.legacyStored : null;
    if (key === null) {
      if (!entry.optional) missing[entry.part].push(entry.stored);
      continue;
    }
    used.add(key);
    const ref = stored.get(key)!;
    refs[entry.part].set(entry.canonical, key === entry.stored ? viewed(entry, ref, name) : ref);
  }
  for (const part of SDXL_PARTS) {
    const absent = missing[part];
    if (absent.length) {
      throw new WeightFileError(
        'incomplete',
        `${name}: its ${PART_LABEL[part]} lacks ${absent.length} weight${absent.length > 1 ? 's' : ''} (${absent[0]}${absent.length > 1 ? ', …' : ''}) — the file is incomplete or damaged; download it again`,
      );
    }
  }
  const set = (part: SdxlPart): WeightSet => new WeightSet(`the ${PART_LABEL[part]} of ${name}`, refs[part]);
  return {
    unet: set('unet'),
    textEncoder: set('textEncoder'),
    textEncoder2: set('textEncoder2'),
    vae: parts.vae.length ? set('vae') : null,
    markers: { vPred: header.tensors.has(V_PRED_MARKER), ztsnr: header.tensors.has(ZTSNR_MARKER) },
    ignored: keys.filter((k) => !used.has(k)),
  };
}

export interface SdxlCanonicalTensors {
  readonly unet: readonly TensorToWrite[];
  readonly textEncoder: readonly TensorToWrite[];
  readonly textEncoder2: readonly TensorToWrite[];
  readonly vae?: readonly TensorToWrite[] | null;
}

async function bytesOf(t: TensorToWrite): Promise<Uint8Array> {
  if (t.data instanceof Uint8Array) return t.data;
  const chunks: Uint8Array[] = [];
  for await (const chunk of t.data()) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A 2-D tensor's bytes transposed (element by element, any width). */
function transposeBytes(bytes: Uint8Array, rows: number, cols: number, width: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out.set(bytes.subarray((r * cols + c) * width, (r * cols + c + 1) * width), (c * rows + r) * width);
  }
  return out;
}

/** open_clip's text_projection: the Linear weight [embed, width] stored as [width, embed]. */
function transposedTensor(t: TensorToWrite, name: string): TensorToWrite {
  const [rows, cols] = t.shape as [number, number];
  if (t.shape.length !== 2) throw new Error(`${t.name}: only a 2-D tensor can be stored transposed`);
  const width = DTYPE_BYTES[t.dtype];
  const data = t.data instanceof Uint8Array
    ? transposeBytes(t.data, rows, cols, width)
    : async function* (): AsyncIterable<Uint8Array> {
        yield transposeBytes(await bytesOf(t), rows, cols, width);
      };
  return { name, dtype: t.dtype, shape: [cols, rows], data };
}

/** open_clip's fused in_proj: q, k and v stacked along rows. */
function stackedRows(parts: readonly TensorToWrite[], name: string): TensorToWrite {
  const [first] = parts as [TensorToWrite];
  const rest = first.shape.slice(1);
  for (const p of parts) {
    if (p.dtype !== first.dtype || p.shape.length !== first.shape.length || p.shape.slice(1).some((d, i) => d !== rest[i])) {
      throw new Error(`${name}: q/k/v parts differ in dtype or width (${parts.map((q) => `${q.name} ${q.dtype} [${q.shape.join(', ')}]`).join('; ')})`);
    }
  }
  const shape = [parts.reduce((n, p) => n + p.shape[0]!, 0), ...rest];
  const data = parts.every((p) => p.data instanceof Uint8Array)
    ? Buffer.concat(parts.map((p) => p.data as Uint8Array))
    : async function* (): AsyncIterable<Uint8Array> {
        for (const p of parts) {
          if (p.data instanceof Uint8Array) yield p.data;
          else yield* p.data();
        }
      };
  return { name, dtype: first.dtype, shape, data };
}

/**
 * Canonical weights laid out as an SDXL single file (the inverse of `splitSdxlSingleFile`): q/k/v
 * concatenated, text_projection transposed, VAE attention weights as 1×1 convolutions. Data that
 * is a stream stays a stream (only text_projection is gathered, to transpose it). Throws on a
 * canonical name the layout has no place for, or a required weight that is not given.
 */
export function sdxlCanonicalToSingleFile(parts: SdxlCanonicalTensors): TensorToWrite[] {
  const given: Record<SdxlPart, readonly TensorToWrite[]> = {
    unet: parts.unet,
    textEncoder: parts.textEncoder,
    textEncoder2: parts.textEncoder2,
    vae: parts.vae ?? [],
  };
  const byName = Object.fromEntries(SDXL_PARTS.map((p) => [p, new Map(given[p].map((t) => [t.name, t]))])) as Record<SdxlPart, Map<string, TensorToWrite>>;
  const names = Object.fromEntries(SDXL_PARTS.map((p) => [p, given[p].map((t) => t.name)])) as unknown as NamesByPart;
  const table = sdxlSingleFileTable(structureFromCanonical(names, 'canonical SDXL weights'));

  const out: TensorToWrite[] = [];
  const placed = new Set<TensorToWrite>();
  const qkv = new Map<string, TensorToWrite[]>();
  for (const entry of table) {
    const t = byName[entry.part].get(entry.canonical);
    if (!t) {
      if (entry.optional) continue;
      throw new Error(`${PART_LABEL[entry.part]}: no weight ${entry.canonical} (its single-file key ${entry.stored})`);
    }
    placed.add(t);
    switch (entry.view.kind) {
      case 'same':
        out.push({ ...t, name: entry.stored });
        break;
      case 'conv1x1':
        out.push({ ...t, name: entry.stored, shape: t.shape.length === 2 ? [...t.shape, 1, 1] : t.shape });
        break;
      case 'transposed':
        out.push(transposedTensor(t, entry.stored));
        break;
      case 'qkvRows': {
        const group = qkv.get(entry.stored) ?? [];
        group[entry.view.third] = t;
        qkv.set(entry.stored, group);
        if (group.filter(Boolean).length === 3) out.push(stackedRows(group, entry.stored));
        break;
      }
    }
  }
  const unplaced = SDXL_PARTS.flatMap((p) => given[p].filter((t) => !placed.has(t)).map((t) => `${PART_LABEL[p]}: ${t.name}`));
  if (unplaced.length) throw new Error(`no place in the SDXL single-file layout for ${unplaced.length} weight(s): ${unplaced.slice(0, 5).join(', ')}`);
  return out;
}
