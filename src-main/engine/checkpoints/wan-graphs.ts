/**
 * The three graphs of a WAN 2.1 T2V model, built from its parts' canonical weights (wan-sets.ts
 * `readWanParts`) in the layout the WAN pipeline loads (docs/models.md "WAN 2.1 T2V"), each in two
 * variants:
 *
 * - `model.onnx`: float32 with plain ONNX operators — every provider runs it, the CPU included;
 * - `model.gpu.onnx`: for GPU providers, with onnxruntime's fused attention. The transformer and
 *   the UMT5 encoder compute in float16 (the encoder keeps its residual stream, `wo` and the
 *   position biases in float32 as transformers does — umt5.ts); the VAE decoder stays float32
 *   (diffusers' WanPipeline decodes in float32; the decoder's caches and its upsampling path are
 *   where half precision drifts), with the fused mid-block attention.
 *
 * Stored precisions are converted inside the graphs as they load (bf16 → the compute type; fp8
 * e4m3 × `scale_weight` → float32 then the compute type — onnx/weights.ts), so the weights stay in
 * the user's files.
 */
import type { ComputeType } from '../onnx/weights.ts';
import type { WeightSet } from '../weights/tensor-ref.ts';
import { buildWanTransformer } from '../architectures/wan/transformer.ts';
import { buildUmt5Encoder, umt5ConfigFromWeights } from '../architectures/wan/umt5.ts';
import type { Umt5Config } from '../architectures/wan/umt5.ts';
import { buildWanVaeDecoder, wanVaeDecoderConfigFromWeights, wanVaeDecoderConfigJson } from '../architectures/wan/vae-decoder.ts';
import type { WanVaeDecoderConfig } from '../architectures/wan/vae-decoder.ts';
import { WeightFileError } from '../weights/errors.ts';
import type { ComponentGraphs } from './prepare-common.ts';
import type { WanParts } from './wan-sets.ts';

export type WanComponentName = 'text_encoder' | 'transformer' | 'vae_decoder';

export interface WanGraphs {
  readonly components: Readonly<Record<WanComponentName, ComponentGraphs>>;
  readonly umt5: Umt5Config;
  readonly vae: WanVaeDecoderConfig;
  /** vae_decoder/config.json for the frame-cached graph (latent statistics, feat_cache_scale). */
  readonly vaeConfigJson: Record<string, unknown>;
}

export interface WanBuildOptions {
  readonly variants: readonly ('cpu' | 'gpu')[];
  /** The folder each weight set's files live in (the session's external-data folder). */
  readonly folderOf: (set: WeightSet) => string;
}

/** The compute type of each component's GPU graph (the CPU graph is float32 throughout). */
export const WAN_GPU_COMPUTE: Readonly<Record<WanComponentName, ComputeType>> = { text_encoder: 'float16', transformer: 'float16', vae_decoder: 'float32' };

export function buildWanGraphs(parts: WanParts, options: WanBuildOptions): WanGraphs {
  const gpu = options.variants.includes('gpu');
  const umt5 = umt5ConfigFromWeights(parts.textEncoder);
  if (umt5.dModel !== parts.transformerConfig.textDim) {
    throw new WeightFileError('wrong_kind', `the transformer reads ${parts.transformerConfig.textDim}-wide text states but the text encoder gives ${umt5.dModel}-wide ones: they belong to different models`);
  }
  const vae = wanVaeDecoderConfigFromWeights(parts.vae);

  const tFolder = options.folderOf(parts.transformer);
  const xFolder = options.folderOf(parts.textEncoder);
  const vFolder = options.folderOf(parts.vae);
  const transformer = (computeType: ComputeType, attention: 'plain' | 'fused') => buildWanTransformer(parts.transformer, parts.transformerConfig, { computeType, attention, folder: tFolder });
  const text = (computeType: ComputeType, attention: 'plain' | 'fused') => buildUmt5Encoder(parts.textEncoder, umt5, { computeType, attention, folder: xFolder });
  const decoder = (computeType: ComputeType, attention: 'plain' | 'fused') => buildWanVaeDecoder(parts.vae, vae, { computeType, attention, folder: vFolder }).model;
  return {
    umt5,
    vae,
    vaeConfigJson: wanVaeDecoderConfigJson(vae),
    components: {
      text_encoder: { weights: parts.textEncoder, cpu: text('float32', 'plain'), gpu: gpu ? text(WAN_GPU_COMPUTE.text_encoder, 'fused') : null },
      transformer: { weights: parts.transformer, cpu: transformer('float32', 'plain'), gpu: gpu ? transformer(WAN_GPU_COMPUTE.transformer, 'fused') : null },
      vae_decoder: { weights: parts.vae, cpu: decoder('float32', 'plain'), gpu: gpu ? decoder(WAN_GPU_COMPUTE.vae_decoder, 'fused') : null },
    },
  };
}
