/**
 * The Qwen fixture's decoder contract, driven directly through onnxruntime-node (no
 * transformers.js): names, element types and shapes as real exports have them, present = past +
 * new, and the scripted reply written by a plain greedy loop over the KV cache.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOD_REPLY, buildQwenFixture, possibleReplies, type QwenFixture } from '../../fixtures/qwen/build-qwen.ts';
import { buildFixtures, parseFixtureArgs } from '../../fixtures/build-fixtures.ts';
import { SCRIPT_MARGIN } from '../../fixtures/qwen/decoder.ts';
import { float16Safe } from '../../../src-main/engine/inference/tensors.ts';
import { f32, i64, makeTempDir, openSession, values } from '../fixtures/ort-helpers.ts';

let tmp: { dir: string; cleanup: () => Promise<void> };
let good: QwenFixture;
let half: QwenFixture;
const sessions: ort.InferenceSession[] = [];

beforeAll(async () => {
  tmp = await makeTempDir('qwen-fixture');
  good = await buildQwenFixture(join(tmp.dir, 'good'));
  half = await buildQwenFixture(join(tmp.dir, 'half'), { dtype: 'fp16' });
});
afterAll(async () => {
  for (const s of sessions) await s.release();
  await tmp.cleanup();
});

async function open(fx: QwenFixture): Promise<ort.InferenceSession> {
  const s = await openSession(fx.modelFile);
  sessions.push(s);
  return s;
}

async function tokenizer(fx: QwenFixture): Promise<Tokenizer> {
  const json = JSON.parse(await readFile(join(fx.dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  const config = JSON.parse(await readFile(join(fx.dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  return new Tokenizer(json, config);
}

/** The ChatML text Qwen's template renders for a system + user conversation. */
function chatml(system: string, user: string): string {
  return `<|im_start|>system\n${system}<|im_end|>\n<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n`;
}

function emptyPast(fx: QwenFixture, type: 'float32' | 'float16'): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (let i = 0; i < fx.layers; i++) {
    for (const kind of ['key', 'value']) {
      feeds[`past_key_values.${i}.${kind}`] =
        type === 'float32' ? f32([], [1, fx.kvHeads, 0, fx.headDim]) : new ort.Tensor('float16', new Uint16Array(0), [1, fx.kvHeads, 0, fx.headDim]);
    }
  }
  return feeds;
}

function argmaxLast(logits: ort.Tensor): number {
  const v = values(logits);
  const vocab = logits.dims[2]!;
  const row = v.subarray(v.length - vocab);
  let best = 0;
  for (let i = 1; i < vocab; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

interface Step {
  past: number;
  present: number;
}

/** Greedy decoding with the cache, as any Optimum-style generator runs it. Returns the ids and cache lengths per step. */
async function greedy(
  session: ort.InferenceSession,
  fx: QwenFixture,
  prompt: number[],
  maxNew: number,
  breakCacheAt = -1,
): Promise<{ ids: number[]; steps: Step[] }> {
  const type = fx.dtype === 'fp16' ? 'float16' : 'float32';
  let past = emptyPast(fx, type);
  let input = prompt;
  let total = 0;
  const ids: number[] = [];
  const steps: Step[] = [];
  for (let n = 0; n < maxNew; n++) {
    if (n === breakCacheAt) {
      past = emptyPast(fx, type);
      total = 0;
    }
    const seq = input.length;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: i64(input, [1, seq]),
      attention_mask: i64(new Array(total + seq).fill(1), [1, total + seq]),
      position_ids: i64(Array.from({ length: seq }, (_, i) => total + i), [1, seq]),
      ...past,
    };
    // onnxruntime-node 1.30 on Node 24 needs float16 feeds (the cache fed back) as Uint16Array views.
    for (const t of Object.values(feeds)) float16Safe(t);
    const out = await session.run(feeds);
    steps.push({ past: past['past_key_values.0.key']!.dims[2]!, present: out['present.0.key']!.dims[2]! });
    total += seq;
    const next = argmaxLast(out.logits!);
    ids.push(next);
    if (next === fx.imEndId) break;
    past = {};
    for (let i = 0; i < fx.layers; i++) {
      past[`past_key_values.${i}.key`] = out[`present.${i}.key`]!;
      past[`past_key_values.${i}.value`] = out[`present.${i}.value`]!;
    }
    input = [next];
  }
  return { ids, steps };
}

describe('Qwen fixture folder', () => {
  it('has the files transformers.js reads and Qwen2 config fields', async () => {
    expect((await readdir(good.dir)).sort()).toEqual(['config.json', 'generation_config.json', 'onnx', 'tokenizer.json', 'tokenizer_config.json']);
    expect(await readdir(join(good.dir, 'onnx'))).toEqual(['model.onnx']);
    expect(await readdir(join(half.dir, 'onnx'))).toEqual(['model_fp16.onnx']);
    const config = JSON.parse(await readFile(join(good.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config.model_type).toBe('qwen2');
    expect(config.num_key_value_heads).toBeLessThan(config.num_attention_heads as number);
    expect(config.eos_token_id).toBe(good.imEndId);
    const tokConfig = JSON.parse(await readFile(join(good.dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    expect(tokConfig.chat_template).toMatch(/<\|im_start\|>assistant\\n/);
    expect(tokConfig.eos_token).toBe('<|im_end|>');
  });

  it('tokenizes any text byte-level, keeps Qwen special tokens whole and decodes back exactly', async () => {
    const tok = await tokenizer(good);
    const text = 'A red fox — über café, 東京 at 5:30!\n\n  done';
    expect(tok.decode(tok.encode(text, { add_special_tokens: false }).ids, { skip_special_tokens: false })).toBe(text);
    const ids = tok.encode('<|im_start|>assistant\n', { add_special_tokens: false }).ids;
    expect(ids[0]).toBe(good.imStartId);
    expect(ids.length).toBe(1 + good.startOffset);
    expect(tok.encode('A red fox', { add_special_tokens: false }).ids.length).toBe(3);
  });

  it('is byte-identical when built twice with the same options', async () => {
    const again = await buildQwenFixture(join(tmp.dir, 'again'));
    expect(await readFile(again.modelFile)).toEqual(await readFile(good.modelFile));
    expect(await readFile(join(again.dir, 'tokenizer.json'), 'utf8')).toBe(await readFile(join(good.dir, 'tokenizer.json'), 'utf8'));
  });

  it('is what `npm run fixtures -- --only qwen` writes as qwen-tiny', async () => {
    const written = await buildFixtures(parseFixtureArgs(['--out', join(tmp.dir, 'cli'), '--only', 'qwen']));
    expect(written).toEqual([join(tmp.dir, 'cli', 'qwen-tiny')]);
    expect(await readdir(join(tmp.dir, 'cli', 'qwen-tiny', 'onnx'))).toEqual(['model.onnx']);
  });

  it('lists the combinations a choices reply can take', () => {
    const replies = possibleReplies('choices');
    expect(replies).toHaveLength(16);
    expect(replies).toContain(GOOD_REPLY);
    expect(new Set(replies).size).toBe(16);
  });
});

describe('Qwen fixture decoder contract', () => {
  it('declares the inputs and outputs of a Qwen2 export with past', async () => {
    const s = await open(good);
    const meta = (list: readonly ort.InferenceSession.ValueMetadata[]): Record<string, unknown> =>
      Object.fromEntries(list.map((m) => [m.name, m.isTensor ? [m.type, ...m.shape] : null]));
    const inputs = meta(s.inputMetadata);
    expect(inputs.input_ids).toEqual(['int64', 'batch_size', 'sequence_length']);
    expect(inputs.attention_mask).toEqual(['int64', 'batch_size', 'total_sequence_length']);
    expect(inputs.position_ids).toEqual(['int64', 'batch_size', 'sequence_length']);
    expect(inputs['past_key_values.1.value']).toEqual(['float32', 'batch_size', 2, 'past_sequence_length', 16]);
    expect(Object.keys(inputs)).toHaveLength(3 + 2 * good.layers);
    const outputs = meta(s.outputMetadata);
    expect(outputs.logits).toEqual(['float32', 'batch_size', 'sequence_length', good.vocabSize]);
    expect(outputs['present.0.key']).toEqual(['float32', 'batch_size', 2, 'total_sequence_length', 16]);
    expect(Object.keys(outputs)).toHaveLength(1 + 2 * good.layers);
  });

  it('returns present = past followed by the new keys and values', async () => {
    const s = await open(good);
    const tok = await tokenizer(good);
    const ids = tok.encode(chatml('Be brief.', 'a fox'), { add_special_tokens: false }).ids;
    const first = await s.run({
      input_ids: i64(ids, [1, ids.length]),
      attention_mask: i64(new Array(ids.length).fill(1), [1, ids.length]),
      position_ids: i64(Array.from(ids, (_, i) => i), [1, ids.length]),
      ...emptyPast(good, 'float32'),
    });
    const next = await s.run({
      input_ids: i64([5], [1, 1]),
      attention_mask: i64(new Array(ids.length + 1).fill(1), [1, ids.length + 1]),
      position_ids: i64([ids.length], [1, 1]),
      'past_key_values.0.key': first['present.0.key']!,
      'past_key_values.0.value': first['present.0.value']!,
      'past_key_values.1.key': first['present.1.key']!,
      'past_key_values.1.value': first['present.1.value']!,
    });
    const before = values(first['present.1.value']!);
    const after = values(next['present.1.value']!);
    expect(next['present.1.value']!.dims).toEqual([1, 2, ids.length + 1, 16]);
    // Per head, the first ids.length rows are the past unchanged.
    for (let h = 0; h < 2; h++) {
      const old = before.subarray(h * ids.length * 16, (h + 1) * ids.length * 16);
      const kept = after.subarray(h * (ids.length + 1) * 16, h * (ids.length + 1) * 16 + ids.length * 16);
      expect(Array.from(kept)).toEqual(Array.from(old));
    }
    expect(next.logits!.dims).toEqual([1, 1, good.vocabSize]);
  });

  it('writes the scripted reply and then <|im_end|> under greedy decoding with the cache', async () => {
    const s = await open(good);
    const tok = await tokenizer(good);
    const prompt = tok.encode(chatml('You rewrite prompts.', 'a fox in snow'), { add_special_tokens: false }).ids;
    const { ids, steps } = await greedy(s, good, prompt, 80);
    expect(ids.at(-1)).toBe(good.imEndId);
    expect(tok.decode(ids, { skip_special_tokens: true })).toBe(GOOD_REPLY);
    expect(steps[0]).toEqual({ past: 0, present: prompt.length });
    steps.forEach((st, i) => {
      if (i > 0) expect(st).toEqual({ past: prompt.length + i - 1, present: prompt.length + i });
    });
  });

  it('needs the cache: dropping it mid-reply ends the reply there', async () => {
    const s = await open(good);
    const tok = await tokenizer(good);
    const prompt = tok.encode(chatml('You rewrite prompts.', 'a fox in snow'), { add_special_tokens: false }).ids;
    const { ids } = await greedy(s, good, prompt, 80, 5);
    expect(ids).toHaveLength(6);
    expect(ids.at(-1)).toBe(good.imEndId);
    expect(tok.decode(ids.slice(0, 5), { skip_special_tokens: true })).toBe('A red fox trots through');
  });

  it('keeps the script margin over every other logit', async () => {
    const s = await open(good);
    const tok = await tokenizer(good);
    const ids = tok.encode(chatml('x', 'y'), { add_special_tokens: false }).ids;
    const out = await s.run({
      input_ids: i64(ids, [1, ids.length]),
      attention_mask: i64(new Array(ids.length).fill(1), [1, ids.length]),
      position_ids: i64(Array.from(ids, (_, i) => i), [1, ids.length]),
      ...emptyPast(good, 'float32'),
    });
    const v = values(out.logits!);
    const row = Array.from(v.subarray(v.length - good.vocabSize)).sort((a, b) => b - a);
    expect(row[0]! - row[1]!).toBeGreaterThan(SCRIPT_MARGIN / 2);
  });

  it('has a float16 cache and logits in the fp16 variant, and still writes the reply', async () => {
    const s = await open(half);
    const inputs = Object.fromEntries(s.inputMetadata.map((m) => [m.name, m.isTensor ? m.type : null]));
    expect(inputs['past_key_values.0.key']).toBe('float16');
    expect(inputs.input_ids).toBe('int64');
    const outputs = Object.fromEntries(s.outputMetadata.map((m) => [m.name, m.isTensor ? m.type : null]));
    expect(outputs.logits).toBe('float16');
    expect(outputs['present.1.value']).toBe('float16');
    const tok = await tokenizer(half);
    const prompt = tok.encode(chatml('You rewrite prompts.', 'a fox'), { add_special_tokens: false }).ids;
    const { ids } = await greedy(s, half, prompt, 80);
    expect(tok.decode(ids, { skip_special_tokens: true })).toBe(GOOD_REPLY);
  });
});
