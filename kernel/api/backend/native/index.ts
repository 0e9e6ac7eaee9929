/**
 * The optional native accelerator (OpenBLAS / Accelerate through an N-API addon) for the wasm
 * backend. PLACEHOLDER until the addon lands.
 */
export interface NativeStatus {
  /** True when the native kernels are registered and passed the start-up self-test. */
  active: boolean;
  /** One line: why it is on or off (e.g. "addon not built: libopenblas not found"). */
  reason: string;
  /** BLAS threads in use when active. */
  threads?: number;
  /** BLAS build description when active (openblas_get_config). */
  blas?: string;
}

export interface NativeOptions {
  /** `PERTSET_NATIVE=0` or `false` disables it. */
  enabled?: boolean;
  threads?: number;
}

/** Called by initBackend() right after the wasm backend is ready. Never throws. */
export function tryInstallNativeAccelerator(_options: NativeOptions = {}): NativeStatus {
  return { active: false, reason: 'native accelerator not built into this version' };
}
