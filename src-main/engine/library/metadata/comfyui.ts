/**
 * Generation settings out of ComfyUI graphs.
 *
 * ComfyUI saves two graphs (nodes.py `SaveImage`: PNG text chunks; `SaveAnimatedWEBP`: EXIF Model
 * `prompt:<json>` and Make `workflow:<json>`; video nodes: container tags):
 *  - `prompt`, the API graph that ran: `{ "<id>": { "class_type", "inputs": { name: value or
 *    [source id, output slot] } } }`;
 *  - `workflow`, the editor's graph: nodes with `widgets_values` in the order of the node's widget
 *    inputs, and links `[id, from node, from slot, to node, to slot, type]`.
 * The editor graph is turned into an API graph (widget names from the node definitions below) so
 * one walker reads both. The walker starts at the sampler and follows what feeds it, for the
 * classic `KSampler` and for `SamplerCustomAdvanced` (Flux, WAN, most current workflows: seed from
 * `RandomNoise`, steps and schedule from `BasicScheduler`, sampler from `KSamplerSelect`, model
 * through `UNETLoader`, guidance from `CFGGuider` or `FluxGuidance`), all from
 * comfy_extras/nodes_custom_sampler.py and nodes_flux.py.
 *
 * Hostile input is expected: every lookup is type-checked, links are followed at most MAX_HOPS
 * steps, and cycles end the walk.
 */
import { assignDefined, isRecord, num, seedOf, str } from './fields.ts';
import type { GenerationFields } from './fields.ts';

interface ApiNode {
  readonly classType: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  /** Editor graphs only: a muted or bypassed node did not run. */
  readonly skipped?: boolean;
}
type ApiGraph = ReadonlyMap<string, ApiNode>;
type Link = readonly [string, number];

const MAX_HOPS = 16;
const MAX_NODES = 20_000;

const GENERIC_NUMBER = ['value', 'int', 'float', 'number', 'Value', 'INT', 'FLOAT'];
const SEED_NAMES = ['seed', 'noise_seed', ...GENERIC_NUMBER];
const STEPS_NAMES = ['steps', ...GENERIC_NUMBER];
const CFG_NAMES = ['cfg', 'guidance', ...GENERIC_NUMBER];
const SIZE_NAMES = GENERIC_NUMBER;
const TEXT_NAMES = ['text', 'string', 'value', 'text_g', 'prompt', 'STRING', 'Text'];
/** Text inputs of the text encoders (CLIPTextEncode, …SDXL, …Flux, …SD3, Qwen/HiDream prompt nodes). */
const ENCODER_TEXT = ['text', 'text_g', 't5xxl', 'clip_l', 'prompt'];
/** Inputs a conditioning passes through unchanged in meaning (guidance, area, combine, ControlNet). */
const CONDITIONING_THROUGH = ['conditioning', 'conditioning_1', 'conditioning_to', 'conditioning_from', 'cond', 'base_positive'];

const CORE_SAMPLERS = new Set(['KSampler', 'KSamplerAdvanced', 'SamplerCustom', 'SamplerCustomAdvanced']);

/** Sigma nodes whose class fixes the schedule (the rest say it in a `scheduler` input). */
const SCHEDULE_OF_SIGMAS_NODE: Readonly<Record<string, string>> = {
  KarrasScheduler: 'karras',
  ExponentialScheduler: 'exponential',
  PolyexponentialScheduler: 'polyexponential',
  LaplaceScheduler: 'laplace',
  VPScheduler: 'vp',
  SDTurboScheduler: 'sd_turbo',
  BetaSamplingScheduler: 'beta',
  AlignYourStepsScheduler: 'align_your_steps',
  GITSScheduler: 'gits',
  OptimalStepsScheduler: 'optimal_steps',
};

/** Sampler nodes whose class fixes the sampler (KSamplerSelect names it in `sampler_name`). */
const SAMPLER_OF_NODE: Readonly<Record<string, string>> = {
  SamplerEulerAncestral: 'euler_ancestral',
  SamplerEulerAncestralCFGPP: 'euler_ancestral_cfg_pp',
  SamplerLMS: 'lms',
  SamplerDPMPP_2S_Ancestral: 'dpmpp_2s_ancestral',
  SamplerDPMAdaptative: 'dpm_adaptive',
  SamplerER_SDE: 'er_sde',
  SamplerSASolver: 'sa_solver',
  // These run the `_gpu` variant unless noise_device is `cpu`.
  SamplerDPMPP_2M_SDE: 'dpmpp_2m_sde',
  SamplerDPMPP_3M_SDE: 'dpmpp_3m_sde',
  SamplerDPMPP_SDE: 'dpmpp_sde',
};

function asLink(v: unknown): Link | undefined {
  if (Array.isArray(v) && v.length === 2 && (typeof v[0] === 'string' || typeof v[0] === 'number') && typeof v[1] === 'number') {
    return [String(v[0]), v[1]];
  }
  return undefined;
}

function has(inputs: Readonly<Record<string, unknown>>, name: string): boolean {
  return Object.hasOwn(inputs, name);
}

function apiGraph(value: unknown): ApiGraph | null {
  if (!isRecord(value)) return null;
  const graph = new Map<string, ApiNode>();
  for (const [id, node] of Object.entries(value)) {
    if (graph.size >= MAX_NODES) break;
    if (isRecord(node) && typeof node.class_type === 'string') {
      graph.set(id, { classType: node.class_type, inputs: isRecord(node.inputs) ? node.inputs : {} });
    }
  }
  return graph.size > 0 ? graph : null;
}

/** A scalar input, following links through primitive, seed and string nodes. */
function scalar(graph: ApiGraph, value: unknown, names: readonly string[], hops = 0): unknown {
  const link = asLink(value);
  if (!link) return value;
  if (hops >= MAX_HOPS) return undefined;
  const node = graph.get(link[0]);
  if (!node) return undefined;
  for (const name of names) if (has(node.inputs, name)) return scalar(graph, node.inputs[name], names, hops + 1);
  return undefined;
}

function source(graph: ApiGraph, value: unknown): { node: ApiNode; slot: number } | undefined {
  const link = asLink(value);
  const node = link ? graph.get(link[0]) : undefined;
  return node && link ? { node, slot: link[1] } : undefined;
}

/** The prompt text feeding a conditioning input, through guidance, combine and ControlNet nodes. */
function conditioningText(graph: ApiGraph, value: unknown): string | undefined {
  let at = source(graph, value);
  for (let hop = 0; at && hop < MAX_HOPS; hop++) {
    const { node, slot } = at;
    const inputs = node.inputs;
    // Flux's empty negative: a zeroed copy of the positive, not its text.
    if (node.classType === 'ConditioningZeroOut') return undefined;
    for (const name of ENCODER_TEXT) {
      if (!has(inputs, name)) continue;
      const text = str(scalar(graph, inputs[name], TEXT_NAMES));
      if (text !== undefined) return text;
    }
    // Nodes that take and give both (ControlNetApplyAdvanced, WanImageToVideo, InpaintModelConditioning):
    // output 0 is the positive, output 1 the negative.
    if (has(inputs, 'positive') && has(inputs, 'negative')) {
      at = source(graph, slot === 1 ? inputs.negative : inputs.positive);
      continue;
    }
    const through = CONDITIONING_THROUGH.find((name) => has(inputs, name)) ?? (has(inputs, 'positive') ? 'positive' : undefined);
    at = through === undefined ? undefined : source(graph, inputs[through]);
  }
  return undefined;
}

/** FluxGuidance (or CLIPTextEncodeFlux's guidance) on the way to a conditioning input. */
function distilledGuidance(graph: ApiGraph, value: unknown): number | undefined {
  let at = source(graph, value);
  for (let hop = 0; at && hop < MAX_HOPS; hop++) {
    const inputs = at.node.inputs;
    if (at.node.classType === 'FluxGuidance' || at.node.classType === 'CLIPTextEncodeFlux') {
      const g = num(scalar(graph, inputs.guidance, CFG_NAMES));
      if (g !== undefined) return g;
    }
    const through = CONDITIONING_THROUGH.find((name) => has(inputs, name)) ?? (has(inputs, 'positive') ? 'positive' : undefined);
    at = through === undefined ? undefined : source(graph, inputs[through]);
  }
  return undefined;
}

/** The checkpoint or diffusion model feeding a model input, through LoRA, shift and patch nodes. */
function modelName(graph: ApiGraph, value: unknown): string | undefined {
  let at = source(graph, value);
  for (let hop = 0; at && hop < MAX_HOPS; hop++) {
    const inputs = at.node.inputs;
    for (const name of ['ckpt_name', 'unet_name', 'model_name', 'model_path']) {
      const v = str(scalar(graph, inputs[name], TEXT_NAMES));
      if (v !== undefined) return v;
    }
    at = source(graph, inputs.model);
  }
  return undefined;
}

interface Schedule {
  steps?: number;
  scheduler?: string;
  denoise?: number;
  model?: unknown;
}

/** Steps, schedule and denoise of the SIGMAS feeding a custom sampler. */
function schedule(graph: ApiGraph, value: unknown): Schedule {
  let at = source(graph, value);
  for (let hop = 0; at && hop < MAX_HOPS; hop++) {
    const { node } = at;
    const inputs = node.inputs;
    if (has(inputs, 'steps') || has(inputs, 'scheduler')) {
      return assignDefined<Schedule>(
        {},
        {
          steps: num(scalar(graph, inputs.steps, STEPS_NAMES)),
          scheduler: str(scalar(graph, inputs.scheduler, TEXT_NAMES)) ?? SCHEDULE_OF_SIGMAS_NODE[node.classType],
          denoise: num(scalar(graph, inputs.denoise, GENERIC_NUMBER)),
          model: inputs.model,
        },
      );
    }
    // SplitSigmas, FlipSigmas, SetFirstSigma… pass a schedule on.
    at = source(graph, inputs.sigmas);
  }
  return {};
}

function samplerName(graph: ApiGraph, inputs: Readonly<Record<string, unknown>>): string | undefined {
  const direct = str(scalar(graph, inputs.sampler_name, TEXT_NAMES));
  if (direct !== undefined) return direct;
  const at = source(graph, inputs.sampler);
  if (!at) return undefined;
  const named = str(scalar(graph, at.node.inputs.sampler_name, TEXT_NAMES));
  if (named !== undefined) return named;
  const fixed = SAMPLER_OF_NODE[at.node.classType];
  if (fixed === undefined) return undefined;
  const sde = ['SamplerDPMPP_2M_SDE', 'SamplerDPMPP_3M_SDE', 'SamplerDPMPP_SDE'].includes(at.node.classType);
  return sde && at.node.inputs.noise_device !== 'cpu' ? `${fixed}_gpu` : fixed;
}

function isSampler(node: ApiNode): boolean {
  if (node.skipped) return false;
  if (CORE_SAMPLERS.has(node.classType)) return true;
  // Custom samplers (KSampler (Efficient), SwarmKSampler, WanVideoSampler…) take KSampler's inputs.
  const i = node.inputs;
  return /sampler/i.test(node.classType) && (has(i, 'seed') || has(i, 'noise_seed')) && has(i, 'steps');
}

/** The first pass of a hires-fix or two-model graph: full denoise, earliest start; then lowest id. */
function pickSampler(graph: ApiGraph): [string, ApiNode] | undefined {
  const rank = (node: ApiNode): [number, number] => [
    num(scalar(graph, node.inputs.denoise, GENERIC_NUMBER)) ?? schedule(graph, node.inputs.sigmas).denoise ?? 1,
    num(scalar(graph, node.inputs.start_at_step, STEPS_NAMES)) ?? 0,
  ];
  const samplers = [...graph].filter(([, n]) => isSampler(n)).map(([id, n]) => ({ id, n, r: rank(n) }));
  samplers.sort((a, b) => b.r[0] - a.r[0] || a.r[1] - b.r[1] || Number(a.id) - Number(b.id) || a.id.localeCompare(b.id));
  const first = samplers[0];
  return first ? [first.id, first.n] : undefined;
}

/** Width and height of the latent a sampler starts from, through upscale and batch nodes. */
function latentSize(graph: ApiGraph, value: unknown): { width: number; height: number } | undefined {
  let at = source(graph, value);
  for (let hop = 0; at && hop < MAX_HOPS; hop++) {
    const inputs = at.node.inputs;
    const width = num(scalar(graph, inputs.width, SIZE_NAMES));
    const height = num(scalar(graph, inputs.height, SIZE_NAMES));
    if (width !== undefined && height !== undefined) return { width, height };
    at = source(graph, inputs.samples ?? inputs.latent ?? inputs.latent_image);
  }
  return undefined;
}

function readGraph(graph: ApiGraph): GenerationFields | null {
  const out: GenerationFields = {};
  const picked = pickSampler(graph);
  if (picked) {
    const inputs = picked[1].inputs;
    const guider = source(graph, inputs.guider)?.node.inputs ?? {};
    const sigmas = schedule(graph, inputs.sigmas);
    const noise = source(graph, inputs.noise)?.node.inputs;
    const positive = inputs.positive ?? guider.positive ?? guider.conditioning ?? guider.cond1;
    const negative = inputs.negative ?? guider.negative;
    assignDefined(out, {
      seed: seedOf(scalar(graph, inputs.seed ?? inputs.noise_seed ?? noise?.noise_seed, SEED_NAMES)),
      steps: num(scalar(graph, inputs.steps, STEPS_NAMES)) ?? sigmas.steps,
      cfg: num(scalar(graph, inputs.cfg ?? guider.cfg ?? guider.cfg_conds, CFG_NAMES)),
      guidance: distilledGuidance(graph, positive),
      sampler: samplerName(graph, inputs),
      scheduler: str(scalar(graph, inputs.scheduler, TEXT_NAMES)) ?? sigmas.scheduler,
      prompt: conditioningText(graph, positive),
      negativePrompt: conditioningText(graph, negative),
      model: modelName(graph, inputs.model ?? guider.model ?? sigmas.model),
    });
    const size = latentSize(graph, inputs.latent_image);
    if (size) Object.assign(out, size);
  }
  if (out.model === undefined) {
    const loader = [...graph.values()].find((n) => n.classType === 'CheckpointLoaderSimple' || n.classType === 'UNETLoader');
    const name = str(loader?.inputs.ckpt_name ?? loader?.inputs.unet_name);
    if (name !== undefined) out.model = name;
  }
  if (out.prompt === undefined) {
    // No sampler to start from: the first text encoder is the best guess at the prompt.
    const encoder = [...graph.values()].find((n) => n.classType.startsWith('CLIPTextEncode'));
    const text = encoder ? str(scalar(graph, encoder.inputs.text ?? encoder.inputs.text_g ?? encoder.inputs.t5xxl, TEXT_NAMES)) : undefined;
    if (text !== undefined) out.prompt = text;
  }
  return Object.keys(out).length > 0 ? out : null;
}

/** Reads the API-format `prompt` graph. */
export function fromComfyPrompt(value: unknown): GenerationFields | null {
  const graph = apiGraph(value);
  return graph ? readGraph(graph) : null;
}

// ---------------------------------------------------------------------------------------------
// The editor graph

const CONTROL = 'control_after_generate';

/**
 * Widget inputs of the nodes the walker reads, in the order of their INPUT_TYPES (nodes.py,
 * comfy_extras/nodes_custom_sampler.py, nodes_flux.py, nodes_sd3.py, nodes_hunyuan.py,
 * nodes_primitive.py); the editor adds `control_after_generate` after each seed widget.
 */
const WIDGETS: Readonly<Record<string, readonly string[]>> = {
  KSampler: ['seed', CONTROL, 'steps', 'cfg', 'sampler_name', 'scheduler', 'denoise'],
  KSamplerAdvanced: ['add_noise', 'noise_seed', CONTROL, 'steps', 'cfg', 'sampler_name', 'scheduler', 'start_at_step', 'end_at_step', 'return_with_leftover_noise'],
  SamplerCustom: ['add_noise', 'noise_seed', CONTROL, 'cfg'],
  RandomNoise: ['noise_seed', CONTROL],
  KSamplerSelect: ['sampler_name'],
  BasicScheduler: ['scheduler', 'steps', 'denoise'],
  KarrasScheduler: ['steps', 'sigma_max', 'sigma_min', 'rho'],
  ExponentialScheduler: ['steps', 'sigma_max', 'sigma_min'],
  PolyexponentialScheduler: ['steps', 'sigma_max', 'sigma_min', 'rho'],
  SDTurboScheduler: ['steps', 'denoise'],
  BetaSamplingScheduler: ['steps', 'alpha', 'beta'],
  AlignYourStepsScheduler: ['model_type', 'steps', 'denoise'],
  CFGGuider: ['cfg'],
  FluxGuidance: ['guidance'],
  CLIPTextEncode: ['text'],
  CLIPTextEncodeSDXL: ['width', 'height', 'crop_w', 'crop_h', 'target_width', 'target_height', 'text_g', 'text_l'],
  CLIPTextEncodeFlux: ['clip_l', 't5xxl', 'guidance'],
  CLIPTextEncodeSD3: ['clip_l', 'clip_g', 't5xxl', 'empty_padding'],
  CheckpointLoaderSimple: ['ckpt_name'],
  UNETLoader: ['unet_name', 'weight_dtype'],
  LoraLoader: ['lora_name', 'strength_model', 'strength_clip'],
  LoraLoaderModelOnly: ['lora_name', 'strength_model'],
  ModelSamplingFlux: ['max_shift', 'base_shift', 'width', 'height'],
  ModelSamplingSD3: ['shift'],
  EmptyLatentImage: ['width', 'height', 'batch_size'],
  EmptySD3LatentImage: ['width', 'height', 'batch_size'],
  EmptyHunyuanLatentVideo: ['width', 'height', 'length', 'batch_size'],
  PrimitiveNode: ['value', CONTROL],
  PrimitiveInt: ['value', CONTROL],
  PrimitiveFloat: ['value'],
  PrimitiveString: ['value'],
  PrimitiveStringMultiline: ['value'],
};

interface EditorNode {
  type: string;
  mode: number;
  widgets: readonly unknown[];
  inputs: { name: string; link: number | null }[];
}

function editorLinks(raw: unknown): Map<number, [number, number]> {
  const links = new Map<number, [number, number]>();
  if (!Array.isArray(raw)) return links;
  for (const l of raw.slice(0, 100_000)) {
    // Array links (schema 0.4) or object links (schema 1).
    if (Array.isArray(l) && typeof l[0] === 'number' && typeof l[1] === 'number') links.set(l[0], [l[1], typeof l[2] === 'number' ? l[2] : 0]);
    else if (isRecord(l) && typeof l.id === 'number' && typeof l.origin_id === 'number') {
      links.set(l.id, [l.origin_id, typeof l.origin_slot === 'number' ? l.origin_slot : 0]);
    }
  }
  return links;
}

/** The editor graph as an API graph: widget values by name, links as [id, slot], Reroutes skipped. */
function editorToApi(value: unknown): ApiGraph | null {
  if (!isRecord(value) || !Array.isArray(value.nodes)) return null;
  const nodes = new Map<number, EditorNode>();
  for (const raw of value.nodes.slice(0, MAX_NODES)) {
    if (!isRecord(raw) || typeof raw.id !== 'number' || typeof raw.type !== 'string') continue;
    const inputs = Array.isArray(raw.inputs)
      ? raw.inputs.filter(isRecord).map((i) => ({ name: String(i.name), link: typeof i.link === 'number' ? i.link : null }))
      : [];
    nodes.set(raw.id, { type: raw.type, mode: typeof raw.mode === 'number' ? raw.mode : 0, widgets: Array.isArray(raw.widgets_values) ? raw.widgets_values : [], inputs });
  }
  const links = editorLinks(value.links);
  const origin = (link: number | null): [string, number] | undefined => {
    let from = link === null ? undefined : links.get(link);
    for (let hop = 0; from && hop < MAX_HOPS; hop++) {
      const node = nodes.get(from[0]);
      if (node?.type !== 'Reroute') return [String(from[0]), from[1]];
      const next = node.inputs[0]?.link;
      from = next === null || next === undefined ? undefined : links.get(next);
    }
    return undefined;
  };
  const graph = new Map<string, ApiNode>();
  for (const [id, node] of nodes) {
    if (node.type === 'Reroute') continue;
    const inputs: Record<string, unknown> = {};
    (WIDGETS[node.type] ?? []).forEach((name, i) => {
      if (name !== CONTROL && i < node.widgets.length) inputs[name] = node.widgets[i];
    });
    // A widget turned into a linked input keeps a stale value in widgets_values: the link wins.
    for (const input of node.inputs) {
      const from = origin(input.link);
      if (from) inputs[input.name] = from;
    }
    // Mode 2 is muted, 4 bypassed: such a node did not run.
    graph.set(String(id), { classType: node.type, inputs, skipped: node.mode === 2 || node.mode === 4 });
  }
  return graph.size > 0 ? graph : null;
}

/** Reads the editor `workflow` graph, for files saved without the API graph. */
export function fromComfyWorkflow(value: unknown): GenerationFields | null {
  const graph = editorToApi(value);
  return graph ? readGraph(graph) : null;
}

/**
 * ComfyUI's WebP EXIF strings, `<key>:<json>` (SaveAnimatedWEBP: Model holds `prompt:…`, Make and
 * the tags below it hold the extra_pnginfo entries, `workflow:…` first).
 */
export function comfyExifEntry(text: string | undefined, parse: (text: string) => unknown = JSON.parse): { key: string; value: unknown } | undefined {
  if (text === undefined) return undefined;
  const m = /^([A-Za-z_][\w-]{0,63}):(?=\s*[[{])/u.exec(text);
  if (!m) return undefined;
  let value: unknown;
  try {
    value = parse(text.slice(m[0].length));
  } catch {
    return undefined;
  }
  return value === undefined ? undefined : { key: m[1]!, value };
}
