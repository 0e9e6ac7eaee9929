/**
 * NSP/SLP evaluation of a perturbation set on held-out pairs (the reference's `eval.py`):
 * encoder AE, PGD AE, expected AE, over-approximation AE, KL, reconstruction, and the identity
 * baseline d(x, x̃), under the reference metric; the approximation errors and the identity
 * baseline again under per-pixel MSE; and the entropy floor of x̃. Figures are means over the
 * pairs of per-pixel errors. Diagnostics of a degenerate set ride along: the spread of samples of
 * S(x), the posterior-collapse flag, and for RTS sets (on request) the spread of the affine maps
 * that explain the samples.
 */
import * as tf from '@tensorflow/tfjs';
import type { Callback } from '../callbacks';
import { ArgumentError } from '../errors';
import { PerturbationSet } from '../models/perturbation-set';
import type { PairSource } from '../pairs/source';
import { createRng } from '../random';
import {
  binaryEntropy,
  encoderApproximation,
  errorAtLatent,
  expectedErrors,
  identityError,
  klAndReconstruction,
  pgdLatent,
  type AttackOptions,
} from './approximation';
import { affineSpread, type AffineFitOptions, type AffineSpread } from './affine-fit';
import { collapseDiagnostics, sampleSpread, type CollapseDiagnostics } from './diagnostics';

/** Where an evaluation is: after batch `batch` of `batches`, `examples` of `total` pairs done. */
export interface EvaluationProgress {
  batch: number;
  batches: number;
  examples: number;
  total: number;
}

export interface EvaluationCallbacks {
  onBatchEnd?: Callback<EvaluationProgress>;
}

export interface EvaluationOptions {
  /** The NSP attack: PGD minimising d from the encoder point (reference: 50 steps, α = ε/20). */
  attack?: AttackOptions;
  /**
   * The over-approximation attack: PGD maximising d from a random start in the ball of `radius`
   * (default: the set's), with `attack`'s settings unless given; `false` skips it (reported as 0,
   * as the released code).
   */
  overApproximation?: (AttackOptions & { radius?: number }) | false;
  /** Prior samples for the expected AE (reference: 5). */
  samples?: number;
  batchSize?: number;
  /** Members of S(x) per image for the sample spread (default 8). */
  spreadSamples?: number;
  /**
   * Fit the rotation, scale and shift that explain each sample of S(x) and report their spread
   * (`affineSpread`; for RTS sets, `evaluateRun` turns it on). `true` = 32 images × 8 samples.
   */
  affine?: boolean | (AffineFitOptions & { images?: number; samples?: number });
  /** Seed of every random draw (prior samples, random starts, posterior noise); default 0. */
  seed?: number;
  signal?: AbortSignal;
  callbacks?: EvaluationCallbacks;
}

/** Approximation errors under per-pixel mean squared error (no log clamp), at the same members of the set. */
export interface MseErrors {
  encoderAE: number;
  pgdAE: number;
  expectedAE: number;
  identityError: number;
}

export interface EvaluationReport {
  /** Encoder approximation error (projected posterior mean), reference metric. */
  encoderAE: number;
  /** PGD approximation error (NSP), reference metric. */
  pgdAE: number;
  /** Expected approximation error over prior samples (SLP proxy), reference metric. */
  expectedAE: number;
  /** Over-approximation error (maximising PGD); 0 when skipped. */
  overAE: number;
  /** KL(q ‖ p) per example. */
  kl: number;
  /** Reconstruction error per pixel (one posterior sample). */
  recon: number;
  /** d(x, x̃): the clean image taken as the prediction of x̃. */
  identityError: number;
  /** Mean binary entropy of x̃'s pixels (nats): the lowest BCE any prediction can reach. */
  entropyFloor: number;
  /** The same members of the set (and the identity) measured by per-pixel MSE. */
  mse: MseErrors;
  /** Per-pixel standard deviation across samples of S(x), averaged over pixels and images (0: all samples alike). */
  sampleSpread: number;
  /** The posterior-collapse flag: KL per dimension, EAE vs encoder AE, sample spread, with thresholds. */
  collapse: CollapseDiagnostics;
  /** Spread of the affine maps that best explain samples of S(x) (only with the `affine` option). */
  affineSpread?: AffineSpread;
  radius: number;
  /** Number of pairs. */
  n: number;
}

/** Evaluates `set` on `pairs` (in the source's order, epoch 0). */
export async function evaluatePerturbationSet(set: PerturbationSet, pairs: PairSource, options: EvaluationOptions = {}): Promise<EvaluationReport> {
  if (!(set instanceof PerturbationSet)) throw new ArgumentError('evaluatePerturbationSet: the first argument must be a PerturbationSet (new pertset.PerturbationSet(model, radius))');
  const bs = options.batchSize ?? 128;
  const spreadSamples = options.spreadSamples ?? 8;
  if (!Number.isInteger(spreadSamples) || spreadSamples < 2) throw new ArgumentError(`evaluatePerturbationSet: spreadSamples must be an integer >= 2, got ${spreadSamples}`);
  if (!Number.isInteger(bs) || bs < 1) throw new ArgumentError(`evaluatePerturbationSet: batchSize must be an integer >= 1, got ${bs}`);
  const seed = options.seed ?? 0;
  const attack = options.attack ?? {};
  const over = options.overApproximation === false ? null : { ...attack, alpha: undefined, ...(options.overApproximation ?? {}) };
  const dist = set.model.outputDistribution;
  const sums = { encoderAE: 0, pgdAE: 0, expectedAE: 0, overAE: 0, kl: 0, recon: 0, identityError: 0, entropyFloor: 0, sampleSpread: 0 };
  const mse: MseErrors = { encoderAE: 0, pgdAE: 0, expectedAE: 0, identityError: 0 };
  const batches = pairs.batchCount(bs);
  let n = 0;
  const total = async (t: tf.Tensor1D): Promise<number> => {
    const s = tf.sum(t);
    const v = (await s.data())[0];
    tf.dispose([t, s]);
    return v;
  };
  for (let b = 0; b < batches; b++) {
    const { x, xPerturbed: xt } = pairs.tensorBatch(0, b, bs);
    try {
      sums.identityError += await total(await identityError(x, xt, { distribution: dist }));
      mse.identityError += await total(await identityError(x, xt, { metric: 'mse' }));
      sums.entropyFloor += await total(binaryEntropy(xt));
      sums.encoderAE += await total(await encoderApproximation(set, x, xt));
      mse.encoderAE += await total(await encoderApproximation(set, x, xt, { metric: 'mse' }));
      const { kl, recon } = await klAndReconstruction(set, x, xt, { seed: seedFor(seed, 'noise', b) });
      sums.kl += await total(kl);
      sums.recon += await total(recon);
      const [eae, eaeMse] = expectedErrors(set, x, xt, { samples: options.samples, seed: seedFor(seed, 'eae', b) }, ['reference', 'mse']);
      sums.expectedAE += await total(eae);
      mse.expectedAE += await total(eaeMse);
      sums.sampleSpread += await total(sampleSpread(set, x, { samples: spreadSamples, seed: seedFor(seed, 'spread', b) }));
      const u = await pgdLatent(set, x, xt, { ...attack, signal: options.signal });
      try {
        sums.pgdAE += await total(errorAtLatent(set, x, xt, u));
        mse.pgdAE += await total(errorAtLatent(set, x, xt, u, 'mse'));
      } finally {
        u.dispose();
      }
      if (over) {
        const radius = over.radius ?? set.radius;
        const uOver = await pgdLatent(set, x, xt, {
          maximize: true,
          radius,
          steps: over.steps,
          alpha: over.alpha ?? radius / 20,
          keepBest: over.keepBest,
          seed: seedFor(seed, 'oae', b),
          signal: options.signal,
        });
        try {
          sums.overAE += await total(errorAtLatent(set, x, xt, uOver));
        } finally {
          uOver.dispose();
        }
      }
    } finally {
      tf.dispose([x, xt]);
    }
    n += x.shape[0];
    await options.callbacks?.onBatchEnd?.({ batch: b + 1, batches, examples: n, total: pairs.count });
  }
  const mean = (v: number) => v / n;
  let affine: AffineSpread | undefined;
  if (options.affine) {
    const { images = 32, samples = 8, ...fit } = options.affine === true ? {} : options.affine;
    if (!Number.isInteger(images) || images < 1) throw new ArgumentError(`evaluatePerturbationSet: affine.images must be an integer >= 1, got ${images}`);
    const { x, xPerturbed } = pairs.tensorBatch(0, 0, Math.min(images, pairs.count));
    xPerturbed.dispose();
    try {
      affine = await affineSpread(set, x, { ...fit, samples, seed: seedFor(seed, 'affine', 0), signal: options.signal });
    } finally {
      x.dispose();
    }
  }
  const figures = { encoderAE: mean(sums.encoderAE), expectedAE: mean(sums.expectedAE), kl: mean(sums.kl), sampleSpread: mean(sums.sampleSpread) };
  return {
    encoderAE: mean(sums.encoderAE),
    pgdAE: mean(sums.pgdAE),
    expectedAE: mean(sums.expectedAE),
    overAE: mean(sums.overAE),
    kl: mean(sums.kl),
    recon: mean(sums.recon),
    identityError: mean(sums.identityError),
    entropyFloor: mean(sums.entropyFloor),
    mse: { encoderAE: mean(mse.encoderAE), pgdAE: mean(mse.pgdAE), expectedAE: mean(mse.expectedAE), identityError: mean(mse.identityError) },
    sampleSpread: figures.sampleSpread,
    collapse: collapseDiagnostics(figures, set.model.latentDim),
    ...(affine ? { affineSpread: affine } : {}),
    radius: set.radius,
    n,
  };
}

/** The integer seed of one (purpose, batch) of an evaluation at `seed`. */
function seedFor(seed: number, purpose: string, batch: number): number {
  return createRng(`${seed}/${purpose}/${batch}`).seed();
}
