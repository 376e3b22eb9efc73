/**
 * WAN's text conditioning (diffusers WanPipeline._get_t5_prompt_embeds): clean the prompt,
 * tokenize to 512 ids, run the UMT5 encoder with the attention mask, keep the first
 * seq_len = mask.sum() rows and zero the rest. Exports without an `attention_mask` input are fed
 * only the real tokens (so padding cannot leak into them) and their states are zero-padded to 512.
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { OrtRuntime } from '../../inference/runtime.ts';
import { WAN_TEXT_LENGTH, WAN_TEXT_WIDTH } from '../../models/wan-validator.ts';
import type { TextEncoderIo } from '../../models/wan-validator.ts';
import { floatTensor, inputSpec, intTensor, outputFloat32 } from '../common/session-io.ts';
import { PipelineError } from '../types.ts';
import { cleanWanPrompt } from './prompt.ts';
import type { Umt5Tokenizer } from './tokenizer.ts';

export interface WanTextEncoder {
  readonly session: InferenceSession;
  readonly io: TextEncoderIo;
  readonly tokenizer: Umt5Tokenizer;
  /** Width of the states (default UMT5-XXL's 4096; a model prepared from other weights says its own). */
  readonly width?: number;
}

export interface EncodedText {
  /** [512, 4096] row-major, rows from `tokens` on zero. */
  readonly states: Float32Array;
  readonly tokens: number;
  readonly truncated: boolean;
  /** Set when the export forced a less exact path (fixed length without a mask). */
  readonly note: string | null;
}

export async function encodeWanText(runtime: OrtRuntime, enc: WanTextEncoder, prompt: string): Promise<EncodedText> {
  const tok = enc.tokenizer.encode(cleanWanPrompt(prompt), WAN_TEXT_LENGTH);
  const { io } = enc;
  // With a mask the export sees all 512 ids; without one, only the real tokens (unless its length is fixed).
  const feedLength = io.fixedLength ?? (io.mask ? WAN_TEXT_LENGTH : tok.length);
  const used = Math.min(tok.length, feedLength);
  const ids = new Int32Array(feedLength).fill(enc.tokenizer.padId);
  ids.set(tok.ids.subarray(0, Math.min(feedLength, WAN_TEXT_LENGTH)));
  const feeds: Record<string, ReturnType<typeof intTensor>> = {
    [io.ids.name]: intTensor(inputSpec(enc.session, io.ids.name, 'text_encoder'), ids, [1, feedLength]),
  };
  if (io.mask) {
    const mask = new Int32Array(feedLength);
    mask.fill(1, 0, used);
    const spec = inputSpec(enc.session, io.mask.name, 'text_encoder');
    feeds[io.mask.name] = spec.type.startsWith('float') ? floatTensor(spec, Float32Array.from(mask), [1, feedLength]) : intTensor(spec, mask, [1, feedLength]);
  }
  const out = await runtime.run(enc.session, feeds);
  const { data, dims } = outputFloat32(out, io.output.name, 'text_encoder');
  const width = dims[2];
  const textWidth = enc.width ?? WAN_TEXT_WIDTH;
  if (dims.length !== 3 || width !== textWidth || dims[1] !== feedLength) {
    throw new PipelineError(
      'model_invalid',
      `text_encoder/model.onnx returned states of shape [${dims.join(', ')}]; WAN needs [1, ${feedLength}, ${textWidth}] (UMT5-XXL)`,
    );
  }
  const keep = Math.min(used, WAN_TEXT_LENGTH);
  const states = new Float32Array(WAN_TEXT_LENGTH * textWidth);
  states.set(data.subarray(0, keep * textWidth));
  const note = !io.mask && io.fixedLength !== null
    ? `text_encoder/model.onnx has a fixed length of ${io.fixedLength} and no attention_mask, so padding tokens were encoded with the prompt; an export with attention_mask (or a dynamic length) matches diffusers exactly`
    : null;
  return { states, tokens: keep, truncated: tok.truncated || used < tok.length, note };
}
