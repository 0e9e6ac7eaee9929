/**
 * A convolution with bias and no activation as the stock `FusedConv2D` kernel, called so that its
 * gradient is taken per input. `tf.fused.conv2d` wraps the same kernel in a `customGrad` that
 * always computes the gradients to the input, the filter and the bias together; registered here
 * instead, each is computed only when the backward pass asks for it. That matters for the latent
 * attacks, which differentiate the frozen generator with respect to its latent code only: the
 * filter gradients of the STN generator's 5×5 convolutions were a sixth of a latent PGD step.
 * The kernels (FusedConv2D, Conv2DBackpropInput, Conv2DBackpropFilter, Sum) and their attributes
 * are the ones `tf.fused.conv2d` uses, so values and gradients are the same.
 */
import * as tf from '@tensorflow/tfjs';

const KERNEL = 'FusedConv2D';

interface Attrs {
  strides: number;
  pad: number;
  dataFormat: 'NHWC';
  dilations: number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation: 'linear';
  [key: string]: unknown;
}

let registered = false;

/** Registers the per-input gradient of FusedConv2D (linear activation only: what `linearConv2d` runs). */
function registerGradient(): void {
  if (registered) return;
  registered = true;
  // tfjs registers no gradient for FusedConv2D (its fused op differentiates through customGrad,
  // whose inner kernel is never taped), so this one is only used by the calls below.
  tf.registerGradient({
    kernelName: KERNEL,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const a = attrs as unknown as Attrs;
      if (a.activation !== 'linear') throw new Error(`${KERNEL} gradient: only the linear activation is supported, got ${String(a.activation)}`);
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const g = dy as tf.Tensor4D;
      return {
        x: () => tf.conv2dTranspose(g, filter, x.shape, a.strides, a.pad, a.dimRoundingMode),
        filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: g },
          { strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dimRoundingMode: a.dimRoundingMode, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
        bias: () => tf.sum(g, [0, 1, 2]),
      };
    },
  });
}

/** conv(x, filter) + bias, NHWC, symmetric zero padding `pad`, square `stride`; no activation. */
export function linearConv2d(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D | null, stride: number, pad: number): tf.Tensor4D {
  registerGradient();
  const inputs: tf.NamedTensorMap = bias ? { x, filter, bias } : { x, filter };
  const attrs: Attrs = { strides: stride, pad, dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined, activation: 'linear' };
  return tf.engine().runKernel(KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}
