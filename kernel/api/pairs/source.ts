/**
 * Pairs (x, x̃) for training and evaluation: one `PairSource` type, one `PairBatch`. Every random
 * choice is a pure function of (seed, stream, epoch, batch index): the shuffle order of epoch e
 * comes from (seed, stream, e) (`epochPermutation`) and the perturbations of batch b from
 * (seed, stream, e, b). A run resumed at any step therefore sees exactly the batches an
 * uninterrupted run would have seen, and `createPairSource(images, p, { seed: s })` yields the
 * very pairs the `Trainer` trains on at seed s.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import type { Perturbation, PerturbedPair, Shape4 } from '../perturbations/types';
import { createRng, epochPermutation, type Rng } from '../random';

/** What a `PairSource` needs from an image collection (`data.ImageDataset` has all of it). */
export interface ImageCollection {
  readonly count: number;
  readonly imageShape: [number, number, number];
  /** Each image's position in its source file (fixed perturbation banks key on it). */
  readonly sourceIndices: Int32Array;
  gather(indices: ArrayLike<number>): Float32Array;
  describe(): object;
}

/** One batch of pairs as typed arrays, NHWC Float32 in [0, 1]. */
export interface PairBatch {
  x: Float32Array;
  xPerturbed: Float32Array;
  shape: Shape4;
  /** Positions of the batch's images in the source (0..count-1). */
  indices: Int32Array;
}

/** One batch of pairs as tensors; the caller disposes them (`tf.dispose(batch)`). */
export type PairTensorBatch = {
  x: tf.Tensor4D;
  xPerturbed: tf.Tensor4D;
  indices: Int32Array;
};

export interface PairSourceOptions {
  /** Seed of the shuffle and the perturbations (default 0). */
  seed?: number;
  /** Shuffle every epoch (default true, for training); false keeps file order (validation, test). */
  shuffle?: boolean;
  /** Separates sources that share a seed (default `train`; the config's sources use `val`, `radius`, `test`). */
  stream?: string;
}

export interface BatchesOptions {
  batchSize: number;
  /** Epoch whose order and perturbations to draw (default 0). */
  epoch?: number;
  /** Start at this batch of the epoch (resume); earlier ones cost nothing. */
  startBatch?: number;
}

/** Both images of the pairs of a clean batch (x unchanged except for pairings, see `Perturbation.pairBatch`). */
type MakePairs = (x: Float32Array, shape: Shape4, rng: Rng, sourceIndices: Int32Array) => PerturbedPair;

interface Settings {
  seed: number;
  shuffle: boolean;
  stream: string;
  describe: () => Record<string, unknown>;
}

/** A deterministic, re-iterable sequence of pairs. Build one with `createPairSource` or `pairsFromArrays`. */
export class PairSource {
  private cachedEpoch = -1;
  private cachedOrder: Int32Array | null = null;
  private readonly base: Rng;

  private constructor(
    private readonly images: ImageCollection,
    private readonly makePairs: MakePairs,
    private readonly settings: Settings,
  ) {
    this.base = createRng(`${settings.seed}/${settings.stream}`);
  }

  /** @internal */
  static build(images: ImageCollection, makePairs: MakePairs, settings: Settings): PairSource {
    return new PairSource(images, makePairs, settings);
  }

  get count(): number {
    return this.images.count;
  }
  get imageShape(): [number, number, number] {
    return this.images.imageShape;
  }
  get seed(): number {
    return this.settings.seed;
  }
  get shuffle(): boolean {
    return this.settings.shuffle;
  }

  /** Plain JSON saying which images and which perturbation (recorded with results). */
  describe(): Record<string, unknown> {
    return this.settings.describe();
  }

  batchCount(batchSize: number): number {
    checkBatchSize(batchSize);
    return Math.ceil(this.images.count / batchSize);
  }

  /** Batch `index` of epoch `epoch` (deterministic in seed, stream, epoch, index, batch size). */
  batch(epoch: number, index: number, batchSize: number): PairBatch {
    checkBatchSize(batchSize);
    const count = this.images.count;
    const start = index * batchSize;
    if (!Number.isInteger(index) || index < 0 || start >= count) {
      throw new ArgumentError(`batch index ${index} out of range for ${count} pairs in batches of ${batchSize}`);
    }
    const end = Math.min(start + batchSize, count);
    const perm = this.order(epoch);
    const indices = new Int32Array(end - start);
    for (let i = 0; i < indices.length; i++) indices[i] = perm ? perm[start + i] : start + i;
    return this.pairsAt(indices, this.base.fork(`perturb/${epoch}/${index}`));
  }

  /** The images at `indices` (positions in this source) with x̃ drawn from `rng`. */
  private pairsAt(indices: Int32Array, rng: Rng): PairBatch {
    const clean = this.images.gather(indices);
    const src = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) src[i] = this.images.sourceIndices[indices[i]];
    const [h, w, c] = this.images.imageShape;
    const shape: Shape4 = [indices.length, h, w, c];
    const { x, xPerturbed } = this.makePairs(clean, shape, rng, src);
    if (xPerturbed.length !== clean.length || x.length !== clean.length) {
      throw new ArgumentError(`perturbation returned ${x.length} and ${xPerturbed.length} values for a batch of ${clean.length}`);
    }
    return { x, xPerturbed, shape, indices };
  }

  /** `batch(...)` as tensors (the caller disposes them). */
  tensorBatch(epoch: number, index: number, batchSize: number): PairTensorBatch {
    return toTensors(this.batch(epoch, index, batchSize));
  }

  /** The batches of one epoch, in order. */
  *batches(options: BatchesOptions): Generator<PairBatch> {
    const n = this.batchCount(options.batchSize);
    for (let b = options.startBatch ?? 0; b < n; b++) yield this.batch(options.epoch ?? 0, b, options.batchSize);
  }

  /** The batches of one epoch as tensors; dispose each batch after use. */
  *tensorBatches(options: BatchesOptions): Generator<PairTensorBatch> {
    for (const b of this.batches(options)) yield toTensors(b);
  }

  /**
   * Image `index` (file order) with `n` perturbations drawn as this source draws them (a limited
   * bank draws from that image's bank), as tensors [n, h, w, c]; the caller disposes them.
   * Shows all the variety of x̃ a model trained on this source sees of one image.
   */
  tensorDraws(index: number, n: number): PairTensorBatch {
    if (!Number.isInteger(index) || index < 0 || index >= this.images.count) {
      throw new ArgumentError(`tensorDraws: index must be an integer in [0, ${this.images.count}), got ${index}`);
    }
    if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`tensorDraws: n must be an integer >= 1, got ${n}`);
    return toTensors(this.pairsAt(new Int32Array(n).fill(index), this.base.fork(`draws/${index}`)));
  }

  /**
   * The same source restricted to its first `n` images (file order; shuffled among themselves
   * when this source shuffles). Unshuffled, its pairs are the first `n` of this source's.
   */
  take(n: number): PairSource {
    if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`take: n must be an integer >= 1, got ${n}`);
    if (n >= this.images.count) return this;
    const describe = this.settings.describe;
    return new PairSource(firstImages(this.images, n), this.makePairs, { ...this.settings, describe: () => ({ ...describe(), first: n }) });
  }

  private order(epoch: number): Int32Array | null {
    if (!this.settings.shuffle) return null;
    if (epoch !== this.cachedEpoch) {
      this.cachedOrder = epochPermutation(this.images.count, this.settings.seed, epoch, this.settings.stream);
      this.cachedEpoch = epoch;
    }
    return this.cachedOrder;
  }
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`batchSize must be an integer >= 1, got ${batchSize}`);
}

function toTensors(b: PairBatch): PairTensorBatch {
  return { x: tf.tensor4d(b.x, b.shape), xPerturbed: tf.tensor4d(b.xPerturbed, b.shape), indices: b.indices };
}

function firstImages(images: ImageCollection, n: number): ImageCollection {
  return {
    count: n,
    imageShape: images.imageShape,
    sourceIndices: images.sourceIndices.subarray(0, n),
    gather: (indices) => images.gather(indices),
    describe: () => images.describe(),
  };
}

/** Pairs of `images` with x̃ drawn by `perturbation` (seeded; see `PairSourceOptions`). */
export function createPairSource(images: ImageCollection, perturbation: Perturbation, options: PairSourceOptions = {}): PairSource {
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new ArgumentError(`createPairSource: seed must be an integer, got ${seed}`);
  const shuffle = options.shuffle ?? true;
  const makePairs: MakePairs = perturbation.pairBatch
    ? (x, shape, rng, src) => perturbation.pairBatch!(x, shape, rng, src)
    : (x, shape, rng, src) => ({ x, xPerturbed: perturbation.perturbBatch(x, shape, rng, src) });
  return PairSource.build(images, makePairs, {
    seed,
    shuffle,
    stream: options.stream ?? 'train',
    describe: () => ({ images: images.describe(), perturbation: perturbation.describe(), seed, shuffle }),
  });
}

/** Fixed pairs given as arrays (a notebook's own data, tests): NHWC Float32, same shape, file order. */
export function pairsFromArrays(x: Float32Array, xPerturbed: Float32Array, shape: Shape4, description: Record<string, unknown> = { source: 'arrays' }): PairSource {
  const [n, h, w, c] = shape;
  const size = h * w * c;
  if (x.length !== n * size || xPerturbed.length !== n * size) {
    throw new ArgumentError(`pairsFromArrays: x has ${x.length} and xPerturbed ${xPerturbed.length} values, shape [${shape.join(', ')}] needs ${n * size}`);
  }
  const gatherFrom = (values: Float32Array, indices: ArrayLike<number>) => {
    const out = new Float32Array(indices.length * size);
    for (let i = 0; i < indices.length; i++) out.set(values.subarray(indices[i] * size, (indices[i] + 1) * size), i * size);
    return out;
  };
  const images: ImageCollection = {
    count: n,
    imageShape: [h, w, c],
    sourceIndices: Int32Array.from({ length: n }, (_, i) => i),
    gather: (indices) => gatherFrom(x, indices),
    describe: () => description,
  };
  return PairSource.build(images, (clean, _shape, _rng, src) => ({ x: clean, xPerturbed: gatherFrom(xPerturbed, src) }), {
    seed: 0,
    shuffle: false,
    stream: 'arrays',
    describe: () => ({ ...description, count: n }),
  });
}
