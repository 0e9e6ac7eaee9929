/**
 * What each dataset looks like on disk: its file names (each may be gzipped, `.gz` or not), the
 * sub-folder names it is found under, class names and the size of the reference's validation split.
 */
import type { DatasetName } from './dataset';

export type DatasetFormat = 'idx' | 'cifar-binary';

export interface DatasetSpec {
  name: DatasetName;
  title: string;
  format: DatasetFormat;
  /** Sub-folders of a data root that may hold the files (first match wins). */
  subdirs: string[];
  /** System-wide install folders tried after the cache (Debian's `dataset-*` packages). */
  systemDirs: string[];
  /** IDX: [images, labels] per split. CIFAR: batch files; train uses every one present (at least one). */
  trainFiles: string[];
  testFiles: string[];
  /** Images held out of the training file for `val` (the reference uses 1000 with seed 0). */
  valSize: number;
  classNames: string[];
}

const MNIST_FILES = {
  trainFiles: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  testFiles: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
};

const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

export const DATASETS: Record<DatasetName, DatasetSpec> = {
  mnist: {
    name: 'mnist',
    title: 'MNIST',
    format: 'idx',
    subdirs: ['mnist', 'MNIST/raw', 'MNIST'],
    systemDirs: [],
    ...MNIST_FILES,
    valSize: 1000,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    title: 'Fashion-MNIST',
    format: 'idx',
    subdirs: ['fashion-mnist', 'FashionMNIST/raw', 'FashionMNIST'],
    systemDirs: ['/usr/share/datasets/fashion-mnist'],
    ...MNIST_FILES,
    valSize: 1000,
    classNames: FASHION_CLASSES,
  },
  cifar10: {
    name: 'cifar10',
    title: 'CIFAR-10',
    format: 'cifar-binary',
    subdirs: ['cifar10', 'cifar-10-batches-bin'],
    systemDirs: [],
    trainFiles: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
    // The full test batch, else the first-1000 extract kept in ../shared/data.
    testFiles: ['test_batch.bin', 'test_batch_first1000.bin'],
    valSize: 1000,
    classNames: CIFAR10_CLASSES,
  },
  embedded: {
    name: 'embedded',
    title: 'embedded Fashion-MNIST subset',
    format: 'idx',
    subdirs: [],
    systemDirs: [],
    ...MNIST_FILES,
    valSize: 500,
    classNames: FASHION_CLASSES,
  },
};
