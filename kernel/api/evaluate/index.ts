/**
 * Quality of a learned perturbation set (the paper's necessary subset and sufficient likelihood properties): approximation errors (encoder, PGD,
 * expected, over-approximation), KL, reconstruction, the identity baseline, and the radius
 * calibration from validation latent norms; plus the same on a run directory.
 */
export {
  identityError,
  encoderApproximation,
  pgdApproximation,
  expectedApproximation,
  klAndReconstruction,
  type ErrorMetric,
  type AttackOptions,
  type PgdOptions,
  type PgdCallbacks,
} from './approximation';
export {
  evaluatePerturbationSet,
  type EvaluationOptions,
  type EvaluationReport,
  type MseErrors,
  type EvaluationProgress,
  type EvaluationCallbacks,
} from './evaluate-set';
export {
  calibrateRadius,
  latentNormStats,
  roundUpRadius,
  type LatentNormStats,
  type RadiusCalibration,
  type CalibrateOptions,
  type CalibrationProgress,
  type CalibrationCallbacks,
} from './radius';
export { calibrateRun, evaluateRun, type RadiusResult, type EvalResult, type RunDataOptions, type EvaluateRunOptions } from './run';
export { qualityClaims, limitedDataClaims, type Claim } from './claims';
export { compareSets, type CompareOptions } from './compare';
