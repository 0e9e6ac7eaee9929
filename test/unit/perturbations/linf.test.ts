import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinfPerturbation } from '../../../kernel/api/perturbations/linf';
import { loadDataset } from '../../../kernel/api/data/load';
import { createRng } from '../../../kernel/api/random';
import { ArgumentError } from '../../../kernel/api/errors';
import type { Shape4 } from '../../../kernel/api/perturbations/types';

function batch(): { x: Float32Array; shape: Shape4 } {
  const ds = loadDataset('embedded', { split: 'test', limit: 64 });
  const b = ds.batch(Array.from({ length: 64 }, (_, i) => i));
  return { x: b.x, shape: b.shape };
}

test('linf: the same seed gives the same x̃, other seeds differ', () => {
  const { x, shape } = batch();
  const p = new LinfPerturbation();
  const a = p.perturbBatch(x, shape, createRng(7));
  assert.deepEqual(p.perturbBatch(x, shape, createRng(7)), a);
  const b = p.perturbBatch(x, shape, createRng(8));
  let differ = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differ++;
  assert.ok(differ > a.length * 0.5, `${differ} of ${a.length} values differ`);
});

test('linf: |x̃ − x| ≤ ε and 0 ≤ x̃ ≤ 1 hold exactly, also for values next to the bounds', () => {
  const { x, shape } = batch();
  // Add values where float32 rounding of x + u could cross the bound.
  const edge = Float32Array.from([0, 1, 0.3, 0.7, Math.fround(0.3), Math.fround(0.7), 0.5, 1e-8, 1 - 1e-7, 0.2999999]);
  const probes = new Float32Array(edge.length * 2000);
  for (let i = 0; i < probes.length; i++) probes[i] = edge[i % edge.length];
  for (const [xs, sh, eps] of [[x, shape, 0.3], [probes, [probes.length, 1, 1, 1] as Shape4, 0.3], [probes, [probes.length, 1, 1, 1] as Shape4, 0.1]] as const) {
    const p = new LinfPerturbation({ epsilon: eps });
    const xt = p.perturbBatch(xs, sh, createRng(1));
    for (let i = 0; i < xs.length; i++) {
      assert.ok(Math.abs(xt[i] - xs[i]) <= eps, `|${xt[i]} - ${xs[i]}| > ${eps}`);
      assert.ok(xt[i] >= 0 && xt[i] <= 1, `${xt[i]} outside [0, 1]`);
    }
  }
});

test('linf: noise is uniform on (−ε, ε) where no clipping happens, and clipping piles mass at the bounds', () => {
  const n = 20000;
  const p = new LinfPerturbation({ epsilon: 0.3 });
  const mid = p.perturbBatch(new Float32Array(n).fill(0.5), [n, 1, 1, 1], createRng(3));
  let sum = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of mid) {
    sum += v - 0.5;
    lo = Math.min(lo, v - 0.5);
    hi = Math.max(hi, v - 0.5);
  }
  assert.ok(Math.abs(sum / n) < 0.01, `mean noise ${sum / n}`);
  assert.ok(lo < -0.29 && hi > 0.29, `noise range [${lo}, ${hi}]`);
  const zeros = p.perturbBatch(new Float32Array(n), [n, 1, 1, 1], createRng(4));
  const clipped = zeros.filter((v) => v === 0).length / n;
  assert.ok(Math.abs(clipped - 0.5) < 0.02, `fraction clipped at 0: ${clipped}`);
});

test('linf: bad parameters and mismatched shapes are ArgumentErrors', () => {
  assert.throws(() => new LinfPerturbation({ epsilon: 0 }), ArgumentError);
  assert.throws(() => new LinfPerturbation({ min: 1, max: 0 }), ArgumentError);
  assert.throws(() => new LinfPerturbation().perturbBatch(new Float32Array(10), [2, 2, 2, 1], createRng(0)), /does not match shape \[2, 2, 2, 1\]/);
});
