/**
 * WAN 2.1's VAE decoder as one ONNX graph in the studio's frame-cached contract (docs/models.md,
 * "vae_decoder/model.onnx — frame-cached"), built from the weights with the weights left in the
 * user's file (external data). The architecture is diffusers' `AutoencoderKLWan` decoder
 * (models/autoencoders/autoencoder_kl_wan.py; vae-decoder-config.ts sizes it), and one call of
 * the graph is one iteration of `AutoencoderKLWan._decode`'s loop: `post_quant_conv` and
 * `WanDecoder3d.forward` on one latent frame with its feature cache (`_feat_map`) made explicit:
 *
 *   latent_sample [b, 16, 1, h, w] (un-normalised), first_chunk bool [1],
 *   feat_cache_in.i [b, C_i, 2, h·s_i, w·s_i]  →  sample [b, 3, 4, 8h, 8w], feat_cache_out.i (as the inputs).
 *
 * Each `WanCausalConv3d` with a 3-frame kernel reads its cache input concatenated before its input
 * frames instead of diffusers' front zero-padding (so the caches start as zeros) and hands on the
 * last two frames of [cache, input] — the frames diffusers keeps. Shapes are static in time: the
 * first call (`first_chunk`) computes the same 1 → 2 → 4 frames as every other, and where diffusers
 * differs on its first chunk the graph selects with Where:
 *
 * - each 'upsample3d' skips its time conv (diffusers' "Rep" marker) and its frame stays one frame;
 *   here the input frames are repeated to the doubled count, so frame 0 is diffusers' one frame and
 *   only output frame 0 is real (the pipeline keeps 1 frame of the first call);
 * - that time conv's cache stays zeros, which is what diffusers' next chunk reads ("Rep": the time
 *   conv zero-pads its first real call, and the cache it keeps starts with a zero frame);
 * - every other cache becomes [its previous last frame, frame 0] — diffusers keeps the one real
 *   frame, and a one-frame cache is padded with one zero frame, which is that previous frame.
 *
 * Within a call, frames never mix except through causal convs (norms are per position, attention
 * is per frame), so the repeated frames cannot reach frame 0. Memory does not grow with the clip:
 * every cache has a fixed shape.
 *
 * The output is the decoder's, unclamped (diffusers clamps the whole clip to [-1, 1] after the
 * loop; the pipeline does). Compute in float32 or float16; in float16 the RMS norms normalise in
 * float32 as diffusers' `WanRMS_norm` does for half-precision inputs.
 */
import { GraphBuilder } from '../../onnx/graph-builder.ts';
import type { ModelProto } from '../../onnx/onnx-proto.ts';
import { WeightBinder, type ComputeType } from '../../onnx/weights.ts';
import { reshapedRef, WeightSet, type TensorRef } from '../../weights/tensor-ref.ts';
import { attention, castTo, reshape, scalar, silu, transpose, type AttentionMode } from '../ops.ts';
import { wanVaeFrameCaches, wanVaeDecoderWeightShapes, type WanVaeDecoderConfig, type WanVaeFrameCache, type WanVaeUpsample } from './vae-decoder-config.ts';

export * from './vae-decoder-config.ts';

export interface WanVaeDecoderBuildOptions {
  readonly computeType: ComputeType;
  /** The mid block's attention: 'plain' ONNX operators (default) or 'fused' com.microsoft.MultiHeadAttention (one head). */
  readonly attention?: AttentionMode;
  /** The folder onnxruntime resolves the weights' external data against. */
  readonly folder: string;
}

export interface BuiltWanVaeDecoder {
  readonly model: ModelProto;
  /** `feat_cache_in.i` / `feat_cache_out.i` in order (as {@link wanVaeFrameCaches} lists them). */
  readonly caches: readonly WanVaeFrameCache[];
}

/** diffusers `CACHE_T`: frames of history a causal 3-frame convolution keeps. */
const CACHE_FRAMES = 2;
/** torch.nn.functional.normalize's eps (WanRMS_norm). */
const NORMALIZE_EPS = 1e-12;

/** An activation [b, C, frames, H, W]: its width, spatial scale over the latent, and static frame count. */
interface Stream {
  readonly value: string;
  readonly channels: number;
  readonly scale: number;
  readonly frames: number;
}

/** Symbolic names of a spatial size `scale`× the latent's (the output's at 8×). */
function sizeNames(scale: number): [string, string] {
  if (scale === 1) return ['latent_height', 'latent_width'];
  if (scale === 8) return ['height', 'width'];
  return [`latent_height_x${scale}`, `latent_width_x${scale}`];
}

class FrameCachedDecoder {
  readonly g: GraphBuilder;
  readonly b: WeightBinder;
  readonly computeType: ComputeType;
  readonly mode: AttentionMode;
  /** first_chunk, bool [1]. */
  readonly first: string;
  readonly caches: (WanVaeFrameCache & { readonly output: string })[] = [];

  constructor(g: GraphBuilder, b: WeightBinder, mode: AttentionMode) {
    this.g = g;
    this.b = b;
    this.computeType = b.computeType;
    this.mode = mode;
    this.first = g.input('first_chunk', 'bool', [1]);
  }

  /** Frames [start, end) of a [b, C, frames, H, W] value. */
  frames(x: string, start: number, end: number): string {
    return this.g.op('Slice', [x, this.g.int64([start]), this.g.int64([end]), this.g.int64([2])]);
  }

  /** The next cache's input, [b, C, 2, H·s, W·s], and the name its output will carry. */
  #cache(layer: string, x: Stream): { input: string; output: string } {
    const i = this.caches.length;
    const [h, w] = sizeNames(x.scale);
    const input = this.g.input(`feat_cache_in.${i}`, this.computeType, ['batch_size', x.channels, CACHE_FRAMES, h, w]);
    const output = `feat_cache_out.${i}`;
    this.caches.push({ layer, channels: x.channels, scale: x.scale, output });
    return { input, output };
  }

  #conv(x: string, prefix: string, weight: string, kernel: readonly [number, number, number], pads: readonly number[]): string {
    const bias = this.b.tensor(`${prefix}.bias`);
    return this.g.op('Conv', [x, weight, bias], { kernel_shape: [...kernel], pads: [...pads], strides: [1, 1, 1] });
  }

  /** WanCausalConv3d with kernel 1: no time extent, no cache (post_quant_conv, conv_shortcut). */
  pointwise(x: Stream, prefix: string, out: number): Stream {
    const w = this.b.tensor(`${prefix}.weight`, [out, x.channels, 1, 1, 1]);
    return { ...x, channels: out, value: this.#conv(x.value, prefix, w, [1, 1, 1], [0, 0, 0, 0, 0, 0]) };
  }

  /**
   * WanCausalConv3d 3×3×3, padding 1: the cache's two frames stand where diffusers pads two zero
   * frames (or puts its cache), space is zero-padded by 1. Its next cache: the last two frames of
   * [cache, input]; on the first chunk, where only frame 0 is real, [cache's last frame, frame 0].
   */
  causalConv(x: Stream, prefix: string, out: number): Stream {
    const g = this.g;
    const { input, output } = this.#cache(prefix, x);
    const history = g.op('Concat', [input, x.value], { axis: 2 });
    const steady = this.frames(history, x.frames, x.frames + CACHE_FRAMES);
    if (x.frames === 1) g.op('Identity', [steady], {}, { outputs: [output] });
    else g.op('Where', [this.first, this.frames(history, 1, 1 + CACHE_FRAMES), steady], {}, { outputs: [output] });
    const w = this.b.tensor(`${prefix}.weight`, [out, x.channels, 3, 3, 3]);
    return { ...x, channels: out, value: this.#conv(history, prefix, w, [3, 3, 3], [0, 1, 1, 0, 1, 1]) };
  }

  /**
   * WanRMS_norm over the channels (`channel_first`): F.normalize(x) · √C · γ, where F.normalize
   * divides by max(‖x‖₂, 1e-12); in float32 for half-precision activations, as diffusers does.
   * Channels are axis 1 of `value`, followed by `trailing` axes that γ ([C]) broadcasts over.
   */
  rmsNorm(value: string, prefix: string, channels: number, trailing: number): string {
    const g = this.g;
    const half = this.computeType !== 'float32';
    const x = half ? castTo(g, value, 'float32') : value;
    const sumSquares = g.op('ReduceSum', [g.op('Mul', [x, x]), g.int64([1])], { keepdims: 1 });
    const eps = half ? g.float32([NORMALIZE_EPS], []) : scalar(g, NORMALIZE_EPS);
    let normalized = g.op('Div', [x, g.op('Max', [g.op('Sqrt', [sumSquares]), eps])]);
    if (half) normalized = castTo(g, normalized, this.computeType);
    const gamma = reshape(g, this.b.tensor(`${prefix}.gamma`, [channels]), [channels, ...Array.from({ length: trailing }, () => 1)]);
    return g.op('Mul', [g.op('Mul', [normalized, scalar(g, Math.sqrt(channels))]), gamma]);
  }

  /** WanResidualBlock: shortcut (1×1×1 conv when the width changes) + conv2(SiLU(norm2(conv1(SiLU(norm1(x)))))); dropout is 0. */
  residual(x: Stream, prefix: string, out: number): Stream {
    const g = this.g;
    const shortcut = x.channels === out ? x : this.pointwise(x, `${prefix}.conv_shortcut`, out);
    let h: Stream = { ...x, value: silu(g, this.rmsNorm(x.value, `${prefix}.norm1`, x.channels, 3)) };
    h = this.causalConv(h, `${prefix}.conv1`, out);
    h = { ...h, value: silu(g, this.rmsNorm(h.value, `${prefix}.norm2`, out, 3)) };
    h = this.causalConv(h, `${prefix}.conv2`, out);
    return { ...h, value: g.op('Add', [h.value, shortcut.value]) };
  }

  /**
   * WanAttentionBlock: per frame, RMS norm, one attention head as wide as the channels over the
   * frame's H·W positions (q, k, v from one 1×1 conv, split in that order), the 1×1 output
   * projection, and the input added back.
   */
  attention(x: Stream, prefix: string): Stream {
    const g = this.g;
    const C = x.channels;
    // [b, C, F, H, W] → per-frame images [b·F, C, H·W] (channels first, as the norm and convs see them).
    const perFrame = transpose(g, x.value, [0, 2, 1, 3, 4]);
    const positions = g.op('ReduceProd', [g.op('Shape', [x.value], { start: 3 })], { keepdims: 1 });
    const images = reshape(g, perFrame, g.op('Concat', [g.int64([-1, C]), positions], { axis: 0 }));
    const normed = this.rmsNorm(images, `${prefix}.norm`, C, 1);
    const tokens = transpose(g, normed, [0, 2, 1]); // [b·F, H·W, C]
    const qkv = this.b.linear(tokens, `${prefix}.to_qkv`, C, 3 * C);
    const [q, k, v] = g.node('Split', [qkv, g.int64([C, C, C])], { axis: 2 }, { outputs: 3 }) as [string, string, string];
    const attended = attention(g, q, k, v, { heads: 1, headDim: C, mode: this.mode });
    const projected = transpose(g, this.b.linear(attended, `${prefix}.proj`, C, C), [0, 2, 1]); // [b·F, C, H·W]
    const back = transpose(g, reshape(g, projected, g.op('Shape', [perFrame])), [0, 2, 1, 3, 4]);
    return { ...x, value: g.op('Add', [back, x.value]) };
  }

  /**
   * WanResample 'upsample3d' / 'upsample2d'. The time conv (causal 3×1×1, C → 2C) gives two frames
   * per input frame: channels [0, C) are frame 2t and [C, 2C) frame 2t+1 (diffusers' reshape to
   * [b, 2, C, t, h, w] and stack on dim 3). Then each frame: nearest ×2 (`nearest-exact`, which at
   * an integer ×2 picks pixel ⌊i/2⌋ as 'asymmetric' + floor does) and a 3×3 conv to half the channels.
   */
  resample(x: Stream, prefix: string, mode: Exclude<WanVaeUpsample, null>): Stream {
    const g = this.g;
    let y = x;
    if (mode === 'upsample3d') {
      const C = x.channels;
      const layer = `${prefix}.time_conv`;
      const { input, output } = this.#cache(layer, x);
      const history = g.op('Concat', [input, x.value], { axis: 2 });
      // First chunk ("Rep"): the cache stays as it came (zeros); after it, the last two frames.
      g.op('Where', [this.first, input, this.frames(history, x.frames, x.frames + CACHE_FRAMES)], {}, { outputs: [output] });
      const w = this.b.tensor(`${layer}.weight`, [2 * C, C, 3, 1, 1]);
      const doubled = this.#conv(history, layer, w, [3, 1, 1], [0, 0, 0, 0, 0, 0]); // [b, 2C, F, H, W]
      const pairs = transpose(g, reshape(g, doubled, [0, 2, C, x.frames, -1]), [0, 2, 3, 1, 4]); // [b, C, F, 2, H·W]
      const size = g.op('Shape', [x.value], { start: 3 });
      const interleaved = reshape(g, pairs, g.op('Concat', [g.int64([0, C, 2 * x.frames]), size], { axis: 0 }));
      const repeated = g.op('Concat', [x.value, x.value], { axis: 2 });
      y = { ...x, frames: 2 * x.frames, value: g.op('Where', [this.first, repeated, interleaved]) };
    }
    const up = g.op('Resize', [y.value, '', g.float32([1, 1, 1, 2, 2])], {
      mode: 'nearest',
      coordinate_transformation_mode: 'asymmetric',
      nearest_mode: 'floor',
    });
    const conv = `${prefix}.resample.1`;
    const out = y.channels / 2;
    const w = this.b.tensor(`${conv}.weight`, [out, y.channels, 1, 3, 3]);
    return { ...y, channels: out, scale: 2 * y.scale, value: this.#conv(up, conv, w, [1, 3, 3], [0, 1, 1, 0, 1, 1]) };
  }
}

/**
 * The weights as the graph reads them, same bytes: the 2-D resample convs as Conv3d with a 1-frame
 * kernel, the attention's 1×1 convs as linear weights, and the RMS norm scales as vectors.
 */
function graphWeights(weights: WeightSet, config: WanVaeDecoderConfig): WeightSet {
  const refs = new Map<string, TensorRef>(weights.refs());
  for (const [name, shape] of Object.entries(wanVaeDecoderWeightShapes(config))) {
    const ref = weights.require(name, shape);
    if (name.endsWith('.gamma')) refs.set(name, reshapedRef(ref, [shape[0]!]));
    else if (/\.resample\.1\.weight$/.test(name)) refs.set(name, reshapedRef(ref, [shape[0]!, shape[1]!, 1, 3, 3]));
    else if (/\.attentions\.0\.(to_qkv|proj)\.weight$/.test(name)) refs.set(name, reshapedRef(ref, [shape[0]!, shape[1]!]));
  }
  return new WeightSet(weights.label, refs);
}

/** The frame-cached decoder graph for `config` (from {@link wanVaeDecoderConfigFromWeights}), weights bound from `weights`. */
export function buildWanVaeDecoder(weights: WeightSet, config: WanVaeDecoderConfig, options: WanVaeDecoderBuildOptions): BuiltWanVaeDecoder {
  const { computeType } = options;
  const g = new GraphBuilder({ name: 'wan21_vae_decoder', floatType: computeType, producerName: 'ourvidz-studio' });
  const b = new WeightBinder(g, graphWeights(weights, config), { computeType, folder: options.folder });
  const d = new FrameCachedDecoder(g, b, options.attention ?? 'plain');

  const latent = g.input('latent_sample', computeType, ['batch_size', config.zDim, 1, 'latent_height', 'latent_width']);
  let x: Stream = { value: latent, channels: config.zDim, scale: 1, frames: 1 };
  x = d.pointwise(x, 'post_quant_conv', config.zDim);
  x = d.causalConv(x, 'decoder.conv_in', config.midChannels);
  x = d.residual(x, 'decoder.mid_block.resnets.0', config.midChannels);
  x = d.attention(x, 'decoder.mid_block.attentions.0');
  x = d.residual(x, 'decoder.mid_block.resnets.1', config.midChannels);
  config.upBlocks.forEach((block, i) => {
    const prefix = `decoder.up_blocks.${i}`;
    for (let r = 0; r <= config.numResBlocks; r++) x = d.residual(x, `${prefix}.resnets.${r}`, block.outChannels);
    if (block.upsample) x = d.resample(x, `${prefix}.upsamplers.0`, block.upsample);
  });
  x = { ...x, value: silu(g, d.rmsNorm(x.value, 'decoder.norm_out', x.channels, 3)) };
  x = d.causalConv(x, 'decoder.conv_out', config.outChannels);

  const [height, width] = sizeNames(x.scale);
  g.output(x.value, 'sample', computeType, ['batch_size', config.outChannels, x.frames, height, width]);
  for (const cache of d.caches) {
    const [h, w] = sizeNames(cache.scale);
    g.output(cache.output, cache.output, computeType, ['batch_size', cache.channels, CACHE_FRAMES, h, w]);
  }
  const caches = d.caches.map(({ layer, channels, scale }) => ({ layer, channels, scale }));
  const expected = wanVaeFrameCaches(config);
  if (JSON.stringify(caches) !== JSON.stringify(expected)) throw new Error('wan vae decoder: the graph built its frame caches in another order than wanVaeFrameCaches lists them');
  return { model: g.build(), caches };
}
