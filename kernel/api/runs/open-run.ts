/**
 * Opening a finished (or interrupted) run for evaluation: its config, record and model from a
 * checkpoint ("latest" by default, as the reference's eval.py), plus a calibrated radius when
 * `pertset radius` has been run.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fromReferenceConfig } from '../config/from-reference';
import type { PertsetConfig } from '../config/types';
import { CheckpointError } from '../errors';
import type { CVAE } from '../models/types';
import { checkpointExists, loadModel, readTrainerState } from './checkpoint';
import { readRunRecord, type RunRecord } from './run-record';

export const RADIUS_FILE = 'radius.json';
export const EVAL_FILE = 'eval.json';
export const RADIUS_NORMS_FILE = 'radius-norms.json';
export const SAMPLES_FILE = 'samples.png';

export interface OpenedRun {
  runDir: string;
  config: PertsetConfig;
  record: RunRecord;
  model: CVAE;
  checkpointDir: string;
  /** Global step of the loaded checkpoint. */
  globalStep: number;
  /** Contents of radius.json when the radius was calibrated. */
  radius: { max: number; [key: string]: unknown } | null;
}

export function openRun(runDir: string, options: { checkpoint?: 'latest' | 'best' } = {}): OpenedRun {
  const dir = path.resolve(runDir);
  const record = readRunRecord(dir);
  const which = options.checkpoint ?? 'latest';
  const checkpointDir = path.join(dir, 'checkpoints', which);
  if (!checkpointExists(checkpointDir)) {
    throw new CheckpointError(`${dir} has no "${which}" checkpoint yet (${checkpointDir}); train at least one epoch or ${which === 'best' ? 'use the latest checkpoint' : 'resume the run'}`);
  }
  const config = fromReferenceConfig(record.config, record.configSource, { outDir: dir });
  const state = readTrainerState(checkpointDir);
  const model = loadModel(checkpointDir);
  if (model.architecture !== config.model.architecture) {
    model.dispose();
    throw new CheckpointError(`${checkpointDir}: holds a ${model.architecture} model but the run's config says ${config.model.architecture}`);
  }
  const radiusFile = path.join(dir, RADIUS_FILE);
  let radius: OpenedRun['radius'] = null;
  if (fs.existsSync(radiusFile)) {
    try {
      radius = JSON.parse(fs.readFileSync(radiusFile, 'utf8'));
    } catch (e) {
      throw new CheckpointError(`${radiusFile}: invalid JSON (${(e as Error).message}); rerun \`pertset radius --run ${runDir}\``);
    }
  }
  return { runDir: dir, config, record, model, checkpointDir, globalStep: state?.globalStep ?? 0, radius };
}
