/**
 * NSP/SLP evaluation of a perturbation set on held-out pairs (the reference's `eval.py`):
 * encoder AE, PGD AE, expected AE, over-approximation AE, KL, reconstruction, and the identity
 * baseline d(x, x̃). Figures are means over the pairs of per-pixel errors.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import { PerturbationSet, type Projection } from '../models/perturbation-set';
import type { CVAE } from '../models/types';
import { createRng } from '../random';
import type { PairSource } from '../train/pairs';
import {
  encoderApproximation,
  expectedApproximation,
  identityError,
  klAndReconstruction,
  pgdApproximation,
} from './approximation';

export interface EvaluationOptions {
  /** Radius ε of the set. */
  radius: number;
  /** PGD steps and step size (reference: 50 and ε/20). */
  steps?: number;
  alpha?: number;
  /** Prior samples for the expected AE (reference: 5). */
  samples?: number;
  /** Over-approximation: radius, step size, steps (default: same as PGD); `overApproximation: false` skips it (reported as 0, as the released code). */
  overApproximation?: boolean;
  overRadius?: number;
  overAlpha?: number;
  overSteps?: number;
  /** PGD and over-approximation report each example's best iterate (default true); false: the final one, as the reference. */
  keepBest?: boolean;
  batchSize?: number;
  /** `ball` (per example, default) or `reference-renorm` (the reference's column renorm, for exact comparison). */
  projection?: Projection;
  /** Seed of the random draws (latent samples, random starts, posterior noise). */
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (p: { batch: number; batches: number; examples: number; total: number }) => void;
}

export interface EvaluationReport {
  /** Encoder approximation error (projected posterior mean). */
  encoderAE: number;
  /** PGD approximation error (NSP). */
  pgdAE: number;
  /** Expected approximation error over prior samples (SLP proxy). */
  expectedAE: number;
  /** Over-approximation error (maximising PGD); 0 when skipped. */
  overAE: number;
  /** KL(q ‖ p) per example. */
  kl: number;
  /** Reconstruction error per pixel (one posterior sample). */
  recon: number;
  /** d(x, x̃): the error of the identity map. */
  identityError: number;
  radius: number;
  /** Number of pairs. */
  n: number;
}

/** Evaluates the set {g(x, μ_p + σ_p u) : ‖u‖ ≤ radius} of `model` on `pairs` (order as given). */
export async function evaluatePerturbationSet(model: CVAE, pairs: PairSource, options: EvaluationOptions): Promise<EvaluationReport> {
  const set = new PerturbationSet(model, options.radius, { projection: options.projection });
  const bs = options.batchSize ?? 128;
  if (!Number.isInteger(bs) || bs < 1) throw new ArgumentError(`evaluatePerturbationSet: batchSize must be an integer >= 1, got ${bs}`);
  const rng = createRng(`${options.seed ?? 0}/evaluate`);
  const doOver = options.overApproximation ?? true;
  const sums = { encoderAE: 0, pgdAE: 0, expectedAE: 0, overAE: 0, kl: 0, recon: 0, identityError: 0 };
  const batches = pairs.batchCount(bs);
  let n = 0;
  const add = async (key: keyof typeof sums, t: tf.Tensor1D) => {
    const total = tf.sum(t);
    sums[key] += (await total.data())[0];
    tf.dispose([t, total]);
  };
  for (let b = 0; b < batches; b++) {
    const batch = pairs.batch(0, b, bs);
    const x = tf.tensor4d(batch.x, batch.shape);
    const xt = tf.tensor4d(batch.xPerturbed, batch.shape);
    try {
      const dist = model.outputDistribution;
      await add('identityError', identityError(x, xt, dist));
      await add('encoderAE', encoderApproximation(set, x, xt));
      const { kl, recon } = klAndReconstruction(set, x, xt, rng.fork(`noise/${b}`).seed());
      await add('kl', kl);
      await add('recon', recon);
      await add('expectedAE', expectedApproximation(set, x, xt, { samples: options.samples, rng: rng.fork(`eae/${b}`) }));
      await add('pgdAE', await pgdApproximation(set, x, xt, { steps: options.steps, alpha: options.alpha, keepBest: options.keepBest, signal: options.signal }));
      if (doOver) {
        const overRadius = options.overRadius ?? options.radius;
        await add(
          'overAE',
          await pgdApproximation(set, x, xt, {
            maximize: true,
            radius: overRadius,
            steps: options.overSteps ?? options.steps,
            alpha: options.overAlpha ?? overRadius / 20,
            rng: rng.fork(`oae/${b}`),
            keepBest: options.keepBest,
            signal: options.signal,
          }),
        );
      }
    } finally {
      tf.dispose([x, xt]);
    }
    n += batch.shape[0];
    options.onProgress?.({ batch: b + 1, batches, examples: n, total: pairs.count });
  }
  const mean = (v: number) => v / n;
  return {
    encoderAE: mean(sums.encoderAE),
    pgdAE: mean(sums.pgdAE),
    expectedAE: mean(sums.expectedAE),
    overAE: mean(sums.overAE),
    kl: mean(sums.kl),
    recon: mean(sums.recon),
    identityError: mean(sums.identityError),
    radius: options.radius,
    n,
  };
}
