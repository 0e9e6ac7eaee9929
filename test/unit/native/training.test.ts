/**
 * 20 CVAE training steps with a fixed seed give the same losses with the native accelerator as
 * on plain wasm (PERTSET_NATIVE=0), within 1e-5 relative. Each run is a fresh process.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { NativeStatus } from '../../../kernel/api/backend/native';
import { runFixture } from './child';
import { assertEnabledStatus } from './native-expectation';

interface Run {
  native: NativeStatus;
  adam: string;
  counts: Record<string, { native: number; fallback: number }>;
  losses: number[];
}

test('20 CVAE steps: native and plain-wasm losses agree within 1e-5 relative', () => {
  const native = runFixture<Run>('cvae-steps', { PERTSET_NATIVE: '1' });
  const plain = runFixture<Run>('cvae-steps', { PERTSET_NATIVE: '0' });
  assert.equal(plain.native.active, false);
  assert.equal(plain.adam, 'js');
  const active = assertEnabledStatus(native.native, '1');
  assert.equal(native.adam, active ? 'native' : 'js', 'FusedAdam runs the native inner loop when the accelerator is active');
  // Under a gradient tape tfjs unfuses fused convs with activations, hence Conv2D here.
  for (const k of ['BatchMatMul', '_FusedMatMul', 'Conv2D', 'Conv2DBackpropFilter', 'Sum']) {
    assert.equal((native.counts[k]?.native ?? 0) > 0, active, `${k} ran natively: ${active}`);
  }
  // Only sums over non-leading axes (the KL's per-row sum) go back to wasm.
  const fallbacks = Object.entries(native.counts).filter(([k, c]) => k !== 'Sum' && c.fallback > 0);
  assert.deepEqual(fallbacks, [], 'no matmul or conv fallbacks');
  assert.equal(native.losses.length, 20);
  native.losses.forEach((l, i) => {
    const rel = Math.abs(l - plain.losses[i]) / Math.abs(plain.losses[i]);
    assert.ok(Number.isFinite(l) && rel <= 1e-5, `step ${i + 1}: native ${l} vs wasm ${plain.losses[i]} (rel ${rel.toExponential(2)})`);
  });
  assert.ok(native.losses[19] < native.losses[0], 'the loss decreases');
});
