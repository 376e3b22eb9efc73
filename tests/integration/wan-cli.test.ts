/**
 * The WAN job types end to end from the command line on the CPU with the project's tiny
 * WAN-contract models: image types write a PNG with the recipe, video types an MP4 that ffprobe
 * reads as H.264 with the right frame count and size; frames that are not 4k+1 are refused with the
 * rule; an enhanced type with no enhancer installed fails at once saying so.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWanFixture } from '../fixtures/wan/build-wan.ts';
import { readImageRecipeMetadata } from '../../src-main/engine/media/png-generated.ts';
import { probeVideo } from '../../src-main/engine/media/video-probe.ts';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { studio, studioChild, untilTrue } from '../helpers/cli.ts';

let root: string;
let models: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'wan-cli-'));
  models = join(root, 'models');
  await buildWanFixture(join(models, 'wan-tiny'));
}, 120_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

interface JobJson {
  id: string;
  status: { state: string; code?: string; message?: string };
  files?: string[];
}

async function generate(type: string, extra: string[]): Promise<{ code: number | null; job: JobJson }> {
  const r = await studio(['--data', join(root, 'data'), 'generate', '--type', type, '--models', models, '--wait', '--json', '--steps', '2', '--width', '256', '--height', '256', ...extra]);
  return { code: r.code, job: JSON.parse(r.stdout) as JobJson };
}

/** `src` again under `dst`, every file a link to the original (how a Hugging Face cache snapshot looks). */
function linkTree(src: string, dst: string): void {
  mkdirSync(dst, { recursive: true });
  for (const entry of readdirSync(src, { withFileTypes: true })) {
    if (entry.isDirectory()) linkTree(join(src, entry.name), join(dst, entry.name));
    else symlinkSync(join(src, entry.name), join(dst, entry.name));
  }
}

describe('WAN job types from the CLI', () => {
  it.skipIf(process.platform === 'win32')('finds a model folder linked into the models folder, its files links too, and runs it', async () => {
    const snapshot = join(root, 'hf-cache', 'snapshots', 'abc123');
    linkTree(join(models, 'wan-tiny'), snapshot);
    const linked = join(root, 'linked-models');
    mkdirSync(linked);
    symlinkSync(snapshot, join(linked, 'wan-linked'), 'dir');
    const list = await studio(['--data', join(root, 'data-linked'), 'models', 'list', '--models', linked, '--json']);
    const found = JSON.parse(list.stdout) as { id: string; family: string; status: string; sizeBytes: number }[];
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ id: 'wan-linked', family: 'wan', status: 'ready' });
    // Linked files count at their targets' size.
    expect(found[0]!.sizeBytes).toBeGreaterThan(100_000);
    const r = await studio(['--data', join(root, 'data-linked'), 'generate', '--type', 'image_fast', '--models', linked, '--prompt', 'a linked model', '--steps', '1', '--width', '256', '--height', '256', '--wait', '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as JobJson).files).toHaveLength(1);
  });

  it.each(['image_fast', 'image_high'])('%s writes one PNG carrying its recipe', async (type) => {
    const { code, job } = await generate(type, ['--prompt', 'a paper boat on a pond', '--seed', '5']);
    expect(code).toBe(0);
    expect(job.files).toHaveLength(1);
    const meta = readImageRecipeMetadata(readFileSync(job.files![0]!));
    expect(meta.width).toBe(256);
    expect(meta.parameters!.parsed).toMatchObject({ prompt: 'a paper boat on a pond', steps: 2, seed: '5' });
    expect(meta.recipe!.value).toMatchObject({ jobType: type, seed: 5 });
  });

  it.each([
    ['video_fast', '17'],
    ['video_high', '9'],
  ])('%s writes an H.264 MP4 with %s frames at 16 fps', async (type, frames) => {
    const { code, job } = await generate(type, ['--prompt', 'waves breaking at dusk', '--seed', '3', '--frames', frames]);
    expect(code).toBe(0);
    expect(job.files).toHaveLength(1);
    const probe = await probeVideo(job.files![0]!);
    expect(probe).toMatchObject({ codec: 'h264', pixFmt: 'yuv420p', width: 256, height: 256, frames: Number(frames), faststart: true });
    expect(probe.fps).toBeCloseTo(16, 5);
    expect(probe.tags.description ?? probe.tags.DESCRIPTION).toContain('waves breaking at dusk');
  });

  it('refuses frames that are not 4k+1, with the rule, and queues nothing', async () => {
    const r = await studio(['--data', join(root, 'data-bad'), 'generate', '--type', 'video_fast', '--prompt', 'x', '--frames', '16', '--models', models]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/frames must be 4k\+1/);
    const list = await studio(['--data', join(root, 'data-bad'), 'jobs', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toEqual([]);
  });

  it('fails an enhanced job at once when no enhancer is installed, naming the plain type', async () => {
    const { code, job } = await generate('image7b_fast_enhanced', ['--prompt', 'a fox']);
    expect(code).toBe(1);
    expect(job.status).toMatchObject({ state: 'failed', code: 'enhancer_not_installed' });
    expect(job.status.message).toMatch(/enhancer not installed: .*Qwen2\.5 Instruct.*or choose image_fast/);
  });

  it('cancelling mid-video leaves no partial file and frees the worker for the next job', async () => {
    const data = join(root, 'data-cancel');
    const runner = studioChild(['--data', data, 'generate', '--type', 'video_fast', '--models', models, '--prompt', 'a long clip', '--steps', '150', '--frames', '17', '--width', '256', '--height', '256', '--wait', '--json']);
    let out = '';
    runner.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const closed = new Promise((r) => runner.on('close', r));
    let jobId = '';
    await untilTrue('the video job to be denoising', async () => {
      if (!existsSync(join(data, 'studio.db'))) return false;
      const jobs = JSON.parse((await studio(['--data', data, 'jobs', 'list', '--json'])).stdout || '[]') as { id: string; status: { state: string; step?: number } }[];
      const running = jobs.find((j) => j.status.state === 'running' && (j.status.step ?? 0) >= 2);
      if (running) jobId = running.id;
      return !!running;
    });
    // A second job waits behind it in the same worker slot.
    const next = await studio(['--data', data, 'generate', '--type', 'image_fast', '--models', models, '--prompt', 'after the cancel', '--steps', '2', '--width', '256', '--height', '256', '--json']);
    expect(next.code).toBe(0);
    const nextId = (JSON.parse(next.stdout) as { id: string }).id;
    expect((await studio(['--data', data, 'jobs', 'cancel', jobId])).code).toBe(0);
    await closed;
    expect((JSON.parse(out) as JobJson).status.state).toBe('cancelled');
    const videos = existsSync(join(data, 'library', 'video_fast')) ? readdirSync(join(data, 'library', 'video_fast'), { recursive: true }).map(String).filter((f) => /\.(mp4|tmp)$/.test(f) || f.includes('ourvidz-tmp')) : [];
    expect(videos).toEqual([]);
    expect(readdirSync(join(data, 'staging'))).toEqual([]);
    // The runner (the CLI that waited) exited; a new runner picks the queued job up and finishes it.
    const finish = await studio(['--data', data, 'generate', '--type', 'image_fast', '--models', models, '--prompt', 'after the cancel', '--steps', '2', '--width', '256', '--height', '256', '--wait', '--json', '--idempotency-key', `k-${nextId}`]);
    expect(finish.code).toBe(0);
    const list = JSON.parse((await studio(['--data', data, 'jobs', 'list', '--json'])).stdout) as { id: string; status: { state: string } }[];
    expect(list.find((j) => j.id === nextId)?.status.state).toBe('done');
  });
});

