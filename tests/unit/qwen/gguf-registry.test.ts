/**
 * GGUF files in the model folders as the Models view lists them: a Qwen2.5 Instruct GGUF is a
 * ready Qwen model (no preparation), found where LM Studio (publisher/repo/file.gguf) and Ollama
 * (blobs/sha256-…, no extension) keep them; refused files are listed with their sentence; the
 * enhancer takes a GGUF before an ONNX folder when both are ready.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../../src-main/engine/models/registry.ts';
import { validateQwen } from '../../../src-main/engine/models/qwen-validator.ts';
import { buildQwenFixture } from '../../fixtures/qwen/build-qwen.ts';
import { writeQwenGguf } from '../../fixtures/qwen/gguf-writer.ts';

let root: string;
let gguf: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'gguf-registry-'));
  gguf = join(root, 'source.gguf');
  writeQwenGguf(gguf);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function folder(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('GGUF files in the model folders', () => {
  it('lists a Qwen2.5 Instruct GGUF as ready and refused ones with their sentence', () => {
    const models = folder('plain');
    copyFileSync(gguf, join(models, 'Qwen2.5-Tiny-Instruct-F16.gguf'));
    writeQwenGguf(join(models, 'llama-3.1-8b.gguf'), { architecture: 'llama', name: 'Llama 3.1 8B' });
    const listed = new ModelRegistry([models], { qwen: validateQwen }).refresh();
    expect(listed.map((m) => [m.id, m.family, m.status])).toEqual([
      ['llama-3.1-8b.gguf', 'qwen', 'invalid'],
      ['Qwen2.5-Tiny-Instruct-F16.gguf', 'qwen', 'ready'],
    ]);
    const ready = listed[1]!;
    expect(ready).toMatchObject({ name: 'Qwen2.5-Tiny-Instruct-F16', precision: 'fp16', problems: [], description: expect.stringMatching(/^Qwen2\.5 .* Instruct, GGUF F16, .* \(runs on llama\.cpp\)$/) });
    expect(listed[0]!.problems).toEqual([expect.stringMatching(/^llama-3\.1-8b\.gguf is a llama model \(Llama 3\.1 8B\), not Qwen2\.5/)]);
  });

  it('finds LM Studio\u2019s publisher/repo/file.gguf and Ollama\u2019s blobs, and only Qwen blobs', () => {
    const lmstudio = folder('lmstudio/models');
    mkdirSync(join(lmstudio, 'lmstudio-community', 'Qwen2.5-Tiny-Instruct-GGUF'), { recursive: true });
    copyFileSync(gguf, join(lmstudio, 'lmstudio-community', 'Qwen2.5-Tiny-Instruct-GGUF', 'Qwen2.5-Tiny-Instruct-F16.gguf'));
    const ollama = folder('ollama/models');
    mkdirSync(join(ollama, 'blobs'), { recursive: true });
    mkdirSync(join(ollama, 'manifests'), { recursive: true });
    copyFileSync(gguf, join(ollama, 'blobs', `sha256-${'a'.repeat(64)}`));
    writeQwenGguf(join(ollama, 'blobs', `sha256-${'b'.repeat(64)}`), { architecture: 'llama' });
    const listed = new ModelRegistry([lmstudio, ollama], { qwen: validateQwen }).refresh();
    expect(listed.map((m) => [m.id, m.status])).toEqual([
      ['Qwen2.5-Tiny-Instruct-F16.gguf', 'ready'],
      ['ollama-aaaaaaaaaaaa', 'ready'],
    ]);
    expect(listed[1]!.name).toBe('Qwen2.5 Tiny Instruct (OurVidz test fixture) F16 (Ollama)');
  });

  it('gives the enhancer a ready GGUF before a ready ONNX folder', async () => {
    const models = folder('both');
    await buildQwenFixture(join(models, 'a-qwen-onnx'));
    const registry = new ModelRegistry([models], { qwen: validateQwen });
    const onnxOnly = registry.find('qwen', null);
    expect('missing' in onnxOnly ? onnxOnly.missing : onnxOnly.id).toBe('a-qwen-onnx');
    copyFileSync(gguf, join(models, 'z-Qwen2.5-Tiny-Instruct-F16.gguf'));
    const both = registry.find('qwen', null);
    expect('missing' in both ? both.missing : both.id).toBe('z-Qwen2.5-Tiny-Instruct-F16.gguf');
    const named = registry.find('qwen', 'a-qwen-onnx');
    expect('missing' in named ? named.missing : named.id).toBe('a-qwen-onnx');
  });

  it('says which GGUF is unusable when it is the only enhancer model', () => {
    const models = folder('base-only');
    writeQwenGguf(join(models, 'Qwen2.5-Tiny-F16.gguf'), { chatTemplate: false });
    const found = new ModelRegistry([models], { qwen: validateQwen }).find('qwen', null);
    expect('missing' in found && found.missing).toMatch(/Qwen2\.5-Tiny-F16\.gguf: Qwen2\.5-Tiny-F16\.gguf is a base model, not Instruct/);
  });
});
