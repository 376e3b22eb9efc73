/**
 * The command line grammar: `studio [global options] <command> [subcommand] [options] [args]`.
 * Pure (no engine, no I/O) so every parse decision is unit-tested.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './exit-codes.ts';
import { paramParseOptions } from './generate-flags.ts';
import { LIBRARY_COMMANDS, LIBRARY_COMMAND_NAMES } from './library.ts';
import type { LibraryCommandName } from './library.ts';
import { SYNC_COMMAND_NAMES, SYNC_SPECS } from './sync.ts';
import type { SyncCommandName } from './sync.ts';

export type EngineRole = 'none' | 'client' | 'auto' | 'runner';

interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  readonly value?: string;
  readonly help: string;
}

export interface CommandSpec {
  /** `generate`, `jobs list`, … */
  readonly name: CommandName;
  readonly summary: string;
  /** Positional arguments; a last one ending in `…` takes one or more words (`ID…`), or none too in brackets (`[ID…]`). */
  readonly args: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** How the command opens the engine: runner runs jobs, client only reads/writes the queue. */
  readonly role: EngineRole;
}

const ENGINE_COMMAND_NAMES = [
  'generate',
  'jobs list',
  'jobs show',
  'jobs cancel',
  'jobs retry',
  'jobs move-to-front',
  'jobs move',
  'jobs clear',
  'queue pause',
  'queue resume',
  'queue status',
  'models list',
  'models add',
  'gpu',
  'settings list',
  'settings get',
  'settings set',
] as const;
export type CommandName = (typeof ENGINE_COMMAND_NAMES)[number] | LibraryCommandName | SyncCommandName | 'serve';
/** Every command, in the order `studio --help` lists them. */
export const COMMAND_NAMES: readonly CommandName[] = [...ENGINE_COMMAND_NAMES, ...LIBRARY_COMMAND_NAMES, ...SYNC_COMMAND_NAMES, 'serve'];

export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  data: { type: 'string', value: 'DIR', help: 'data folder (default: $STUDIO_DATA_DIR, else the app’s own folder)' },
  models: { type: 'string', multiple: true, value: 'DIR', help: 'extra folder to look for models in (repeatable)' },
  json: { type: 'boolean', help: 'print one JSON document on stdout and nothing else' },
  help: { type: 'boolean', short: 'h', help: 'show help' },
};

const VRAM: OptionSpec = { type: 'string', value: 'MB', help: 'VRAM budget in MiB for resident models' };

const GENERATE_OPTIONS: Record<string, OptionSpec> = {
  wait: {
    type: 'boolean',
    help: 'wait for the job: runs it here when no app or `studio serve` is running, else waits for the one that is',
  },
  'idempotency-key': { type: 'string', value: 'KEY', help: 'enqueue at most once per KEY (a repeat returns the first job)' },
  'vram-budget': VRAM,
};

function spec(name: CommandName, summary: string, role: EngineRole, args: string[] = [], options: Record<string, OptionSpec> = {}): CommandSpec {
  return { name, summary, role, args, options };
}

export function isLibraryCommand(name: CommandName): name is LibraryCommandName {
  return Object.hasOwn(LIBRARY_COMMANDS, name);
}

/** `studio library …`: specs live beside their run() in library.ts. */
const LIBRARY_SPECS = Object.fromEntries(
  LIBRARY_COMMAND_NAMES.map((name): [LibraryCommandName, CommandSpec] => {
    const c = LIBRARY_COMMANDS[name];
    return [name, { name, summary: c.summary, role: c.role, args: c.args, options: c.options }];
  }),
) as Record<LibraryCommandName, CommandSpec>;

export const COMMANDS: Readonly<Record<CommandName, CommandSpec>> = {
  generate: spec('generate', 'queue a generation (and with --wait, run it and wait for the result)', 'client', [], GENERATE_OPTIONS),
  'jobs list': spec('jobs list', 'list jobs, running and queued first', 'client', [], {
    state: {
      type: 'string',
      multiple: true,
      value: 'STATE',
      help: 'only jobs in this state: queued, running, done, failed, cancelled (repeatable or comma-separated)',
    },
    limit: { type: 'string', value: 'N', help: 'at most N jobs (1 to 1000, default 200)' },
  }),
  'jobs show': spec('jobs show', 'show one job in full', 'client', ['ID']),
  'jobs cancel': spec('jobs cancel', 'cancel a queued job, or stop a running one at its next step', 'client', ['ID']),
  'jobs retry': spec('jobs retry', 'queue a failed or cancelled job again', 'client', ['ID']),
  'jobs move-to-front': spec('jobs move-to-front', 'run a queued job next', 'client', ['ID']),
  'jobs move': spec('jobs move', 'put a queued job just ahead of another queued job, or at the back of the queue', 'client', ['ID'], {
    before: { type: 'string', value: 'ID', help: 'the queued job it goes ahead of' },
    last: { type: 'boolean', help: 'to the back of the queue' },
  }),
  'jobs clear': spec('jobs clear', 'clear finished jobs (done, failed, cancelled) from the job list: all, or the IDs given', 'client', ['[ID…]']),
  'queue pause': spec('queue pause', 'stop starting new jobs (the running one finishes)', 'client'),
  'queue resume': spec('queue resume', 'start running queued jobs again', 'client'),
  'queue status': spec('queue status', 'show whether the queue is paused and how many jobs wait', 'client'),
  'models list': spec('models list', 'list the models found and whether each is usable', 'client'),
  'models add': spec(
    'models add',
    'add an SDXL checkpoint (.safetensors from A1111, ComfyUI or Civitai), a diffusers folder, or a WAN 2.1 model (its folder, or its transformer, text encoder and VAE files together): checks it and prepares it to run, with progress',
    'client',
    ['PATH…'],
    {
      name: { type: 'string', value: 'NAME', help: 'the name it is listed under (default: the file or folder name)' },
      vae: { type: 'string', value: 'FILE', help: 'a VAE file to use with it (needed when the checkpoint has none inside)' },
    },
  ),
  gpu: spec('gpu', 'show the GPU, VRAM budget, resident models and workers', 'client'),
  'settings list': spec('settings list', 'show every setting (the same ones as the app’s Settings view)', 'client'),
  'settings get': spec('settings get', 'print one setting’s value', 'client', ['KEY']),
  'settings set': spec(
    'settings set',
    'change one setting; an open app or `studio serve` applies it at once (KEY: modelDirs, providers, vramBudgetMb, ffmpegPath, previewEvery, workerIdleMinutes)',
    'client',
    ['KEY', 'VALUE'],
  ),
  ...LIBRARY_SPECS,
  ...(Object.fromEntries(SYNC_COMMAND_NAMES.map((name) => [name, spec(name, SYNC_SPECS[name].summary, 'client', [...(SYNC_SPECS[name].args ?? [])], SYNC_SPECS[name].options)])) as Record<SyncCommandName, CommandSpec>),
  serve: spec('serve', 'serve the studio API and the app to this machine’s browser (loopback only)', 'runner', [], {
    port: { type: 'string', value: 'N', help: 'port to listen on (default: any free port)' },
    host: { type: 'string', value: 'HOST', help: 'loopback address to bind: 127.0.0.1 (default), ::1 or localhost' },
    'vram-budget': VRAM,
  }),
};

const GROUPS: Readonly<Record<string, readonly string[]>> = {
  jobs: ['list', 'show', 'cancel', 'retry', 'move-to-front', 'move', 'clear'],
  queue: ['pause', 'resume', 'status'],
  models: ['list', 'add'],
  settings: ['list', 'get', 'set'],
  library: LIBRARY_COMMAND_NAMES.map((n) => n.slice('library '.length)),
  sync: SYNC_COMMAND_NAMES.map((n) => n.slice('sync '.length)),
};

/** Options of a command as parseArgs wants them (generate adds one flag per request field). */
export function parseOptionsFor(name: CommandName): Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> {
  const all: Record<string, OptionSpec | { type: 'string' }> = {
    ...GLOBAL_OPTIONS,
    ...(name === 'generate' ? paramParseOptions() : {}),
    ...COMMANDS[name].options,
  };
  return Object.fromEntries(
    Object.entries(all).map(([k, o]) => [
      k,
      { type: o.type, ...('multiple' in o && o.multiple ? { multiple: true } : {}), ...('short' in o && o.short ? { short: o.short } : {}) },
    ]),
  );
}

export interface GlobalValues {
  readonly data: string | undefined;
  readonly models: readonly string[];
  readonly json: boolean;
}

export type Parsed =
  | { readonly kind: 'help'; readonly command: CommandName | null; readonly group: string | null }
  | { readonly kind: 'version'; readonly json: boolean }
  | {
      readonly kind: 'command';
      readonly command: CommandName;
      readonly global: GlobalValues;
      readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
      readonly args: readonly string[];
    };

/** Every option that takes a value, in any command: used to find the command words in argv. */
function valueOptionNames(): Set<string> {
  const names = new Set<string>();
  for (const name of COMMAND_NAMES) {
    for (const [k, o] of Object.entries(parseOptionsFor(name))) if (o.type === 'string') names.add(k);
  }
  return names;
}
const VALUE_OPTIONS = valueOptionNames();

/** The non-option words in argv (option values skipped), up to `--`. */
export function commandWords(argv: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('--')) {
      if (!a.includes('=') && VALUE_OPTIONS.has(a.slice(2))) i++;
      continue;
    }
    if (a.startsWith('-') && a.length > 1) continue;
    words.push(a);
  }
  return words;
}

/** Parses argv (without `node` and the script). Throws UsageError with a message for the user. */
export function parseCommandLine(argv: readonly string[]): Parsed {
  const words = commandWords(argv);
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (words.length === 0) {
    if (argv.includes('--version') || argv.includes('-V')) return { kind: 'version', json: argv.includes('--json') };
    if (wantsHelp) return { kind: 'help', command: null, group: null };
    throw new UsageError('no command given. Run `studio --help` for the list of commands.');
  }
  const [first, second] = words as [string, string | undefined];
  let name: CommandName;
  let consumed: number;
  if (first in GROUPS) {
    const subs = GROUPS[first]!;
    if (second === undefined || !subs.includes(second)) {
      if (wantsHelp && second === undefined) return { kind: 'help', command: null, group: first };
      const what = second === undefined ? 'needs a subcommand' : `has no subcommand '${second}'`;
      throw new UsageError(`\`studio ${first}\` ${what}: ${subs.join(', ')}. Run \`studio ${first} --help\`.`);
    }
    name = `${first} ${second}` as CommandName;
    consumed = 2;
  } else if ((COMMAND_NAMES as readonly string[]).includes(first)) {
    name = first as CommandName;
    consumed = 1;
  } else {
    throw new UsageError(`unknown command '${first}'. Run \`studio --help\` for the list of commands.`);
  }
  if (wantsHelp) return { kind: 'help', command: name, group: null };

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: parseOptionsFor(name), allowPositionals: true, strict: true });
  } catch (e) {
    const message = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    throw new UsageError(`${message} Run \`studio ${name} --help\`.`);
  }
  const args = parsed.positionals.slice(consumed);
  const expected = COMMANDS[name].args;
  const variadic = expected.at(-1)?.endsWith('…') === true;
  // A last argument in brackets (`[ID…]`) may be left out.
  const required = expected.at(-1)?.startsWith('[') === true ? expected.length - 1 : expected.length;
  if (args.length < required || (!variadic && args.length > expected.length)) {
    const usage = `studio ${name}${expected.map((a) => ` ${a}`).join('')}`;
    throw new UsageError(
      args.length < required
        ? `missing ${expected.slice(args.length).join(' ')}: usage: ${usage}`
        : `unexpected argument '${args[expected.length]}': usage: ${usage}`,
    );
  }
  const v = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (v.data === '' || (Array.isArray(v.models) && v.models.includes(''))) {
    throw new UsageError(`${v.data === '' ? '--data' : '--models'} needs a folder path`, v.data === '' ? '--data' : '--models');
  }
  return {
    kind: 'command',
    command: name,
    global: {
      data: typeof v.data === 'string' ? v.data : undefined,
      models: Array.isArray(v.models) ? v.models : [],
      json: v.json === true,
    },
    values: v,
    args,
  };
}

/** A strictly parsed whole number option (`--limit 20`), or undefined when absent. */
export function intOption(values: Readonly<Record<string, unknown>>, name: string, min: number, max: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw.trim())) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`, `--${name}`);
  }
  const n = Number(raw.trim());
  if (n < min || n > max) throw new UsageError(`--${name} must be from ${min} to ${max} (got ${n})`, `--${name}`);
  return n;
}
