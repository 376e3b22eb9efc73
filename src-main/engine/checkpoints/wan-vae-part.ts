/**
 * WAN 2.1's VAE read from its file: diffusers' names as they are, Wan-AI's (`Wan2.1_VAE.pth`,
 * ComfyUI's `wan_2.1_vae.safetensors`) through wan-vae-table.ts; every weight's shape checked
 * against the widths the weights give, and WAN 2.2's 48-channel VAE named.
 */
import { WeightFileError } from '../weights/errors.ts';
import { canonicalShape, WeightSet } from '../weights/tensor-ref.ts';
import { readThroughTable } from './layouts/wan-layout.ts';
import { wanVaeStructureFromCanonical, wanVaeStructureFromOriginal, wanVaeTable } from './layouts/wan-vae-table.ts';
import type { WanVaeStructure } from './layouts/wan-vae-table.ts';
import { CHOOSE_VAE, formatBytes, guessWanPart, ignoredNames, incomplete, precisionLabel } from './wan-parts.ts';
import type { StoredTensors, WanVaePart } from './wan-parts.ts';

const WAN21_LATENT_CHANNELS = 16;

function wan22Vae(label: string): WeightFileError {
  return new WeightFileError('wrong_kind', `${label} is WAN 2.2's VAE (48-channel latents, made for the TI2V 5B model), not WAN 2.1's 16-channel VAE: ${CHOOSE_VAE}`);
}

/**
 * Every weight's shape follows from the widths the weights themselves give (each block's input
 * width is the last one's output): a header that lies about one tensor is named, not built.
 */
function checkVaeShapes(weights: WeightSet, s: WanVaeStructure, label: string): number {
  const width = (name: string): number => canonicalShape(weights.require(name))[0]!;
  const need = (name: string, shape: readonly number[]): void => void weights.require(name, shape);
  const conv = (prefix: string, out: number, inp: number, kernel: readonly number[]): void => {
    need(`${prefix}.weight`, [out, inp, ...kernel]);
    need(`${prefix}.bias`, [out]);
  };
  const residual = (prefix: string, inp: number, shortcut: boolean): number => {
    const out = width(`${prefix}.conv1.weight`);
    need(`${prefix}.norm1.gamma`, [inp, 1, 1, 1]);
    conv(`${prefix}.conv1`, out, inp, [3, 3, 3]);
    need(`${prefix}.norm2.gamma`, [out, 1, 1, 1]);
    conv(`${prefix}.conv2`, out, out, [3, 3, 3]);
    if (shortcut) conv(`${prefix}.conv_shortcut`, out, inp, [1, 1, 1]);
    else if (inp !== out) throw new WeightFileError('wrong_kind', `${label}: ${prefix} goes from ${inp} to ${out} channels without a shortcut convolution; the file is damaged`);
    return out;
  };
  const attention = (prefix: string, c: number): void => {
    need(`${prefix}.norm.gamma`, [c, 1, 1]);
    conv(`${prefix}.to_qkv`, 3 * c, c, [1, 1]);
    conv(`${prefix}.proj`, c, c, [1, 1]);
  };
  const middle = (coder: string, c: number): void => {
    residual(`${coder}.mid_block.resnets.0`, c, false);
    attention(`${coder}.mid_block.attentions.0`, c);
    residual(`${coder}.mid_block.resnets.1`, c, false);
  };
  const zDim = width('post_quant_conv.weight');
  if (s.encoder.length > 0) {
    let c = width('encoder.conv_in.weight');
    conv('encoder.conv_in', c, 3, [3, 3, 3]);
    s.encoder.forEach((block, n) => {
      const prefix = `encoder.down_blocks.${n}`;
      if (block.kind === 'residual') c = residual(prefix, c, block.shortcut);
      else if (block.kind === 'attention') attention(prefix, c);
      else {
        conv(`${prefix}.resample.1`, c, c, [3, 3]);
        if (block.time) conv(`${prefix}.time_conv`, c, c, [3, 1, 1]);
      }
    });
    middle('encoder', c);
    need('encoder.norm_out.gamma', [c, 1, 1, 1]);
    conv('encoder.conv_out', 2 * zDim, c, [3, 3, 3]);
    conv('quant_conv', 2 * zDim, 2 * zDim, [1, 1, 1]);
  }
  conv('post_quant_conv', zDim, zDim, [1, 1, 1]);
  let c = width('decoder.conv_in.weight');
  conv('decoder.conv_in', c, zDim, [3, 3, 3]);
  middle('decoder', c);
  s.decoder.forEach((level, i) => {
    level.resnets.forEach((shortcut, j) => (c = residual(`decoder.up_blocks.${i}.resnets.${j}`, c, shortcut)));
    if (level.upsample) {
      const prefix = `decoder.up_blocks.${i}.upsamplers.0`;
      if (level.upsample.time) conv(`${prefix}.time_conv`, 2 * c, c, [3, 1, 1]);
      conv(`${prefix}.resample.1`, c / 2, c, [3, 3]);
      c /= 2;
    }
  });
  need('decoder.norm_out.gamma', [c, 1, 1, 1]);
  conv('decoder.conv_out', 3, c, [3, 3, 3]);
  return zDim;
}

export function readWanVae(stored: StoredTensors): WanVaePart {
  const names = [...stored.refs.keys()];
  const guess = guessWanPart(names);
  if (!guess || guess.part !== 'vae') throw new WeightFileError('wrong_kind', `${stored.label} is not a WAN VAE (no RMS-normed 3-D blocks in diffusers' or Wan-AI's naming): ${CHOOSE_VAE}`);
  // WAN 2.2's VAE nests its blocks (Wan-AI: downsamples.N.downsamples.M; diffusers: up_blocks.N.upsampler, avg_shortcut).
  if (names.some((n) => /^(encoder\.downsamples|decoder\.upsamples)\.\d+\.(downsamples|upsamples)\./.test(n) || /^decoder\.up_blocks\.\d+\.(upsampler|avg_shortcut)\./.test(n))) {
    throw wan22Vae(stored.label);
  }
  const latentConv = stored.refs.get(guess.naming === 'wan' ? 'decoder.conv1.weight' : 'decoder.conv_in.weight');
  if (latentConv && latentConv.shape.length === 5 && latentConv.shape[1] === 48) throw wan22Vae(stored.label);
  const structure = guess.naming === 'wan' ? wanVaeStructureFromOriginal(names, stored.label) : wanVaeStructureFromCanonical(names, stored.label);
  const table = wanVaeTable(structure);
  // diffusers' names are the canonical ones: the same table, read under its canonical side.
  const reading = readThroughTable(guess.naming === 'wan' ? table : table.map((e) => ({ canonical: e.canonical, stored: e.canonical })), stored.refs);
  if (reading.missing.length) throw incomplete(stored, 'a WAN video VAE', reading);
  const weights = new WeightSet(stored.label, reading.refs);
  const zDim = checkVaeShapes(weights, structure, stored.label);
  if (zDim !== WAN21_LATENT_CHANNELS) {
    throw new WeightFileError('wrong_kind', `${stored.label} is a video VAE with ${zDim}-channel latents; WAN 2.1's VAE has ${WAN21_LATENT_CHANNELS}: ${CHOOSE_VAE}`);
  }
  const dtype = weights.mainDtype();
  const hasEncoder = structure.encoder.length > 0;
  return {
    part: 'vae',
    weights,
    naming: guess.naming,
    dims: { zDim, hasEncoder },
    dtype,
    scaledFp8: reading.scaled,
    precision: precisionLabel(dtype, reading.scaled),
    files: stored.files,
    sizeBytes: stored.sizeBytes,
    ignored: ignoredNames(stored, reading.used),
    description: `WAN 2.1 VAE${hasEncoder ? '' : ' (decoder only)'}, ${precisionLabel(dtype, reading.scaled)}, ${formatBytes(stored.sizeBytes)}`,
  };
}

