/**
 * Fixes for @tensorflow/tfjs-backend-wasm 4.22.0 (see shared research backends.md §3), one per
 * file, registered for the 'wasm' backend only. PLACEHOLDER until the kernels land.
 */
export interface WasmKernelOptions {
  /** Skip every fix (for comparison runs and the fallback test). */
  disabled?: boolean;
}

/** Registers the fixes; returns one note per fix installed. Idempotent. */
export function installWasmKernels(_options: WasmKernelOptions = {}): string[] {
  return [];
}
