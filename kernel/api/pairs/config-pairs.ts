/**
 * The pairs a config trains and is evaluated on: its dataset (found by the data module's
 * discovery: explicit folder, PERTSET_DATA, cache, embedded subset) with its perturbations.
 * Splits as the reference: train/val from the training file (59k/1k for MNIST), test from the
 * test file; validation pairs use the training perturbation, test pairs the test perturbation.
 * A reopened run reads the dataset it recorded (`recordedData`), never another one.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { PertsetConfig } from '../config/types';
import { loadDataset, resolveDatasetName } from '../data/load';
import type { ImageDataset } from '../data/dataset';
import type { RecordedData } from '../data/locate';
import { perturbationsForConfig } from '../perturbations/registry';
import { createPairSource, type PairSource } from './source';

export interface DataOptions {
  /** Explicit data folder (must hold the files). Default: `dataset.data_path` when that folder exists, else discovery. */
  dataDir?: string;
  /** Keep the first N images of the split. */
  limit?: number;
  /** Seed of the shuffle and the perturbations (default: the config's `seed`). */
  seed?: number;
  /** Reopening a run: read exactly the dataset it recorded (see `recordedData`); `dataDir` is then the only place looked in. */
  recorded?: RecordedData;
}

export interface TrainingData {
  train: PairSource;
  val: PairSource;
}


function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** The folder to read: an explicit one, else the config's `data_path` if it exists (reference configs say "~/data"). */
export function dataDirFor(config: { dataset: { dataPath: string | null } }, explicit?: string): string | undefined {
  if (explicit) return explicit;
  const hint = config.dataset.dataPath ? expandHome(config.dataset.dataPath) : undefined;
  return hint && fs.existsSync(hint) ? hint : undefined;
}

function load(config: PertsetConfig, split: 'train' | 'val' | 'test', options: DataOptions) {
  return loadDataset(options.recorded?.name ?? resolveDatasetName(config.dataset.type), {
    split,
    dir: options.recorded ? options.dataDir : dataDirFor(config, options.dataDir),
    expect: options.recorded,
    limit: options.limit,
    padding: config.dataset.padding,
  });
}

/**
 * The frost overlays next to the dataset (`<data root>/frost` beside `<data root>/cifar10`), else
 * undefined and the corruption looks in PERTSET_DATA and the cache.
 */
function frostDirNear(images: ImageDataset): string | undefined {
  const dir = images.source?.dir;
  if (!dir) return undefined;
  return [path.join(dir, 'frost'), path.join(path.dirname(dir), 'frost')].find((d) => fs.existsSync(d));
}

function perturbationsFor(config: PertsetConfig, images: ImageDataset) {
  return perturbationsForConfig(config, { frostDir: config.dataset.corruptions ? frostDirNear(images) : undefined });
}

/** Training pairs (shuffled every epoch, `limit` applies) and validation pairs (fixed). */
export function trainingData(config: PertsetConfig, options: DataOptions = {}): TrainingData {
  const seed = options.seed ?? config.seed;
  const limit = options.limit ?? config.dataset.limit ?? undefined;
  const train = load(config, 'train', { ...options, limit });
  const val = load(config, 'val', { ...options, limit: config.dataset.validationLimit ?? undefined });
  const p = perturbationsFor(config, train);
  return {
    train: createPairSource(train, p.train, { seed, shuffle: true, stream: 'train' }),
    val: createPairSource(val, p.train, { seed, shuffle: false, stream: 'val' }),
  };
}

/** Validation images with the TEST perturbation, as `latent_distances.py` uses for the radius. */
export function radiusPairs(config: PertsetConfig, options: DataOptions = {}): PairSource {
  const val = load(config, 'val', { ...options, limit: options.limit ?? config.dataset.validationLimit ?? undefined });
  const p = perturbationsFor(config, val);
  return createPairSource(val, p.test, { seed: options.seed ?? config.seed, shuffle: false, stream: 'radius' });
}

/** Held-out test pairs (test file, test perturbation, file order). */
export function testPairs(config: PertsetConfig, options: DataOptions = {}): PairSource {
  const test = load(config, 'test', options);
  const p = perturbationsFor(config, test);
  return createPairSource(test, p.test, { seed: options.seed ?? config.seed, shuffle: false, stream: 'test' });
}

/**
 * The dataset a run recorded (name, folder, sha256 of its files), which every command reopening
 * the run — resuming, `radius`, `eval` — must read: `locateDataset` accepts only files with
 * these checksums and never falls back to the embedded subset. A run that recorded no dataset
 * (imported weights) is reopened on its config's dataset, also without the fallback.
 */
export function recordedData(config: { dataset: { type: string } }, dataset: { train?: unknown } | null | undefined): RecordedData {
  const images = (dataset?.train as { images?: { name?: string; source?: { origin?: string; dir?: string; sha256?: Record<string, string> } } } | null)?.images;
  if (!images?.name) return { name: resolveDatasetName(config.dataset.type) };
  const source = images.source;
  const name = images.name === 'embedded' || source?.origin === 'embedded' ? 'embedded' : resolveDatasetName(images.name);
  return { name, dir: name === 'embedded' ? undefined : source?.dir, sha256: source?.sha256 };
}
