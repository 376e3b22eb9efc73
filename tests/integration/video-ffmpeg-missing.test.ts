/**
 * ffmpeg is looked for at start-up: when it cannot be found, a video job fails at once with how to
 * install it — not after minutes of denoising — while image jobs still run.
 */
import { describe, expect, it, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../src-main/engine/engine.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a video job without ffmpeg', () => {
  it('fails at once naming what is missing and how to install it; image jobs are unaffected', async () => {
    const data = mkdtempSync(join(tmpdir(), 'noffmpeg-'));
    dirs.push(data);
    const testPipeline = fileURLToPath(new URL('../fixtures/pipelines/test-pipeline.ts', import.meta.url));
    const model = { id: 'test-wan', family: 'wan' as const, path: data };
    const engine = await Engine.open({
      dataDir: data,
      frontDoor: 'cli',
      role: 'runner',
      ffmpegPath: join(data, 'no-such-ffmpeg'),
      pipelineOverrides: { wan: { module: testPipeline, model } },
    });
    const video = await engine.handlers['jobs.enqueue']({ request: { type: 'video_fast', prompt: 'waves at night', steps: 2 } });
    const image = await engine.handlers['jobs.enqueue']({ request: { type: 'image_fast', prompt: 'waves at night', steps: 2 } });
    const failed = await engine.waitFor(video.id);
    expect(failed.status).toMatchObject({ state: 'failed', code: 'ffmpeg_missing' });
    const message = (failed.status as { message: string }).message;
    expect(message).toContain('no-such-ffmpeg');
    expect(message).toMatch(/Settings → Video/);
    expect((await engine.waitFor(image.id)).status.state).toBe('done');
    await engine.close();
  });
});
