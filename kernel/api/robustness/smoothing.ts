/**
 * Randomized smoothing in the latent space of a learned set (the reference's
 * `robustness/smoothing_core.py`, after Cohen et al.): the smoothed classifier predicts the class
 * the base classifier most often gives to g(x, μ_p + σ_p ⊙ σ·n), n ~ N(0, I). PREDICT abstains
 * unless a two-sided binomial test separates the top two classes at level α; CERTIFY bounds the
 * top class's probability from below (one-sided Clopper–Pearson) and certifies the latent ℓ2
 * radius σ·Φ⁻¹(p̲), in the same prior-normalised units as the set's ε.
 *
 * ```ts
 * const sigma = pertset.robustness.sigmaForRadius(2.7, 10000, 0.001);      // ≈ 0.84
 * const result = await pertset.robustness.certify(set, classifier, x, labels, { sigma });
 * const summary = pertset.robustness.summarizeCertification(result, [0, 1, 2]);
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import type { Callback } from '../callbacks';
import { ArgumentError } from '../errors';
import type { PerturbationSet } from '../models/perturbation-set';
import { asSet, checkImages, checkPositiveInteger, checkStop, labelTensor, seedFor, type ClassifierFn, type SetOrModel } from './classifier';
import { binomialTestPValue, clopperPearsonLower, normalQuantile } from './statistics';

/** The prediction of a smoothed classifier that declines to answer. */
export const ABSTAIN = -1;

export interface SmoothingOptions {
  /** Standard deviation of the latent noise, in prior-normalised units. */
  sigma: number;
  /** Noisy samples decoded and classified at once (default 500). */
  batchSize?: number;
  /** Seed of the latent noise (default 0); equal calls with equal seeds and batch sizes give equal results. */
  seed?: number;
  /** Checked between batches, with the kernel's interrupt. */
  signal?: AbortSignal;
}

export interface PredictOptions extends SmoothingOptions {
  /** Noisy samples per image (default 100). */
  n?: number;
  /** Level of the binomial test (default 0.001). */
  alpha?: number;
}

export interface SmoothedPrediction {
  /** The smoothed class per image, or ABSTAIN (−1). */
  prediction: number[];
  /** p-value of the two-sided binomial test of the top two counts against ½, per image. */
  pValue: number[];
  /** The base classifier's class counts over the noisy samples, per image. */
  counts: number[][];
}

export interface CertifiedExample {
  label: number;
  /** The smoothed class, or ABSTAIN (−1) when p̲ < ½. */
  prediction: number;
  /** One-sided (1 − α) Clopper–Pearson lower bound on the top class's probability. */
  pLower: number;
  /** Certified latent ℓ2 radius σ·Φ⁻¹(p̲); 0 when abstaining. */
  radius: number;
  /** prediction = label (an abstention is wrong). */
  correct: boolean;
}

export interface CertificationProgress {
  /** 1-based index of the image just certified, of `total`. */
  example: number;
  total: number;
  result: CertifiedExample;
}

export interface CertifyOptions extends SmoothingOptions {
  /** Samples that select the top class (default 100). */
  n0?: number;
  /** Samples that estimate its probability (default 10000). */
  n?: number;
  /** 1 − the confidence of the bound (default 0.001). */
  alpha?: number;
  callbacks?: { onExampleEnd?: Callback<CertificationProgress> };
}

export interface CertificationResult {
  sigma: number;
  n0: number;
  n: number;
  alpha: number;
  /** σ·Φ⁻¹(α^{1/n}): no radius can exceed it (every one of the n samples in the top class). */
  maxRadius: number;
  examples: CertifiedExample[];
}

export interface CertificationSummary {
  sigma: number;
  n: number;
  alpha: number;
  /** Fraction of images predicted correctly with a certified radius ≥ `radius` (abstentions are wrong). */
  certifiedAccuracy: { radius: number; accuracy: number }[];
  /** Mean certified radius over all images, right or wrong, 0 for abstentions (as the reference logs it). */
  averageRadius: number;
  /** Fraction of images on which the smoothed classifier abstains. */
  abstain: number;
  maxRadius: number;
  /** Number of images. */
  count: number;
}

function checkLevel(alpha: number, where: string): void {
  if (!(alpha > 0 && alpha < 1)) throw new ArgumentError(`${where}: alpha must be in (0, 1), got ${alpha}`);
}

function checkSigma(sigma: number, where: string): void {
  if (!Number.isFinite(sigma) || sigma <= 0) throw new ArgumentError(`${where}: sigma must be a finite number > 0, got ${sigma}`);
}

/** The largest radius CERTIFY can give with n samples at level α: σ·Φ⁻¹(α^{1/n}). */
export function maxCertifiableRadius(sigma: number, n: number, alpha: number): number {
  checkSigma(sigma, 'maxCertifiableRadius');
  checkPositiveInteger(n, 'n', 'maxCertifiableRadius');
  checkLevel(alpha, 'maxCertifiableRadius');
  return sigma * normalQuantile(Math.exp(Math.log(alpha) / n));
}

/** The σ whose largest certifiable radius is `radius` (how the paper chose its σ): radius / Φ⁻¹(α^{1/n}). */
export function sigmaForRadius(radius: number, n: number, alpha: number): number {
  if (!Number.isFinite(radius) || radius <= 0) throw new ArgumentError(`sigmaForRadius: radius must be a finite number > 0, got ${radius}`);
  checkPositiveInteger(n, 'n', 'sigmaForRadius');
  checkLevel(alpha, 'sigmaForRadius');
  return radius / normalQuantile(Math.exp(Math.log(alpha) / n));
}

interface Sampler {
  set: PerturbationSet;
  classifier: ClassifierFn;
  sigma: number;
  batchSize: number;
  seed: number;
  signal?: AbortSignal;
}

/** Class counts of the base classifier over `num` noisy latent samples of the one image `x1` ([1, h, w, c]). */
async function sampleCounts(s: Sampler, x1: tf.Tensor4D, num: number, purpose: string, index: number): Promise<number[]> {
  const prior = s.set.prior(x1);
  // The image repeated for a full batch, once per call: broadcasting x·1 (exact), because
  // tfjs-wasm's Tile (and Gather) take about a second for 500 copies of a 42×42 canvas.
  const repeated = tf.tidy(() => tf.mul(x1, tf.ones([Math.min(s.batchSize, num), 1, 1, 1])) as tf.Tensor4D);
  let counts: number[] = [];
  try {
    for (let done = 0, chunk = 0; done < num; chunk++) {
      await checkStop(s.signal, 'smoothing');
      const m = Math.min(s.batchSize, num - done);
      let classes = 0;
      const predicted = tf.tidy(() => {
        const u = tf.randomNormal([m, s.set.model.latentDim], 0, s.sigma, 'float32', seedFor(s.seed, purpose, `${index}/${chunk}`)) as tf.Tensor2D;
        const xs = m === repeated.shape[0] ? repeated : tf.slice(repeated, 0, m);
        const logits = s.classifier(s.set.model.generate(xs, s.set.latent(prior, u), false));
        if (logits.rank !== 2 || logits.shape[0] !== m) throw new ArgumentError(`smoothing: the classifier must return logits [${m}, classes], got [${logits.shape}]`);
        classes = logits.shape[1];
        return tf.argMax(logits, 1);
      });
      const classesOf = await predicted.data();
      predicted.dispose();
      if (counts.length === 0) counts = new Array<number>(classes).fill(0);
      for (const c of classesOf) counts[c]++;
      done += m;
    }
    return counts;
  } finally {
    tf.dispose([prior.mu, prior.sigma, repeated]);
  }
}

function sampler(setOrModel: SetOrModel, classifier: ClassifierFn, options: SmoothingOptions, where: string): Sampler {
  if (typeof classifier !== 'function') throw new ArgumentError(`${where}: classifier must be a function from images to logits`);
  checkSigma(options?.sigma, where);
  const batchSize = options.batchSize ?? 500;
  checkPositiveInteger(batchSize, 'batchSize', where);
  // Smoothing never projects, so the radius of a set built from a bare CVAE plays no part.
  return { set: asSet(setOrModel, 1, where), classifier, sigma: options.sigma, batchSize, seed: options.seed ?? 0, signal: options.signal };
}

function argmax(counts: number[]): number {
  let best = 0;
  for (let c = 1; c < counts.length; c++) if (counts[c] > counts[best]) best = c;
  return best;
}

/** The image `i` of `x` as [1, h, w, c] (the caller disposes). */
function imageAt(x: tf.Tensor4D, i: number): tf.Tensor4D {
  return tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]);
}

/** PREDICT (Cohen et al.): the smoothed class of each image of `x`, or ABSTAIN when the top two counts are not separated at level α. */
export async function smoothedPredict(setOrModel: SetOrModel, classifier: ClassifierFn, x: tf.Tensor4D, options: PredictOptions): Promise<SmoothedPrediction> {
  const where = 'smoothedPredict';
  checkImages(x, where);
  const s = sampler(setOrModel, classifier, options, where);
  const n = options.n ?? 100;
  checkPositiveInteger(n, 'n', where);
  const alpha = options.alpha ?? 0.001;
  checkLevel(alpha, where);
  const out: SmoothedPrediction = { prediction: [], pValue: [], counts: [] };
  for (let i = 0; i < x.shape[0]; i++) {
    const x1 = imageAt(x, i);
    try {
      const counts = await sampleCounts(s, x1, n, 'predict', i);
      const order = counts.map((_, c) => c).sort((a, b) => counts[b] - counts[a] || a - b);
      const nA = counts[order[0]];
      const nB = order.length > 1 ? counts[order[1]] : 0;
      const p = binomialTestPValue(nA, nA + nB, 0.5);
      out.prediction.push(p > alpha ? ABSTAIN : order[0]);
      out.pValue.push(p);
      out.counts.push(counts);
    } finally {
      x1.dispose();
    }
  }
  return out;
}

/** CERTIFY (Cohen et al.) for each image of `x`: n0 samples select the top class, n fresh samples bound its probability, R = σ·Φ⁻¹(p̲). */
export async function certify(
  setOrModel: SetOrModel,
  classifier: ClassifierFn,
  x: tf.Tensor4D,
  labels: tf.Tensor1D | ArrayLike<number>,
  options: CertifyOptions,
): Promise<CertificationResult> {
  const where = 'certify';
  checkImages(x, where);
  const s = sampler(setOrModel, classifier, options, where);
  const n0 = options.n0 ?? 100;
  const n = options.n ?? 10000;
  checkPositiveInteger(n0, 'n0', where);
  checkPositiveInteger(n, 'n', where);
  const alpha = options.alpha ?? 0.001;
  checkLevel(alpha, where);
  const y = labelTensor(labels, x.shape[0], where);
  const ys = Array.from(await y.data());
  y.dispose();
  const total = x.shape[0];
  const examples: CertifiedExample[] = [];
  for (let i = 0; i < total; i++) {
    const x1 = imageAt(x, i);
    let result: CertifiedExample;
    try {
      const top = argmax(await sampleCounts(s, x1, n0, 'selection', i));
      const counts = await sampleCounts(s, x1, n, 'estimation', i);
      const pLower = clopperPearsonLower(counts[top] ?? 0, n, alpha);
      const prediction = pLower < 0.5 ? ABSTAIN : top;
      const radius = prediction === ABSTAIN ? 0 : s.sigma * normalQuantile(pLower);
      result = { label: ys[i], prediction, pLower, radius, correct: prediction === ys[i] };
    } finally {
      x1.dispose();
    }
    examples.push(result);
    await options.callbacks?.onExampleEnd?.({ example: i + 1, total, result });
  }
  return { sigma: s.sigma, n0, n, alpha, maxRadius: maxCertifiableRadius(s.sigma, n, alpha), examples };
}

/**
 * Certified accuracy at each radius in `radii` (default: 11 points from 0 to the largest
 * certifiable radius), the average radius and the abstention rate of a certification.
 */
export function summarizeCertification(result: CertificationResult, radii?: number[]): CertificationSummary {
  const ex = result?.examples;
  if (!Array.isArray(ex) || ex.length === 0) throw new ArgumentError('summarizeCertification: the result has no examples');
  const at = radii ?? Array.from({ length: 11 }, (_, i) => (result.maxRadius * i) / 10);
  if (!at.every((r) => Number.isFinite(r) && r >= 0)) throw new ArgumentError(`summarizeCertification: radii must be finite numbers >= 0, got [${at}]`);
  const count = ex.length;
  return {
    sigma: result.sigma,
    n: result.n,
    alpha: result.alpha,
    certifiedAccuracy: at.map((radius) => ({ radius, accuracy: ex.filter((e) => e.correct && e.radius >= radius).length / count })),
    averageRadius: ex.reduce((s, e) => s + e.radius, 0) / count,
    abstain: ex.filter((e) => e.prediction === ABSTAIN).length / count,
    maxRadius: result.maxRadius,
    count,
  };
}
