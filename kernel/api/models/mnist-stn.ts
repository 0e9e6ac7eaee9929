/**
 * `mnist_stn`: spatial-transformer CVAE on the 42×42×1 padded canvas, latent 128.
 *   Block(n) = [bn1 → ReLU → reflect-pad 2 → conv1 5×5 (n→n)] → [bn2 → ReLU → reflect-pad 2 →
 *              conv2 5×5 (n→n)], no residual.
 *   encoder (C = 1 prior, 2 recognition: channels [x, x̃]): block = Block(C) → flatten in
 *     PyTorch's (C, H, W) order → fc31 (1764·C→128) = μ, fc32 (1764·C→128) = log σ²
 *   generator: fc (128→1764) → 42×42 localisation map; stns.0‥4 each: flatten → localization.1
 *     (1764→512) → ReLU → localization.3 (512→128) → ReLU → fc (128→6, zero weights, identity
 *     bias) → affine grid + bilinear sample of x (border padding); the 5 warped copies → block =
 *     Block(5) → reflect-pad 2 → conv 5×5 (5→1) → sigmoid.
 * Layer names are the reference's module names (`stns.<k>.localization.<i>` as its Sequential).
 */
import * as tf from '@tensorflow/tfjs';
import { affineGridSample } from './bilinear-sampler';
import { CVAEBase, type CVAEOptions } from './cvae-base';
import { BatchNorm2d, Conv2d, Dense, flattenChannelsFirst, reflectPad2d } from './layers';
import type { DiagonalGaussian } from './types';
import type { VariableStore } from './variable-store';

const CANVAS = 42;
const CANVAS_PIXELS = CANVAS * CANVAS;
const LATENT = 128;
const TRANSFORMERS = 5;

/** Two pre-activation 5×5 conv layers with reflection padding, channels unchanged, no skip. */
export class StnBlock {
  private readonly conv1: Conv2d;
  private readonly conv2: Conv2d;
  private readonly bn1: BatchNorm2d;
  private readonly bn2: BatchNorm2d;

  constructor(store: VariableStore, scope: string, channels: number) {
    // Construction order follows the reference's state_dict: conv1, conv2, bn1, bn2.
    this.conv1 = new Conv2d(store, `${scope}/conv1`, channels, channels, 5);
    this.conv2 = new Conv2d(store, `${scope}/conv2`, channels, channels, 5);
    this.bn1 = new BatchNorm2d(store, `${scope}/bn1`, channels);
    this.bn2 = new BatchNorm2d(store, `${scope}/bn2`, channels);
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return tf.tidy(() => {
      const h1 = this.conv1.apply(reflectPad2d(tf.relu(this.bn1.apply(x, training)), 2));
      return this.conv2.apply(reflectPad2d(tf.relu(this.bn2.apply(h1, training)), 2));
    });
  }
}

class StnEncoder {
  private readonly block: StnBlock;
  private readonly fc31: Dense;
  private readonly fc32: Dense;

  constructor(store: VariableStore, scope: string, channels: number) {
    this.block = new StnBlock(store, `${scope}/block`, channels);
    this.fc31 = new Dense(store, `${scope}/fc31`, CANVAS_PIXELS * channels, LATENT);
    this.fc32 = new Dense(store, `${scope}/fc32`, CANVAS_PIXELS * channels, LATENT);
  }

  apply(x: tf.Tensor4D, training: boolean): DiagonalGaussian {
    const out = tf.tidy(() => {
      const h = flattenChannelsFirst(this.block.apply(x, training));
      return [this.fc31.apply(h), this.fc32.apply(h)];
    });
    return { mu: out[0], logvar: out[1] };
  }
}

/** One spatial transformer: an MLP from the localisation map to a 2×3 affine, then the sampler. */
class SpatialTransformer {
  private readonly loc1: Dense;
  private readonly loc3: Dense;
  private readonly fc: Dense;

  constructor(store: VariableStore, scope: string) {
    this.loc1 = new Dense(store, `${scope}/localization/1`, CANVAS_PIXELS, 512);
    this.loc3 = new Dense(store, `${scope}/localization/3`, 512, 128);
    this.fc = new Dense(store, `${scope}/fc`, 128, 6);
    // Start every transformer at the identity map, as the reference.
    tf.tidy(() => {
      this.fc.kernel.assign(tf.zerosLike(this.fc.kernel));
      this.fc.bias.assign(tf.tensor1d([1, 0, 0, 0, 1, 0]));
    });
  }

  apply(image: tf.Tensor4D, localisation: tf.Tensor2D): tf.Tensor4D {
    return tf.tidy(() => {
      const theta = this.fc.apply(this.loc3.apply(this.loc1.apply(localisation, 'relu'), 'relu'));
      return affineGridSample(image, theta);
    });
  }
}

export class MnistStn extends CVAEBase {
  readonly architecture = 'mnist_stn' as const;
  readonly inputShape: [number, number, number] = [CANVAS, CANVAS, 1];
  readonly latentDim = LATENT;
  protected readonly priorNet: StnEncoder;
  protected readonly recognitionNet: StnEncoder;
  private readonly fc: Dense;
  private readonly stns: SpatialTransformer[] = [];
  private readonly block: StnBlock;
  private readonly conv: Conv2d;

  constructor(options: CVAEOptions = {}) {
    super(options);
    this.priorNet = new StnEncoder(this.store, 'prior', 1);
    this.recognitionNet = new StnEncoder(this.store, 'recognition', 2);
    this.fc = new Dense(this.store, 'generator/fc', LATENT, CANVAS_PIXELS);
    for (let k = 0; k < TRANSFORMERS; k++) this.stns.push(new SpatialTransformer(this.store, `generator/stns/${k}`));
    this.block = new StnBlock(this.store, 'generator/block', TRANSFORMERS);
    this.conv = new Conv2d(this.store, 'generator/conv', TRANSFORMERS, 1, 5);
  }

  generateLogits(x: tf.Tensor4D, z: tf.Tensor2D, training = false): tf.Tensor4D {
    this.checkImages(x, 'x');
    this.checkLatent(z, x.shape[0]);
    return tf.tidy(() => {
      // The 42×42 map has one channel, so its row-major flattening is PyTorch's view(B, -1).
      const localisation = this.fc.apply(z);
      const warped = tf.concat(this.stns.map((stn) => stn.apply(x, localisation)), 3);
      return this.conv.apply(reflectPad2d(this.block.apply(warped, training), 2));
    });
  }
}
