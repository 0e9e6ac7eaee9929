/**
 * The statistics randomized smoothing needs (Cohen et al.'s PREDICT and CERTIFY), taken
 * from stdlib's maintained, tested implementations rather than hand-rolled approximations:
 * the standard normal quantile Φ⁻¹, the one-sided Clopper–Pearson lower confidence bound (a beta
 * quantile) and the two-sided exact binomial test.
 */
import betaQuantileImpl from '@stdlib/stats-base-dists-beta-quantile';
import normalQuantileImpl from '@stdlib/stats-base-dists-normal-quantile';
import binomialTestImpl from '@stdlib/stats-binomial-test';
import { ArgumentError } from '../errors';

function checkProbability(p: number, name: string, where: string): void {
  if (!(p >= 0 && p <= 1)) throw new ArgumentError(`${where}: ${name} must be a probability in [0, 1], got ${p}`);
}

function checkCounts(k: number, n: number, where: string): void {
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`${where}: n must be an integer >= 1, got ${n}`);
  if (!Number.isInteger(k) || k < 0 || k > n) throw new ArgumentError(`${where}: k must be an integer in [0, n = ${n}], got ${k}`);
}

/** Φ⁻¹(p), the standard normal quantile (−∞ at 0, +∞ at 1); within 1e-6 of SciPy's for p ∈ [1e-10, 1). */
export function normalQuantile(p: number): number {
  checkProbability(p, 'p', 'normalQuantile');
  return normalQuantileImpl(p, 0, 1);
}

/** The p-quantile of Beta(a, b). */
export function betaQuantile(p: number, a: number, b: number): number {
  checkProbability(p, 'p', 'betaQuantile');
  if (!(a > 0) || !(b > 0)) throw new ArgumentError(`betaQuantile: the shape parameters must be > 0, got a = ${a}, b = ${b}`);
  return betaQuantileImpl(p, a, b);
}

/**
 * The one-sided (1 − α) Clopper–Pearson lower bound on a binomial proportion after `k` successes
 * in `n` trials: the α-quantile of Beta(k, n − k + 1), and 0 when k = 0. This is the lower end of
 * statsmodels' `proportion_confint(k, n, alpha=2α, method="beta")`, which CERTIFY uses.
 */
export function clopperPearsonLower(k: number, n: number, alpha: number): number {
  checkCounts(k, n, 'clopperPearsonLower');
  if (!(alpha > 0 && alpha < 1)) throw new ArgumentError(`clopperPearsonLower: alpha must be in (0, 1), got ${alpha}`);
  return k === 0 ? 0 : betaQuantileImpl(alpha, k, n - k + 1);
}

/** The p-value of the two-sided exact binomial test of `k` successes in `n` trials against success probability `p` (default ½). */
export function binomialTestPValue(k: number, n: number, p = 0.5): number {
  checkCounts(k, n, 'binomialTestPValue');
  checkProbability(p, 'p', 'binomialTestPValue');
  // stdlib sums the two tails separately, so a count at the mode can come out a hair above 1.
  return Math.min(1, binomialTestImpl(k, n, { p, alternative: 'two-sided' }).pValue);
}
