/**
 * SDXL text-to-image on onnxruntime-node, following diffusers' StableDiffusionXLPipeline for an
 * Optimum ONNX export: encode both prompts, draw the seed's noise as torch does on the CPU, denoise
 * with classifier-free guidance under the chosen scheduler, decode with the VAE, and write PNGs that
 * carry their recipe. Runs only inside an inference worker.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { workerRuntime } from '../../inference/runtime.ts';
import type { LoadedSession, OrtRuntime } from '../../inference/runtime.ts';
import { ClipTokenizer } from '../../tokenizers/clip.ts';
import { createScheduler, parseSchedulerConfig, SAMPLERS, schedulerNotesFor } from '../../numerics/schedulers/index.ts';
import type { ParsedSchedulerConfig, SamplerName, SchedulerConfig, SchedulerConfigNote, Scheduler } from '../../numerics/schedulers/index.ts';
import { torchRandn } from '../../numerics/torch-randn.ts';
import { vaeOutputToImage } from '../../media/image-convert.ts';
import { buildA1111Parameters } from '../../media/a1111.ts';
import { shareableRecipe } from '../../media/recipe.ts';
import { CancelledError, PipelineError, previewDue } from '../types.ts';
import type { OutputFile, Pipeline, PipelineContext, PipelineResult, RunRequest } from '../types.ts';
import { encodeSdxlPrompts } from './conditioning.ts';
import type { Conditioning, Encoder } from './conditioning.ts';
import { floatTensor, inputSpec, outputFloat32, timestepTensor } from '../common/session-io.ts';
import type { InputSpec } from '../common/session-io.ts';
import { latentPreviewPng, SDXL_LATENT_RGB } from '../common/latent-preview.ts';
import { writeGeneratedImage } from '../common/write-image.ts';
import { closeSharedPngPool } from '../../media/png-pool.ts';
import { loadComponent, readModelJson } from '../common/model-files.ts';
import { APP_NAME, APP_VERSION } from '../../version.ts';

/** The batch the seed's noise is drawn for: re-running image k alone draws the same [6,…] noise. */
export const SDXL_NOISE_BATCH = 6;

interface SdxlModel {
  readonly path: string;
  readonly encoders: readonly [Encoder, Encoder];
  readonly unet: LoadedSession;
  readonly vae: LoadedSession;
  readonly schedulerConfig: SchedulerConfig;
  /** Values of scheduler_config.json the studio does not reproduce, said on the jobs they concern. */
  readonly schedulerNotes: readonly SchedulerConfigNote[];
  readonly scalingFactor: number;
  readonly latentsMean: number[] | null;
  readonly latentsStd: number[] | null;
  readonly forceZeros: boolean;
  readonly forceUpcast: boolean;
  readonly loadMs: number;
}



async function loadModel(runtime: OrtRuntime, folder: string, providers: readonly string[]): Promise<SdxlModel> {
  const t0 = performance.now();
  const index = readModelJson(folder, 'model_index.json');
  const schedulerJson = readModelJson(folder, 'scheduler/scheduler_config.json');
  let scheduler: ParsedSchedulerConfig;
  try {
    scheduler = parseSchedulerConfig(schedulerJson);
  } catch (e) {
    throw new PipelineError('model_invalid', `scheduler/scheduler_config.json: ${(e as Error).message}`);
  }
  const vaeConfigPath = join(folder, 'vae_decoder', 'config.json');
  const vaeConfig = existsSync(vaeConfigPath) ? readModelJson(folder, 'vae_decoder/config.json') : {};
  const [tok1, tok2] = await Promise.all(
    ['tokenizer', 'tokenizer_2'].map(async (name) => {
      try {
        return await ClipTokenizer.fromDirectory(join(folder, name));
      } catch (e) {
        throw new PipelineError('model_invalid', `${name}/ cannot be read: ${(e as Error).message}`);
      }
    }),
  );
  const te1 = await loadComponent(runtime, folder, 'text_encoder', providers);
  const te2 = await loadComponent(runtime, folder, 'text_encoder_2', providers);
  const unet = await loadComponent(runtime, folder, 'unet', providers);
  const vae = await loadComponent(runtime, folder, 'vae_decoder', providers);
  const numbers = (v: unknown): number[] | null => (Array.isArray(v) ? v.map(Number) : null);
  return {
    path: folder,
    encoders: [
      { component: 'text_encoder', session: te1.session, tokenizer: tok1! },
      { component: 'text_encoder_2', session: te2.session, tokenizer: tok2! },
    ],
    unet,
    vae,
    schedulerConfig: scheduler.config,
    schedulerNotes: scheduler.notes,
    scalingFactor: typeof vaeConfig.scaling_factor === 'number' ? vaeConfig.scaling_factor : 0.13025,
    latentsMean: numbers(vaeConfig.latents_mean),
    latentsStd: numbers(vaeConfig.latents_std),
    forceZeros: index.force_zeros_for_empty_prompt !== false,
    forceUpcast: vaeConfig.force_upcast === true,
    loadMs: performance.now() - t0,
  };
}

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new CancelledError();
}

/** Repeats a [tokens, width] embedding n times along a new batch axis. */
function repeatRows(data: Float32Array, n: number): Float32Array {
  const out = new Float32Array(data.length * n);
  for (let i = 0; i < n; i++) out.set(data, i * data.length);
  return out;
}

export class SdxlPipeline implements Pipeline {
  readonly family = 'sdxl';
  private readonly runtime: OrtRuntime;
  private model: SdxlModel | null = null;

  constructor(runtime: OrtRuntime = workerRuntime()) {
    this.runtime = runtime;
  }

  async unload(): Promise<void> {
    this.model = null;
    await Promise.all([this.runtime.releaseAll(), closeSharedPngPool()]);
  }

  async run(req: RunRequest, ctx: PipelineContext): Promise<PipelineResult> {
    const wall0 = performance.now();
    const run0 = this.runtime.timer.ms;
    const p = req.params;
    if (p.width % 8 !== 0 || p.height % 8 !== 0) {
      throw new PipelineError('invalid_params', `SDXL needs width and height divisible by 8 (got ${p.width}×${p.height})`);
    }
    ctx.progress({ step: 0, of: p.steps, stage: 'loading model', preview: null });
    if (this.model?.path !== req.model.path) {
      if (this.model) await this.unload();
      this.model = await loadModel(this.runtime, req.model.path, req.providers);
    }
    const m = this.model;
    throwIfCancelled(ctx.signal);

    // Text conditioning.
    ctx.progress({ step: 0, of: p.steps, stage: 'encoding prompt', preview: null });
    const tEnc0 = performance.now();
    const cond = await encodeSdxlPrompts(this.runtime, m.encoders, p.prompt, p.negativePrompt, m.forceZeros);
    const encodeMs = performance.now() - tEnc0;
    // SDXL's UNet reads both encoders' states side by side (768 + 1280 = 2048); a model whose parts
    // disagree is refused here rather than failing inside onnxruntime.
    const contextWidth = inputSpec(m.unet.session, 'encoder_hidden_states', 'unet').shape?.[2];
    const expectedWidth = typeof contextWidth === 'number' ? contextWidth : 2048;
    if (cond.width !== expectedWidth) {
      throw new PipelineError('model_invalid', `the text encoders give ${cond.width}-wide states, this UNet takes ${expectedWidth}: the parts are not from the same SDXL model`);
    }
    throwIfCancelled(ctx.signal);

    // Starting noise: torch.randn([N, 4, h/8, w/8]) on a CPU generator seeded with the job's seed.
    const h = p.height / 8;
    const w = p.width / 8;
    const channels = 4;
    const plane = channels * h * w;
    const first = p.batchIndex ?? 0;
    const noiseBatch = Math.max(SDXL_NOISE_BATCH, first + p.count);
    const noise = torchRandn([noiseBatch, channels, h, w], p.seed);
    const unetSpec = {
      sample: inputSpec(m.unet.session, 'sample', 'unet'),
      timestep: inputSpec(m.unet.session, 'timestep', 'unet'),
      ehs: inputSpec(m.unet.session, 'encoder_hidden_states', 'unet'),
      textEmbeds: inputSpec(m.unet.session, 'text_embeds', 'unet'),
      timeIds: inputSpec(m.unet.session, 'time_ids', 'unet'),
    };
    const sampler = p.scheduler as SamplerName;
    const samplerInfo = SAMPLERS[sampler];
    if (!samplerInfo) throw new PipelineError('invalid_params', `SDXL has no sampler "${p.scheduler}"`);

    // Split the job's images into batches the VRAM budget allows; each keeps its own scheduler state.
    const batchSize = Math.max(1, Math.min(req.maxBatch, p.count));
    const batches: { start: number; n: number; x: Float32Array; scheduler: Scheduler }[] = [];
    for (let start = 0; start < p.count; start += batchSize) {
      const n = Math.min(batchSize, p.count - start);
      const scheduler = createScheduler(sampler, m.schedulerConfig);
      scheduler.setTimesteps(p.steps);
      const x = noise.slice((first + start) * plane, (first + start + n) * plane);
      for (let i = 0; i < x.length; i++) x[i] = Math.fround(x[i]! * scheduler.initNoiseSigma);
      batches.push({ start, n, x, scheduler });
    }
    const timeIds = [p.height, p.width, 0, 0, p.height, p.width];
    const cfg = p.guidance > 1;
    const stepMs: number[] = [];
    const feedsByBatch = new Map<number, Record<string, Tensor>>();

    for (let step = 0; step < p.steps; step++) {
      throwIfCancelled(ctx.signal);
      const s0 = performance.now();
      for (const b of batches) {
        throwIfCancelled(ctx.signal);
        let feeds = feedsByBatch.get(b.n);
        if (!feeds) {
          feeds = this.conditioningFeeds(unetSpec, cond, b.n, cfg, timeIds);
          feedsByBatch.set(b.n, feeds);
        }
        const eps = await this.unetStep(m.unet.session, unetSpec, feeds, b.scheduler, step, b.x, b.n, cfg, p.guidance, [h, w]);
        b.x = b.scheduler.step(eps, step, b.x);
      }
      stepMs.push(performance.now() - s0);
      const all = batches.length === 1 ? batches[0]!.x : concat(batches.map((b) => b.x));
      const preview = previewDue(step + 1, p.steps, req.previewEvery) ? latentPreviewPng(all, p.count, channels, h, w, SDXL_LATENT_RGB, h >= 96 ? 2 : 1) : null;
      ctx.progress({ step: step + 1, of: p.steps, stage: 'denoising', preview });
    }

    // VAE decode, one image at a time (the decoder's activations dominate memory at 1024²).
    ctx.progress({ step: p.steps, of: p.steps, stage: 'decoding', preview: null });
    const vaeSpec = inputSpec(m.vae.session, 'latent_sample', 'vae_decoder');
    const note = vaeSpec.type === 'float16' && m.forceUpcast
      ? 'the VAE export is fp16 but its config asks for fp32 (force_upcast); decode may overflow — an fp32 vae_decoder export avoids it'
      : null;
    let decodeMs = 0;
    let encodePngMs = 0;
    let writeMs = 0;
    const outputs: OutputFile[] = [];
    const pending: Promise<Awaited<ReturnType<typeof writeGeneratedImage>>>[] = [];
    const schedulerNotes = schedulerNotesFor(m.schedulerNotes, sampler);
    // The machine's side (provider, its note, timings) goes on the job record, never into a file.
    const providerNote = [m.unet.note, note, ...schedulerNotes].filter(Boolean).join('; ') || null;
    try {
      for (const b of batches) {
        for (let i = 0; i < b.n; i++) {
          throwIfCancelled(ctx.signal);
          const d0 = performance.now();
          const latent = this.unscale(b.x.subarray(i * plane, (i + 1) * plane), m, channels, h * w);
          const out = await this.runtime.run(m.vae.session, { latent_sample: floatTensor(vaeSpec, latent, [1, channels, h, w]) });
          const decoded = outputFloat32(out, 'sample', 'vae_decoder');
          const image = vaeOutputToImage({ data: decoded.data, dims: decoded.dims }, 0, { precision: vaeSpec.type === 'float16' ? 'float16' : 'float32' });
          decodeMs += performance.now() - d0;
          const index = first + b.start + i;
          const recipe = shareableRecipe(
            { jobId: req.jobId, jobType: req.jobType, params: p, model: { ...req.model, family: 'sdxl' } },
            { batchIndex: index, noiseBatch, schedulerNotes },
          );
          const parameters = buildA1111Parameters({
            prompt: p.prompt,
            negativePrompt: p.negativePrompt,
            steps: p.steps,
            sampler: samplerInfo.a1111Sampler,
            // Always named: A1111 1.9+ reads `Automatic` as the sampler's default (Karras for DPM++ 2M).
            scheduleType: samplerInfo.a1111ScheduleType,
            cfgScale: p.guidance,
            seed: p.seed,
            width: p.width,
            height: p.height,
            model: req.model.name ?? req.model.id,
            ...(req.model.hash ? { modelHash: req.model.hash } : {}),
            batchSize: p.count,
            batchPos: index,
            rng: 'CPU',
            version: `${APP_NAME} ${APP_VERSION}`,
          });
          // Not awaited here: this image is encoded on the PNG thread while the next one decodes.
          const writing = writeGeneratedImage({
            image,
            stagingDir: req.stagingDir,
            name: `${String(index).padStart(2, '0')}`,
            parameters,
            recipe,
            batchIndex: index,
            seed: p.seed,
            transferPixels: true,
            log: (message) => ctx.log(message),
          });
          writing.catch(() => undefined);
          pending.push(writing);
        }
      }
    } catch (e) {
      // Let writes already started finish (or fail) before the staging folder is cleaned up.
      await Promise.allSettled(pending);
      throw e;
    }
    for (const written of await Promise.all(pending)) {
      encodePngMs += written.encodeMs;
      writeMs += written.writeMs;
      outputs.push(written.output);
    }
    const wallMs = performance.now() - wall0;
    const runMs = this.runtime.timer.ms - run0;
    const timings = {
      wallMs,
      sessionRunMs: runMs,
      overheadMs: wallMs - runMs,
      modelLoadMs: m.loadMs,
      encodeMs,
      denoiseMs: stepMs.reduce((a, b) => a + b, 0),
      stepMsMean: stepMs.length ? stepMs.reduce((a, b) => a + b, 0) / stepMs.length : 0,
      decodeMs,
      pngEncodeMs: encodePngMs,
      writeMs,
      batches: batches.length,
    };
    return { outputs, provider: m.unet.provider, providerNote, enhancedPrompt: null, timings };
  }

  /**
   * The conditioning inputs are the same at every step: build their tensors once per batch size
   * (an fp16 export converts them once too) instead of copying ~2 MB per image per step.
   */
  private conditioningFeeds(
    spec: Record<'ehs' | 'textEmbeds' | 'timeIds', InputSpec>,
    cond: Conditioning,
    n: number,
    cfg: boolean,
    timeIds: readonly number[],
  ): Record<'encoder_hidden_states' | 'text_embeds' | 'time_ids', Tensor> {
    const batch = cfg ? 2 * n : n;
    // diffusers order: [uncond…, cond…] along the batch axis.
    const ehs = cfg ? concat([repeatRows(cond.uncond, n), repeatRows(cond.cond, n)]) : repeatRows(cond.cond, n);
    const pooled = cfg ? concat([repeatRows(cond.pooledUncond, n), repeatRows(cond.pooledCond, n)]) : repeatRows(cond.pooledCond, n);
    return {
      encoder_hidden_states: floatTensor(spec.ehs, ehs, [batch, cond.tokens, cond.width]),
      text_embeds: floatTensor(spec.textEmbeds, pooled, [batch, cond.pooledCond.length]),
      time_ids: floatTensor(spec.timeIds, repeatRows(Float32Array.from(timeIds), batch), [batch, 6]),
    };
  }

  private async unetStep(
    unet: InferenceSession,
    spec: Record<'sample' | 'timestep', InputSpec>,
    feeds: Record<string, Tensor>,
    scheduler: Scheduler,
    step: number,
    x: Float32Array,
    n: number,
    cfg: boolean,
    guidance: number,
    hw: readonly [number, number],
  ): Promise<Float32Array> {
    const plane = 4 * hw[0] * hw[1];
    const half = n * plane;
    const scaled = scheduler.scaleModelInput(x, step);
    const batch = cfg ? 2 * n : n;
    let sample = scaled;
    if (cfg) {
      sample = new Float32Array(2 * half);
      sample.set(scaled, 0);
      sample.set(scaled, half);
    }
    const out = await this.runtime.run(unet, {
      ...feeds,
      sample: floatTensor(spec.sample, sample, [batch, 4, hw[0], hw[1]]),
      timestep: timestepTensor(spec.timestep, scheduler.timesteps[step]!, batch),
    });
    const eps = outputFloat32(out, 'out_sample', 'unet').data;
    if (!cfg) return eps.length === half ? eps : eps.slice(0, half);
    // noise_pred = uncond + g · (cond − uncond), in float32 as diffusers computes it.
    const result = new Float32Array(half);
    for (let i = 0; i < half; i++) {
      const u = eps[i]!;
      result[i] = Math.fround(u + Math.fround(guidance * Math.fround(eps[half + i]! - u)));
    }
    return result;
  }

  private unscale(latent: Float32Array, m: SdxlModel, channels: number, hw: number): Float32Array {
    const out = new Float32Array(latent.length);
    for (let c = 0; c < channels; c++) {
      const mean = m.latentsMean?.[c];
      const std = m.latentsStd?.[c];
      for (let i = 0; i < hw; i++) {
        const v = latent[c * hw + i]!;
        out[c * hw + i] = mean !== undefined && std !== undefined ? (v * std) / m.scalingFactor + mean : v / m.scalingFactor;
      }
    }
    return out;
  }
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function createPipeline(): Pipeline {
  return new SdxlPipeline();
}
