/**
 * The tables notebooks show again and again, built from the API's own result types: per-epoch
 * training means, radius calibrations, evaluation reports (the paper's quality table) and claims.
 */
import type { Claim } from '../evaluate/claims';
import type { EvaluationReport } from '../evaluate/evaluate-set';
import type { RadiusCalibration } from '../evaluate/radius';
import type { EpochSummary } from '../train/events';
import { metricsTable, type MetricsTable } from './metrics-table';

/** Per-epoch means per example (training, and validation at the epoch's end) and seconds. */
export function trainingHistory(history: readonly EpochSummary[], options: { title?: string } = {}): MetricsTable {
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
    { title: options.title ?? 'per-epoch means per example' },
  );
}

/** Latent-norm statistics and the ε they recommend, one row per named calibration. */
export function radiusTable(rows: ReadonlyArray<{ name: string; calibration: RadiusCalibration }>, options: { title?: string } = {}): MetricsTable {
  return metricsTable(
    rows.map(({ name, calibration: c }) => ({
      model: name, mean: c.mean, std: c.std, p25: c.p25, p50: c.p50, p75: c.p75, 'p99.9': c.p999, max: c.max, 'ε = ⌈max⌉': c.radius, norms: c.n,
    })),
    { title: options.title ?? 'latent norms ‖(μ_q − μ_p)/σ_p‖₂ on validation pairs' },
  );
}

/**
 * The paper's quality table: approximation errors under the reference's metric (BCE for MNIST)
 * and, beside them, under per-pixel MSE, with the identity baseline and the entropy floor.
 */
export function evaluationTable(rows: ReadonlyArray<{ name: string; report: EvaluationReport }>, options: { title?: string } = {}): MetricsTable {
  const withOver = rows.some((r) => r.report.overAE !== 0);
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
      pairs: r.n,
    })),
    { title: options.title },
  );
}

/** The paper's claims beside our figures: "holds" or "not at this budget". */
export function claimsTable(claims: readonly Claim[], options: { title?: string } = {}): MetricsTable {
  return metricsTable(
    claims.map((c) => ({ verdict: c.holds ? 'holds' : 'not at this budget', claim: c.claim, ours: c.ours })),
    { title: options.title ?? 'the paper’s claims and our figures' },
  );
}
