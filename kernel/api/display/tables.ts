/**
 * The tables notebooks show again and again, built from the API's own result types: per-epoch
 * training means, radius calibrations, evaluation reports (the paper's quality table) and claims.
 */
import type { Claim } from '../evaluate/claims';
import { EAE_GAP_THRESHOLD, KL_PER_DIM_THRESHOLD, SPREAD_THRESHOLD } from '../evaluate/diagnostics';
import type { EvaluationReport } from '../evaluate/evaluate-set';
import type { RadiusCalibration } from '../evaluate/radius';
import type { EpochSummary } from '../train/events';
import { metricsTable, type MetricsTable, type MetricsTableOptions } from './metrics-table';

/** Options of every table here: a title, and a name to record the rows under (see `MetricsTableOptions.record`). */
export type TableOptions = Pick<MetricsTableOptions, 'title' | 'record'>;

/** Per-epoch means per example (training, and validation at the epoch's end) and seconds. */
export function trainingHistory(history: readonly EpochSummary[], options: TableOptions = {}): MetricsTable {
  return metricsTable(
    history.map((e) => ({
      epoch: e.epoch + 1,
      'train loss': e.train.loss,
      'train KL': e.train.kl,
      'train recon': e.train.recon,
      'val loss': e.validation?.loss,
      'val KL': e.validation?.kl,
      'val recon': e.validation?.recon,
      seconds: Math.round(e.seconds),
    })),
    { ...options, title: options.title ?? 'per-epoch means per example' },
  );
}

/** Latent-norm statistics and the ε they recommend, one row per named calibration. */
export function radiusTable(rows: ReadonlyArray<{ name: string; calibration: RadiusCalibration }>, options: TableOptions = {}): MetricsTable {
  return metricsTable(
    rows.map(({ name, calibration: c }) => ({
      model: name, mean: c.mean, std: c.std, p25: c.p25, p50: c.p50, p75: c.p75, 'p99.9': c.p999, max: c.max, 'ε = ⌈max⌉': c.radius, norms: c.n,
    })),
    { ...options, title: options.title ?? 'latent norms ‖(μ_q − μ_p)/σ_p‖₂ on validation pairs' },
  );
}

/**
 * The paper's quality table: approximation errors under the reference's metric (BCE for MNIST)
 * and, beside them, under per-pixel MSE, each group with its identity baseline (and BCE's entropy
 * floor); then the collapse diagnostics: sample spread, KL per dimension, and the flag; and for
 * RTS sets the spread of the affine maps that explain the samples.
 */
export function evaluationTable(rows: ReadonlyArray<{ name: string; report: EvaluationReport }>, options: TableOptions = {}): MetricsTable {
  const withOver = rows.some((r) => r.report.overAE !== 0);
  const withAffine = rows.some((r) => r.report.affineSpread !== undefined);
  return metricsTable(
    rows.map(({ name, report: r }) => ({
      model: name,
      'ε': r.radius,
      'encoder AE': r.encoderAE,
      'PGD AE': r.pgdAE,
      'expected AE': r.expectedAE,
      ...(withOver ? { 'over AE': r.overAE } : {}),
      KL: r.kl,
      recon: r.recon,
      identity: r.identityError,
      'entropy floor': r.entropyFloor,
      'MSE encoder': r.mse.encoderAE,
      'MSE PGD': r.mse.pgdAE,
      'MSE expected': r.mse.expectedAE,
      'MSE identity': r.mse.identityError,
      'sample spread': r.sampleSpread,
      'KL/dim': r.collapse.klPerDim.value,
      collapse: r.collapse.collapsed ? 'COLLAPSED' : 'no',
      ...(withAffine
        ? { 'angle std °': r.affineSpread?.angle, 'scale std': r.affineSpread?.scale, 'shift std px': r.affineSpread?.translation, 'affine fit MSE': r.affineSpread?.fitError, 'unwarped MSE': r.affineSpread?.identityFitError }
        : {}),
      pairs: r.n,
    })),
    options,
  );
}

/**
 * The posterior-collapse flag of each report: the three signals (each fires below the threshold
 * its column names; two of three flag a collapse), the verdict and the one-line reason.
 */
export function collapseTable(rows: ReadonlyArray<{ name: string; report: EvaluationReport }>, options: TableOptions = {}): MetricsTable {
  return metricsTable(
    rows.map(({ name, report: { collapse: c } }) => ({
      model: name,
      [`KL per dim (fires < ${KL_PER_DIM_THRESHOLD})`]: c.klPerDim.value,
      [`EAE gap (fires < ${EAE_GAP_THRESHOLD})`]: c.eaeGap.value,
      [`sample spread (fires < ${SPREAD_THRESHOLD})`]: c.sampleSpread.value,
      collapsed: c.collapsed ? 'COLLAPSED' : 'no',
      reason: c.reason,
    })),
    { ...options, title: options.title ?? 'posterior collapse: KL per latent dimension, (EAE − encoder AE) / encoder AE, per-pixel spread of samples of S(x)' },
  );
}

/** The paper's claims beside our figures: "holds" or "not at this budget". */
export function claimsTable(claims: readonly Claim[], options: TableOptions = {}): MetricsTable {
  return metricsTable(
    claims.map((c) => ({ verdict: c.holds ? 'holds' : 'not at this budget', claim: c.claim, ours: c.ours })),
    { ...options, title: options.title ?? 'the paper’s claims and our figures' },
  );
}
