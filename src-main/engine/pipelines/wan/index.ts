/**
 * WAN 2.1 T2V (1.3B) on onnxruntime-node, following diffusers' WanPipeline for the studio's ONNX
 * layout (docs/models.md): clean and tokenize the prompt (UMT5, 512 tokens, pad rows zeroed), draw
 * the seed's noise as torch does on the CPU, denoise with the flow scheduler the job names and
 * classifier-free guidance in two passes, decode with the causal VAE frame by frame, and write a
 * PNG (1 frame) or an H.264 MP4 (video) that carries its recipe. Serves image_fast, image_high,
 * video_fast, video_high and their *_enhanced twins (which arrive with the enhanced prompt).
 * Runs only inside an inference worker.
 */
import { freemem } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Tensor } from 'onnxruntime-node';
import { workerRuntime } from '../../inference/runtime.ts';
import type { OrtRuntime } from '../../inference/runtime.ts';
import { buildA1111Parameters } from '../../media/a1111.ts';
import { shareableRecipe } from '../../media/recipe.ts';
import { DECODE_STAGE, TILE_DECODE_STAGE, reportDecodeAndEncode } from '../common/stage-progress.ts';
import type { ShareableRecipe } from '../../media/recipe.ts';
import { requireFfmpeg } from '../../media/ffmpeg-locate.ts';
import type { FfmpegFound } from '../../media/ffmpeg-locate.ts';
import type { X264Preset } from '../../media/video-encode.ts';
import { sharedVideoEncoder } from '../../media/video-encoder.ts';
import type { VideoSink } from '../../media/video-stream.ts';
import { WAN_LATENT_CHANNELS, WAN_TEXT_LENGTH, WAN_TEXT_WIDTH } from '../../models/wan-validator.ts';
import { createFlowScheduler, FLOW_SAMPLERS } from '../../numerics/flow/index.ts';
import type { FlowSamplerName, FlowScheduler } from '../../numerics/flow/index.ts';
import { torchRandn } from '../../numerics/torch-randn.ts';
import { APP_NAME, APP_VERSION } from '../../version.ts';
import { floatTensor, inputSpec, outputFloat32, timestepTensor } from '../common/session-io.ts';
import { CancelledError, PipelineError, previewDue } from '../types.ts';
import type { OutputFile, Pipeline, PipelineContext, PipelineResult, RunRequest } from '../types.ts';
import { loadWanModel } from './model.ts';
import type { WanModel } from './model.ts';
import { openWanVideo, writeWanImage, writeWanVideo } from './output.ts';
import { wanPreviewPng } from './preview.ts';
import { encodeWanText } from './text.ts';
import type { EncodedText } from './text.ts';
import { decodeWanChunks, decodeWanFrames, newDecodeStats, SPATIAL_SCALE, TEMPORAL_SCALE } from './vae-decode.ts';
import type { DecodeOptions } from './vae-decode.ts';

/** Sizes must be multiples of the VAE's 8 × the transformer's 2×2 patch. */
export const WAN_SIZE_MULTIPLE = SPATIAL_SCALE * 2;
export const WAN_FPS = 16;

export interface WanPipelineOptions {
  readonly runtime?: OrtRuntime;
  /** Settings → Video's ffmpeg (binary or folder); null: PATH. */
  readonly ffmpegPath?: string | null;
  readonly x264Preset?: X264Preset;
  /** Whole-clip VAE exports: window and context in latent frames (see vae-decode.ts). */
  readonly vaeWindow?: Omit<DecodeOptions, 'signal'>;
}

/**
 * Bytes the full WAN 2.1 VAE holds to decode a frame whole on the CPU: 16.0 GB at 480×832 and 4.4 GB
 * at 240×416 (docs/benchmarks.md, wan-full), about 40 kB an output pixel.
 */
const UNTILED_CPU_BYTES_PER_PIXEL = 40_000;

/**
 * Whether the VAE decodes in tiles (vae-decode.ts). On the CPU, when a whole frame would need more
 * than 70 % of the memory free now: tiles (diffusers' tiled decode, 4.2 GB at 480×832) instead of
 * being killed for memory. On a GPU, the whole frame, as diffusers' WanPipeline does by default.
 */
export function wanVaeTiling(provider: string, width: number, height: number, free = freemem()): 'auto' | 'off' {
  if (provider !== 'cpu') return 'off';
  return width * height * UNTILED_CPU_BYTES_PER_PIXEL > 0.7 * free ? 'auto' : 'off';
}

/** Refuses what WAN cannot make, saying the rule (diffusers would silently round instead). */
export function checkWanParams(p: { width: number; height: number; frames: number; steps: number }): void {
  if ((p.frames - 1) % TEMPORAL_SCALE !== 0 || p.frames < 1) {
    const below = Math.max(1, p.frames - ((p.frames - 1) % TEMPORAL_SCALE + TEMPORAL_SCALE) % TEMPORAL_SCALE);
    throw new PipelineError(
      'invalid_params',
      `WAN makes 4k+1 frames (1, 5, 9, 13, 17, …, 81): the VAE turns each latent frame after the first into 4 video frames. ${p.frames} is not of that form; use ${below} or ${below + TEMPORAL_SCALE}.`,
    );
  }
  if (p.width % WAN_SIZE_MULTIPLE !== 0 || p.height % WAN_SIZE_MULTIPLE !== 0) {
    throw new PipelineError(
      'invalid_params',
      `WAN needs a width and height that are multiples of ${WAN_SIZE_MULTIPLE} (the VAE's 8× times the transformer's 2×2 patches); ${p.width}×${p.height} is not. Try ${Math.round(p.width / 16) * 16}×${Math.round(p.height / 16) * 16}.`,
    );
  }
}

/** What the denoising and writing half of a run carries over from its set-up half. */
interface DenoiseState {
  readonly m: WanModel;
  readonly cond: EncodedText;
  readonly uncond: EncodedText | null;
  readonly prompt: string;
  readonly sampler: FlowSamplerName;
  readonly samplerLabel: string;
  readonly recipe: ShareableRecipe;
  readonly extra: [string, string | number][];
  readonly providerNote: string | null;
  /** The video's MP4 stream, open since before the denoising; null for the image job types. */
  readonly video: VideoSink | null;
  readonly wall0: number;
  readonly run0: number;
  readonly loadMs: number;
  readonly encodeMs: number;
}

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new CancelledError();
}

export class WanPipeline implements Pipeline {
  readonly family = 'wan';
  readonly #runtime: OrtRuntime;
  readonly #options: WanPipelineOptions;
  #model: WanModel | null = null;

  constructor(options: WanPipelineOptions = {}) {
    this.#runtime = options.runtime ?? workerRuntime();
    this.#options = options;
    // The video thread and its ffmpeg host start now, while this process holds no model yet.
    sharedVideoEncoder().warm();
  }

  async unload(): Promise<void> {
    this.#model = null;
    await this.#runtime.releaseAll();
  }

  async run(req: RunRequest, ctx: PipelineContext): Promise<PipelineResult> {
    const wall0 = performance.now();
    const run0 = this.#runtime.timer.ms;
    const p = req.params;
    checkWanParams(p);
    const sampler = p.scheduler as FlowSamplerName;
    if (!(sampler in FLOW_SAMPLERS)) {
      throw new PipelineError('invalid_params', `WAN has no sampler "${p.scheduler}"; use one of ${Object.keys(FLOW_SAMPLERS).join(', ')}`);
    }
    const isVideo = p.frames > 1;
    // A missing ffmpeg fails the job now, not after the denoising.
    const ffmpeg: FfmpegFound | null = isVideo ? await requireFfmpeg({ ffmpegPath: req.ffmpegPath ?? this.#options.ffmpegPath ?? null }) : null;

    ctx.progress({ step: 0, of: p.steps, stage: 'loading model', preview: null });
    let loadMs = 0;
    if (this.#model?.path !== req.model.path) {
      if (this.#model) await this.unload();
      this.#model = await loadWanModel(this.#runtime, req.model.path, req.providers);
      loadMs = this.#model.loadMs;
    }
    const m = this.#model;
    throwIfCancelled(ctx.signal);

    // Text conditioning: the enhanced prompt when the job has one (the *_enhanced types).
    ctx.progress({ step: 0, of: p.steps, stage: 'encoding prompt', preview: null });
    const prompt = p.enhancedPrompt ?? p.prompt;
    const cfg = p.guidance > 1;
    const tEnc0 = performance.now();
    const cond = await encodeWanText(this.#runtime, m.text, prompt);
    const uncond = cfg ? await encodeWanText(this.#runtime, m.text, p.negativePrompt) : null;
    const encodeMs = performance.now() - tEnc0;
    throwIfCancelled(ctx.signal);

    // The machine's side (provider, its note, timings) goes on the job record, never into a file.
    const providerNote = [m.transformer.loaded.note, cond.note].filter(Boolean).join('; ') || null;
    const recipe = shareableRecipe(
      { jobId: req.jobId, jobType: req.jobType, params: { ...p, fps: p.fps || WAN_FPS }, model: { ...req.model, family: 'wan' } },
      { batchIndex: 0, flowShift: m.schedulerConfig.flow_shift, promptTokens: cond.tokens, promptTruncated: cond.truncated },
    );
    // The video infotext writes Frames and FPS itself. `RNG: CPU` as A1111 reads the noise source.
    const extra: [string, string | number][] = isVideo ? [['RNG', 'CPU']] : [['Frames', 1], ['RNG', 'CPU']];
    if (p.enhancedPrompt) extra.push(['Original prompt', p.prompt]);
    const samplerLabel = FLOW_SAMPLERS[sampler].label;
    // Video: the MP4 starts now (ffmpeg spawned on the video thread while the denoising runs), so a
    // broken ffmpeg or staging folder fails the job before the work rather than after it.
    const video: VideoSink | null = isVideo
      ? openWanVideo({
          frameCount: p.frames,
          width: p.width,
          height: p.height,
          fps: p.fps || WAN_FPS,
          stagingDir: req.stagingDir,
          metadata: {
            prompt,
            negativePrompt: p.negativePrompt,
            seed: p.seed,
            model: req.model.name ?? req.model.id,
            steps: p.steps,
            jobType: req.jobType,
            extraParameters: [['Sampler', samplerLabel], ['CFG scale', p.guidance], ...extra],
            recipe,
          },
          ffmpeg: ffmpeg!,
          log: (message) => ctx.log(message),
          ...(this.#options.x264Preset ? { preset: this.#options.x264Preset } : {}),
        })
      : null;
    try {
      return await this.#denoiseAndWrite(req, ctx, { m, cond, uncond, prompt, sampler, samplerLabel, recipe, extra, providerNote, video, wall0, run0, loadMs, encodeMs });
    } catch (error) {
      // Cancelled or failed: ffmpeg is stopped and its temp file removed before the job settles.
      await video?.abort();
      throw error;
    }
  }

  async #denoiseAndWrite(req: RunRequest, ctx: PipelineContext, s: DenoiseState): Promise<PipelineResult> {
    const p = req.params;
    const { m, cond, uncond, prompt, sampler, samplerLabel, recipe, extra, providerNote, video, wall0, run0, loadMs, encodeMs } = s;
    const isVideo = video !== null;

    // Starting noise: torch.randn([1, 16, (F − 1)/4 + 1, h/8, w/8]) on a CPU generator seeded with the job's seed.
    const T = (p.frames - 1) / TEMPORAL_SCALE + 1;
    const h = p.height / SPATIAL_SCALE;
    const w = p.width / SPATIAL_SCALE;
    const shape = [1, WAN_LATENT_CHANNELS, T, h, w];
    let x = torchRandn(shape, p.seed);
    const scheduler = createFlowScheduler(sampler, m.schedulerConfig);
    scheduler.setTimesteps(p.steps);

    // The text conditioning is the same every step: its tensors are made once.
    const ctxSpec = inputSpec(m.transformer.loaded.session, m.transformer.io.context.name, 'transformer');
    const contextDims = [1, WAN_TEXT_LENGTH, m.text.width ?? WAN_TEXT_WIDTH];
    const context = { cond: floatTensor(ctxSpec, cond.states, contextDims), uncond: uncond ? floatTensor(ctxSpec, uncond.states, contextDims) : null };

    const stepMs: number[] = [];
    const denoiseRun0 = this.#runtime.timer.ms;
    for (let i = 0; i < scheduler.timesteps.length; i++) {
      throwIfCancelled(ctx.signal);
      if (video?.failure) throw video.failure;
      const s0 = performance.now();
      const v = await this.#velocity(m, scheduler, i, x, shape, context, p.guidance, ctx.signal);
      const preview = previewDue(i + 1, p.steps, req.previewEvery) ? wanPreviewPng(x, v, scheduler.sigmas[i]!, T, h, w) : null;
      x = scheduler.step(v, i, x);
      stepMs.push(performance.now() - s0);
      ctx.progress({ step: i + 1, of: p.steps, stage: 'denoising', preview });
    }
    const denoiseRunMs = this.#runtime.timer.ms - denoiseRun0;
    throwIfCancelled(ctx.signal);

    // Decode and write.
    const decodeRun0 = this.#runtime.timer.ms;
    ctx.progress({ step: p.steps, of: p.steps, stage: DECODE_STAGE, preview: null });
    const stats = newDecodeStats(m.vae.io.mode === 'cached' ? 'cached' : 'whole');
    const decodeOptions = {
      tiling: wanVaeTiling(m.vae.loaded.provider, p.width, p.height),
      ...this.#options.vaeWindow,
      signal: ctx.signal,
      // A tiled decode makes every tile over the whole clip before the first frame is out: told tile by tile.
      onTile: (done: number, of: number) => ctx.progress({ step: p.steps, of: p.steps, stage: TILE_DECODE_STAGE, stageProgress: { done, of }, preview: null }),
    };
    const latents = { data: x, frames: T, height: h, width: w };
    let output: OutputFile;
    let encodeOutMs = 0;
    let writeMs = 0;
    if (!isVideo) {
      const parameters = buildA1111Parameters({
        prompt,
        negativePrompt: p.negativePrompt,
        steps: p.steps,
        sampler: samplerLabel,
        cfgScale: p.guidance,
        seed: p.seed,
        width: p.width,
        height: p.height,
        model: req.model.name ?? req.model.id,
        ...(req.model.hash ? { modelHash: req.model.hash } : {}),
        extra,
        version: `${APP_NAME} ${APP_VERSION}`,
      });
      const frames = decodeWanFrames(this.#runtime, m.vae, latents, decodeOptions, stats);
      const written = await writeWanImage(frames, { stagingDir: req.stagingDir, parameters, recipe, seed: p.seed });
      output = written.output;
      encodeOutMs = written.encodeMs;
      writeMs = written.writeMs;
    } else {
      // Told frame by frame, then "encoding video" while ffmpeg finishes the file.
      const chunks = reportDecodeAndEncode(decodeWanChunks(this.#runtime, m.vae, latents, decodeOptions, stats), p.frames, (stage) =>
        ctx.progress({ step: p.steps, of: p.steps, ...stage, preview: null }),
      );
      const written = await writeWanVideo(video, chunks, { recipe, seed: p.seed });
      output = written.output;
      // What the job waited for after the last decoded frame (ffmpeg ran beside everything before).
      encodeOutMs = written.tailMs;
      writeMs = written.thumbMs;
    }

    const decodeRunMs = this.#runtime.timer.ms - decodeRun0;
    const wallMs = performance.now() - wall0;
    const runMs = this.#runtime.timer.ms - run0;
    const denoiseMs = stepMs.reduce((a, b) => a + b, 0);
    const timings: Record<string, number> = {
      wallMs,
      sessionRunMs: runMs,
      overheadMs: wallMs - runMs,
      modelLoadMs: loadMs,
      encodeMs,
      denoiseMs,
      // Time in a step outside session.run: tensors, guidance, the scheduler, the preview.
      denoiseOverheadMs: denoiseMs - denoiseRunMs,
      stepMsMean: stepMs.length ? denoiseMs / stepMs.length : 0,
      decodeMs: stats.decodeMs,
      // Decode time outside session.run: un-normalising, cache hand-over, float → RGB.
      decodeOverheadMs: stats.decodeMs - decodeRunMs,
      vaeCalls: stats.calls,
      // Spatial tiles the VAE decoded in (0: the whole frame at once).
      vaeTiles: stats.tiled?.tiles ?? 0,
      vaeDecodePeakRssMb: stats.rssPeakBytes / 2 ** 20,
      vaeDecodeRssGrowthMb: (stats.rssPeakBytes - stats.rssStartBytes) / 2 ** 20,
      [isVideo ? 'mp4EncodeMs' : 'pngEncodeMs']: encodeOutMs,
      writeMs,
    };
    const tiledNote = stats.tiled
      ? `the VAE decoded in ${String(stats.tiled.tiles)} tiles of ${String(stats.tiled.tileSize)} px (a whole frame would not fit in the memory free), as diffusers' tiled decode does`
      : null;
    const note = [providerNote, stats.note, tiledNote].filter(Boolean).join('; ') || null;
    return { outputs: [output], provider: m.transformer.loaded.provider, providerNote: note, enhancedPrompt: p.enhancedPrompt, timings };
  }

  /** One denoising step's velocity: the conditional pass, and with guidance the unconditional one, combined as diffusers does. */
  async #velocity(
    m: WanModel,
    scheduler: FlowScheduler,
    i: number,
    x: Float32Array,
    shape: readonly number[],
    context: { readonly cond: Tensor; readonly uncond: Tensor | null },
    guidance: number,
    signal: AbortSignal,
  ): Promise<Float32Array> {
    const { session } = m.transformer.loaded;
    const io = m.transformer.io;
    const latent = floatTensor(inputSpec(session, io.latents.name, 'transformer'), scheduler.scaleModelInput(x, i), shape);
    const timestep = timestepTensor(inputSpec(session, io.timestep.name, 'transformer'), scheduler.timesteps[i]!, 1);
    const pass = async (text: Tensor): Promise<Float32Array> => {
      const out = await this.#runtime.run(session, { [io.latents.name]: latent, [io.timestep.name]: timestep, [io.context.name]: text });
      // A fresh array each run (onnxruntime allocates its outputs), so it is ours to change.
      const { data, dims } = outputFloat32(out, io.output.name, 'transformer');
      if (data.length !== x.length) {
        throw new PipelineError('model_invalid', `transformer/model.onnx returned [${dims.join(', ')}] for latents [${shape.join(', ')}]`);
      }
      return data;
    };
    // diffusers order: the conditional pass first, then the unconditional one.
    const c = await pass(context.cond);
    if (!context.uncond) return c;
    throwIfCancelled(signal);
    const u = await pass(context.uncond);
    // noise_pred = noise_uncond + guidance_scale * (noise_pred - noise_uncond), in float32 (the
    // store into the Float32Array is the last rounding), written over the conditional output.
    for (let k = 0; k < c.length; k++) c[k] = u[k]! + Math.fround(guidance * Math.fround(c[k]! - u[k]!));
    return c;
  }
}

export function createPipeline(): Pipeline {
  return new WanPipeline();
}
