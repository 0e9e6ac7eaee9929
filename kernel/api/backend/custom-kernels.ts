/**
 * Names of pertset's own tfjs kernels (ops tfjs does not have), and the check the layers use to
 * pick them. They are registered by the native accelerator on 'wasm' when its addon is active;
 * on any other backend, or without the addon, the layers run their plain tfjs / JS formulation.
 */
import * as tf from '@tensorflow/tfjs';

export const CUSTOM_KERNELS = {
  /** inputs {image [b,h,w,c], theta [b,6] or [b,2,3]}, attrs {outputSize, alignCorners} → warped [b,oh,ow,c]. */
  affineGridSample: 'PertsetAffineGridSample',
  /** inputs {dy, image, theta}, same attrs → dImage (the gradient of sum(dy · warped) to the image). */
  affineGridSampleGradImage: 'PertsetAffineGridSampleGradImage',
  /** inputs {dy, image, theta}, same attrs → dTheta (its gradient to theta, theta's shape). */
  affineGridSampleGradTheta: 'PertsetAffineGridSampleGradTheta',
  /** inputs {x [b,h,w,c]}, attrs {pad} → reflection-padded [b,h+2p,w+2p,c]. */
  reflectPad2d: 'PertsetReflectPad2d',
  /** inputs {dy [b,h+2p,w+2p,c]}, attrs {pad} → dx [b,h,w,c]. */
  reflectPad2dGrad: 'PertsetReflectPad2dGrad',
  /** inputs {x [..., c], gamma [c], beta [c]}, attrs {epsilon} → [y, batch mean [c], biased batch variance [c]]. */
  batchNormTrain: 'PertsetBatchNormTrain',
  /** inputs {dy, x, gamma, mean, variance}, attrs {epsilon} → [dx, dGamma, dBeta]. */
  batchNormTrainGrad: 'PertsetBatchNormTrainGrad',
  /** inputs {x [..., c], mean [c], scale [c], beta [c]} → (x − mean)·scale + beta (eval-mode batch norm). */
  channelAffine: 'PertsetChannelAffine',
} as const;

export type CustomKernelName = (typeof CUSTOM_KERNELS)[keyof typeof CUSTOM_KERNELS];

/** True when `name` is registered for the active backend. */
export function customKernelAvailable(name: CustomKernelName): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** Runs a custom kernel with one output. */
export function runCustomKernel(name: CustomKernelName, inputs: tf.NamedTensorMap, attrs: Record<string, unknown> = {}): tf.Tensor {
  return tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
}

/** Runs a custom kernel with several outputs. */
export function runCustomKernelN(name: CustomKernelName, inputs: tf.NamedTensorMap, attrs: Record<string, unknown> = {}): tf.Tensor[] {
  return tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as unknown as tf.Tensor[];
}
