/** Help texts, generated from the command specs and the contract so they cannot drift. */
import { JOB_TYPES, PRESETS } from '../../src-preload/contract/catalog.ts';
import { COMMANDS, COMMAND_NAMES, GLOBAL_OPTIONS, isLibraryCommand } from './args.ts';
import type { CommandName } from './args.ts';
import { EXIT_CODES_HELP } from './exit-codes.ts';
import { PARAM_FLAGS } from './generate-flags.ts';
import type { LibraryCommandName } from './library.ts';
import { renderTable } from './render.ts';

function optionRows(options: Readonly<Record<string, { type: string; value?: string; short?: string; help: string }>>): string[][] {
  return Object.entries(options).map(([k, o]) => [
    `  ${o.short ? `-${o.short}, ` : ''}--${k}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`,
    o.help,
  ]);
}

function block(title: string, rows: string[][]): string {
  return rows.length ? `${title}:\n${renderTable(null, rows)}` : '';
}

export function generalHelp(version: string): string {
  const commands = COMMAND_NAMES.map((n) => [`  ${n}`, COMMANDS[n].summary]);
  return [
    `studio ${version}: OurVidz Studio from the command line (same engine, queue and library as the app)`,
    '',
    'Usage: studio [--data DIR] <command> [options]',
    '',
    block('Commands', commands),
    '',
    block('Global options', [...optionRows(GLOBAL_OPTIONS), ['  --version', 'print the version']]),
    '',
    'The app, `studio serve` and the CLI share one data folder. One of them runs jobs at a time; the',
    'others add to and read the same queue.',
    '',
    EXIT_CODES_HELP,
    '`studio library check` exits 1 when it finds problems it did not repair.',
    '',
    'Run `studio <command> --help` for a command’s options and exit codes.',
  ].join('\n');
}

export function groupHelp(group: string): string {
  const names = COMMAND_NAMES.filter((n) => n.startsWith(`${group} `));
  return [`Usage: studio ${group} <${names.map((n) => n.slice(group.length + 1)).join('|')}> [options]`, '', block('Commands', names.map((n) => [`  ${n}`, COMMANDS[n].summary]))].join('\n');
}

/** The library commands run no job, so their exit codes read differently from the general ones. */
function libraryExitCodes(name: LibraryCommandName): string {
  const rows: string[][] = [['  0', name === 'library import' ? 'ok, including when some files were skipped (each is reported on stderr, or listed in --json)' : 'ok']];
  if (name === 'library check') rows.push(['  1', 'problems remain that were not repaired (--repair fixes what is safe; duplicates are only reported)']);
  rows.push(['  2', name === 'library empty-trash' ? 'bad usage, or the trash holds assets and --yes was not given: nothing was deleted' : 'bad usage or parameters; nothing was changed']);
  const engine: Partial<Record<LibraryCommandName, string>> = {
    'library list': 'the library could not be read',
    'library stats': 'the library could not be read',
    'library check': 'the library could not be read',
    'library import': 'the folder is missing or cannot be read',
    'library export': 'a file could not be exported (the others were); or no asset has a given id (nothing was exported)',
    'library empty-trash': 'a file could not be deleted (its asset stays in the trash)',
    'library move': 'the move failed; the library is still whole where it was',
  };
  rows.push(['  3', engine[name] ?? 'no asset has a given id (or a prefix matches several): nothing was changed']);
  if (name === 'library import' || name === 'library move') {
    rows.push(['  130', 'Ctrl-C: stopped after the current file; run it again to finish (nothing is done twice)']);
  }
  return `Exit codes:\n${renderTable(null, rows)}`;
}

export function commandHelp(name: CommandName): string {
  const spec = COMMANDS[name];
  const lines = [`Usage: studio ${name}${spec.args.map((a) => ` ${a}`).join('')}${name === 'generate' ? ' --type TYPE --prompt TEXT' : ''} [options]`, '', spec.summary, ''];
  if (name === 'generate') {
    const params = PARAM_FLAGS.map((f) => [
      `  --${f.flag} ${f.kind === 'choice' ? 'NAME' : f.kind === 'string' ? 'TEXT' : 'N'}`,
      `${f.help}${f.required ? ' (required)' : ''}`,
    ]);
    lines.push(block('Parameters', params), '');
    const types = JOB_TYPES.map((t) => {
      const p = PRESETS[t];
      return [`  ${t}`, p.label, `${p.steps} steps`, `${p.width}×${p.height}`, p.kind === 'video' ? `${p.frames} frames` : `${p.count} image${p.count > 1 ? 's' : ''}`];
    });
    lines.push(block('Job types (preset values)', types), '');
  }
  const exitCodes = isLibraryCommand(name) ? libraryExitCodes(name) : EXIT_CODES_HELP;
  lines.push(block('Options', optionRows(spec.options)), '', block('Global options', optionRows(GLOBAL_OPTIONS)), '', exitCodes);
  return lines.filter((l, i, a) => !(l === '' && a[i - 1] === '')).join('\n');
}
