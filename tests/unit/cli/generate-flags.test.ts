import { describe, expect, it } from 'vitest';
import { GenerateRequestSchema, JOB_TYPES } from '../../../src-preload/contract/catalog.ts';
import { parseCommandLine } from '../../../src-main/cli/args.ts';
import { UsageError } from '../../../src-main/cli/exit-codes.ts';
import { flagForField, kebab, PARAM_FLAGS, parseStrictNumber, requestFromFlags } from '../../../src-main/cli/generate-flags.ts';

/** What a user would type for a field of each kind. */
function sample(kind: string, choices: readonly string[] | null): string {
  if (kind === 'choice') return choices![0]!;
  if (kind === 'integer') return '7';
  if (kind === 'number') return '6.5';
  return 'some text';
}

function parseGenerate(argv: string[]): Record<string, unknown> {
  const p = parseCommandLine(['generate', ...argv]);
  if (p.kind !== 'command') throw new Error('not a command');
  return requestFromFlags(p.values);
}

describe('generate flags come from the contract schema', () => {
  it('has a kebab-case flag for every request field, and each flag sets its field', () => {
    const keys = Object.keys(GenerateRequestSchema.shape);
    expect(PARAM_FLAGS.map((f) => f.key).sort()).toEqual([...keys].sort());
    for (const f of PARAM_FLAGS) {
      expect(f.flag).toBe(kebab(f.key));
      const argv = ['--type', 'image_fast', '--prompt', 'p', `--${f.flag}`, sample(f.kind, f.choices)];
      const request = parseGenerate(argv);
      const expected = f.kind === 'integer' ? 7 : f.kind === 'number' ? 6.5 : sample(f.kind, f.choices);
      expect(request[f.key], `--${f.flag}`).toEqual(expected);
    }
  });

  it('uses the spellings the docs promise', () => {
    const flags = PARAM_FLAGS.map((f) => f.flag);
    for (const f of ['negative-prompt', 'batch-index', 'enhanced-prompt', 'steps', 'guidance', 'seed', 'scheduler', 'model']) {
      expect(flags).toContain(f);
    }
    expect(PARAM_FLAGS.find((f) => f.key === 'type')?.choices).toEqual([...JOB_TYPES]);
  });

  it('rejects a non-number value naming the flag', () => {
    expect(() => parseGenerate(['--type', 'image_fast', '--prompt', 'p', '--steps', 'abc'])).toThrow(
      new UsageError('--steps must be a number (got "abc")', '--steps'),
    );
    for (const bad of ['12abc', '0x10', '', ' ', 'NaN', 'Infinity', '1e999', '--']) {
      expect(() => parseStrictNumber(bad, '--guidance'), bad).toThrow(/--guidance must be a/);
    }
    expect(parseStrictNumber('-1', '--seed')).toBe(-1);
    expect(parseStrictNumber('7.5', '--guidance')).toBe(7.5);
    expect(parseStrictNumber('1e3', '--steps')).toBe(1000);
  });

  it('requires --type and --prompt, listing the job types', () => {
    expect(() => parseGenerate(['--prompt', 'p'])).toThrow(/--type is required \(one of: sdxl_image_fast, /);
    expect(() => parseGenerate(['--type', 'image_fast'])).toThrow(/--prompt is required/);
  });

  it('maps an engine field back to the flag the user typed', () => {
    expect(flagForField('batchIndex')).toBe('--batch-index');
    expect(flagForField('request.negativePrompt')).toBe('--negative-prompt');
    expect(flagForField('nope')).toBeUndefined();
  });
});
