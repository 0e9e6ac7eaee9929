/**
 * Radius calibration and evaluation of a run directory (what `pertset radius` and
 * `pertset eval` do): open the run's "latest" checkpoint, build its validation or test pairs from
 * the same dataset it trained on, compute, and record the result next to the run together with
 * the dataset used: `radius.json` and every norm in `radius-norms.json` (`loadRadiusNorms` reads
 * them back for a histogram); `eval.json` and `samples.png` (x, x̃, reconstruction, samples of S(x)).
 */
import * as fs from 'fs';
import * as path from 'path';
import { CheckpointError, ConfigError, StorageError } from '../errors';
import { recordedData, radiusPairs, testPairs } from '../pairs/config-pairs';
import { openRun, EVAL_FILE, RADIUS_FILE, RADIUS_NORMS_FILE, SAMPLES_FILE } from '../runs/open-run';
import { writeFileAtomic } from '../runs/atomic-dir';
import { PerturbationSet, type Projection } from '../models/perturbation-set';
import { calibrateRadius, type CalibrateOptions, type LatentNormStats, type RadiusCalibration } from './radius';
import { evaluatePerturbationSet, type EvaluationOptions, type EvaluationReport } from './evaluate-set';
import { sampleGridPng } from './sample-grid';

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
  /** The file beside radius.json holding every norm (`loadRadiusNorms`). */
  normsFile: string;
}

export interface EvalResult extends EvaluationReport {
  /** Where ε came from: `--radius`, `radius.json` or `config`. */
  radiusSource: 'option' | 'calibrated' | 'config';
  dataset: Record<string, unknown>;
  checkpoint: string;
  globalStep: number;
  /** The sample grid beside eval.json: rows of x, x̃, reconstruction and samples of S(x). */
  samplesFile: string;
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

/**
 * Writes the result (JSON), then the files that go with it (norms, sample grid); a storage failure
 * keeps the result for the caller. The result comes first: it is what `eval`/`radius` exist for.
 */
function saveResult<T>(file: string, result: T, extra: Array<[string, () => Uint8Array | string]> = []): T {
  try {
    writeFileAtomic(file, JSON.stringify(result, null, 1));
    for (const [f, data] of extra) writeFileAtomic(f, data());
  } catch (e) {
    if (e instanceof StorageError) throw new ResultNotSavedError(e, result);
    throw e;
  }
  return result;
}

export async function calibrateRun(runDir: string, options: RunDataOptions & Omit<CalibrateOptions, 'batchSize'> = {}): Promise<RadiusResult> {
  const run = openRun(runDir, { checkpoint: options.checkpoint });
  try {
    const data = { recorded: recordedData(run.config, run.record.dataset), dataDir: options.dataDir, limit: options.limit };
    const pairs = radiusPairs(run.config, data);
    const cal = await calibrateRadius(run.model, pairs, { passes: options.passes ?? 5, batchSize: run.config.eval.batchSize, signal: options.signal, callbacks: options.callbacks });
    return saveCalibration(run.runDir, cal, { dataset: pairs.describe(), checkpoint: run.checkpointDir, globalStep: run.globalStep });
  } finally {
    run.model.dispose();
  }
}

/** Records a calibration of a run's checkpoint as `pertset radius` does: radius.json and radius-norms.json. */
export function saveCalibration(runDir: string, cal: RadiusCalibration, of: { dataset: Record<string, unknown>; checkpoint: string; globalStep: number }): RadiusResult {
  const { norms, ...stats } = cal;
  const result: RadiusResult = { ...stats, dataset: of.dataset, checkpoint: of.checkpoint, globalStep: of.globalStep, normsFile: RADIUS_NORMS_FILE };
  const saved: RadiusNorms = { passes: cal.passes, n: norms.length, checkpoint: of.checkpoint, globalStep: of.globalStep, norms: Array.from(norms) };
  return saveResult(path.join(runDir, RADIUS_FILE), result, [[path.join(runDir, RADIUS_NORMS_FILE), () => JSON.stringify(saved)]]);
}

/**
 * The calibration radius.json and radius-norms.json hold for the checkpoint at `globalStep` with
 * `passes` passes over `pairs` validation pairs, or null when they are missing, unreadable or from
 * another checkpoint or protocol (then it is computed again).
 */
export function savedCalibration(runDir: string, want: { globalStep: number; passes: number; pairs: number }): RadiusCalibration | null {
  let result: RadiusResult;
  let norms: ReturnType<typeof loadRadiusNorms>;
  try {
    result = JSON.parse(fs.readFileSync(path.join(path.resolve(runDir), RADIUS_FILE), 'utf8')) as RadiusResult;
    norms = loadRadiusNorms(runDir);
  } catch {
    return null;
  }
  const current = result.globalStep === want.globalStep && norms.globalStep === want.globalStep && result.passes === want.passes && norms.passes === want.passes;
  if (!current || norms.norms.length !== want.passes * want.pairs || result.n !== norms.norms.length) return null;
  const { mean, std, p25, p50, p75, p999, max, n, radius, passes } = result;
  return { mean, std, p25, p50, p75, p999, max, n, radius, passes, norms: norms.norms };
}

/** What `radius-norms.json` holds: every latent norm of the last `pertset radius`, pass-major. */
export interface RadiusNorms {
  passes: number;
  n: number;
  checkpoint: string;
  globalStep: number;
  norms: number[];
}

/**
 * The latent norms `pertset radius` (`calibrateRun`) computed for a run, to redraw their
 * histogram (`display.histogram(norms)`) without recomputing.
 */
export function loadRadiusNorms(runDir: string): { norms: Float32Array; passes: number; checkpoint: string; globalStep: number } {
  const file = path.join(path.resolve(runDir), RADIUS_NORMS_FILE);
  if (!fs.existsSync(file)) throw new CheckpointError(`${file} does not exist; run \`pertset radius --run ${runDir}\` first`);
  let saved: RadiusNorms;
  try {
    saved = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CheckpointError(`${file}: invalid JSON (${(e as Error).message}); rerun \`pertset radius --run ${runDir}\``);
  }
  if (!Array.isArray(saved.norms) || saved.norms.length !== saved.n || !saved.norms.every((v) => typeof v === 'number')) {
    throw new CheckpointError(`${file}: "norms" must be an array of ${saved.n} numbers; rerun \`pertset radius --run ${runDir}\``);
  }
  return { norms: Float32Array.from(saved.norms), passes: saved.passes, checkpoint: saved.checkpoint, globalStep: saved.globalStep };
}

export interface EvaluateRunOptions extends RunDataOptions, Omit<EvaluationOptions, 'batchSize'> {
  /** ε (default: radius.json from `pertset radius`, else the config's ae.max_dist). */
  radius?: number;
  /** `ball` (default) or the reference's `reference-renorm` projection. */
  projection?: Projection;
}

/**
 * Evaluates a run directory's set on its test pairs. Attack defaults: with a calibrated or given
 * ε, PGD and over-approximation both use ε with α = ε/20; with the config's ε, its `ae`/`oae` sections.
 */
export async function evaluateRun(runDir: string, options: EvaluateRunOptions = {}): Promise<EvalResult> {
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
    const attack = {
      ...options.attack,
      steps: options.attack?.steps ?? c.steps,
      alpha: options.attack?.alpha ?? (radiusSource === 'config' && c.alpha !== null ? c.alpha : radius / 20),
    };
    const given = options.overApproximation;
    const overApproximation =
      given === false
        ? false
        : {
            keepBest: attack.keepBest,
            ...given,
            radius: given?.radius ?? (sameOver ? radius : c.overRadius ?? radius),
            alpha: given?.alpha ?? (sameOver ? radius / 20 : c.overAlpha ?? undefined),
            steps: given?.steps ?? c.overSteps ?? attack.steps,
          };
    const set = new PerturbationSet(run.model, radius, { projection: options.projection });
    const report = await evaluatePerturbationSet(set, pairs, {
      attack,
      overApproximation,
      samples: options.samples,
      spreadSamples: options.spreadSamples,
      // How much of an RTS set's spread is rotation, scaling and translation.
      affine: options.affine ?? run.config.perturbation.test.type === 'rts',
      batchSize: c.batchSize,
      seed: options.seed ?? run.config.seed,
      signal: options.signal,
      callbacks: options.callbacks,
    });
    const result: EvalResult = { ...report, radiusSource, dataset: pairs.describe(), checkpoint: run.checkpointDir, globalStep: run.globalStep, samplesFile: SAMPLES_FILE };
    const seed = options.seed ?? run.config.seed;
    return saveResult(path.join(run.runDir, EVAL_FILE), result, [[path.join(run.runDir, SAMPLES_FILE), () => sampleGridPng(set, pairs, { seed })]]);
  } finally {
    run.model.dispose();
  }
}
