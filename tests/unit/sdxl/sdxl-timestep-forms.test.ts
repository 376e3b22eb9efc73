/**
 * The SDXL pipeline on every way a real export declares the UNet's `timestep`: 0-d (Optimum >= 1.24,
 * optimum-onnx), a fixed [1], or one value per row ([steps], older Optimum); as float32, float16 or
 * int64. A job of 6 images with guidance > 1 runs the UNet on several rows at once, which is where a
 * 0-d export used to fail ("Tensor's size(1) does not match data length(…)"). Every form must give
 * the same pixels as the per-row float32 export: the schedule's timesteps are whole numbers, exact
 * in all three element types, and the fixture UNet's output depends on the timestep.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSdxlFixture } from '../../fixtures/sdxl/build-sdxl.ts';
import type { TimestepShape } from '../../fixtures/sdxl/unet.ts';
import { resolveRequest } from '../../../src-preload/contract/catalog.ts';
import { SdxlPipeline } from '../../../src-main/engine/pipelines/sdxl/index.ts';
import type { PipelineResult } from '../../../src-main/engine/pipelines/types.ts';
import { decodePng } from '../../../src-main/engine/media/png-decode.ts';
import { openSession, makeTempDir } from '../fixtures/ort-helpers.ts';

const SHAPES: readonly TimestepShape[] = ['scalar', 'one', 'steps'];
const DTYPES = ['float32', 'float16', 'int64'] as const;
const DECLARED: Record<TimestepShape, unknown[]> = { scalar: [], one: [1], steps: ['steps'] };

let tmp: { dir: string; cleanup: () => Promise<void> };
const pipeline = new SdxlPipeline();
let reference: Uint8Array[];

beforeAll(async () => {
  tmp = await makeTempDir('sdxl-timestep-forms');
  reference = await pixels(await generate('steps', 'float32'));
}, 120_000);
afterAll(async () => {
  await pipeline.unload();
  await tmp.cleanup();
});

/** Builds the fixture with this timestep form and runs a 6-image, guidance 5 job on it. */
async function generate(shape: TimestepShape, dtype: (typeof DTYPES)[number]): Promise<PipelineResult> {
  const fx = await buildSdxlFixture(join(tmp.dir, `${shape}-${dtype}`), { timestepShape: shape, timestepDtype: dtype });
  const unet = await openSession(fx.components.unet!.modelPath);
  const declared = unet.inputMetadata.find((m) => m.name === 'timestep');
  expect(declared).toMatchObject({ type: dtype, shape: DECLARED[shape] });
  await unet.release();
  const stagingDir = join(tmp.dir, `out-${shape}-${dtype}`);
  await mkdir(stagingDir);
  const { type, params } = resolveRequest(
    { type: 'sdxl_image_fast', prompt: 'a lighthouse at dusk', seed: 42, steps: 3, width: 256, height: 256, guidance: 5 },
    () => 0,
  );
  expect(params.count).toBe(6);
  // maxBatch 4: the UNet sees 8 rows, then 4 (each image twice under classifier-free guidance).
  return pipeline.run(
    { jobId: `ts-${shape}-${dtype}`, jobType: type, params, model: { id: 'sdxl-tiny', family: 'sdxl', path: fx.dir }, enhancer: null, stagingDir, maxBatch: 4, providers: ['cpu'] },
    { signal: new AbortController().signal, progress: () => undefined, log: () => undefined },
  );
}

async function pixels(result: PipelineResult): Promise<Uint8Array[]> {
  expect(result.outputs).toHaveLength(6);
  return result.outputs.map((o) => decodePng(readFileSync(o.file)).data);
}

describe('SDXL pipeline on each timestep form an export uses', () => {
  it('draws six different images on the per-row float32 export (the reference form)', () => {
    expect(new Set(reference.map((p) => Buffer.from(p).toString('base64'))).size).toBe(6);
  });

  for (const shape of SHAPES) {
    for (const dtype of DTYPES) {
      if (shape === 'steps' && dtype === 'float32') continue;
      it(`runs a 6-image guided job on timestep ${dtype}${JSON.stringify(DECLARED[shape])} with the reference pixels`, async () => {
        const images = await pixels(await generate(shape, dtype));
        for (let i = 0; i < 6; i++) expect(Buffer.from(images[i]!).equals(Buffer.from(reference[i]!)), `image ${i}`).toBe(true);
      });
    }
  }
});
