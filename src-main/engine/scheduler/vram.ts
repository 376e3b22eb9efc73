/**
 * VRAM planning. Weights are estimated from the ONNX files on disk (fp16 exports store 2 bytes a
 * parameter, fp32 four — the file size is what the session allocates), plus the working memory of
 * one image or video at the job's size. Figures for activations follow the OurVidz worker's
 * observed peaks (SDXL ≈ 1.2 GB per 1024² image in the UNet at fp16; WAN 1.3B ≈ 2.5 GB for 17 frames
 * at 480×832); they are deliberately generous so a plan that fits really fits.
 */
import type { JobParams, ModelFamily } from '../../../src-preload/contract/catalog.ts';

export interface VramNeed {
  /** Memory the model's sessions hold while loaded. */
  readonly weightsMb: number;
  /** Working memory for one image (SDXL) or one whole clip (WAN). */
  readonly perItemMb: number;
}

const MB = 1024 * 1024;

export function estimateNeed(family: ModelFamily, modelBytes: number, params: JobParams): VramNeed {
  const weightsMb = Math.ceil((modelBytes * 1.1) / MB);
  const megapixels = (params.width * params.height) / (1024 * 1024);
  if (family === 'sdxl') return { weightsMb, perItemMb: Math.ceil(1200 * megapixels) + 64 };
  const latentFrames = (params.frames - 1) / 4 + 1;
  return { weightsMb, perItemMb: Math.ceil(600 * megapixels * latentFrames) + 256 };
}

/**
 * How many images of a batch run together: as many as fit beside the weights (and beside what other
 * resident models hold), at least one, at most the job's count.
 */
export function chooseBatch(need: VramNeed, freeMb: number, count: number): number {
  const room = freeMb - need.weightsMb;
  return Math.max(1, Math.min(count, Math.floor(room / need.perItemMb)));
}

export function totalFor(need: VramNeed, batch: number): number {
  return need.weightsMb + need.perItemMb * batch;
}
