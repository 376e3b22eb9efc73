import { cp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectFamily } from '../../../src-main/engine/models/registry.ts';
import {
  resolveTextEncoderIo,
  resolveTransformerIo,
  resolveVaeDecoderIo,
  validateWan,
  type IoValue,
} from '../../../src-main/engine/models/wan-validator.ts';
import { GraphBuilder, saveModel } from '../../fixtures/onnx/index.ts';
import { buildWanFixture } from '../../fixtures/wan/build-wan.ts';
import { tempDir } from './helpers.ts';

let tmp: { dir: string; cleanup: () => Promise<void> };
let good: string;
let n = 0;

beforeAll(async () => {
  tmp = await tempDir('wan-validator');
  good = (await buildWanFixture(join(tmp.dir, 'good'), { externalData: ['transformer'] })).dir;
});
afterAll(async () => {
  await tmp.cleanup();
});

/** A copy of the good folder to break. */
async function copy(): Promise<string> {
  const dir = join(tmp.dir, `broken-${n++}`);
  await cp(good, dir, { recursive: true });
  return dir;
}

async function editJson(path: string, edit: (json: Record<string, unknown>) => void): Promise<void> {
  const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  edit(json);
  await writeFile(path, JSON.stringify(json));
}

/** A one-node model with the given float inputs and outputs (names are what the test is about). */
async function writeStub(path: string, inputs: readonly [string, readonly (number | string)[]][], outputs: readonly string[]): Promise<void> {
  const g = new GraphBuilder({ name: 'stub' });
  for (const [name, dims] of inputs) g.input(name, 'float32', dims);
  for (const name of outputs) g.output(g.op('Identity', [inputs[0]![0]]), name, 'float32', inputs[0]![1]);
  await saveModel(path, g.build());
}

describe('validateWan', () => {
  it('accepts the fixture folder (fp32) and the registry calls it wan', () => {
    expect(validateWan(good)).toEqual({ problems: [], precision: 'fp32' });
    expect(detectFamily(good)).toEqual({ family: 'wan' });
  });

  it('accepts a whole-clip decoder, a text encoder without attention_mask and an int64 timestep', async () => {
    const dir = (await buildWanFixture(join(tmp.dir, 'variants'), { vaeDecoder: 'whole', textEncoder: 'no_mask', timestepDtype: 'int64', transformerOutput: 'noise_pred' })).dir;
    expect(validateWan(dir).problems).toEqual([]);
  });

  it('names a missing component', async () => {
    const dir = await copy();
    await rm(join(dir, 'transformer'), { recursive: true });
    expect(validateWan(dir).problems).toEqual(['transformer/model.onnx is missing']);
  });

  it('says a truncated model or missing external weights plainly', async () => {
    const dir = await copy();
    const te = join(dir, 'text_encoder', 'model.onnx');
    await truncate(te, 1000);
    await truncate(join(dir, 'transformer', 'model.onnx_data'), 100);
    const { problems } = validateWan(dir);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^text_encoder\/model\.onnx cannot be read: .*(truncated|corrupt)/);
    expect(problems[1]).toMatch(/^transformer\/model\.onnx_data is shorter than the model expects \(100 of \d+ bytes\): the download is incomplete$/);
  });

  it('names wrong tensor names and widths', async () => {
    const dir = await copy();
    await writeStub(join(dir, 'transformer', 'model.onnx'), [['pixel_values', [1, 16, 'f', 'h', 'w']], ['image_embeds', [1, 257, 1280]]], ['out']);
    await rm(join(dir, 'transformer', 'model.onnx_data'));
    await writeStub(join(dir, 'vae_decoder', 'model.onnx'), [['latent_sample', [1, 4, 'h', 'w']]], ['sample']);
    expect(validateWan(dir).problems).toEqual([
      "transformer/model.onnx has no latent input ('hidden_states'; inputs: pixel_values, image_embeds)",
      "transformer/model.onnx has no input 'timestep' (inputs: pixel_values, image_embeds)",
      "transformer/model.onnx has no input 'encoder_hidden_states' (inputs: pixel_values, image_embeds)",
      'transformer/model.onnx has inputs a text-to-video WAN 2.1 pipeline cannot fill (pixel_values, image_embeds): this looks like an image-to-video or other variant',
      "vae_decoder/model.onnx input 'latent_sample' has 4 dimensions; a WAN video VAE takes [batch, 16, frames, height, width]",
    ]);
  });

  it('needs the VAE statistics, the cache scales, a tokenizer and a flow scheduler', async () => {
    const dir = await copy();
    await editJson(join(dir, 'vae_decoder', 'config.json'), (j) => {
      delete j.latents_std;
      delete j.feat_cache_scale;
    });
    await rm(join(dir, 'tokenizer', 'tokenizer.json'));
    await editJson(join(dir, 'scheduler', 'scheduler_config.json'), (j) => {
      j._class_name = 'EulerDiscreteScheduler';
    });
    expect(validateWan(dir).problems).toEqual([
      "vae_decoder/config.json needs 'latents_std': 16 numbers (the per-channel latent statistics the decoder un-normalises with)",
      "vae_decoder/config.json needs 'feat_cache_scale' (one spatial scale per frame cache, 16 in all): the cache sizes are not fixed in the model",
      'tokenizer/tokenizer.json is missing',
      'scheduler/scheduler_config.json names EulerDiscreteScheduler; WAN runs with UniPCMultistepScheduler or FlowMatchEulerDiscreteScheduler',
    ]);
  });

  it('relays what the flow scheduler parser refuses', async () => {
    const dir = await copy();
    await editJson(join(dir, 'scheduler', 'scheduler_config.json'), (j) => {
      j.prediction_type = 'epsilon';
    });
    const { problems } = validateWan(dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^scheduler\/scheduler_config\.json: .*prediction_type/);
  });

  it('says a WAN 2.2 5B transformer is the wrong model', async () => {
    const dir = await copy();
    await writeStub(join(dir, 'transformer', 'model.onnx'), [['hidden_states', [1, 48, 'f', 'h', 'w']], ['timestep', [1]], ['encoder_hidden_states', [1, 512, 4096]]], ['sample']);
    await rm(join(dir, 'transformer', 'model.onnx_data'));
    expect(validateWan(dir).problems).toEqual(['transformer/model.onnx takes 48-channel latents; WAN 2.1 has 16 (a WAN 2.2 5B export has 48)']);
  });
});

describe('tensor-name resolution shared with the pipeline', () => {
  const v = (name: string, type: string, shape: (number | string)[]): IoValue => ({ name, type, shape });

  it('accepts the names public exports use', () => {
    const problems: string[] = [];
    const tr = resolveTransformerIo(
      [v('latent_sample', 'float16', [1, 16, 'f', 'h', 'w']), v('t', 'int64', [1]), v('context', 'float16', [1, 512, 4096])],
      [v('noise_pred', 'float16', [1, 16, 'f', 'h', 'w'])],
      problems,
    );
    expect(problems).toEqual([]);
    expect([tr?.latents.name, tr?.timestep.name, tr?.context.name, tr?.output.name]).toEqual(['latent_sample', 't', 'context', 'noise_pred']);
    const te = resolveTextEncoderIo([v('input_ids', 'int64', [1, 512])], [v('last_hidden_state', 'float32', [1, 512, 4096])], problems);
    expect(te).toMatchObject({ mask: null, fixedLength: 512 });
  });

  it('refuses a CLIP-wide text encoder', () => {
    const problems: string[] = [];
    resolveTextEncoderIo([v('input_ids', 'int64', ['b', 's'])], [v('last_hidden_state', 'float32', ['b', 's', 768])], problems);
    expect(problems).toEqual(["text_encoder/model.onnx gives 768-wide states; WAN 2.1 conditions on UMT5-XXL's 4096-wide states"]);
  });

  it('refuses a Self-Forcing-style TensorRT decoder (frames-first z, use_cache, vae_cache_N) by name', () => {
    const problems: string[] = [];
    resolveVaeDecoderIo(
      [v('z', 'float16', [1, 1, 16, 60, 104]), v('use_cache', 'float16', []), v('vae_cache_0', 'float16', [1, 16, 2, 60, 104])],
      [v('pixels', 'float16', [1, 4, 3, 480, 832])],
      null,
      problems,
    );
    expect(problems).toEqual([
      "vae_decoder/model.onnx has no input 'latent_sample' (inputs: z, use_cache, vae_cache_0)",
      "vae_decoder/model.onnx has no output 'sample' (outputs: pixels)",
      'vae_decoder/model.onnx has inputs the WAN pipeline cannot fill: z, use_cache, vae_cache_0',
    ]);
  });

  it('wants every frame cache paired and first_chunk present', () => {
    const problems: string[] = [];
    resolveVaeDecoderIo(
      [v('latent_sample', 'float32', [1, 16, 1, 'h', 'w']), v('feat_cache_in.0', 'float32', [1, 8, 2, 60, 104])],
      [v('sample', 'float32', [1, 3, 4, 'H', 'W'])],
      null,
      problems,
    );
    expect(problems).toEqual([
      "vae_decoder/model.onnx has frame caches but no 'first_chunk' input: the decoder cannot tell the first latent frame",
      "vae_decoder/model.onnx has input 'feat_cache_in.0' but no output 'feat_cache_out.0' to carry the cache on",
    ]);
  });
});
