/**
 * The tiny Qwen2 GGUF the project writes is a real qwen2 model: llama.cpp (node-llama-cpp, CPU)
 * gives the same next-token distribution as transformers' Qwen2ForCausalLM reading the same file
 * (tests/fixtures/reference/gguf/), with the same token ids from its vocabulary. And the enhancer's
 * identification says which GGUF files it runs, and why it refuses the others.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import type { Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectQwenGguf, qwen25Size } from '../../../src-main/engine/models/qwen-gguf.ts';
import type { QwenGgufInspection } from '../../../src-main/engine/models/qwen-gguf.ts';
import { estimateQwenVram } from '../../../src-main/engine/models/qwen-validator.ts';
import * as ort from 'onnxruntime-node';
import { QWEN2_TINY, writeQwenGguf } from '../../fixtures/qwen/gguf-writer.ts';
import { buildGgufTwin } from '../../fixtures/qwen/gguf-twin.ts';
import { GREEDY_TOKENS, REFERENCE_PROMPT, tokenizeWithLlama } from '../../fixtures/reference/gguf/cases.ts';

const REFERENCE = JSON.parse(readFileSync(new URL('../../fixtures/reference/gguf/tiny-qwen2-f16.json', import.meta.url), 'utf8')) as {
  sha256: string;
  transformers: { prompt_ids: number[]; greedy: { ids: number[]; logprobs: number[] }[] };
};
const PROMPT = JSON.parse(readFileSync(new URL('../../fixtures/reference/gguf/prompt.json', import.meta.url), 'utf8')) as { text: string; ids: number[] };

let dir: string;
let tiny: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qwen-gguf-'));
  tiny = join(dir, 'Qwen2.5-Tiny-Instruct-F16.gguf');
  writeQwenGguf(tiny);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refused(result: QwenGgufInspection): string {
  if (result.ok) throw new Error(`${result.path} was accepted`);
  return result.sentence;
}

describe('the tiny Qwen2 GGUF on llama.cpp against transformers', () => {
  it('is the file the reference was made from', () => {
    expect(createHash('sha256').update(readFileSync(tiny)).digest('hex')).toBe(REFERENCE.sha256);
  });

  it('tokenises the ChatML prompt as transformers does', async () => {
    expect(PROMPT.text).toBe(REFERENCE_PROMPT);
    const ids = await tokenizeWithLlama(tiny, REFERENCE_PROMPT);
    expect(ids).toEqual(PROMPT.ids);
    expect(ids).toEqual(REFERENCE.transformers.prompt_ids);
  });

  it('gives transformers\u2019 next-token log-probabilities at every step, within 1e-2', async () => {
    const llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, logLevel: LlamaLogLevel.error, maxThreads: 1 });
    const model = await llama.loadModel({ modelPath: tiny, gpuLayers: 0 });
    const context = await model.createContext({ contextSize: 256, threads: 1 });
    try {
      // Fed transformers' greedy token each step, so a near tie cannot send the two apart.
      const steps = context.getSequence().evaluateWithMetadata(PROMPT.ids as Token[], { probabilities: true }, { temperature: 0 });
      let worst = 0;
      let agreed = 0;
      let next = await steps.next();
      for (const step of REFERENCE.transformers.greedy) {
        const out = next.value!;
        step.ids.forEach((id, k) => {
          worst = Math.max(worst, Math.abs(Math.log(out.probabilities.get(id as Token) ?? 0) - step.logprobs[k]!));
        });
        if (out.token === step.ids[0]) agreed++;
        else expect(step.logprobs[0]! - step.logprobs[1]!, `greedy tokens differ where transformers is not near a tie`).toBeLessThan(0.01);
        next = await steps.next(step.ids[0] as Token);
      }
      await steps.return();
      expect(REFERENCE.transformers.greedy).toHaveLength(GREEDY_TOKENS);
      expect(worst).toBeLessThan(1e-2);
      expect(agreed).toBeGreaterThanOrEqual(GREEDY_TOKENS - 2);
    } finally {
      await context.dispose();
      await model.dispose();
    }
  });
});

describe('the ONNX twin the benchmark times transformers.js on', () => {
  it('is the same model: transformers\u2019 log-probabilities at every step, within 1e-4', async () => {
    const twin = await buildGgufTwin(join(dir, 'twin'));
    const session = await ort.InferenceSession.create(twin.modelFile, { intraOpNumThreads: 1 });
    try {
      let past: Record<string, ort.Tensor> = {};
      for (let i = 0; i < QWEN2_TINY.layers; i++) {
        for (const kind of ['key', 'value']) past[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, 16]);
      }
      let input = PROMPT.ids;
      let total = 0;
      let worst = 0;
      for (const step of REFERENCE.transformers.greedy) {
        const out = await session.run({
          input_ids: new ort.Tensor('int64', BigInt64Array.from(input, BigInt), [1, input.length]),
          attention_mask: new ort.Tensor('int64', new BigInt64Array(total + input.length).fill(1n), [1, total + input.length]),
          position_ids: new ort.Tensor('int64', BigInt64Array.from(input, (_, i) => BigInt(total + i)), [1, input.length]),
          ...past,
        });
        total += input.length;
        const logits = (out.logits!.data as Float32Array).subarray((input.length - 1) * 960, input.length * 960);
        const max = Math.max(...logits);
        const logSum = Math.log(logits.reduce((a, v) => a + Math.exp(v - max), 0)) + max;
        step.ids.forEach((id, k) => {
          worst = Math.max(worst, Math.abs(logits[id]! - logSum - step.logprobs[k]!));
        });
        past = {};
        for (let i = 0; i < QWEN2_TINY.layers; i++) {
          past[`past_key_values.${i}.key`] = out[`present.${i}.key`]!;
          past[`past_key_values.${i}.value`] = out[`present.${i}.value`]!;
        }
        input = [step.ids[0]!];
      }
      expect(worst).toBeLessThan(1e-4);
    } finally {
      await session.release();
    }
  });
});

describe('which GGUF files the enhancer runs', () => {
  it('accepts a Qwen2 Instruct GGUF and describes it from its header', () => {
    const info = inspectQwenGguf(tiny);
    if (!info.ok) throw new Error(info.sentence);
    expect(info.hyper).toMatchObject({ layers: QWEN2_TINY.layers, hidden: 64, heads: 4, kvHeads: 2, headDim: 16, vocab: 960 });
    expect(info.quantization).toBe('F16');
    expect(info.size).toMatch(/^\d+M-parameter$/);
    expect(info.description).toMatch(/^Qwen2\.5 \d+M-parameter Instruct, GGUF F16, \d+ MB \(runs on llama\.cpp\)$/);
  });

  it('names the size of a Qwen2.5 by its width and depth, not the file name', () => {
    expect([qwen25Size(896, 24), qwen25Size(1536, 28), qwen25Size(2048, 36), qwen25Size(3584, 28), qwen25Size(5120, 48), qwen25Size(5120, 64)]).toEqual(['0.5B', '1.5B', '3B', '7B', '14B', '32B']);
    expect(qwen25Size(3584, 27)).toBeNull();
  });

  it('refuses a base model: no chat template', () => {
    const path = join(dir, 'Qwen2.5-Tiny-F16.gguf');
    writeQwenGguf(path, { chatTemplate: false });
    expect(refused(inspectQwenGguf(path))).toBe(
      'Qwen2.5-Tiny-F16.gguf is a base model, not Instruct: it has no chat template (tokenizer.chat_template), and base models do not follow the rewrite instructions — use a Qwen2.5 Instruct GGUF such as Qwen2.5-7B-Instruct-Q4_K_M.gguf',
    );
  });

  it('refuses another architecture by name', () => {
    const path = join(dir, 'llama.gguf');
    writeQwenGguf(path, { architecture: 'llama', name: 'Meta Llama 3.1 8B Instruct' });
    expect(refused(inspectQwenGguf(path))).toBe(
      'llama.gguf is a llama model (Meta Llama 3.1 8B Instruct), not Qwen2.5 (architecture qwen2): the prompt enhancer runs Qwen2.5 Instruct only — use a Qwen2.5 Instruct GGUF such as Qwen2.5-7B-Instruct-Q4_K_M.gguf',
    );
  });

  it('refuses a vision model and a vision projector', () => {
    const vl = join(dir, 'Qwen2-VL.gguf');
    writeQwenGguf(vl, { architecture: 'qwen2vl', name: 'Qwen2 VL 7B Instruct' });
    expect(refused(inspectQwenGguf(vl))).toMatch(/^Qwen2-VL\.gguf is a vision model \(architecture qwen2vl \(Qwen2 VL 7B Instruct\)\), not a Qwen2\.5 text model/);
    const mmproj = join(dir, 'mmproj-Qwen2-VL-f16.gguf');
    writeQwenGguf(mmproj, { architecture: 'clip', generalType: 'mmproj', chatTemplate: false });
    expect(refused(inspectQwenGguf(mmproj))).toMatch(/^mmproj-Qwen2-VL-f16\.gguf is a vision projector \(mmproj .*\) that goes beside a vision model, not a language model/);
  });

  it('refuses a truncated download in one sentence', () => {
    const path = join(dir, 'partial.gguf');
    const full = writeQwenGguf(join(dir, 'full.gguf')).bytes;
    writeQwenGguf(path, {}, Math.floor(full / 2));
    expect(refused(inspectQwenGguf(path))).toMatch(/^partial\.gguf is cut short: it is .* but its tensor .* ends at .* — the download is incomplete; download it again$/);
  });

  it('refuses a file whose tensors do not match its hyperparameters', () => {
    const path = join(dir, 'mismatch.gguf');
    writeQwenGguf(path);
    const bytes = readFileSync(path);
    // qwen2.feed_forward_length: 128 → 96 (the value after the key's u32 type).
    const key = bytes.indexOf(Buffer.from('qwen2.feed_forward_length'));
    bytes.writeUInt32LE(96, key + 'qwen2.feed_forward_length'.length + 4);
    writeFileSync(path, bytes);
    expect(refused(inspectQwenGguf(path))).toMatch(/^mismatch\.gguf does not match its own hyperparameters \(blk\.0\.ffn_gate\.weight is \[64, 128\], expected \[64, 96\];/);
  });

  it('sizes its VRAM from the file and the KV cache of the context llama.cpp allocates', () => {
    const estimate = estimateQwenVram(tiny, 'cuda')!;
    expect(estimate.weightsMb).toBe(1);
    // 2 layers × 2 key/value heads × 16 × (K and V) × f16 × 4096 tokens = 1 MB, plus 512 MB of buffers.
    expect(estimate.perItemMb).toBe(513);
  });
});
