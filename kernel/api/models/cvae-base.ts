/**
 * What every architecture shares beyond a `VariableModel`'s variables and input check: the prior and
 * recognition networks' common form (one encoder on x, one on [x, x̃] stacked along channels) and
 * g(x, z) = sigmoid(logits). Subclasses build their layers in the constructor, set the two
 * encoders and implement the generator.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import type { ArchitectureName, CVAE, DiagonalGaussian, ModelSize, OutputDistribution } from './types';
import { VariableModel } from './variable-model';

export interface CVAEOptions {
  /** Seed for the PyTorch-style initialisation (default 0). */
  seed?: number;
  /** Size options (only `cifar10_rectangle` has them; omitted fields take the reference's values). */
  size?: Partial<ModelSize> | null;
}

/**
 * An encoder from images to a diagonal Gaussian over the latent: the form of both the prior
 * network (on x) and the recognition network (on [x, x̃], 2C channels). `training` selects
 * batch statistics where the encoder has batch norm.
 */
export interface GaussianEncoder {
  apply(x: tf.Tensor4D, training: boolean): DiagonalGaussian;
}

export abstract class CVAEBase extends VariableModel implements CVAE {
  abstract override readonly architecture: ArchitectureName;
  abstract readonly latentDim: number;
  readonly outputDistribution: OutputDistribution = 'bernoulli';
  readonly size: Readonly<ModelSize> | null = null;

  constructor(options: CVAEOptions = {}) {
    super(options.seed);
  }

  /** p(z | x): reads C channels. */
  protected abstract readonly priorNet: GaussianEncoder;
  /** q(z | x, x̃): reads 2C channels, x's then x̃'s (the reference's torch.cat on dim 1). */
  protected abstract readonly recognitionNet: GaussianEncoder;

  prior(x: tf.Tensor4D, training = false): DiagonalGaussian {
    this.checkImages(x, 'x');
    return this.priorNet.apply(x, training);
  }

  recognition(x: tf.Tensor4D, xPerturbed: tf.Tensor4D, training = false): DiagonalGaussian {
    this.checkImages(x, 'x');
    this.checkImages(xPerturbed, 'xPerturbed');
    const xx = tf.concat([x, xPerturbed], 3);
    try {
      return this.recognitionNet.apply(xx, training);
    } finally {
      xx.dispose();
    }
  }

  abstract generateLogits(x: tf.Tensor4D, z: tf.Tensor2D, training?: boolean): tf.Tensor4D;

  generate(x: tf.Tensor4D, z: tf.Tensor2D, training = false): tf.Tensor4D {
    return tf.tidy(() => tf.sigmoid(this.generateLogits(x, z, training)));
  }

  protected checkLatent(z: tf.Tensor2D, batch: number): void {
    if (z.rank !== 2 || z.shape[0] !== batch || z.shape[1] !== this.latentDim) {
      throw new ArgumentError(`${this.architecture}: z must have shape [${batch}, ${this.latentDim}], got [${z.shape.join(', ')}]`);
    }
  }
}
