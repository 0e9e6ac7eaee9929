/**
 * The native kernels of the spatial-transformer models, registered on 'wasm' under pertset's own
 * kernel names (custom-kernels.ts): the bilinear sampler (forward, and its gradients to the image
 * and to theta as separate kernels), reflection padding (and its adjoint), training-mode batch
 * norm (and its gradient) and eval-mode batch norm's per-channel affine map. They work in place on the wasm heap like the other native kernels. There is no stock kernel to
 * fall back to: the layers check that these are registered and otherwise use their tfjs/JS form.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon, NativeBuffer } from './addon';
import { CUSTOM_KERNELS } from '../custom-kernels';
import { heap, heapOffset, type KernelArgs } from '../wasm-kernels/wasm-internals';

/** The addon's STN exports (offsets in bytes, sizes in elements; see pertset_native.cc). */
export interface StnAddon {
  affineGridSample(buf: NativeBuffer, imageOffset: number, thetaOffset: number, outOffset: number,
    batch: number, inHeight: number, inWidth: number, channels: number, outHeight: number, outWidth: number, alignCorners: boolean): void;
  /** outputs: 1 dImage, 2 dTheta, 3 both (the other offset is ignored). */
  affineGridSampleGrad(buf: NativeBuffer, dyOffset: number, imageOffset: number, thetaOffset: number, dImageOffset: number, dThetaOffset: number,
    batch: number, inHeight: number, inWidth: number, channels: number, outHeight: number, outWidth: number, alignCorners: boolean, outputs: number): void;
  /** gradient=false: y = pad(x); true: x = adjoint(y). */
  reflectPad2d(buf: NativeBuffer, xOffset: number, yOffset: number, batch: number, height: number, width: number, channels: number,
    pad: number, gradient: boolean): void;
  batchNormTrain(buf: NativeBuffer, xOffset: number, gammaOffset: number, betaOffset: number, yOffset: number, meanOffset: number,
    varianceOffset: number, rows: number, channels: number, epsilon: number): void;
  batchNormTrainGrad(buf: NativeBuffer, dyOffset: number, xOffset: number, gammaOffset: number, meanOffset: number, varianceOffset: number,
    dxOffset: number, dGammaOffset: number, dBetaOffset: number, rows: number, channels: number, epsilon: number): void;
  channelAffine(buf: NativeBuffer, xOffset: number, meanOffset: number, scaleOffset: number, betaOffset: number, yOffset: number,
    rows: number, channels: number): void;
}

type Kernel = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

function hasStnExports(addon: NativeAddon): addon is NativeAddon & StnAddon {
  const a = addon as Partial<StnAddon>;
  return typeof a.affineGridSample === 'function' && typeof a.affineGridSampleGrad === 'function' &&
    typeof a.reflectPad2d === 'function' && typeof a.batchNormTrain === 'function' && typeof a.batchNormTrainGrad === 'function' &&
    typeof a.channelAffine === 'function';
}

function requireF32(kernel: string, inputs: Record<string, tf.TensorInfo | undefined>): void {
  for (const [name, t] of Object.entries(inputs)) {
    if (!t) throw new Error(`${kernel}: input '${name}' is missing`);
    if (t.dtype !== 'float32') throw new Error(`${kernel}: input '${name}' must be float32, got ${t.dtype}`);
  }
}

/** [batch, inH, inW, channels, outH, outW] of a sampler call, after checking the shapes. */
function sampleGeometry(kernel: string, image: tf.TensorInfo, theta: tf.TensorInfo, attrs: Record<string, unknown>): number[] {
  if (image.shape.length !== 4) throw new Error(`${kernel}: image must be [batch, h, w, c], got [${image.shape}]`);
  const [b, h, w, c] = image.shape;
  if (tf.util.sizeFromShape(theta.shape) !== 6 * b || theta.shape[0] !== b) throw new Error(`${kernel}: theta must hold 6 numbers per image, got [${theta.shape}]`);
  const [oh, ow] = (attrs.outputSize as number[] | undefined) ?? [h, w];
  return [b, h, w, c, oh, ow];
}

/** One of the sampler's gradients: to the image or to theta (the addon computes only that one). */
function sampleGrad(addon: NativeAddon & StnAddon, kernel: string, { inputs, backend, attrs = {} }: KernelArgs, which: 'image' | 'theta'): tf.TensorInfo {
  const { dy, image, theta } = inputs;
  requireF32(kernel, { dy, image, theta });
  const g = sampleGeometry(kernel, image!, theta!, attrs);
  if (tf.util.sizeFromShape(dy!.shape) !== g[0] * g[4] * g[5] * g[3]) throw new Error(`${kernel}: dy [${dy!.shape}] does not match the output size`);
  const out = backend.makeOutput(which === 'image' ? image!.shape : theta!.shape, 'float32');
  const offset = heapOffset(backend, out);
  addon.affineGridSampleGrad(heap(backend), heapOffset(backend, dy!), heapOffset(backend, image!), heapOffset(backend, theta!),
    which === 'image' ? offset : 0, which === 'theta' ? offset : 0, g[0], g[1], g[2], g[3], g[4], g[5], !!attrs.alignCorners, which === 'image' ? 1 : 2);
  return out;
}

function kernels(addon: NativeAddon & StnAddon): Record<string, Kernel> {
  const K = CUSTOM_KERNELS;
  return {
    [K.affineGridSample]: ({ inputs, backend, attrs = {} }) => {
      const { image, theta } = inputs;
      requireF32(K.affineGridSample, { image, theta });
      const g = sampleGeometry(K.affineGridSample, image!, theta!, attrs);
      const out = backend.makeOutput([g[0], g[4], g[5], g[3]], 'float32');
      addon.affineGridSample(heap(backend), heapOffset(backend, image!), heapOffset(backend, theta!), heapOffset(backend, out),
        g[0], g[1], g[2], g[3], g[4], g[5], !!attrs.alignCorners);
      return out;
    },
    [K.affineGridSampleGradImage]: (args) => sampleGrad(addon, K.affineGridSampleGradImage, args, 'image'),
    [K.affineGridSampleGradTheta]: (args) => sampleGrad(addon, K.affineGridSampleGradTheta, args, 'theta'),
    [K.reflectPad2d]: ({ inputs, backend, attrs = {} }) => {
      const { x } = inputs;
      requireF32(K.reflectPad2d, { x });
      const p = Number(attrs.pad);
      const [b, h, w, c] = x!.shape;
      const y = backend.makeOutput([b, h + 2 * p, w + 2 * p, c], 'float32');
      addon.reflectPad2d(heap(backend), heapOffset(backend, x!), heapOffset(backend, y), b, h, w, c, p, false);
      return y;
    },
    [K.reflectPad2dGrad]: ({ inputs, backend, attrs = {} }) => {
      const { dy } = inputs;
      requireF32(K.reflectPad2dGrad, { dy });
      const p = Number(attrs.pad);
      const [b, ph, pw, c] = dy!.shape;
      const dx = backend.makeOutput([b, ph - 2 * p, pw - 2 * p, c], 'float32');
      addon.reflectPad2d(heap(backend), heapOffset(backend, dx), heapOffset(backend, dy!), b, ph - 2 * p, pw - 2 * p, c, p, true);
      return dx;
    },
    [K.batchNormTrain]: ({ inputs, backend, attrs = {} }) => {
      const { x, gamma, beta } = inputs;
      requireF32(K.batchNormTrain, { x, gamma, beta });
      const c = x!.shape[x!.shape.length - 1];
      const rows = tf.util.sizeFromShape(x!.shape) / c;
      const y = backend.makeOutput(x!.shape, 'float32');
      const mean = backend.makeOutput([c], 'float32');
      const variance = backend.makeOutput([c], 'float32');
      addon.batchNormTrain(heap(backend), heapOffset(backend, x!), heapOffset(backend, gamma!), heapOffset(backend, beta!),
        heapOffset(backend, y), heapOffset(backend, mean), heapOffset(backend, variance), rows, c, Number(attrs.epsilon));
      return [y, mean, variance];
    },
    [K.batchNormTrainGrad]: ({ inputs, backend, attrs = {} }) => {
      const { dy, x, gamma, mean, variance } = inputs;
      requireF32(K.batchNormTrainGrad, { dy, x, gamma, mean, variance });
      const c = x!.shape[x!.shape.length - 1];
      const rows = tf.util.sizeFromShape(x!.shape) / c;
      const dx = backend.makeOutput(x!.shape, 'float32');
      const dGamma = backend.makeOutput([c], 'float32');
      const dBeta = backend.makeOutput([c], 'float32');
      addon.batchNormTrainGrad(heap(backend), heapOffset(backend, dy!), heapOffset(backend, x!), heapOffset(backend, gamma!),
        heapOffset(backend, mean!), heapOffset(backend, variance!), heapOffset(backend, dx), heapOffset(backend, dGamma),
        heapOffset(backend, dBeta), rows, c, Number(attrs.epsilon));
      return [dx, dGamma, dBeta];
    },
    [K.channelAffine]: ({ inputs, backend }) => {
      const { x, mean, scale, beta } = inputs;
      requireF32(K.channelAffine, { x, mean, scale, beta });
      const c = x!.shape[x!.shape.length - 1];
      for (const [name, v] of [['mean', mean!], ['scale', scale!], ['beta', beta!]] as const) {
        if (tf.util.sizeFromShape(v.shape) !== c) throw new Error(`${K.channelAffine}: ${name} must hold ${c} values (one per channel), got [${v.shape}]`);
      }
      const y = backend.makeOutput(x!.shape, 'float32');
      addon.channelAffine(heap(backend), heapOffset(backend, x!), heapOffset(backend, mean!), heapOffset(backend, scale!), heapOffset(backend, beta!),
        heapOffset(backend, y), tf.util.sizeFromShape(x!.shape) / c, c);
      return y;
    },
  };
}

const installed = new Set<string>();

/**
 * Registers the STN kernels on 'wasm' when the addon has them (an older build does not: then
 * nothing is registered). `onCall(name)` is called on every use (the native kernel counts).
 */
export function installStnKernels(addon: NativeAddon, onCall: (name: string) => void): string[] {
  if (!hasStnExports(addon)) return [];
  for (const [name, fn] of Object.entries(kernels(addon))) {
    if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
    const counted: Kernel = (args) => {
      const out = fn(args);
      onCall(name);
      return out;
    };
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: counted as unknown as tf.KernelFunc });
    installed.add(name);
  }
  return [...installed];
}

/** The STN kernels registered now. */
export function installedStnKernels(): string[] {
  return [...installed];
}

export function uninstallStnKernels(): void {
  for (const name of installed) tf.unregisterKernel(name, 'wasm');
  installed.clear();
}
