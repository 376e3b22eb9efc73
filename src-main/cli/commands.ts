/**
 * The commands. Each returns its exit code; `--json` makes each print exactly one JSON document on
 * stdout. Params go through the contract's schemas (dispatch.invoke), as they do in the app.
 */
import { join } from 'node:path';
import { JOB_STATES, resolveRequest } from '../../src-preload/contract/index.ts';
import type { JobState, JobView } from '../../src-preload/contract/index.ts';
import { StudioError, toWireError } from '../engine/errors.ts';
import { COMMANDS, intOption, isLibraryCommand } from './args.ts';
import type { CommandName, Parsed } from './args.ts';
import { invoke } from './dispatch.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import { followJob } from './follow.ts';
import { requestFromFlags } from './generate-flags.ts';
import type { CliEngine, Io } from './io.ts';
import { LIBRARY_COMMANDS } from './library.ts';
import type { LibraryCommandName } from './library.ts';
import { formatDuration, gpuReport, jobDetail, jobsTable, modelsTable, queueLine } from './render.ts';
import { settingsCommand } from './settings.ts';
import { modelsAdd } from './models.ts';
import { syncCommand } from './sync.ts';

export type CommandLine = Parsed & { kind: 'command' };

export interface OpenRequest {
  readonly role: 'runner' | 'client' | 'auto';
  readonly frontDoor: 'cli' | 'serve';
  readonly vramBudgetMb?: number;
}

export interface CommandContext {
  readonly line: CommandLine;
  readonly io: Io;
  openEngine(request: OpenRequest): Promise<CliEngine>;
  /** Ends the process now (a second Ctrl-C). */
  forceExit(code: number): never;
  /** `studio serve` lives in its own module; main wires it in. */
  serve?(ctx: CommandContext): Promise<number>;
}

function print(io: Io, text: string): void {
  io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function vramOption(values: Readonly<Record<string, unknown>>): number | undefined {
  return intOption(values, 'vram-budget', 256, 1_048_576);
}

/** Files of a finished job's assets, for the user to open. Read-only look at the library table. */
function assetFiles(engine: CliEngine, jobId: string): string[] {
  if (!engine.db || !engine.layout) return [];
  try {
    const root = engine.layout.library;
    return engine.db
      .all<{ file_path: string }>('SELECT file_path FROM assets WHERE job_id = ? ORDER BY batch_index, created_at', jobId)
      .map((r) => join(root, r.file_path));
  } catch {
    return [];
  }
}

async function withEngine(ctx: CommandContext, role: OpenRequest['role'], fn: (engine: CliEngine) => Promise<number>): Promise<number> {
  const engine = await ctx.openEngine({ role, frontDoor: 'cli', vramBudgetMb: vramOption(ctx.line.values) });
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

async function generate(ctx: CommandContext): Promise<number> {
  const { line, io } = ctx;
  const json = line.global.json;
  const request = requestFromFlags(line.values);
  // The engine's own validation, before anything is opened: a bad request never reaches the queue.
  resolveRequest(request, () => 0);
  const wait = line.values.wait === true;
  const idempotencyKey = typeof line.values['idempotency-key'] === 'string' ? line.values['idempotency-key'] : undefined;
  return withEngine(ctx, wait ? 'auto' : 'client', async (engine) => {
    const job = await invoke(engine.handlers, 'jobs.enqueue', { request, ...(idempotencyKey ? { idempotencyKey } : {}) });
    if (!wait) {
      if (json) printJson(io, job);
      else {
        print(io, `queued ${job.id} (${job.type}${job.position !== null ? `, position ${job.position + 1}` : ''})`);
        io.stderr.write('It runs while OurVidz Studio or `studio serve` is open; add --wait to run it here and wait.\n');
      }
      return EXIT.ok;
    }
    if (!json) {
      const where = engine.role === 'runner' ? 'running it here' : 'the open app runs it';
      io.stderr.write(`job ${job.id} (${job.type}, seed ${job.params.seed}): ${where}\n`);
      const queue = await invoke(engine.handlers, 'queue.state', undefined);
      if (queue.paused) io.stderr.write('The queue is paused, so the job waits: run `studio queue resume` to start it.\n');
    }
    const { job: final, interrupted } = await followJob(engine, job, io, {
      quiet: json && io.stderr.isTTY !== true,
      forceExit: ctx.forceExit,
    });
    const files = final.status.state === 'done' ? assetFiles(engine, final.id) : [];
    if (json) printJson(io, { ...final, files });
    const s = final.status;
    if (s.state === 'done') {
      if (!json) {
        const took = final.startedAt !== null && final.finishedAt !== null ? ` in ${formatDuration(final.finishedAt - final.startedAt)}` : '';
        io.stderr.write(`done${took}: ${s.assets.length} asset${s.assets.length === 1 ? '' : 's'}\n`);
        print(io, (files.length ? files : s.assets).join('\n'));
      }
      return EXIT.ok;
    }
    if (s.state === 'failed') {
      if (!json) io.stderr.write(`failed (${s.code}): ${s.message}\n`);
      return EXIT.jobFailed;
    }
    if (!json) io.stderr.write(interrupted ? 'cancelled\n' : 'the job was cancelled\n');
    return interrupted ? EXIT.interrupted : EXIT.jobFailed;
  });
}

function statesOption(values: Readonly<Record<string, unknown>>): JobState[] | undefined {
  const raw = values.state;
  if (raw === undefined) return undefined;
  const list = (Array.isArray(raw) ? raw : [raw]).flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean);
  for (const s of list) {
    if (!(JOB_STATES as readonly string[]).includes(s)) {
      throw new UsageError(`--state must be one of ${JOB_STATES.join(', ')} (got ${JSON.stringify(s)})`, '--state');
    }
  }
  return list as JobState[];
}

async function jobAction(ctx: CommandContext, channel: 'jobs.cancel' | 'jobs.retry' | 'jobs.moveToFront', verb: string): Promise<number> {
  const id = ctx.line.args[0]!;
  return withEngine(ctx, 'client', async (engine) => {
    const job = await invoke(engine.handlers, channel, { id });
    if (ctx.line.global.json) printJson(ctx.io, job);
    else {
      const note =
        channel === 'jobs.cancel' && job.status.state === 'running' ? ' (it stops at its next step)' : '';
      print(ctx.io, `${verb} ${job.id}${note}`);
    }
    return EXIT.ok;
  });
}

function notFound(id: string): StudioError {
  return new StudioError('not_found', `no job with id ${id}. See \`studio jobs list\`.`);
}

/** The library commands that stop between files when the signal aborts. */
const INTERRUPTIBLE: ReadonlySet<CommandName> = new Set(['library import', 'library move']);

/**
 * `studio library …` on the engine's own Library (a client engine has one too, so this works beside
 * an open app). Import and move take Ctrl-C as "stop after the current file": the first press aborts
 * the signal, a second one ends the process at once.
 */
async function libraryCommand(ctx: CommandContext, name: LibraryCommandName): Promise<number> {
  const { line, io } = ctx;
  const command = LIBRARY_COMMANDS[name];
  return withEngine(ctx, command.role, async (engine) => {
    if (!engine.library) throw new StudioError('internal', 'this engine has no library');
    const controller = new AbortController();
    let presses = 0;
    const off = INTERRUPTIBLE.has(name)
      ? io.onInterrupt(() => {
          presses++;
          if (presses > 1) ctx.forceExit(EXIT.interrupted);
          io.stderr.write('\nstopping after the current file (press Ctrl-C again to quit at once)\n');
          controller.abort();
        })
      : () => undefined;
    try {
      return await command.run({ library: engine.library, io, json: line.global.json, values: line.values, args: line.args, signal: controller.signal });
    } catch (e) {
      // A move stopped by Ctrl-C says where the library is and how to resume; it is an interruption, not an engine failure.
      if (!controller.signal.aborted || !(e instanceof StudioError) || e.code !== 'cancelled') throw e;
      const wire = toWireError(e);
      if (line.global.json) printJson(io, { error: wire });
      else io.stderr.write(`${wire.message}\n`);
      return EXIT.interrupted;
    } finally {
      off();
    }
  });
}

export async function runCommand(ctx: CommandContext): Promise<number> {
  const { line, io } = ctx;
  const json = line.global.json;
  if (isLibraryCommand(line.command)) return libraryCommand(ctx, line.command);
  switch (line.command) {
    case 'generate':
      return generate(ctx);
    case 'jobs list': {
      const states = statesOption(line.values);
      const limit = intOption(line.values, 'limit', 1, 1000);
      return withEngine(ctx, 'client', async (engine) => {
        const jobs = await invoke(engine.handlers, 'jobs.list', { ...(states ? { states } : {}), ...(limit ? { limit } : {}) });
        if (json) printJson(io, jobs);
        else print(io, jobsTable(jobs, io.now()));
        return EXIT.ok;
      });
    }
    case 'jobs show': {
      const id = line.args[0]!;
      return withEngine(ctx, 'client', async (engine) => {
        const job: JobView | null = await invoke(engine.handlers, 'jobs.get', { id });
        if (!job) throw notFound(id);
        if (json) printJson(io, job);
        else print(io, jobDetail(job, io.now()));
        return EXIT.ok;
      });
    }
    case 'jobs cancel':
      return jobAction(ctx, 'jobs.cancel', 'cancelled');
    case 'jobs retry':
      return jobAction(ctx, 'jobs.retry', 'queued again');
    case 'jobs move-to-front':
      return jobAction(ctx, 'jobs.moveToFront', 'moved to the front');
    case 'jobs move': {
      const id = line.args[0]!;
      const before = typeof line.values.before === 'string' ? line.values.before : null;
      if ((before === null) === (line.values.last !== true)) {
        throw new UsageError('say where the job goes: --before ID (ahead of that queued job) or --last (to the back of the queue)', '--before');
      }
      return withEngine(ctx, 'client', async (engine) => {
        const job = await invoke(engine.handlers, 'jobs.reorder', { id, before });
        if (json) printJson(io, job);
        else print(io, `moved ${job.id}: ${job.position === null ? 'queued' : `now #${job.position + 1} in line`}`);
        return EXIT.ok;
      });
    }
    case 'jobs clear':
      return withEngine(ctx, 'client', async (engine) => {
        const ids = line.args.length > 0 ? [...line.args] : undefined;
        const cleared = await invoke(engine.handlers, 'jobs.clearFinished', ids ? { ids } : undefined);
        if (json) printJson(io, cleared);
        else print(io, cleared.ids.length === 0 ? 'no finished jobs to clear' : `cleared ${cleared.ids.length} finished job${cleared.ids.length === 1 ? '' : 's'} from the list (\`studio jobs show ID\` still shows each)`);
        return EXIT.ok;
      });
    case 'queue pause':
    case 'queue resume':
    case 'queue status': {
      const channel = line.command === 'queue pause' ? 'queue.pause' : line.command === 'queue resume' ? 'queue.resume' : 'queue.state';
      return withEngine(ctx, 'client', async (engine) => {
        const state = await invoke(engine.handlers, channel, undefined);
        if (json) printJson(io, state);
        else print(io, queueLine(state));
        return EXIT.ok;
      });
    }
    case 'models list':
      return withEngine(ctx, 'client', async (engine) => {
        const [models, info] = await Promise.all([invoke(engine.handlers, 'models.list', undefined), invoke(engine.handlers, 'app.info', undefined)]);
        if (json) printJson(io, models);
        else print(io, modelsTable(models, info.modelDirs));
        return EXIT.ok;
      });
    case 'models add':
      return withEngine(ctx, 'client', (engine) =>
        modelsAdd(engine, io, {
          paths: line.args,
          name: typeof line.values.name === 'string' ? line.values.name : null,
          vae: typeof line.values.vae === 'string' ? line.values.vae : null,
          json,
          cwd: process.cwd(),
        }),
      );
    case 'gpu':
      return withEngine(ctx, 'client', async (engine) => {
        const stats = await invoke(engine.handlers, 'gpu.status', undefined);
        if (json) printJson(io, stats);
        else print(io, gpuReport(stats));
        return EXIT.ok;
      });
    case 'settings list':
    case 'settings get':
    case 'settings set':
      return settingsCommand(ctx, (fn) => withEngine(ctx, 'client', fn));
    case 'sync status':
    case 'sync now':
    case 'sync pause':
    case 'sync resume':
    case 'sync on':
    case 'sync off':
    case 'sync login':
    case 'sync signup':
    case 'sync reset-password':
    case 'sync logout':
    case 'sync mirror':
    case 'sync retry':
      // A client: never runs jobs, so it works beside an open app (which keeps its own sign-in).
      return syncCommand(ctx, line.command, (fn) => withEngine(ctx, 'client', fn));
    case 'serve':
      if (!ctx.serve) throw new Error('serve is not wired in');
      return ctx.serve(ctx);
    default: {
      const never: never = line.command;
      throw new UsageError(`unknown command ${String(never)}; known: ${Object.keys(COMMANDS).join(', ')}`);
    }
  }
}
