/**
 * `studio library …`: list, show, stats, check, import, export, tag, untag, trash, restore,
 * empty-trash, move. Each command is a spec (summary, arguments, options, engine role) plus a
 * `run(input) → exit code`, so the CLI's grammar and dispatcher wire them like the other commands:
 *
 *   COMMAND_NAMES += LIBRARY_COMMAND_NAMES; COMMANDS += LIBRARY_COMMANDS (as CommandSpec);
 *   GROUPS.library = LIBRARY_COMMAND_NAMES without the `library ` prefix;
 *   dispatch: `LIBRARY_COMMANDS[name].run({ library: new Library({ db: engine.db, layout: engine.layout }),
 *              io, json: line.global.json, values: line.values, args: line.args, signal })`.
 *
 * `--json` prints exactly one JSON document on stdout; progress goes to stderr (a live line on a
 * terminal, nothing when piped). Queries go through the contract's schema, as in the app.
 */
import { StudioError } from '../engine/errors.ts';
import type { Library } from '../engine/library/library.ts';
import { BUCKETS, describeIssues } from '../../src-preload/contract/index.ts';
import { LIBRARY_SORTS, LibraryQuerySchema } from '../../src-preload/contract/library.ts';
import type { AssetView, CheckReport, LibraryProgress, LibraryQuery } from '../../src-preload/contract/library.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import type { Io } from './io.ts';
import { renderTable, terminalSafe, terminalSafeJson, truncate } from './render.ts';

interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  readonly value?: string;
  readonly help: string;
}

export interface LibraryCommandInput {
  readonly library: Library;
  readonly io: Io;
  readonly json: boolean;
  readonly values: Readonly<Record<string, unknown>>;
  readonly args: readonly string[];
  /** Aborted on Ctrl-C: import and move stop cleanly between files. */
  readonly signal?: AbortSignal;
}

export interface LibraryCommand {
  readonly summary: string;
  readonly args: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** client: reads and writes the library beside an open app; no job is run. */
  readonly role: 'client';
  run(input: LibraryCommandInput): Promise<number>;
}

/** Exit code of `library check` when it found problems it did not (or could not) repair. */
export const CHECK_FOUND_PROBLEMS = 1;

const LIST_OPTIONS: Record<string, OptionSpec> = {
  search: { type: 'string', value: 'TEXT', help: 'words in the prompt, negative or enhanced prompt (as prefixes)' },
  kind: { type: 'string', value: 'KIND', help: 'image or video' },
  type: { type: 'string', multiple: true, value: 'BUCKET', help: `job type or upload bucket (repeatable): ${BUCKETS.join(', ')}` },
  quality: { type: 'string', value: 'Q', help: 'fast or high' },
  model: { type: 'string', multiple: true, value: 'MODEL', help: 'made with this model (repeatable)' },
  from: { type: 'string', value: 'DATE', help: 'added on or after DATE (YYYY-MM-DD or ISO time)' },
  to: { type: 'string', value: 'DATE', help: 'added on or before DATE (a bare date means the whole day)' },
  favorite: { type: 'boolean', help: 'favourites only' },
  'min-rating': { type: 'string', value: 'N', help: 'rated N (0–5) or more' },
  tag: { type: 'string', multiple: true, value: 'TAG', help: 'has this tag (repeatable: all of them)' },
  'any-tag': { type: 'boolean', help: 'with --tag: any of the tags instead of all' },
  project: { type: 'string', value: 'ID', help: 'in this project (`none`: in no project)' },
  trashed: { type: 'boolean', help: 'list the trash instead' },
  sort: { type: 'string', value: 'BY', help: `${LIBRARY_SORTS.join(', ')} (default date)` },
  order: { type: 'string', value: 'DIR', help: 'asc or desc (default: newest/highest first, A–Z for text)' },
  limit: { type: 'string', value: 'N', help: 'page size (1–1000, default 100)' },
  cursor: { type: 'string', value: 'C', help: 'the nextCursor of the previous page' },
  all: { type: 'boolean', help: 'follow every page' },
};

function str(values: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function list(values: Readonly<Record<string, unknown>>, name: string): string[] | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v : [v]).flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean);
}

function dateOption(values: Readonly<Record<string, unknown>>, name: string, endOfDay: boolean): number | undefined {
  const raw = str(values, name);
  if (raw === undefined) return undefined;
  const bare = /^\d{4}-\d{2}-\d{2}$/.test(raw.trim());
  const t = Date.parse(bare ? `${raw.trim()}T00:00:00Z` : raw);
  if (!Number.isFinite(t)) throw new UsageError(`--${name} must be a date like 2025-03-31 or 2025-03-31T18:00:00Z (got ${JSON.stringify(raw)})`, `--${name}`);
  return bare && endOfDay ? t + 86_400_000 - 1 : t;
}

/** The `library list` flags as a contract query (validated by the contract's own schema). */
export function queryFromFlags(values: Readonly<Record<string, unknown>>): NonNullable<LibraryQuery> {
  const project = str(values, 'project');
  const minRating = str(values, 'min-rating');
  const limit = str(values, 'limit');
  const raw = {
    search: str(values, 'search'),
    kind: str(values, 'kind'),
    buckets: list(values, 'type'),
    quality: str(values, 'quality'),
    models: list(values, 'model'),
    from: dateOption(values, 'from', false),
    to: dateOption(values, 'to', true),
    favorite: values.favorite === true ? true : undefined,
    minRating: minRating === undefined ? undefined : Number(minRating),
    tags: list(values, 'tag'),
    tagMode: values['any-tag'] === true ? 'any' : undefined,
    projectId: project === undefined ? undefined : project === 'none' ? null : project,
    trashed: values.trashed === true ? true : undefined,
    sort: str(values, 'sort'),
    order: str(values, 'order'),
    limit: limit === undefined ? undefined : Number(limit),
    cursor: str(values, 'cursor'),
  };
  const clean = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const parsed = LibraryQuerySchema.safeParse(clean);
  if (!parsed.success) throw describeIssues(parsed.error);
  return parsed.data ?? {};
}

/** Every human line goes through here: file names and prompts come from files, so their controls are escaped. */
function print(io: Io, text: string): void {
  const safe = terminalSafe(text);
  io.stdout.write(safe.endsWith('\n') ? safe : `${safe}\n`);
}

/** A line on stderr (a skipped file, a note, a problem), escaped as `print` does. */
function warn(io: Io, text: string): void {
  io.stderr.write(`${terminalSafe(text)}\n`);
}

function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${terminalSafeJson(JSON.stringify(value, null, 2))}\n`);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

/** A live progress line on a terminal; silent when stderr is not one. */
function progressPrinter(io: Io, label: string): { update(p: LibraryProgress): void; done(): void } {
  let shown = false;
  return {
    update(p) {
      if (io.stderr.isTTY !== true) return;
      const pct = p.total > 0 ? Math.floor((p.done / p.total) * 100) : 0;
      const bytes = p.bytesTotal ? ` ${formatBytes(p.bytesDone ?? 0)}/${formatBytes(p.bytesTotal)}` : '';
      const current = p.current ? ` ${truncate(p.current, 40)}` : '';
      io.stderr.write(`\r\x1b[2K${label} ${p.done}/${p.total} (${pct}%)${bytes}${current}`);
      shown = true;
    },
    done() {
      if (shown) io.stderr.write('\r\x1b[2K');
    },
  };
}

export function assetsTable(items: readonly AssetView[]): string {
  return renderTable(
    ['ID', 'ADDED', 'TYPE', 'SIZE', '★', 'MODEL', 'PROMPT'],
    items.map((a) => [
      a.id.slice(0, 8),
      new Date(a.createdAt).toISOString().slice(0, 16).replace('T', ' '),
      a.bucket,
      a.width && a.height ? `${a.width}×${a.height}` : '',
      `${a.favorite ? '♥' : ''}${a.rating > 0 ? a.rating : ''}`,
      truncate(a.model ?? '', 24),
      truncate(a.prompt ?? a.title ?? '', 60),
    ]),
  );
}

function ids(input: LibraryCommandInput, min = 1): string[] {
  if (input.args.length < min) throw new UsageError('give at least one asset id (see `studio library list`)');
  return input.args.map((a) => resolveId(input.library, a));
}

/** A full id, or an unambiguous prefix of one (as `library list` shows 8 characters). */
export function resolveId(library: Library, given: string): string {
  if (library.db.get('SELECT 1 AS x FROM assets WHERE id = ?', given)) return given;
  if (!/^[A-Za-z0-9_-]{4,64}$/.test(given)) throw new StudioError('not_found', `no asset with id ${given}`);
  const matches = library.db.all<{ id: string }>("SELECT id FROM assets WHERE id >= ? AND id < ? || char(1114111) LIMIT 2", given, given);
  if (matches.length === 0) throw new StudioError('not_found', `no asset with id ${given}; list them with \`studio library list\``);
  if (matches.length > 1) throw new StudioError('ambiguous', `${given} matches more than one asset; give more of the id`);
  return matches[0]!.id;
}

function checkLines(report: CheckReport): string {
  if (report.findings.length === 0) return `library at ${report.root} is consistent (${report.rowsChecked} assets, ${report.filesChecked} files)`;
  const lines = report.findings.map((f) => `${f.action.padEnd(24)} ${f.message}`);
  return `${lines.join('\n')}\n${report.findings.length} finding${report.findings.length === 1 ? '' : 's'} in ${report.rowsChecked} assets and ${report.filesChecked} files${
    report.repaired ? '' : ' (nothing was changed; run with --repair to repair)'
  }`;
}

function tags(input: LibraryCommandInput): string[] {
  const t = list(input.values, 'tag');
  if (!t || t.length === 0) throw new UsageError('give at least one --tag NAME', '--tag');
  return t;
}

export const LIBRARY_COMMANDS = {
  'library list': {
    summary: 'list assets, newest first, with filters, search and sort (the same query as the app’s grid)',
    args: [],
    options: LIST_OPTIONS,
    role: 'client',
    async run(input) {
      const query = queryFromFlags(input.values);
      const items: AssetView[] = [];
      let page = input.library.query({ ...query, withTotal: true });
      const total = page.total;
      items.push(...page.items);
      while (input.values.all === true && page.nextCursor) {
        page = input.library.query({ ...query, cursor: page.nextCursor });
        items.push(...page.items);
      }
      if (input.json) printJson(input.io, { items, nextCursor: page.nextCursor, total });
      else {
        print(input.io, items.length ? assetsTable(items) : 'no assets match');
        if (page.nextCursor) input.io.stderr.write(`${items.length} of ${total}; next page: --cursor ${page.nextCursor}\n`);
      }
      return EXIT.ok;
    },
  },
  'library show': {
    summary: 'show one asset in full: prompt, settings, tags, recipe',
    args: ['ID'],
    options: {},
    role: 'client',
    async run(input) {
      const [id] = ids(input);
      const detail = input.library.get(id!);
      if (!detail) throw new StudioError('not_found', `no asset with id ${id}`);
      if (input.json) printJson(input.io, detail);
      else {
        const rows: [string, string][] = [
          ['id', detail.id],
          ['type', `${detail.bucket} (${detail.kind}, ${detail.mime}, ${formatBytes(detail.fileSize)})`],
          ['added', new Date(detail.createdAt).toISOString()],
          ['prompt', detail.prompt ?? ''],
          ['negative', detail.negativePrompt ?? ''],
          ['enhanced', detail.enhancedPrompt ?? ''],
          ['seed', detail.seed === null ? '' : String(detail.seed)],
          ['model', detail.model ?? ''],
          ['steps / cfg', `${detail.steps ?? ''} / ${detail.guidance ?? ''}`],
          ['sampler', detail.scheduler ?? ''],
          ['rating', `${detail.favorite ? 'favourite, ' : ''}${detail.rating}/5`],
          ['tags', detail.tags.join(', ')],
          ['sha256', detail.sha256],
          ['file', await input.library.revealPath(detail.id).catch(() => '(missing: run `studio library check`)')],
        ];
        print(input.io, rows.filter(([, v]) => v !== '').map(([k, v]) => `${k.padEnd(12)} ${v}`).join('\n'));
      }
      return EXIT.ok;
    },
  },
  'library stats': {
    summary: 'count assets and show disk use per bucket',
    args: [],
    options: {},
    role: 'client',
    async run(input) {
      const s = input.library.stats();
      if (input.json) printJson(input.io, s);
      else {
        print(input.io, `${s.root}\n${s.assets} assets (${s.images} images, ${s.videos} videos), ${s.favorites} favourites, ${s.trashed} in the trash (${formatBytes(s.trashedBytes)}), ${formatBytes(s.totalBytes)} in all`);
        print(input.io, renderTable(['BUCKET', 'ASSETS', 'SIZE'], s.buckets.filter((b) => b.count > 0).map((b) => [b.bucket, String(b.count), formatBytes(b.bytes)]), [1, 2]));
        if (s.thumbnailsPending) print(input.io, `${s.thumbnailsPending} thumbnails still to make`);
        if (s.duplicates) print(input.io, `${s.duplicates} duplicate files (run \`studio library check\` to list them)`);
        if (s.pendingMove) print(input.io, `an unfinished move to ${s.pendingMove.to}: run \`studio library move ${s.pendingMove.to}\` to finish it`);
      }
      return EXIT.ok;
    },
  },
  'library check': {
    summary: 'find rows without files and files without rows; --repair fixes what is safe and says what it did',
    args: [],
    options: { repair: { type: 'boolean', help: 'repair: finish interrupted deletes, adopt our orphan files, remove our leftovers (never your files)' } },
    role: 'client',
    async run(input) {
      const progress = progressPrinter(input.io, 'checking');
      const report = await input.library.check(input.values.repair === true, (p) => progress.update(p));
      progress.done();
      if (input.values.repair === true) await input.library.thumbnails.idle();
      if (input.json) printJson(input.io, report);
      else print(input.io, checkLines(report));
      const open = report.findings.filter((f) => f.action === 'reported');
      return open.length > 0 ? CHECK_FOUND_PROBLEMS : EXIT.ok;
    },
  },
  'library import': {
    summary: 'import a folder of PNG/JPEG/WebP/MP4 from other tools (A1111, ComfyUI, InvokeAI, SwarmUI, Fooocus, NovelAI metadata is read)',
    args: ['DIR'],
    options: {
      recursive: { type: 'boolean', short: 'r', help: 'also import sub-folders (hidden ones are skipped)' },
      'no-thumbnails': { type: 'boolean', help: 'do not wait for thumbnails (the app makes them later)' },
    },
    role: 'client',
    async run(input) {
      const dir = input.args[0];
      if (!dir) throw new UsageError('give the folder to import: studio library import DIR');
      const progress = progressPrinter(input.io, 'importing');
      const report = await input.library.import(dir, { recursive: input.values.recursive === true, signal: input.signal, onProgress: (p) => progress.update(p) });
      progress.done();
      if (input.values['no-thumbnails'] !== true && report.imported.length > 0 && !input.signal?.aborted) {
        if (!input.json && input.io.stderr.isTTY) input.io.stderr.write('making thumbnails…');
        await input.library.thumbnails.idle();
        if (!input.json && input.io.stderr.isTTY) input.io.stderr.write('\r\x1b[2K');
      }
      if (input.json) printJson(input.io, report);
      else {
        for (const s of report.skipped) if (s.reason !== 'duplicate') warn(input.io, `skipped ${s.message}`);
        for (const w of report.warnings) warn(input.io, `note: ${w.message}`);
        const dups = report.skipped.filter((s) => s.reason === 'duplicate').length;
        print(
          input.io,
          `imported ${report.imported.length} of ${report.scanned} files from ${report.dir}${dups ? `; ${dups} already in the library` : ''}${
            report.skipped.length - dups ? `; ${report.skipped.length - dups} skipped` : ''
          }`,
        );
      }
      return input.signal?.aborted ? EXIT.interrupted : EXIT.ok;
    },
  },
  'library export': {
    summary: 'copy assets’ original files to a folder (never overwriting), optionally with recipe sidecars',
    args: ['ID…'],
    options: {
      to: { type: 'string', value: 'DIR', help: 'the folder to export into (created if needed)' },
      sidecar: { type: 'boolean', help: 'also write NAME.json with the prompt, settings and recipe' },
      'strip-metadata': { type: 'boolean', help: 'copies with no generation data (prompt, recipe, XMP, MP4 tags); not with --sidecar' },
    },
    role: 'client',
    async run(input) {
      const to = str(input.values, 'to');
      if (!to) throw new UsageError('give the folder to export into with --to DIR', '--to');
      const sidecar = input.values.sidecar === true;
      const stripMetadata = input.values['strip-metadata'] === true;
      if (sidecar && stripMetadata) {
        throw new UsageError('--strip-metadata leaves the prompt and recipe out of the files and --sidecar writes them beside the files: use one of them', '--strip-metadata');
      }
      const result = await input.library.export(ids(input), to, { sidecar, stripMetadata });
      if (input.json) printJson(input.io, result);
      else {
        for (const f of result.files) print(input.io, f.file);
        for (const p of result.problems) warn(input.io, p.message);
      }
      return result.problems.length > 0 ? EXIT.engine : EXIT.ok;
    },
  },
  'library tag': {
    summary: 'add tags to assets',
    args: ['ID…'],
    options: { tag: { type: 'string', multiple: true, value: 'TAG', help: 'the tag to add (repeatable)' } },
    role: 'client',
    async run(input) {
      const changed = input.library.tag(ids(input), tags(input));
      if (input.json) printJson(input.io, { changed });
      else print(input.io, `${changed} tag${changed === 1 ? '' : 's'} added`);
      return EXIT.ok;
    },
  },
  'library untag': {
    summary: 'remove tags from assets',
    args: ['ID…'],
    options: { tag: { type: 'string', multiple: true, value: 'TAG', help: 'the tag to remove (repeatable)' } },
    role: 'client',
    async run(input) {
      const changed = input.library.untag(ids(input), tags(input));
      if (input.json) printJson(input.io, { changed });
      else print(input.io, `${changed} tag${changed === 1 ? '' : 's'} removed`);
      return EXIT.ok;
    },
  },
  'library trash': {
    summary: 'move assets to the trash (undo with `library restore`)',
    args: ['ID…'],
    options: {},
    role: 'client',
    async run(input) {
      const trashed = input.library.trash(ids(input));
      if (input.json) printJson(input.io, { trashed });
      else print(input.io, `${trashed} moved to the trash; \`studio library restore ID…\` brings them back`);
      return EXIT.ok;
    },
  },
  'library restore': {
    summary: 'bring assets back from the trash',
    args: ['ID…'],
    options: {},
    role: 'client',
    async run(input) {
      const restored = input.library.restore(ids(input));
      if (input.json) printJson(input.io, { restored });
      else print(input.io, `${restored} restored`);
      return EXIT.ok;
    },
  },
  'library empty-trash': {
    summary: 'delete the trashed assets and their files for good',
    args: [],
    options: { yes: { type: 'boolean', help: 'really delete (without it, only says what would go)' } },
    role: 'client',
    async run(input) {
      const s = input.library.stats();
      if (input.values.yes !== true) {
        const text = `${s.trashed} asset${s.trashed === 1 ? '' : 's'} (${formatBytes(s.trashedBytes)}) would be deleted for good; add --yes to delete them`;
        if (input.json) printJson(input.io, { wouldDelete: s.trashed, bytes: s.trashedBytes });
        else print(input.io, text);
        return s.trashed > 0 ? EXIT.usage : EXIT.ok;
      }
      const result = await input.library.emptyTrash();
      if (input.json) printJson(input.io, result);
      else {
        print(input.io, `${result.deleted} deleted, ${formatBytes(result.freedBytes)} freed`);
        for (const p of result.problems) warn(input.io, p.message);
      }
      return result.problems.length > 0 ? EXIT.engine : EXIT.ok;
    },
  },
  'library move': {
    summary: 'move the library to another folder: copied and verified before the old files go; safe to interrupt and run again',
    args: ['DIR'],
    options: {},
    role: 'client',
    async run(input) {
      const to = input.args[0];
      if (!to) throw new UsageError('give the new library folder: studio library move DIR');
      const progress = progressPrinter(input.io, 'moving');
      const report = await input.library.moveRoot(to, { signal: input.signal, onProgress: (p) => progress.update(p) });
      progress.done();
      if (input.json) printJson(input.io, report);
      else print(input.io, `moved ${report.files} files (${formatBytes(report.bytes)}) from ${report.from} to ${report.to}${report.resumed ? `, ${report.resumed} already copied by an earlier run` : ''}`);
      return EXIT.ok;
    },
  },
} satisfies Record<string, LibraryCommand>;

export type LibraryCommandName = keyof typeof LIBRARY_COMMANDS;
export const LIBRARY_COMMAND_NAMES = Object.keys(LIBRARY_COMMANDS) as LibraryCommandName[];
