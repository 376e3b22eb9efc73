/**
 * Importing a folder of files other tools made, each written as its tool writes it
 * (tests/fixtures/library/tool-formats.ts), into a real library: every recognised field of every
 * asset against what the writing tool's own format says, and the tool named in its recipe.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssetDetail, ImportReport } from '../../src-preload/contract/library.ts';
import { studioMp4, toolFiles } from '../fixtures/library/tool-formats.ts';
import type { ExpectedFields, ToolFile } from '../fixtures/library/tool-formats.ts';
import { makeWorld } from '../fixtures/library/world.ts';
import type { World } from '../fixtures/library/world.ts';

let w: World;
let files: ToolFile[];
let report: ImportReport;
let ours: Awaited<ReturnType<typeof studioMp4>>;

beforeAll(async () => {
  w = makeWorld();
  const dir = join(w.dir, 'from-other-tools');
  mkdirSync(dir, { recursive: true });
  files = await toolFiles();
  for (const f of files) writeFileSync(join(dir, f.name), f.bytes);
  // A video this studio made on another machine, imported here like any other file.
  mkdirSync(join(w.dir, 'staging'));
  ours = await studioMp4(join(w.dir, 'staging'));
  copyFileSync(ours.file, join(dir, 'fox.mp4'));
  report = await w.library.import(dir);
});
afterAll(async () => {
  await w.close();
});

function asset(name: string): AssetDetail {
  const entry = report.imported.find((i) => i.source === name);
  expect(entry, `${name} was imported`).toBeDefined();
  return w.library.get(entry!.id)!;
}

function columns(a: AssetDetail): ExpectedFields {
  return { prompt: a.prompt, negativePrompt: a.negativePrompt, seed: a.seed, steps: a.steps, guidance: a.guidance, scheduler: a.scheduler, model: a.model };
}

describe('importing files from other tools', () => {
  it('imports every file', () => {
    expect(report.skipped).toEqual([]);
    expect(report.imported.map((i) => i.source).sort()).toEqual([...files.map((f) => f.name), 'fox.mp4'].sort());
  });

  it('reads every recognised field as the writing tool’s format says, and names the tool', () => {
    for (const f of files) {
      const a = asset(f.name);
      expect({ file: f.name, tool: (a.recipe.imported as { tool: string }).tool, ...columns(a) }).toEqual({ file: f.name, tool: f.tool, ...f.expected });
    }
  });

  it('keeps this studio’s own video’s recipe and prompt', () => {
    const a = asset('fox.mp4');
    expect(columns(a)).toEqual(ours.expected);
    expect(a.kind).toBe('video');
    expect(a.recipe).toMatchObject({ ...ours.recipe, imported: { from: 'fox.mp4', format: 'mp4', tool: 'ourvidz' } });
  });
});
