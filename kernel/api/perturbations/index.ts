/**
 * Perturbations producing pairs (x, x̃) from clean images, seeded and deterministic:
 *
 * - `linfinity` (alias `linf`): x̃ = clip(x + U(−ε, ε), 0, 1), ε = 0.3 (mnist_fc_linf, mnist_conv_linf).
 * - `rts`: random rotation U[−45°, 45°] and scale U[0.7, 1.3] (nearest, fill 0), then a random
 *   integer translation of ±7 px (crop 42 with 7 px padding) on the 42×42 padded MNIST canvas (mnist_stn_rts).
 * - `rts_limited`: the same with a fixed bank of k draws per training image (mnist_stn_rts_limited_1/5).
 * - `mnistc`: x̃ = one of the 12 training corruptions of the MNIST analogue (see `corruptions`) at
 *   severity 5; `{ corruptions: 'heldout' }` gives the 3 held-out (OOD) ones.
 * - `none`: x̃ = x.
 * - `Cifar10cPairing` (a config's `dataloader` on a `cifar10c*` dataset): the paper's CIFAR-10-C
 *   pairs from a fixed bank of corrupted versions per image (clean→corrupted, with or without the
 *   original), with the joint random crop and flip of its training loader.
 *
 * Pairs of a dataset and a perturbation, batch by batch: `pertset.pairs.createPairSource`.
 */
export type { Perturbation, PerturbedPair, Shape4 } from './types';
export { Cifar10cPairing, CIFAR10C_PAIRINGS, type Cifar10cPairingName, type Cifar10cPairingOptions, type CropFlip } from './cifar10c';
export { LinfPerturbation, type LinfOptions } from './linf';
export { RtsPerturbation, type RtsOptions, type RtsParams } from './rts';
export { LimitedRtsPerturbation, type LimitedRtsOptions } from './rts-limited';
export { IdentityPerturbation } from './none';
export { CorruptionPerturbation, type CorruptionChoice, type CorruptionPerturbationOptions } from './corruption';
export {
  createPerturbation,
  perturbationsForConfig,
  referencePerturbations,
  REFERENCE_PERTURBATIONS,
  PERTURBATION_TYPES,
  REFERENCE_PERTURBATION_TYPES,
  type PerturbationConfig,
  type PerturbationType,
  type ReferencePerturbationSpec,
} from './registry';
