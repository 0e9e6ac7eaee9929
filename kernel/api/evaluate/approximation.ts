/**
 * The approximation errors of a perturbation set on a batch of pairs (x, x̃), as the reference's
 * `eval.py`. Each resolves to the per-example error d(·, x̃) as a [batch] tensor
 * the caller disposes, under one of two metrics (`ErrorMetric`): `reference`, the model's own
 * per-pixel reconstruction error as eval.py measures it (BCE from probabilities with PyTorch's
 * log clamp at −100 for bernoulli outputs, squared error for gaussian ones), or `mse`, the
 * per-pixel mean squared error, which has no clamp.
 *
 * Projection is the set's (`PerturbationSet.project`): per example (‖u_i‖₂ ≤ ε, the paper's
 * definition) by default. The reference's `delta.renorm(2, 1, ε)` on a [batch, d] tensor
 * actually renormalises each latent COORDINATE across the batch; a set built with
 * `projection: 'reference-renorm'` reproduces that exactly.
 */
import * as tf from '@tensorflow/tfjs';
import type { Callback } from '../callbacks';
import { ArgumentError, InterruptedError } from '../errors';
import { throwIfInterrupted, yieldToEventLoop } from '../interrupt';
import { klDiagonalGaussian, reconstructionFromLogits, reconstructionFromProbabilities } from '../models/losses';
import { PerturbationSet } from '../models/perturbation-set';
import type { OutputDistribution } from '../models/types';
import { createRng, type Rng } from '../random';
import { standardNormal, truncatedNormal } from './truncated-normal';

/** `reference`: the model's per-pixel reconstruction error as eval.py (clamped BCE for bernoulli); `mse`: per-pixel squared error. */
export type ErrorMetric = 'reference' | 'mse';

/** Per-example per-pixel error between an output in [0, 1] and the target. */
export function perPixelError(output: tf.Tensor4D, target: tf.Tensor4D, distribution: OutputDistribution, metric: ErrorMetric = 'reference'): tf.Tensor1D {
  return tf.tidy(() => {
    const pixels = output.size / output.shape[0];
    const summed = reconstructionFromProbabilities(output, target, metric === 'mse' ? 'gaussian' : distribution);
    return tf.div(summed, pixels) as tf.Tensor1D;
  });
}

/**
 * Identity baseline d(x, x̃): the error of predicting x̃ by the clean x itself. Under the
 * reference BCE, pixels where x is exactly 0 or 1 and x̃ differs hit the log clamp (−log 0 → 100).
 */
export async function identityError(
  x: tf.Tensor4D,
  xPerturbed: tf.Tensor4D,
  options: { distribution?: OutputDistribution; metric?: ErrorMetric } = {},
): Promise<tf.Tensor1D> {
  return perPixelError(x, xPerturbed, options.distribution ?? 'bernoulli', options.metric);
}

/** Encoder AE: decode the projected posterior mean, one forward pass. */
export async function encoderApproximation(set: PerturbationSet, x: tf.Tensor4D, xPerturbed: tf.Tensor4D, options: { metric?: ErrorMetric } = {}): Promise<tf.Tensor1D> {
  return tf.tidy(() => perPixelError(set.reconstruct(x, xPerturbed), xPerturbed, set.model.outputDistribution, options.metric));
}

/** The PGD attack's settings (reference: 50 steps of size ε/20, final iterate). */
export interface AttackOptions {
  /** Number of steps (reference: 50). */
  steps?: number;
  /** Step size (default: the ball's radius / 20, as the reference). */
  alpha?: number;
  /**
   * Report each example's best iterate, the start included (default true): the approximation
   * error is a minimum (over-approximation: a maximum) over the set, and every iterate is a
   * member of it, so this is the tightest figure PGD found and PGD AE ≤ encoder AE holds by
   * construction. `false` reports the final iterate, as the reference's `eval.py` does.
   */
  keepBest?: boolean;
}

/** `onStepEnd` after every PGD step, with the batch's mean error (a trajectory for plots). */
export interface PgdCallbacks {
  onStepEnd?: Callback<{ step: number; meanError: number }>;
}

export interface PgdOptions extends AttackOptions {
  /** Ball radius (default: the set's). */
  radius?: number;
  /** false: minimise d (PGD AE, start at the projected encoder point); true: maximise (over-approximation, random start). */
  maximize?: boolean;
  /** Seed of the maximisation's random start (default 0). */
  seed?: number;
  /** What the resolved errors measure (default `reference`); the attack itself always follows the model's loss. */
  metric?: ErrorMetric;
  /** Checked between steps, with the kernel's interrupt. */
  signal?: AbortSignal;
  callbacks?: PgdCallbacks;
}

async function checkStop(signal: AbortSignal | undefined, what: string): Promise<void> {
  await yieldToEventLoop();
  if (signal?.aborted) throw new InterruptedError(`${what} aborted`);
  throwIfInterrupted(what);
}

/** A random start in the ball: Gaussian direction, radius uniform in [0, ε] (reference `approximation(over=True)`). */
function randomStart(rows: number, d: number, eps: number, rng: Rng): tf.Tensor2D {
  const dir = standardNormal(rows * d, rng);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += dir[r * d + j] ** 2;
    const scale = (eps * rng.uniform()) / Math.max(Math.sqrt(s), 1e-12);
    for (let j = 0; j < d; j++) dir[r * d + j] *= scale;
  }
  return tf.tensor2d(dir, [rows, d]);
}

/**
 * The latent codes PGD ends with, one per example: ℓ2-normalised steps on the model's loss,
 * projected onto ‖u‖ ≤ ε after each; the best iterate by the reference metric unless
 * `keepBest: false`. The caller disposes the result.
 */
export async function pgdLatent(set: PerturbationSet, x: tf.Tensor4D, xPerturbed: tf.Tensor4D, options: PgdOptions = {}): Promise<tf.Tensor2D> {
  const eps = options.radius ?? set.radius;
  const steps = options.steps ?? 50;
  const alpha = options.alpha ?? eps / 20;
  if (!Number.isInteger(steps) || steps < 0) throw new ArgumentError(`pgdApproximation: steps must be an integer >= 0, got ${steps}`);
  if (!(alpha > 0)) throw new ArgumentError(`pgdApproximation: alpha must be > 0, got ${alpha}`);
  const maximize = options.maximize ?? false;
  const keepBest = options.keepBest ?? true;
  const onStepEnd = options.callbacks?.onStepEnd;
  const dist = set.model.outputDistribution;
  const prior = set.prior(x);
  const u0 = maximize
    ? randomStart(x.shape[0], set.model.latentDim, eps, createRng(`${options.seed ?? 0}/pgd-start`))
    : tf.tidy(() => set.project(set.encode(x, xPerturbed), eps));
  let u: tf.Tensor2D = u0;
  const errorAt = (v: tf.Tensor2D) => tf.tidy(() => perPixelError(set.model.generate(x, set.latent(prior, v), false), xPerturbed, dist));
  // d summed over the batch; its gradient per example is the per-example gradient.
  const objective = (v: tf.Tensor) => tf.sum(reconstructionFromLogits(set.model.generateLogits(x, set.latent(prior, v as tf.Tensor2D), false), xPerturbed, dist)) as tf.Scalar;
  const grad = tf.grad(objective);
  let best: { error: tf.Tensor1D; u: tf.Tensor2D } | null = keepBest ? { error: errorAt(u), u: tf.clone(u) } : null;
  let returnedFinal = false;
  try {
    for (let i = 0; i < steps; i++) {
      await checkStop(options.signal, 'evaluation');
      const next = tf.tidy(() => {
        const g = grad(u) as tf.Tensor2D;
        const unit = tf.div(g, tf.maximum(tf.norm(g, 2, 1, true), 1e-12));
        return set.project(tf.add(u, tf.mul(unit, maximize ? alpha : -alpha)) as tf.Tensor2D, eps);
      });
      u.dispose();
      u = next;
      if (best || onStepEnd) {
        const e = errorAt(u);
        if (onStepEnd) {
          const m = tf.mean(e);
          const meanError = (await m.data())[0];
          m.dispose();
          await onStepEnd({ step: i + 1, meanError });
        }
        if (best) {
          const previous = best;
          best = tf.tidy(() => {
            const improved = maximize ? tf.greater(e, previous.error) : tf.less(e, previous.error);
            return {
              error: tf.where(improved, e, previous.error) as tf.Tensor1D,
              u: tf.where(tf.expandDims(improved, 1), u, previous.u) as tf.Tensor2D,
            };
          });
          tf.dispose([previous.error, previous.u]);
        }
        e.dispose();
      }
    }
    if (!best) {
      returnedFinal = true;
      return u;
    }
    return tf.clone(best.u);
  } finally {
    if (best) tf.dispose([best.error, best.u]);
    if (!returnedFinal) u.dispose();
    tf.dispose([prior.mu, prior.sigma]);
  }
}

/** The error of the members at latent codes `u` (rows of [batch, latentDim]). */
export function errorAtLatent(set: PerturbationSet, x: tf.Tensor4D, xPerturbed: tf.Tensor4D, u: tf.Tensor2D, metric: ErrorMetric = 'reference'): tf.Tensor1D {
  return tf.tidy(() => perPixelError(set.perturb(x, u), xPerturbed, set.model.outputDistribution, metric));
}

/**
 * PGD in latent space: minimising gives the PGD approximation error (NSP); maximising from a
 * random start gives the over-approximation error. Per example: the error of the latent code
 * `pgdLatent` ends with (the best iterate unless `keepBest: false`).
 */
export async function pgdApproximation(set: PerturbationSet, x: tf.Tensor4D, xPerturbed: tf.Tensor4D, options: PgdOptions = {}): Promise<tf.Tensor1D> {
  const u = await pgdLatent(set, x, xPerturbed, options);
  try {
    return errorAtLatent(set, x, xPerturbed, u, options.metric);
  } finally {
    u.dispose();
  }
}

/**
 * The expected error over `samples` prior draws, once per metric in `metrics` (same draws).
 * Copies the reference's quirk on purpose: when ANY draw in the batch has ‖u‖₂ > ε, the whole
 * batch is redrawn from a normal truncated PER COORDINATE to [−ε, ε], which does not bound ‖u‖₂
 * (at the paper's radii it is practically the untruncated prior).
 */
export function expectedErrors(set: PerturbationSet, x: tf.Tensor4D, xPerturbed: tf.Tensor4D, options: { samples?: number; radius?: number; seed?: number }, metrics: ErrorMetric[]): tf.Tensor1D[] {
  const samples = options.samples ?? 5;
  const eps = options.radius ?? set.radius;
  if (!Number.isInteger(samples) || samples < 1) throw new ArgumentError(`expectedApproximation: samples must be an integer >= 1, got ${samples}`);
  const rng = createRng(`${options.seed ?? 0}/expected`);
  const b = x.shape[0];
  const d = set.model.latentDim;
  return tf.tidy(() => {
    const prior = set.prior(x);
    let totals: tf.Tensor1D[] = metrics.map(() => tf.zeros([b]));
    for (let s = 0; s < samples; s++) {
      let u = standardNormal(b * d, rng);
      let exceeds = false;
      for (let r = 0; r < b && !exceeds; r++) {
        let sq = 0;
        for (let j = 0; j < d; j++) sq += u[r * d + j] ** 2;
        exceeds = Math.sqrt(sq) > eps;
      }
      if (exceeds) u = truncatedNormal(b * d, eps, rng);
      const out = set.model.generate(x, set.latent(prior, tf.tensor2d(u, [b, d])), false);
      totals = totals.map((t, i) => tf.add(t, perPixelError(out, xPerturbed, set.model.outputDistribution, metrics[i])) as tf.Tensor1D);
    }
    return totals.map((t) => tf.div(t, samples) as tf.Tensor1D);
  });
}

/** Expected approximation error: the mean error of `samples` prior draws u ~ N(0, I) (see `expectedErrors` for the reference's truncation). */
export async function expectedApproximation(
  set: PerturbationSet,
  x: tf.Tensor4D,
  xPerturbed: tf.Tensor4D,
  options: { samples?: number; radius?: number; seed?: number; metric?: ErrorMetric } = {},
): Promise<tf.Tensor1D> {
  return expectedErrors(set, x, xPerturbed, options, [options.metric ?? 'reference'])[0];
}

/**
 * The CVAE's own terms on the pairs, as eval.py: KL(q ‖ p) per example (summed over latent
 * dimensions) and the reconstruction error of one posterior sample per pixel.
 */
export async function klAndReconstruction(set: PerturbationSet, x: tf.Tensor4D, xPerturbed: tf.Tensor4D, options: { seed?: number } = {}): Promise<{ kl: tf.Tensor1D; recon: tf.Tensor1D }> {
  const noiseSeed = createRng(`${options.seed ?? 0}/posterior-noise`).seed();
  return tf.tidy(() => {
    const m = set.model;
    const p = m.prior(x, false);
    const q = m.recognition(x, xPerturbed, false);
    const eps = tf.randomNormal(q.mu.shape, 0, 1, 'float32', noiseSeed);
    const z = tf.add(q.mu, tf.mul(tf.exp(tf.mul(q.logvar, 0.5)), eps)) as tf.Tensor2D;
    return { kl: klDiagonalGaussian(q, p), recon: perPixelError(m.generate(x, z, false), xPerturbed, m.outputDistribution) };
  });
}

/** Mean binary entropy of x̃'s pixels per example (nats): the lowest BCE any prediction can reach on x̃. */
export function binaryEntropy(xPerturbed: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => {
    const p = tf.clipByValue(xPerturbed, 1e-12, 1 - 1e-7);
    const h = tf.neg(tf.add(tf.mul(xPerturbed, tf.log(p)), tf.mul(tf.sub(1, xPerturbed), tf.log(tf.sub(1, p)))));
    return tf.mean(tf.reshape(h, [xPerturbed.shape[0], -1]), 1) as tf.Tensor1D;
  });
}
