/**
 * Training CVAEs: the `Trainer` (schedules, Adam, checkpoints, resume, divergence detection,
 * cooperative interrupt) and pairs for training and evaluation. Checkpoints and run records are in `runs`.
 */
export * from './events';
export { Trainer } from './trainer';
export type { TrainerOptions, RunOptions, TrainResult, LossMeans } from './options';
export { createPairSource, pairsFromArrays, type PairSource, type PairBatch, type PerturbFn, type ImageCollection, type PairSourceOptions } from './pairs';
export { trainingData, testPairs, radiusPairs, dataDirFor, recordedData, type TrainingData, type DataOptions } from './config-data';
export { DivergenceMonitor, DEFAULT_DIVERGENCE_FACTOR } from './divergence';
export { createAdam, type TrainingOptimizer } from './optimizer';
