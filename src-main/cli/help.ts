/** Help texts, generated from the command specs and the contract so they cannot drift. */
import { JOB_TYPES, PRESETS } from '../../src-preload/contract/catalog.ts';
import { COMMANDS, COMMAND_NAMES, GLOBAL_OPTIONS } from './args.ts';
import type { CommandName } from './args.ts';
import { EXIT_CODES_HELP } from './exit-codes.ts';
import { PARAM_FLAGS } from './generate-flags.ts';
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
    '',
    'Run `studio <command> --help` for a command’s options.',
  ].join('\n');
}

export function groupHelp(group: string): string {
  const names = COMMAND_NAMES.filter((n) => n.startsWith(`${group} `));
  return [`Usage: studio ${group} <${names.map((n) => n.slice(group.length + 1)).join('|')}> [options]`, '', block('Commands', names.map((n) => [`  ${n}`, COMMANDS[n].summary]))].join('\n');
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
  lines.push(block('Options', optionRows(spec.options)), '', block('Global options', optionRows(GLOBAL_OPTIONS)), '', EXIT_CODES_HELP);
  return lines.filter((l, i, a) => !(l === '' && a[i - 1] === '')).join('\n');
}
