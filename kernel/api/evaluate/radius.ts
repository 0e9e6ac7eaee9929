/**
 * Choosing the radius ε as `latent_distances.py`: the distribution over validation pairs of
 * ‖(μ_q − μ_p)/σ_p‖₂, the posterior mean in prior-normalised coordinates (5 passes for MNIST,
 * each with fresh random perturbations). The reference's convention is ε = the maximum,
 * rounded up; lower percentiles serve as attack radii.
 */
import * as tf from '@tensorflow/tfjs';
import type { Callback } from '../callbacks';
import { ArgumentError, InterruptedError } from '../errors';
import { throwIfInterrupted, yieldToEventLoop } from '../interrupt';
import type { CVAE } from '../models/types';
import type { PairSource } from '../pairs/source';

export interface LatentNormStats {
  mean: number;
  /** Population standard deviation (numpy's default). */
  std: number;
  p25: number;
  p50: number;
  p75: number;
  p999: number;
  max: number;
  /** Number of norms (pairs × passes). */
  n: number;
}

export interface RadiusCalibration extends LatentNormStats {
  /** The recommended ε: the maximum norm rounded up (the paper's convention, `roundUpRadius`). */
  radius: number;
  passes: number;
  /** Every norm, in order (pass-major). */
  norms: Float32Array;
}

/** numpy's default (linear) percentile of sorted values, q in [0, 100]. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new ArgumentError('percentile: no values');
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

export function latentNormStats(norms: ArrayLike<number>): LatentNormStats {
  const n = norms.length;
  if (n === 0) throw new ArgumentError('latentNormStats: no norms');
  const sorted = Float64Array.from(norms).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = sum / n;
  let sq = 0;
  for (const v of sorted) sq += (v - mean) ** 2;
  return {
    mean,
    std: Math.sqrt(sq / n),
    p25: percentile(sorted, 25),
    p50: percentile(sorted, 50),
    p75: percentile(sorted, 75),
    p999: percentile(sorted, 99.9),
    max: sorted[n - 1],
    n,
  };
}

/** Where a calibration is: batch `batch` of `batches` in pass `pass` (0-based) of `passes`. */
export interface CalibrationProgress {
  pass: number;
  passes: number;
  batch: number;
  batches: number;
}

export interface CalibrationCallbacks {
  onBatchEnd?: Callback<CalibrationProgress>;
}

/** ε from a maximum norm: rounded up to an integer (≥ 1), or to 2 significant digits below 1. */
export function roundUpRadius(max: number): number {
  if (max >= 1) return Math.ceil(max);
  const scale = 10 ** (1 - Math.floor(Math.log10(max)));
  return Math.ceil(max * scale) / scale;
}

export interface CalibrateOptions {
  /** Passes over the pairs, each with fresh perturbations (reference: 5 for MNIST). */
  passes?: number;
  batchSize?: number;
  signal?: AbortSignal;
  callbacks?: CalibrationCallbacks;
}

/** Latent norms of `pairs` (validation images with the test perturbation), their statistics and the ε they recommend. */
export async function calibrateRadius(model: CVAE, pairs: PairSource, options: CalibrateOptions = {}): Promise<RadiusCalibration> {
  const passes = options.passes ?? 5;
  const bs = options.batchSize ?? 128;
  if (!Number.isInteger(passes) || passes < 1) throw new ArgumentError(`calibrateRadius: passes must be an integer >= 1, got ${passes}`);
  const batches = pairs.batchCount(bs);
  const norms = new Float32Array(passes * pairs.count);
  let k = 0;
  for (let pass = 0; pass < passes; pass++) {
    for (let b = 0; b < batches; b++) {
      await yieldToEventLoop();
      if (options.signal?.aborted) throw new InterruptedError('radius calibration aborted');
      throwIfInterrupted('radius calibration');
      // Pass p draws the perturbations of "epoch" p: fresh pairs every pass, same for a given seed.
      const batch = pairs.batch(pass, b, bs);
      const t = tf.tidy(() => {
        const x = tf.tensor4d(batch.x, batch.shape);
        const xt = tf.tensor4d(batch.xPerturbed, batch.shape);
        const p = model.prior(x, false);
        const q = model.recognition(x, xt, false);
        return tf.norm(tf.div(tf.sub(q.mu, p.mu), tf.exp(tf.mul(p.logvar, 0.5))), 2, 1);
      });
      norms.set(await t.data(), k);
      k += batch.shape[0];
      t.dispose();
      await options.callbacks?.onBatchEnd?.({ pass, passes, batch: b + 1, batches });
    }
  }
  const stats = latentNormStats(norms);
  return { ...stats, radius: roundUpRadius(stats.max), passes, norms };
}
