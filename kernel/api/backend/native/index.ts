/**
 * The optional native accelerator for the wasm backend: an N-API addon over OpenBLAS (Linux) or
 * Accelerate (macOS) that takes over matmuls, convolutions (im2col + SGEMM; a direct kernel for
 * few channels), bias-gradient sums, Concat/SplitV and the Adam update, and runs pertset's own
 * spatial-transformer kernels (bilinear sampler, reflection pad, training batch norm), working in
 * place on the wasm heap. When the addon is absent, fails to
 * load or disagrees with the start-up self-test, everything stays on plain wasm.
 *
 * Environment: `PERTSET_NATIVE=0` disables it (select.ts passes `enabled`),
 * `PERTSET_NATIVE_THREADS=n` sets the BLAS threads (default: the core count).
 */
import * as tf from '@tensorflow/tfjs';
import { activeAddon, defaultThreads, loadAddon, setActiveAddon, type NativeAddon } from './addon';
import { installNativeKernels, nativeKernelCounts, nativeKernelsInstalled, uninstallNativeKernels, type KernelCounts } from './kernels';
import { installNativeAdam, uninstallNativeAdam } from './adam';
import { runNativeSelfTest } from './self-test';

export interface NativeStatus {
  /** True when the native kernels are registered and passed the start-up self-test. */
  active: boolean;
  /** One line: why it is on or off (e.g. "addon not built: libopenblas not found"). */
  reason: string;
  /** BLAS threads in use when active. */
  threads?: number;
  /** BLAS build description when active (openblas_get_config). */
  blas?: string;
  /** Kernels registered on 'wasm' when active. */
  kernels?: string[];
}

export interface NativeOptions {
  /** `PERTSET_NATIVE=0` or `false` disables it. */
  enabled?: boolean;
  threads?: number;
}

let status: NativeStatus | null = null;

function threadsFrom(options: NativeOptions): number {
  const env = Number(process.env.PERTSET_NATIVE_THREADS);
  const n = options.threads ?? (Number.isInteger(env) && env > 0 ? env : defaultThreads());
  return Math.max(1, Math.floor(n));
}

function off(reason: string, warn = false): NativeStatus {
  // Unexpected failures (a build that exists but does not load or compute right) get one line.
  if (warn) process.stderr.write(`pertset: native accelerator off, using plain wasm: ${reason}\n`);
  setActiveAddon(null);
  uninstallNativeAdam();
  status = { active: false, reason };
  return status;
}

/** Called by initBackend() right after the wasm backend is ready. Never throws. Idempotent. */
export function tryInstallNativeAccelerator(options: NativeOptions = {}): NativeStatus {
  if (options.enabled === false) {
    if (nativeKernelsInstalled()) uninstallNativeKernels();
    return off('disabled (PERTSET_NATIVE=0)');
  }
  const active = activeAddon();
  if (status?.active && active) {
    if (options.threads !== undefined) status = { ...status, threads: active.setNumThreads(threadsFrom(options)) };
    return status;
  }
  try {
    if (tf.getBackend() !== 'wasm') return off(`active backend is ${tf.getBackend()}, not wasm`);
    const load = loadAddon();
    if (!load.addon) return off(load.reason, load.reason.startsWith('addon failed'));
    const addon = load.addon;
    const threads = addon.setNumThreads(threadsFrom(options));
    const kernels = installNativeKernels(addon);
    const test = runNativeSelfTest(addon);
    if (!test.ok) {
      uninstallNativeKernels();
      return off(`self-test failed (${test.failure})`, true);
    }
    const info = addon.info();
    setActiveAddon(addon);
    installNativeAdam(addon);
    status = {
      active: true,
      reason: `${info.blas} ${info.core ? `(${info.core} kernels) ` : ''}via ${load.path.split(/[\\/]/).slice(-1)[0]}, self-test passed`,
      threads,
      blas: info.config,
      kernels: [...kernels, 'FusedAdam inner loop'],
    };
    return status;
  } catch (e) {
    if (nativeKernelsInstalled()) uninstallNativeKernels();
    return off(`setup failed (${(e as Error).message.split('\n')[0]})`, true);
  }
}

/** The accelerator's state, or null before the wasm backend started. */
export function nativeStatus(): NativeStatus | null {
  return status;
}

/** The loaded addon while the accelerator is active (for the fused Adam's native inner loop). */
export function activeNativeAddon(): NativeAddon | null {
  return activeAddon();
}

/**
 * Turns the native kernels off (restoring the previous wasm kernels) or back on, in process —
 * for comparison runs and benchmarks. Returns the new status.
 */
export function setNativeAccelerator(on: boolean, options: NativeOptions = {}): NativeStatus {
  if (!on) {
    if (nativeKernelsInstalled()) uninstallNativeKernels();
    return off('switched off in process');
  }
  return tryInstallNativeAccelerator({ ...options, enabled: true });
}

/** Per-kernel counts of native calls and fallbacks since start-up. */
export function nativeKernelStats(): Record<string, KernelCounts> {
  return nativeKernelCounts();
}

export { nativeKernelsInstalled, resetNativeKernelCounts } from './kernels';
export { nativeLoadEnvironment, type NativeAddon } from './addon';
