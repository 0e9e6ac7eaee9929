/**
 * `mnist_conv`: convolutional CVAE on 28×28×1 with a spatial 7×7×128 latent
 * (flattened in NHWC order, 6272 values).
 *   encoder (C = 1 prior, 2 recognition: channels [x, x̃]):
 *     conv1 3×3 (C→32, pad 1) → ReLU → maxpool 2 → conv2 3×3 (32→64, pad 1) → ReLU → maxpool 2
 *     → conv31 3×3 (64→128, pad 1) = μ, conv32 3×3 (64→128, pad 1) = log σ²
 *   generator: [downsample3(x) (1×1 conv, stride 4 → 7×7), z] (129 ch) → conv3 3×3 (→64) → ReLU
 *     → nearest ×2 → [downsample4(x) (1×1, stride 2 → 14×14), ·] (65 ch) → conv4 3×3 (→32) → ReLU
 *     → nearest ×2 → [x, ·] (33 ch) → conv5 3×3 (→1) → sigmoid
 * Layer names are the reference's module names.
 */
import * as tf from '@tensorflow/tfjs';
import { CVAEBase, type CVAEOptions } from './cvae-base';
import { Conv2d, upsampleNearest2x } from './layers';
import type { DiagonalGaussian } from './types';
import type { VariableStore } from './variable-store';

const LATENT_CHANNELS = 128;

class ConvEncoder {
  private readonly conv1: Conv2d;
  private readonly conv2: Conv2d;
  private readonly conv31: Conv2d;
  private readonly conv32: Conv2d;

  constructor(store: VariableStore, scope: string, inChannels: number) {
    this.conv1 = new Conv2d(store, `${scope}/conv1`, inChannels, 32, 3, { padding: 1 });
    this.conv2 = new Conv2d(store, `${scope}/conv2`, 32, 64, 3, { padding: 1 });
    this.conv31 = new Conv2d(store, `${scope}/conv31`, 64, LATENT_CHANNELS, 3, { padding: 1 });
    this.conv32 = new Conv2d(store, `${scope}/conv32`, 64, LATENT_CHANNELS, 3, { padding: 1 });
  }

  apply(x: tf.Tensor4D): DiagonalGaussian {
    const out = tf.tidy(() => {
      const h1 = tf.maxPool(this.conv1.apply(x, 'relu'), 2, 2, 'valid');
      const h2 = tf.maxPool(this.conv2.apply(h1, 'relu'), 2, 2, 'valid');
      const flat = (t: tf.Tensor4D): tf.Tensor2D => tf.reshape(t, [x.shape[0], -1]);
      return [flat(this.conv31.apply(h2)), flat(this.conv32.apply(h2))];
    });
    return { mu: out[0], logvar: out[1] };
  }
}

export class MnistConv extends CVAEBase {
  readonly architecture = 'mnist_conv' as const;
  readonly inputShape: [number, number, number] = [28, 28, 1];
  readonly latentDim = 7 * 7 * LATENT_CHANNELS;
  protected readonly priorNet: ConvEncoder;
  protected readonly recognitionNet: ConvEncoder;
  private readonly downsample3: Conv2d;
  private readonly downsample4: Conv2d;
  private readonly conv3: Conv2d;
  private readonly conv4: Conv2d;
  private readonly conv5: Conv2d;

  constructor(options: CVAEOptions = {}) {
    super(options);
    this.priorNet = new ConvEncoder(this.store, 'prior', 1);
    this.recognitionNet = new ConvEncoder(this.store, 'recognition', 2);
    this.downsample3 = new Conv2d(this.store, 'generator/downsample3', 1, 1, 1, { stride: 4 });
    this.downsample4 = new Conv2d(this.store, 'generator/downsample4', 1, 1, 1, { stride: 2 });
    this.conv3 = new Conv2d(this.store, 'generator/conv3', LATENT_CHANNELS + 1, 64, 3, { padding: 1 });
    this.conv4 = new Conv2d(this.store, 'generator/conv4', 64 + 1, 32, 3, { padding: 1 });
    this.conv5 = new Conv2d(this.store, 'generator/conv5', 32 + 1, 1, 3, { padding: 1 });
  }

  generateLogits(x: tf.Tensor4D, z: tf.Tensor2D): tf.Tensor4D {
    this.checkImages(x, 'x');
    this.checkLatent(z, x.shape[0]);
    return tf.tidy(() => {
      const zMap = tf.reshape(z, [x.shape[0], 7, 7, LATENT_CHANNELS]) as tf.Tensor4D;
      let h = this.conv3.apply(tf.concat([this.downsample3.apply(x), zMap], 3), 'relu');
      h = this.conv4.apply(tf.concat([this.downsample4.apply(x), upsampleNearest2x(h)], 3), 'relu');
      return this.conv5.apply(tf.concat([x, upsampleNearest2x(h)], 3));
    });
  }
}
