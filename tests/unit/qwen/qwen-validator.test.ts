/** Validation of Qwen enhancer folders: what passes, and the plain-words problem for each way one breaks. */
import { cp, mkdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildQwenFixture, type QwenFixture } from '../../fixtures/qwen/build-qwen.ts';
import { GraphBuilder, saveModel } from '../../fixtures/onnx/index.ts';
import { estimateQwenVram, preferredQwenFile, qwenModelFiles, validateQwen } from '../../../src-main/engine/models/qwen-validator.ts';
import { ModelRegistry, detectFamily } from '../../../src-main/engine/models/registry.ts';
import { makeTempDir } from '../fixtures/ort-helpers.ts';

let tmp: { dir: string; cleanup: () => Promise<void> };
let good: QwenFixture;
let n = 0;

beforeAll(async () => {
  tmp = await makeTempDir('qwen-validator');
  good = await buildQwenFixture(join(tmp.dir, 'models', 'qwen2.5-tiny-instruct'));
});
afterAll(async () => {
  await tmp.cleanup();
});

/** A copy of the good fixture to break. */
async function copy(): Promise<string> {
  const dir = join(tmp.dir, `case-${n++}`);
  await cp(good.dir, dir, { recursive: true });
  return dir;
}

async function editJson(path: string, edit: (json: Record<string, unknown>) => void): Promise<void> {
  const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  edit(json);
  await writeFile(path, JSON.stringify(json));
}

describe('validateQwen', () => {
  it('accepts the fixture, fp32 and fp16, and reports precision from the cache type', async () => {
    expect(validateQwen(good.dir)).toEqual({ problems: [], precision: 'fp32' });
    const half = await buildQwenFixture(join(tmp.dir, 'half'), { dtype: 'fp16' });
    expect(validateQwen(half.dir)).toEqual({ problems: [], precision: 'fp16' });
    const both = await copy();
    await cp(half.modelFile, join(both, 'onnx', 'model_fp16.onnx'));
    expect(validateQwen(both)).toEqual({ problems: [], precision: 'mixed' });
    expect(qwenModelFiles(both).map((f) => f.dtype)).toEqual(['fp32', 'fp16']);
  });

  it('accepts weights in external data and reports a truncated data file', async () => {
    const ext = await buildQwenFixture(join(tmp.dir, 'external'), { externalData: true });
    expect(validateQwen(ext.dir).problems).toEqual([]);
    await truncate(join(ext.dir, 'onnx', 'model.onnx_data'), 100);
    expect(validateQwen(ext.dir).problems).toEqual([expect.stringMatching(/^onnx\/model\.onnx_data is shorter than onnx\/model\.onnx expects \(100 of \d+ bytes\): the download is incomplete$/)]);
    await rm(join(ext.dir, 'onnx', 'model.onnx_data'));
    expect(validateQwen(ext.dir).problems).toEqual(['onnx/model.onnx_data (the weights of onnx/model.onnx) is missing']);
  });

  it('says a folder without a chat template is a base model', async () => {
    const dir = await copy();
    await editJson(join(dir, 'tokenizer_config.json'), (j) => delete j.chat_template);
    expect(validateQwen(dir).problems).toEqual([expect.stringMatching(/^tokenizer_config\.json has no chat_template: this looks like a base model — use a Qwen2\.5 \*Instruct\* export/)]);
  });

  it('names missing and broken files', async () => {
    const dir = await copy();
    await rm(join(dir, 'tokenizer.json'));
    await writeFile(join(dir, 'config.json'), '{"model_type": "qwen2", ');
    expect(validateQwen(dir).problems).toEqual(['config.json is not valid JSON (a truncated download?)', 'tokenizer.json is missing']);
    const truncatedModel = await copy();
    const bytes = await readFile(join(truncatedModel, 'onnx', 'model.onnx'));
    await writeFile(join(truncatedModel, 'onnx', 'model.onnx'), bytes.subarray(0, 5000));
    expect(validateQwen(truncatedModel).problems).toEqual([expect.stringMatching(/^onnx\/model\.onnx cannot be read: /)]);
  });

  it('explains where the decoder should be when it is misplaced or misnamed', async () => {
    const none = await copy();
    await rm(join(none, 'onnx'), { recursive: true });
    expect(validateQwen(none)).toEqual({
      problems: ['onnx/model.onnx (or model_fp16.onnx, model_q4f16.onnx, model_q4.onnx…) is missing: no decoder to run'],
      precision: 'unknown',
    });
    const root = await copy();
    await rename(join(root, 'onnx', 'model.onnx'), join(root, 'model.onnx'));
    expect(validateQwen(root).problems).toEqual(['model.onnx lies at the top of the folder; transformers.js reads it from onnx/ — move it (and its .onnx_data files) into onnx/']);
    const merged = await copy();
    await rename(join(merged, 'onnx', 'model.onnx'), join(merged, 'onnx', 'decoder_model_merged.onnx'));
    expect(validateQwen(merged).problems[0]).toMatch(/^onnx\/ holds decoder_model_merged\.onnx but transformers\.js reads onnx\/model\.onnx or onnx\/model_<dtype>\.onnx/);
  });

  it('rejects other model types and tokenizers without the chat tokens', async () => {
    const vl = await copy();
    await editJson(join(vl, 'config.json'), (j) => (j.model_type = 'qwen2_5_vl'));
    expect(validateQwen(vl).problems).toEqual([
      'config.json has model_type "qwen2_5_vl": the prompt enhancer runs Qwen2.5 text models (model_type qwen2), not vision-language ones',
    ]);
    const tok = await copy();
    await editJson(join(tok, 'tokenizer.json'), (j) => (j.added_tokens = []));
    expect(validateQwen(tok).problems).toEqual(["tokenizer.json lacks Qwen's chat tokens <|im_start|> and <|im_end|>: this is not a Qwen2.5 Instruct tokenizer"]);
  });

  it('checks the cache tensors against config.json', async () => {
    const layers = await copy();
    await editJson(join(layers, 'config.json'), (j) => (j.num_hidden_layers = 4));
    expect(validateQwen(layers).problems).toEqual([
      'onnx/model.onnx lacks 8 cache tensor(s) for the 4 layers config.json names (first: past_key_values.2.key, present.2.key): the export does not match this config.json',
    ]);
    const heads = await copy();
    await editJson(join(heads, 'config.json'), (j) => (j.num_key_value_heads = 4));
    const problems = validateQwen(heads).problems;
    expect(problems).toHaveLength(2 * good.layers);
    expect(problems[0]).toBe("onnx/model.onnx input 'past_key_values.0.key' is float32[batch_size, 2, past_sequence_length, 16], expected [batch, 4, past_length, 16] from config.json");
  });

  it('rejects a decoder exported without its cache or without position ids', async () => {
    const dir = await copy();
    const g = new GraphBuilder({ name: 'no-cache' });
    const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
    g.input('attention_mask', 'int64', ['batch_size', 'sequence_length']);
    const table = g.weight('embed', [good.vocabSize, good.vocabSize]);
    g.output(g.op('Gather', [table, ids], { axis: 0 }), 'logits', 'float32', ['batch_size', 'sequence_length', good.vocabSize]);
    await saveModel(join(dir, 'onnx', 'model.onnx'), g.build());
    expect(validateQwen(dir).problems).toEqual([
      "onnx/model.onnx has no input 'position_ids' (inputs: input_ids, attention_mask)",
      'onnx/model.onnx has no past_key_values inputs: export it with the KV cache (Optimum task text-generation-with-past), or generation is far too slow',
    ]);
  });
});

describe('decoder choice and VRAM estimate', () => {
  it('picks 4-bit/fp16 files for a GPU and integer/fp32 ones for the CPU', async () => {
    const dir = await copy();
    const half = await buildQwenFixture(join(tmp.dir, 'half-for-choice'), { dtype: 'fp16' });
    await cp(half.modelFile, join(dir, 'onnx', 'model_fp16.onnx'));
    const files = qwenModelFiles(dir);
    expect(preferredQwenFile(files, 'cuda')?.dtype).toBe('fp16');
    expect(preferredQwenFile(files, 'webgpu')?.dtype).toBe('fp16');
    expect(preferredQwenFile(files, 'cpu')?.dtype).toBe('fp32');
    expect(preferredQwenFile(files, 'cuda', 'fp32')?.dtype).toBe('fp32');
    expect(preferredQwenFile(files, 'cuda', 'q4')).toBeNull();
    expect(preferredQwenFile([], 'cpu')).toBeNull();
  });

  it('sizes the enhancer by the one file it loads, external data included, plus cache and prompt logits', async () => {
    const ext = await buildQwenFixture(join(tmp.dir, 'vram'), { externalData: true });
    const bytes = (await stat(ext.modelFile)).size + (await stat(join(ext.dir, 'onnx', 'model.onnx_data'))).size;
    const need = estimateQwenVram(ext.dir, 'cpu')!;
    expect(need.weightsMb).toBe(Math.ceil((bytes * 1.1) / 2 ** 20));
    // fp32 cache: 2 layers × (key + value) × 2 heads × 16 wide × 4 bytes × 1,400 tokens; logits 900 × vocab × 4.
    const kv = 2 * 2 * 2 * 16 * 4 * 1400;
    expect(need.perItemMb).toBe(Math.ceil((kv + 900 * ext.vocabSize * 4) / 2 ** 20) + 512);
    // Other variants in the folder do not count.
    await cp(ext.modelFile, join(ext.dir, 'onnx', 'model_q4.onnx'));
    await cp(join(ext.dir, 'onnx', 'model.onnx_data'), join(ext.dir, 'onnx', 'unused.bin'));
    expect(estimateQwenVram(ext.dir, 'cuda', 'fp32')).toEqual(need);
    expect(estimateQwenVram(join(tmp.dir, 'nowhere'), 'cpu')).toBeNull();
  });
});

describe('model registry', () => {
  it('detects the folder as a qwen model and lists it ready with the validator plugged in', async () => {
    expect(detectFamily(good.dir)).toEqual({ family: 'qwen' });
    const broken = join(tmp.dir, 'models', 'qwen-broken');
    await mkdir(join(broken, 'onnx'), { recursive: true });
    await cp(join(good.dir, 'config.json'), join(broken, 'config.json'));
    const registry = new ModelRegistry([join(tmp.dir, 'models')], { qwen: validateQwen });
    const listed = registry.refresh().sort((a, b) => a.id.localeCompare(b.id));
    expect(listed.map((m) => [m.id, m.family, m.status, m.precision])).toEqual([
      ['qwen-broken', 'qwen', 'invalid', 'unknown'],
      ['qwen2.5-tiny-instruct', 'qwen', 'ready', 'fp32'],
    ]);
    expect(listed[0]!.problems).toContain('tokenizer.json is missing');
    const found = registry.find('qwen', null);
    expect('missing' in found ? found.missing : found.id).toBe('qwen2.5-tiny-instruct');
  });
});
