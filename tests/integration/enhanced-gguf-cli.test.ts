/**
 * Enhanced job types with a GGUF enhancer, end to end from the CLI: the models folder holds the
 * tiny WAN model, the project's tiny Qwen2 GGUF and the tiny Qwen ONNX folder; the enhancer worker
 * takes the GGUF (llama.cpp on the CPU), its JSON answer's prompt is what WAN renders, and the job
 * and the asset record both prompts. The rewrite is the one the same seed gives in this process,
 * so the worker ran the same model with the same sampling (both on one llama.cpp thread).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWanFixture } from '../fixtures/wan/build-wan.ts';
import { buildQwenFixture, GOOD_REPLY } from '../fixtures/qwen/build-qwen.ts';
import { writeQwenGguf } from '../fixtures/qwen/gguf-writer.ts';
import { QwenEnhancer } from '../../src-main/engine/pipelines/qwen/enhancer.ts';
import { Database } from '../../src-main/engine/db/database.ts';
import { studio } from '../helpers/cli.ts';

let root: string;
let models: string;
let gguf: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'enhanced-gguf-cli-'));
  models = join(root, 'models');
  await buildWanFixture(join(models, 'wan-tiny'));
  await buildQwenFixture(join(models, 'qwen-tiny'));
  gguf = join(models, 'Qwen2.5-Tiny-Instruct-F16.gguf');
  writeQwenGguf(gguf);
}, 180_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

interface JobJson {
  id: string;
  status: { state: string };
  enhancedPrompt: string | null;
  enhanceWarning: string | null;
}

async function generate(data: string, type: string, extra: string[] = []): Promise<JobJson> {
  const r = await studio(['--data', data, 'generate', '--type', type, '--models', models, '--wait', '--json', '--steps', '2', '--width', '256', '--height', '256', '--seed', '9', '--prompt', 'a fox in snow', ...extra], {
    timeoutMs: 240_000,
    // One llama.cpp thread, as the in-process rewrite below uses (thread counts change the last bits of its sums).
    env: { STUDIO_LLAMA_THREADS: '1' },
  });
  if (r.code !== 0) throw new Error(`generate exited ${r.code}: ${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout) as JobJson;
}

function recorded(data: string, jobId: string): { job: { original_prompt: string; enhanced_prompt: string | null }; asset: { prompt: string; enhanced_prompt: string | null } } {
  const db = new Database(join(data, 'studio.db'));
  try {
    return {
      job: db.get<{ original_prompt: string; enhanced_prompt: string | null }>('SELECT original_prompt, enhanced_prompt FROM jobs WHERE id = ?', jobId)!,
      asset: db.get<{ prompt: string; enhanced_prompt: string | null }>('SELECT prompt, enhanced_prompt FROM assets WHERE job_id = ?', jobId)!,
    };
  } finally {
    db.close();
  }
}

async function expectedRewrite(shape: 'image' | 'video'): Promise<string> {
  const enhancer = new QwenEnhancer();
  try {
    const r = await enhancer.enhance({ modelPath: gguf, prompt: 'a fox in snow', target: 'wan', shape, seed: 9, providers: ['cpu'], threads: 1 });
    expect(r.warning).toBeNull();
    return r.text;
  } finally {
    await enhancer.unload();
  }
}

describe('enhanced job types with a GGUF enhancer', () => {
  it.each([
    ['image7b_fast_enhanced', 'image', []],
    ['video7b_fast_enhanced', 'video', ['--frames', '5']],
  ] as const)('%s takes the GGUF before the ONNX folder and records both prompts', async (type, shape, extra) => {
    const data = join(root, `data-${type}`);
    const job = await generate(data, type, [...extra]);
    expect(job.status.state).toBe('done');
    const rewrite = await expectedRewrite(shape);
    expect(rewrite).not.toBe(GOOD_REPLY);
    expect(job.enhancedPrompt).toBe(rewrite);
    expect(job.enhanceWarning).toBeNull();
    expect(recorded(data, job.id)).toEqual({
      job: { original_prompt: 'a fox in snow', enhanced_prompt: rewrite },
      asset: { prompt: 'a fox in snow', enhanced_prompt: rewrite },
    });
  }, 300_000);
});
