/**
 * The contract every CVAE architecture implements. Training, the perturbation set, evaluation,
 * parity tests and the PyTorch importer are written against this interface only.
 *
 * Layout: images are NHWC float32 in [0, 1] (tfjs's native layout; PyTorch is NCHW, the importer
 * transposes). Latent codes are flattened to [batch, latentDim]; for a spatial latent (mnist_conv,
 * 128×7×7) the flattening order is the model's own (NHWC), which norms and KL do not see.
 */
import type * as tf from '@tensorflow/tfjs';


/** The reference's CVAE architectures (`model.type` of its configs): the one list of their names. */
export const ARCHITECTURES = ['mnist_fc', 'mnist_conv', 'mnist_stn', 'cifar10_rectangle'] as const;
export type ArchitectureName = (typeof ARCHITECTURES)[number];

/** A diagonal Gaussian over the flattened latent: mean and log-variance, both [batch, latentDim]. */
export interface DiagonalGaussian {
  mu: tf.Tensor2D;
  logvar: tf.Tensor2D;
}

/** `model.output_distribution`: how the generator's output is read (and its reconstruction loss). */
export const OUTPUT_DISTRIBUTIONS = ['bernoulli', 'gaussian'] as const;
export type OutputDistribution = (typeof OUTPUT_DISTRIBUTIONS)[number];

/**
 * The size options of an architecture that has them (`cifar10_rectangle`), as the reference's
 * `model` config keys `latent_dim`, `nblocks`, `big_ch`, `small_ch`, `kernel_size`, `padding`.
 * The MNIST architectures have fixed sizes.
 */
export interface ModelSize {
  latentDim: number;
  blocks: number;
  bigChannels: number;
  smallChannels: number;
  kernelSize: number;
  padding: number;
}

export interface CVAE {
  /** Architecture name, e.g. `mnist_fc`. */
  readonly architecture: ArchitectureName;
  /** The size options it was built with (absent or null: the architecture has fixed sizes). */
  readonly size?: Readonly<ModelSize> | null;
  /** Input image shape [height, width, channels] (mnist_stn: the padded 42×42 canvas). */
  readonly inputShape: [number, number, number];
  /** Flattened latent size (mnist_fc 784, mnist_conv 6272, mnist_stn 128). */
  readonly latentDim: number;
  /** Reconstruction likelihood: BCE for bernoulli (every MNIST model), squared error for gaussian. */
  readonly outputDistribution: OutputDistribution;

  /** Prior network p(z | x). */
  prior(x: tf.Tensor4D, training?: boolean): DiagonalGaussian;
  /** Recognition network q(z | x, x̃); x and x̃ are concatenated along channels inside. */
  recognition(x: tf.Tensor4D, xPerturbed: tf.Tensor4D, training?: boolean): DiagonalGaussian;
  /** Generator logits (pre-sigmoid), [batch, h, w, c]: BCE is computed from logits for stability. */
  generateLogits(x: tf.Tensor4D, z: tf.Tensor2D, training?: boolean): tf.Tensor4D;
  /** Generator output g(x, z) = sigmoid(logits), in [0, 1]. */
  generate(x: tf.Tensor4D, z: tf.Tensor2D, training?: boolean): tf.Tensor4D;

  /**
   * Every variable by a stable name ("prior/fc1/kernel", "generator/stn0/fc3/bias",
   * "prior/block0/bn1/moving_mean", ...), trainable or not. Checkpoints and the PyTorch importer
   * key on these names; the order is the construction order.
   */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /** The variables the optimiser updates (excludes batch-norm running statistics). */
  trainableVariables(): tf.Variable[];
  /** Total number of trainable scalars. */
  countParams(): number;
  /** Frees every variable. */
  dispose(): void;
}
