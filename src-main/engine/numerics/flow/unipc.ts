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
  /**
   * Buffers of finished history entries and samples, reused for the next step's: a step then
   * allocates only the array it returns, and a long run makes less garbage for the collector.
   */
  private spare: Float32Array[] = [];
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
    for (const buffer of this.history) this.recycle(buffer);
    if (this.lastSample !== undefined) this.recycle(this.lastSample);
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
    const lastSample = this.lastSample;
    if (lastSample !== undefined && lastSample.length !== sample.length) {
      throw new RangeError('the sample changed shape between steps');
    }
    const { solver_order: solverOrder, lower_order_final: lowerOrderFinal } = this.config;
    const hist = this.history;

    // The corrector (`multistep_uni_c_bh_update`) redoes the step from σ[i − 1] to σ[i] that
    // produced `sample`, now also using the model output at σ[i], with the previous step's
    // order; it reads the history before this step's x0 joins it.
    const corrector =
      stepIndex > 0 && lastSample !== undefined && !this.config.disable_corrector.includes(stepIndex - 1)
        ? this.correctorTerms(stepIndex, this.lastOrder)
        : null;

    // convert_model_output, flow_prediction: x0 = x − σ·v (from the uncorrected sample), filled below
    const x0 = this.buffer(sample.length);
    hist.push(x0);
    const evicted = hist.length > solverOrder ? hist.shift() : undefined;
    const wanted = lowerOrderFinal ? Math.min(solverOrder, steps - stepIndex) : solverOrder;
    const order = Math.min(wanted, this.lowerOrderNums + 1); // warm-up: no more outputs than exist
    // The predictor (`multistep_uni_p_bh_update`): from σ[i] to σ[i + 1] with the newest `order` x0 predictions.
    const predictor = this.predictorTerms(stepIndex, order);

    // the corrected sample, kept for the next step's corrector (a copy of `sample` when there is
    // no correction: the caller may reuse its buffer)
    const corrected = this.buffer(sample.length);
    convertAndCorrect(sample, modelOutput, this.sigmas[stepIndex]!, x0, corrector, lastSample, corrected);
    const out = new Float32Array(sample.length);
    predict(corrected, x0, predictor, out);

    // both were read above for the last time
    if (evicted !== undefined) this.recycle(evicted);
    if (lastSample !== undefined) this.recycle(lastSample);
    this.lastOrder = order;
    this.lastSample = corrected;
    this.lowerOrderNums = Math.min(this.lowerOrderNums + 1, solverOrder);
    this.nextStep = stepIndex + 1;
    return out;
  }

  /** A buffer of `length` floats whose contents will all be overwritten. */
  private buffer(length: number): Float32Array {
    const spare = this.spare.pop();
    return spare !== undefined && spare.length === length ? spare : new Float32Array(length);
  }

  private recycle(buffer: Float32Array): void {
    if (this.spare.length < 2) this.spare.push(buffer);
  }

  /** The predictor's coefficients for the step from σ[i] to σ[i + 1]; call after x0 joined the history. */
  private predictorTerms(i: number, order: number): Terms {
    const hist = this.history;
    const older = Array.from({ length: order - 1 }, (_, k) => i - (k + 1));
    const c = coefficients(this.sigmas, i + 1, i, older, order, this.config.solver_type);
    // order 2 uses ρ = 0.5 (diffusers' simplification); order 3 solves the leading 2×2 system
    const rhos =
      order === 1
        ? []
        : order === 2
          ? [0.5]
          : solveF32(c.R.slice(0, -1).map((row) => row.slice(0, -1)), c.b.slice(0, -1), 'strided');
    return terms(c, rhos, 0, hist[hist.length - 1]!, older.map((_, k) => hist[hist.length - 2 - k]!));
  }

  /** The corrector's coefficients for the step from σ[i − 1] to σ[i]; call before x0 joins the history. */
  private correctorTerms(i: number, order: number): Terms {
    const hist = this.history; // the newest entry is step i − 1's
    const older = Array.from({ length: order - 1 }, (_, k) => i - (k + 2));
    const c = coefficients(this.sigmas, i, i - 1, older, order, this.config.solver_type);
    const rhos = order === 1 ? [0.5] : solveF32(c.R, c.b);
    return terms(c, rhos, rhos[rhos.length - 1]!, hist[hist.length - 1]!, older.map((_, k) => hist[hist.length - 2 - k]!));
  }
}

/** What the per-element loops of a predictor or corrector read. */
interface Terms {
  /** 1 + the number of older outputs used (0, 1 or 2). */
  readonly order: number;
  /** x_t = c₁·x − c₂·m₀ − c₃·(…), see `Coefficients`. */
  readonly c1: number;
  readonly c2: number;
  readonly c3: number;
  /** ρ_T, the corrector's weight of the new output (predictor: unused). */
  readonly rhoT: number;
  /** The newest x0 prediction the step starts from (predictor: unused, it is this step's x0). */
  readonly m0: Float32Array;
  /** The older outputs (empty where absent), with their ρ_k and r_k. */
  readonly d1: Float32Array;
  readonly rho1: number;
  readonly rk1: number;
  readonly d2: Float32Array;
  readonly rho2: number;
  readonly rk2: number;
}

const NONE = new Float32Array(0);

function terms(c: Coefficients, rhos: readonly number[], rhoT: number, m0: Float32Array, olderOutputs: readonly Float32Array[]): Terms {
  if (olderOutputs.length > 2) throw new RangeError('UniPC supports solver orders up to 3');
  return {
    order: olderOutputs.length + 1,
    c1: c.c1,
    c2: c.c2,
    c3: c.c3,
    rhoT,
    m0,
    d1: olderOutputs[0] ?? NONE,
    rho1: rhos[0] ?? 0,
    rk1: c.rks[0] ?? 1,
    d2: olderOutputs[1] ?? NONE,
    rho2: rhos[1] ?? 0,
    rk2: c.rks[1] ?? 1,
  };
}

/*
 * The per-element loops. One loop per order, with no branch inside, so that each is compiled
 * for exactly what it runs (a step calls each once, over ~500K elements for a WAN video). Every
 * operation is rounded to float32 in diffusers' order; a Float32Array store rounds as
 * Math.fround does, so a value stored without `f` is still rounded once. With
 * D_k = (older_k − m₀) / r_k:
 *   corrector: x = c₁·x_prev − c₂·m₀ − c₃·(Σ ρ_k·D_k + ρ_T·(x0 − m₀))
 *   predictor: out = c₁·x − c₂·x0 − c₃·Σ ρ_k·D_k (with m₀ = x0)
 */

/**
 * x0 = sample − σ·v (`convert_model_output`, from the uncorrected sample) into `x0`, and the
 * corrected sample (or, without a corrector, a copy of `sample`) into `corrected`.
 */
function convertAndCorrect(
  sample: Float32Array,
  modelOutput: Float32Array,
  sigma: number,
  x0: Float32Array,
  corr: Terms | null,
  lastSample: Float32Array | undefined,
  corrected: Float32Array,
): void {
  if (corr === null || lastSample === undefined) convertOnly(sample, modelOutput, sigma, x0, corrected);
  else if (corr.order === 1) convertCorrect1(sample, modelOutput, sigma, x0, lastSample, corr.m0, corr.c1, corr.c2, corr.c3, corr.rhoT, corrected);
  else if (corr.order === 2) {
    convertCorrect2(sample, modelOutput, sigma, x0, lastSample, corr.m0, corr.c1, corr.c2, corr.c3, corr.rhoT, corr.d1, corr.rho1, corr.rk1, corrected);
  } else convertCorrect3(sample, modelOutput, sigma, x0, lastSample, corr, corrected);
}

function convertOnly(sample: Float32Array, modelOutput: Float32Array, sigma: number, x0: Float32Array, copy: Float32Array): void {
  for (let e = 0; e < sample.length; e++) {
    const x = sample[e]!;
    x0[e] = x - f(sigma * modelOutput[e]!);
    copy[e] = x;
  }
}

function convertCorrect1(
  sample: Float32Array,
  modelOutput: Float32Array,
  sigma: number,
  x0: Float32Array,
  last: Float32Array,
  m0s: Float32Array,
  c1: number,
  c2: number,
  c3: number,
  rhoT: number,
  out: Float32Array,
): void {
  for (let e = 0; e < sample.length; e++) {
    const m = f(sample[e]! - f(sigma * modelOutput[e]!));
    x0[e] = m;
    const m0 = m0s[e]!;
    const base = f(f(c1 * last[e]!) - f(c2 * m0));
    out[e] = base - f(c3 * f(rhoT * f(m - m0)));
  }
}

function convertCorrect2(
  sample: Float32Array,
  modelOutput: Float32Array,
  sigma: number,
  x0: Float32Array,
  last: Float32Array,
  m0s: Float32Array,
  c1: number,
  c2: number,
  c3: number,
  rhoT: number,
  d1: Float32Array,
  rho1: number,
  rk1: number,
  out: Float32Array,
): void {
  for (let e = 0; e < sample.length; e++) {
    const m = f(sample[e]! - f(sigma * modelOutput[e]!));
    x0[e] = m;
    const m0 = m0s[e]!;
    const base = f(f(c1 * last[e]!) - f(c2 * m0));
    const res = f(f(rho1 * f(f(d1[e]! - m0) / rk1)) + f(rhoT * f(m - m0)));
    out[e] = base - f(c3 * res);
  }
}

function convertCorrect3(sample: Float32Array, modelOutput: Float32Array, sigma: number, x0: Float32Array, last: Float32Array, t: Terms, out: Float32Array): void {
  const { m0: m0s, c1, c2, c3, rhoT, d1, rho1, rk1, d2, rho2, rk2 } = t;
  for (let e = 0; e < sample.length; e++) {
    const m = f(sample[e]! - f(sigma * modelOutput[e]!));
    x0[e] = m;
    const m0 = m0s[e]!;
    const base = f(f(c1 * last[e]!) - f(c2 * m0));
    const sum = f(f(rho1 * f(f(d1[e]! - m0) / rk1)) + f(rho2 * f(f(d2[e]! - m0) / rk2)));
    out[e] = base - f(c3 * f(sum + f(rhoT * f(m - m0))));
  }
}

/** The predictor from the (corrected) sample `x` and this step's `x0`, into `out`. */
function predict(x: Float32Array, x0: Float32Array, pred: Terms, out: Float32Array): void {
  if (pred.order === 1) predict1(x, x0, pred.c1, pred.c2, out);
  else if (pred.order === 2) predict2(x, x0, pred.c1, pred.c2, pred.c3, pred.d1, pred.rho1, pred.rk1, out);
  else predict3(x, x0, pred, out);
}

function predict1(x: Float32Array, x0: Float32Array, c1: number, c2: number, out: Float32Array): void {
  for (let e = 0; e < x.length; e++) out[e] = f(c1 * x[e]!) - f(c2 * x0[e]!);
}

function predict2(x: Float32Array, x0: Float32Array, c1: number, c2: number, c3: number, d1: Float32Array, rho1: number, rk1: number, out: Float32Array): void {
  for (let e = 0; e < x.length; e++) {
    const m = x0[e]!;
    const base = f(f(c1 * x[e]!) - f(c2 * m));
    out[e] = base - f(c3 * f(rho1 * f(f(d1[e]! - m) / rk1)));
  }
}

function predict3(x: Float32Array, x0: Float32Array, t: Terms, out: Float32Array): void {
  const { c1, c2, c3, d1, rho1, rk1, d2, rho2, rk2 } = t;
  for (let e = 0; e < x.length; e++) {
    const m = x0[e]!;
    const base = f(f(c1 * x[e]!) - f(c2 * m));
    const res = f(f(rho1 * f(f(d1[e]! - m) / rk1)) + f(rho2 * f(f(d2[e]! - m) / rk2)));
    out[e] = base - f(c3 * res);
  }
}
