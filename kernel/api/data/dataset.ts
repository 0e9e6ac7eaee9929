/**
 * An in-memory image dataset: uint8 pixels in NHWC order (converted to Float32 in [0, 1] only
 * per batch, so full MNIST stays at 47 MB), integer labels, and a JSON-serialisable description
 * of where it came from, which runs print and record next to their results.
 */
import { ArgumentError } from '../errors';
import { epochPermutation } from '../random';

/** Names accepted by `loadDataset`. `embedded` is the Fashion-MNIST subset shipped in the package. */
export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'cifar10', 'embedded'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** `train`/`val` split the training file as the reference (fixed, seed 0); `trainval` is the whole training file. */
export const SPLIT_NAMES = ['train', 'val', 'test', 'trainval'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

/**
 * How the files were found: explicit path, `PERTSET_DATA`, the per-user cache, a system-wide
 * install (Debian's `dataset-fashion-mnist`), the package's embedded subset, or (reopening a
 * run) the folder the run recorded.
 */
export type DataOrigin = 'explicit' | 'env' | 'cache' | 'system' | 'embedded' | 'recorded';

/** Where a dataset's bytes came from; plain JSON. */
export interface DatasetSource {
  origin: DataOrigin;
  /** Folder holding the files. */
  dir: string;
  /** The files read, in order. */
  files: string[];
  /**
   * sha256 of the decompressed bytes of every file of the dataset (training and test files), by
   * file name without `.gz`: the identity a reopened run checks.
   */
  sha256?: Record<string, string>;
  /** One human-readable line, e.g. `MNIST from /data/mnist (PERTSET_DATA)`. */
  description: string;
}

/** Everything needed to say which data a run used; plain JSON (`JSON.stringify` as is). */
export interface DatasetDescription {
  name: DatasetName;
  /** The name asked for when it differs from `name` (e.g. `mnist` fell back to `embedded`). */
  requested?: DatasetName;
  split: SplitName;
  count: number;
  /** [height, width, channels] of one image. */
  imageShape: [number, number, number];
  /** Zero padding added on each side (already included in imageShape). */
  padding: number;
  limit?: number;
  classNames: string[];
  /** Images per class, index = label. */
  labelCounts: number[];
  source: DatasetSource;
  /** Note added by the loader, e.g. why a fallback happened. */
  note?: string;
}

/** One batch as typed arrays: images NHWC Float32 in [0, 1]. */
export interface Batch {
  x: Float32Array;
  labels: Int32Array;
  /** Positions of the batch's images in this dataset. */
  indices: Int32Array;
  shape: [number, number, number, number];
}

export interface BatchOptions {
  batchSize: number;
  /** Shuffle seed; the order of epoch e is a function of (seed, e) only, so a resumed run repeats it. */
  seed?: number;
  epoch?: number;
  /** Default true. */
  shuffle?: boolean;
  /** Drop a last incomplete batch. Default false. */
  dropLast?: boolean;
}

export interface ImageDatasetInit {
  name: DatasetName;
  requested?: DatasetName;
  split: SplitName;
  images: Uint8Array;
  labels: Uint8Array;
  height: number;
  width: number;
  channels: number;
  classNames: string[];
  source: DatasetSource;
  /** Index of each image in its source file (used e.g. to key pre-sampled perturbation banks). */
  sourceIndices?: Int32Array;
  padding?: number;
  limit?: number;
  note?: string;
}

/**
 * One split of a dataset in memory. Build it with `loadDataset`; derive subsets with `take`,
 * `select` and `pad`; iterate with `batches` (seeded, epoch-wise); record it with `describe()`.
 */
export class ImageDataset {
  readonly name: DatasetName;
  readonly requested?: DatasetName;
  readonly split: SplitName;
  /** uint8 pixels, [count, height, width, channels]. */
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly classNames: string[];
  readonly source: DatasetSource;
  readonly sourceIndices: Int32Array;
  readonly padding: number;
  readonly limit?: number;
  readonly note?: string;

  constructor(init: ImageDatasetInit) {
    const pixels = init.height * init.width * init.channels;
    if (init.images.length !== init.labels.length * pixels) {
      throw new ArgumentError(`ImageDataset: ${init.images.length} pixel bytes do not hold ${init.labels.length} images of ${init.height}x${init.width}x${init.channels}`);
    }
    this.name = init.name;
    this.requested = init.requested;
    this.split = init.split;
    this.images = init.images;
    this.labels = init.labels;
    this.count = init.labels.length;
    this.height = init.height;
    this.width = init.width;
    this.channels = init.channels;
    this.classNames = init.classNames;
    this.source = init.source;
    this.sourceIndices = init.sourceIndices ?? Int32Array.from({ length: this.count }, (_, i) => i);
    this.padding = init.padding ?? 0;
    this.limit = init.limit;
    this.note = init.note;
  }

  /** [height, width, channels]. */
  get imageShape(): [number, number, number] {
    return [this.height, this.width, this.channels];
  }

  /** Number of values in one image. */
  get imageSize(): number {
    return this.height * this.width * this.channels;
  }

  /** Images per class, index = label. */
  labelCounts(): number[] {
    const counts = new Array<number>(this.classNames.length).fill(0);
    for (const l of this.labels) counts[l] = (counts[l] ?? 0) + 1;
    return counts;
  }

  describe(): DatasetDescription {
    const d: DatasetDescription = {
      name: this.name,
      split: this.split,
      count: this.count,
      imageShape: this.imageShape,
      padding: this.padding,
      classNames: this.classNames,
      labelCounts: this.labelCounts(),
      source: this.source,
    };
    if (this.requested && this.requested !== this.name) d.requested = this.requested;
    if (this.limit !== undefined) d.limit = this.limit;
    if (this.note) d.note = this.note;
    return d;
  }

  /** One line for logs, e.g. `mnist train: 59000 images 28x28x1 — MNIST from /data/mnist (PERTSET_DATA)`. */
  toString(): string {
    const [h, w, c] = this.imageShape;
    const pad = this.padding ? `, zero-padded by ${this.padding}` : '';
    return `${this.name} ${this.split}: ${this.count} images ${h}x${w}x${c}${pad} — ${this.source.description}`;
  }

  /** Images at `indices` as Float32 in [0, 1], NHWC. */
  gather(indices: ArrayLike<number>): Float32Array {
    const size = this.imageSize;
    const out = new Float32Array(indices.length * size);
    for (let b = 0; b < indices.length; b++) {
      const i = indices[b];
      if (!(i >= 0 && i < this.count)) throw new ArgumentError(`${this.name} ${this.split}: index ${i} out of range 0..${this.count - 1}`);
      const src = i * size;
      const dst = b * size;
      for (let p = 0; p < size; p++) out[dst + p] = this.images[src + p] / 255;
    }
    return out;
  }

  /** Labels at `indices`. */
  gatherLabels(indices: ArrayLike<number>): Int32Array {
    const out = new Int32Array(indices.length);
    for (let b = 0; b < indices.length; b++) out[b] = this.labels[indices[b]];
    return out;
  }

  /** The batch holding the images at `indices`. */
  batch(indices: ArrayLike<number>): Batch {
    const idx = Int32Array.from(indices);
    return { x: this.gather(idx), labels: this.gatherLabels(idx), indices: idx, shape: [idx.length, this.height, this.width, this.channels] };
  }

  /** All images as Float32 in [0, 1] (4 bytes per pixel: mind the size for full datasets). */
  toFloat32(): Float32Array {
    const out = new Float32Array(this.images.length);
    for (let p = 0; p < out.length; p++) out[p] = this.images[p] / 255;
    return out;
  }

  /** The images at `indices`, as a new dataset with the same description. */
  select(indices: ArrayLike<number>): ImageDataset {
    const size = this.imageSize;
    const images = new Uint8Array(indices.length * size);
    const labels = new Uint8Array(indices.length);
    const sourceIndices = new Int32Array(indices.length);
    for (let b = 0; b < indices.length; b++) {
      const i = indices[b];
      if (!(i >= 0 && i < this.count)) throw new ArgumentError(`${this.name} ${this.split}: index ${i} out of range 0..${this.count - 1}`);
      images.set(this.images.subarray(i * size, (i + 1) * size), b * size);
      labels[b] = this.labels[i];
      sourceIndices[b] = this.sourceIndices[i];
    }
    return new ImageDataset({ ...this.init(), images, labels, sourceIndices });
  }

  /** The first `n` images (all if n >= count); the description records `limit: n`. */
  take(n: number): ImageDataset {
    if (!Number.isInteger(n) || n < 0) throw new ArgumentError(`limit must be an integer >= 0, got ${n}`);
    // Still records the limit when it keeps everything, so the description says what was asked.
    if (n >= this.count) return new ImageDataset({ ...this.init(), limit: n });
    const size = this.imageSize;
    return new ImageDataset({
      ...this.init(),
      images: this.images.slice(0, n * size),
      labels: this.labels.slice(0, n),
      sourceIndices: this.sourceIndices.slice(0, n),
      limit: n,
    });
  }

  /** Zero-pads every image by `p` pixels on each side (the reference's `transforms.Pad(p)`). */
  pad(p: number): ImageDataset {
    if (!Number.isInteger(p) || p < 0) throw new ArgumentError(`padding must be an integer >= 0, got ${p}`);
    if (p === 0) return this;
    const { height: h, width: w, channels: c } = this;
    const H = h + 2 * p;
    const W = w + 2 * p;
    const images = new Uint8Array(this.count * H * W * c);
    for (let n = 0; n < this.count; n++) {
      for (let y = 0; y < h; y++) {
        const src = ((n * h + y) * w) * c;
        const dst = ((n * H + y + p) * W + p) * c;
        images.set(this.images.subarray(src, src + w * c), dst);
      }
    }
    return new ImageDataset({ ...this.init(), images, height: H, width: W, padding: this.padding + p });
  }

  /** Order of the images for one epoch: a seeded permutation, or 0..count-1 without shuffling. */
  epochOrder(options: { seed?: number; epoch?: number; shuffle?: boolean } = {}): Int32Array {
    if (options.shuffle === false) return Int32Array.from({ length: this.count }, (_, i) => i);
    return epochPermutation(this.count, options.seed ?? 0, options.epoch ?? 0);
  }

  /** Number of batches per epoch. */
  batchCount(batchSize: number, dropLast = false): number {
    return dropLast ? Math.floor(this.count / batchSize) : Math.ceil(this.count / batchSize);
  }

  /** Batches of one epoch, shuffled with (seed, epoch) unless `shuffle: false`. */
  *batches(options: BatchOptions): Generator<Batch> {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`batchSize must be an integer >= 1, got ${batchSize}`);
    const order = this.epochOrder(options);
    const n = this.batchCount(batchSize, options.dropLast);
    for (let b = 0; b < n; b++) yield this.batch(order.subarray(b * batchSize, Math.min((b + 1) * batchSize, this.count)));
  }

  private init(): ImageDatasetInit {
    return {
      name: this.name,
      requested: this.requested,
      split: this.split,
      images: this.images,
      labels: this.labels,
      height: this.height,
      width: this.width,
      channels: this.channels,
      classNames: this.classNames,
      source: this.source,
      sourceIndices: this.sourceIndices,
      padding: this.padding,
      limit: this.limit,
      note: this.note,
    };
  }
}
