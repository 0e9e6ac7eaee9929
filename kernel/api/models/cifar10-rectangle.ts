/**
 * `cifar10_rectangle`: the paper's CIFAR-10-C CVAE on 32×32×3 with a `gaussian` output (squared
 * error) and scaled-tanh log-variances. Sizes (the reference config's keys in brackets; defaults
 * are its values): latent L = 512 [latent_dim], B = 4 residual blocks [nblocks], wide W = 64
 * [big_ch] and narrow N = 16 [small_ch] channels, k×k convolutions [kernel_size 3] with
 * "same" zero padding [padding 1].
 *   Block: bn1 → ReLU → conv1 (W→N) → bn2 → ReLU → conv2 (N→W), plus the identity (convolutions
 *     have no bias).
 *   encoder (C = 3 prior, 6 recognition: channels [x, x̃]): encoder.0 conv (C→W) →
 *     encoder.1‥B blocks → encoder.B+1 BN → ReLU → encoder.B+3 conv (W→N) → encoder.B+4 BN → ReLU
 *     → flatten in PyTorch's (C, H, W) order → fc1 (N·32·32 → L) = μ, scaled-tanh(fc2) = log σ².
 *   generator: fc (L → 1024) → a 32×32 map → [x, map] (4 ch) → decoder.0 conv (4→W) →
 *     decoder.1‥B blocks → decoder.B+1 BN → ReLU → decoder.B+3 conv (W→3) → sigmoid.
 * Layer names are the reference's module names (`encoder.<i>` as its Sequential).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import { CVAEBase, type CVAEOptions } from './cvae-base';
import { BatchNorm2d, Conv2d, Dense, flattenChannelsFirst } from './layers';
import { scaledTanh } from './scaled-tanh';
import type { DiagonalGaussian, ModelSize } from './types';
import type { VariableStore } from './variable-store';

const SIDE = 32;
const CHANNELS = 3;

/** The reference config's sizes (34.3 M parameters). */
export const CIFAR10_RECTANGLE_SIZE: Readonly<ModelSize> = Object.freeze({
  latentDim: 512, blocks: 4, bigChannels: 64, smallChannels: 16, kernelSize: 3, padding: 1,
});

/** Fills in the reference's values and checks every size (integers ≥ 1; k = 2·padding + 1 keeps 32×32). */
export function cifar10RectangleSize(size: Partial<ModelSize> = {}): ModelSize {
  const out = { ...CIFAR10_RECTANGLE_SIZE } as ModelSize;
  for (const [key, value] of Object.entries(size) as Array<[keyof ModelSize, number | undefined]>) {
    if (!(key in out)) throw new ArgumentError(`cifar10_rectangle: unknown size option "${key}"; expected ${Object.keys(out).join(', ')}`);
    if (value === undefined) continue;
    const min = key === 'padding' || key === 'blocks' ? 0 : 1;
    if (!Number.isInteger(value) || value < min) throw new ArgumentError(`cifar10_rectangle: ${key} must be an integer >= ${min}, got ${value}`);
    out[key] = value;
  }
  if (out.kernelSize !== 2 * out.padding + 1) {
    throw new ArgumentError(`cifar10_rectangle: kernelSize ${out.kernelSize} with padding ${out.padding} would change the 32×32 size; kernelSize must be 2·padding + 1`);
  }
  return out;
}

/** Pre-activation residual block with a narrow middle, identity skip. */
class Block {
  private readonly bn1: BatchNorm2d;
  private readonly conv1: Conv2d;
  private readonly bn2: BatchNorm2d;
  private readonly conv2: Conv2d;

  constructor(store: VariableStore, scope: string, s: ModelSize) {
    // Registration order of the reference's module: bn1, conv1, bn2, conv2.
    this.bn1 = new BatchNorm2d(store, `${scope}/bn1`, s.bigChannels);
    this.conv1 = new Conv2d(store, `${scope}/conv1`, s.bigChannels, s.smallChannels, s.kernelSize, { padding: s.padding, bias: false });
    this.bn2 = new BatchNorm2d(store, `${scope}/bn2`, s.smallChannels);
    this.conv2 = new Conv2d(store, `${scope}/conv2`, s.smallChannels, s.bigChannels, s.kernelSize, { padding: s.padding, bias: false });
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return tf.tidy(() => {
      const h = this.conv1.apply(tf.relu(this.bn1.apply(x, training)));
      return tf.add(x, this.conv2.apply(tf.relu(this.bn2.apply(h, training))));
    });
  }
}

/** conv (in→W) → blocks → BN → ReLU → conv (W→out): the trunk both encoders and the generator share. */
class Trunk {
  private readonly first: Conv2d;
  private readonly blocks: Block[] = [];
  private readonly bn: BatchNorm2d;
  private readonly last: Conv2d;

  constructor(store: VariableStore, scope: string, s: ModelSize, inChannels: number, outChannels: number) {
    this.first = new Conv2d(store, `${scope}/0`, inChannels, s.bigChannels, s.kernelSize, { padding: s.padding, bias: false });
    for (let i = 1; i <= s.blocks; i++) this.blocks.push(new Block(store, `${scope}/${i}`, s));
    this.bn = new BatchNorm2d(store, `${scope}/${s.blocks + 1}`, s.bigChannels);
    this.last = new Conv2d(store, `${scope}/${s.blocks + 3}`, s.bigChannels, outChannels, s.kernelSize, { padding: s.padding, bias: false });
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return tf.tidy(() => {
      let h = this.first.apply(x);
      for (const block of this.blocks) h = block.apply(h, training);
      return this.last.apply(tf.relu(this.bn.apply(h, training)));
    });
  }
}

class Encoder {
  private readonly trunk: Trunk;
  private readonly bn: BatchNorm2d;
  private readonly fc1: Dense;
  private readonly fc2: Dense;

  constructor(store: VariableStore, scope: string, s: ModelSize, inChannels: number) {
    this.trunk = new Trunk(store, `${scope}/encoder`, s, inChannels, s.smallChannels);
    this.bn = new BatchNorm2d(store, `${scope}/encoder/${s.blocks + 4}`, s.smallChannels);
    this.fc1 = new Dense(store, `${scope}/fc1`, s.smallChannels * SIDE * SIDE, s.latentDim);
    this.fc2 = new Dense(store, `${scope}/fc2`, s.smallChannels * SIDE * SIDE, s.latentDim);
  }

  apply(x: tf.Tensor4D, training: boolean): DiagonalGaussian {
    const out = tf.tidy(() => {
      const h = flattenChannelsFirst(tf.relu(this.bn.apply(this.trunk.apply(x, training), training)));
      return [this.fc1.apply(h), scaledTanh(this.fc2.apply(h))];
    });
    return { mu: out[0], logvar: out[1] };
  }
}

export class Cifar10Rectangle extends CVAEBase {
  readonly architecture = 'cifar10_rectangle' as const;
  readonly inputShape: [number, number, number] = [SIDE, SIDE, CHANNELS];
  readonly latentDim: number;
  override readonly outputDistribution = 'gaussian' as const;
  override readonly size: Readonly<ModelSize>;
  protected readonly priorNet: Encoder;
  protected readonly recognitionNet: Encoder;
  private readonly fc: Dense;
  private readonly decoder: Trunk;

  constructor(options: CVAEOptions = {}) {
    super(options);
    const s = cifar10RectangleSize(options.size ?? {});
    this.size = Object.freeze(s);
    this.latentDim = s.latentDim;
    this.priorNet = new Encoder(this.store, 'prior', s, CHANNELS);
    this.recognitionNet = new Encoder(this.store, 'recognition', s, 2 * CHANNELS);
    this.fc = new Dense(this.store, 'generator/fc', s.latentDim, SIDE * SIDE);
    this.decoder = new Trunk(this.store, 'generator/decoder', s, CHANNELS + 1, CHANNELS);
  }

  generateLogits(x: tf.Tensor4D, z: tf.Tensor2D, training = false): tf.Tensor4D {
    this.checkImages(x, 'x');
    this.checkLatent(z, x.shape[0]);
    return tf.tidy(() => {
      // One channel, so the row-major reshape is PyTorch's view(B, 1, 32, 32).
      const map = tf.reshape(this.fc.apply(z), [x.shape[0], SIDE, SIDE, 1]) as tf.Tensor4D;
      return this.decoder.apply(tf.concat([x, map], 3), training);
    });
  }
}
