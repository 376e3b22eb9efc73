import { afterEach, describe, expect, it } from 'vitest';
import { PngEncodePool, defaultPngThreadEntry } from '../../../src-main/engine/media/png-pool.ts';
import { encodeGeneratedPng } from '../../../src-main/engine/media/png-generated.ts';
import { makeThumbnail } from '../../../src-main/engine/media/thumbnail.ts';

function noise(width: number, height: number, channels: 3 | 4, seed: number): Uint8Array {
  const data = new Uint8Array(width * height * channels);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    // Smooth gradient plus a little noise, so every row filter gets chosen somewhere.
    data[i] = ((i % (width * channels)) + (s >>> 29)) & 0xff;
  }
  return data;
}

const pools: PngEncodePool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('PngEncodePool', () => {
  it('gives the same bytes as encodeGeneratedPng + makeThumbnail, in order, on its thread', async () => {
    const pool = new PngEncodePool();
    pools.push(pool);
    const jobs = [
      { width: 320, height: 200, channels: 3 as const, seed: 1 },
      { width: 64, height: 96, channels: 4 as const, seed: 2 },
      { width: 1024, height: 1024, channels: 3 as const, seed: 3 },
    ].map((j) => ({ ...j, rgb: noise(j.width, j.height, j.channels, j.seed), parameters: `a cat ${j.seed}\nSteps: 20`, recipe: { seed: j.seed, prompt: 'a ütf-8 cat' } }));
    const expected = jobs.map((j) => ({
      png: encodeGeneratedPng({ rgb: j.rgb, width: j.width, height: j.height, channels: j.channels, parameters: j.parameters, recipe: j.recipe }),
      thumb: makeThumbnail({ width: j.width, height: j.height, channels: j.channels, data: j.rgb }, 256).png,
    }));
    const results = await Promise.all(jobs.map((j) => pool.encode({ ...j, thumbMaxSide: 256 })));
    expect(pool.fallbackReason).toBeNull();
    results.forEach((r, i) => {
      expect(Buffer.from(r.png).equals(Buffer.from(expected[i]!.png))).toBe(true);
      expect(Buffer.from(r.thumb).equals(Buffer.from(expected[i]!.thumb))).toBe(true);
    });
    // Not transferred: the caller's pixels are untouched.
    expect(jobs[0]!.rgb.byteLength).toBe(320 * 200 * 3);
  });

  it('moves the pixels when asked to', async () => {
    const pool = new PngEncodePool();
    pools.push(pool);
    const rgb = noise(16, 16, 3, 9);
    const expected = encodeGeneratedPng({ rgb, width: 16, height: 16, parameters: 'p', recipe: {} });
    const r = await pool.encode({ rgb, width: 16, height: 16, parameters: 'p', recipe: {}, transferPixels: true });
    expect(rgb.byteLength).toBe(0);
    expect(Buffer.from(r.png).equals(Buffer.from(expected))).toBe(true);
  });

  it('surfaces the encoder error with its message', async () => {
    const pool = new PngEncodePool();
    pools.push(pool);
    await expect(pool.encode({ rgb: new Uint8Array(10), width: 16, height: 16, parameters: 'p', recipe: {} })).rejects.toThrow(
      encodeError(() => encodeGeneratedPng({ rgb: new Uint8Array(10), width: 16, height: 16, parameters: 'p', recipe: {} })),
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(pool.encode({ rgb: new Uint8Array(16 * 16 * 3), width: 16, height: 16, parameters: 'p', recipe: cyclic })).rejects.toThrow(
      /the recipe cannot be stored as JSON/,
    );
    // The thread survives a failed request.
    const ok = await pool.encode({ rgb: new Uint8Array(4 * 4 * 3), width: 4, height: 4, parameters: 'p', recipe: {} });
    expect(ok.png.byteLength).toBeGreaterThan(0);
  });

  it('falls back to encoding in-thread when the thread cannot start, and says why once', async () => {
    const logged: string[] = [];
    const pool = new PngEncodePool({ entry: new URL('./no-such-png-thread.ts', import.meta.url), log: (m) => logged.push(m) });
    pools.push(pool);
    const rgb = noise(32, 32, 3, 4);
    const expected = encodeGeneratedPng({ rgb, width: 32, height: 32, parameters: 'p', recipe: { a: 1 } });
    const [a, b] = await Promise.all([
      pool.encode({ rgb, width: 32, height: 32, parameters: 'p', recipe: { a: 1 } }),
      pool.encode({ rgb, width: 32, height: 32, parameters: 'p', recipe: { a: 1 } }),
    ]);
    const c = await pool.encode({ rgb, width: 32, height: 32, parameters: 'p', recipe: { a: 1 } });
    for (const r of [a, b, c]) expect(Buffer.from(r.png).equals(Buffer.from(expected))).toBe(true);
    expect(pool.fallbackReason).not.toBeNull();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/could not start/);
  });

  it('resolves the thread entry for source and for the build', () => {
    expect(defaultPngThreadEntry('file:///x/src-main/engine/media/png-pool.ts').href).toBe('file:///x/src-main/engine/media/png-thread.ts');
    expect(defaultPngThreadEntry('file:///nowhere/out/main/pipelines/sdxl.js').href).toBe('file:///nowhere/out/main/pipelines/png-thread.js');
  });
});

function encodeError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}
