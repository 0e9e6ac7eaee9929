/**
 * Run folders: what `pertset train` writes and `radius`/`eval`/`import-torch` read. Checkpoints
 * in TensorFlow.js's format, `run.json` records, atomic directory writes, the resume check, and
 * opening a run for evaluation. Nothing here trains; `train` and `evaluate` both build on it.
 */
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
export { openRun, RADIUS_FILE, EVAL_FILE, type OpenedRun } from './open-run';
export { lockRunDir, type RunLock, type LockHolder } from './lock';
export {
  saveClassifierCheckpoint,
  loadClassifier,
  loadClassifierWeightsInto,
  readClassifierJson,
  CLASSIFIER_CHECKPOINT_FORMAT,
  type ClassifierModelJson,
} from './classifier-checkpoint';
