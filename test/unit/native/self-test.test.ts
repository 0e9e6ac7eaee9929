/**
 * The start-up self-test and the switches, each in a fresh process: an injected wrong result
 * switches the accelerator off (old kernels back, JS Adam, results still right), and
 * PERTSET_NATIVE=0 disables it.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { NativeStatus } from '../../../kernel/api/backend/native';
import { runFixture } from './child';
import { addonBuilt, assertEnabledStatus } from './native-expectation';

interface Probe {
  backend: string;
  native: NativeStatus;
  notes: string[];
  adam: string;
  kernelsRegistered: boolean;
  product: number[];
}

const PRODUCT = [1, 6, 4, 15];

test('a self-test disagreement switches the native path off and leaves plain wasm working', () => {
  const probe = runFixture<Probe>('status-probe', { PERTSET_NATIVE: '1', PERTSET_NATIVE_SELFTEST_FAULT: '1' });
  assert.equal(probe.backend, 'wasm');
  assert.equal(probe.native.active, false);
  // Without the addon there is nothing to self-test: the reason names the missing addon instead.
  assert.match(probe.native.reason, addonBuilt() ? /^self-test failed \(matmul transposeB: relative error .*\(fault injected/ : /addon/);
  assert.equal(probe.notes.some((n) => n.startsWith('native accelerator: off (self-test failed')), addonBuilt());
  assert.equal(probe.kernelsRegistered, false, 'native kernels were unregistered');
  assert.equal(probe.adam, 'js');
  assert.deepEqual(probe.product, PRODUCT);
});

test('PERTSET_NATIVE=0 disables the accelerator; by default it is on when the addon is built', () => {
  const disabled = runFixture<Probe>('status-probe', { PERTSET_NATIVE: '0' });
  assert.deepEqual(disabled.native, { active: false, reason: 'disabled (PERTSET_NATIVE=0)' });
  assert.deepEqual(disabled.product, PRODUCT);
  const enabled = runFixture<Probe>('status-probe', { PERTSET_NATIVE: '', PERTSET_NATIVE_THREADS: '1' });
  const active = assertEnabledStatus(enabled.native, '');
  assert.equal(enabled.native.threads, active ? 1 : undefined);
  assert.equal(enabled.adam, active ? 'native' : 'js');
  assert.equal(enabled.kernelsRegistered, active);
  assert.match(enabled.native.reason, active ? /self-test passed/ : /addon/);
  assert.deepEqual(enabled.product, PRODUCT);
});
