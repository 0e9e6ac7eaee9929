/**
 * The paper's out-of-distribution protocol for a classifier (Table 1's CIFAR-10-C columns, here
 * also on the MNIST analogue): accuracy on test images under the 12 training corruptions of the
 * suite at severity 5 ("in-distribution": what the perturbation set and the augmentation baseline
 * learn from) and under the 3 held-out ones ("OOD": never seen in training), each the mean over
 * its corruptions. The suite follows the dataset (MNIST family: `mnistc`, CIFAR-10: `cifar10c`).
 *
 * The corruptions apply to the images the classifier takes, so for a run with `dataset.padding`
 * (the RTS configs: 42×42) they corrupt the padded digit. Image i of a test set is corrupted from
 * its own generator (seed, corruption, severity, its index in the test file), so the corrupted
 * images do not depend on how many are evaluated or in which batch, and every classifier of a
 * table sees the same ones (`corruptTestSet` once, `evaluateOnCorruptions` per classifier).
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { Callback } from '../callbacks';
import { Corrupter } from '../corruptions/corrupter';
import type { SuiteName } from '../corruptions/suites';
import type { ImageDataset } from '../data/dataset';
import { ArgumentError, ConfigError, InterruptedError } from '../errors';
import { throwIfInterrupted, yieldToEventLoop } from '../interrupt';
import type { ClassifierFn } from '../robustness/classifier';
import { writeFileAtomic } from '../runs/atomic-dir';
import { openRobustRun, robustTestPairs, type RobustCheckpointName, type RobustRunOptions } from './open';

export const ROBUST_OOD_FILE = 'robust-ood.json';

/** Images corrupted per event-loop turn (keeps a notebook's progress live and Ctrl-C prompt). */
const CHUNK = 50;

/** The corruption suite of a dataset: CIFAR-10 → `cifar10c`, the MNIST family → `mnistc`. */
export function corruptionSuiteFor(dataset: string): SuiteName {
  return dataset === 'cifar10' ? 'cifar10c' : 'mnistc';
}

/** A test set under every corruption of a suite's protocol, in [0, 1], ready for any classifier of that input shape. */
export interface CorruptedTestSet {
  suite: SuiteName;
  severity: number;
  seed: number;
  count: number;
  shape: [number, number, number];
  labels: Uint8Array;
  /** Index of each image in its test file (what the corruption's generator is keyed by). */
  sourceIndices: Int32Array;
  train: string[];
  heldOut: string[];
  /** Corrupted images [count, h, w, c] by corruption name. */
  images: Map<string, Float32Array>;
  /** Seconds spent corrupting, by corruption. */
  seconds: Record<string, number>;
}

export interface CorruptionProgress {
  corruption: string;
  /** Corruptions done of `total` (corrupting), or images classified of `total` (evaluating). */
  done: number;
  total: number;
}

export interface CorruptTestSetOptions {
  /** Default: the dataset's suite (`corruptionSuiteFor`). */
  suite?: SuiteName;
  /** Default 5, the paper's. */
  severity?: number;
  /** Default 0. */
  seed?: number;
  /** Folder of the frost overlays (CIFAR-10-C `frost` only). */
  frostDir?: string;
  signal?: AbortSignal;
  callbacks?: { onCorruptionEnd?: Callback<CorruptionProgress> };
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError('corruption evaluation aborted');
  throwIfInterrupted('corruption evaluation');
}

/** Corrupts `images` with each of the suite's 12 training and 3 held-out corruptions. */
export async function corruptTestSet(images: ImageDataset, options: CorruptTestSetOptions = {}): Promise<CorruptedTestSet> {
  const corrupter = new Corrupter(options.suite ?? corruptionSuiteFor(images.name), { frostDir: options.frostDir });
  const suite = corrupter.suite;
  const severity = options.severity ?? suite.protocolSeverity;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new ArgumentError(`seed must be an integer, got ${seed}`);
  if (images.count === 0) throw new ArgumentError('corruptTestSet: no test images');
  const shape = images.imageShape;
  const size = images.imageSize;
  const clean = images.toFloat32();
  const names = [...suite.train, ...suite.heldOut];
  const out = new Map<string, Float32Array>();
  const seconds: Record<string, number> = {};
  for (const [k, name] of names.entries()) {
    const started = Date.now();
    const corrupted = new Float32Array(clean.length);
    for (let start = 0; start < images.count; start += CHUNK) {
      await yieldToEventLoop();
      checkAborted(options.signal);
      const end = Math.min(images.count, start + CHUNK);
      const xs = Array.from({ length: end - start }, (_, i) => clean.subarray((start + i) * size, (start + i + 1) * size));
      corrupter
        .applyMany(xs, shape, name, severity, (i) => corrupter.rngFor(seed, name, severity, images.sourceIndices[start + i]))
        .forEach((x, i) => corrupted.set(x, (start + i) * size));
    }
    out.set(name, corrupted);
    seconds[name] = (Date.now() - started) / 1000;
    await options.callbacks?.onCorruptionEnd?.({ corruption: name, done: k + 1, total: names.length });
  }
  return {
    suite: suite.name,
    severity,
    seed,
    count: images.count,
    shape,
    labels: images.labels.slice(),
    sourceIndices: images.sourceIndices.slice(),
    train: [...suite.train],
    heldOut: [...suite.heldOut],
    images: out,
    seconds,
  };
}

/** Mean accuracy over a group of corruptions, and each one's. */
export interface CorruptionAccuracy {
  mean: number;
  corruptions: Record<string, number>;
}

export interface CorruptionEvaluation {
  suite: SuiteName;
  severity: number;
  seed: number;
  n: number;
  /** The 12 training corruptions. */
  inDistribution: CorruptionAccuracy;
  /** The 3 held-out corruptions. */
  ood: CorruptionAccuracy;
  /** Seconds spent corrupting (once per test set) and classifying. */
  corruptSeconds: number;
  seconds: number;
}

async function accuracyOn(classifier: ClassifierFn, x: Float32Array, set: CorruptedTestSet, batchSize: number, signal?: AbortSignal): Promise<number> {
  const [h, w, c] = set.shape;
  const size = h * w * c;
  let correct = 0;
  for (let start = 0; start < set.count; start += batchSize) {
    await yieldToEventLoop();
    checkAborted(signal);
    const end = Math.min(set.count, start + batchSize);
    const p = tf.tidy(() => tf.argMax(classifier(tf.tensor4d(x.subarray(start * size, end * size), [end - start, h, w, c])), 1));
    const pred = await p.data();
    p.dispose();
    for (let i = 0; i < pred.length; i++) correct += pred[i] === set.labels[start + i] ? 1 : 0;
  }
  return correct / set.count;
}

/** Accuracy of `classifier` on every corruption of `set`: in-distribution (training) and OOD (held-out) means. */
export async function evaluateOnCorruptions(
  classifier: ClassifierFn,
  set: CorruptedTestSet,
  options: { batchSize?: number; signal?: AbortSignal; callbacks?: { onCorruptionEnd?: Callback<CorruptionProgress> } } = {},
): Promise<CorruptionEvaluation> {
  const started = Date.now();
  const bs = options.batchSize ?? 128;
  const names = [...set.train, ...set.heldOut];
  const acc: Record<string, number> = {};
  for (const [k, name] of names.entries()) {
    acc[name] = await accuracyOn(classifier, set.images.get(name)!, set, bs, options.signal);
    await options.callbacks?.onCorruptionEnd?.({ corruption: name, done: k + 1, total: names.length });
  }
  const group = (list: string[]): CorruptionAccuracy => ({
    mean: list.reduce((s, n) => s + acc[n], 0) / list.length,
    corruptions: Object.fromEntries(list.map((n) => [n, acc[n]])),
  });
  return {
    suite: set.suite,
    severity: set.severity,
    seed: set.seed,
    n: set.count,
    inDistribution: group(set.train),
    ood: group(set.heldOut),
    corruptSeconds: Object.values(set.seconds).reduce((a, b) => a + b, 0),
    seconds: (Date.now() - started) / 1000,
  };
}

/** Checks that a precomputed test set is the one `images` would give (same images, shape, seed). */
function checkSameImages(set: CorruptedTestSet, images: ImageDataset, seed: number, runDir: string): void {
  const same =
    set.count === images.count &&
    set.seed === seed &&
    set.shape.join() === images.imageShape.join() &&
    set.sourceIndices.every((v, i) => v === images.sourceIndices[i]);
  if (!same) {
    throw new ConfigError(
      `the corrupted test set given (${set.count} images of ${set.shape.join('×')}, seed ${set.seed}) is not the one of ${runDir} (${images.count} images of ${images.imageShape.join('×')}, seed ${seed})`,
    );
  }
}

/** Seeded by `seed` (default: the config's); saves robust-ood.json unless `save: false`. It uses no CVAE. */
export interface RobustOodOptions extends Omit<RobustRunOptions, 'cvae'> {
  /** Default 5. */
  severity?: number;
  /** A test set already corrupted for these images (`corruptTestSet`), to corrupt once for many runs. */
  testSet?: CorruptedTestSet;
  callbacks?: { onCorruptionEnd?: Callback<CorruptionProgress & { stage: 'corrupt' | 'classify' }> };
}

export interface RobustOodResult extends CorruptionEvaluation {
  /** Accuracy on the same test images uncorrupted. */
  clean: number;
  method: string;
  config: string;
  checkpoint: RobustCheckpointName;
  globalStep: number;
  finished: boolean;
  /** The test images, as the run's classifier takes them (padding included). */
  imageShape: [number, number, number];
  dataset: unknown;
}

/**
 * The OOD protocol for a robust training run: its classifier on its test images corrupted by the
 * suite's training and held-out corruptions. Saves `robust-ood.json` in the run folder.
 */
export async function robustOodRun(runDir: string, options: RobustOodOptions = {}): Promise<RobustOodResult> {
  const run = openRobustRun(runDir, { checkpoint: options.checkpoint });
  try {
    const seed = options.seed ?? run.config.seed;
    const { images } = robustTestPairs(run, { limit: options.limit, dataDir: options.dataDir, seed });
    let set = options.testSet;
    if (set) checkSameImages(set, images, seed, run.runDir);
    else {
      set = await corruptTestSet(images, {
        seed,
        severity: options.severity,
        frostDir: options.dataDir,
        signal: options.signal,
        callbacks: { onCorruptionEnd: (p) => options.callbacks?.onCorruptionEnd?.({ ...p, stage: 'corrupt' }) },
      });
    }
    if (options.severity !== undefined && set.severity !== options.severity) throw new ConfigError(`the corrupted test set is at severity ${set.severity}, not ${options.severity}`);
    const classifier: ClassifierFn = (x) => run.classifier.logits(x, false);
    const bs = run.config.eval.batchSize;
    const evaluation = await evaluateOnCorruptions(classifier, set, {
      batchSize: bs,
      signal: options.signal,
      callbacks: { onCorruptionEnd: (p) => options.callbacks?.onCorruptionEnd?.({ ...p, stage: 'classify' }) },
    });
    const clean = await accuracyOn(classifier, images.toFloat32(), set, bs, options.signal);
    const result: RobustOodResult = {
      ...evaluation,
      clean,
      method: run.config.attack.type,
      config: run.config.name,
      checkpoint: run.checkpoint,
      globalStep: run.globalStep,
      finished: run.finished,
      imageShape: images.imageShape,
      dataset: images.describe(),
    };
    if (options.save !== false) writeFileAtomic(path.join(run.runDir, ROBUST_OOD_FILE), JSON.stringify(result, null, 1));
    return result;
  } finally {
    run.classifier.dispose();
  }
}
