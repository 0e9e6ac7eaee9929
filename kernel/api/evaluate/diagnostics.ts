/**
 * Diagnostics that catch a degenerate set: how much the members of S(x) differ from each other
 * (`sampleSpread`), and the posterior-collapse flag of an evaluation (`collapseDiagnostics`).
 *
 * A collapsed CVAE has q(z | x, x̃) = p(z | x): the latent code carries nothing about x̃, the
 * generator learns to ignore it, and every member of S(x) is the same image. Three signals show
 * it, each alone ambiguous, so the flag needs two of them:
 * - KL per latent dimension below `KL_PER_DIM_THRESHOLD` (q sits on p);
 * - the expected AE within `EAE_GAP_THRESHOLD` (relative) of the encoder AE (a random member is
 *   as good as the encoder's point: the encoder adds nothing);
 * - the sample spread below `SPREAD_THRESHOLD` (samples of S(x) look alike).
 * A trained MNIST ℓ∞ set (20 epochs, `mnist_fc`) has KL 0.73 nats per dimension, EAE 21 % above
 * the encoder AE and a spread of 0.05; a 5-epoch one on 10k images 0.077, 1 % and 0.008.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import type { PerturbationSet } from '../models/perturbation-set';

/** KL(q ‖ p) per latent dimension (nats) below which q is taken to sit on the prior. */
export const KL_PER_DIM_THRESHOLD = 0.05;
/** (EAE − encoder AE) / encoder AE below which random members are as good as the encoder's point. */
export const EAE_GAP_THRESHOLD = 0.05;
/** Mean per-pixel standard deviation across samples of S(x) below which the samples look alike (≈ 2.5/255). */
export const SPREAD_THRESHOLD = 0.01;

export interface SpreadOptions {
  /** Members of S(x) drawn per image (default 8). */
  samples?: number;
  /** Seed of the prior draws (default 0). */
  seed?: number;
}

/**
 * Per image, the per-pixel standard deviation across `samples` members of S(x) (prior draws u,
 * projected onto ‖u‖ ≤ ε), averaged over pixels: a [batch] tensor the caller disposes. 0 means
 * every sample is the same image.
 */
export function sampleSpread(set: PerturbationSet, x: tf.Tensor4D, options: SpreadOptions = {}): tf.Tensor1D {
  const n = options.samples ?? 8;
  if (!Number.isInteger(n) || n < 2) throw new ArgumentError(`sampleSpread: samples must be an integer >= 2, got ${n}`);
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const s = set.sample(x, n, { seed: options.seed ?? 0 }).reshape([b, n, h * w * c]);
    const { variance } = tf.moments(s, 1);
    return tf.mean(tf.sqrt(variance), 1) as tf.Tensor1D;
  });
}

/** One signal of the collapse flag: its value, the threshold, and whether it fired (value < threshold). */
export interface CollapseSignal {
  value: number;
  threshold: number;
  fired: boolean;
}

export interface CollapseDiagnostics {
  /** True when at least two of the three signals fired. */
  collapsed: boolean;
  /** One line saying why, for people. */
  reason: string;
  /** KL(q ‖ p) per example divided by the latent dimension (nats). */
  klPerDim: CollapseSignal;
  /** (expected AE − encoder AE) / encoder AE under the reference metric. */
  eaeGap: CollapseSignal;
  /** Mean per-pixel standard deviation across samples of S(x). */
  sampleSpread: CollapseSignal;
}

/** The posterior-collapse flag from an evaluation's KL, encoder AE, expected AE and sample spread. */
export function collapseDiagnostics(figures: { kl: number; encoderAE: number; expectedAE: number; sampleSpread: number }, latentDim: number): CollapseDiagnostics {
  if (!(Number.isInteger(latentDim) && latentDim > 0)) throw new ArgumentError(`collapseDiagnostics: latentDim must be a positive integer, got ${latentDim}`);
  const signal = (value: number, threshold: number): CollapseSignal => ({ value, threshold, fired: value < threshold });
  const klPerDim = signal(figures.kl / latentDim, KL_PER_DIM_THRESHOLD);
  const eaeGap = signal((figures.expectedAE - figures.encoderAE) / Math.max(Math.abs(figures.encoderAE), 1e-12), EAE_GAP_THRESHOLD);
  const sampleSpread = signal(figures.sampleSpread, SPREAD_THRESHOLD);
  const g = (v: number) => v.toPrecision(2);
  const gap = (v: number) => `${Math.abs(100 * v).toFixed(1)} % ${v < 0 ? 'below' : 'above'}`;
  const said = [
    klPerDim.fired ? `KL per dimension ${g(klPerDim.value)} < ${klPerDim.threshold} nats` : null,
    eaeGap.fired ? `EAE ${gap(eaeGap.value)} the encoder AE (fires below ${100 * eaeGap.threshold} % above)` : null,
    sampleSpread.fired ? `samples of S(x) differ by ${g(sampleSpread.value)} per pixel (< ${sampleSpread.threshold})` : null,
  ].filter((s): s is string => s !== null);
  const collapsed = said.length >= 2;
  const reason = collapsed
    ? `posterior collapse: ${said.join('; ')}`
    : said.length === 1
      ? `no collapse (one signal of three: ${said[0]})`
      : `no collapse: KL per dimension ${g(klPerDim.value)}, EAE ${gap(eaeGap.value)} the encoder AE, sample spread ${g(sampleSpread.value)}`;
  return { collapsed, reason, klPerDim, eaeGap, sampleSpread };
}
