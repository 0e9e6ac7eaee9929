/**
 * Radius calibration and evaluation of a run directory (what `pertset radius` and
 * `pertset eval` do): open the run's "latest" checkpoint, build its validation or test pairs from
 * the same dataset it trained on, compute, and record the result (`radius.json`, `eval.json`)
 * next to the run together with the dataset used.
 */
import * as path from 'path';
import { ConfigError, StorageError } from '../errors';
import { recordedData, radiusPairs, testPairs } from '../train/config-data';
import { openRun, EVAL_FILE, RADIUS_FILE } from '../runs/open-run';
import { writeFileAtomic } from '../runs/atomic-dir';
import { calibrateRadius, type CalibrateOptions, type LatentNormStats } from './radius';
import { evaluatePerturbationSet, type EvaluationOptions, type EvaluationReport } from './evaluate-set';

export interface RunDataOptions {
  /** Use only the first N validation/test images. */
  limit?: number;
  /** Look for the run's data only in this folder (its files must still match the recorded sha256). */
  dataDir?: string;
  /** Which checkpoint (default `latest`, as the reference's eval.py). */
  checkpoint?: 'latest' | 'best';
}

export interface RadiusResult extends LatentNormStats {
  passes: number;
  /** Suggested ε: the maximum rounded up (paper convention); `pertset eval` uses it by default. */
  radius: number;
  dataset: Record<string, unknown>;
  checkpoint: string;
  globalStep: number;
}

export interface EvalResult extends EvaluationReport {
  /** Where ε came from: `--radius`, `radius.json` or `config`. */
  radiusSource: 'option' | 'calibrated' | 'config';
  dataset: Record<string, unknown>;
  checkpoint: string;
  globalStep: number;
}

/**
 * The result was computed but `radius.json`/`eval.json` could not be written (disk full, read-only,
 * permissions): `result` holds it, so a caller can still show it.
 */
export class ResultNotSavedError<T> extends StorageError {
  constructor(
    cause: StorageError,
    readonly result: T,
  ) {
    super(`${cause.message}; the result was computed but not saved`, cause.code, cause.path);
  }
}

function saveResult<T>(file: string, result: T): T {
  try {
    writeFileAtomic(file, JSON.stringify(result, null, 1));
  } catch (e) {
    if (e instanceof StorageError) throw new ResultNotSavedError(e, result);
    throw e;
  }
  return result;
}

/** ε from a maximum norm: rounded up to an integer (≥ 1), or to 2 significant digits below 1. */
export function roundUpRadius(max: number): number {
  if (max >= 1) return Math.ceil(max);
  const scale = 10 ** (1 - Math.floor(Math.log10(max)));
  return Math.ceil(max * scale) / scale;
}

export async function calibrateRun(runDir: string, options: RunDataOptions & Omit<CalibrateOptions, 'batchSize'> = {}): Promise<RadiusResult> {
  const run = openRun(runDir, { checkpoint: options.checkpoint });
  try {
    const data = { recorded: recordedData(run.config, run.record.dataset), dataDir: options.dataDir, limit: options.limit };
    const pairs = radiusPairs(run.config, data);
    const cal = await calibrateRadius(run.model, pairs, { passes: options.passes ?? 5, batchSize: run.config.eval.batchSize, signal: options.signal, onProgress: options.onProgress });
    const { norms, ...stats } = cal;
    void norms;
    const result: RadiusResult = { ...stats, radius: roundUpRadius(stats.max), dataset: pairs.describe(), checkpoint: run.checkpointDir, globalStep: run.globalStep };
    return saveResult(path.join(run.runDir, RADIUS_FILE), result);
  } finally {
    run.model.dispose();
  }
}

export async function evaluateRun(
  runDir: string,
  options: RunDataOptions & Partial<Omit<EvaluationOptions, 'batchSize'>> = {},
): Promise<EvalResult> {
  const run = openRun(runDir, { checkpoint: options.checkpoint });
  try {
    let radius: number;
    let radiusSource: EvalResult['radiusSource'];
    if (options.radius !== undefined) {
      radius = options.radius;
      radiusSource = 'option';
    } else if (run.radius && typeof run.radius.radius === 'number') {
      radius = run.radius.radius;
      radiusSource = 'calibrated';
    } else if (run.config.eval.radius !== null) {
      radius = run.config.eval.radius;
      radiusSource = 'config';
    } else {
      throw new ConfigError(`no radius for ${runDir}: the config has no ae.max_dist and the radius was not calibrated; run \`pertset radius --run ${runDir}\` or pass --radius R`);
    }
    if (!(radius > 0) || !Number.isFinite(radius)) throw new ConfigError(`radius must be a number > 0, got ${radius}`);
    const data = { recorded: recordedData(run.config, run.record.dataset), dataDir: options.dataDir, limit: options.limit };
    const pairs = testPairs(run.config, data);
    const c = run.config.eval;
    const sameOver = radiusSource !== 'config';
    const report = await evaluatePerturbationSet(run.model, pairs, {
      radius,
      steps: options.steps ?? c.steps,
      alpha: options.alpha ?? (radiusSource === 'config' && c.alpha !== null ? c.alpha : radius / 20),
      samples: options.samples,
      overApproximation: options.overApproximation,
      overRadius: options.overRadius ?? (sameOver ? radius : c.overRadius ?? radius),
      overAlpha: options.overAlpha ?? (sameOver ? radius / 20 : c.overAlpha ?? undefined),
      overSteps: options.overSteps ?? c.overSteps,
      batchSize: c.batchSize,
      projection: options.projection,
      keepBest: options.keepBest,
      seed: options.seed ?? run.config.seed,
      signal: options.signal,
      onProgress: options.onProgress,
    });
    const result: EvalResult = { ...report, radiusSource, dataset: pairs.describe(), checkpoint: run.checkpointDir, globalStep: run.globalStep };
    return saveResult(path.join(run.runDir, EVAL_FILE), result);
  } finally {
    run.model.dispose();
  }
}
