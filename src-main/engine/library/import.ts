/**
 * Import a folder of PNG/JPEG/WebP/MP4 files made by other tools (or exported from another studio)
 * into the `user_uploads` bucket, reading their generation settings (see metadata/read-media.ts).
 *
 * Each file is read and hashed, checked against the library by sha256 (so importing the same folder
 * twice adds nothing), copied in atomically, and only then recorded — the same files-before-rows
 * order as job outputs. A file that is unreadable, hostile or a link out of the folder is reported
 * and skipped; one bad file never stops the import.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, realpath, stat, unlink } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Database } from '../db/database.ts';
import { StudioError } from '../errors.ts';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import type { Bucket } from '../../../src-preload/contract/catalog.ts';
import type { ImportReport, ImportSkipReason } from '../../../src-preload/contract/library.ts';
import { MEDIA_EXTENSIONS, MEDIA_LIMITS, MediaRejected, readMediaFacts, FORMAT_INFO } from './metadata/read-media.ts';
import { verifyDecodes } from './metadata/decode-check.ts';
import type { MediaFacts } from './metadata/read-media.ts';
import type { FfmpegSource } from './metadata/ffmpeg.ts';
import { copyFileDurable, isInside, outbox, relativeAssetPath, sha256Of } from './store.ts';
import { ByteNameLinks, displayName, isInsideBytes, joinBytes } from './file-names.ts';

export interface NewAssetRecord {
  readonly id: string;
  readonly bucket: Bucket | string;
  readonly relPath: string;
  readonly relThumb?: string | null;
  readonly facts: MediaFacts;
  readonly sha256: string;
  readonly recipe: Record<string, unknown>;
  readonly createdAt: number;
  readonly jobId?: string | null;
}

/** Inserts one asset row (and its outbox row); call inside a transaction, after the file is in place. */
export function insertAssetRecord(db: Database, r: NewAssetRecord): void {
  const f = r.facts.fields;
  const t = Date.now();
  db.run(
    `INSERT INTO assets (id, job_id, bucket, kind, file_path, thumb_path, mime, width, height, duration_ms, fps, frame_count,
       file_size, sha256, prompt, negative_prompt, enhanced_prompt, seed, model, steps, guidance, scheduler, batch_index,
       recipe, timings, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?)`,
    r.id,
    r.jobId ?? null,
    r.bucket,
    r.facts.kind,
    r.relPath,
    r.relThumb ?? null,
    r.facts.mime,
    r.facts.width,
    r.facts.height,
    r.facts.durationMs,
    r.facts.fps,
    r.facts.frameCount,
    r.facts.size,
    r.sha256,
    f.prompt ?? null,
    f.negativePrompt ?? null,
    f.enhancedPrompt ?? null,
    f.seed ?? null,
    f.model ?? null,
    f.steps ?? null,
    f.cfg ?? null,
    f.sampler ?? null,
    f.batchIndex ?? null,
    JSON.stringify(r.recipe),
    r.createdAt,
    t,
  );
  outbox(db, 'asset', r.id, 'upsert', t);
}

/** The recipe kept for a file another tool made: what was read, and the raw metadata verbatim. */
export function importedRecipe(facts: MediaFacts, sourceName: string, at: number, fileModifiedAt: number): Record<string, unknown> {
  const imported = { from: sourceName, format: facts.format, tool: facts.source, at, fileModifiedAt };
  if (facts.ourRecipe) return { ...facts.ourRecipe, imported };
  return { imported, settings: facts.fields, metadata: facts.raw };
}

export interface ImportProgress {
  readonly done: number;
  readonly total: number;
  readonly current: string | null;
}

export interface ImportOptions {
  readonly recursive?: boolean;
  readonly onProgress?: (p: ImportProgress) => void;
  /** Called with each batch of new asset ids (for thumbnails and change events). */
  readonly onImported?: (ids: string[]) => void;
  readonly signal?: AbortSignal;
  readonly ffmpeg?: FfmpegSource;
}

interface Candidate {
  /** Path as found in the folder, for messages: relative to the folder, odd bytes written `\xNN`. */
  readonly shown: string;
  /** Path of the file to read, as bytes (a name need not be UTF-8). */
  readonly real: Buffer;
}

type Skip = { source: string; reason: ImportSkipReason; message: string };

const MAX_DEPTH = 32;
const MAX_FILES = 1_000_000;

async function collect(dir: string, realDir: string, recursive: boolean, skipped: Skip[]): Promise<Candidate[]> {
  const out: Candidate[] = [];
  const realDirBytes = Buffer.from(realDir);
  const stack: { path: Buffer; shown: string; depth: number }[] = [{ path: Buffer.from(dir), shown: '', depth: 0 }];
  while (stack.length > 0) {
    const { path, shown: folder, depth } = stack.pop()!;
    let entries;
    try {
      // As bytes: a name that is not UTF-8 would otherwise come back as a different, missing name.
      entries = await readdir(path, { withFileTypes: true, encoding: 'buffer' });
    } catch (error) {
      skipped.push({ source: folder || '.', reason: 'unreadable', message: `the folder ${folder || '.'} could not be read (${(error as Error).message}); check its permissions; skipped` });
      continue;
    }
    const named = entries.map((entry) => ({ entry, name: displayName(entry.name) }));
    named.sort((a, b) => a.name.localeCompare(b.name));
    for (const { entry, name } of named) {
      const full = joinBytes(path, entry.name);
      const shown = folder === '' ? name : join(folder, name);
      if (entry.isDirectory()) {
        if (recursive && !name.startsWith('.') && depth + 1 <= MAX_DEPTH) stack.push({ path: full, shown, depth: depth + 1 });
        continue;
      }
      const isMediaName = MEDIA_EXTENSIONS.includes(extname(name).toLowerCase());
      if (entry.isSymbolicLink()) {
        let target: Buffer;
        try {
          target = await realpath(full, { encoding: 'buffer' });
        } catch {
          if (isMediaName) skipped.push({ source: shown, reason: 'unreadable', message: `${shown} is a link to nothing; skipped` });
          continue;
        }
        if (!isInsideBytes(realDirBytes, target)) {
          if (isMediaName) {
            skipped.push({ source: shown, reason: 'symlink-outside', message: `${shown} is a link to a file outside the folder being imported; skipped (import that folder instead)` });
          }
          continue;
        }
        const info = await stat(target).catch(() => null);
        if (!info?.isFile()) continue; // links to folders are not followed (no loops)
        if (isMediaName) out.push({ shown, real: target });
        continue;
      }
      if (!isMediaName) continue;
      if (!entry.isFile()) {
        skipped.push({ source: shown, reason: 'not-a-file', message: `${shown} is not a regular file (a pipe, socket or device); skipped` });
        continue;
      }
      out.push({ shown, real: full });
      if (out.length >= MAX_FILES) return out;
    }
  }
  return out;
}

/**
 * Imports every media file in `dir` (and its sub-folders with `recursive`) into the library at `root`.
 */
export async function importFolder(db: Database, root: string, dir: string, options: ImportOptions = {}): Promise<ImportReport> {
  const started = performance.now();
  const absDir = resolve(dir);
  let realDir: string;
  try {
    realDir = await realpath(absDir);
    if (!(await stat(realDir)).isDirectory()) throw new Error('not a folder');
  } catch {
    throw new StudioError('not_found', `cannot import ${absDir}: it is not a folder that can be read; choose another folder`, { field: 'dir' });
  }
  const realRoot = await realpath(root).catch(() => resolve(root));
  if (realDir === realRoot || isInside(realRoot, realDir) || isInside(realDir, realRoot)) {
    throw new StudioError(
      'invalid_params',
      `cannot import ${absDir}: it ${isInside(realDir, realRoot) ? 'contains' : 'is inside'} the library itself; choose a folder outside ${root}`,
      { field: 'dir' },
    );
  }
  const skipped: Skip[] = [];
  const warnings: { source: string; message: string }[] = [];
  const imported: { id: string; source: string; format: string }[] = [];
  const candidates = await collect(absDir, realDir, options.recursive ?? false, skipped);
  const total = candidates.length;
  options.onProgress?.({ done: 0, total, current: null });
  const links = new ByteNameLinks();
  try {
    await importCandidates(db, root, candidates, links, options, { imported, skipped, warnings });
  } finally {
    await links.close();
  }
  return { dir: absDir, scanned: total, imported, skipped, warnings, durationMs: Math.round(performance.now() - started) };
}

interface Outcome {
  readonly imported: { id: string; source: string; format: string }[];
  readonly skipped: Skip[];
  readonly warnings: { source: string; message: string }[];
}

async function importCandidates(db: Database, root: string, candidates: readonly Candidate[], links: ByteNameLinks, options: ImportOptions, outcome: Outcome): Promise<void> {
  const { imported, skipped, warnings } = outcome;
  const total = candidates.length;
  for (let i = 0; i < candidates.length; i++) {
    if (options.signal?.aborted) {
      warnings.push({ source: '.', message: `the import was stopped after ${i} of ${total} files; import the folder again to add the rest (nothing is added twice)` });
      break;
    }
    const c = candidates[i]!;
    try {
      const id = await importOne(db, root, c, await links.pathFor(c.real), options, warnings);
      if (id) {
        imported.push({ id: id.id, source: c.shown, format: id.format });
        options.onImported?.([id.id]);
      }
    } catch (error) {
      if (error instanceof MediaRejected) skipped.push({ source: c.shown, reason: error.reason, message: error.message });
      else if (error instanceof DuplicateFile) skipped.push({ source: c.shown, reason: 'duplicate', message: error.message });
      else {
        const e = error as NodeJS.ErrnoException;
        if (e.code === 'ENOSPC') throw new StudioError('disk_full', `the disk holding the library is full; ${imported.length} files were imported before it filled — free space and import again`);
        skipped.push({ source: c.shown, reason: 'unreadable', message: `${c.shown} could not be imported (${e.message}); skipped` });
      }
    }
    options.onProgress?.({ done: i + 1, total, current: c.shown });
  }
}

class DuplicateFile extends Error {}

async function importOne(
  db: Database,
  root: string,
  c: Candidate,
  path: string,
  options: ImportOptions,
  warnings: { source: string; message: string }[],
): Promise<{ id: string; format: string } | null> {
  const info = await stat(c.real);
  if (!info.isFile()) throw new MediaRejected('not-a-file', `${c.shown} is not a regular file; skipped`);
  const facts = await readMediaFacts(path, { name: c.shown, size: info.size, ffmpeg: options.ffmpeg, decode: false });
  const named = extname(c.shown).toLowerCase();
  if (!FORMAT_INFO[facts.format].names.includes(named)) {
    warnings.push({ source: c.shown, message: `${c.shown} is really a ${facts.format.toUpperCase()} file despite its ${named} name; imported as ${facts.format.toUpperCase()}` });
  }
  const sha256 = facts.bytes ? createHash('sha256').update(facts.bytes).digest('hex') : await sha256Of(path);
  const existing = db.get<{ id: string; trashed_at: number | null }>('SELECT id, trashed_at FROM assets WHERE sha256 = ? LIMIT 1', sha256);
  if (existing) {
    throw new DuplicateFile(
      `${c.shown} is already in the library${existing.trashed_at !== null ? ' (in the trash — restore it from there)' : ''} as ${existing.id}; skipped`,
    );
  }
  // Decoded once it is known to be new, so importing a folder again costs a read and a hash per file.
  const decoded = await verifyDecodes(path, c.shown, facts, MEDIA_LIMITS.maxPixels, options.ffmpeg);
  for (const note of [...facts.notes, ...decoded]) warnings.push({ source: c.shown, message: `${c.shown}: ${note}` });
  const id = randomUUID();
  // The date an asset joined the library, as for generated ones (so the date order is also the
  // order rows were added); the file's own time is kept in the recipe.
  const createdAt = Date.now();
  const relPath = relativeAssetPath('user_uploads', id, facts.ext, new Date(createdAt));
  const target = join(root, relPath);
  if (facts.bytes) {
    await mkdir(dirname(target), { recursive: true });
    await writeFileAtomic(target, facts.bytes);
  }
  else await copyFileDurable(path, target, true);
  try {
    db.transaction(() =>
      insertAssetRecord(db, {
        id,
        bucket: 'user_uploads',
        relPath,
        facts,
        sha256,
        recipe: importedRecipe(facts, c.shown, createdAt, Math.floor(info.mtimeMs)),
        createdAt,
      }),
    );
  } catch (error) {
    await unlink(target).catch(() => undefined);
    throw error;
  }
  return { id, format: facts.format };
}
