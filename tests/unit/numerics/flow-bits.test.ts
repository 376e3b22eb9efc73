import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFlowScheduler, parseFlowSchedulerConfig, WAN21_SCHEDULER_JSON } from '../../../src-main/engine/numerics/flow/index.ts';
import type { FlowSamplerName } from '../../../src-main/engine/numerics/flow/index.ts';
import { torchRandn } from '../../../src-main/engine/numerics/torch-randn.ts';

/**
 * The exact bits of every step, pinned. flow-schedulers.test.ts compares with diffusers within
 * 1e-5; these hashes (the first 16 hex digits of each step output's sha256, recorded from the
 * straightforward per-operation implementation before the loops were specialised) catch any
 * change of even one last bit, e.g. from reordering or dropping a float32 rounding.
 */
const EXPECTED: Record<string, readonly string[]> = {
  'unipc wan': ['4921f896317bb3a7', 'e93aeae1d45f7980', '9f31aae1a664924f', 'a2b9eacff294dce5', 'e2f008d76db7824a', 'be58076829fb3789'],
  'flow_euler wan': ['0a2f799d311718ef', '0b89474fdce587c8', 'c67506559491da5c', '454f47e7b3754c35', 'c8fd870004bfb1e3', '822f1586bf755cff'],
  'unipc order1': ['4921f896317bb3a7', 'c9186e3c4d91889d', '2411054ff12757df', '1af9c066fcbc2170', 'd834abce0c713332', '505f0ae35e4c262d'],
  'unipc order3': ['4921f896317bb3a7', 'e93aeae1d45f7980', 'b1ce9803ce1559cc', '62acc463283fb556', 'ae4a9c43f1039de4', '2e1e7a9d9b0f63b8'],
  'unipc order3_sigma_min_bh1': ['4921f896317bb3a7', '8f8d6abe6daed909', 'd614586431dd6746', '5d7067b24d872360', 'd2876179b83d8cd8', 'b790409cbfba6680'],
  'unipc no_lower_order_final': ['4921f896317bb3a7', 'e93aeae1d45f7980', '9f31aae1a664924f', 'a2b9eacff294dce5', 'e2f008d76db7824a', '4c7f25b8ca4aee7c'],
  'unipc disable_corrector': ['4921f896317bb3a7', 'e93aeae1d45f7980', '902537f04c107c9d', 'cbf7c7f9d3669a57', '382947b366388f80', 'eb098b258cb9eec8'],
};

const VARIANTS: Record<string, Record<string, unknown>> = {
  wan: {},
  order1: { solver_order: 1 },
  order3: { solver_order: 3 },
  order3_sigma_min_bh1: { solver_order: 3, solver_type: 'bh1', final_sigmas_type: 'sigma_min' },
  no_lower_order_final: { lower_order_final: false, final_sigmas_type: 'sigma_min' },
  disable_corrector: { disable_corrector: [1, 3] },
};

const sha = (v: Float32Array) =>
  createHash('sha256').update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)).digest('hex').slice(0, 16);

describe('flow schedulers keep their exact float32 results', () => {
  it.each(Object.keys(EXPECTED))('%s: 6 steps', (name) => {
    const [sampler, variant] = name.split(' ') as [FlowSamplerName, string];
    const s = createFlowScheduler(sampler, parseFlowSchedulerConfig({ ...WAN21_SCHEDULER_JSON, ...VARIANTS[variant] }));
    s.setTimesteps(6);
    let x = torchRandn([1, 16, 2, 8, 8], 42);
    const hashes: string[] = [];
    for (let i = 0; i < 6; i++) {
      x = s.step(torchRandn([1, 16, 2, 8, 8], 100 + i), i, x);
      hashes.push(sha(x));
    }
    expect(hashes).toEqual(EXPECTED[name]);
  });
});
