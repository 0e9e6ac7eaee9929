/**
 * Pairs (x, x̃) for training and evaluation, batch by batch. Every random choice is a pure
 * function of (seed, epoch, batch index): the shuffle order of epoch e comes from (seed, e) and
 * the perturbations of batch b from (seed, e, b). A run resumed at any step therefore sees exactly
 * the batches an uninterrupted run would have seen, without saving generator state.
 */
import { ArgumentError } from '../errors';
import { createRng, type Rng } from '../random';

/**
 * Makes x̃ for a batch. `x` is NHWC Float32 in [0, 1] with `shape`; `sourceIndices` are the
 * images' positions in their source file (fixed perturbation banks key on them). Must not modify `x`.
 */
export type PerturbFn = (x: Float32Array, shape: [number, number, number, number], rng: Rng, sourceIndices: Int32Array) => Float32Array;

/** What `PairSource` needs from an image collection (`data.ImageDataset` has all of it). */
export interface ImageCollection {
  readonly count: number;
  readonly imageShape: [number, number, number];
  readonly sourceIndices: Int32Array;
  gather(indices: ArrayLike<number>): Float32Array;
  describe(): object;
}

export interface PairBatch {
  x: Float32Array;
  xPerturbed: Float32Array;
  shape: [number, number, number, number];
}

export interface PairSource {
  readonly count: number;
  readonly imageShape: [number, number, number];
  /** Plain JSON saying which images and which perturbation (recorded with results). */
  describe(): Record<string, unknown>;
  batchCount(batchSize: number): number;
  /** Batch `index` of epoch `epoch` (deterministic in seed, epoch, index). */
  batch(epoch: number, index: number, batchSize: number): PairBatch;
}

export interface PairSourceOptions {
  /** Seed of the shuffle and the perturbations. */
  seed: number;
  /** Shuffle each epoch (training) or keep file order (validation, test). */
  shuffle: boolean;
  /** Distinguishes streams drawn from the same seed (`train`, `val`, `test`). */
  stream: string;
  /** Name of the perturbation, for `describe()`. */
  perturbation: string | Record<string, unknown>;
}

export function createPairSource(images: ImageCollection, perturb: PerturbFn, options: PairSourceOptions): PairSource {
  const base = createRng(`${options.seed}/${options.stream}`);
  let cachedEpoch = -1;
  let cachedOrder: Int32Array | null = null;
  const order = (epoch: number): Int32Array | null => {
    if (!options.shuffle) return null;
    if (epoch !== cachedEpoch) {
      cachedOrder = base.fork(`shuffle/${epoch}`).permutation(images.count);
      cachedEpoch = epoch;
    }
    return cachedOrder;
  };
  const [h, w, c] = images.imageShape;
  return {
    count: images.count,
    imageShape: images.imageShape,
    describe: () => ({ images: images.describe(), perturbation: options.perturbation, seed: options.seed, shuffle: options.shuffle }),
    batchCount: (batchSize) => Math.ceil(images.count / batchSize),
    batch(epoch, index, batchSize) {
      const start = index * batchSize;
      if (!Number.isInteger(index) || index < 0 || start >= images.count) {
        throw new ArgumentError(`batch index ${index} out of range for ${images.count} images in batches of ${batchSize}`);
      }
      const end = Math.min(start + batchSize, images.count);
      const perm = order(epoch);
      const idx = new Int32Array(end - start);
      for (let i = 0; i < idx.length; i++) idx[i] = perm ? perm[start + i] : start + i;
      const x = images.gather(idx);
      const src = new Int32Array(idx.length);
      for (let i = 0; i < idx.length; i++) src[i] = images.sourceIndices[idx[i]];
      const shape: [number, number, number, number] = [idx.length, h, w, c];
      const xPerturbed = perturb(x, shape, base.fork(`perturb/${epoch}/${index}`), src);
      if (xPerturbed.length !== x.length) {
        throw new ArgumentError(`perturbation returned ${xPerturbed.length} values for a batch of ${x.length}`);
      }
      return { x, xPerturbed, shape };
    },
  };
}

/** Fixed pairs given as arrays (a notebook's own data, tests): NHWC Float32, same shape. */
export function pairsFromArrays(x: Float32Array, xPerturbed: Float32Array, shape: [number, number, number, number], description: Record<string, unknown> = { source: 'arrays' }): PairSource {
  const [n, h, w, c] = shape;
  const size = h * w * c;
  if (x.length !== n * size || xPerturbed.length !== n * size) {
    throw new ArgumentError(`pairsFromArrays: x has ${x.length} and xPerturbed ${xPerturbed.length} values, shape [${shape.join(', ')}] needs ${n * size}`);
  }
  return {
    count: n,
    imageShape: [h, w, c],
    describe: () => ({ ...description, count: n }),
    batchCount: (batchSize) => Math.ceil(n / batchSize),
    batch(_epoch, index, batchSize) {
      const start = index * batchSize;
      if (!Number.isInteger(index) || index < 0 || start >= n) throw new ArgumentError(`batch index ${index} out of range for ${n} pairs in batches of ${batchSize}`);
      const end = Math.min(start + batchSize, n);
      return { x: x.slice(start * size, end * size), xPerturbed: xPerturbed.slice(start * size, end * size), shape: [end - start, h, w, c] };
    },
  };
}
