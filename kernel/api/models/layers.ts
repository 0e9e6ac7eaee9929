/**
 * The building blocks of the CVAE architectures, written against tfjs ops (NHWC images) with
 * PyTorch's semantics: default initialisation, explicit symmetric conv padding, batch norm with
 * running statistics, reflection padding. Each layer registers its variables in a
 * `VariableStore` under `<scope>/<param>`; see `naming.ts` for the PyTorch key of each name.
 */
import * as tf from '@tensorflow/tfjs';
import { CUSTOM_KERNELS, customKernelAvailable, runCustomKernel, runCustomKernelN } from '../backend/custom-kernels';
import { ArgumentError } from '../errors';
import { torchDefaultUniform } from './init';
import { linearConv2d } from './linear-conv';
import type { VariableStore } from './variable-store';

/** `nn.Linear`: kernel [in, out] (PyTorch's weight transposed), bias [out]. */
export class Dense {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;

  constructor(store: VariableStore, scope: string, readonly inFeatures: number, readonly outFeatures: number) {
    this.kernel = store.add(`${scope}/kernel`, [inFeatures, outFeatures],
      torchDefaultUniform(store.seed, `${scope}/kernel`, inFeatures * outFeatures, inFeatures));
    this.bias = store.add(`${scope}/bias`, [outFeatures],
      torchDefaultUniform(store.seed, `${scope}/bias`, outFeatures, inFeatures));
  }

  apply(x: tf.Tensor2D, activation: 'linear' | 'relu' = 'linear'): tf.Tensor2D {
    return tf.fused.matMul({ a: x, b: this.kernel as tf.Tensor2D, bias: this.bias, activation }) as tf.Tensor2D;
  }
}

export interface Conv2dOptions {
  stride?: number;
  /** Symmetric zero padding on height and width, as PyTorch's `padding=`. */
  padding?: number;
  /** PyTorch's `bias=` (default true); the residual classifiers' convolutions have none. */
  bias?: boolean;
}

/** `nn.Conv2d` (square kernel): kernel HWIO [k, k, in, out] (PyTorch's OIHW permuted), bias [out] unless `bias: false`. */
export class Conv2d {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable | null;
  private readonly stride: number;
  private readonly padding: number;

  constructor(store: VariableStore, scope: string, inChannels: number, outChannels: number, kernelSize: number,
    options: Conv2dOptions = {}) {
    const fanIn = inChannels * kernelSize * kernelSize;
    this.kernel = store.add(`${scope}/kernel`, [kernelSize, kernelSize, inChannels, outChannels],
      torchDefaultUniform(store.seed, `${scope}/kernel`, fanIn * outChannels, fanIn));
    this.bias = options.bias === false ? null : store.add(`${scope}/bias`, [outChannels], torchDefaultUniform(store.seed, `${scope}/bias`, outChannels, fanIn));
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
  }

  apply(x: tf.Tensor4D, activation: 'linear' | 'relu' = 'linear'): tf.Tensor4D {
    // Linear: differentiated per input (see linear-conv.ts). With ReLU, tf.fused.conv2d already
    // splits into separately differentiated ops whenever a gradient is being recorded.
    if (activation === 'linear') return linearConv2d(x, this.kernel as tf.Tensor4D, this.bias as tf.Tensor1D | null, this.stride, this.padding);
    return tf.fused.conv2d({
      x, filter: this.kernel as tf.Tensor4D, strides: this.stride, pad: this.padding, bias: this.bias ?? undefined, activation,
    });
  }
}

/** PyTorch's `nn.BatchNorm2d` defaults. */
export const BATCH_NORM_MOMENTUM = 0.1;
export const BATCH_NORM_EPSILON = 1e-5;

/**
 * `nn.BatchNorm2d` over the channel axis of NHWC tensors. Training mode normalises with the batch
 * statistics (biased variance) and updates the running statistics in place (unbiased variance,
 * momentum 0.1, as PyTorch); eval mode uses the running statistics.
 */
export class BatchNorm2d {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly movingMean: tf.Variable;
  readonly movingVariance: tf.Variable;

  constructor(store: VariableStore, scope: string, readonly channels: number) {
    this.gamma = store.add(`${scope}/gamma`, [channels], new Float32Array(channels).fill(1));
    this.beta = store.add(`${scope}/beta`, [channels], new Float32Array(channels));
    this.movingMean = store.add(`${scope}/moving_mean`, [channels], new Float32Array(channels), false);
    this.movingVariance = store.add(`${scope}/moving_variance`, [channels], new Float32Array(channels).fill(1), false);
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    if (training && x.size > 0 && x.dtype === 'float32' && customKernelAvailable(CUSTOM_KERNELS.batchNormTrain)) return this.applyNative(x);
    let mean: tf.Tensor;
    let variance: tf.Tensor;
    if (training) {
      const moments = tf.moments(x, [0, 1, 2]);
      mean = moments.mean;
      variance = moments.variance;
      this.updateRunningStats(mean, variance, x.size / this.channels);
    } else {
      mean = this.movingMean;
      variance = this.movingVariance;
    }
    // Elementary ops rather than tf.batchNorm, so the gradient through the batch statistics is
    // the plain chain rule on every backend.
    const scale = tf.mul(tf.rsqrt(tf.add(variance, BATCH_NORM_EPSILON)), this.gamma);
    if (!training && x.dtype === 'float32' && customKernelAvailable(CUSTOM_KERNELS.channelAffine)) return channelAffine(x, mean, scale, this.beta);
    return tf.add(tf.mul(tf.sub(x, mean), scale), this.beta);
  }

  /**
   * Training mode as one native kernel (statistics, normalisation, affine) with its gradient as
   * another: the same function as the elementary ops above, without their ~20 broadcast kernels.
   */
  private applyNative(x: tf.Tensor4D): tf.Tensor4D {
    const attrs = { epsilon: BATCH_NORM_EPSILON };
    const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [input, gamma, beta, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
      const [y, mean, variance] = runCustomKernelN(CUSTOM_KERNELS.batchNormTrain, { x: input, gamma, beta }, attrs);
      this.updateRunningStats(mean, variance, input.size / this.channels);
      save([input, gamma, mean, variance]);
      tf.dispose([mean, variance]);
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] =>
        runCustomKernelN(CUSTOM_KERNELS.batchNormTrainGrad, { dy, x: saved[0], gamma: saved[1], mean: saved[2], variance: saved[3] }, attrs);
      return { value: y, gradFunc };
    });
    return op(x, this.gamma, this.beta) as tf.Tensor4D;
  }

  private updateRunningStats(mean: tf.Tensor, variance: tf.Tensor, count: number): void {
    const m = BATCH_NORM_MOMENTUM;
    const unbiased = count > 1 ? count / (count - 1) : 1;
    const [newMean, newVariance] = tf.tidy(() => [
      tf.add(tf.mul(this.movingMean, 1 - m), tf.mul(mean, m)),
      tf.add(tf.mul(this.movingVariance, 1 - m), tf.mul(variance, m * unbiased)),
    ]);
    this.movingMean.assign(newMean);
    this.movingVariance.assign(newVariance);
    newMean.dispose();
    newVariance.dispose();
  }
}

let channelAffineGradientRegistered = false;

/**
 * (x − mean)·scale + beta per channel as one native kernel (eval-mode batch norm), the same float32
 * steps as the tfjs ops it replaces. Its gradient is registered per input: the latent attacks
 * differentiate the frozen generator only with respect to x, which is one more pass of the
 * kernel (dy·scale); the parameters' parts (rarely asked for in eval mode) are tfjs ops.
 */
function channelAffine(x: tf.Tensor4D, mean: tf.Tensor, scale: tf.Tensor, beta: tf.Tensor): tf.Tensor4D {
  if (!channelAffineGradientRegistered) {
    channelAffineGradientRegistered = true;
    tf.registerGradient({
      kernelName: CUSTOM_KERNELS.channelAffine,
      inputsToSave: ['x', 'mean', 'scale'],
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = dy as tf.Tensor;
        const [input, m, s] = saved;
        const axes = g.shape.slice(0, -1).map((_, i) => i);
        return {
          x: () => tf.tidy(() => {
            const zero = tf.zerosLike(s);
            return runCustomKernel(CUSTOM_KERNELS.channelAffine, { x: g, mean: zero, scale: s, beta: zero });
          }),
          mean: () => tf.neg(tf.sum(tf.mul(g, s), axes)),
          scale: () => tf.sum(tf.mul(g, tf.sub(input, m)), axes),
          beta: () => tf.sum(g, axes),
        };
      },
    });
  }
  return runCustomKernel(CUSTOM_KERNELS.channelAffine, { x, mean, scale, beta }) as tf.Tensor4D;
}

/**
 * `nn.ReflectionPad2d(p)` on NHWC. With the native accelerator: one kernel each way
 * (`PertsetReflectPad2d` and its adjoint). Otherwise built from slices and concat, because
 * tfjs's MirrorPad gradient only slices the centre (it drops the reflected contributions).
 */
export function reflectPad2d(x: tf.Tensor4D, p: number): tf.Tensor4D {
  if (!Number.isInteger(p) || p < 0 || p >= x.shape[1] || p >= x.shape[2]) {
    throw new ArgumentError(`reflectPad2d: padding must be an integer in [0, min(height, width)), got ${p} for [${x.shape}]`);
  }
  if (p === 0) return tf.clone(x);
  if (x.dtype === 'float32' && customKernelAvailable(CUSTOM_KERNELS.reflectPad2d)) {
    const attrs = { pad: p };
    const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
      value: runCustomKernel(CUSTOM_KERNELS.reflectPad2d, { x: args[0] as tf.Tensor }, attrs),
      gradFunc: (dy: tf.Tensor) => runCustomKernel(CUSTOM_KERNELS.reflectPad2dGrad, { dy }, attrs),
    }));
    return op(x) as tf.Tensor4D;
  }
  return tf.tidy(() => reflectAxis(reflectAxis(x, 1, p), 2, p));
}

function reflectAxis(x: tf.Tensor4D, axis: 1 | 2, p: number): tf.Tensor4D {
  const n = x.shape[axis];
  const slab = (i: number): tf.Tensor4D => {
    const begin = [0, 0, 0, 0];
    const size = [...x.shape];
    begin[axis] = i;
    size[axis] = 1;
    return tf.slice(x, begin, size);
  };
  const before: tf.Tensor4D[] = [];
  const after: tf.Tensor4D[] = [];
  for (let k = p; k >= 1; k--) before.push(slab(k));
  for (let k = 1; k <= p; k++) after.push(slab(n - 1 - k));
  return tf.concat([...before, x, ...after], axis);
}

/** `nn.Upsample(scale_factor=2, mode='nearest')` on NHWC. */
export function upsampleNearest2x(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  return tf.image.resizeNearestNeighbor(x, [2 * h, 2 * w]);
}

/** NHWC → NCHW then flatten, so flattened features follow PyTorch's (C, H, W) order. */
export function flattenChannelsFirst(x: tf.Tensor4D): tf.Tensor2D {
  // One channel: NHWC and NCHW flatten alike, so skip the transpose.
  if (x.shape[3] === 1) return flattenSingleChannel(x);
  return tf.tidy(() => tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [x.shape[0], -1]));
}

/** Flatten NHWC images whose channel count is 1 (the order then matches PyTorch's). */
export function flattenSingleChannel(x: tf.Tensor4D): tf.Tensor2D {
  return tf.reshape(x, [x.shape[0], -1]);
}
