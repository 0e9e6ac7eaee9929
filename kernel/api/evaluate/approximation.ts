/**
 * The approximation errors of a perturbation set on a batch of pairs (x, x̃), as the reference's
 * `eval.py` (paper.md §1.3). Each returns the per-example error d(·, x̃) — the per-pixel mean
 * BCE (bernoulli, from probabilities with PyTorch's log clamp at −100) or MSE (gaussian) — as a
 * [batch] tensor the caller disposes.
 *
 * Projection is the set's (`PerturbationSet.project`): per example (‖u_i‖₂ ≤ ε, the paper's
 * definition) by default. The reference's `delta.renorm(2, 1, ε)` on a [batch, d] tensor
 * actually renormalises each latent COORDINATE across the batch; a set built with
 * `projection: 'reference-renorm'` reproduces that exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError, InterruptedError } from '../errors';
import { throwIfInterrupted, yieldToEventLoop } from '../interrupt';
import { klDiagonalGaussian, reconstructionFromLogits, reconstructionFromProbabilities } from '../models/losses';
import { PerturbationSet } from '../models/perturbation-set';
import type { OutputDistribution } from '../models/types';
import type { Rng } from '../random';
import { standardNormal, truncatedNormal } from './truncated-normal';

/** Per-example per-pixel error between an output in [0, 1] and the target. */
export function perPixelError(output: tf.Tensor4D, target: tf.Tensor4D, distribution: OutputDistribution): tf.Tensor1D {
  return tf.tidy(() => {
    const pixels = output.size / output.shape[0];
    return tf.div(reconstructionFromProbabilities(output, target, distribution), pixels) as tf.Tensor1D;
  });
}

/** Identity baseline d(x, x̃): how far x̃ is from x itself. */
export function identityError(x: tf.Tensor4D, xPerturbed: tf.Tensor4D, distribution: OutputDistribution): tf.Tensor1D {
  return perPixelError(x, xPerturbed, distribution);
}

/** Encoder AE: decode the projected posterior mean, one forward pass. */
export function encoderApproximation(set: PerturbationSet, x: tf.Tensor4D, xPerturbed: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => perPixelError(set.reconstruct(x, xPerturbed), xPerturbed, set.model.outputDistribution));
}

export interface PgdOptions {
  /** Number of steps (reference: 50). */
  steps?: number;
  /** Step size (reference: ε/20). */
  alpha?: number;
  /** Ball radius (default: the set's). */
  radius?: number;
  /** false: minimise d (PGD AE, start at the projected encoder point); true: maximise (over-approximation, random start). */
  maximize?: boolean;
  /** Generator for the random start of the maximisation. */
  rng?: Rng;
  /**
   * Report each example's best iterate, the start included (default true): the approximation
   * error is a minimum (over-approximation: a maximum) over the set, and every iterate is a
   * member of it, so this is the tightest figure PGD found and PGD AE ≤ encoder AE holds by
   * construction. `false` reports the final iterate, as the reference's `eval.py` does.
   */
  keepBest?: boolean;
  /** Checked between steps, with the kernel's interrupt. */
  signal?: AbortSignal;
  /** Called after each step with the batch's mean error (a trajectory for plots). */
  onStep?: (step: number, meanError: number) => void;
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
 * PGD in latent space with ℓ2-normalised steps, projecting onto ‖u‖ ≤ ε after each step.
 * Minimising gives the PGD approximation error (NSP); maximising from a random start gives the
 * over-approximation error. Per example: the best iterate's error (see `keepBest`).
 */
export async function pgdApproximation(set: PerturbationSet, x: tf.Tensor4D, xPerturbed: tf.Tensor4D, options: PgdOptions = {}): Promise<tf.Tensor1D> {
  const eps = options.radius ?? set.radius;
  const steps = options.steps ?? 50;
  const alpha = options.alpha ?? eps / 20;
  if (!Number.isInteger(steps) || steps < 0) throw new ArgumentError(`pgdApproximation: steps must be an integer >= 0, got ${steps}`);
  if (!(alpha > 0)) throw new ArgumentError(`pgdApproximation: alpha must be > 0, got ${alpha}`);
  const maximize = options.maximize ?? false;
  const keepBest = options.keepBest ?? true;
  const dist = set.model.outputDistribution;
  const prior = set.prior(x);
  let u: tf.Tensor2D;
  if (maximize) {
    if (!options.rng) throw new ArgumentError('pgdApproximation: maximize needs `rng` for the random start');
    u = randomStart(x.shape[0], set.model.latentDim, eps, options.rng);
  } else {
    u = tf.tidy(() => set.project(set.encode(x, xPerturbed), eps));
  }
  const errorAt = (v: tf.Tensor2D) => tf.tidy(() => perPixelError(set.model.generate(x, set.latent(prior, v), false), xPerturbed, dist));
  // d summed over the batch; its gradient per example is the per-example gradient.
  const objective = (v: tf.Tensor) => tf.sum(reconstructionFromLogits(set.model.generateLogits(x, set.latent(prior, v as tf.Tensor2D), false), xPerturbed, dist)) as tf.Scalar;
  const grad = tf.grad(objective);
  let best: tf.Tensor1D | null = keepBest ? errorAt(u) : null;
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
      if (best || options.onStep) {
        const e = errorAt(u);
        if (options.onStep) {
          const m = tf.mean(e);
          options.onStep(i + 1, (await m.data())[0]);
          m.dispose();
        }
        if (best) {
          const improved = maximize ? tf.maximum(best, e) : tf.minimum(best, e);
          best.dispose();
          best = improved as tf.Tensor1D;
        }
        e.dispose();
      }
    }
    if (best) {
      const result = best;
      best = null;
      return result;
    }
    return errorAt(u);
  } finally {
    best?.dispose();
    u.dispose();
    tf.dispose([prior.mu, prior.sigma]);
  }
}

/**
 * Expected approximation error: the mean error of `samples` prior draws u ~ N(0, I). Copies the
 * reference's quirk on purpose: when ANY draw in the batch has ‖u‖₂ > ε, the whole batch is
 * redrawn from a normal truncated PER COORDINATE to [−ε, ε], which does not bound ‖u‖₂ (at the
 * paper's radii it is practically the untruncated prior).
 */
export function expectedApproximation(set: PerturbationSet, x: tf.Tensor4D, xPerturbed: tf.Tensor4D, options: { samples?: number; radius?: number; rng: Rng }): tf.Tensor1D {
  const samples = options.samples ?? 5;
  const eps = options.radius ?? set.radius;
  if (!Number.isInteger(samples) || samples < 1) throw new ArgumentError(`expectedApproximation: samples must be an integer >= 1, got ${samples}`);
  const b = x.shape[0];
  const d = set.model.latentDim;
  return tf.tidy(() => {
    const prior = set.prior(x);
    let total: tf.Tensor1D = tf.zeros([b]);
    for (let s = 0; s < samples; s++) {
      let u = standardNormal(b * d, options.rng);
      let exceeds = false;
      for (let r = 0; r < b && !exceeds; r++) {
        let sq = 0;
        for (let j = 0; j < d; j++) sq += u[r * d + j] ** 2;
        exceeds = Math.sqrt(sq) > eps;
      }
      if (exceeds) u = truncatedNormal(b * d, eps, options.rng);
      const out = set.model.generate(x, set.latent(prior, tf.tensor2d(u, [b, d])), false);
      total = tf.add(total, perPixelError(out, xPerturbed, set.model.outputDistribution));
    }
    return tf.div(total, samples) as tf.Tensor1D;
  });
}

/**
 * The CVAE's own terms on the pairs, as eval.py: KL(q ‖ p) per example (summed over latent
 * dimensions) and the reconstruction error of one posterior sample per pixel.
 */
export function klAndReconstruction(set: PerturbationSet, x: tf.Tensor4D, xPerturbed: tf.Tensor4D, noiseSeed: number): { kl: tf.Tensor1D; recon: tf.Tensor1D } {
  return tf.tidy(() => {
    const m = set.model;
    const p = m.prior(x, false);
    const q = m.recognition(x, xPerturbed, false);
    const eps = tf.randomNormal(q.mu.shape, 0, 1, 'float32', noiseSeed);
    const z = tf.add(q.mu, tf.mul(tf.exp(tf.mul(q.logvar, 0.5)), eps)) as tf.Tensor2D;
    return { kl: klDiagonalGaussian(q, p), recon: perPixelError(m.generate(x, z, false), xPerturbed, m.outputDistribution) };
  });
}
