/**
 * Export a selection to a folder: the original files, named from their prompt (or title) and id,
 * never overwriting anything already there, and optionally a JSON sidecar with the recipe — the
 * shareable recipe (media/recipe.ts), never the provider, its note or timings, even for rows an
 * older version stored with them. With `stripMetadata` the files carry no generation data at all
 * (strip-metadata.ts) and no sidecar is written.
 */
import { access } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { Database } from '../db/database.ts';
import { StudioError } from '../errors.ts';
import type { ExportResult } from '../../../src-preload/contract/library.ts';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { ASSET_COLUMNS, absoluteInRoot, copyFileDurable, tagsOf, toAssetView } from './store.ts';
import type { AssetRow } from './store.ts';
import { shareableFromStored } from '../media/recipe.ts';
import type { FfmpegSource } from './metadata/ffmpeg.ts';
import { StripError, writeWithoutMetadata } from './strip-metadata.ts';
import { makeDir } from '../fs/make-dir.ts';

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)$/i;

/** A file-name stem from free text: letters and digits kept (any script), the rest as single dashes. */
export function slugForFile(text: string | null, max = 60): string {
  const slug = (text ?? '')
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/g, '');
  if (slug === '' || WINDOWS_RESERVED.test(slug)) return slug === '' ? 'asset' : `${slug}-asset`;
  return slug;
}

async function placeExclusive(dir: string, stem: string, ext: string, write: (target: string) => Promise<void>): Promise<string> {
  for (let n = 1; n < 10_000; n++) {
    const target = join(dir, `${stem}${n === 1 ? '' : ` (${n})`}${ext}`);
    try {
      await write(target);
      return target;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error(`too many files named ${stem}${ext} in ${dir}`);
}

export interface ExportOptions {
  readonly sidecar?: boolean;
  /** Copies without generation data (text chunks, EXIF, XMP, MP4 tags); not with `sidecar`. */
  readonly stripMetadata?: boolean;
  /** The ffmpeg that remuxes videos for `stripMetadata`. */
  readonly ffmpeg?: FfmpegSource;
  readonly onProgress?: (done: number, total: number, current: string | null) => void;
}

export async function exportAssets(db: Database, root: string, ids: readonly string[], dir: string, options: ExportOptions = {}): Promise<ExportResult> {
  if (options.stripMetadata && options.sidecar) {
    throw new StudioError(
      'invalid_params',
      'stripping the metadata and writing recipe sidecars contradict each other: the sidecar would carry what the stripped files leave out; choose one',
      { field: 'stripMetadata' },
    );
  }
  const target = resolve(dir);
  try {
    await makeDir(target);
  } catch (error) {
    throw new StudioError('export_failed', `cannot create the export folder ${target} (${(error as Error).message}); choose another folder`, { field: 'dir' });
  }
  const files: { id: string; file: string; sidecar: string | null }[] = [];
  const problems: { id: string; message: string }[] = [];
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i++) {
    const id = unique[i]!;
    const row = db.get<AssetRow & { recipe: string }>(`SELECT ${ASSET_COLUMNS}, recipe FROM assets WHERE id = ?`, id);
    if (!row) {
      problems.push({ id, message: `no asset with id ${id}; it may have been deleted` });
      continue;
    }
    const source = absoluteInRoot(root, row.file_path);
    if (!source) {
      problems.push({ id, message: `the stored path of ${id} lies outside the library; run \`studio library check\`` });
      continue;
    }
    const stem = `${slugForFile(row.title ?? row.prompt)}-${id.slice(0, 8)}`;
    const ext = extname(row.file_path).toLowerCase();
    try {
      const write = options.stripMetadata
        ? (from: string, temp: string) => writeWithoutMetadata(from, temp, { ffmpeg: options.ffmpeg, name: `the file of ${id}` })
        : undefined;
      const file = await placeExclusive(target, stem, ext, (t) => copyFileDurable(source, t, true, write));
      let sidecar: string | null = null;
      if (options.sidecar) {
        const view = toAssetView(row, tagsOf(db, [id]).get(id) ?? []);
        const fields: Record<string, unknown> = { ...view };
        delete fields.mediaUrl;
        delete fields.thumbUrl;
        // The library's view of the asset and the recipe a shared file carries; timings stay local.
        const json = JSON.stringify({ ...fields, recipe: shareableFromStored(safeJson(row.recipe), row) }, null, 2);
        const fileStem = file.slice(target.length + 1, file.length - ext.length);
        sidecar = await placeExclusive(target, fileStem, '.json', async (t) => {
          // writeFileAtomic would replace an existing file; check first, the name is ours to take.
          const exists = await access(t).then(
            () => true,
            () => false,
          );
          if (exists) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
          await writeFileAtomic(t, `${json}\n`);
        });
      }
      files.push({ id, file, sidecar });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problems.push({
        id,
        message:
          error instanceof StripError
            ? `could not export ${id} without its metadata: ${error.message}`
            : code === 'ENOENT'
              ? `the file of ${id} is missing from the library; run \`studio library check\``
              : `could not export ${id} (${(error as Error).message})`,
      });
    }
    options.onProgress?.(i + 1, unique.length, row.title ?? row.prompt ?? id);
  }
  return { dir: target, files, problems };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
