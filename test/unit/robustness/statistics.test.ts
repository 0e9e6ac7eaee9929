/**
 * The smoothing statistics against SciPy, computed on the same grid by Debian's Python:
 * Φ⁻¹ (`norm.ppf`), the one-sided Clopper–Pearson lower bound (`beta.ppf(α, k, n−k+1)`, what
 * statsmodels' `proportion_confint(method="beta")` computes) and the two-sided exact binomial
 * test (`binomtest(...).pvalue`), all to 1e-6.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import { ArgumentError } from '../../../kernel/api/errors';
import { betaQuantile, binomialTestPValue, clopperPearsonLower, normalQuantile } from '../../../kernel/api/robustness';
import { DEPENDENCIES, PYTHON, need } from '../../helpers/env';

const TOLERANCE = 1e-6;

// stdlib's Φ⁻¹ agrees with SciPy to ~1e-8 down to p = 1e-10 but drifts to 3e-6 at p = 1e-12 (its
// erfcinv's far tail); certification only evaluates Φ⁻¹ at p̲ ≥ ½, so the grid stops at 1e-10.
const probabilities = [1e-10, 1e-6, 0.001, 0.01, 0.1, 0.25, 0.5, 0.6, 0.75, 0.9, 0.975, 0.999, Math.pow(0.001, 1 / 10000), Math.pow(0.001, 1 / 1000), 1 - 1e-6];
const levels = [0.001, 0.01, 0.05];
const sizes = [1, 2, 10, 100, 1000, 10000];
const countGrid: [number, number][] = [];
for (const n of sizes) for (const k of new Set([0, 1, Math.floor(n / 3), Math.floor(n / 2), Math.floor((9 * n) / 10), n - 1, n])) if (k >= 0 && k <= n) countGrid.push([k, n]);
const betaShapes: [number, number][] = [[0.5, 0.5], [1, 1], [2, 5], [5, 2], [50, 51], [9990, 11], [10000, 1]];
const testProbabilities = [0.5, 0.3, 0.9];

/** SciPy's values on the grid, as JSON from Debian's Python. */
function scipyReference(): { ppf: number[]; cp: number[][]; beta: number[]; binom: number[][] } {
  const script = `
import json, sys
from scipy import stats
g = json.load(sys.stdin)
out = {
  "ppf": [float(stats.norm.ppf(p)) for p in g["probabilities"]],
  "cp": [[0.0 if k == 0 else float(stats.beta.ppf(a, k, n - k + 1)) for (k, n) in g["counts"]] for a in g["levels"]],
  "beta": [float(stats.beta.ppf(p, a, b)) for (a, b) in g["shapes"] for p in g["betaProbabilities"]],
  "binom": [[float(stats.binomtest(k, n, p).pvalue) for (k, n) in g["counts"]] for p in g["testProbabilities"]],
}
print(json.dumps(out))`;
  const input = JSON.stringify({ probabilities, counts: countGrid, levels, shapes: betaShapes, betaProbabilities: [0.001, 0.05, 0.5, 0.95], testProbabilities });
  const r = spawnSync(PYTHON, ['-c', script], { input, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`SciPy reference failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function maxError(ours: number[], theirs: number[]): number {
  assert.equal(ours.length, theirs.length);
  return Math.max(...ours.map((v, i) => Math.abs(v - theirs[i])));
}

test('Φ⁻¹, the Clopper–Pearson lower bound, beta quantiles and the binomial test match SciPy to 1e-6', (t) => {
  if (!need(t, DEPENDENCIES.scipy)) return;
  const ref = scipyReference();
  const errors = {
    normalQuantile: maxError(probabilities.map(normalQuantile), ref.ppf),
    clopperPearsonLower: Math.max(...levels.map((a, i) => maxError(countGrid.map(([k, n]) => clopperPearsonLower(k, n, a)), ref.cp[i]))),
    betaQuantile: maxError(betaShapes.flatMap(([a, b]) => [0.001, 0.05, 0.5, 0.95].map((p) => betaQuantile(p, a, b))), ref.beta),
    binomialTestPValue: Math.max(...testProbabilities.map((p, i) => maxError(countGrid.map(([k, n]) => binomialTestPValue(k, n, p)), ref.binom[i]))),
  };
  t.diagnostic(`max |ours − scipy|: ${JSON.stringify(errors)} over ${probabilities.length} + ${levels.length * countGrid.length} + ${betaShapes.length * 4} + ${testProbabilities.length * countGrid.length} values`);
  for (const [name, e] of Object.entries(errors)) assert.ok(e <= TOLERANCE, `${name}: max error ${e} > ${TOLERANCE}`);
});

test('the statistics know their edge cases and reject nonsense by name', () => {
  assert.equal(normalQuantile(0.5), 0);
  assert.equal(normalQuantile(0), -Infinity);
  assert.equal(clopperPearsonLower(0, 100, 0.001), 0);
  // All n in the top class: the bound is α^{1/n}, which sets the largest certifiable radius.
  assert.ok(Math.abs(clopperPearsonLower(10000, 10000, 0.001) - Math.pow(0.001, 1 / 10000)) < 1e-12);
  assert.equal(binomialTestPValue(50, 100), 1);
  assert.ok(binomialTestPValue(100, 100) < 1e-29);
  assert.throws(() => normalQuantile(1.5), (e: unknown) => e instanceof ArgumentError && /p must be a probability/.test((e as Error).message));
  assert.throws(() => clopperPearsonLower(11, 10, 0.01), /k must be an integer in \[0, n = 10\]/);
  assert.throws(() => clopperPearsonLower(1, 10, 0), /alpha must be in \(0, 1\)/);
  assert.throws(() => binomialTestPValue(1.5, 10), /k must be an integer/);
  assert.throws(() => betaQuantile(0.5, 0, 1), /shape parameters must be > 0/);
});
