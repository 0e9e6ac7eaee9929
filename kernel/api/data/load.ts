/**
 * `loadDataset(name, {dir, split, limit})`: find the files (see locate.ts), read them with the
 * checked readers, cut the split as the reference does, and describe the source.
 */
import * as path from 'path';
import { ArgumentError, DataFormatError } from '../errors';
import { readCifarBinary, CIFAR_CHANNELS, CIFAR_SIDE } from './cifar-binary';
import { DATASETS, type DatasetSpec } from './catalog';
import { DATASET_NAMES, ImageDataset, SPLIT_NAMES, type DatasetName, type DatasetSource, type SplitName } from './dataset';
import { EMBEDDED_TEST_COUNT, EMBEDDED_TRAIN_COUNT } from './embedded';
import { isCorruptedCopy, loadCorruptedCopy } from './corrupted';
import { contentSha256 } from './file-bytes';
import { readIdxImagesAndLabels } from './idx';
import { locateDataset, type LocatedDataset, type LocateOptions } from './locate';
import { torchRandomSplit } from './torch-split';

export interface LoadOptions extends LocateOptions {
  /** Default `train`. */
  split?: SplitName;
  /** Keep the first N images of the split. */
  limit?: number;
  /** Zero padding on each side, as the reference's `dataset.padding` (7 for the RTS configs). Default 0. */
  padding?: number;
}

interface RawSplitData {
  images: Uint8Array;
  labels: Uint8Array;
  height: number;
  width: number;
  channels: number;
  files: string[];
}

function readFiles(spec: DatasetSpec, located: LocatedDataset, part: 'train' | 'test'): RawSplitData {
  const names = (part === 'train' ? spec.trainFiles : spec.testFiles).filter((n) => located.files[n]);
  const files = names.map((n) => located.files[n]);
  if (spec.format === 'idx') {
    const r = readIdxImagesAndLabels(files[0], files[1]);
    return { images: r.images, labels: r.labels, height: r.height, width: r.width, channels: 1, files };
  }
  const batches = files.map((f) => readCifarBinary(f));
  const total = batches.reduce((a, b) => a + b.count, 0);
  const images = new Uint8Array(total * CIFAR_SIDE * CIFAR_SIDE * CIFAR_CHANNELS);
  const labels = new Uint8Array(total);
  let offset = 0;
  for (const b of batches) {
    images.set(b.images, offset * CIFAR_SIDE * CIFAR_SIDE * CIFAR_CHANNELS);
    labels.set(b.labels, offset);
    offset += b.count;
  }
  return { images, labels, height: CIFAR_SIDE, width: CIFAR_SIDE, channels: CIFAR_CHANNELS, files };
}

const ORIGIN_LABEL = {
  explicit: 'explicit path',
  env: 'PERTSET_DATA',
  cache: 'cache',
  system: 'system-wide install',
  embedded: 'embedded',
  recorded: 'the run\'s recorded folder',
} as const;

function describeSource(spec: DatasetSpec, located: LocatedDataset, files: string[]): DatasetSource {
  const description =
    located.origin === 'embedded'
      ? `embedded Fashion-MNIST subset (first ${EMBEDDED_TRAIN_COUNT} train + first ${EMBEDDED_TEST_COUNT} test images of the official files, MIT) from ${located.dir}`
      : `${spec.title} from ${located.dir} (${ORIGIN_LABEL[located.origin]})`;
  // Every file of the dataset, not only this split's: a run records its training split, and
  // evaluating it later checks the test files against the same record.
  const sha256 = Object.fromEntries(Object.entries(located.files).map(([name, file]) => [name, contentSha256(file)]));
  return { origin: located.origin, dir: located.dir, files: files.map((f) => path.resolve(f)), sha256, description };
}

/** `dataset.type` of the reference's configs (MNIST family only) and the dataset each reads. */
export const REFERENCE_DATASET_TYPES = {
  mnist: 'mnist',
  fashion_mnist: 'fashion-mnist',
  mnist_rts_limited: 'mnist',
} as const satisfies Record<string, DatasetName>;

/** `dataset.type` of the reference's CIFAR-10-C CVAE configs (one per pairing), each reading CIFAR-10. */
export const CIFAR10C_DATASET_TYPES = {
  cifar10c: 'cifar10',
  cifar10c_withoriginal: 'cifar10',
  cifar10c_nooriginal: 'cifar10',
} as const satisfies Record<string, DatasetName>;

const ALIASES: Record<string, DatasetName> = {
  ...Object.fromEntries(DATASET_NAMES.map((n) => [n, n])),
  ...REFERENCE_DATASET_TYPES,
  ...CIFAR10C_DATASET_TYPES,
  fashionmnist: 'fashion-mnist',
  'cifar-10': 'cifar10',
};

/**
 * A dataset name from user input or a reference config's `dataset.type` (`fashion_mnist`,
 * `mnist_rts_limited`, `cifar-10`, ...) as one of `DATASET_NAMES`.
 */
export function resolveDatasetName(name: string): DatasetName {
  const resolved = ALIASES[name.trim().toLowerCase()];
  if (!resolved) throw new ArgumentError(`unknown dataset "${name}"; expected one of ${DATASET_NAMES.join(', ')}`);
  return resolved;
}

/**
 * Loads a dataset split. MNIST `train`/`val` are the reference's 59 000 / 1 000 images of the
 * training file (PyTorch `random_split` with seed 0, replayed exactly), `test` is the test file.
 * When MNIST or Fashion-MNIST is not found (and no explicit `dir` was given) the embedded
 * Fashion-MNIST subset is used instead and the description says so; pass `fallback: false` to
 * make that an error. A `dir` written by `pertset corrupt` (it holds a `corruption.json`) gives its
 * corrupted test split.
 */
export function loadDataset(datasetName: DatasetName | string, options: LoadOptions = {}): ImageDataset {
  if (options.dir && !options.expect && isCorruptedCopy(options.dir)) {
    return loadCorruptedCopy(options.dir, { requested: resolveDatasetName(datasetName), split: options.split ?? 'test', limit: options.limit, padding: options.padding });
  }
  const name = options.expect ? options.expect.name : resolveDatasetName(datasetName);
  const split = options.split ?? 'train';
  if (!SPLIT_NAMES.includes(split)) throw new ArgumentError(`unknown split "${split}"; expected one of ${SPLIT_NAMES.join(', ')}`);
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1)) {
    throw new ArgumentError(`limit must be an integer >= 1, got ${options.limit}`);
  }
  const located = locateDataset(name, options);
  const spec = DATASETS[located.name];
  const raw = readFiles(spec, located, split === 'test' ? 'test' : 'train');
  const count = raw.labels.length;
  let indices: Int32Array | undefined;
  if (split === 'train' || split === 'val') {
    if (count <= spec.valSize) {
      throw new DataFormatError(`${raw.files[0]}: ${count} training images cannot give a ${spec.valSize}-image validation split`);
    }
    const parts = torchRandomSplit(count, spec.valSize, 0);
    indices = split === 'train' ? parts.train : parts.val;
  }
  const note = located.name !== name ? `${DATASETS[name].title} not found (looked in ${located.searched.join('; ') || 'nowhere'}); using the embedded Fashion-MNIST subset` : undefined;
  let dataset = new ImageDataset({
    name: located.name,
    requested: name,
    split,
    images: raw.images,
    labels: raw.labels,
    height: raw.height,
    width: raw.width,
    channels: raw.channels,
    classNames: spec.classNames,
    source: describeSource(spec, located, raw.files),
    note,
  });
  if (options.limit !== undefined && indices) indices = indices.subarray(0, Math.min(options.limit, indices.length));
  if (indices) dataset = dataset.select(indices);
  if (options.limit !== undefined) dataset = dataset.take(options.limit);
  return dataset.pad(options.padding ?? 0);
}
