/**
 * The reference's scaled-tanh log-variance (used by its CIFAR and Multi-Illumination models,
 * not by the MNIST ones): logvar = shift + scale · tanh(a), mapping ℝ onto (ln 1e-3, ln 10), so
 * the variance stays in (0.001, 10). At a = 0 the variance is 0.1.
 */
import * as tf from '@tensorflow/tfjs';

export const SCALED_TANH_LOWER = Math.log(1e-3);
export const SCALED_TANH_UPPER = Math.log(10);

export interface ScaledTanhBounds {
  /** Lower end of the log-variance range (default ln 1e-3). */
  lower?: number;
  /** Upper end of the log-variance range (default ln 10). */
  upper?: number;
}

export function scaledTanh<T extends tf.Tensor>(a: T, bounds: ScaledTanhBounds = {}): T {
  const lower = bounds.lower ?? SCALED_TANH_LOWER;
  const upper = bounds.upper ?? SCALED_TANH_UPPER;
  const shift = (lower + upper) / 2;
  // Negative scale as the reference (it only mirrors the map).
  const scale = (lower - upper) / 2;
  return tf.tidy(() => tf.add(tf.mul(tf.tanh(a), scale), shift)) as T;
}
