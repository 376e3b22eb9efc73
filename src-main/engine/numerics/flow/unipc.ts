/**
 * diffusers `UniPCMultistepScheduler` (scheduling_unipc_multistep.py, commit 58eb52c) in flow
 * mode, as WanPipeline runs it: prediction_type "flow_prediction", use_flow_sigmas, predict_x0,
 * the B(h) predictor UniP and corrector UniC of Zhao et al. 2023 ("UniPC", arXiv:2302.04867,
 * Algorithms 1–3 in data-prediction form) with α = 1 − σ for rectified flow. The schedule is
 * numpy float64, the steps torch float32, each operation in diffusers' order.
 */

import { logF, npLinspace } from '../schedulers/noise-schedule.ts';
import { checkStepArgs, checkStepCount } from '../schedulers/types.ts';
import type { FlowSchedulerConfig } from './config.ts';
import { solveF32 } from './linear-solve.ts';
import type { FlowSamplerName, FlowScheduler } from './types.ts';

const f = Math.fround;

interface AlphaSigma {
  alpha: number;
  sigma: number;
  lambda: number;
}

/** `_sigma_to_alpha_sigma_t` for flow sigmas, and λ = log α − log σ (float32; +inf at σ = 0). */
function alphaSigma(sigma: number): AlphaSigma {
  const alpha = f(1 - sigma);
  return { alpha, sigma, lambda: f(logF(alpha) - logF(sigma)) };
}

/** `torch.pow(r, p)` for a small integer p (torch computes p = 2 as r·r). */
function powF32(r: number, p: number): number {
  let out = 1;
  for (let k = 0; k < p; k++) out = k === 0 ? r : f(out * r);
  return out;
}

/** What the predictor and corrector share: their B(h) coefficients and the linear system R·ρ = b. */
interface Coefficients {
  /** σ_t / σ_s0, α_t·hφ₁(h), α_t·B(h): the first-order update x_t = c₁·x − c₂·m₀ − c₃·(…). */
  c1: number;
  c2: number;
  c3: number;
  /** r_k = (λ_{s_k} − λ_{s0}) / h for the older outputs. */
  rks: number[];
  R: number[][];
  b: number[];
}

/**
 * The part of `multistep_uni_p_bh_update` / `multistep_uni_c_bh_update` before the latents are
 * touched, for a step from σ[s0] to σ[t] using `order` outputs whose σ indices are `older`.
 */
function coefficients(
  sigmas: Float32Array,
  t: number,
  s0: number,
  older: readonly number[],
  order: number,
  solverType: 'bh1' | 'bh2',
): Coefficients {
  const at = alphaSigma(sigmas[t]!);
  const as0 = alphaSigma(sigmas[s0]!);
  const h = f(at.lambda - as0.lambda);
  const rks = older.map((si) => f(f(alphaSigma(sigmas[si]!).lambda - as0.lambda) / h));
  const rksWithOne = [...rks, 1];
  const hh = -h; // predict_x0
  const hPhi1 = f(Math.expm1(hh));
  let hPhiK = f(f(hPhi1 / hh) - 1);
  const bh = solverType === 'bh1' ? hh : f(Math.expm1(hh));
  const R: number[][] = [];
  const b: number[] = [];
  let factorial = 1;
  for (let i = 1; i <= order; i++) {
    R.push(rksWithOne.map((r) => powF32(r, i - 1)));
    b.push(f(f(hPhiK * factorial) / bh));
    factorial *= i + 1;
    hPhiK = f(f(hPhiK / hh) - f(1 / factorial));
  }
  return { c1: f(at.sigma / as0.sigma), c2: f(at.alpha * hPhi1), c3: f(at.alpha * bh), rks, R, b };
}

export class UniPCMultistepScheduler implements FlowScheduler {
  readonly sampler: FlowSamplerName = 'unipc';
  readonly config: FlowSchedulerConfig;
  timesteps: readonly number[] = [];
  sigmas = new Float32Array(0);
  readonly initNoiseSigma = 1;
  /** Converted model outputs (x0 predictions), oldest first, at most solver_order. */
  private history: Float32Array[] = [];
  /** The sample the previous predictor started from (for the corrector). */
  private lastSample: Float32Array | undefined;
  private lastOrder = 1;
  private lowerOrderNums = 0;
  private nextStep = 0;

  constructor(config: FlowSchedulerConfig) {
    this.config = config;
  }

  setTimesteps(steps: number): void {
    const { num_train_timesteps: n, flow_shift: shift } = this.config;
    checkStepCount(steps, n);
    // set_timesteps with use_flow_sigmas, in float64: linspace(1, 1/N, steps + 1)[:-1], shifted
    const base = npLinspace(1, 1 / n, steps + 1);
    const sigmas = new Float64Array(steps);
    for (let i = 0; i < steps; i++) sigmas[i] = (shift * base[i]!) / (1 + (shift - 1) * base[i]!);
    // keeps log(α) = log(1 − σ) finite at the first step
    if (Math.abs(sigmas[0]! - 1) < 1e-6) sigmas[0] = sigmas[0]! - 1e-6;
    const all = new Float32Array(steps + 1);
    all.set(sigmas);
    all[steps] = this.config.final_sigmas_type === 'sigma_min' ? sigmas[steps - 1]! : 0;
    // float64 σ·N cast to int64 (truncation)
    this.timesteps = Array.from(sigmas, (s) => Math.trunc(s * n));
    this.sigmas = all;
    this.reset();
  }

  private reset(): void {
    this.history = [];
    this.lastSample = undefined;
    this.lastOrder = 1;
    this.lowerOrderNums = 0;
    this.nextStep = 0;
  }

  /** Flow matching needs no input scaling: returns a copy of `sample`. */
  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array {
    checkStepArgs(this.timesteps.length, stepIndex, sample);
    return sample.slice();
  }

  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array): Float32Array {
    const steps = this.timesteps.length;
    checkStepArgs(steps, stepIndex, sample, modelOutput);
    if (stepIndex === 0) this.reset();
    else if (stepIndex !== this.nextStep) {
      throw new Error(`UniPC steps must run in order: expected step ${this.nextStep}, got ${stepIndex}`);
    }
    if (this.lastSample !== undefined && this.lastSample.length !== sample.length) {
      throw new RangeError('the sample changed shape between steps');
    }
    const { solver_order: solverOrder, lower_order_final: lowerOrderFinal } = this.config;

    // convert_model_output, flow_prediction: x0 = x − σ·v (from the uncorrected sample)
    const sigma = this.sigmas[stepIndex]!;
    const x0 = new Float32Array(sample.length);
    for (let i = 0; i < x0.length; i++) x0[i] = sample[i]! - f(sigma * modelOutput[i]!);

    let x = sample;
    if (stepIndex > 0 && this.lastSample !== undefined && !this.config.disable_corrector.includes(stepIndex - 1)) {
      x = this.correct(x0, this.lastSample, stepIndex, this.lastOrder);
    }

    this.history.push(x0);
    if (this.history.length > solverOrder) this.history.shift();
    const wanted = lowerOrderFinal ? Math.min(solverOrder, steps - stepIndex) : solverOrder;
    const order = Math.min(wanted, this.lowerOrderNums + 1); // warm-up: no more outputs than exist
    this.lastOrder = order;
    this.lastSample = x === sample ? sample.slice() : x; // the caller may reuse its buffer
    const out = this.predict(x, stepIndex, order);
    this.lowerOrderNums = Math.min(this.lowerOrderNums + 1, solverOrder);
    this.nextStep = stepIndex + 1;
    return out;
  }

  /** `multistep_uni_p_bh_update`: from σ[i] to σ[i + 1] with the newest `order` x0 predictions. */
  private predict(x: Float32Array, i: number, order: number): Float32Array {
    const hist = this.history;
    const m0 = hist[hist.length - 1]!;
    const older = Array.from({ length: order - 1 }, (_, k) => i - (k + 1));
    const c = coefficients(this.sigmas, i + 1, i, older, order, this.config.solver_type);
    // order 2 uses ρ = 0.5 (diffusers' simplification); order 3 solves the leading 2×2 system
    const rhos =
      order === 1
        ? []
        : order === 2
          ? [0.5]
          : solveF32(c.R.slice(0, -1).map((row) => row.slice(0, -1)), c.b.slice(0, -1), 'strided');
    const olderOutputs = older.map((_, k) => hist[hist.length - 2 - k]!);
    const out = new Float32Array(x.length);
    for (let e = 0; e < out.length; e++) {
      const base = f(f(c.c1 * x[e]!) - f(c.c2 * m0[e]!));
      if (rhos.length === 0) {
        out[e] = base;
        continue;
      }
      let res = 0;
      for (let k = 0; k < rhos.length; k++) {
        const d1 = f(f(olderOutputs[k]![e]! - m0[e]!) / c.rks[k]!);
        const term = f(rhos[k]! * d1);
        res = k === 0 ? term : f(res + term);
      }
      out[e] = base - f(c.c3 * res);
    }
    return out;
  }

  /**
   * `multistep_uni_c_bh_update`: redoes the step from σ[i − 1] to σ[i] that produced `sample`,
   * now also using the model output at σ[i] (`x0`), with the previous step's order.
   */
  private correct(x0: Float32Array, lastSample: Float32Array, i: number, order: number): Float32Array {
    const hist = this.history; // not yet holding x0: the newest entry is step i − 1's
    const m0 = hist[hist.length - 1]!;
    const older = Array.from({ length: order - 1 }, (_, k) => i - (k + 2));
    const c = coefficients(this.sigmas, i, i - 1, older, order, this.config.solver_type);
    const rhos = order === 1 ? [0.5] : solveF32(c.R, c.b);
    const rhoT = rhos[rhos.length - 1]!;
    const olderOutputs = older.map((_, k) => hist[hist.length - 2 - k]!);
    const out = new Float32Array(x0.length);
    for (let e = 0; e < out.length; e++) {
      const base = f(f(c.c1 * lastSample[e]!) - f(c.c2 * m0[e]!));
      let res = f(rhoT * f(x0[e]! - m0[e]!));
      if (olderOutputs.length > 0) {
        let corr = 0;
        for (let k = 0; k < olderOutputs.length; k++) {
          const d1 = f(f(olderOutputs[k]![e]! - m0[e]!) / c.rks[k]!);
          const term = f(rhos[k]! * d1);
          corr = k === 0 ? term : f(corr + term);
        }
        res = f(corr + res);
      }
      out[e] = base - f(c.c3 * res);
    }
    return out;
  }
}
