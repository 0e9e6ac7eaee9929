/**
 * Evaluating a robust training run folder (`pertset robust-eval`, `pertset certify`): clean,
 * real-perturbation and latent-PGD accuracy at the set's radii, accuracy under in-distribution and
 * held-out (OOD) common corruptions, and certification by randomized
 * smoothing in latent space, each saved atomically beside the run.
 */
export { openRobustRun, openRunCvae, robustTestPairs, type CvaeUsed, type OpenedRobustRun, type RobustCheckpointName, type RobustRunOptions } from './open';
export { setRadii, type SetRadii, type SetRadiusName } from './radii';
export {
  radiusKey,
  robustEvalRun,
  ROBUST_EVAL_ATTACKS,
  ROBUST_EVAL_FILE,
  ROBUST_EVAL_PNG,
  type RobustEvalAttack,
  type RobustEvalOptions,
  type RobustEvalProgress,
  type RobustEvalResult,
} from './evaluate';
export {
  corruptTestSet,
  corruptionSuiteFor,
  evaluateOnCorruptions,
  robustOodRun,
  ROBUST_OOD_FILE,
  type CorruptedTestSet,
  type CorruptionAccuracy,
  type CorruptionEvaluation,
  type CorruptionProgress,
  type CorruptTestSetOptions,
  type RobustOodOptions,
  type RobustOodResult,
} from './corruption-eval';
export { adversarialExamples, type AdversarialExamples, type AdversarialExamplesOptions } from './adversarial';
export { certifyFile, certifyRun, DEFAULT_CERTIFY_LIMIT, type CertifyRunOptions, type CertifyRunResult } from './certify';
