/**
 * Training classifiers against a learned perturbation set (the paper's Section 5): `RobustTrainer` with
 * the reference's five methods (`attack.type`): none, sample_aug, cvae_aug, cvae_attack
 * (per-example max of clean and latent-PGD loss), cvae_gaussian (for latent smoothing); configs
 * in the reference's `configs_robust` schema (`config.loadRobustConfig`).
 */
export { RobustTrainer, type RobustTrainerOptions, type RobustRunOptions, type RobustTrainResult } from './trainer';
export type { RobustProgress, RobustEpochSummary, RobustTrainCallbacks } from './events';
export { robustTrainingData, type RobustData, type RobustDataOptions } from './data';
export { robustGradients, trainingInputs, priorSample, crossEntropy, cleanAccuracy, type RobustBatch, type RobustStep } from './step';
