/**
 * The contract of a perturbation: given a batch of clean images x (NHWC Float32 in [0, 1]) and
 * a seeded generator, produce x̃. Pairs (x, x̃) are what the CVAE learns from.
 */
import type { Rng } from '../random';

/** [batch, height, width, channels]. */
export type Shape4 = [number, number, number, number];

/** A pair drawn by a pairing: both images, NHWC Float32 of the batch's shape. */
export interface PerturbedPair {
  x: Float32Array;
  xPerturbed: Float32Array;
}

export interface Perturbation {
  /** Registry name, e.g. `linfinity`, `rts`, `rts_limited`, `none`. */
  readonly type: string;
  /** Parameters as plain JSON, for logs and run records. */
  describe(): Record<string, unknown>;
  /** Shape of x̃ for a batch of `shape` (equal to `shape` for every perturbation of the reference configs). */
  outputShape(shape: Shape4): Shape4;
  /**
   * x̃ for the batch `x`. All randomness comes from `rng`, so equal seeds give equal results.
   * `sourceIndices` name each image in its source file; perturbations that pre-sample per image
   * (the limited RTS bank) need them.
   */
  perturbBatch(x: Float32Array, shape: Shape4, rng: Rng, sourceIndices?: ArrayLike<number>): Float32Array;
  /**
   * Pairings (the CIFAR-10-C ones) choose x as well as x̃: from the clean batch `x` they return
   * both images of every pair. When present, pair sources use it instead of `perturbBatch`.
   */
  pairBatch?(x: Float32Array, shape: Shape4, rng: Rng, sourceIndices?: ArrayLike<number>): PerturbedPair;
}
