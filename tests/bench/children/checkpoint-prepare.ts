/**
 * One timed operation on a checkpoint, in a fresh process so its peak RSS is that operation's own:
 *
 *   prepare CKPT MODELS_DIR  `prepareCheckpoint` as the app runs it (both graph sets): wall time,
 *                            time to the hashing and writing phases, peak RSS, and the prepared
 *                            folder's size on disk (allocated blocks) — the disk it adds.
 *   copy CKPT DEST           `fs.copyFile` of the same file (the kernel copies; no reflink on
 *                            ext4), then an fsync of the copy, timed apart.
 *
 * Prints JSON.
 *   node tests/bench/children/checkpoint-prepare.ts prepare|copy CKPT OUT
 */
import { lstatSync, readdirSync } from 'node:fs';
import { copyFile, open } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { prepareCheckpoint } from '../../../src-main/engine/checkpoints/prepare.ts';

const [mode, ckpt, out] = process.argv.slice(2);
if (!mode || !ckpt || !out || !['prepare', 'copy'].includes(mode)) {
  console.error('usage: checkpoint-prepare.ts prepare|copy CKPT OUT');
  process.exit(2);
}

/** Apparent and allocated bytes of everything under `dir`. */
function folderBytes(dir: string): { apparent: number; allocated: number } {
  let apparent = 0;
  let allocated = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = folderBytes(path);
      apparent += inner.apparent;
      allocated += inner.allocated;
    }
    const info = lstatSync(path);
    apparent += entry.isDirectory() ? 0 : info.size;
    allocated += info.blocks * 512;
  }
  return { apparent, allocated };
}

const maxRssMb = (): number => Math.round((process.resourceUsage().maxRSS * 1024) / 1e6);

if (mode === 'prepare') {
  const phaseAt: Record<string, number> = {};
  const start = performance.now();
  const result = await prepareCheckpoint({
    source: ckpt,
    modelsDir: out,
    onProgress: (p) => {
      phaseAt[p.phase] ??= performance.now() - start;
    },
  });
  const ms = performance.now() - start;
  if (result.reused) throw new Error(`${out} already held a preparation of ${ckpt}: give an empty models folder`);
  const disk = folderBytes(result.folder);
  process.stdout.write(
    `${JSON.stringify({ ms, hashingAtMs: phaseAt.hashing ?? null, writingAtMs: phaseAt.writing ?? null, folder: result.folder, folderApparentBytes: disk.apparent, folderAllocatedBytes: disk.allocated, maxRssMb: maxRssMb(), loadAverage: loadavg()[0] })}\n`,
  );
} else {
  const start = performance.now();
  await copyFile(ckpt, out);
  const ms = performance.now() - start;
  const handle = await open(out, 'r+');
  const syncStart = performance.now();
  await handle.sync();
  const fsyncMs = performance.now() - syncStart;
  await handle.close();
  process.stdout.write(`${JSON.stringify({ ms, fsyncMs, maxRssMb: maxRssMb(), loadAverage: loadavg()[0] })}\n`);
}
