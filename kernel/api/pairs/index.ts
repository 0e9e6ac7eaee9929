/**
 * Pairs (x, x̃): one `PairSource` for training and evaluation, seeded and deterministic, as typed
 * arrays (`batch`, `batches`) or tensors (`tensorBatch`, `tensorBatches`), `take(n)` for a
 * prefix; and the pairs a config trains and is evaluated on (`trainingData`, `radiusPairs`,
 * `testPairs`).
 *
 * ```ts
 * const ds = pertset.data.loadDataset('mnist', { split: 'train', padding: 7 });
 * const pairs = pertset.pairs.createPairSource(ds, pertset.perturbations.createPerturbation({ type: 'rts' }), { seed: 1 });
 * for (const batch of pairs.tensorBatches({ batchSize: 128, epoch: 0 })) {
 *   // batch.x, batch.xPerturbed: tf.Tensor4D [B, 42, 42, 1]; tf.dispose(batch) after use
 * }
 * ```
 */
export {
  PairSource,
  createPairSource,
  pairsFromArrays,
  type PairBatch,
  type PairTensorBatch,
  type PairSourceOptions,
  type BatchesOptions,
  type ImageCollection,
} from './source';
export { trainingData, testPairs, radiusPairs, type TrainingData, type DataOptions } from './config-pairs';
