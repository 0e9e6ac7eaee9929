/**
 * Latent-PGD adversarial examples of a robust run for a picture: the first test images, the member
 * of the learned set that latent PGD finds at one radius against the run's classifier, and the
 * predictions on both (the same attack as `robust-eval`, on a handful of images).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import { LATENT_ATTACK_PRESETS, latentAttack } from '../robustness/latent-attack';
import type { ClassifierFn } from '../robustness/classifier';
import { openRobustRun, openRunCvae, robustTestPairs, type RobustCheckpointName } from './open';

export interface AdversarialExamplesOptions {
  /** Latent radius of the attack. */
  radius: number;
  /** The CVAE run folder whose set to attack in (default: the one the run trained against). */
  cvae?: string;
  /** First N test images (default 8). */
  count?: number;
  /** Latent PGD steps (default 50). */
  steps?: number;
  /** Seed of the attack's random start (default: the config's). */
  seed?: number;
  checkpoint?: RobustCheckpointName;
  dataDir?: string;
}

export interface AdversarialExamples {
  /** The clean test images and the adversarial members of the set, [count, h, w, c] (the caller disposes them). */
  x: tf.Tensor4D;
  adversarial: tf.Tensor4D;
  labels: number[];
  /** Predictions on the clean and on the adversarial images. */
  clean: number[];
  predicted: number[];
  /** Images still classified correctly after the attack. */
  correct: number;
  radius: number;
  steps: number;
  config: string;
}

export async function adversarialExamples(runDir: string, options: AdversarialExamplesOptions): Promise<AdversarialExamples> {
  if (!(options.radius > 0) || !Number.isFinite(options.radius)) throw new ArgumentError(`radius must be a finite number > 0, got ${options.radius}`);
  const count = options.count ?? 8;
  if (!Number.isInteger(count) || count < 1) throw new ArgumentError(`count must be an integer >= 1, got ${count}`);
  const run = openRobustRun(runDir, { checkpoint: options.checkpoint });
  let model: { dispose(): void } | null = null;
  try {
    const opened = openRunCvae(run, options.cvae);
    model = opened.model;
    const seed = options.seed ?? run.config.seed;
    const { images, pairs } = robustTestPairs(run, { limit: count, dataDir: options.dataDir, seed });
    const { x, xPerturbed, indices } = pairs.tensorBatch(0, 0, count);
    xPerturbed.dispose();
    const labels = Array.from(images.gatherLabels(indices));
    const classify: ClassifierFn = (t) => run.classifier.logits(t, false);
    const steps = options.steps ?? LATENT_ATTACK_PRESETS.evaluation.steps;
    const r = await latentAttack(opened.model, classify, x, labels, { epsilon: options.radius, steps, seed });
    r.u.dispose();
    const predict = (t: tf.Tensor4D) => Array.from(tf.tidy(() => tf.argMax(classify(t), 1).dataSync()));
    return {
      x,
      adversarial: r.adversarial,
      labels,
      clean: predict(x),
      predicted: predict(r.adversarial),
      correct: Array.from(r.correct).filter(Boolean).length,
      radius: options.radius,
      steps,
      config: run.config.name,
    };
  } finally {
    model?.dispose();
    run.classifier.dispose();
  }
}
