/**
 * `studio`: the OurVidz Studio engine from the command line. See `studio --help`; exit codes in
 * exit-codes.ts. The engine module is imported only by commands that need it, so `--help`,
 * `--version` and usage errors answer at once.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { WireError } from '../../src-preload/contract/channels.ts';
import { toWireError } from '../engine/errors.ts';
import { resolveDataDir } from '../engine/paths.ts';
import { parseCommandLine } from './args.ts';
import type { Parsed } from './args.ts';
import { runCommand } from './commands.ts';
import type { CommandContext, OpenRequest } from './commands.ts';
import { exitCodeForError, UsageError } from './exit-codes.ts';
import { flagForField } from './generate-flags.ts';
import { commandHelp, generalHelp, groupHelp } from './help.ts';
import { processIo } from './io.ts';
import type { CliEngine, Io } from './io.ts';
import { serveCommand } from './serve-command.ts';

export function cliVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** The error as scripts see it (`--json`) and as the exit code classifies it. */
export function wireErrorOf(e: unknown): WireError {
  if (e instanceof UsageError) return { code: 'usage', message: e.message, ...(e.flag ? { field: e.flag } : {}) };
  return toWireError(e);
}

/** The human line: names the flag to fix when the engine names a request field. */
export function humanError(wire: WireError): string {
  const flag = wire.code === 'invalid_params' ? flagForField(wire.field) : undefined;
  return `error: ${flag ? `${flag}: ` : ''}${wire.message}`;
}

function openEngineFor(line: Parsed & { kind: 'command' }, io: Io) {
  return async (request: OpenRequest): Promise<CliEngine> => {
    const { Engine } = await import('../engine/engine.ts');
    return Engine.open({
      // An empty STUDIO_DATA_DIR means unset, not "the current folder".
      dataDir: resolveDataDir(line.global.data || undefined, io.env.STUDIO_DATA_DIR ? io.env : { ...io.env, STUDIO_DATA_DIR: undefined }),
      modelDirs: line.global.models.map((d) => resolve(d)),
      frontDoor: request.frontDoor,
      role: request.role,
      ...(request.vramBudgetMb !== undefined ? { vramBudgetMb: request.vramBudgetMb } : {}),
    });
  };
}

export interface MainOptions {
  /** Ends the process at once (a second Ctrl-C while waiting). */
  readonly forceExit?: (code: number) => never;
  /** Tests hand in a stand-in engine; the product opens the real one. */
  readonly openEngine?: (request: OpenRequest) => Promise<CliEngine>;
}

/** Runs one command line; resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = processIo(), options: MainOptions = {}): Promise<number> {
  const forceExit = options.forceExit ?? ((c: number) => process.exit(c));
  const json = argv.includes('--json');
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.kind === 'version') {
      io.stdout.write(parsed.json ? `${JSON.stringify({ version: cliVersion() })}\n` : `${cliVersion()}\n`);
      return 0;
    }
    if (parsed.kind === 'help') {
      const text = parsed.command ? commandHelp(parsed.command) : parsed.group ? groupHelp(parsed.group) : generalHelp(cliVersion());
      io.stdout.write(`${text}\n`);
      return 0;
    }
    const ctx: CommandContext = { line: parsed, io, openEngine: options.openEngine ?? openEngineFor(parsed, io), forceExit, serve: serveCommand };
    return await runCommand(ctx);
  } catch (e) {
    const wire = wireErrorOf(e);
    if (json) io.stdout.write(`${JSON.stringify({ error: wire }, null, 2)}\n`);
    else io.stderr.write(`${humanError(wire)}\n`);
    if (wire.code === 'internal' && io.env.STUDIO_DEBUG && e instanceof Error) io.stderr.write(`${e.stack ?? ''}\n`);
    return exitCodeForError(wire.code);
  }
}
