/**
 * A worker must not outlive the engine: when the process that started it dies without closing
 * it (killed, crashed), the worker notices its parent is gone and exits, releasing the GPU.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const SUPERVISOR = pathToFileURL(fileURLToPath(new URL('../../src-main/engine/inference/supervisor.ts', import.meta.url))).href;
const TEST_PIPELINE = fileURLToPath(new URL('../fixtures/pipelines/test-pipeline.ts', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what}`);
}

function engineScript(prompt: string, steps: number): string {
  return `
      import { WorkerSupervisor } from ${JSON.stringify(SUPERVISOR)};
      import { tmpdir } from 'node:os';
      const s = new WorkerSupervisor({ idleMs: 0, pipelines: { test: ${JSON.stringify(TEST_PIPELINE)} } });
      const params = { prompt: ${JSON.stringify(prompt)}, negativePrompt: '', seed: 1, steps: ${steps}, guidance: 7, width: 1024, height: 1024,
        frames: 1, count: 1, batchIndex: null, scheduler: 'euler', model: null, enhancedPrompt: null, fps: 16 };
      s.on('worker-started', (e) => console.log('WORKER ' + e.pid));
      s.run('sdxl', { jobId: 'long', jobType: 'sdxl_image_fast', params, model: { id: 't', family: 'test', path: tmpdir() },
        enhancer: null, stagingDir: tmpdir() + '/ourvidz-parent-gone', maxBatch: 1, providers: ['cpu'] }, () => {});
    `;
}

describe('worker whose parent dies', () => {
  it('exits at once even while its job blocks its thread (as session.run does for a whole step)', async () => {
    // '[hang]' blocks the worker's JS thread for 30 s: only the parent-watch thread can notice.
    const engine = spawn(process.execPath, ['--input-type=module', '-e', engineScript('[hang]', 1)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const workerPid = await new Promise<number>((resolve, reject) => {
      let out = '';
      engine.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /WORKER (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      engine.on('exit', (code) => reject(new Error(`engine exited early with ${code}`)));
    });
    // Let the job start and block.
    await new Promise((r) => setTimeout(r, 1500));
    expect(alive(workerPid)).toBe(true);
    const killedAt = Date.now();
    engine.kill('SIGKILL');
    await eventually(() => !alive(workerPid), `worker ${workerPid} to exit after its parent was killed`);
    // Well before the 30 s the job blocks its thread for (about 0.1–0.3 s on a quiet machine).
    expect(Date.now() - killedAt).toBeLessThan(4000);
  });

  it('stops its job and exits when the engine process is killed', async () => {
    // An engine process running a long job (150 steps of ~100 ms) that reports the worker's pid
    // at the first step and is then killed: the worker must not run the job to its end.
    const script = `
      import { WorkerSupervisor } from ${JSON.stringify(SUPERVISOR)};
      import { tmpdir } from 'node:os';
      const s = new WorkerSupervisor({ idleMs: 0, pipelines: { test: ${JSON.stringify(TEST_PIPELINE)} } });
      const params = { prompt: 'long', negativePrompt: '', seed: 1, steps: 150, guidance: 7, width: 1024, height: 1024,
        frames: 1, count: 1, batchIndex: null, scheduler: 'euler', model: null, enhancedPrompt: null, fps: 16 };
      let told = false;
      s.run('sdxl', { jobId: 'long', jobType: 'sdxl_image_fast', params, model: { id: 't', family: 'test', path: tmpdir() },
        enhancer: null, stagingDir: tmpdir() + '/ourvidz-parent-gone', maxBatch: 1, providers: ['cpu'] }, () => {
        if (!told) console.log('WORKER ' + s.status()[0].pid);
        told = true;
      });
    `;
    const engine = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const workerPid = await new Promise<number>((resolve, reject) => {
      let out = '';
      engine.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /WORKER (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      engine.on('exit', (code) => reject(new Error(`engine exited early with ${code}`)));
    });
    expect(alive(workerPid)).toBe(true);

    engine.kill('SIGKILL');
    // Well before the job could have finished (~15 s).
    await eventually(() => !alive(workerPid), `worker ${workerPid} to exit after its parent was killed`);
  });
});
