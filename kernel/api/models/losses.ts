/**
 * The CVAE loss terms as the reference computes them (`cvae.py`), per example:
 *  - KL(q ‖ p) between diagonal Gaussians, closed form, summed over latent dimensions;
 *  - reconstruction −log p(x̃ | x, z) summed over pixels: binary cross-entropy for `bernoulli`,
 *    plain squared error (no ½) for `gaussian`.
 * Reductions over the batch (the reference sums) are the caller's choice.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import type { DiagonalGaussian, OutputDistribution } from './types';

/** KL(q ‖ p) per example, [batch]: ½ Σ (σ_q²/σ_p² + (μ_p − μ_q)²/σ_p² − 1 + log σ_p² − log σ_q²). */
export function klDiagonalGaussian(q: DiagonalGaussian, p: DiagonalGaussian): tf.Tensor1D {
  return tf.tidy(() => {
    const invVarP = tf.exp(tf.neg(p.logvar));
    const terms = tf.add(
      tf.mul(tf.add(tf.exp(q.logvar), tf.squaredDifference(p.mu, q.mu)), invVarP),
      tf.sub(tf.sub(p.logvar, q.logvar), 1),
    );
    return tf.mul(tf.sum(terms, 1), 0.5) as tf.Tensor1D;
  });
}

/**
 * Reconstruction loss per example, [batch], from generator logits (stable: the sigmoid is folded
 * into the loss). For `bernoulli` this equals PyTorch's `binary_cross_entropy(sigmoid(logits), x̃)`
 * summed over pixels, except that PyTorch clamps each log at −100 (only reachable when the
 * sigmoid saturates in float32). For `gaussian` it is Σ (sigmoid(logits) − x̃)².
 */
export function reconstructionFromLogits(logits: tf.Tensor, target: tf.Tensor,
  distribution: OutputDistribution = 'bernoulli'): tf.Tensor1D {
  if (!shapesEqual(logits.shape, target.shape)) {
    throw new ArgumentError(`reconstruction: logits shape [${logits.shape}] differs from target shape [${target.shape}]`);
  }
  return tf.tidy(() => {
    const batch = logits.shape[0];
    let perPixel: tf.Tensor;
    if (distribution === 'bernoulli') {
      // max(l, 0) − l·t + log(1 + e^{−|l|})
      perPixel = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, target)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    } else if (distribution === 'gaussian') {
      perPixel = tf.squaredDifference(tf.sigmoid(logits), target);
    } else {
      throw new ArgumentError(`reconstruction: unknown output distribution "${distribution as string}"; expected bernoulli or gaussian`);
    }
    return tf.sum(tf.reshape(perPixel, [batch, -1]), 1) as tf.Tensor1D;
  });
}

/**
 * The same loss from probabilities in [0, 1] (e.g. `model.generate` output), with PyTorch's
 * clamp of each log at −100 for `bernoulli`. Use this for metrics on decoded images.
 */
export function reconstructionFromProbabilities(probs: tf.Tensor, target: tf.Tensor,
  distribution: OutputDistribution = 'bernoulli'): tf.Tensor1D {
  if (!shapesEqual(probs.shape, target.shape)) {
    throw new ArgumentError(`reconstruction: output shape [${probs.shape}] differs from target shape [${target.shape}]`);
  }
  return tf.tidy(() => {
    const batch = probs.shape[0];
    let perPixel: tf.Tensor;
    if (distribution === 'bernoulli') {
      const logP = tf.maximum(tf.log(probs), -100);
      const log1mP = tf.maximum(tf.log(tf.sub(1, probs)), -100);
      perPixel = tf.neg(tf.add(tf.mul(target, logP), tf.mul(tf.sub(1, target), log1mP)));
    } else if (distribution === 'gaussian') {
      perPixel = tf.squaredDifference(probs, target);
    } else {
      throw new ArgumentError(`reconstruction: unknown output distribution "${distribution as string}"; expected bernoulli or gaussian`);
    }
    return tf.sum(tf.reshape(perPixel, [batch, -1]), 1) as tf.Tensor1D;
  });
}

function shapesEqual(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
