/**
 * One timed operation on the WAN full-size bench's synthetic set, in a fresh process so its peak
 * RSS is that operation's own (wan-full.bench.ts):
 *
 *   prepare SET_DIR MODELS_DIR   `prepareCheckpoint` as the app runs it on the ComfyUI `models/`
 *                                folder SET_DIR (both graph sets: float32 CPU graphs and the GPU
 *                                ones): wall time, when the build, hashing and writing phases
 *                                began, peak RSS, and the prepared folder's size on disk
 *                                (allocated blocks) — the disk it adds.
 *   copy DEST_DIR FILE…          `fs.copyFile` of each FILE into DEST_DIR (the kernel copies; no
 *                                reflink on ext4), then an fsync of each copy, timed apart.
 *
 * Prints JSON.
 *   node tests/bench/children/wan-full-prepare.ts prepare SET_DIR MODELS_DIR
 *   node tests/bench/children/wan-full-prepare.ts copy DEST_DIR FILE…
 */
import { lstatSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, open } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { prepareCheckpoint } from '../../../src-main/engine/checkpoints/prepare.ts';

const [mode, first, ...rest] = process.argv.slice(2);
const maxRssMb = (): number => Math.round((process.resourceUsage().maxRSS * 1024) / 1e6);

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

if (mode === 'prepare' && first && rest.length === 1) {
  const phaseAt: Record<string, number> = {};
  const start = performance.now();
  const result = await prepareCheckpoint({
    source: first,
    modelsDir: rest[0]!,
    onProgress: (p) => {
      phaseAt[p.phase] ??= performance.now() - start;
    },
  });
  const ms = performance.now() - start;
  if (result.reused) throw new Error(`${rest[0]} already held a preparation of ${first}: give an empty models folder`);
  const disk = folderBytes(result.folder);
  process.stdout.write(
    `${JSON.stringify({
      ms,
      phaseAt,
      folder: result.folder,
      description: result.manifest.description,
      folderApparentBytes: disk.apparent,
      folderAllocatedBytes: disk.allocated,
      maxRssMb: maxRssMb(),
      loadAverage: loadavg()[0],
    })}\n`,
  );
} else if (mode === 'copy' && first && rest.length > 0) {
  await mkdir(first, { recursive: true });
  const start = performance.now();
  for (const file of rest) await copyFile(file, join(first, basename(file)));
  const ms = performance.now() - start;
  const syncStart = performance.now();
  for (const file of rest) {
    const handle = await open(join(first, basename(file)), 'r+');
    await handle.sync();
    await handle.close();
  }
  const fsyncMs = performance.now() - syncStart;
  process.stdout.write(`${JSON.stringify({ ms, fsyncMs, maxRssMb: maxRssMb(), loadAverage: loadavg()[0] })}\n`);
} else {
  console.error('usage: wan-full-prepare.ts prepare SET_DIR MODELS_DIR | copy DEST_DIR FILE…');
  process.exit(2);
}
