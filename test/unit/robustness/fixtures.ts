/**
 * A task, a classifier and a perturbation set small enough to train inside a test:
 *  - images: 28×28 strokes on the left half (class 0) or the right half (class 1);
 *  - a dense classifier trained on them for a few epochs;
 *  - a linear-Gaussian CVAE: p(z | x) = N(0, I) over 16 latents, g(x, z) = sigmoid(6(2x − 1) + zW),
 *    so g(x, 0) ≈ x and each latent direction adds a fixed pattern. It implements the CVAE
 *    contract in a few lines, so attacks and certificates can be checked in seconds (an mnist_fc
 *    CVAE needs minutes of training before its decodings look like the input).
 */
import * as tf from '@tensorflow/tfjs';
import type { CVAE, DiagonalGaussian } from '../../../kernel/api/models';
import { createRng } from '../../../kernel/api/random';
import type { ClassifierFn } from '../../../kernel/api/robustness';

export interface Task {
  x: tf.Tensor4D;
  labels: tf.Tensor1D;
  y: Int32Array;
}

/** `n` images alternating class 0 and 1 (deterministic for `seed`). */
export function twoSideTask(n: number, seed: string): Task {
  const rng = createRng(`two-side/${seed}`);
  const px = new Float32Array(n * 784);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let s = 0; s < 30; s++) px[i * 784 + rng.int(28) * 28 + rng.int(14) + (y[i] ? 14 : 0)] = 1;
  }
  return { x: tf.tensor4d(px, [n, 28, 28, 1]), labels: tf.tensor1d(y, 'int32'), y };
}

export class LinearCVAE implements CVAE {
  // The contract names the reference's architectures; this one has mnist_fc's input and output.
  readonly architecture = 'mnist_fc' as const;
  readonly inputShape: [number, number, number] = [28, 28, 1];
  readonly outputDistribution = 'bernoulli' as const;
  readonly variables: ReadonlyMap<string, tf.Variable>;
  private readonly w: tf.Variable;

  constructor(readonly latentDim = 16, seed = 3, scale = 0.5) {
    this.w = tf.variable(tf.randomNormal([latentDim, 784], 0, scale, 'float32', seed), false, 'linear/w');
    this.variables = new Map([['generator/w', this.w]]);
  }

  prior(x: tf.Tensor4D): DiagonalGaussian {
    return { mu: tf.zeros([x.shape[0], this.latentDim]), logvar: tf.zeros([x.shape[0], this.latentDim]) };
  }

  recognition(x: tf.Tensor4D): DiagonalGaussian {
    return this.prior(x);
  }

  generateLogits(x: tf.Tensor4D, z: tf.Tensor2D): tf.Tensor4D {
    return tf.tidy(() => tf.add(tf.mul(tf.sub(tf.mul(x, 2), 1), 6), tf.reshape(tf.matMul(z, this.w), x.shape)) as tf.Tensor4D);
  }

  generate(x: tf.Tensor4D, z: tf.Tensor2D): tf.Tensor4D {
    return tf.tidy(() => tf.sigmoid(this.generateLogits(x, z)));
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  countParams(): number {
    return 0;
  }

  dispose(): void {
    this.w.dispose();
  }
}

/** A flatten → dense(32, relu) → dense(2) classifier trained on `task` (a few seconds). */
export async function trainDenseClassifier(task: Task, epochs = 10): Promise<{ model: tf.Sequential; classifier: ClassifierFn }> {
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [28, 28, 1] }),
      tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: (yt: tf.Tensor, yp: tf.Tensor) => tf.losses.softmaxCrossEntropy(yt, yp) });
  const targets = tf.oneHot(task.labels, 2);
  await model.fit(task.x, targets, { epochs, batchSize: 64, shuffle: false, verbose: 0 });
  targets.dispose();
  return { model, classifier: (x) => model.apply(x) as tf.Tensor2D };
}

/** Fraction of `x` the classifier gets right. */
export async function accuracy(classifier: ClassifierFn, x: tf.Tensor4D, labels: tf.Tensor1D): Promise<number> {
  const m = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(classifier(x), 1), labels), 'float32')));
  const v = (await m.data())[0];
  m.dispose();
  return v;
}
