/**
 * Quality of a learned perturbation set (paper §1.3–1.4): approximation errors (encoder, PGD,
 * expected, over-approximation), KL, reconstruction, the identity baseline, and the radius
 * calibration from validation latent norms; plus the same on a run directory.
 */
export {
  perPixelError,
  identityError,
  encoderApproximation,
  pgdApproximation,
  expectedApproximation,
  klAndReconstruction,
  type PgdOptions,
} from './approximation';
export { evaluatePerturbationSet, type EvaluationOptions, type EvaluationReport } from './evaluate-set';
export { calibrateRadius, latentNormStats, percentile, type LatentNormStats, type RadiusCalibration, type CalibrateOptions } from './radius';
export { calibrateRun, evaluateRun, roundUpRadius, type RadiusResult, type EvalResult, type RunDataOptions } from './run';
export { truncatedNormal } from './truncated-normal';
