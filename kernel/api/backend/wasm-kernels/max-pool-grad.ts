/**
 * Fix: a correct `MaxPoolGrad`. The stock wasm kernel of tfjs-backend-wasm 4.22 routes some
 * gradients to the wrong window position (about 1 % of the elements of a [4, 28, 28, 32] 2×2 pool
 * on random data), so conv nets with max pooling train on wrong gradients. This one follows the
 * cpu backend's rule: each pooled output's dy goes to the first maximum of its window in
 * row-major order (strict >, from −∞), computed in one pass over the pooled outputs.
 */
import * as tf from '@tensorflow/tfjs';
import { heapF32, type KernelArgs, type TensorInfo, type WasmKernelFunc } from './wasm-internals';

type PadAttr = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

export function makeMaxPoolGrad(stock: WasmKernelFunc | null): WasmKernelFunc {
  return (args: KernelArgs) => {
    const dy = args.inputs.dy as TensorInfo;
    const input = args.inputs.input as TensorInfo;
    const attrs = args.attrs ?? {};
    if (dy.dtype !== 'float32' || input.dtype !== 'float32') {
      if (stock) return stock(args);
      throw new Error(`MaxPoolGrad: only float32 is supported on wasm, got ${input.dtype}`);
    }
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number],
      attrs.filterSize as [number, number] | number, attrs.strides as [number, number] | number, 1,
      attrs.pad as PadAttr, attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined);
    const dxInfo = args.backend.makeOutput(input.shape, 'float32');
    const x = heapF32(args.backend, input), g = heapF32(args.backend, dy), dx = heapF32(args.backend, dxInfo);
    dx.fill(0);
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
    const fh = info.effectiveFilterHeight, fw = info.effectiveFilterWidth;
    const best = new Float32Array(c), pos = new Int32Array(c);
    for (let b = 0; b < n; b++) {
      const base = b * h * w * c;
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          best.fill(-Infinity);
          pos.fill(-1);
          for (let ky = 0; ky < fh; ky++) {
            const iy = oy * info.strideHeight - info.padInfo.top + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < fw; kx++) {
              const ix = ox * info.strideWidth - info.padInfo.left + kx;
              if (ix < 0 || ix >= w) continue;
              const p = base + (iy * w + ix) * c;
              for (let ch = 0; ch < c; ch++) {
                if (x[p + ch] > best[ch]) { best[ch] = x[p + ch]; pos[ch] = p + ch; }
              }
            }
          }
          const q = ((b * oh + oy) * ow + ox) * c;
          for (let ch = 0; ch < c; ch++) if (pos[ch] >= 0) dx[pos[ch]] += g[q + ch];
        }
      }
    }
    return dxInfo;
  };
}
