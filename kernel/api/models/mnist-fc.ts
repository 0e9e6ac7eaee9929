/**
 * `mnist_fc`: fully connected CVAE on 28×28×1 with a 784-dimensional latent.
 *   prior:       flatten(x) → fc1 (784→784) → ReLU → fc21 (μ), fc22 (log σ²), each 784→784
 *   recognition: [flatten(x), flatten(x̃)] → fc1 (1568→784) → ReLU → fc21, fc22
 *   generator:   [flatten(x), z] → fc3 (1568→784) → ReLU → fc4 (784→784) → sigmoid → 28×28×1
 * Layer names are the reference's module names, so its state_dict keys map one to one.
 */
import * as tf from '@tensorflow/tfjs';
import { CVAEBase, type CVAEOptions } from './cvae-base';
import { Dense, flattenSingleChannel } from './layers';
import type { DiagonalGaussian } from './types';
import type { VariableStore } from './variable-store';

const PIXELS = 784;

class FcEncoder {
  private readonly fc1: Dense;
  private readonly fc21: Dense;
  private readonly fc22: Dense;

  constructor(store: VariableStore, scope: string, inFeatures: number) {
    this.fc1 = new Dense(store, `${scope}/fc1`, inFeatures, PIXELS);
    this.fc21 = new Dense(store, `${scope}/fc21`, PIXELS, PIXELS);
    this.fc22 = new Dense(store, `${scope}/fc22`, PIXELS, PIXELS);
  }

  apply(features: tf.Tensor2D): DiagonalGaussian {
    const h = this.fc1.apply(features, 'relu');
    return { mu: this.fc21.apply(h), logvar: this.fc22.apply(h) };
  }
}

export class MnistFc extends CVAEBase {
  readonly architecture = 'mnist_fc' as const;
  readonly inputShape: [number, number, number] = [28, 28, 1];
  readonly latentDim = PIXELS;
  private readonly priorNet: FcEncoder;
  private readonly recognitionNet: FcEncoder;
  private readonly fc3: Dense;
  private readonly fc4: Dense;

  constructor(options: CVAEOptions = {}) {
    super(options);
    this.priorNet = new FcEncoder(this.store, 'prior', PIXELS);
    this.recognitionNet = new FcEncoder(this.store, 'recognition', 2 * PIXELS);
    this.fc3 = new Dense(this.store, 'generator/fc3', 2 * PIXELS, PIXELS);
    this.fc4 = new Dense(this.store, 'generator/fc4', PIXELS, PIXELS);
  }

  prior(x: tf.Tensor4D): DiagonalGaussian {
    this.checkImages(x, 'x');
    const out = tf.tidy(() => {
      const g = this.priorNet.apply(flattenSingleChannel(x));
      return [g.mu, g.logvar];
    });
    return { mu: out[0], logvar: out[1] };
  }

  recognition(x: tf.Tensor4D, xPerturbed: tf.Tensor4D): DiagonalGaussian {
    this.checkImages(x, 'x');
    this.checkImages(xPerturbed, 'xPerturbed');
    const out = tf.tidy(() => {
      // PyTorch concatenates along channels then flattens (C, H, W): x's pixels, then x̃'s.
      const g = this.recognitionNet.apply(tf.concat([flattenSingleChannel(x), flattenSingleChannel(xPerturbed)], 1));
      return [g.mu, g.logvar];
    });
    return { mu: out[0], logvar: out[1] };
  }

  generateLogits(x: tf.Tensor4D, z: tf.Tensor2D): tf.Tensor4D {
    this.checkImages(x, 'x');
    this.checkLatent(z, x.shape[0]);
    return tf.tidy(() => {
      const h = this.fc3.apply(tf.concat([flattenSingleChannel(x), z], 1), 'relu');
      return tf.reshape(this.fc4.apply(h), [x.shape[0], 28, 28, 1]);
    });
  }
}
