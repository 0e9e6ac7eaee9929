/**
 * The labelled data of a robust config: training images shuffled every epoch with the config's
 * real perturbation drawn per batch (a `PairSource`, so batches are a pure function of seed,
 * epoch and index and a resumed run sees the same ones), their labels, and the validation split.
 * A resumed run reads the dataset it recorded, as the CVAE trainer's.
 */
import type { RobustConfig } from '../config/robust';
import { ROBUST_DATASET_TYPES } from '../config/robust';
import { loadDataset } from '../data/load';
import type { ImageDataset } from '../data/dataset';
import { dataDirFor, recordedData } from '../pairs/config-pairs';
import { createPairSource, type PairSource } from '../pairs/source';
import { perturbationsForConfig } from '../perturbations/registry';

export interface RobustData {
  /** Training images with x̃ from `perturbation.train_type` (x̃ = x when the config has none). */
  train: PairSource;
  trainImages: ImageDataset;
  val: ImageDataset;
}

export interface RobustDataOptions {
  dataDir?: string;
  /** The `dataset` a run recorded (its trainer state), to resume on exactly that data. */
  recorded?: { train?: unknown };
}

export function robustTrainingData(config: RobustConfig, options: RobustDataOptions = {}): RobustData {
  const type = config.dataset.type;
  const recorded = options.recorded ? recordedData({ dataset: { type: ROBUST_DATASET_TYPES[type] } }, options.recorded) : undefined;
  const load = (split: 'train' | 'val', limit: number | null) =>
    loadDataset(recorded?.name ?? ROBUST_DATASET_TYPES[type], {
      split,
      dir: recorded ? options.dataDir : dataDirFor(config, options.dataDir),
      expect: recorded,
      limit: limit ?? undefined,
      padding: config.dataset.padding,
    });
  const trainImages = load('train', config.dataset.limit);
  const val = load('val', config.dataset.validationLimit);
  const perturbation = perturbationsForConfig({ perturbation: config.perturbation ?? { train: { type: 'none' }, test: { type: 'none' } } }).train;
  return { train: createPairSource(trainImages, perturbation, { seed: config.seed, shuffle: true, stream: 'robust-train' }), trainImages, val };
}
