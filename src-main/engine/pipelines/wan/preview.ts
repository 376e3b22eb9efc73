/**
 * Live previews for WAN: the middle latent frame of the current clean-image estimate, mapped
 * linearly from WAN 2.1's 16 latent channels to RGB. The factors are ComfyUI's
 * (comfy/latent_formats.py, `Wan21.latent_rgb_factors` and `latent_rgb_factors_bias`), fitted for
 * the normalised latents the transformer works in — the space used here. Like ComfyUI, the preview
 * shows the predicted x0 (for flow matching x0 = x_t − σ_t · v), not the noisy sample, so the picture
 * is recognisable from the first step.
 */
import type { LatentRgbFactors } from '../common/latent-preview.ts';
import { latentPreviewPng } from '../common/latent-preview.ts';
import { WAN_LATENT_CHANNELS } from '../../models/wan-validator.ts';

export const WAN21_LATENT_RGB: LatentRgbFactors = {
  factors: [
    [-0.1299, -0.1692, 0.2932],
    [0.0671, 0.0406, 0.0442],
    [0.3568, 0.2548, 0.1747],
    [0.0372, 0.2344, 0.142],
    [0.0313, 0.0189, -0.0328],
    [0.0296, -0.0956, -0.0665],
    [-0.3477, -0.4059, -0.2925],
    [0.0166, 0.1902, 0.1975],
    [-0.0412, 0.0267, -0.1364],
    [-0.1293, 0.074, 0.1636],
    [0.068, 0.3019, 0.1128],
    [0.0032, 0.0581, 0.0639],
    [-0.1251, 0.0927, 0.1699],
    [0.006, -0.0633, 0.0005],
    [0.3477, 0.2275, 0.295],
    [0.1984, 0.0913, 0.1861],
  ],
  bias: [-0.1835, -0.0868, -0.336],
};

/**
 * A PNG of latent frame ⌊T/2⌋ of x0 = sample − σ·velocity, at latent resolution (60×104 for a
 * 480×832 job). `sample` and `velocity` are [16, T, h, w].
 */
export function wanPreviewPng(sample: Float32Array, velocity: Float32Array, sigma: number, frames: number, h: number, w: number): Uint8Array {
  const plane = h * w;
  const mid = Math.floor(frames / 2);
  const x0 = new Float32Array(WAN_LATENT_CHANNELS * plane);
  for (let c = 0; c < WAN_LATENT_CHANNELS; c++) {
    const src = (c * frames + mid) * plane;
    for (let p = 0; p < plane; p++) x0[c * plane + p] = sample[src + p]! - sigma * velocity[src + p]!;
  }
  return latentPreviewPng(x0, 1, WAN_LATENT_CHANNELS, h, w, WAN21_LATENT_RGB);
}
