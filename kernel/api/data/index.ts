/**
 * Datasets: checked readers for IDX (MNIST, Fashion-MNIST) and CIFAR-10 binary files, discovery
 * (explicit folder → `PERTSET_DATA` → per-user cache → embedded Fashion-MNIST subset), the
 * reference's splits, seeded batches, and the MNIST download.
 *
 * ```ts
 * const train = pertset.data.loadDataset('mnist', { split: 'train', limit: 10000 });
 * console.log(train.toString());          // what was loaded and from where
 * const record = train.describe();        // plain JSON for run records
 * for (const b of train.batches({ batchSize: 128, seed: 1, epoch: 0 })) { b.x; b.labels; }
 * ```
 */
export {
  ImageDataset,
  DATASET_NAMES,
  SPLIT_NAMES,
  type DatasetName,
  type SplitName,
  type DataOrigin,
  type DatasetSource,
  type DatasetDescription,
  type Batch,
  type BatchOptions,
  type ImageDatasetInit,
} from './dataset';
export { loadDataset, resolveDatasetName, REFERENCE_DATASET_TYPES, type LoadOptions } from './load';
export { loadCorruptedCopy, readCorruptionRecord, isCorruptedCopy, CORRUPTION_RECORD_FILE, type CorruptionRecord } from './corrupted';
export { locateDataset, cacheDir, type LocateOptions, type LocatedDataset } from './locate';
export { DATASETS, CIFAR10_CLASSES, type DatasetSpec } from './catalog';
export { parseIdx, readIdx, readIdxImagesAndLabels, type IdxArray, type IdxImagesAndLabels } from './idx';
export { parseCifarBinary, readCifarBinary, type CifarRecords } from './cifar-binary';
export { downloadMnist, DownloadError, type DownloadOptions, type DownloadCallbacks, type DownloadProgress, type DownloadedFile } from './download';
export { tensorBatches, datasetTensor, type TensorBatch } from './tensors';
