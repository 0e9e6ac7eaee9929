/**
 * Pairs (x, x̃) for training and evaluation, as typed arrays. Everything random is a function of
 * (seed, epoch, batch number): the epoch's order and each batch's perturbations, so a run resumed
 * at any batch sees the same pairs it would have seen.
 */
import { ArgumentError } from '../errors';
import type { ImageDataset } from '../data/dataset';
import { createRng, type Rng } from '../random';
import type { Perturbation, Shape4 } from './types';

export interface PairBatch {
  /** Clean images, NHWC Float32 in [0, 1]. */
  x: Float32Array;
  /** Perturbed images, NHWC Float32 (shape `perturbedShape`). */
  xPerturbed: Float32Array;
  labels: Int32Array;
  /** Positions of the images in the dataset. */
  indices: Int32Array;
  shape: Shape4;
  perturbedShape: Shape4;
}

export interface PairBatchOptions {
  batchSize: number;
  /** Seed of the shuffling and of the perturbations. Default 0. */
  seed?: number;
  epoch?: number;
  /** Default true for training; pass false for evaluation in file order. */
  shuffle?: boolean;
  dropLast?: boolean;
  /** Start at this batch of the epoch (resume); earlier batches are skipped without work. */
  startBatch?: number;
}

/** x̃ for a batch; `rng` or `seed` drives the randomness. */
export function perturbBatch(
  perturbation: Perturbation,
  x: Float32Array,
  shape: Shape4,
  random: { rng: Rng } | { seed: number | string },
  sourceIndices?: ArrayLike<number>,
): Float32Array {
  const rng = 'rng' in random ? random.rng : createRng(random.seed);
  return perturbation.perturbBatch(x, shape, rng, sourceIndices);
}

/** The generator of batch `batch` of epoch `epoch` (stable, so pairs can be regenerated). */
export function batchRng(seed: number, epoch: number, batch: number): Rng {
  return createRng(seed).fork(`pairs/epoch-${epoch}/batch-${batch}`);
}

/** The pairs of one batch of images of `dataset`. */
export function pairBatch(dataset: ImageDataset, perturbation: Perturbation, indices: ArrayLike<number>, rng: Rng): PairBatch {
  const b = dataset.batch(indices);
  const sourceIndices = Int32Array.from(b.indices, (i) => dataset.sourceIndices[i]);
  const xPerturbed = perturbation.perturbBatch(b.x, b.shape, rng, sourceIndices);
  return { x: b.x, xPerturbed, labels: b.labels, indices: b.indices, shape: b.shape, perturbedShape: perturbation.outputShape(b.shape) };
}

/** One epoch of pair batches (shuffled by default). */
export function* pairBatches(dataset: ImageDataset, perturbation: Perturbation, options: PairBatchOptions): Generator<PairBatch> {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`batchSize must be an integer >= 1, got ${batchSize}`);
  const seed = options.seed ?? 0;
  const epoch = options.epoch ?? 0;
  const order = dataset.epochOrder({ seed, epoch, shuffle: options.shuffle });
  const n = dataset.batchCount(batchSize, options.dropLast);
  for (let b = options.startBatch ?? 0; b < n; b++) {
    const indices = order.subarray(b * batchSize, Math.min((b + 1) * batchSize, dataset.count));
    yield pairBatch(dataset, perturbation, indices, batchRng(seed, epoch, b));
  }
}
