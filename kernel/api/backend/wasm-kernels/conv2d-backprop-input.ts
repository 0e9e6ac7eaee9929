/**
 * Fix (c): a fast `Conv2DBackpropInput` (the gradient of conv2d with respect to its input, and
 * conv2dTranspose). The stock wasm kernel is a naive loop at ~2.8 GFLOP/s.
 *
 * Lowered to one GEMM and a col2im: cols[P, R] = dy[P, Co] × Wᵀ[Co, R] through XNNPACK, then
 * every column is added back to the input pixel it came from by a JS loop on the wasm heap.
 */
import {
  dispose, heapF32, reshapeInfo, run1, transposeInfo,
  type KernelArgs, type TensorInfo, type WasmKernelFunc,
} from './wasm-internals';
import { convGeometry, type ConvGeometry } from './conv-geometry';

/** dx[n, oh·sh + kh − pt, ow·sw + kw − pl, c] += cols[p, (kh·FW + kw)·C + c]; dx must start zeroed. */
function col2im(cols: Float32Array, dx: Float32Array, g: ConvGeometry): void {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const R = g.filterHeight * g.filterWidth * C;
  let src = 0;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, src += R) {
        for (let kh = 0; kh < g.filterHeight; kh++) {
          const ih = oh * g.strideHeight + kh - g.padTop;
          if (ih < 0 || ih >= H) continue;
          const rowOffset = (n * H + ih) * W;
          for (let kw = 0; kw < g.filterWidth; kw++) {
            const iw = ow * g.strideWidth + kw - g.padLeft;
            if (iw < 0 || iw >= W) continue;
            const dst = (rowOffset + iw) * C;
            const s = src + (kh * g.filterWidth + kw) * C;
            for (let c = 0; c < C; c++) dx[dst + c] += cols[s + c];
          }
        }
      }
    }
  }
}

export function makeConv2DBackpropInput(batchMatMul: WasmKernelFunc): WasmKernelFunc {
  return (args: KernelArgs) => {
    const { inputs, backend, attrs = {} } = args;
    const dy = inputs.dy as TensorInfo;
    const filter = inputs.filter as TensorInfo;
    const inputShape = attrs.inputShape as number[];
    const g = convGeometry('Conv2DBackpropInput', inputShape, filter.shape, attrs);
    const P = g.batch * g.outHeight * g.outWidth;
    const R = g.filterHeight * g.filterWidth * g.inChannels;
    const w2 = reshapeInfo(backend, filter, [R, g.outChannels]);
    const wt = transposeInfo(backend, w2, [1, 0]);
    const wt3 = reshapeInfo(backend, wt, [1, g.outChannels, R]);
    const dy3 = reshapeInfo(backend, dy, [1, P, g.outChannels]);
    const cols = run1(batchMatMul, backend, { a: dy3, b: wt3 }, { transposeA: false, transposeB: false });
    dispose(backend, w2, wt, wt3, dy3);
    const dx = backend.makeOutput([g.batch, g.inHeight, g.inWidth, g.inChannels], 'float32');
    const dxView = heapF32(backend, dx);
    dxView.fill(0);
    col2im(heapF32(backend, cols), dxView, g);
    dispose(backend, cols);
    return dx;
  };
}
