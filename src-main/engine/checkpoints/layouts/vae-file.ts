/**
 * A VAE on its own (`sdxl_vae.safetensors`, the fp16-fix VAE, a VAE extracted from a checkpoint):
 * in the original LDM naming (`decoder.up.N.block.M…`, with or without the single-file
 * `first_stage_model.` prefix) or in diffusers' (`decoder.up_blocks.N.resnets.M…`, already
 * canonical). LDM names go through the single-file layout's own VAE table, so there is one table.
 */
import { basename } from 'node:path';
import type { SafetensorsHeader } from '../../weights/safetensors.ts';
import { tensorRefs } from '../../weights/safetensors.ts';
import { WeightFileError } from '../../weights/errors.ts';
import { reshapedRef, WeightSet } from '../../weights/tensor-ref.ts';
import type { TensorRef } from '../../weights/tensor-ref.ts';
import { SINGLE_FILE_PREFIX, sdxlSingleFileTable, structureFromSingleFile } from './sdxl-single-file-table.ts';

export function vaeWeightSetFromFile(header: SafetensorsHeader): WeightSet {
  const name = basename(header.path);
  const label = `the VAE ${name}`;
  const keys = [...header.tensors.keys()];
  if (keys.some((k) => k.startsWith('decoder.up_blocks.'))) {
    return new WeightSet(label, tensorRefs(header, (k) => (k.startsWith('decoder.') || k.startsWith('encoder.') || k.startsWith('post_quant_conv.') || k.startsWith('quant_conv.') ? k : null)));
  }
  const prefix = keys.some((k) => k.startsWith(SINGLE_FILE_PREFIX.vae)) ? SINGLE_FILE_PREFIX.vae : '';
  const names = keys.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  if (!names.some((k) => k.startsWith('decoder.up.'))) {
    throw new WeightFileError('wrong_kind', `${name} has no VAE decoder in either the LDM or the diffusers naming`);
  }
  const structure = structureFromSingleFile({ unet: [], textEncoder: [], textEncoder2: [], vae: names }, name);
  const stored = tensorRefs(header);
  const refs = new Map<string, TensorRef>();
  const missing: string[] = [];
  for (const entry of sdxlSingleFileTable({ ...structure, unet: { down: [], up: [], mid: 0 }, textEncoderLayers: 0, textEncoder2Layers: 0 })) {
    if (entry.part !== 'vae') continue;
    const key = `${prefix}${entry.stored.slice(SINGLE_FILE_PREFIX.vae.length)}`;
    const ref = stored.get(key);
    if (!ref) {
      if (!entry.optional) missing.push(key);
      continue;
    }
    // The LDM attention projections are 1×1 convolutions; the canonical ones are Linear weights.
    const view = entry.view.kind === 'conv1x1' && ref.shape.length === 4 ? reshapedRef(ref, ref.shape.slice(0, 2)) : ref;
    refs.set(entry.canonical, view);
  }
  if (missing.length) {
    throw new WeightFileError('incomplete', `${name} lacks ${missing.length} VAE weight${missing.length > 1 ? 's' : ''} (${missing[0]}${missing.length > 1 ? ', …' : ''}): the file is incomplete or damaged`);
  }
  return new WeightSet(label, refs);
}
