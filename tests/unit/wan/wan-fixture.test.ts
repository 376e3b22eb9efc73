import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '@huggingface/tokenizers';
import { buildWanFixture, type WanFixture } from '../../fixtures/wan/build-wan.ts';
import { relativePositionBucket } from '../../fixtures/wan/text-encoder.ts';
import { UMT5_EOS_ID, UMT5_PAD_ID, umt5TokenizerConfigJson, umt5TokenizerJson } from '../../fixtures/wan/tokenizer.ts';
import { allFinite, f32, i64, maxAbs, maxAbsDiff, openSession, values, wave } from '../fixtures/ort-helpers.ts';
import { tempDir } from './helpers.ts';

let tmp: { dir: string; cleanup: () => Promise<void> };
let fx: WanFixture;
let whole: WanFixture;
const sessions = new Map<string, ort.InferenceSession>();

beforeAll(async () => {
  tmp = await tempDir('wan-fixture');
  fx = await buildWanFixture(join(tmp.dir, 'wan-tiny'));
  whole = await buildWanFixture(join(tmp.dir, 'wan-whole'), { vaeDecoder: 'whole' });
});
afterAll(async () => {
  for (const s of sessions.values()) await s.release();
  await tmp.cleanup();
});

async function session(path: string): Promise<ort.InferenceSession> {
  let s = sessions.get(path);
  if (!s) {
    s = await openSession(path);
    sessions.set(path, s);
  }
  return s;
}

function metadata(s: ort.InferenceSession, which: 'input' | 'output'): Record<string, { type: string; shape: unknown[] }> {
  const list = which === 'input' ? s.inputMetadata : s.outputMetadata;
  return Object.fromEntries(list.map((m) => [m.name, m.isTensor ? { type: m.type, shape: [...m.shape] } : { type: 'none', shape: [] }]));
}

function ids512(tokens: readonly number[]): { ids: ort.Tensor; mask: ort.Tensor } {
  const ids = new Array<number>(512).fill(UMT5_PAD_ID);
  const mask = new Array<number>(512).fill(0);
  [...tokens, UMT5_EOS_ID].forEach((t, i) => {
    ids[i] = t;
    mask[i] = 1;
  });
  return { ids: i64(ids, [1, 512]), mask: i64(mask, [1, 512]) };
}

describe('WAN fixture folder', () => {
  it('has the layout and the real WAN 2.1 configs', async () => {
    expect((await readdir(fx.dir)).sort()).toEqual(['model_index.json', 'scheduler', 'text_encoder', 'tokenizer', 'transformer', 'vae_decoder']);
    const index = JSON.parse(await readFile(join(fx.dir, 'model_index.json'), 'utf8')) as Record<string, unknown>;
    expect(index._class_name).toBe('WanPipeline');
    const sched = JSON.parse(await readFile(join(fx.dir, 'scheduler', 'scheduler_config.json'), 'utf8')) as Record<string, unknown>;
    expect(sched).toMatchObject({ _class_name: 'UniPCMultistepScheduler', flow_shift: 3, prediction_type: 'flow_prediction', use_flow_sigmas: true });
    const vae = JSON.parse(await readFile(join(fx.dir, 'vae_decoder', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(vae.z_dim).toBe(16);
    expect((vae.latents_mean as number[])[7]).toBe(1.5508);
    expect((vae.latents_std as number[])[8]).toBe(3.2687);
    expect((vae.feat_cache_scale as number[]).length).toBe(fx.vaeCaches.length);
  });

  it('builds byte-identical files from the same options', async () => {
    const again = await buildWanFixture(join(tmp.dir, 'again'));
    for (const c of ['text_encoder', 'transformer', 'vae_decoder'] as const) {
      const a = createHash('sha256').update(await readFile(fx.components[c]!.modelPath)).digest('hex');
      const b = createHash('sha256').update(await readFile(again.components[c]!.modelPath)).digest('hex');
      expect(b, c).toBe(a);
    }
  });
});

describe('UMT5 fixture tokenizer', () => {
  const tok = new Tokenizer(umt5TokenizerJson(), umt5TokenizerConfigJson());

  it('has UMT5 special ids and appends </s>', () => {
    expect(tok.token_to_id('<pad>')).toBe(0);
    expect(tok.token_to_id('</s>')).toBe(1);
    expect(tok.token_to_id('<unk>')).toBe(2);
    const e = tok.encode('A cat walks on the grass, realistic');
    expect(e.tokens).toEqual(['▁A', '▁cat', '▁walks', '▁on', '▁the', '▁grass', ',', '▁realistic', '</s>']);
    expect(e.ids.at(-1)).toBe(UMT5_EOS_ID);
    expect(tok.encode('').ids).toEqual([UMT5_EOS_ID]);
  });

  it('splits unknown words into known pieces', () => {
    expect(tok.encode('Cats baking').tokens).toEqual(['▁C', 'a', 't', 's', '▁baking', '</s>']);
  });
});

describe('text_encoder (UMT5 contract)', () => {
  it('takes input_ids/attention_mask int64 and returns 4096-wide last_hidden_state', async () => {
    const s = await session(fx.components.text_encoder!.modelPath);
    expect(metadata(s, 'input')).toEqual({
      input_ids: { type: 'int64', shape: ['batch_size', 'sequence_length'] },
      attention_mask: { type: 'int64', shape: ['batch_size', 'sequence_length'] },
    });
    expect(metadata(s, 'output')).toEqual({ last_hidden_state: { type: 'float32', shape: ['batch_size', 'sequence_length', 4096] } });
    const { ids, mask } = ids512([22, 104, 63]);
    const out = (await s.run({ input_ids: ids, attention_mask: mask })).last_hidden_state!;
    expect(out.dims).toEqual([1, 512, 4096]);
    const v = values(out);
    expect(allFinite(v)).toBe(true);
    expect(maxAbs(v.subarray(0, 4096))).toBeGreaterThan(0.1);
  });

  it('lets the mask hide padding and the ids change every real row', async () => {
    const s = await session(fx.components.text_encoder!.modelPath);
    const a = ids512([22, 104, 63]);
    const real = 4 * 4096;
    const base = values((await s.run({ input_ids: a.ids, attention_mask: a.mask })).last_hidden_state!).slice(0, real);
    // Different pad ids behind the mask: the real rows do not move.
    const padded = Array.from(a.ids.data as BigInt64Array, (v, i) => (i >= 4 ? 7 : Number(v)));
    const hidden = values((await s.run({ input_ids: i64(padded, [1, 512]), attention_mask: a.mask })).last_hidden_state!).slice(0, real);
    expect(maxAbsDiff(base, hidden)).toBeLessThan(1e-5);
    // Without the mask the same pad ids leak in.
    const open = i64(new Array(512).fill(1), [1, 512]);
    const leaked = values((await s.run({ input_ids: i64(padded, [1, 512]), attention_mask: open })).last_hidden_state!).slice(0, real);
    expect(maxAbsDiff(base, leaked)).toBeGreaterThan(1e-3);
    // Another prompt word changes the rows.
    const b = ids512([22, 105, 63]);
    const other = values((await s.run({ input_ids: b.ids, attention_mask: b.mask })).last_hidden_state!).slice(0, real);
    expect(maxAbsDiff(base, other)).toBeGreaterThan(1e-3);
  });

  it("uses T5's relative position buckets", () => {
    expect([0, 1, 7, 8, 12, 127, 500].map((r) => relativePositionBucket(r))).toEqual([0, 17, 23, 24, 25, 31, 31]);
    expect([-1, -7, -8, -20, -200].map((r) => relativePositionBucket(r))).toEqual([1, 7, 8, 10, 15]);
  });

  it("has a no_mask variant that takes the real tokens alone", async () => {
    const nm = await buildWanFixture(join(tmp.dir, 'no-mask'), { textEncoder: 'no_mask' });
    const s = await session(nm.components.text_encoder!.modelPath);
    expect(Object.keys(metadata(s, 'input'))).toEqual(['input_ids']);
    const out = (await s.run({ input_ids: i64([22, 104, 63, 1], [1, 4]) })).last_hidden_state!;
    expect(out.dims).toEqual([1, 4, 4096]);
  });
});

describe('transformer (WanTransformer3DModel contract)', () => {
  const latents = (T: number, h: number, w: number, phase = 1): ort.Tensor => f32(wave(16 * T * h * w, phase), [1, 16, T, h, w]);
  const text = (phase: number): ort.Tensor => f32(wave(512 * 4096, phase, 0.5), [1, 512, 4096]);

  it('has the names, dtypes and symbolic dims of the contract', async () => {
    const s = await session(fx.components.transformer!.modelPath);
    expect(metadata(s, 'input')).toEqual({
      hidden_states: { type: 'float32', shape: ['batch_size', 16, 'num_frames', 'height', 'width'] },
      timestep: { type: 'float32', shape: ['batch_size'] },
      encoder_hidden_states: { type: 'float32', shape: ['batch_size', 'sequence_length', 4096] },
    });
    expect(metadata(s, 'output')).toEqual({ sample: { type: 'float32', shape: ['batch_size', 16, 'num_frames', 'height', 'width'] } });
  });

  it('returns the latent shape and depends on every input', async () => {
    const s = await session(fx.components.transformer!.modelPath);
    const run = async (l: ort.Tensor, t: number, c: ort.Tensor): Promise<Float32Array> =>
      values((await s.run({ hidden_states: l, timestep: f32([t], [1]), encoder_hidden_states: c })).sample!);
    const base = await run(latents(5, 8, 6), 999, text(2));
    expect(base.length).toBe(16 * 5 * 8 * 6);
    expect(allFinite(base)).toBe(true);
    expect(maxAbsDiff(base, await run(latents(5, 8, 6, 3), 999, text(2)))).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(base, await run(latents(5, 8, 6), 500, text(2)))).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(base, await run(latents(5, 8, 6), 999, text(4)))).toBeGreaterThan(1e-3);
  });

  it('has int64-timestep and renamed-output variants', async () => {
    const v = await buildWanFixture(join(tmp.dir, 'int64'), { timestepDtype: 'int64', transformerOutput: 'noise_pred' });
    const s = await session(v.components.transformer!.modelPath);
    expect(metadata(s, 'input').timestep).toEqual({ type: 'int64', shape: ['batch_size'] });
    const out = await s.run({ hidden_states: latents(1, 4, 4), timestep: i64([999], [1]), encoder_hidden_states: text(2) });
    expect(out.noise_pred!.dims).toEqual([1, 16, 1, 4, 4]);
  });
});

describe('vae_decoder (causal WAN VAE)', () => {
  const T = 5;
  const h = 6;
  const w = 4;
  const latentData = wave(16 * T * h * w, 5, 2);

  it('cached: one latent frame + caches in, four frames + caches out', async () => {
    const s = await session(fx.components.vae_decoder!.modelPath);
    const inputs = metadata(s, 'input');
    expect(inputs.latent_sample).toEqual({ type: 'float32', shape: ['batch_size', 16, 1, 'latent_height', 'latent_width'] });
    expect(inputs.first_chunk).toEqual({ type: 'bool', shape: [1] });
    const outputs = metadata(s, 'output');
    expect(outputs.sample).toEqual({ type: 'float32', shape: ['batch_size', 3, 4, 'height', 'width'] });
    fx.vaeCaches.forEach((c, i) => {
      expect(inputs[`feat_cache_in.${i}`]?.shape.slice(1, 3)).toEqual([c.channels, 2]);
      expect(outputs[`feat_cache_out.${i}`]).toBeDefined();
    });
  });

  it('decodes frame by frame through the caches to exactly the whole-clip frames', async () => {
    const cached = await session(fx.components.vae_decoder!.modelPath);
    const wholeS = await session(whole.components.vae_decoder!.modelPath);
    const ref = (await wholeS.run({ latent_sample: f32(latentData, [1, 16, T, h, w]) })).sample!;
    expect(ref.dims).toEqual([1, 3, 1 + 4 * (T - 1), 8 * h, 8 * w]);
    const refData = values(ref);
    const N = ref.dims[2]!;
    const plane = 64 * h * w;
    let caches: Record<string, ort.Tensor> = Object.fromEntries(
      fx.vaeCaches.map((c, i) => [`feat_cache_in.${i}`, f32(new Float32Array(c.channels * 2 * h * c.scale * w * c.scale), [1, c.channels, 2, h * c.scale, w * c.scale])]),
    );
    let frame = 0;
    let worst = 0;
    for (let t = 0; t < T; t++) {
      const one = new Float32Array(16 * h * w);
      for (let c = 0; c < 16; c++) one.set(latentData.subarray((c * T + t) * h * w, (c * T + t + 1) * h * w), c * h * w);
      const out = await cached.run({
        latent_sample: f32(one, [1, 16, 1, h, w]),
        first_chunk: new ort.Tensor('bool', Uint8Array.of(t === 0 ? 1 : 0), [1]),
        ...caches,
      });
      caches = Object.fromEntries(fx.vaeCaches.map((_, i) => [`feat_cache_in.${i}`, out[`feat_cache_out.${i}`]!]));
      const d = values(out.sample!);
      for (let k = 0; k < (t === 0 ? 1 : 4); k++, frame++) {
        for (let c = 0; c < 3; c++) {
          worst = Math.max(worst, maxAbsDiff(d.subarray((c * 4 + k) * plane, (c * 4 + k + 1) * plane), refData.subarray((c * N + frame) * plane, (c * N + frame + 1) * plane)));
        }
      }
    }
    expect(frame).toBe(N);
    expect(worst).toBeLessThan(1e-4);
    expect(maxAbs(refData)).toBeGreaterThan(0.05);
  });

  it('whole: decodes a single latent frame to one image', async () => {
    const s = await session(whole.components.vae_decoder!.modelPath);
    const out = (await s.run({ latent_sample: f32(latentData.subarray(0, 16 * h * w), [1, 16, 1, h, w]) })).sample!;
    expect(out.dims).toEqual([1, 3, 1, 8 * h, 8 * w]);
  });
});
