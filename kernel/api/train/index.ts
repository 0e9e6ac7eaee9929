/**
 * Training CVAEs: the `Trainer` (schedules, Adam, checkpoints, resume, divergence detection,
 * cooperative interrupt), pairs for training and evaluation, checkpoints and run records.
 */
export * from './events';
export { Trainer, type TrainerOptions, type RunOptions, type TrainResult, type LossMeans } from './trainer';
export { createPairSource, pairsFromArrays, type PairSource, type PairBatch, type PerturbFn, type ImageCollection, type PairSourceOptions } from './pairs';
export { trainingData, testPairs, radiusPairs, dataDirFor, dataOptionsFromRecord, type TrainingData, type DataOptions } from './config-data';
export {
  saveCheckpoint,
  loadModel,
  loadWeightsInto,
  readModelJson,
  readTrainerState,
  checkpointExists,
  CHECKPOINT_FORMAT,
  type ModelJson,
  type TrainerStateJson,
} from './checkpoint';
export { readRunRecord, writeRunRecord, type RunRecord, type RunStatus } from './run-record';
export { DivergenceMonitor, DEFAULT_DIVERGENCE_FACTOR } from './divergence';
export { createAdam, type TrainingOptimizer } from './optimizer';
export { openRun, RADIUS_FILE, EVAL_FILE, type OpenedRun } from './open-run';
