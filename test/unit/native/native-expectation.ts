/**
 * Whether these tests must see the native accelerator. Under CI=true the addon must be built and
 * active (a missing build is a failure). Elsewhere an absent addon is allowed, and the tests then
 * assert the fallback instead: plain wasm with a reason that names the missing addon.
 * With PERTSET_NATIVE=0 (CI's second pass over the backend tests) it must be off, saying so.
 */
import * as assert from 'node:assert/strict';
import { IS_CI } from '../../helpers/env';
import { loadAddon, type NativeAddon } from '../../../kernel/api/backend/native/addon';
import type { NativeStatus } from '../../../kernel/api/backend/native';

/** The addon, or null after asserting the documented fallback (never null under CI). */
export function addonOrFallback(): NativeAddon | null {
  const load = loadAddon();
  if (load.addon) return load.addon;
  if (IS_CI) assert.fail(`native addon required under CI=true: ${load.reason}`);
  assert.match(load.reason, /addon (not built|failed to load|at .* is from another version)/);
  return null;
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
  if (loadAddon().addon || IS_CI) {
    assert.equal(status.active, true, `native accelerator should be active: ${status.reason}`);
    assert.ok((status.threads ?? 0) >= 1);
    assert.match(status.blas ?? '', /\S/);
    return true;
  }
  assert.equal(status.active, false);
  assert.match(status.reason, /addon/);
  return false;
}
