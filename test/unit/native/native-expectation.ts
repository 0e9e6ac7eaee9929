/**
 * Whether these tests must see the native accelerator. Tests of the addon itself need it
 * (`requireAddon`: a skip without it, a failure under CI=true). Tests of the wasm backend run
 * either way and assert what each case implies: active with the addon (always under CI=true),
 * plain wasm with a reason naming the missing addon without it, and off with PERTSET_NATIVE=0
 * (the runner's second pass over the backend tests).
 */
import * as assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { DEPENDENCIES, IS_CI, need } from '../../helpers/env';
import { loadAddon, type NativeAddon } from '../../../kernel/api/backend/native/addon';
import type { NativeStatus } from '../../../kernel/api/backend/native';

/** The addon, or undefined when the test was skipped for lack of it (the caller returns). */
export function requireAddon(t: TestContext): NativeAddon | undefined {
  return need(t, DEPENDENCIES.nativeAddon) ? loadAddon().addon ?? undefined : undefined;
}

/** Whether the addon is built and loads here. */
export function addonBuilt(): boolean {
  return DEPENDENCIES.nativeAddon.missing() === undefined;
}

/**
 * Asserts the status of a run whose PERTSET_NATIVE was `setting` (default: this process's);
 * returns whether the accelerator is active.
 */
export function assertEnabledStatus(status: NativeStatus | null | undefined, setting = process.env.PERTSET_NATIVE): boolean {
  assert.ok(status, 'wasm backend reports a native status');
  if (['0', 'false', 'off'].includes(setting ?? '')) {
    assert.deepEqual(status, { active: false, reason: 'disabled (PERTSET_NATIVE=0)' });
    return false;
  }
  if (addonBuilt() || IS_CI) {
    assert.equal(status.active, true, `native accelerator should be active: ${status.reason}`);
    assert.ok((status.threads ?? 0) >= 1);
    assert.match(status.blas ?? '', /\S/);
    return true;
  }
  assert.equal(status.active, false);
  assert.match(status.reason, /addon/);
  return false;
}
