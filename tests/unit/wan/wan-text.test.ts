import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrtRuntime } from '../../../src-main/engine/inference/runtime.ts';
import { cleanWanPrompt, htmlUnescape } from '../../../src-main/engine/pipelines/wan/prompt.ts';
import { encodeWanText } from '../../../src-main/engine/pipelines/wan/text.ts';
import type { WanTextEncoder } from '../../../src-main/engine/pipelines/wan/text.ts';
import { Umt5Tokenizer } from '../../../src-main/engine/pipelines/wan/tokenizer.ts';
import { resolveTextEncoderIo } from '../../../src-main/engine/models/wan-validator.ts';
import type { IoValue } from '../../../src-main/engine/models/wan-validator.ts';
import { inputInfo, outputInfo } from '../../../src-main/engine/inference/runtime.ts';
import { buildWanFixture } from '../../fixtures/wan/build-wan.ts';
import { maxAbs, maxAbsDiff } from '../fixtures/ort-helpers.ts';
import { tempDir } from './helpers.ts';

describe('WanPipeline prompt cleaning', () => {
  // Expected values printed by Python 3.11: regex.sub(r"\s+", " ", html.unescape(html.unescape(t)).strip()).strip()
  it.each([
    ['  A cat &amp;amp; a dog  ', 'A cat & a dog'],
    ['&lt;b&gt;bold&lt;/b&gt;', '<b>bold</b>'],
    ['caf&eacute; &#x41;&#66; &#128; &#0; &#1; &#xD800; &#1114112;', 'café AB € \ufffd \ufffd \ufffd'],
    ['&ampx &notanentity; &copy2024 &hellip &hellip; &frac12cup', '&x ¬anentity; ©2024 &hellip … ½cup'],
    ['tab\there\nnew\u3000line\x85end\u00a0nb\u200bzw', 'tab here new line end nb\u200bzw'],
    ['\x1cleading and trailing\x1f', 'leading and trailing'],
    ['a&#13;b&#9;c', 'a b c'],
    ['&amp;nbsp;x&nbsp;&nbsp;y', 'x y'],
    ['x\x1c\x1dy', 'x\x1c\x1dy'],
    ['\ufeffbom', '\ufeffbom'],
  ])('%j → %j', (input, expected) => {
    expect(cleanWanPrompt(input)).toBe(expected);
  });

  it('leaves text without references alone', () => {
    expect(htmlUnescape('no refs & no semicolons')).toBe('no refs & no semicolons');
  });
});

let tmp: { dir: string; cleanup: () => Promise<void> };
let masked: WanTextEncoder;
let unmasked: WanTextEncoder;
const runtime = new OrtRuntime({ sessionOptions: { intraOpNumThreads: 2, logSeverityLevel: 3 } });

async function encoder(dir: string): Promise<WanTextEncoder> {
  const { session } = await runtime.session(join(dir, 'text_encoder', 'model.onnx'), { providers: ['cpu'] });
  const map = (v: ReturnType<typeof inputInfo>[number]): IoValue => ({ name: v.name, type: v.type ?? '', shape: v.shape ?? [] });
  const problems: string[] = [];
  const io = resolveTextEncoderIo(inputInfo(session).map(map), outputInfo(session).map(map), problems);
  expect(problems).toEqual([]);
  return { session, io: io!, tokenizer: await Umt5Tokenizer.fromDirectory(join(dir, 'tokenizer')) };
}

beforeAll(async () => {
  tmp = await tempDir('wan-text');
  masked = await encoder((await buildWanFixture(join(tmp.dir, 'mask'))).dir);
  unmasked = await encoder((await buildWanFixture(join(tmp.dir, 'no-mask'), { textEncoder: 'no_mask' })).dir);
});
afterAll(async () => {
  await runtime.releaseAll();
  await tmp.cleanup();
});

describe('UMT5 tokenization (tokenizer.json through @huggingface/tokenizers)', () => {
  it('pads to 512 with <pad> after </s>', () => {
    const t = masked.tokenizer.encode('A cat walks', 512);
    expect(t.ids.length).toBe(512);
    expect(Array.from(t.ids.slice(0, 5))).toEqual([199, 22, 104, 1, 0]);
    expect(t.length).toBe(4);
    expect(t.truncated).toBe(false);
  });

  it('truncates a long prompt and keeps </s> last', () => {
    const t = masked.tokenizer.encode(Array.from({ length: 700 }, () => 'cat').join(' '), 512);
    expect(t.length).toBe(512);
    expect(t.ids[511]).toBe(1);
    expect(t.ids[510]).toBe(22);
    expect(t.truncated).toBe(true);
  });
});

describe('encodeWanText', () => {
  it('zeroes the rows after the real tokens (seq_lens from the mask)', async () => {
    const e = await encodeWanText(runtime, masked, '  A   cat &amp; a dog ');
    expect(e.tokens).toBe(6); // ▁A ▁cat ▁& ▁a ▁dog </s>
    expect(e.states.length).toBe(512 * 4096);
    expect(maxAbs(e.states.subarray(5 * 4096, 6 * 4096))).toBeGreaterThan(0.01);
    expect(maxAbs(e.states.subarray(6 * 4096))).toBe(0);
    expect(e.note).toBeNull();
  });

  it('gives the same states from an export without attention_mask, fed the real tokens only', async () => {
    const a = await encodeWanText(runtime, masked, 'a dog running in a field at sunset');
    const b = await encodeWanText(runtime, unmasked, 'a dog running in a field at sunset');
    expect(b.tokens).toBe(a.tokens);
    expect(maxAbsDiff(a.states, b.states)).toBeLessThan(1e-4);
    expect(maxAbs(b.states.subarray(b.tokens * 4096))).toBe(0);
  });

  it('encodes the empty negative prompt as </s> alone', async () => {
    const e = await encodeWanText(runtime, masked, '');
    expect(e.tokens).toBe(1);
    expect(maxAbs(e.states.subarray(4096))).toBe(0);
  });
});
