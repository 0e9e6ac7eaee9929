/**
 * Configs in the reference repository's JSON schema: loading (shipped names or files),
 * validation with path-qualified errors, overrides, and the piecewise-linear schedules.
 */
export * from './schedules';
export * from './reference-schema';
export * from './types';
export { fromReferenceConfig, applyOverrides } from './from-reference';
export { loadConfig, builtinConfigDir, builtinConfigNames, readJsonFile } from './load';
export {
  loadRobustConfig,
  robustConfigFromJson,
  resolveCvaeCheckpoint,
  builtinRobustConfigDir,
  builtinRobustConfigNames,
  ROBUST_TRAINING_METHODS,
  ROBUST_DATASET_TYPES,
  type RobustConfig,
  type RobustConfigOverrides,
  type RobustTrainingMethod,
  type RobustDatasetType,
  type CvaeCheckpointRef,
} from './robust';
