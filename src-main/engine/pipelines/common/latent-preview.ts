/**
 * Live previews: a fast linear map from latent channels to RGB, no VAE. Factors for SDXL's 4-channel
 * latent space are ComfyUI's (comfy/latent_formats.py, SDXL.latent_rgb_factors and _bias); the map is
 * rgb = Σ_c latent[c]·F[c] + bias, shown as ((rgb + 1) / 2) clamped to [0, 1].
 */
import { encodePng } from '../../media/png.ts';

export interface LatentRgbFactors {
  readonly factors: readonly (readonly [number, number, number])[];
  readonly bias: readonly [number, number, number];
}

export const SDXL_LATENT_RGB: LatentRgbFactors = {
  factors: [
    [0.3651, 0.4232, 0.4341],
    [-0.2533, -0.0042, 0.1068],
    [0.1076, 0.1111, -0.0362],
    [-0.3165, -0.2492, -0.2188],
  ],
  bias: [0.1084, -0.0175, -0.0011],
};

/**
 * A PNG grid of the batch's current latents (NCHW [n, C, h, w], one tile per image, up to 3 across),
 * at latent resolution — 128×128 per SDXL image at 1024² — or sampled every `stride` latent pixels
 * (a 64-px tile is plenty for a card's preview and a quarter of the work, every step).
 */
export function latentPreviewPng(
  latents: Float32Array,
  n: number,
  channels: number,
  h: number,
  w: number,
  map: LatentRgbFactors,
  stride = 1,
): Uint8Array {
  const cols = Math.min(3, n);
  const rows = Math.ceil(n / cols);
  const tw = Math.ceil(w / stride);
  const th = Math.ceil(h / stride);
  const width = cols * tw;
  const height = rows * th;
  const rgb = new Uint8Array(width * height * 3);
  const plane = h * w;
  for (let i = 0; i < n; i++) {
    const ox = (i % cols) * tw;
    const oy = Math.floor(i / cols) * th;
    const base = i * channels * plane;
    for (let t = 0; t < tw * th; t++) {
      const tx = t % tw;
      const ty = Math.floor(t / tw);
      const p = ty * stride * w + tx * stride;
      let r = map.bias[0];
      let g = map.bias[1];
      let b = map.bias[2];
      for (let c = 0; c < Math.min(channels, map.factors.length); c++) {
        const v = latents[base + c * plane + p]!;
        const f = map.factors[c]!;
        r += v * f[0];
        g += v * f[1];
        b += v * f[2];
      }
      const x = ox + tx;
      const y = oy + ty;
      const o = (y * width + x) * 3;
      rgb[o] = Math.round(Math.min(1, Math.max(0, (r + 1) / 2)) * 255);
      rgb[o + 1] = Math.round(Math.min(1, Math.max(0, (g + 1) / 2)) * 255);
      rgb[o + 2] = Math.round(Math.min(1, Math.max(0, (b + 1) / 2)) * 255);
    }
  }
  return encodePng({ width, height, channels: 3, data: rgb }, { compressionLevel: 1, filter: 'none' });
}
