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
export { sampleGridPng, type SampleGridOptions } from './sample-grid';
export { calibrateRun, evaluateRun, loadRadiusNorms, type RadiusNorms, type RadiusResult, type EvalResult, type RunDataOptions, type EvaluateRunOptions } from './run';
export {
  sampleSpread,
  collapseDiagnostics,
  KL_PER_DIM_THRESHOLD,
  EAE_GAP_THRESHOLD,
  SPREAD_THRESHOLD,
  type SpreadOptions,
  type CollapseDiagnostics,
  type CollapseSignal,
} from './diagnostics';
export { fitAffine, affineSpread, summarizeAffineFit, type AffineFit, type AffineFitOptions, type AffineSpread, type AffineSpreadOptions } from './affine-fit';
export { latentInterpolation, type LatentInterpolation, type LatentInterpolationOptions } from './latent-interpolation';
export { qualityClaims, limitedDataClaims, LIMITED_DATA_TOLERANCE, type Claim } from './claims';
export { compareSets, type CompareOptions } from './compare';
