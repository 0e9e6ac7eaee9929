/**
 * The same pairs as tfjs tensors, for training loops. The caller owns the tensors of each batch
 * and disposes them (`tf.dispose(batch)` after the step).
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../data/dataset';
import { createRng } from '../random';
import { pairBatches, type PairBatch, type PairBatchOptions } from './pairs';
import type { Perturbation } from './types';

export interface PairTensorBatch {
  x: tf.Tensor4D;
  xPerturbed: tf.Tensor4D;
  /** int32 class labels. */
  labels: tf.Tensor1D;
  indices: Int32Array;
}

export function pairBatchToTensors(b: PairBatch): PairTensorBatch {
  return {
    x: tf.tensor4d(b.x, b.shape),
    xPerturbed: tf.tensor4d(b.xPerturbed, b.perturbedShape),
    labels: tf.tensor1d(b.labels, 'int32'),
    indices: b.indices,
  };
}

/** One epoch of pair batches as tensors (seeded shuffling, as `pairBatches`). */
export function* pairTensorBatches(dataset: ImageDataset, perturbation: Perturbation, options: PairBatchOptions): Generator<PairTensorBatch> {
  for (const b of pairBatches(dataset, perturbation, options)) yield pairBatchToTensors(b);
}

/** x̃ for a tensor batch [B, H, W, C] (reads the values back to the CPU; perturbations run in JS). */
export function perturbTensor(perturbation: Perturbation, x: tf.Tensor4D, seed: number | string, sourceIndices?: ArrayLike<number>): tf.Tensor4D {
  const shape = x.shape as [number, number, number, number];
  const values = x.dataSync();
  const input = values instanceof Float32Array ? values : Float32Array.from(values);
  const out = perturbation.perturbBatch(input, shape, createRng(seed), sourceIndices);
  return tf.tensor4d(out, perturbation.outputShape(shape));
}
