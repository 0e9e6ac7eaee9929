/**
 * Using a learned perturbation set against a classifier (the paper's robustness experiments): latent PGD and the robust
 * accuracy it measures, randomized smoothing in latent space (PREDICT, CERTIFY and their
 * summary), and the statistics behind the certificates. A classifier is any function from
 * images to logits (`ClassifierFn`); the set is a `PerturbationSet` or a bare CVAE.
 */
export type { ClassifierFn, SetOrModel } from './classifier';
export {
  LATENT_ATTACK_PRESETS,
  latentAttack,
  robustAccuracy,
  type LabeledBatch,
  type LabeledData,
  type LatentAttackOptions,
  type LatentAttackPreset,
  type LatentAttackPresetName,
  type LatentAttackResult,
  type RobustAccuracyOptions,
  type RobustAccuracyProgress,
  type RobustAccuracyReport,
} from './latent-attack';
export {
  ABSTAIN,
  certify,
  maxCertifiableRadius,
  sigmaForRadius,
  smoothedPredict,
  summarizeCertification,
  type CertificationProgress,
  type CertificationResult,
  type CertificationSummary,
  type CertifiedExample,
  type CertifyOptions,
  type PredictOptions,
  type SmoothedPrediction,
  type SmoothingOptions,
} from './smoothing';
export { betaQuantile, binomialTestPValue, clopperPearsonLower, normalQuantile } from './statistics';
