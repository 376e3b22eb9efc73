/**
 * The four graphs of an SDXL model, built from canonical weight sets: sized from the weights (every
 * weight checked on the way), in two variants — float32 with plain ONNX operators, which every
 * provider runs (the CPU included), and float16 with fused attention for GPU providers. The VAE
 * decodes in float32 on every provider unless it is known to be fp16-safe: SDXL's original VAE
 * overflows in fp16 (diffusers' `force_upcast`).
 */
import type { ModelProto } from '../onnx/onnx-proto.ts';
import type { WeightSet } from '../weights/tensor-ref.ts';
import { buildClipText, clipTextConfigFromWeights } from '../architectures/sdxl/clip-text.ts';
import type { ClipTextConfig } from '../architectures/sdxl/clip-text.ts';
import { buildUnet, unetConfigFromWeights } from '../architectures/sdxl/unet.ts';
import type { UnetConfig } from '../architectures/sdxl/unet.ts';
import { buildVaeDecoder, vaeDecoderConfigFromWeights } from '../architectures/sdxl/vae-decoder.ts';
import type { VaeDecoderConfig } from '../architectures/sdxl/vae-decoder.ts';
import { WeightFileError } from '../weights/errors.ts';

/** SDXL base's scheduler (stabilityai/stable-diffusion-xl-base-1.0 scheduler_config.json). */
export const SDXL_SCHEDULER_DEFAULTS: Readonly<Record<string, unknown>> = {
  _class_name: 'EulerDiscreteScheduler',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  interpolation_type: 'linear',
  num_train_timesteps: 1000,
  prediction_type: 'epsilon',
  sample_max_value: 1.0,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  timestep_spacing: 'leading',
  trained_betas: null,
  use_karras_sigmas: false,
};

export interface SdxlWeightSets {
  readonly unet: WeightSet;
  readonly textEncoder: WeightSet;
  readonly textEncoder2: WeightSet;
  readonly vae: WeightSet;
  /** config.json of each component, when the model came as a diffusers folder. */
  readonly configs?: Partial<Record<'unet' | 'textEncoder' | 'textEncoder2' | 'vae', Record<string, unknown>>>;
}

export interface SdxlConfigs {
  readonly unet: UnetConfig;
  readonly textEncoder: ClipTextConfig;
  readonly textEncoder2: ClipTextConfig;
  readonly vae: VaeDecoderConfig;
}

export interface ComponentGraphs {
  readonly weights: WeightSet;
  readonly cpu: ModelProto;
  readonly gpu: ModelProto | null;
}

export interface SdxlGraphs {
  readonly configs: SdxlConfigs;
  /** By the folder names the pipeline loads: text_encoder, text_encoder_2, unet, vae_decoder. */
  readonly components: Readonly<Record<'text_encoder' | 'text_encoder_2' | 'unet' | 'vae_decoder', ComponentGraphs>>;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** Sizes every part from its weights and checks they fit together (the UNet reads both encoders' states). */
export function sdxlConfigs(sets: SdxlWeightSets): SdxlConfigs {
  const cfg = sets.configs ?? {};
  const textEncoder = clipTextConfigFromWeights(sets.textEncoder, {
    slot: 'text_encoder',
    hiddenAct: typeof cfg.textEncoder?.hidden_act === 'string' ? cfg.textEncoder.hidden_act : undefined,
  });
  const textEncoder2 = clipTextConfigFromWeights(sets.textEncoder2, {
    slot: 'text_encoder_2',
    hiddenAct: typeof cfg.textEncoder2?.hidden_act === 'string' ? cfg.textEncoder2.hidden_act : undefined,
  });
  if (textEncoder2.projectionDim === null) {
    throw new WeightFileError('wrong_kind', `${sets.textEncoder2.label} has no text_projection: SDXL's second text encoder gives a pooled, projected embedding`);
  }
  const heads = cfg.unet?.attention_head_dim;
  const unet = unetConfigFromWeights(sets.unet, {
    heads: typeof heads === 'number' || Array.isArray(heads) ? (heads as number | number[]) : undefined,
    addTimeEmbedDim: num(cfg.unet?.addition_time_embed_dim),
    pooledDim: textEncoder2.projectionDim,
  });
  const context = textEncoder.hiddenSize + textEncoder2.hiddenSize;
  if (unet.crossAttentionDim !== context) {
    throw new WeightFileError(
      'wrong_kind',
      `the UNet reads ${unet.crossAttentionDim}-wide text states but the two text encoders give ${textEncoder.hiddenSize} + ${textEncoder2.hiddenSize} = ${context}: the parts are from different models`,
    );
  }
  if (unet.pooledDim !== textEncoder2.projectionDim) {
    throw new WeightFileError('wrong_kind', `the UNet expects a ${unet.pooledDim}-wide pooled text embedding, the second text encoder gives ${textEncoder2.projectionDim}: the parts are from different models`);
  }
  const groups = num(cfg.vae?.norm_num_groups);
  const vae = vaeDecoderConfigFromWeights(sets.vae, groups ? { normGroups: groups } : {});
  if (vae.latentChannels !== unet.inChannels) {
    throw new WeightFileError('wrong_kind', `the VAE decodes ${vae.latentChannels}-channel latents, the UNet makes ${unet.inChannels}: choose an SDXL VAE`);
  }
  return { unet, textEncoder, textEncoder2, vae };
}

export interface BuildOptions {
  /** Decode in fp32 on every provider (SDXL's VAE overflows in fp16). */
  readonly forceUpcastVae: boolean;
  readonly variants: readonly ('cpu' | 'gpu')[];
  /** The folder each weight set's files live in (the session's external-data folder). */
  readonly folderOf: (set: WeightSet) => string;
}

export function buildSdxlGraphs(sets: SdxlWeightSets, options: BuildOptions): SdxlGraphs {
  const configs = sdxlConfigs(sets);
  const gpu = options.variants.includes('gpu');
  const te = (set: WeightSet, config: ClipTextConfig): ComponentGraphs => {
    const folder = options.folderOf(set);
    return {
      weights: set,
      cpu: buildClipText(set, config, { computeType: 'float32', attention: 'plain', folder }),
      gpu: gpu ? buildClipText(set, config, { computeType: 'float16', attention: 'fused', folder }) : null,
    };
  };
  const unetFolder = options.folderOf(sets.unet);
  const vaeFolder = options.folderOf(sets.vae);
  return {
    configs,
    components: {
      text_encoder: te(sets.textEncoder, configs.textEncoder),
      text_encoder_2: te(sets.textEncoder2, configs.textEncoder2),
      unet: {
        weights: sets.unet,
        cpu: buildUnet(sets.unet, configs.unet, { computeType: 'float32', attention: 'plain', folder: unetFolder }),
        gpu: gpu ? buildUnet(sets.unet, configs.unet, { computeType: 'float16', attention: 'fused', folder: unetFolder }) : null,
      },
      vae_decoder: {
        weights: sets.vae,
        cpu: buildVaeDecoder(sets.vae, configs.vae, { computeType: 'float32', attention: 'plain', folder: vaeFolder }),
        // fp32 with fused attention on GPUs (the 1×512 attention is the VAE's memory peak), fp16 only when safe.
        gpu: gpu ? buildVaeDecoder(sets.vae, configs.vae, { computeType: options.forceUpcastVae ? 'float32' : 'float16', attention: 'fused', folder: vaeFolder }) : null,
      },
    },
  };
}
