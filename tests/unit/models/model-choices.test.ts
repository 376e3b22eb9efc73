/**
 * The person's choices about the model list (model-choices.json): the default of a family is the
 * model a job naming none runs on, a model removed from the list is never picked for one (its
 * files stay, a job naming it still runs), and a damaged file means no choices, not a broken list.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelChoices } from '../../../src-main/engine/models/choices.ts';
import { ModelRegistry } from '../../../src-main/engine/models/registry.ts';

let root = '';

/** A folder the registry takes for an SDXL model (no validator given, so its layout is not checked). */
function sdxlFolder(name: string): string {
  const dir = join(root, 'models', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model_index.json'), JSON.stringify({ _class_name: 'StableDiffusionXLPipeline' }));
  return dir;
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ourvidz-choices-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('model choices', () => {
  it('makes the chosen model the default a job without a model runs on, and marks it in the list', async () => {
    sdxlFolder('alpha-xl');
    sdxlFolder('beta-xl');
    const choices = new ModelChoices(join(root, 'model-choices.json'));
    const registry = new ModelRegistry([join(root, 'models')], {}, choices);
    expect(registry.refresh().map((m) => [m.id, m.isDefault, m.hidden])).toEqual([['alpha-xl', true, false], ['beta-xl', false, false]]);
    expect(registry.find('sdxl', null)).toMatchObject({ id: 'alpha-xl' });

    await choices.setDefault('sdxl', 'beta-xl');
    expect(registry.refresh().filter((m) => m.isDefault).map((m) => m.id)).toEqual(['beta-xl']);
    expect(registry.find('sdxl', null)).toMatchObject({ id: 'beta-xl' });
    // Another process (a second registry on the same file) sees the same choice.
    expect(new ModelRegistry([join(root, 'models')], {}, new ModelChoices(choices.file)).find('sdxl', null)).toMatchObject({ id: 'beta-xl' });

    // The chosen default gone: the first ready one again.
    rmSync(join(root, 'models', 'beta-xl'), { recursive: true });
    expect(registry.find('sdxl', null)).toMatchObject({ id: 'alpha-xl' });
  });

  it('never picks a model removed from the list for a job naming none, still runs one naming it, and puts it back', async () => {
    const alpha = sdxlFolder('alpha-xl');
    sdxlFolder('beta-xl');
    const choices = new ModelChoices(join(root, 'model-choices.json'));
    const registry = new ModelRegistry([join(root, 'models')], {}, choices);
    await choices.setHidden(alpha, true);
    expect(registry.refresh().map((m) => [m.id, m.isDefault, m.hidden])).toEqual([['alpha-xl', false, true], ['beta-xl', true, false]]);
    expect(registry.find('sdxl', null)).toMatchObject({ id: 'beta-xl' });
    expect(registry.find('sdxl', 'alpha-xl')).toMatchObject({ id: 'alpha-xl' });
    // The only model hidden: a job naming none has no model, and says so.
    await choices.setHidden(join(root, 'models', 'beta-xl'), true);
    expect(registry.find('sdxl', null)).toEqual({ missing: 'every ready sdxl model was removed from the list (alpha-xl, beta-xl): put one back in the Models view, or name it with --model' });
    await choices.setHidden(alpha, false);
    expect(registry.find('sdxl', null)).toMatchObject({ id: 'alpha-xl' });
  });

  it('reads a damaged or hand-edited file as no choices, keeping what is well formed', () => {
    const file = join(root, 'model-choices.json');
    const choices = new ModelChoices(file);
    writeFileSync(file, '{ not json');
    expect(choices.read()).toEqual({ defaults: {}, hidden: [] });
    writeFileSync(file, JSON.stringify({ defaults: { sdxl: 'a', wan: 3, flux: 'x' }, hidden: ['/m/a', 7, '/m/a'] }));
    expect(choices.read()).toEqual({ defaults: { sdxl: 'a' }, hidden: ['/m/a'] });
  });
});
