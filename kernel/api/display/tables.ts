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
 * and, beside them, under per-pixel MSE, each group with its identity baseline (and BCE's entropy
 * floor); then the collapse diagnostics: sample spread, KL per dimension, and the flag; and for
 * RTS sets the spread of the affine maps that explain the samples.
 */
export function evaluationTable(rows: ReadonlyArray<{ name: string; report: EvaluationReport }>, options: { title?: string } = {}): MetricsTable {
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
        ? { 'angle std °': r.affineSpread?.angle, 'scale std': r.affineSpread?.scale, 'shift std px': r.affineSpread?.translation, 'affine fit MSE': r.affineSpread?.fitError }
        : {}),
      pairs: r.n,
    })),
    { title: options.title },
  );
}

/**
 * The posterior-collapse flag of each report, signal by signal: value, threshold, whether it
 * fired (two of three flag a collapse), and the one-line reason.
 */
export function collapseTable(rows: ReadonlyArray<{ name: string; report: EvaluationReport }>, options: { title?: string } = {}): MetricsTable {
  return metricsTable(
    rows.flatMap(({ name, report: { collapse: c } }) => [
      { model: name, signal: 'KL per latent dimension (nats)', value: c.klPerDim.value, 'fires below': c.klPerDim.threshold, fired: c.klPerDim.fired },
      { model: name, signal: '(EAE − encoder AE) / encoder AE', value: c.eaeGap.value, 'fires below': c.eaeGap.threshold, fired: c.eaeGap.fired },
      { model: name, signal: 'sample spread (per-pixel std)', value: c.sampleSpread.value, 'fires below': c.sampleSpread.threshold, fired: c.sampleSpread.fired },
      { model: name, signal: c.reason, value: null, 'fires below': null, fired: c.collapsed },
    ]),
    { title: options.title ?? 'posterior collapse: two of three signals below their thresholds flag it' },
  );
}

/** The paper's claims beside our figures: "holds" or "not at this budget". */
export function claimsTable(claims: readonly Claim[], options: { title?: string } = {}): MetricsTable {
  return metricsTable(
    claims.map((c) => ({ verdict: c.holds ? 'holds' : 'not at this budget', claim: c.claim, ours: c.ours })),
    { title: options.title ?? 'the paper’s claims and our figures' },
  );
}
