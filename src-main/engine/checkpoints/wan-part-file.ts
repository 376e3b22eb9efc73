/**
 * One WAN file → the part it holds: its tensors by what its first bytes say it is (safetensors,
 * or a PyTorch archive read by the restricted reader, which runs nothing), then the part its key
 * names say (wan-parts.ts `guessWanPart`) read through that part's reader. A LoRA made for WAN is
 * named as such.
 */
import { basename } from 'node:path';
import type { WanTransformerHints } from '../architectures/wan/transformer-config.ts';
import { WeightFileError } from '../weights/errors.ts';
import { readPthHeader } from '../weights/pytorch-archive.ts';
import { readSafetensorsHeader } from '../weights/safetensors.ts';
import { sniffFile } from '../weights/sniff.ts';
import { guessWanPart, storedFromPth, storedFromSafetensors } from './wan-parts.ts';
import type { StoredTensors, WanPartReading } from './wan-parts.ts';
import { readWanTextEncoder } from './wan-text-part.ts';
import { readWanTransformer } from './wan-transformer-part.ts';
import { readWanVae } from './wan-vae-part.ts';

function wrongKind(sentence: string): WeightFileError {
  return new WeightFileError('wrong_kind', sentence);
}

/** The part the tensors hold, read into canonical weights (one sentence when they are no WAN 2.1 T2V part). */
export function readWanPart(stored: StoredTensors, hints?: WanTransformerHints): WanPartReading | null {
  const guess = guessWanPart([...stored.refs.keys()]);
  if (!guess) return null;
  if (guess.part === 'transformer') return readWanTransformer(stored, hints);
  if (guess.part === 'textEncoder') return readWanTextEncoder(stored);
  return readWanVae(stored);
}

/** The tensors of one weight file, by what its first bytes say it is; null for a file that holds no weights the studio reads. */
export async function storedFromFile(path: string): Promise<StoredTensors> {
  const name = basename(path);
  const { kind } = await sniffFile(path);
  switch (kind) {
    case 'safetensors':
      return storedFromSafetensors([await readSafetensorsHeader(path)]);
    case 'pytorch_zip':
      return storedFromPth(await readPthHeader(path));
    case 'pickle':
      throw new WeightFileError('unsupported', `${name} is a PyTorch file in the format older than torch 1.6 (a bare pickle), which the studio does not open — use the .safetensors release instead`);
    case 'gguf':
      throw wrongKind(`${name} is a GGUF file; the studio reads WAN models from .safetensors files (and Wan-AI's .pth parts), not GGUF`);
    case 'onnx':
      throw wrongKind(`${name} is a single ONNX graph, not a WAN model part`);
    default:
      throw wrongKind(`${name} is not a model file the studio reads (its first bytes match no weight format)`);
  }
}

/** The part a file's tensors hold, or null when they are no WAN part at all. Sentences for WAN files the studio refuses. */
export function partOf(stored: StoredTensors, hints?: WanTransformerHints): WanPartReading | null {
  const lora = wanLora(stored);
  if (lora) throw wrongKind(lora);
  return readWanPart(stored, hints);
}

/** LoRA key spellings of kohya, PEFT/diffusers and LyCORIS, on WAN block names. */
const LORA_KEY = /(^|[._])lora[._]?(up|down|A|B)[._]|^lora_(unet|te\d?)_|^lycoris_|\.hada_w1_a$|\.lokr_w1$/;
const WAN_BLOCK_KEY = /(^|[._])blocks[._]\d+[._](self_attn|cross_attn|ffn|attn1|attn2)/;

/** The sentence for a WAN LoRA (it names WAN's blocks), or null. */
export function wanLora(stored: StoredTensors): string | null {
  const names = [...stored.refs.keys()];
  if (!names.some((n) => LORA_KEY.test(n)) || !names.some((n) => WAN_BLOCK_KEY.test(n))) return null;
  return `${stored.label} is a LoRA for WAN, not a model: it only adjusts the WAN transformer it was trained on — add the WAN 2.1 model itself (LoRAs are not applied yet)`;
}

