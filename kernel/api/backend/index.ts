/**
 * Choosing and initialising the compute backend: `initBackend({ backend, threads })` picks
 * tfjs-node when it loads, else wasm with our kernel fixes (and the native accelerator when built),
 * else cpu, and says why. The kernel fixes, the fused Adam and the accelerator are internals.
 */
export { initBackend, backendInfo, parseBackendName, BACKEND_NAMES, type BackendName, type BackendOptions, type BackendInfo } from './select';
export { WASM_KERNEL_FIXES } from './wasm-kernels';
