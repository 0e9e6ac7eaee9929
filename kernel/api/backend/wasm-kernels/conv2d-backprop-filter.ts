/**
 * Fix (b): `Conv2DBackpropFilter`, which tfjs-backend-wasm 4.22 does not have at all (training
 * any conv model threw "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'").
 *
 * Lowered to one GEMM: dW[R, Co] = colsᵀ[R, P] × dy[P, Co], where P = N·OH·OW output positions
 * and R = FH·FW·Ci filter taps. colsᵀ (im2col, transposed) is written by a JS loop straight on
 * the wasm heap; the GEMM runs through the stock kernel's XNNPACK path.
 */
import {
  dispose, heapF32, reshapeInfo, run1,
  type KernelArgs, type TensorInfo, type WasmKernelFunc,
} from './wasm-internals';
import { convGeometry, type ConvGeometry } from './conv-geometry';

/**
 * colsᵀ[(kh·FW + kw)·C + c, p] = x[n, oh·sh + kh − pt, ow·sw + kw − pl, c] (0 outside the image).
 * Loop order: one output row (n, oh) per tap at a time, channel by channel; the strided reads
 * stay within a few image rows (in cache) and the writes are contiguous runs of OW.
 */
function im2colTransposed(x: Float32Array, cols: Float32Array, g: ConvGeometry): void {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw } = g;
  const P = batch * OH * OW;
  const readStride = sw * C;
  for (let kh = 0; kh < g.filterHeight; kh++) {
    for (let kw = 0; kw < g.filterWidth; kw++) {
      const tap = (kh * g.filterWidth + kw) * C;
      // Output columns whose input column iw = ow·sw + kw − pl lies inside [0, W).
      const owStart = Math.min(OW, Math.max(0, Math.ceil((g.padLeft - kw) / sw)));
      const owEnd = Math.max(owStart, Math.min(OW, Math.floor((W - 1 - kw + g.padLeft) / sw) + 1));
      let p = 0;
      for (let n = 0; n < batch; n++) {
        for (let oh = 0; oh < OH; oh++, p += OW) {
          const ih = oh * sh + kh - g.padTop;
          const inside = ih >= 0 && ih < H;
          const base = ((n * H + ih) * W + owStart * sw + kw - g.padLeft) * C;
          for (let c = 0; c < C; c++) {
            const row = (tap + c) * P + p;
            if (!inside) {
              cols.fill(0, row, row + OW);
              continue;
            }
            if (owStart > 0) cols.fill(0, row, row + owStart);
            let src = base + c;
            for (let ow = owStart; ow < owEnd; ow++, src += readStride) cols[row + ow] = x[src];
            if (owEnd < OW) cols.fill(0, row + owEnd, row + OW);
          }
        }
      }
    }
  }
}

export function makeConv2DBackpropFilter(batchMatMul: WasmKernelFunc): WasmKernelFunc {
  return (args: KernelArgs) => {
    const { inputs, backend, attrs = {} } = args;
    const x = inputs.x as TensorInfo;
    const dy = inputs.dy as TensorInfo;
    const filterShape = attrs.filterShape as number[];
    const g = convGeometry('Conv2DBackpropFilter', x.shape, filterShape, attrs);
    const P = g.batch * g.outHeight * g.outWidth;
    const R = g.filterHeight * g.filterWidth * g.inChannels;
    const cols = backend.makeOutput([1, R, P], 'float32');
    im2colTransposed(heapF32(backend, x), heapF32(backend, cols), g);
    const dy2 = reshapeInfo(backend, dy, [1, P, g.outChannels]);
    const dw = run1(batchMatMul, backend, { a: cols, b: dy2 }, { transposeA: false, transposeB: false });
    const out = reshapeInfo(backend, dw, filterShape);
    dispose(backend, cols, dy2, dw);
    return out;
  };
}
