/**
 * Validates an SDXL export in the Hugging Face Optimum ONNX layout before the app offers it:
 * components present, graph input/output names and dtypes as the pipeline needs them, external
 * weight files whole, tokenizer files readable. Every problem is one plain sentence.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readOnnxHeader } from './onnx-header.ts';
import type { OnnxHeader } from './onnx-header.ts';
import type { ValidationReport } from './registry.ts';
import { componentWeightsProblem, readComponentWeights } from '../checkpoints/prepared.ts';

const FLOATS = new Set(['float32', 'float16']);
const INTS = new Set(['int32', 'int64']);

export function readComponent(folder: string, component: string, problems: string[]): OnnxHeader | null {
  const file = join(folder, component, 'model.onnx');
  if (!existsSync(file)) {
    problems.push(`${component}/model.onnx is missing`);
    return null;
  }
  let header: OnnxHeader;
  try {
    header = readOnnxHeader(file);
  } catch (e) {
    problems.push(`${component}/model.onnx cannot be read: ${(e as Error).message}`);
    return null;
  }
  // A prepared model's graphs point into the user's checkpoint, in the folder weights.json names.
  let weightsFolder = join(folder, component);
  try {
    const weights = readComponentWeights(join(folder, component));
    if (weights) {
      const problem = componentWeightsProblem(component, weights);
      if (problem) {
        problems.push(problem);
        return header;
      }
      weightsFolder = weights.folder;
    }
  } catch (e) {
    problems.push((e as Error).message);
    return header;
  }
  for (const [location, needed] of header.externalData) {
    const data = join(weightsFolder, location);
    if (!existsSync(data)) problems.push(`${component}/${location} (the model's external weights) is missing`);
    else if (statSync(data).size < needed) {
      problems.push(`${component}/${location} is shorter than the model expects (${statSync(data).size} of ${needed} bytes): the download is incomplete`);
    }
  }
  return header;
}

export function expectInput(h: OnnxHeader, component: string, name: string, dtypes: Set<string>, problems: string[], hint = ''): void {
  const input = h.inputs.find((i) => i.name === name);
  if (!input) problems.push(`${component}/model.onnx has no input '${name}'${hint}`);
  else if (!dtypes.has(input.dtype)) problems.push(`${component}/model.onnx input '${name}' is ${input.dtype}, expected ${[...dtypes].join(' or ')}`);
}

export function expectOutput(h: OnnxHeader, component: string, name: string, problems: string[]): void {
  if (!h.outputs.some((o) => o.name === name)) {
    problems.push(`${component}/model.onnx has no output '${name}' (outputs: ${h.outputs.map((o) => o.name).join(', ') || 'none'})`);
  }
}

function checkTokenizer(folder: string, name: string, problems: string[]): void {
  const dir = join(folder, name);
  for (const file of ['vocab.json', 'merges.txt']) {
    const p = join(dir, file);
    if (!existsSync(p)) {
      problems.push(`${name}/${file} is missing`);
      continue;
    }
    try {
      const text = readFileSync(p, 'utf8');
      if (file === 'vocab.json') JSON.parse(text);
      else if (text.trim().length === 0) problems.push(`${name}/merges.txt is empty`);
    } catch {
      problems.push(`${name}/${file} is not readable JSON`);
    }
  }
}

function hiddenStates(h: OnnxHeader): number {
  return h.outputs.filter((o) => /^hidden_states\.\d+$/.test(o.name)).length;
}

export function validateSdxl(folder: string): ValidationReport {
  const problems: string[] = [];
  const unet = readComponent(folder, 'unet', problems);
  if (unet) {
    const sdHint = " — this looks like an SD 1.5 export, not SDXL";
    expectInput(unet, 'unet', 'sample', FLOATS, problems);
    expectInput(unet, 'unet', 'timestep', new Set([...FLOATS, ...INTS]), problems);
    expectInput(unet, 'unet', 'encoder_hidden_states', FLOATS, problems);
    expectInput(unet, 'unet', 'time_ids', FLOATS, problems, sdHint);
    expectInput(unet, 'unet', 'text_embeds', FLOATS, problems, sdHint);
    expectOutput(unet, 'unet', 'out_sample', problems);
  }
  const te = readComponent(folder, 'text_encoder', problems);
  if (te) {
    expectInput(te, 'text_encoder', 'input_ids', INTS, problems);
    if (hiddenStates(te) < 2) problems.push("text_encoder/model.onnx has no 'hidden_states.N' outputs: export it with output_hidden_states (SDXL uses the penultimate layer)");
  }
  const te2 = readComponent(folder, 'text_encoder_2', problems);
  if (te2) {
    expectInput(te2, 'text_encoder_2', 'input_ids', INTS, problems);
    expectOutput(te2, 'text_encoder_2', 'text_embeds', problems);
    if (hiddenStates(te2) < 2) problems.push("text_encoder_2/model.onnx has no 'hidden_states.N' outputs: export it with output_hidden_states");
  }
  // The UNet's context is the two encoders' states side by side (768 + 1280 = 2048 for SDXL).
  const ehsWidth = unet?.inputs.find((i) => i.name === 'encoder_hidden_states')?.shape[2];
  const encoderWidth = (h: OnnxHeader | null): number | null => {
    const dim = h?.outputs.find((o) => /^hidden_states\.\d+$/.test(o.name))?.shape[2];
    return typeof dim === 'number' ? dim : null;
  };
  const [w1, w2] = [encoderWidth(te), encoderWidth(te2)];
  if (typeof ehsWidth === 'number') {
    if (ehsWidth === 768) problems.push("unet/model.onnx takes 768-wide text states, SDXL's are 2048 wide — this looks like an SD 1.5 export");
    else if (w1 !== null && w2 !== null && ehsWidth !== w1 + w2) {
      problems.push(`unet/model.onnx takes ${ehsWidth}-wide text states, but the two text encoders give ${w1} + ${w2}: the parts are from different models`);
    } else if ((w1 === null || w2 === null) && ehsWidth !== 2048) {
      problems.push(`unet/model.onnx takes ${ehsWidth}-wide text states, SDXL's are 2048 wide`);
    }
  }
  const vae = readComponent(folder, 'vae_decoder', problems);
  if (vae) {
    expectInput(vae, 'vae_decoder', 'latent_sample', FLOATS, problems);
    expectOutput(vae, 'vae_decoder', 'sample', problems);
  }
  checkTokenizer(folder, 'tokenizer', problems);
  checkTokenizer(folder, 'tokenizer_2', problems);
  const schedulerConfig = join(folder, 'scheduler', 'scheduler_config.json');
  if (!existsSync(schedulerConfig)) problems.push('scheduler/scheduler_config.json is missing');
  else {
    try {
      JSON.parse(readFileSync(schedulerConfig, 'utf8'));
    } catch {
      problems.push('scheduler/scheduler_config.json is not valid JSON');
    }
  }
  // Precision as the sessions will run it: the UNet's and the VAE's input types (an fp16 UNet with an
  // fp32 VAE — the usual SDXL "fp16 fix" — is mixed).
  const kinds = new Set([unet?.inputs.find((i) => i.name === 'sample')?.dtype, vae?.inputs.find((i) => i.name === 'latent_sample')?.dtype].filter((d): d is string => !!d));
  const precision = kinds.size > 1 ? 'mixed' : kinds.has('float16') ? 'fp16' : kinds.has('float32') ? 'fp32' : 'unknown';
  return { problems, precision };
}
