/**
 * Generation settings written by other tools: ComfyUI graphs and InvokeAI metadata.
 *
 * ComfyUI's SaveImage writes two PNG text chunks:
 * `prompt` — the API-format graph `{ "<node id>": { "class_type": …, "inputs": { name: value or
 * [source node id, output index] } } }` — and `workflow`, the editor's graph (nodes with
 * `widgets_values`, links as `[id, from, fromSlot, to, toSlot, type]`). The API graph is walked from
 * the sampler: seed/steps/cfg/sampler_name, the texts feeding `positive` and `negative`, and the
 * checkpoint feeding `model`. The editor graph is the fallback when only it is present.
 *
 * Hostile input is expected: every lookup is type-checked, links are followed at most a few steps,
 * and cycles end the walk.
 */

export interface GenerationFields {
  prompt?: string;
  negativePrompt?: string;
  seed?: number;
  steps?: number;
  cfg?: number;
  sampler?: string;
  scheduler?: string;
  model?: string;
  width?: number;
  height?: number;
}

type ApiNode = { class_type?: unknown; inputs?: Record<string, unknown> };
type ApiGraph = Record<string, ApiNode>;

const SAMPLER_TYPES = ['KSampler', 'KSamplerAdvanced', 'SamplerCustom', 'SamplerCustomAdvanced'];
const MAX_HOPS = 16;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isLink(v: unknown): v is [string | number, number] {
  return Array.isArray(v) && v.length === 2 && (typeof v[0] === 'string' || typeof v[0] === 'number') && typeof v[1] === 'number';
}

function asGraph(value: unknown): ApiGraph | null {
  if (!isRecord(value)) return null;
  const graph: ApiGraph = {};
  for (const [id, node] of Object.entries(value)) {
    if (isRecord(node) && typeof node.class_type === 'string') {
      graph[id] = { class_type: node.class_type, inputs: isRecord(node.inputs) ? node.inputs : {} };
    }
  }
  return Object.keys(graph).length > 0 ? graph : null;
}

function classOf(node: ApiNode | undefined): string {
  return typeof node?.class_type === 'string' ? node.class_type : '';
}

/** A scalar input, following links through primitive/seed/string nodes. */
function scalar(graph: ApiGraph, value: unknown, names: readonly string[], hops = 0): unknown {
  if (!isLink(value)) return value;
  if (hops >= MAX_HOPS) return undefined;
  const node = graph[String(value[0])];
  if (!node?.inputs) return undefined;
  for (const name of names) {
    if (name in node.inputs) return scalar(graph, node.inputs[name], names, hops + 1);
  }
  return undefined;
}

const NUMBER_NAMES = ['seed', 'noise_seed', 'value', 'int', 'float', 'number', 'steps', 'cfg'];
const TEXT_NAMES = ['text', 'string', 'value', 'text_g', 'prompt', 'STRING'];

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The prompt text that feeds a conditioning input, through combine/concat/set-area nodes. */
function conditioningText(graph: ApiGraph, link: unknown, seen = new Set<string>()): string | undefined {
  if (!isLink(link)) return undefined;
  const id = String(link[0]);
  if (seen.has(id) || seen.size >= MAX_HOPS) return undefined;
  seen.add(id);
  const node = graph[id];
  if (!node?.inputs) return undefined;
  const inputs = node.inputs;
  const cls = classOf(node);
  if (cls.startsWith('CLIPTextEncode') || 'text' in inputs || 'text_g' in inputs) {
    const text = str(scalar(graph, inputs.text ?? inputs.text_g, TEXT_NAMES));
    if (text !== undefined) return text;
  }
  for (const name of ['conditioning', 'conditioning_1', 'conditioning_to', 'conditioning_from', 'positive', 'base_positive']) {
    if (name in inputs) {
      const text = conditioningText(graph, inputs[name], seen);
      if (text !== undefined) return text;
    }
  }
  return undefined;
}

/** The checkpoint/UNet name that feeds a model input, through LoRA and patch nodes. */
function modelName(graph: ApiGraph, link: unknown, seen = new Set<string>()): string | undefined {
  if (!isLink(link)) return undefined;
  const id = String(link[0]);
  if (seen.has(id) || seen.size >= MAX_HOPS) return undefined;
  seen.add(id);
  const inputs = graph[id]?.inputs;
  if (!inputs) return undefined;
  for (const name of ['ckpt_name', 'unet_name', 'model_name']) {
    const v = str(scalar(graph, inputs[name], TEXT_NAMES));
    if (v !== undefined) return v;
  }
  return 'model' in inputs ? modelName(graph, inputs.model, seen) : undefined;
}

function pickSampler(graph: ApiGraph): [string, ApiNode] | undefined {
  const samplers = Object.entries(graph).filter(([, n]) => SAMPLER_TYPES.includes(classOf(n)));
  if (samplers.length === 0) return undefined;
  // The base pass of a hires-fix graph has the full denoise; ties go to the lowest node id.
  samplers.sort(([a, na], [b, nb]) => {
    const da = num(na.inputs?.denoise) ?? 1;
    const dbv = num(nb.inputs?.denoise) ?? 1;
    if (da !== dbv) return dbv - da;
    return Number(a) - Number(b) || a.localeCompare(b);
  });
  return samplers[0];
}

/** Reads the API-format `prompt` graph. */
export function fromComfyPrompt(value: unknown): GenerationFields | null {
  const graph = asGraph(value);
  if (!graph) return null;
  const out: GenerationFields = {};
  const picked = pickSampler(graph);
  if (picked) {
    const inputs = picked[1].inputs ?? {};
    const seed = num(scalar(graph, inputs.seed ?? inputs.noise_seed, NUMBER_NAMES));
    if (seed !== undefined && Number.isSafeInteger(seed)) out.seed = seed;
    const steps = num(scalar(graph, inputs.steps, NUMBER_NAMES));
    if (steps !== undefined) out.steps = steps;
    const cfg = num(scalar(graph, inputs.cfg, NUMBER_NAMES));
    if (cfg !== undefined) out.cfg = cfg;
    const sampler = str(scalar(graph, inputs.sampler_name, TEXT_NAMES));
    if (sampler !== undefined) out.sampler = sampler;
    const scheduler = str(scalar(graph, inputs.scheduler, TEXT_NAMES));
    if (scheduler !== undefined) out.scheduler = scheduler;
    const positive = conditioningText(graph, inputs.positive);
    if (positive !== undefined) out.prompt = positive;
    const negative = conditioningText(graph, inputs.negative);
    if (negative !== undefined) out.negativePrompt = negative;
    const model = modelName(graph, inputs.model);
    if (model !== undefined) out.model = model;
    const latent = isLink(inputs.latent_image) ? graph[String(inputs.latent_image[0])]?.inputs : undefined;
    const w = num(scalar(graph, latent?.width, NUMBER_NAMES));
    const h = num(scalar(graph, latent?.height, NUMBER_NAMES));
    if (w !== undefined && h !== undefined) {
      out.width = w;
      out.height = h;
    }
  }
  if (out.model === undefined) {
    const loader = Object.values(graph).find((n) => classOf(n) === 'CheckpointLoaderSimple');
    const name = str(loader?.inputs?.ckpt_name);
    if (name !== undefined) out.model = name;
  }
  if (out.prompt === undefined) {
    // No sampler to start from: the first text encoder is the best guess at the prompt.
    const encoder = Object.values(graph).find((n) => classOf(n).startsWith('CLIPTextEncode'));
    const text = str(encoder?.inputs?.text);
    if (text !== undefined) out.prompt = text;
  }
  return Object.keys(out).length > 0 ? out : null;
}

interface UiNode {
  id: number;
  type: string;
  widgets: unknown[];
  inputs: { name: string; link: number | null }[];
}

/** Reads the editor `workflow` graph, for files saved without the API graph. */
export function fromComfyWorkflow(value: unknown): GenerationFields | null {
  if (!isRecord(value) || !Array.isArray(value.nodes)) return null;
  const nodes = new Map<number, UiNode>();
  for (const raw of value.nodes.slice(0, 10_000)) {
    if (!isRecord(raw) || typeof raw.id !== 'number' || typeof raw.type !== 'string') continue;
    const inputs = Array.isArray(raw.inputs)
      ? raw.inputs.filter(isRecord).map((i) => ({ name: String(i.name), link: typeof i.link === 'number' ? i.link : null }))
      : [];
    nodes.set(raw.id, { id: raw.id, type: raw.type, widgets: Array.isArray(raw.widgets_values) ? raw.widgets_values : [], inputs });
  }
  const linkSource = new Map<number, number>();
  if (Array.isArray(value.links)) {
    for (const l of value.links.slice(0, 100_000)) {
      if (Array.isArray(l) && typeof l[0] === 'number' && typeof l[1] === 'number') linkSource.set(l[0], l[1]);
    }
  }
  const source = (node: UiNode, name: string): UiNode | undefined => {
    const link = node.inputs.find((i) => i.name === name)?.link;
    const from = link === null || link === undefined ? undefined : linkSource.get(link);
    return from === undefined ? undefined : nodes.get(from);
  };
  const textOf = (node: UiNode | undefined, hops = 0): string | undefined => {
    if (!node || hops > MAX_HOPS) return undefined;
    if (node.type.startsWith('CLIPTextEncode') && typeof node.widgets[0] === 'string') return node.widgets[0];
    for (const name of ['conditioning', 'conditioning_1', 'conditioning_to']) {
      const t = textOf(source(node, name), hops + 1);
      if (t !== undefined) return t;
    }
    return undefined;
  };
  const out: GenerationFields = {};
  const sampler = [...nodes.values()].find((n) => n.type === 'KSampler' || n.type === 'KSamplerAdvanced');
  if (sampler) {
    // KSampler widgets: seed, control_after_generate, steps, cfg, sampler_name, scheduler, denoise.
    // KSamplerAdvanced: add_noise, noise_seed, control_after_generate, steps, cfg, sampler_name, scheduler, …
    const w = sampler.type === 'KSampler' ? sampler.widgets : sampler.widgets.slice(1);
    const seed = num(w[0]);
    if (seed !== undefined && Number.isSafeInteger(seed)) out.seed = seed;
    const steps = num(w[2]);
    if (steps !== undefined) out.steps = steps;
    const cfg = num(w[3]);
    if (cfg !== undefined) out.cfg = cfg;
    if (typeof w[4] === 'string') out.sampler = w[4];
    if (typeof w[5] === 'string') out.scheduler = w[5];
    const positive = textOf(source(sampler, 'positive'));
    if (positive !== undefined) out.prompt = positive;
    const negative = textOf(source(sampler, 'negative'));
    if (negative !== undefined) out.negativePrompt = negative;
  }
  const loader = [...nodes.values()].find((n) => n.type === 'CheckpointLoaderSimple');
  if (loader && typeof loader.widgets[0] === 'string') out.model = loader.widgets[0];
  return Object.keys(out).length > 0 ? out : null;
}

/** InvokeAI 3/4/5 `invokeai_metadata` (core metadata) into the same fields. */
export function fromInvokeAi(value: unknown): GenerationFields | null {
  if (!isRecord(value)) return null;
  const out: GenerationFields = {};
  const positive = str(value.positive_prompt);
  if (positive !== undefined) out.prompt = positive;
  const negative = str(value.negative_prompt);
  if (negative !== undefined) out.negativePrompt = negative;
  const seed = num(value.seed);
  if (seed !== undefined && Number.isSafeInteger(seed)) out.seed = seed;
  const steps = num(value.steps);
  if (steps !== undefined) out.steps = steps;
  const cfg = num(value.cfg_scale);
  if (cfg !== undefined) out.cfg = cfg;
  const scheduler = str(value.scheduler);
  if (scheduler !== undefined) out.sampler = scheduler;
  const model = isRecord(value.model) ? (str(value.model.name) ?? str(value.model.model_name)) : str(value.model);
  if (model !== undefined) out.model = model;
  const w = num(value.width);
  const h = num(value.height);
  if (w !== undefined && h !== undefined) {
    out.width = w;
    out.height = h;
  }
  return Object.keys(out).length > 0 ? out : null;
}
