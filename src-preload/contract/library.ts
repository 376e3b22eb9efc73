/**
 * Library channels (query, organise, trash, import, export, integrity, projects) and their result
 * shapes. Spread into the one contract in channels.ts; the engine implements them in
 * src-main/engine/library/handlers.ts.
 *
 * The renderer never sees a file path: an asset is an opaque id, and its media are served by id at
 * `studio-media://asset/<id>/original` and `…/thumb` (the same path under `studio serve`).
 */
import { z } from 'zod';
import { BUCKETS } from './catalog.ts';
import type { Bucket, JobType, Quality } from './catalog.ts';

/** Ties a params schema to a result type that exists only for the type checker (as channels.ts does). */
function channel<R>() {
  return <S extends z.ZodType>(params: S) => ({ params, result: undefined as unknown as R });
}

export const MEDIA_SCHEME = 'studio-media';
export const MEDIA_VARIANTS = ['original', 'thumb'] as const;
export type MediaVariant = (typeof MEDIA_VARIANTS)[number];

/** Asset, tag, project, scene and character ids: opaque, URL-safe. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const Id = z.string().regex(ID_PATTERN, { error: 'ids are 1–64 letters, digits, - or _' });
const Ids = z.array(Id).min(1, { error: 'select at least one asset' }).max(100_000);
const ById = z.strictObject({ id: Id });
const Empty = z.strictObject({}).optional();
const TagName = z.string().trim().min(1, { error: 'a tag needs a name' }).max(64, { error: 'tags are at most 64 characters' });
const Text = (max: number) => z.string().max(max);

export function mediaUrl(id: string, variant: MediaVariant): string {
  return `${MEDIA_SCHEME}://asset/${encodeURIComponent(id)}/${variant}`;
}

export const LIBRARY_SORTS = ['date', 'prompt', 'model', 'rating'] as const;
export type LibrarySort = (typeof LIBRARY_SORTS)[number];

export const LibraryQuerySchema = z
  .strictObject({
    sort: z.enum(LIBRARY_SORTS).optional(),
    order: z.enum(['asc', 'desc']).optional(),
    /** Page size (default 100). */
    limit: z.number().int().min(1).max(1000).optional(),
    /** The `nextCursor` of the previous page, unchanged; only valid with the same sort and order. */
    cursor: z.string().max(2000).optional(),
    /**
     * Skip this many matches (SQL OFFSET on the same order) to land far into the list in one request;
     * the page's `nextCursor` continues from there by keyset. Not together with `cursor`.
     */
    offset: z.number().int().min(0).max(10_000_000).optional(),
    /** Full-text search over prompt, negative prompt and enhanced prompt; words match as prefixes. */
    search: z.string().max(500).optional(),
    kind: z.enum(['image', 'video']).optional(),
    /** Job types (and the two upload buckets). */
    buckets: z.array(z.enum(BUCKETS)).max(BUCKETS.length).optional(),
    quality: z.enum(['fast', 'high']).optional(),
    models: z.array(z.string().max(300)).max(50).optional(),
    /** created_at range, ms since the epoch, inclusive. */
    from: z.number().int().optional(),
    to: z.number().int().optional(),
    favorite: z.boolean().optional(),
    minRating: z.number().int().min(0).max(5).optional(),
    tags: z.array(TagName).max(50).optional(),
    /** 'all' (default): assets with every tag; 'any': with at least one. */
    tagMode: z.enum(['all', 'any']).optional(),
    /** A project id, or null for assets in no project. */
    projectId: Id.nullable().optional(),
    /** false (default): the library; true: the trash. */
    trashed: z.boolean().optional(),
    /** Also count every match (costs a little more; the grid asks once per filter change). */
    withTotal: z.boolean().optional(),
  })
  .refine((q) => q.offset === undefined || q.cursor === undefined, {
    error: 'give either cursor (to continue from a page) or offset (to land at a row), not both',
    path: ['offset'],
  })
  .optional();
export type LibraryQuery = z.input<typeof LibraryQuerySchema>;

export interface AssetView {
  readonly id: string;
  readonly kind: 'image' | 'video';
  readonly bucket: Bucket;
  /** The job type that made it, or null for uploads and imports. */
  readonly jobType: JobType | null;
  readonly quality: Quality | null;
  readonly mime: string;
  readonly width: number | null;
  readonly height: number | null;
  readonly durationMs: number | null;
  readonly fps: number | null;
  readonly frameCount: number | null;
  readonly fileSize: number;
  readonly sha256: string;
  readonly prompt: string | null;
  readonly negativePrompt: string | null;
  readonly enhancedPrompt: string | null;
  readonly seed: number | null;
  readonly model: string | null;
  readonly steps: number | null;
  readonly guidance: number | null;
  readonly scheduler: string | null;
  readonly batchIndex: number | null;
  readonly favorite: boolean;
  readonly rating: number;
  readonly title: string | null;
  readonly tags: readonly string[];
  readonly projectId: string | null;
  readonly jobId: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly trashedAt: number | null;
  /** `studio-media://asset/<id>/original`. */
  readonly mediaUrl: string;
  /** `studio-media://asset/<id>/thumb`, or null while the thumbnail is still being made. */
  readonly thumbUrl: string | null;
}

export interface AssetDetail extends AssetView {
  /** The full recipe (ours, or the raw chunks of the tool that made an imported file). */
  readonly recipe: Record<string, unknown>;
  readonly timings: Record<string, number>;
  /** Other assets with the same content (sha256). */
  readonly duplicates: readonly string[];
  /** Why no thumbnail could be made, when that is the case. */
  readonly thumbError: string | null;
  /**
   * Made on another desktop and mirrored here, with its original still only in the cloud: the viewer
   * asks `sync.download` for it when it opens.
   */
  readonly originalInCloud: boolean;
}

export interface AssetPage {
  readonly items: readonly AssetView[];
  /** Pass as `cursor` for the next page; null at the end. */
  readonly nextCursor: string | null;
  /** Every match, when `withTotal` was asked for. */
  readonly total: number | null;
}

export interface TagView {
  readonly id: string;
  readonly name: string;
  readonly count: number;
}

export interface BucketUsage {
  readonly bucket: Bucket;
  readonly count: number;
  readonly bytes: number;
}

export interface LibraryStats {
  readonly root: string;
  readonly assets: number;
  readonly images: number;
  readonly videos: number;
  readonly favorites: number;
  readonly trashed: number;
  readonly trashedBytes: number;
  readonly totalBytes: number;
  readonly thumbnailsPending: number;
  /** Assets whose content is also stored under another id. */
  readonly duplicates: number;
  readonly buckets: readonly BucketUsage[];
  /** A move of the library root that has not finished (it resumes on `library.moveRoot`). */
  readonly pendingMove: { readonly from: string; readonly to: string; readonly phase: string } | null;
}

export interface EmptyTrashResult {
  readonly deleted: number;
  readonly freedBytes: number;
  /** Files that could not be removed: their rows stay in the trash and the next empty retries. */
  readonly problems: readonly { readonly id: string; readonly message: string }[];
}

export interface ExportResult {
  readonly dir: string;
  readonly files: readonly { readonly id: string; readonly file: string; readonly sidecar: string | null }[];
  readonly problems: readonly { readonly id: string; readonly message: string }[];
}

/** One axis of an exported X/Y sheet: its name ("Steps") and its values as the sheet labels them. */
const SheetAxisSchema = z.strictObject({
  name: z.string().trim().min(1, { error: 'an axis needs a name' }).max(100),
  values: z.array(z.string().max(500)).min(1, { error: 'an axis needs at least one value' }).max(64),
});

/**
 * An X/Y sheet to draw as one PNG: the X values across, the Y values down (none for a one-axis
 * sheet), and a cell per place, row by row, naming the asset drawn there (null where the job failed
 * or was never queued: drawn as a "failed" placeholder).
 */
export const SheetExportSchema = z
  .strictObject({
    x: SheetAxisSchema,
    y: SheetAxisSchema.nullable().optional(),
    cells: z.array(Id.nullable()).min(1).max(64),
  })
  .refine((s) => s.cells.length === s.x.values.length * (s.y?.values.length ?? 1), {
    error: 'the sheet needs one cell per X value and Y value (X values × Y values, row by row)',
    path: ['cells'],
  });

/** An exported X/Y sheet: the PNG itself (the browser or the app saves it where the user chooses). */
export interface SheetExport {
  /** `xy-<x name>-by-<y name>-<date>.png`. */
  readonly name: string;
  /** The PNG file, base64. */
  readonly png: string;
  readonly width: number;
  readonly height: number;
  readonly cellWidth: number;
  readonly cellHeight: number;
  /** Cells drawn as placeholders, each with why (no picture: the job failed; or its file is not on this computer). */
  readonly missing: readonly { readonly index: number; readonly assetId: string | null; readonly message: string }[];
}

export type ImportSkipReason =
  | 'duplicate'
  | 'unsupported'
  | 'unreadable'
  | 'truncated'
  | 'too-large'
  | 'symlink-outside'
  | 'not-a-file';

export interface ImportReport {
  readonly dir: string;
  readonly scanned: number;
  readonly imported: readonly { readonly id: string; readonly source: string; readonly format: string }[];
  readonly skipped: readonly { readonly source: string; readonly reason: ImportSkipReason; readonly message: string }[];
  /** Imported, but something about the file deserves a note (e.g. a .png that is really a JPEG). */
  readonly warnings: readonly { readonly source: string; readonly message: string }[];
  readonly durationMs: number;
}

export type CheckAction =
  | 'adopted'
  | 'removed-temp'
  | 'removed-orphan-thumbnail'
  | 'finished-trash-delete'
  | 'trashed-missing-file'
  | 'thumbnail-requeued'
  | 'search-index-rebuilt'
  | 'left-in-place'
  | 'reported';

export interface CheckFinding {
  readonly kind:
    | 'row-without-file'
    | 'file-without-row'
    | 'temp-leftover'
    | 'orphan-thumbnail'
    | 'missing-thumbnail'
    | 'size-mismatch'
    | 'duplicate'
    | 'search-index';
  /** Relative to the library root. */
  readonly path: string | null;
  readonly assetId: string | null;
  readonly action: CheckAction;
  /** What was found and what was (or would be) done, in a sentence. */
  readonly message: string;
}

export interface CheckReport {
  readonly root: string;
  readonly repaired: boolean;
  readonly rowsChecked: number;
  readonly filesChecked: number;
  readonly findings: readonly CheckFinding[];
}

export interface MoveReport {
  readonly from: string;
  readonly to: string;
  readonly files: number;
  readonly bytes: number;
  /** Files already copied and verified by an earlier, interrupted run. */
  readonly resumed: number;
  readonly durationMs: number;
}

export interface ProjectView {
  readonly id: string;
  readonly title: string;
  readonly description: string | null;
  readonly originalPrompt: string | null;
  readonly enhancedPrompt: string | null;
  readonly mediaType: 'image' | 'video' | null;
  readonly duration: number | null;
  readonly sceneCount: number;
  readonly workflowStep: string | null;
  readonly characterId: string | null;
  readonly previewAssetId: string | null;
  readonly assetCount: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface SceneView {
  readonly id: string;
  readonly projectId: string;
  readonly sceneNumber: number;
  readonly description: string;
  readonly enhancedPrompt: string | null;
  readonly assetId: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface CharacterView {
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  readonly traits: string | null;
  readonly appearanceTags: readonly string[];
  readonly imageUrl: string | null;
  readonly persona: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ProjectDetail extends ProjectView {
  readonly scenes: readonly SceneView[];
  readonly character: CharacterView | null;
}

const ProjectFields = {
  title: z.string().trim().min(1, { error: 'a project needs a title' }).max(200),
  description: Text(4000).nullable().optional(),
  originalPrompt: Text(4000).nullable().optional(),
  enhancedPrompt: Text(4000).nullable().optional(),
  mediaType: z.enum(['image', 'video']).nullable().optional(),
  duration: z.number().int().min(0).max(86_400).nullable().optional(),
  workflowStep: Text(100).nullable().optional(),
  characterId: Id.nullable().optional(),
  previewAssetId: Id.nullable().optional(),
};

const SceneFields = {
  description: z.string().trim().min(1, { error: 'a scene needs a description' }).max(4000),
  sceneNumber: z.number().int().min(1).max(10_000).optional(),
  enhancedPrompt: Text(4000).nullable().optional(),
  assetId: Id.nullable().optional(),
};

const CharacterFields = {
  name: z.string().trim().min(1, { error: 'a character needs a name' }).max(200),
  description: Text(4000).nullable().optional(),
  traits: Text(4000).nullable().optional(),
  appearanceTags: z.array(z.string().max(100)).max(100).optional(),
  imageUrl: Text(2000).nullable().optional(),
  persona: Text(4000).nullable().optional(),
};

export const libraryChannels = {
  'library.query': channel<AssetPage>()(LibraryQuerySchema),
  'library.get': channel<AssetDetail | null>()(ById),
  'library.update': channel<AssetView>()(
    z.strictObject({
      id: Id,
      favorite: z.boolean().optional(),
      rating: z.number().int().min(0, { error: 'rating is 0 to 5' }).max(5, { error: 'rating is 0 to 5' }).optional(),
      title: z.string().trim().max(200).nullable().optional(),
    }),
  ),
  'library.bulkUpdate': channel<{ readonly updated: number }>()(
    z.strictObject({
      ids: Ids,
      favorite: z.boolean().optional(),
      rating: z.number().int().min(0, { error: 'rating is 0 to 5' }).max(5, { error: 'rating is 0 to 5' }).optional(),
    }),
  ),
  'library.tag': channel<{ readonly changed: number }>()(z.strictObject({ ids: Ids, tags: z.array(TagName).min(1).max(50) })),
  'library.untag': channel<{ readonly changed: number }>()(z.strictObject({ ids: Ids, tags: z.array(TagName).min(1).max(50) })),
  'library.tags': channel<readonly TagView[]>()(Empty),
  'library.tagRename': channel<TagView>()(z.strictObject({ id: Id, name: TagName })),
  'library.tagDelete': channel<{ readonly deleted: boolean }>()(ById),
  'library.trash': channel<{ readonly trashed: number }>()(z.strictObject({ ids: Ids })),
  'library.restore': channel<{ readonly restored: number }>()(z.strictObject({ ids: Ids })),
  /** Deletes trashed assets for good: every one, or only `ids`. */
  'library.emptyTrash': channel<EmptyTrashResult>()(z.strictObject({ ids: Ids.optional() }).optional()),
  /** `stripMetadata`: files without generation data (PNG text, EXIF, XMP, MP4 tags); not with `sidecar`. */
  'library.export': channel<ExportResult>()(
    z.strictObject({ ids: Ids, dir: z.string().min(1).max(4096), sidecar: z.boolean().optional(), stripMetadata: z.boolean().optional() }),
  ),
  /** One PNG of an X/Y sheet, labels drawn and the shared recipe in its `parameters` text (as A1111 saves its grids). */
  'library.exportSheet': channel<SheetExport>()(SheetExportSchema),
  'library.import': channel<ImportReport>()(
    z.strictObject({ dir: z.string().min(1).max(4096), recursive: z.boolean().optional() }),
  ),
  'library.stats': channel<LibraryStats>()(Empty),
  'library.sameSeed': channel<readonly AssetView[]>()(z.strictObject({ id: Id, limit: z.number().int().min(1).max(1000).optional() })),
  'library.samePrompt': channel<readonly AssetView[]>()(z.strictObject({ id: Id, limit: z.number().int().min(1).max(1000).optional() })),
  /** Shows the file in the system file manager (Electron); elsewhere answers revealed: false. */
  'library.reveal': channel<{ readonly revealed: boolean }>()(ById),
  'library.check': channel<CheckReport>()(z.strictObject({ repair: z.boolean().optional() }).optional()),
  'library.moveRoot': channel<MoveReport>()(z.strictObject({ to: z.string().min(1).max(4096) })),
  'library.moveToProject': channel<{ readonly moved: number }>()(z.strictObject({ ids: Ids, projectId: Id.nullable() })),
  'library.projectsList': channel<readonly ProjectView[]>()(Empty),
  'library.projectsGet': channel<ProjectDetail | null>()(ById),
  'library.projectsCreate': channel<ProjectView>()(z.strictObject(ProjectFields)),
  'library.projectsUpdate': channel<ProjectView>()(
    z.strictObject({ id: Id, ...ProjectFields, title: ProjectFields.title.optional() }),
  ),
  'library.projectsDelete': channel<{ readonly deleted: boolean }>()(ById),
  'library.scenesCreate': channel<SceneView>()(z.strictObject({ projectId: Id, ...SceneFields })),
  'library.scenesUpdate': channel<SceneView>()(
    z.strictObject({ id: Id, ...SceneFields, description: SceneFields.description.optional() }),
  ),
  'library.scenesDelete': channel<{ readonly deleted: boolean }>()(ById),
  'library.charactersList': channel<readonly CharacterView[]>()(Empty),
  'library.charactersCreate': channel<CharacterView>()(z.strictObject(CharacterFields)),
  'library.charactersUpdate': channel<CharacterView>()(
    z.strictObject({ id: Id, ...CharacterFields, name: CharacterFields.name.optional() }),
  ),
  'library.charactersDelete': channel<{ readonly deleted: boolean }>()(ById),
} as const;

/** Pushed after every change to the library, so open views refresh what they show. */
export interface LibraryChange {
  readonly reason: 'added' | 'updated' | 'tags' | 'trashed' | 'restored' | 'deleted' | 'projects' | 'thumbnail' | 'moved' | 'repaired';
  /** The assets concerned, when few enough to list (else null: refresh everything). */
  readonly ids: readonly string[] | null;
}

/** Progress of a long library task (import, export, check, move, empty trash). */
export interface LibraryProgress {
  readonly task: 'import' | 'export' | 'check' | 'move' | 'emptyTrash';
  readonly done: number;
  readonly total: number;
  readonly bytesDone?: number;
  readonly bytesTotal?: number;
  /** The file being worked on, as a name the user recognises (never a library path). */
  readonly current: string | null;
}

/** The library's events, for channels.ts's `Events` and `EVENT_NAMES`. */
export interface LibraryEvents {
  'library.changed': LibraryChange;
  'library.progress': LibraryProgress;
}
export const LIBRARY_EVENT_NAMES = ['library.changed', 'library.progress'] as const;
