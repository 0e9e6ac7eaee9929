/**
 * The CVAE objective of one batch, as the reference's `vae_loss`: z = μ_q + σ_q ⊙ n drawn with a
 * seeded n ~ N(0, I), reconstruction −log p(x̃ | x, z) from the generator's logits and
 * KL(q ‖ p), both per example; the training loss is their batch SUM, recon + β·KL.
 */
import * as tf from '@tensorflow/tfjs';
import { klDiagonalGaussian, reconstructionFromLogits } from '../models/losses';
import type { CVAE } from '../models/types';
import type { PairBatch } from '../pairs/source';

/** Per-example reconstruction and KL of a batch ([batch] each); call inside `tf.tidy`. */
export function cvaeLossTerms(model: CVAE, b: PairBatch, noiseSeed: number, training: boolean): { recon: tf.Tensor1D; kl: tf.Tensor1D } {
  const x = tf.tensor4d(b.x, b.shape);
  const xt = tf.tensor4d(b.xPerturbed, b.shape);
  const p = model.prior(x, training);
  const q = model.recognition(x, xt, training);
  const eps = tf.randomNormal(q.mu.shape, 0, 1, 'float32', noiseSeed);
  const z = tf.add(q.mu, tf.mul(tf.exp(tf.mul(q.logvar, 0.5)), eps)) as tf.Tensor2D;
  const logits = model.generateLogits(x, z, training);
  return { recon: reconstructionFromLogits(logits, xt, model.outputDistribution), kl: klDiagonalGaussian(q, p) };
}

export interface StepGradients {
  /** Per-example means of the batch: loss = recon + β·KL. */
  loss: number;
  kl: number;
  recon: number;
  /** Squared global norm of the gradients (for divergence detection). */
  gradNormSq: number;
  /** Gradient of each of `variables`, in order; the caller disposes them. */
  grads: tf.Tensor[];
}

/** Gradients of the summed loss recon + β·KL with respect to `variables`, and the step's figures. */
export async function cvaeGradients(model: CVAE, variables: tf.Variable[], b: PairBatch, beta: number, noiseSeed: number): Promise<StepGradients> {
  let sums: tf.Tensor | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const { recon, kl } = cvaeLossTerms(model, b, noiseSeed, true);
    const r = tf.sum(recon);
    const k = tf.sum(kl);
    sums = tf.keep(tf.stack([r, k]));
    return tf.add(r, tf.mul(k, beta)) as tf.Scalar;
  }, variables);
  const ordered = variables.map((v) => grads[v.name]);
  const stats = tf.tidy(() => tf.concat([tf.reshape(value, [1]), sums!, tf.reshape(tf.addN(ordered.map((g) => tf.sum(tf.square(g)))), [1])]));
  const [loss, r, k, g2] = await stats.data();
  tf.dispose([stats, value, sums!]);
  const n = b.shape[0];
  return { loss: loss / n, kl: k / n, recon: r / n, gradNormSq: g2, grads: ordered };
}
