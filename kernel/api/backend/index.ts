export * from './select';
export { FusedAdam, jsAdamStep, setAdamStepImplementation, adamStepImplementationName } from './adam';
export type { FusedAdamOptions, AdamStepArgs, AdamStepImplementation } from './adam';
export { installWasmKernels, uninstallWasmKernels, installedWasmKernels, WASM_KERNEL_FIXES } from './wasm-kernels';
export type { WasmKernelOptions } from './wasm-kernels';
