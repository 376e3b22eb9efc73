/**
 * The training noise schedule and the inference timestep / sigma selection shared by the Euler
 * and DPM-Solver schedulers, reproducing diffusers (scheduling_euler_discrete.py,
 * scheduling_dpmsolver_multistep.py, commit 58eb52c) including where it computes in float32
 * (torch tensors) and where in float64 (numpy): at the small sigmas of an SDXL schedule one
 * float32 ulp of alphas_cumprod moves sigma by ~2e-5, so the precision of each step matters.
 */

import { fmaF32, sqrtF32 } from '../float32.ts';
import type { SchedulerConfig } from './config.ts';

const f = Math.fround;

/**
 * `torch.linspace(start, end, n, dtype=float32)` on the CPU (aten/src/ATen/native/cpu/
 * RangeFactoriesKernel.cpp, torch >= 2.0): float step `(end - start) / (n - 1)`; the first
 * half counts up from start, the second half down from end, each as one multiply-add (the x86
 * build contracts `start + step * i` into an FMA). torch 1.13 filled 8-wide vectors instead;
 * its betas differ in the last bit for some indices, which moves sigmas by < 3e-7 relative.
 */
export function torchLinspaceF32(start: number, end: number, n: number): Float32Array {
  const out = new Float32Array(n);
  const s = f(start);
  const e = f(end);
  if (n === 1) {
    out[0] = s;
    return out;
  }
  const step = f(f(e - s) / (n - 1));
  const halfway = Math.floor(n / 2);
  for (let i = 0; i < n; i++) {
    out[i] = i < halfway ? fmaF32(step, i, s) : fmaF32(-step, n - i - 1, e);
  }
  return out;
}

/** diffusers `betas_for_alpha_bar` (cosine), computed in float64 and stored as float32. */
function cosineBetas(n: number): Float32Array {
  const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999);
  }
  return out;
}

/** `torch.cumprod` of float32 on the CPU: the running product is kept in double. */
function cumprodF32(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  let acc = 1;
  for (let i = 0; i < values.length; i++) {
    acc *= values[i]!;
    out[i] = acc;
  }
  return out;
}

/** diffusers `rescale_zero_terminal_snr` (Lin et al. 2023, Algorithm 1), in float32 tensor ops. */
function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const n = betas.length;
  const alphas = betas.map((b) => f(1 - b));
  const sqrtBar = cumprodF32(alphas).map((a) => sqrtF32(a));
  const first = sqrtBar[0]!;
  const last = sqrtBar[n - 1]!;
  const scale = f(first / f(first - last));
  const bar = sqrtBar.map((v) => {
    const shifted = f(f(v - last) * scale);
    return f(shifted * shifted);
  });
  const out = new Float32Array(n);
  out[0] = f(1 - bar[0]!);
  for (let i = 1; i < n; i++) out[i] = f(1 - f(bar[i]! / bar[i - 1]!));
  return out;
}

/** `alphas_cumprod` of the training schedule, float32, as the scheduler constructors build it. */
export function alphasCumprod(config: SchedulerConfig): Float32Array {
  const n = config.num_train_timesteps;
  let betas: Float32Array;
  if (config.trained_betas !== null) {
    betas = Float32Array.from(config.trained_betas);
  } else if (config.beta_schedule === 'linear') {
    betas = torchLinspaceF32(config.beta_start, config.beta_end, n);
  } else if (config.beta_schedule === 'scaled_linear') {
    betas = torchLinspaceF32(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), n).map((b) => f(b * b));
  } else {
    betas = cosineBetas(n);
  }
  if (config.rescale_betas_zero_snr) betas = rescaleZeroTerminalSnr(betas);
  const ac = cumprodF32(betas.map((b) => f(1 - b)));
  if (config.rescale_betas_zero_snr) ac[n - 1] = 2 ** -24;
  return ac;
}

/** `((1 - alphas_cumprod) / alphas_cumprod) ** 0.5` in float32: sigma for every training step. */
export function trainingSigmas(ac: Float32Array): Float32Array {
  return ac.map((a) => sqrtF32(f(f(1 - a) / a)));
}

/** numpy `np.round`: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** `np.linspace(start, stop, num)` in float64: `i * step + start`, the last value exactly stop. */
export function npLinspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  // numpy: a single sample is just `start` (div would be 0 and the step NaN).
  if (num === 1) {
    out[0] = start;
    return out;
  }
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  for (let i = 0; i < num; i++) out[i] = (step === 0 ? (i / div) * delta : i * step) + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

/**
 * `np.arange(start, stop, step)` for a float step: length `ceil((stop - start) / step)`, values
 * `start + i * delta` with `delta = (start + step) - start` (numpy's DOUBLE_fill).
 */
export function npArange(start: number, stop: number, step: number): Float64Array {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const out = new Float64Array(length);
  if (length === 0) return out;
  out[0] = start;
  if (length > 1) out[1] = start + step;
  const delta = start + step - start;
  for (let i = 2; i < length; i++) out[i] = start + i * delta;
  return out;
}

/** `np.interp(x, arange(len(fp)), fp)` in float64. */
export function npInterpIndex(x: number, fp: ArrayLike<number>): number {
  const last = fp.length - 1;
  if (x <= 0) return fp[0]!;
  if (x >= last) return fp[last]!;
  const j = Math.floor(x);
  if (j === x) return fp[j]!;
  const slope = (fp[j + 1]! - fp[j]!) / 1;
  return slope * (x - j) + fp[j]!;
}

/**
 * diffusers `_sigma_to_t`: the fractional training timestep whose log-sigma matches, by linear
 * interpolation between the neighbouring entries of `logSigmas` (float32, ascending).
 */
export function sigmaToT(sigma: number, logSigmas: Float32Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  // low_idx = argmax(cumsum(dists >= 0)): the first index at which the running count peaks
  let count = 0;
  let best = -1;
  let lowIdx = 0;
  for (let j = 0; j < logSigmas.length; j++) {
    if (logSigma - logSigmas[j]! >= 0) count++;
    if (count > best) {
      best = count;
      lowIdx = j;
    }
  }
  lowIdx = Math.min(lowIdx, logSigmas.length - 2);
  const highIdx = lowIdx + 1;
  const low = logSigmas[lowIdx]!;
  const high = logSigmas[highIdx]!;
  // low - high is a float32 - float32 numpy subtraction; the rest is float64
  let w = (low - logSigma) / f(low - high);
  w = Math.min(Math.max(w, 0), 1);
  return (1 - w) * lowIdx + w * highIdx;
}

/**
 * Karras et al. 2022 (EDM) eq. 5 with rho = 7, as diffusers `_convert_to_karras`: n sigmas from
 * sigmaMax down to sigmaMin, evenly spaced in sigma^(1/rho).
 */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number): Float64Array {
  const rho = 7.0;
  const ramp = n === 1 ? Float64Array.of(0) : npLinspace(0, 1, n);
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  return ramp.map((r) => (maxInvRho + r * (minInvRho - maxInvRho)) ** rho);
}

/** `np.log` of a float32 array: float32 results. */
export function logF32(values: Float32Array): Float32Array {
  return values.map((v) => f(Math.log(v)));
}

/** `torch.log` of a float32 value. */
export function logF(x: number): number {
  return f(Math.log(x));
}

/** `torch.exp` of a float32 value. */
export function expF(x: number): number {
  return f(Math.exp(x));
}
