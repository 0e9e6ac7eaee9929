/**
 * One robust training step per `attack.type` (the paper's Section 5; the reference's robust_train.py):
 *  - none:          CE on the clean batch;
 *  - sample_aug:    CE on one real perturbation x̃ per example (clean images are not in the loss);
 *  - cvae_aug:      CE on one prior sample g(x, μ_p + σ_p ⊙ n), drawn with no gradient;
 *  - cvae_gaussian: CE on g(x, μ_p + σ_p ⊙ σ·n) (training for latent randomized smoothing);
 *  - cvae_attack:   the per-example max(CE(clean), CE(adversarial)) averaged over the batch, the
 *                   adversarial input from latent PGD (`robustness`'s, training preset: 7 steps, α = ε/5).
 * The CVAE is frozen and in eval mode; the classifier runs in training mode throughout (the
 * attack included, as the reference's loop calls the attack after `model.train()`).
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../classifiers/types';
import type { RobustConfig } from '../config/robust';
import type { CVAE } from '../models/types';
import { latentPgd } from '../robustness/latent-attack';

export interface RobustBatch {
  x: tf.Tensor4D;
  /** The real perturbation of x (sample_aug). */
  xPerturbed: tf.Tensor4D;
  /** Integer labels [batch]. */
  y: tf.Tensor1D;
}

export interface RobustStep {
  loss: number;
  accuracy: number;
  cleanLoss?: number;
  adversarialLoss?: number;
  gradNormSq: number;
  /** Gradient of each trainable variable, in order; the caller disposes them. */
  grads: tf.Tensor[];
}

/** Per-example cross-entropy [batch] of `logits` against integer labels `y`. */
export function crossEntropy(logits: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.sub(tf.squeeze(tf.logSumExp(logits, 1, true), [1]), tf.sum(tf.mul(logits, tf.oneHot(tf.cast(y, 'int32'), logits.shape[1])), 1)) as tf.Tensor1D);
}

/** A prior sample of the set with noise scale `scale`: g(x, μ_p + σ_p ⊙ scale·n), n ~ N(0, I) from `seed`. */
export function priorSample(cvae: CVAE, x: tf.Tensor4D, scale: number, seed: number): tf.Tensor4D {
  return tf.tidy(() => {
    const p = cvae.prior(x, false);
    const n = tf.randomNormal(p.mu.shape, 0, scale, 'float32', seed);
    return cvae.generate(x, tf.add(p.mu, tf.mul(tf.exp(tf.mul(p.logvar, 0.5)), n)) as tf.Tensor2D, false);
  });
}

/** The inputs the method trains on (cvae_attack: the adversarial ones); the caller disposes them. */
export async function trainingInputs(config: RobustConfig, classifier: Classifier, cvae: CVAE | null, b: RobustBatch, seed: number): Promise<tf.Tensor4D> {
  const a = config.attack;
  switch (a.type) {
    case 'none':
      return tf.clone(b.x);
    case 'sample_aug':
      return tf.clone(b.xPerturbed);
    case 'cvae_aug':
      return priorSample(cvae!, b.x, 1, seed);
    case 'cvae_gaussian':
      return priorSample(cvae!, b.x, a.sigma!, seed);
    case 'cvae_attack': {
      const r = await latentPgd(cvae!, (x) => classifier.logits(x, true), b.x, b.y, { preset: 'training', epsilon: a.epsilon!, alpha: a.alpha!, steps: a.steps, seed });
      r.u.dispose();
      return r.adversarial;
    }
  }
}

/** The method's loss and its gradients with respect to `variables` for one batch. */
export async function robustGradients(config: RobustConfig, classifier: Classifier, cvae: CVAE | null, variables: tf.Variable[], b: RobustBatch, seed: number): Promise<RobustStep> {
  const inputs = await trainingInputs(config, classifier, cvae, b, seed);
  const attack = config.attack.type === 'cvae_attack';
  let figures: tf.Tensor | null = null;
  try {
    const { value, grads } = tf.variableGrads(() => {
      const out = classifier.logits(inputs, true);
      const ce = crossEntropy(out, b.y);
      const correct = tf.mean(tf.cast(tf.equal(tf.argMax(out, 1), tf.cast(b.y, 'int32')), 'float32'));
      if (!attack) {
        const loss = tf.mean(ce) as tf.Scalar;
        figures = tf.keep(tf.stack([correct, loss, loss]));
        return loss;
      }
      // The reference's objective: max of the clean and adversarial loss per example, then the mean.
      const clean = crossEntropy(classifier.logits(b.x, true), b.y);
      figures = tf.keep(tf.stack([correct, tf.mean(clean), tf.mean(ce)]));
      return tf.mean(tf.maximum(clean, ce)) as tf.Scalar;
    }, variables);
    const ordered = variables.map((v) => grads[v.name]);
    const stats = tf.tidy(() => tf.concat([tf.reshape(value, [1]), figures!, tf.reshape(tf.addN(ordered.map((g) => tf.sum(tf.square(g)))), [1])]));
    const [loss, accuracy, cleanLoss, adversarialLoss, gradNormSq] = await stats.data();
    tf.dispose([stats, value]);
    return attack ? { loss, accuracy, cleanLoss, adversarialLoss, gradNormSq, grads: ordered } : { loss, accuracy, gradNormSq, grads: ordered };
  } finally {
    tf.dispose([inputs, figures!]);
  }
}

/** Clean accuracy and mean CE of `classifier` (eval mode) over labelled batches. */
export async function cleanAccuracy(classifier: Classifier, batches: Iterable<{ x: tf.Tensor4D; y: tf.Tensor1D }>, beforeBatch: () => Promise<void>): Promise<{ accuracy: number; loss: number }> {
  let correct = 0;
  let loss = 0;
  let n = 0;
  for (const b of batches) {
    try {
      await beforeBatch();
      const s = tf.tidy(() => {
        const out = classifier.logits(b.x, false);
        return tf.stack([tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), tf.cast(b.y, 'int32')), 'float32')), tf.sum(crossEntropy(out, b.y))]);
      });
      const [c, l] = await s.data();
      s.dispose();
      correct += c;
      loss += l;
      n += b.x.shape[0];
    } finally {
      tf.dispose([b.x, b.y]);
    }
  }
  return { accuracy: correct / Math.max(1, n), loss: loss / Math.max(1, n) };
}
