/**
 * `mnist_fc`: fully connected CVAE on 28×28×1 with a 784-dimensional latent.
 *   prior:       flatten(x) → fc1 (784→784) → ReLU → fc21 (μ), fc22 (log σ²), each 784→784
 *   recognition: [flatten(x), flatten(x̃)] → fc1 (1568→784) → ReLU → fc21, fc22
 *   generator:   [flatten(x), z] → fc3 (1568→784) → ReLU → fc4 (784→784) → sigmoid → 28×28×1
 * Layer names are the reference's module names, so its state_dict keys map one to one.
 */
import * as tf from '@tensorflow/tfjs';
import { CVAEBase, type CVAEOptions } from './cvae-base';
import { Dense, flattenChannelsFirst, flattenSingleChannel } from './layers';
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

  /** PyTorch flattens (C, H, W): for the recognition network x's pixels, then x̃'s. */
  apply(x: tf.Tensor4D): DiagonalGaussian {
    const out = tf.tidy(() => {
      const h = this.fc1.apply(flattenChannelsFirst(x), 'relu');
      return [this.fc21.apply(h), this.fc22.apply(h)];
    });
    return { mu: out[0], logvar: out[1] };
  }
}

export class MnistFc extends CVAEBase {
  readonly architecture = 'mnist_fc' as const;
  readonly inputShape: [number, number, number] = [28, 28, 1];
  readonly latentDim = PIXELS;
  protected readonly priorNet: FcEncoder;
  protected readonly recognitionNet: FcEncoder;
  private readonly fc3: Dense;
  private readonly fc4: Dense;

  constructor(options: CVAEOptions = {}) {
    super(options);
    this.priorNet = new FcEncoder(this.store, 'prior', PIXELS);
    this.recognitionNet = new FcEncoder(this.store, 'recognition', 2 * PIXELS);
    this.fc3 = new Dense(this.store, 'generator/fc3', 2 * PIXELS, PIXELS);
    this.fc4 = new Dense(this.store, 'generator/fc4', PIXELS, PIXELS);
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
