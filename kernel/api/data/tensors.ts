/** Dataset batches as tfjs tensors (the caller disposes them). */
import * as tf from '@tensorflow/tfjs';
import type { BatchOptions, ImageDataset } from './dataset';

export interface TensorBatch {
  /** NHWC Float32 in [0, 1]. */
  x: tf.Tensor4D;
  /** int32 class labels. */
  labels: tf.Tensor1D;
  indices: Int32Array;
}

/** One epoch of batches as tensors (seeded shuffling, as `ImageDataset.batches`). */
export function* tensorBatches(dataset: ImageDataset, options: BatchOptions): Generator<TensorBatch> {
  for (const b of dataset.batches(options)) {
    yield { x: tf.tensor4d(b.x, b.shape), labels: tf.tensor1d(b.labels, 'int32'), indices: b.indices };
  }
}

/** The images at `indices` (all when omitted) as one tensor [N, H, W, C]. */
export function datasetTensor(dataset: ImageDataset, indices?: ArrayLike<number>): tf.Tensor4D {
  if (!indices) return tf.tensor4d(dataset.toFloat32(), [dataset.count, dataset.height, dataset.width, dataset.channels]);
  return tf.tensor4d(dataset.gather(indices), [indices.length, dataset.height, dataset.width, dataset.channels]);
}
