/**
 * The native inner loop for the fused, out-of-graph Adam that kernel/api/backend/adam.ts owns:
 * it is plugged in through that module's seam (`setAdamStepImplementation`) while the
 * accelerator is active, and the JS loop is put back when it is switched off.
 */
import { setAdamStepImplementation, type AdamStepImplementation } from '../adam';
import type { NativeAddon } from './addon';

export const NATIVE_ADAM_NAME = 'native';

function nativeAdamStep(addon: NativeAddon): AdamStepImplementation {
  return (a) => addon.adam(a.weights, a.grads, a.m, a.v, a.out,
    a.learningRate, a.beta1, a.beta2, a.epsilon, a.biasCorrection1, a.biasCorrection2);
}

let installed = false;

export function installNativeAdam(addon: NativeAddon): void {
  setAdamStepImplementation(nativeAdamStep(addon), NATIVE_ADAM_NAME);
  installed = true;
}

export function uninstallNativeAdam(): void {
  if (installed) setAdamStepImplementation(null);
  installed = false;
}
