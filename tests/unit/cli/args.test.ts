import { describe, expect, it } from 'vitest';
import { COMMANDS, COMMAND_NAMES, commandWords, intOption, parseCommandLine } from '../../../src-main/cli/args.ts';
import { UsageError } from '../../../src-main/cli/exit-codes.ts';

function command(argv: string[]) {
  const p = parseCommandLine(argv);
  if (p.kind !== 'command') throw new Error(`expected a command, got ${p.kind}`);
  return p;
}

function usageError(argv: string[]): UsageError {
  try {
    parseCommandLine(argv);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
}

describe('command line grammar', () => {
  it('finds the command with global options before, between and after it', () => {
    const a = command(['--data', '/tmp/d', 'jobs', 'list', '--json']);
    expect(a.command).toBe('jobs list');
    expect(a.global).toEqual({ data: '/tmp/d', models: [], json: true });
    const b = command(['jobs', '--data=/x', 'cancel', 'abc']);
    expect(b.command).toBe('jobs cancel');
    expect(b.args).toEqual(['abc']);
    expect(b.global.data).toBe('/x');
  });

  it('does not mistake an option value for a command word', () => {
    expect(commandWords(['--data', 'jobs', 'queue', 'status'])).toEqual(['queue', 'status']);
    expect(command(['generate', '--prompt', 'list', '--type', 'image_fast']).values.prompt).toBe('list');
  });

  it('collects repeated --models folders in order', () => {
    expect(command(['models', 'list', '--models', 'a', '--models', 'b']).global.models).toEqual(['a', 'b']);
  });

  it('routes --help to the command, the group or the general help', () => {
    expect(parseCommandLine(['generate', '--help'])).toEqual({ kind: 'help', command: 'generate', group: null });
    expect(parseCommandLine(['jobs', '-h'])).toEqual({ kind: 'help', command: null, group: 'jobs' });
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help', command: null, group: null });
    expect(parseCommandLine(['--version'])).toEqual({ kind: 'version', json: false });
  });

  it('rejects unknown commands, subcommands and options with a pointer to help', () => {
    expect(usageError(['frobnicate']).message).toMatch(/unknown command 'frobnicate'.*studio --help/);
    expect(usageError(['queue', 'explode']).message).toMatch(/no subcommand 'explode': pause, resume, status/);
    expect(usageError(['jobs', 'list', '--bogus']).message).toMatch(/--bogus.*studio jobs list --help/);
    // An option of another command is unknown here.
    expect(usageError(['jobs', 'list', '--port', '3']).message).toMatch(/--port/);
    expect(usageError([]).message).toMatch(/no command given/);
  });

  it('requires exactly the positional arguments a command takes', () => {
    expect(usageError(['jobs', 'show']).message).toMatch(/missing ID/);
    expect(usageError(['jobs', 'cancel', 'a', 'b']).message).toMatch(/unexpected argument 'b'/);
    expect(usageError(['gpu', 'now']).message).toMatch(/unexpected argument 'now'/);
  });

  it('knows every documented command', () => {
    for (const name of COMMAND_NAMES) {
      const argv = [...name.split(' '), ...COMMANDS[name].args.map((_, i) => `arg${i}`)];
      if (name === 'generate') argv.push('--type', 'image_fast', '--prompt', 'x');
      expect(command(argv).command).toBe(name);
    }
  });

  it('parses whole-number options strictly and names the flag', () => {
    expect(intOption({ limit: '20' }, 'limit', 1, 1000)).toBe(20);
    expect(intOption({}, 'limit', 1, 1000)).toBeUndefined();
    for (const bad of ['abc', '2x', '1.5', '', '-3']) {
      expect(() => intOption({ limit: bad }, 'limit', 1, 1000)).toThrow(/--limit must be a whole number from 1 to 1000/);
    }
    expect(() => intOption({ limit: '5000' }, 'limit', 1, 1000)).toThrow(/--limit must be from 1 to 1000 \(got 5000\)/);
  });
});
