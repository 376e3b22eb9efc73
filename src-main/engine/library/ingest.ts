/**
 * Moves a finished job's outputs from staging into the library and records them as assets.
 *
 * Order matters for crash safety: files are hashed, then renamed into place (same file system, so
 * each rename is atomic) and the directory fsynced; only then are rows inserted, in the same
 * transaction that marks the job done. A crash in between leaves files without rows — never rows
 * without files — which `studio library check` adopts or removes. A library moved to another disk
 * than the data folder's staging gets a durable copy instead of the rename (temp → fsync → rename).
 * A failure (a full library disk) removes what was placed, so the library is left as it was.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, openSync, fsyncSync, closeSync, renameSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import { copyFileDurable, outbox } from './store.ts';
import type { Database } from '../db/database.ts';
import type { JobView } from '../../../src-preload/contract/status.ts';
import type { OutputFile, PipelineResult } from '../pipelines/types.ts';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface PlacedAsset {
  readonly id: string;
  readonly output: OutputFile;
  readonly relPath: string;
  readonly relThumb: string | null;
  readonly sha256: string;
  readonly size: number;
}

/** Where an asset of a bucket lands: <library>/<bucket>/<yyyy>/<mm>/<id><ext>. */
export function assetPath(libraryRoot: string, bucket: string, id: string, ext: string, at: Date): string {
  const yyyy = String(at.getUTCFullYear());
  const mm = String(at.getUTCMonth() + 1).padStart(2, '0');
  return join(libraryRoot, bucket, yyyy, mm, `${id}${ext}`);
}

/** Renames `from` to `to`; across disks (a library moved to another drive), copies durably and removes `from`. */
async function moveInto(from: string, to: string): Promise<void> {
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    await copyFileDurable(from, to, true);
    await rm(from, { force: true });
  }
}

/**
 * Step 1 (outside the transaction): hash and move every output into the library. On any failure
 * the outputs already moved are removed again before the error is thrown: they have no rows.
 * `record` is handed every library path (relative to the root) before the first file is moved, to
 * be committed first: a process killed between a move and the commit that adds the rows leaves
 * files only at paths so recorded, which `removeUnrecorded` takes away (on the job's next attempt,
 * or when a runner starts) — never a file the database does not know, nor a duplicate after a re-run.
 */
export async function placeOutputs(
  libraryRoot: string,
  job: JobView,
  result: PipelineResult,
  at = new Date(),
  record?: (relPaths: readonly string[]) => void,
): Promise<PlacedAsset[]> {
  const plan = result.outputs.map((output) => {
    const id = randomUUID();
    const target = assetPath(libraryRoot, job.type, id, extname(output.file) || '.bin', at);
    const thumbTarget = output.thumbFile ? join(libraryRoot, '.thumbs', job.type, `${id}.png`) : null;
    return { id, output, target, thumbTarget };
  });
  record?.(plan.flatMap((p) => [relative(libraryRoot, p.target), ...(p.thumbTarget ? [relative(libraryRoot, p.thumbTarget)] : [])]));
  const placed: PlacedAsset[] = [];
  const moved: string[] = [];
  try {
    for (const { id, output, target, thumbTarget } of plan) {
      const sha256 = await sha256File(output.file);
      const size = statSync(output.file).size;
      mkdirSync(join(target, '..'), { recursive: true });
      await moveInto(output.file, target);
      moved.push(target);
      fsyncDir(join(target, '..'));
      let relThumb: string | null = null;
      if (output.thumbFile && thumbTarget) {
        mkdirSync(join(thumbTarget, '..'), { recursive: true });
        await moveInto(output.thumbFile, thumbTarget);
        moved.push(thumbTarget);
        relThumb = relative(libraryRoot, thumbTarget);
      }
      placed.push({ id, output, relPath: relative(libraryRoot, target), relThumb, sha256, size });
    }
  } catch (e) {
    await Promise.all(moved.map((file) => rm(file, { force: true }).catch(() => undefined)));
    throw e;
  }
  return placed;
}

/**
 * Removes the files at `relPaths` (recorded by `placeOutputs` for an attempt that never committed)
 * that no asset row names; returns how many it removed.
 */
export async function removeUnrecorded(db: Database, libraryRoot: string, relPaths: readonly string[]): Promise<number> {
  let removed = 0;
  for (const rel of relPaths) {
    if (rel.startsWith('..') || rel.startsWith('/')) continue;
    const known = db.get<{ n: number }>('SELECT count(*) AS n FROM assets WHERE file_path = ? OR thumb_path = ?', rel, rel)?.n ?? 0;
    if (known > 0) continue;
    const file = join(libraryRoot, rel);
    if (!existsSync(file)) continue;
    await rm(file, { force: true });
    removed++;
  }
  return removed;
}

/**
 * For a runner starting: the files of every attempt that recorded its paths and was stopped before
 * its commit (a killed process), on jobs not running now, are removed; returns how many. A job that
 * runs again meanwhile cleans its own at its next placement (and its new record is left alone here).
 */
export async function sweepUncommittedPlacements(db: Database, libraryRoot: string): Promise<number> {
  const rows = db.all<{ id: string; placing: string }>(
    `SELECT id, json_extract(metadata, '$.placing') AS placing FROM jobs
     WHERE status != 'running' AND json_extract(metadata, '$.placing') IS NOT NULL`,
  );
  let removed = 0;
  for (const r of rows) {
    removed += await removeUnrecorded(db, libraryRoot, JSON.parse(r.placing) as string[]);
    db.run(
      `UPDATE jobs SET metadata = json_remove(metadata, '$.placing') WHERE id = ? AND json_extract(metadata, '$.placing') = ?`,
      r.id,
      r.placing,
    );
  }
  return removed;
}

/** Removes placed outputs whose rows were never written (the job failed after placing them). */
export async function removePlaced(libraryRoot: string, placed: readonly PlacedAsset[]): Promise<void> {
  const files = placed.flatMap((a) => [a.relPath, ...(a.relThumb ? [a.relThumb] : [])]);
  await Promise.all(files.map((rel) => rm(join(libraryRoot, rel), { force: true }).catch(() => undefined)));
}

/** Step 2 (inside the job's completion transaction): the asset rows and their outbox entries. */
export function insertAssets(db: Database, job: JobView, placed: readonly PlacedAsset[], result: PipelineResult): void {
  const t = Date.now();
  for (const a of placed) {
    const o = a.output;
    db.run(
      `INSERT INTO assets (id, job_id, bucket, kind, file_path, thumb_path, mime, width, height, duration_ms, fps,
          frame_count, file_size, sha256, prompt, negative_prompt, enhanced_prompt, seed, model, steps, guidance,
          scheduler, batch_index, recipe, timings, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      a.id,
      job.id,
      job.type,
      o.kind,
      a.relPath,
      a.relThumb,
      o.mime,
      o.width,
      o.height,
      o.durationMs,
      o.fps,
      o.frameCount,
      a.size,
      a.sha256,
      job.params.prompt,
      job.params.negativePrompt,
      result.enhancedPrompt ?? job.enhancedPrompt ?? job.params.enhancedPrompt,
      o.seed,
      job.modelId,
      job.params.steps,
      job.params.guidance,
      job.params.scheduler,
      o.batchIndex,
      JSON.stringify(o.recipe),
      JSON.stringify(result.timings),
      t,
      t,
    );
    outbox(db, 'asset', a.id, 'upsert', t);
  }
  outbox(db, 'job', job.id, 'upsert', t);
}
