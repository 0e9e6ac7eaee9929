/**
 * Common corruptions at severities 1–5, seeded and deterministic, on float images in [0, 1]
 * (HWC, 1 or 3 channels):
 *
 * - suite `cifar10c`: the 15 CIFAR-10-C corruptions and the 4 extra ones (gaussian_blur,
 *   spatter, saturate, speckle_noise) with the parameters of Hendrycks' CIFAR generator;
 * - suite `mnistc`: the MNIST analogue (15 grey-image corruptions in the spirit of MNIST-C) with
 *   a 12 / 3 train / held-out split chosen as the paper chose its CIFAR-10-C split.
 *
 * ```ts
 * const xt = pertset.corruptions.corrupt(x, [32, 32, 3], 'fog', 5, { seed: 1 });
 * const batch = pertset.corruptions.corruptBatch(xs, [n, 28, 28, 1], 'zigzag', 5, { suite: 'mnistc', seed: 1 });
 * ```
 *
 * Image n of a batch draws from its own generator, derived from (seed, suite, corruption,
 * severity, index n), so an image's corruption does not depend on the batch it came in.
 */
export { Corrupter, corrupt, corruptBatch, getSuite, checkCorruption, checkSeverity, SEVERITIES, type CorruptOptions } from './corrupter';
export { SUITES, SUITE_NAMES, type CorruptionSuite, type SuiteName, type CorruptionSpec, type CorruptionFamily } from './suites';
export { FROST_FILES, locateFrost, type FrostLocateOptions } from './frost';
export {
  writeCorruptedCopy,
  CORRUPTIBLE_DATASETS,
  type CorruptibleDataset,
  type CorruptedCopyOptions,
  type CorruptedCopyResult,
  type CorruptedCopyCallbacks,
} from './write';
