/**
 * The four *_enhanced job types end to end from the CLI: the Qwen enhancer (the project's tiny
 * Qwen2-contract model, run through transformers.js in its own worker) rewrites the prompt first,
 * then WAN renders it; the job and the asset keep both prompts, and a rewrite that fails its checks
 * falls back to the original with a visible warning.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWanFixture } from '../fixtures/wan/build-wan.ts';
import { buildQwenFixture, GOOD_REPLY } from '../fixtures/qwen/build-qwen.ts';
import { readImageRecipeMetadata } from '../../src-main/engine/media/png-generated.ts';
import { probeVideo } from '../../src-main/engine/media/video-probe.ts';
import { Database } from '../../src-main/engine/db/database.ts';
import { studio } from '../helpers/cli.ts';

let root: string;
let models: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'enhanced-cli-'));
  models = join(root, 'models');
  await buildWanFixture(join(models, 'wan-tiny'));
  await buildQwenFixture(join(models, 'qwen-tiny'));
}, 180_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

interface JobJson {
  id: string;
  status: { state: string };
  files?: string[];
  enhancedPrompt: string | null;
  enhanceWarning: string | null;
}

async function generate(data: string, modelDir: string, type: string, extra: string[] = []): Promise<JobJson> {
  const r = await studio(['--data', data, 'generate', '--type', type, '--models', modelDir, '--wait', '--json', '--steps', '2', '--width', '256', '--height', '256', '--seed', '9', '--prompt', 'a fox in snow', ...extra]);
  if (r.code !== 0) throw new Error(`generate exited ${r.code}: ${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout) as JobJson;
}

function assetPrompts(data: string, jobId: string): { prompt: string; enhanced_prompt: string | null } {
  const db = new Database(join(data, 'studio.db'));
  try {
    return db.get<{ prompt: string; enhanced_prompt: string | null }>('SELECT prompt, enhanced_prompt FROM assets WHERE job_id = ?', jobId)!;
  } finally {
    db.close();
  }
}

describe('enhanced job types', () => {
  it.each(['image7b_fast_enhanced', 'image7b_high_enhanced'])('%s renders the rewrite and keeps both prompts', async (type) => {
    const data = join(root, `data-${type}`);
    const job = await generate(data, models, type);
    expect(job.status.state).toBe('done');
    expect(job.enhancedPrompt).toBe(GOOD_REPLY);
    expect(job.enhanceWarning).toBeNull();
    const meta = readImageRecipeMetadata(readFileSync(job.files![0]!));
    expect(meta.parameters!.parsed.prompt).toBe(GOOD_REPLY);
    expect(meta.parameters!.parsed.params['Original prompt']).toBe('a fox in snow');
    expect(meta.recipe!.value).toMatchObject({ enhancedPrompt: GOOD_REPLY });
    expect(assetPrompts(data, job.id)).toEqual({ prompt: 'a fox in snow', enhanced_prompt: GOOD_REPLY });
  });

  it.each(['video7b_fast_enhanced', 'video7b_high_enhanced'])('%s writes the MP4 of the rewrite with both prompts recorded', async (type) => {
    const data = join(root, `data-${type}`);
    const job = await generate(data, models, type, ['--frames', '9']);
    expect(job.status.state).toBe('done');
    expect(job.enhancedPrompt).toBe(GOOD_REPLY);
    const probe = await probeVideo(job.files![0]!);
    expect(probe).toMatchObject({ codec: 'h264', frames: 9, width: 256, height: 256 });
    expect(assetPrompts(data, job.id)).toEqual({ prompt: 'a fox in snow', enhanced_prompt: GOOD_REPLY });
  });

  it('keeps the original prompt with a visible warning when the rewrite is a refusal', async () => {
    const refusing = join(root, 'models-refusal');
    await buildWanFixture(join(refusing, 'wan-tiny'));
    await buildQwenFixture(join(refusing, 'qwen-refusal'), { variant: 'refusal' });
    const data = join(root, 'data-refusal');
    const job = await generate(data, refusing, 'image7b_fast_enhanced');
    expect(job.status.state).toBe('done');
    expect(job.enhancedPrompt).toBe('a fox in snow');
    expect(job.enhanceWarning).toMatch(/refus/);
  });

  it('uses a rewrite the user already reviewed without running the enhancer', async () => {
    const data = join(root, 'data-reviewed');
    const job = await generate(data, join(root, 'models'), 'image7b_fast_enhanced', ['--enhanced-prompt', 'a fox in deep snow, cinematic']);
    expect(job.status.state).toBe('done');
    expect(assetPrompts(data, job.id)).toEqual({ prompt: 'a fox in snow', enhanced_prompt: 'a fox in deep snow, cinematic' });
  });
});

describe('the Enhance button (prompts.enhance)', () => {
  it('returns a rewrite to review, made in the enhancer worker, and says when none is installed', async () => {
    const { Engine } = await import('../../src-main/engine/engine.ts');
    const engine = await Engine.open({ dataDir: join(root, 'data-button'), frontDoor: 'cli', role: 'runner', modelDirs: [models] });
    try {
      const result = await engine.handlers['prompts.enhance']({ prompt: 'a fox in snow', type: 'video_fast', seed: 1 });
      expect(result).toMatchObject({ original: 'a fox in snow', text: GOOD_REPLY, warning: null, model: 'qwen-tiny' });
    } finally {
      await engine.close();
    }
    const bare = await Engine.open({ dataDir: join(root, 'data-button-bare'), frontDoor: 'cli', role: 'runner' });
    try {
      await expect(bare.handlers['prompts.enhance']({ prompt: 'a fox', type: 'sdxl_image_fast' })).rejects.toMatchObject({ code: 'enhancer_not_installed' });
    } finally {
      await bare.close();
    }
  });
});
