/**
 * The latent PGD of CVAE adversarial training (the reference's `CVAE_attack` in attacks.py,
 * paper.md §5), in training settings: 7 steps, α = ε/5. Kept to this one function so it can be
 * unified with the evaluation attack; same semantics:
 *  1. μ_p, σ_p from the (frozen, eval-mode) prior on x; u starts at a random Gaussian direction
 *     scaled to a radius drawn uniformly from [0, ε];
 *  2. each step decodes x' = g(x, μ_p + σ_p ⊙ u), classifies it and stops once no example is
 *     still correct; otherwise it takes the gradient of the mean cross-entropy with respect to u,
 *     normalises it per example to unit ℓ2 and moves only the still-correct examples by α along
 *     it (ascent), then projects them onto ‖u‖₂ ≤ ε (per example, as the paper defines the set);
 *  3. returns g(x, μ_p + σ_p ⊙ u), with no gradient to anything.
 */
import * as tf from '@tensorflow/tfjs';
import type { CVAE } from '../models/types';

export interface LatentPgdOptions {
  /** Latent radius ε (prior-normalised units). */
  epsilon: number;
  /** Step size (default ε/5). */
  alpha?: number;
  /** Steps (default 7). */
  steps?: number;
  /** Seed of the random start (default 0). */
  seed?: number;
}

/** Per-example ℓ2 norms of the rows of a [batch, d] tensor, as [batch, 1]. */
function rowNorms(t: tf.Tensor2D): tf.Tensor2D {
  return tf.sqrt(tf.sum(tf.square(t), 1, true)) as tf.Tensor2D;
}

/**
 * Adversarial members of the latent ball for `x` with labels `y` against `logits` (which may run
 * the classifier in training mode, as the reference's training loop does). Resolves to x_adv
 * [batch, h, w, c]; the caller disposes it.
 */
export async function trainingLatentPgd(
  cvae: CVAE,
  logits: (x: tf.Tensor4D) => tf.Tensor2D,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  options: LatentPgdOptions,
): Promise<tf.Tensor4D> {
  const eps = options.epsilon;
  const alpha = options.alpha ?? eps / 5;
  const steps = options.steps ?? 7;
  const seed = options.seed ?? 0;
  const [mu, sigma] = tf.tidy(() => {
    const p = cvae.prior(x, false);
    return [p.mu, tf.exp(tf.mul(p.logvar, 0.5))];
  });
  const [batch, dim] = mu.shape;
  let u = tf.tidy(() => {
    const direction = tf.randomNormal([batch, dim], 0, 1, 'float32', seed) as tf.Tensor2D;
    const radius = tf.randomUniform([batch, 1], 0, eps, 'float32', seed + 1);
    return tf.mul(direction, tf.div(radius, rowNorms(direction))) as tf.Tensor2D;
  });
  const decode = (v: tf.Tensor2D) => cvae.generate(x, tf.add(mu, tf.mul(sigma, v)) as tf.Tensor2D, false);
  try {
    for (let i = 0; i < steps; i++) {
      let correct: tf.Tensor | null = null;
      const lossOf = (v: tf.Tensor): tf.Scalar => {
        const out = logits(decode(v as tf.Tensor2D));
        correct = tf.keep(tf.equal(tf.argMax(out, 1), tf.cast(y, 'int32')));
        return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(y, 'int32'), out.shape[1]), out) as tf.Scalar;
      };
      const grad = tf.tidy(() => tf.grad(lossOf)(u));
      const stillCorrect = correct as unknown as tf.Tensor1D;
      const any = tf.any(stillCorrect);
      const anyCorrect = (await any.data())[0] !== 0;
      any.dispose();
      if (!anyCorrect) {
        tf.dispose([grad, stillCorrect]);
        break;
      }
      const next = tf.tidy(() => {
        const g = tf.div(grad, tf.maximum(rowNorms(grad as tf.Tensor2D), 1e-12));
        const stepped = tf.add(u, tf.mul(g, alpha)) as tf.Tensor2D;
        const projected = tf.mul(stepped, tf.minimum(1, tf.div(eps, tf.maximum(rowNorms(stepped), 1e-12))));
        return tf.where(tf.reshape(stillCorrect, [batch, 1]), projected, u) as tf.Tensor2D;
      });
      tf.dispose([grad, stillCorrect, u]);
      u = next;
    }
    return tf.tidy(() => decode(u));
  } finally {
    tf.dispose([mu, sigma, u]);
  }
}
