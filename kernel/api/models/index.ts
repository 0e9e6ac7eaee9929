/**
 * CVAE architectures of the reference (`mnist_fc`, `mnist_conv`, `mnist_stn`, `cifar10_rectangle`),
 * their loss terms, and the differentiable bilinear sampler used by the spatial transformers.
 *
 * `createCVAE(name, { seed })` builds a model initialised as PyTorch would (uniform ±1/√fanIn
 * from the seed). Variable names are the reference's PyTorch state_dict keys with `/` for `.`
 * and TensorFlow leaf names (`kernel`, `bias`, `gamma`, `beta`, `moving_mean`,
 * `moving_variance`): `prior/fc1/kernel`, `generator/stns/0/localization/1/kernel`,
 * `recognition/block/bn2/moving_variance`. Kernels are stored [in, out] (dense) and HWIO (conv);
 * see interop/torch-names.ts for the exact correspondence.
 *
 * `createCVAE('cifar10_rectangle', { size: { bigChannels: 16, latentDim: 128 } })` builds a reduced
 * CIFAR model (`size` as the reference config's latent_dim, nblocks, big_ch, small_ch, ...).
 *
 * `training = true` (mnist_stn, cifar10_rectangle) normalises with batch statistics and updates the running
 * statistics on every call; the default, eval mode, uses the running statistics.
 */
export { ARCHITECTURES, OUTPUT_DISTRIBUTIONS, type ArchitectureName, type CVAE, type DiagonalGaussian, type ModelSize, type OutputDistribution } from './types';
export { CIFAR10_RECTANGLE_SIZE, cifar10RectangleSize } from './cifar10-rectangle';
export { createCVAE, isArchitectureName } from './registry';
export type { CVAEOptions } from './cvae-base';
export { klDiagonalGaussian, reconstructionFromLogits, reconstructionFromProbabilities } from './losses';
export { affineGridSample } from './bilinear-sampler';
export type { AffineGridSampleOptions } from './bilinear-sampler';
