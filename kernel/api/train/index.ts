/**
 * Training CVAEs: the `Trainer` (schedules, Adam, checkpoints, resume, divergence detection,
 * cooperative interrupt). Pairs are in `pairs`, checkpoints and run records in `runs`.
 */
export * from './events';
export { Trainer } from './trainer';
export type { TrainerOptions, RunOptions, TrainResult, LossMeans } from './options';
