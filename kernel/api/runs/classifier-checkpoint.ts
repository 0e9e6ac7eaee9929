/**
 * Classifier checkpoints: the same TensorFlow.js format and atomic writes as the CVAE's
 * (checkpoint.ts), with format `pertset-classifier` and the classifier's spec as topology, so
 * `loadClassifier(dir)` rebuilds the architecture (input size, classes, depth, width) by itself.
 */
import type * as tf from '@tensorflow/tfjs';
import { createClassifier } from '../classifiers/registry';
import type { Classifier, ClassifierSpec } from '../classifiers/types';
import { CheckpointError } from '../errors';
import { writeDirAtomic, type AtomicWriteHooks } from './atomic-dir';
import { assignWeights, encodeVariables, readCheckpointJson, withTrainerFiles, type NamedTensor } from './checkpoint';

export const CLASSIFIER_CHECKPOINT_FORMAT = 'pertset-classifier';

export interface ClassifierModelJson {
  format: typeof CLASSIFIER_CHECKPOINT_FORMAT;
  modelTopology: ClassifierSpec;
  weightsManifest: tf.io.WeightsManifestConfig;
}

export interface SaveClassifierArgs {
  classifier: Classifier;
  /** A training checkpoint's state (`trainer.json`, plain JSON). */
  trainer?: object;
  optimizer?: { kind: string; state: NamedTensor[] };
  hooks?: AtomicWriteHooks;
}

/** Writes a classifier checkpoint directory atomically. */
export async function saveClassifierCheckpoint(dir: string, args: SaveClassifierArgs): Promise<void> {
  const model = await encodeVariables(args.classifier.variables, CLASSIFIER_CHECKPOINT_FORMAT, args.classifier.spec);
  writeDirAtomic(dir, args.trainer ? await withTrainerFiles(model, args.trainer, args.optimizer) : model, args.hooks);
}

/** `model.json` of a classifier checkpoint (recovering an interrupted swap first). */
export function readClassifierJson(dir: string): ClassifierModelJson {
  return readCheckpointJson<ClassifierModelJson>(dir, CLASSIFIER_CHECKPOINT_FORMAT, 'classifier');
}

/** Copies a checkpoint's weights into `classifier` (same architecture; names and shapes must match). */
export function loadClassifierWeightsInto(classifier: Classifier, dir: string): void {
  const json = readClassifierJson(dir);
  if (json.modelTopology.architecture !== classifier.architecture) {
    throw new CheckpointError(`${dir}: checkpoint is a ${json.modelTopology.architecture} classifier, cannot load into ${classifier.architecture}`);
  }
  assignWeights(classifier.variables, dir, json.weightsManifest);
}

/** Rebuilds the checkpoint's classifier and loads its weights. */
export function loadClassifier(dir: string): Classifier {
  const json = readClassifierJson(dir);
  const classifier = createClassifier(json.modelTopology);
  try {
    loadClassifierWeightsInto(classifier, dir);
  } catch (e) {
    classifier.dispose();
    throw e;
  }
  return classifier;
}
