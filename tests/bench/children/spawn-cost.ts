/**
 * What spawning a child costs a process that holds a lot of memory (why ffmpeg is spawned from the
 * small ffmpeg host process rather than from the inference worker): the median time from spawn() to
 * the child's 'spawn' event for `true`, first with nothing allocated, then holding GB gigabytes of
 * written memory (model weights stand-in). Prints JSON.
 *   node spawn-cost.ts GB
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const gb = Number(process.argv[2] ?? 2);

function spawnMs(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('true');
    child.on('spawn', () => resolve(performance.now() - t0));
    child.on('error', reject);
  });
}

async function median(n: number): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < n; i++) runs.push(await spawnMs());
  runs.sort((a, b) => a - b);
  return runs[Math.floor(n / 2)]!;
}

const small = await median(5);
const held: Buffer[] = [];
for (let i = 0; i < gb * 4; i++) held.push(Buffer.alloc(256 * 2 ** 20, 1));
const big = await median(5);
process.stdout.write(`${JSON.stringify({ smallMs: small, bigMs: big, heldGb: gb, rssGb: process.memoryUsage.rss() / 2 ** 30 })}\n`);
