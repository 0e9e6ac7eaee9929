/**
 * Fix (a): `BatchMatMul` and `_FusedMatMul` with `transposeA`/`transposeB` or with batch > 1.
 *
 * tfjs-backend-wasm 4.22 sends those to a naive C++ loop (~2.7 GFLOP/s) and only the plain 2-D
 * case to XNNPACK (~30 GFLOP/s). Every matmul gradient uses a transpose, so training ran at the
 * slow rate. Here the transposes are materialised with wasm's Transpose kernel, batches are
 * folded into rows when the right operand is shared, or looped otherwise (with real
 * broadcasting of the outer dims), and each 2-D product goes to the stock kernel's fast path.
 * A·Bᵀ with a small A (a dense layer's input gradient) is computed as (B·Aᵀ)ᵀ, which moves fewer
 * floats than transposing and re-packing the big weight matrix.
 */
import * as tf from '@tensorflow/tfjs';
import {
  dispose, heapF32, reshapeInfo, run1, transposeInfo, wasmKernel,
  type KernelArgs, type TensorInfo, type WasmBackend, type WasmKernelFunc,
} from './wasm-internals';

/** Activations the stock fused kernel applies correctly on its own (element-wise, no extra tensor). */
const STOCK_FUSED_ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'sigmoid', 'elu', 'leakyrelu']);

interface Operand3D {
  /** Contiguous [batch, rows, cols] with the transpose applied; owned by the caller. */
  info: TensorInfo;
  batchShape: number[];
}

/** `x` as a contiguous rank-3 tensor with the transpose applied (a new reference the caller disposes). */
function materialise(backend: WasmBackend, x: TensorInfo, transpose: boolean): Operand3D {
  const rank = x.shape.length;
  const batchShape = x.shape.slice(0, -2);
  const x3 = reshapeInfo(backend, x, [tf.util.sizeFromShape(batchShape), x.shape[rank - 2], x.shape[rank - 1]]);
  if (!transpose) return { info: x3, batchShape };
  const t = transposeInfo(backend, x3, [0, 2, 1]);
  dispose(backend, x3);
  return { info: t, batchShape };
}

/** For each output batch, the operand's batch index under numpy broadcasting of the outer dims. */
function batchIndexMap(outBatch: number[], operandBatch: number[]): number[] {
  const total = tf.util.sizeFromShape(outBatch);
  const offset = outBatch.length - operandBatch.length;
  const strides = tf.util.computeStrides(operandBatch);
  const map: number[] = [];
  for (let i = 0; i < total; i++) {
    let rest = i;
    let idx = 0;
    for (let d = outBatch.length - 1; d >= 0; d--) {
      const coord = rest % outBatch[d];
      rest = Math.floor(rest / outBatch[d]);
      const od = d - offset;
      if (od >= 0 && operandBatch[od] !== 1) idx += coord * (od < operandBatch.length - 1 ? strides[od] : 1);
    }
    map.push(idx);
  }
  return map;
}

/** A contiguous copy of item `index` of a [batch, r, c] tensor, as [1, r, c]. */
function batchItem(backend: WasmBackend, x: TensorInfo, index: number): TensorInfo {
  const [, r, c] = x.shape;
  if (x.shape[0] === 1) return reshapeInfo(backend, x, [1, r, c]);
  const out = backend.makeOutput([1, r, c], 'float32');
  heapF32(backend, out).set(heapF32(backend, x).subarray(index * r * c, (index + 1) * r * c));
  return out;
}

/**
 * a [batchA, M, K] × b [batchB, K, N] (no transposes, contiguous) → [...outBatch, M, N], every
 * 2-D product through `plain2d` (the stock kernel with batch 1, which XNNPACK serves).
 */
function batchedProduct(
  backend: WasmBackend, a: Operand3D, b: Operand3D, outBatch: number[],
  plain2d: (a: TensorInfo, b: TensorInfo) => TensorInfo,
): TensorInfo {
  const [batchA, m, k] = a.info.shape;
  const [batchB, , n] = b.info.shape;
  if (batchB === 1) {
    // Shared right operand: fold the batch into rows, one product. batchA is then the broadcast size.
    const a2 = reshapeInfo(backend, a.info, [1, batchA * m, k]);
    const prod = plain2d(a2, b.info);
    const out = reshapeInfo(backend, prod, [...outBatch, m, n]);
    dispose(backend, a2, prod);
    return out;
  }
  const total = tf.util.sizeFromShape(outBatch);
  const mapA = batchIndexMap(outBatch, a.batchShape);
  const mapB = batchIndexMap(outBatch, b.batchShape);
  const out = backend.makeOutput([...outBatch, m, n], 'float32');
  for (let i = 0; i < total; i++) {
    const ai = batchItem(backend, a.info, mapA[i]);
    const bi = batchItem(backend, b.info, mapB[i]);
    const prod = plain2d(ai, bi);
    heapF32(backend, out).set(heapF32(backend, prod), i * m * n);
    dispose(backend, ai, bi, prod);
  }
  return out;
}

function outBatchShape(a: TensorInfo, b: TensorInfo): number[] {
  return tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
}

/**
 * A·Bᵀ (or Aᵀ·Bᵀ) computed as (B·Aᵀ)ᵀ (or (B·A)ᵀ) when that moves fewer floats: the transposes
 * and XNNPACK's weight packing cost a pass over every operand they touch, and with a small M
 * (a batch of 128 against 784×784 weights: the input gradient of a dense layer) transposing the
 * two small matrices beats transposing and packing the big one. Returns [M, N], or null when the
 * direct route is cheaper.
 */
function swappedProduct(
  backend: WasmBackend, a: TensorInfo, b: TensorInfo, transposeA: boolean,
  plain: (a: TensorInfo, b: TensorInfo) => TensorInfo,
): TensorInfo | null {
  const [ar, ac] = a.shape.slice(-2);
  const [n, k] = b.shape.slice(-2);
  const m = transposeA ? ac : ar;
  // Floats moved: direct = (transpose A if needed) + transpose B + pack Bᵀ; swapped = pack A(ᵀ) + (transpose A if not) + transpose result.
  const direct = (transposeA ? m * k : 0) + 2 * n * k;
  const swapped = (transposeA ? m * k : 2 * m * k) + m * n;
  if (swapped >= direct) return null;
  const b2 = reshapeInfo(backend, b, [1, n, k]);
  // B·Aᵀ needs Aᵀ [K, M]: for transposeA, A already is [K, M].
  let a2: TensorInfo;
  if (transposeA) {
    a2 = reshapeInfo(backend, a, [1, k, m]);
  } else {
    const a3 = reshapeInfo(backend, a, [1, m, k]);
    a2 = transposeInfo(backend, a3, [0, 2, 1]);
    dispose(backend, a3);
  }
  const nm = plain(b2, a2);
  const out = transposeInfo(backend, nm, [0, 2, 1]);
  dispose(backend, b2, a2, nm);
  const mn = reshapeInfo(backend, out, [m, n]);
  dispose(backend, out);
  return mn;
}

export function makeBatchMatMul(stock: WasmKernelFunc): WasmKernelFunc {
  return (args: KernelArgs) => {
    const { inputs, backend, attrs = {} } = args;
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    const transposeA = Boolean(attrs.transposeA);
    const transposeB = Boolean(attrs.transposeB);
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || (!transposeA && !transposeB && batchA === 1 && batchB === 1)) {
      return stock(args); // already the fast path, or an error the stock kernel reports
    }
    const innerA = transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
    const innerB = transposeB ? b.shape[b.shape.length - 1] : b.shape[b.shape.length - 2];
    if (innerA !== innerB) {
      throw new Error(`Error in matMul: inner shapes (${innerA}) and (${innerB}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
    }
    const outBatch = outBatchShape(a, b);
    const plain = (x: TensorInfo, y: TensorInfo) => run1(stock, backend, { a: x, b: y }, { transposeA: false, transposeB: false });
    if (batchA === 1 && batchB === 1 && transposeB) {
      const swapped = swappedProduct(backend, a, b, transposeA, plain);
      if (swapped) {
        const out = reshapeInfo(backend, swapped, [...outBatch, swapped.shape[0], swapped.shape[1]]);
        dispose(backend, swapped);
        return out;
      }
    }
    const a3 = materialise(backend, a, transposeA);
    const b3 = materialise(backend, b, transposeB);
    try {
      return batchedProduct(backend, a3, b3, outBatch, plain);
    } finally {
      dispose(backend, a3.info, b3.info);
    }
  };
}

function applyActivation(backend: WasmBackend, x: TensorInfo, activation: string, prelu: TensorInfo | undefined, alpha: number): TensorInfo {
  switch (activation) {
    case 'linear': return reshapeInfo(backend, x, x.shape);
    case 'relu': return run1(wasmKernel('Relu'), backend, { x });
    case 'relu6': return run1(wasmKernel('Relu6'), backend, { x });
    case 'sigmoid': return run1(wasmKernel('Sigmoid'), backend, { x });
    case 'elu': return run1(wasmKernel('Elu'), backend, { x });
    case 'leakyrelu': return run1(wasmKernel('LeakyRelu'), backend, { x }, { alpha });
    case 'prelu': return run1(wasmKernel('Prelu'), backend, { x, alpha: prelu });
    default: throw new Error(`_FusedMatMul: unknown activation "${activation}"`);
  }
}

/** `batchMatMul` is the (fixed) BatchMatMul kernel, used when the stock fused kernel cannot serve the case. */
export function makeFusedMatMul(stockFused: WasmKernelFunc, batchMatMul: WasmKernelFunc): WasmKernelFunc {
  return (args: KernelArgs) => {
    const { inputs, backend, attrs = {} } = args;
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    const bias = inputs.bias;
    const prelu = inputs.preluActivationWeights;
    const transposeA = Boolean(attrs.transposeA);
    const transposeB = Boolean(attrs.transposeB);
    const activation = String(attrs.activation ?? 'linear');
    const alpha = Number(attrs.leakyreluAlpha ?? 0.2);
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return stockFused(args);
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    const n = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
    // XNNPACK reads a bias of exactly N floats; anything else (length 1, rank 2, ...) is added separately.
    const stockBias = bias == null || (bias.shape.length === 1 && bias.shape[0] === n);
    if (batchA === 1 && batchB === 1 && stockBias && STOCK_FUSED_ACTIVATIONS.has(activation)) {
      if (!transposeA && !transposeB) return stockFused(args);
      const a3 = materialise(backend, a, transposeA);
      const b3 = materialise(backend, b, transposeB);
      try {
        const out = run1(stockFused, backend, { a: a3.info, b: b3.info, bias }, { ...attrs, transposeA: false, transposeB: false });
        const shaped = reshapeInfo(backend, out, [...outBatchShape(a, b), out.shape[out.shape.length - 2], n]);
        dispose(backend, out);
        return shaped;
      } finally {
        dispose(backend, a3.info, b3.info);
      }
    }
    // General case: the product through the fixed BatchMatMul, then bias and activation kernels.
    const product = run1(batchMatMul, backend, { a, b }, { transposeA, transposeB });
    let biased = product;
    if (bias != null) {
      biased = run1(wasmKernel('Add'), backend, { a: product, b: bias });
      dispose(backend, product);
    }
    const out = applyActivation(backend, biased, activation, prelu, alpha);
    dispose(backend, biased);
    return out;
  };
}
