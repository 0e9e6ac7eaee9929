/**
 * The contract every downstream classifier implements (the models the paper trains against a
 * learned perturbation set). Robust training, latent attacks and certification see only this.
 * Images are NHWC float32 in [0, 1], as everywhere in pertset.
 */
import type * as tf from '@tensorflow/tfjs';

/**
 * `model.type` of the reference's robust configs: `mnist_conv` and `wideresnet` are its names;
 * `preact_resnet18` is the pre-activation ResNet-18 its `robustness/` folder ships beside them.
 */
export const CLASSIFIER_ARCHITECTURES = ['mnist_conv', 'preact_resnet18', 'wideresnet'] as const;
export type ClassifierArchitecture = (typeof CLASSIFIER_ARCHITECTURES)[number];

/** What builds a classifier; saved as the checkpoint's topology so `loadClassifier` rebuilds it. */
export interface ClassifierSpec {
  architecture: ClassifierArchitecture;
  /** Input image shape [height, width, channels]; mnist_conv takes any square single-channel size. */
  inputShape: [number, number, number];
  numClasses: number;
  /** wideresnet: depth (`model.layers`, 6n + 4) and widening factor (`model.width_factor`). */
  depth?: number;
  widthFactor?: number;
  /** Residual nets: subtract the CIFAR-10 channel means and divide by the stds first (`model.normalize`). */
  normalize?: boolean;
}

export interface Classifier {
  readonly architecture: ClassifierArchitecture;
  readonly inputShape: [number, number, number];
  readonly numClasses: number;
  /** Everything needed to rebuild the same architecture. */
  readonly spec: ClassifierSpec;
  /**
   * Class logits [batch, numClasses]. `training = true` normalises batch-norm layers with batch
   * statistics and updates their running statistics; the default, eval mode, uses the running ones.
   */
  logits(x: tf.Tensor4D, training?: boolean): tf.Tensor2D;
  /** Every variable by a stable name (PyTorch's state_dict key with `/`, TensorFlow leaf names). */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /** The variables the optimiser updates (excludes batch-norm running statistics). */
  trainableVariables(): tf.Variable[];
  countParams(): number;
  dispose(): void;
}
