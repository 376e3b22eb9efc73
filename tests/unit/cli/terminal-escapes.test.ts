/**
 * File names and prompts come from files other people made, so `studio library import|list|show`
 * print them with every character a terminal would act on written as a visible escape: ESC[2J
 * (clear screen), OSC 0 (window title), CR, the 8-bit CSI, bidirectional overrides.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIBRARY_COMMANDS } from '../../../src-main/cli/library.ts';
import type { LibraryCommandName } from '../../../src-main/cli/library.ts';
import type { Io } from '../../../src-main/cli/io.ts';
import { renderTable, terminalSafe, terminalSafeJson, truncate } from '../../../src-main/cli/render.ts';
import { pilPng } from '../../fixtures/library/formats.ts';
import { addAsset, makeWorld } from '../../fixtures/library/world.ts';
import type { World } from '../../fixtures/library/world.ts';

const CLEAR = '\x1b[2J';
const TITLE = '\x1b]0;owned\x07';
/** Anything a terminal acts on: C0 but newline and tab, DEL, C1, bidi controls. */
const ACTIVE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('terminalSafe', () => {
  it('writes controls as visible escapes and leaves ordinary text alone', () => {
    expect(terminalSafe(`a ${CLEAR}b${TITLE} c\rd\u009b31m e\u202egnp.exe`)).toBe('a \\x1b[2Jb\\x1b]0;owned\\x07 c\\x0dd\\x9b31m e\\u202egnp.exe');
    expect(terminalSafe('line one\n\tline two — café ☕')).toBe('line one\n\tline two — café ☕');
    expect(terminalSafe('a\nb', '')).toBe('a\\x0ab');
  });

  it('keeps tables and truncated cells free of controls, widths counted on what is shown', () => {
    const table = renderTable(['NAME', 'X'], [[`evil${CLEAR}`, '1'], ['ok', '2']]);
    expect(table).not.toMatch(ACTIVE);
    expect(table).toBe(['NAME         X', 'evil\\x1b[2J  1', 'ok           2'].join('\n'));
    expect(truncate(`${TITLE}${'x'.repeat(80)}`, 20)).not.toMatch(ACTIVE);
  });

  it('leaves JSON the same value while escaping what JSON.stringify leaves raw', () => {
    const value = { prompt: `a\u009b2J b\u202e c\u2028d ${CLEAR}` };
    const text = terminalSafeJson(JSON.stringify(value));
    expect(text).not.toMatch(ACTIVE);
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('studio library import, list and show', () => {
  let w: World;
  beforeEach(() => {
    w = makeWorld();
  });
  afterEach(async () => {
    await w.close();
  });

  function io(): Io & { out: string; err: string } {
    const o = {
      out: '',
      err: '',
      stdout: { write: (s: string) => (o.out += s) },
      stderr: { write: (s: string) => (o.err += s), isTTY: false },
      env: {},
      now: () => 0,
      onInterrupt: () => () => undefined,
      untilStopped: () => new Promise<string>(() => undefined),
    };
    return o;
  }

  async function run(name: LibraryCommandName, args: string[] = [], values: Record<string, unknown> = {}, json = false) {
    const o = io();
    const code = await LIBRARY_COMMANDS[name].run({ library: w.library, io: o, json, values, args });
    return { code, out: o.out, err: o.err };
  }

  it('print prompts, models and file names with their escape sequences made visible', async () => {
    const id = addAsset(w, { prompt: `${CLEAR}${TITLE}a fox\r\u009b2J in snow \u202egnp.exe`, model: `m${CLEAR}`, negativePrompt: `blur${TITLE}` });
    const list = await run('library list');
    expect(list.out).not.toMatch(ACTIVE);
    expect(list.out).toContain('\\x1b[2J\\x1b]0;owned\\x07a fox');
    const show = await run('library show', [id]);
    expect(show.out).not.toMatch(ACTIVE);
    expect(show.out).toMatch(/prompt\s+\\x1b\[2J\\x1b\]0;owned\\x07a fox\\x0d\\x9b2J in snow \\u202egnp\.exe/);
    const json = await run('library show', [id], {}, true);
    expect(json.out).not.toMatch(ACTIVE);
    expect((JSON.parse(json.out) as { prompt: string }).prompt).toBe(`${CLEAR}${TITLE}a fox\r\u009b2J in snow \u202egnp.exe`);

    const dir = join(w.dir, 'downloads');
    mkdirSync(dir);
    writeFileSync(join(dir, `title${TITLE}.png`), Buffer.from('not a png'));
    writeFileSync(join(dir, `clear${CLEAR}.png`), pilPng({ width: 8, height: 8, seed: 3, text: [['parameters', `${CLEAR}hello\nSteps: -5, Sampler: Euler, CFG scale: 7, Seed: 1`]] }));
    const imported = await run('library import', [dir], { 'no-thumbnails': true });
    expect(imported.code).toBe(0);
    expect(imported.out + imported.err).not.toMatch(ACTIVE);
    expect(imported.err).toContain('skipped title\\x1b]0;owned\\x07.png is not a PNG');
    expect(imported.err).toContain('note: clear\\x1b[2J.png: its steps -5 lies outside');
  });
});
