/**
 * A differentiable spatial-transformer sampler: PyTorch's `F.affine_grid` followed by
 * `F.grid_sample(mode='bilinear', padding_mode='border')`, as ONE tfjs op with its own gradient
 * (to the image and to the affine parameters).
 *
 * Why hand-written: tfjs has no grid-sample op, and building it from `tf.gather` would need the
 * gather gradient (`UnsortedSegmentSum`), which the wasm backend lacks. With the native
 * accelerator the forward pass is the kernel `PertsetAffineGridSample`, working in place on the
 * wasm heap, with a registered gradient whose two parts (`PertsetAffineGridSampleGradImage`,
 * `…GradTheta`) run only when the backward pass needs them: the models sample their input image,
 * so only the theta gradient is ever needed there. Elsewhere forward and backward run as the plain
 * loops below over copies of the tensors' data. Both mirror PyTorch's CPU kernels:
 * coordinates are unnormalised, clipped to the border, and each output pixel blends its four
 * neighbours. Only first-order gradients are provided.
 *
 * Default `alignCorners: false` is PyTorch's default since 1.3, which the reference relies on
 * (it passes no `align_corners`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../errors';
import { CUSTOM_KERNELS, customKernelAvailable, runCustomKernel } from '../backend/custom-kernels';

export interface AffineGridSampleOptions {
  /** Output [height, width]; default the input's. */
  outputSize?: [number, number];
  /** PyTorch's `align_corners` (default false). */
  alignCorners?: boolean;
}

/**
 * Warps NHWC `image` [batch, h, w, c] by the per-example affine maps `theta` ([batch, 2, 3] or
 * [batch, 6], row-major as PyTorch's `theta.view(-1, 2, 3)`), which send output coordinates in
 * [−1, 1]² (x right, y down) to input coordinates. Samples outside the image take the nearest
 * border value.
 */
export function affineGridSample(image: tf.Tensor4D, theta: tf.Tensor, options: AffineGridSampleOptions = {}): tf.Tensor4D {
  if (image.rank !== 4) throw new ArgumentError(`affineGridSample: image must be [batch, h, w, c], got [${image.shape}]`);
  const batch = image.shape[0];
  const okTheta = (theta.rank === 3 && theta.shape[1] === 2 && theta.shape[2] === 3) || (theta.rank === 2 && theta.shape[1] === 6);
  if (!okTheta || theta.shape[0] !== batch) {
    throw new ArgumentError(`affineGridSample: theta must be [${batch}, 2, 3] or [${batch}, 6], got [${theta.shape}]`);
  }
  const [, inH, inW, channels] = image.shape;
  const [outH, outW] = options.outputSize ?? [inH, inW];
  const geometry: Geometry = { batch, inH, inW, channels, outH, outW, alignCorners: options.alignCorners ?? false };
  const attrs = { outputSize: [outH, outW], alignCorners: geometry.alignCorners };
  if (customKernelAvailable(CUSTOM_KERNELS.affineGridSample)) {
    registerSamplerGradient();
    return tf.tidy(() => runCustomKernel(CUSTOM_KERNELS.affineGridSample, { image: tf.cast(image, 'float32'), theta: tf.cast(theta, 'float32') }, attrs)) as tf.Tensor4D;
  }
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [img, th, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([img, th]);
    const value = tf.tensor4d(sampleForward(img.dataSync() as Float32Array, th.dataSync() as Float32Array, geometry), [batch, outH, outW, channels]);
    const gradFunc = (dy: tf.Tensor4D, saved: tf.Tensor[]): tf.Tensor[] => {
      const [dImage, dTheta] = sampleBackward(dy.dataSync() as Float32Array, saved[0].dataSync() as Float32Array,
        saved[1].dataSync() as Float32Array, geometry);
      return [tf.tensor(dImage, saved[0].shape), tf.tensor(dTheta, saved[1].shape)];
    };
    return { value, gradFunc };
  });
  return tf.tidy(() => op(tf.cast(image, 'float32'), tf.cast(theta, 'float32'))) as tf.Tensor4D;
}

let samplerGradientRegistered = false;

/** The native sampler kernel's gradient, one closure per input so each part runs only when needed. */
function registerSamplerGradient(): void {
  if (samplerGradientRegistered) return;
  samplerGradientRegistered = true;
  tf.registerGradient({
    kernelName: CUSTOM_KERNELS.affineGridSample,
    inputsToSave: ['image', 'theta'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const inputs = { dy: dy as tf.Tensor, image: saved[0], theta: saved[1] };
      return {
        image: () => runCustomKernel(CUSTOM_KERNELS.affineGridSampleGradImage, inputs, attrs),
        theta: () => runCustomKernel(CUSTOM_KERNELS.affineGridSampleGradTheta, inputs, attrs),
      };
    },
  });
}

/** Sizes of one sampling call (exported with the raw kernels for the float64 gradient tests). */
export interface Geometry {
  batch: number;
  inH: number;
  inW: number;
  channels: number;
  outH: number;
  outW: number;
  alignCorners: boolean;
}

/** `F.affine_grid`'s base coordinate of output index i along an axis of n pixels. */
function baseCoordinate(i: number, n: number, alignCorners: boolean): number {
  if (alignCorners) return n > 1 ? -1 + (2 * i) / (n - 1) : 0;
  return (2 * i + 1) / n - 1;
}

/** `grid_sample`'s unnormalised source coordinate and its derivative with respect to the normalised one. */
function unnormalise(coord: number, n: number, alignCorners: boolean): number {
  return alignCorners ? ((coord + 1) / 2) * (n - 1) : ((coord + 1) * n - 1) / 2;
}

/** Per-output-pixel bilinear footprint after border clipping. */
interface Tap {
  x0: number;
  y0: number;
  wx1: number;
  wy1: number;
  /** 1 where the clip was inactive (PyTorch sets the clipped coordinate's gradient to 0, border inclusive). */
  gradX: number;
  gradY: number;
}

function tap(xs: number, ys: number, g: Geometry): Tap {
  let ix = unnormalise(xs, g.inW, g.alignCorners);
  let iy = unnormalise(ys, g.inH, g.alignCorners);
  let gradX = 1;
  let gradY = 1;
  if (!(ix > 0)) { ix = 0; gradX = 0; } else if (ix >= g.inW - 1) { ix = g.inW - 1; gradX = 0; }
  if (!(iy > 0)) { iy = 0; gradY = 0; } else if (iy >= g.inH - 1) { iy = g.inH - 1; gradY = 0; }
  const x0 = Math.floor(ix);
  const y0 = Math.floor(iy);
  return { x0, y0, wx1: ix - x0, wy1: iy - y0, gradX, gradY };
}

type Floats = Float32Array | Float64Array;

/** The forward kernel on raw NHWC data; float64 inputs give float64 arithmetic and output. */
export function sampleForward<T extends Floats>(image: T, theta: Floats, g: Geometry): T {
  const { batch, inH, inW, channels: C, outH, outW, alignCorners } = g;
  const out = new (image.constructor as { new(n: number): T })(batch * outH * outW * C);
  for (let b = 0; b < batch; b++) {
    const t = theta.subarray(6 * b, 6 * b + 6);
    const imgBase = b * inH * inW * C;
    for (let i = 0; i < outH; i++) {
      const yn = baseCoordinate(i, outH, alignCorners);
      for (let j = 0; j < outW; j++) {
        const xn = baseCoordinate(j, outW, alignCorners);
        const p = tap(t[0] * xn + t[1] * yn + t[2], t[3] * xn + t[4] * yn + t[5], g);
        const hasX1 = p.x0 + 1 < inW;
        const hasY1 = p.y0 + 1 < inH;
        const w00 = (1 - p.wx1) * (1 - p.wy1);
        const w01 = p.wx1 * (1 - p.wy1);
        const w10 = (1 - p.wx1) * p.wy1;
        const w11 = p.wx1 * p.wy1;
        const r0 = imgBase + (p.y0 * inW + p.x0) * C;
        const r1 = r0 + inW * C;
        const o = ((b * outH + i) * outW + j) * C;
        for (let c = 0; c < C; c++) {
          let v = w00 * image[r0 + c];
          if (hasX1) v += w01 * image[r0 + C + c];
          if (hasY1) {
            v += w10 * image[r1 + c];
            if (hasX1) v += w11 * image[r1 + C + c];
          }
          out[o + c] = v;
        }
      }
    }
  }
  return out;
}

/** The backward kernel: gradients of Σ dy·out with respect to the image and theta. */
export function sampleBackward<T extends Floats>(dy: Floats, image: T, theta: T, g: Geometry): [T, T] {
  const { batch, inH, inW, channels: C, outH, outW, alignCorners } = g;
  const dImage = new (image.constructor as { new(n: number): T })(image.length);
  const dTheta = new (theta.constructor as { new(n: number): T })(theta.length);
  // d(unnormalised)/d(normalised) coordinate.
  const scaleX = alignCorners ? (inW - 1) / 2 : inW / 2;
  const scaleY = alignCorners ? (inH - 1) / 2 : inH / 2;
  for (let b = 0; b < batch; b++) {
    const t = theta.subarray(6 * b, 6 * b + 6);
    const imgBase = b * inH * inW * C;
    let d0 = 0, d1 = 0, d2 = 0, d3 = 0, d4 = 0, d5 = 0;
    for (let i = 0; i < outH; i++) {
      const yn = baseCoordinate(i, outH, alignCorners);
      for (let j = 0; j < outW; j++) {
        const xn = baseCoordinate(j, outW, alignCorners);
        const p = tap(t[0] * xn + t[1] * yn + t[2], t[3] * xn + t[4] * yn + t[5], g);
        const hasX1 = p.x0 + 1 < inW;
        const hasY1 = p.y0 + 1 < inH;
        const wx0 = 1 - p.wx1;
        const wy0 = 1 - p.wy1;
        const r0 = imgBase + (p.y0 * inW + p.x0) * C;
        const r1 = r0 + inW * C;
        const o = ((b * outH + i) * outW + j) * C;
        let gix = 0;
        let giy = 0;
        for (let c = 0; c < C; c++) {
          const go = dy[o + c];
          const v00 = image[r0 + c];
          const v01 = hasX1 ? image[r0 + C + c] : 0;
          const v10 = hasY1 ? image[r1 + c] : 0;
          const v11 = hasX1 && hasY1 ? image[r1 + C + c] : 0;
          dImage[r0 + c] += wx0 * wy0 * go;
          if (hasX1) dImage[r0 + C + c] += p.wx1 * wy0 * go;
          if (hasY1) {
            dImage[r1 + c] += wx0 * p.wy1 * go;
            if (hasX1) dImage[r1 + C + c] += p.wx1 * p.wy1 * go;
          }
          gix += go * (wy0 * (v01 - v00) + p.wy1 * (v11 - v10));
          giy += go * (wx0 * (v10 - v00) + p.wx1 * (v11 - v01));
        }
        gix *= p.gradX * scaleX;
        giy *= p.gradY * scaleY;
        d0 += gix * xn; d1 += gix * yn; d2 += gix;
        d3 += giy * xn; d4 += giy * yn; d5 += giy;
      }
    }
    dTheta.set([d0, d1, d2, d3, d4, d5], 6 * b);
  }
  return [dImage, dTheta];
}
