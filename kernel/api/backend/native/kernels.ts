/**
 * Native kernels registered on the 'wasm' backend. They read and write tensors in place on the
 * wasm heap through the addon: matmuls as one BLAS call per batch item (transposes are BLAS
 * flags), convolutions lowered to im2col/col2im + SGEMM (few-channel ones to a direct kernel),
 * leading-axis sums as a column sum, Concat/SplitV as row copies.
 * Any case they do not cover goes to the kernel registered before them (the wasm fixes or the
 * stock kernel) and is counted as a fallback.
 */
import * as tf from '@tensorflow/tfjs';
import { geometryArgs, type ConvGeometry, type NativeAddon } from './addon';
import { heap, heapOffset, type KernelArgs, type WasmBackend, type WasmKernelFunc } from '../wasm-kernels/wasm-internals';
import { installedStnKernels, installStnKernels, uninstallStnKernels } from './stn-kernels';

/** tfjs-backend-wasm's FusableActivation codes (the addon's epilogue uses the same). */
const ACTIVATION_CODES: Record<string, number> = {
  linear: 0, relu: 1, relu6: 2, prelu: 3, leakyrelu: 4, sigmoid: 5, elu: 6,
};

export const NATIVE_KERNEL_NAMES = [
  'BatchMatMul', '_FusedMatMul', 'Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'Sum',
  'MaxPoolGrad', 'ResizeNearestNeighborGrad', 'Concat', 'SplitV',
] as const;
export type NativeKernelName = (typeof NATIVE_KERNEL_NAMES)[number];

export interface KernelCounts {
  native: number;
  /** Calls handed to the previous kernel (unsupported dtype, layout, broadcast, ...). */
  fallback: number;
}

const counts = new Map<string, KernelCounts>();
const previous = new Map<string, tf.KernelConfig | undefined>();

export function nativeKernelCounts(): Record<string, KernelCounts> {
  return Object.fromEntries([...counts].map(([k, v]) => [k, { ...v }]));
}

export function resetNativeKernelCounts(): void {
  for (const c of counts.values()) { c.native = 0; c.fallback = 0; }
}

export function nativeKernelsInstalled(): boolean {
  return previous.size > 0;
}

function count(name: string, key: keyof KernelCounts): void {
  const c = counts.get(name);
  if (c) c[key]++;
}

/** A kernel that returns null for "not handled here", wrapped with the fallback. */
type MaybeKernel = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[] | null;

function withFallback(name: string, kernel: MaybeKernel): WasmKernelFunc {
  return (args) => {
    const out = kernel(args);
    if (out) {
      count(name, 'native');
      return out;
    }
    count(name, 'fallback');
    const prev = previous.get(name);
    if (!prev) throw new Error(`Kernel '${name}' not registered for backend 'wasm' (native accelerator has no fallback for this case)`);
    return (prev.kernelFunc as unknown as WasmKernelFunc)(args);
  };
}

const size = (shape: number[]) => tf.util.sizeFromShape(shape);
const f32 = (...ts: (tf.TensorInfo | undefined)[]) => ts.every((t) => !t || t.dtype === 'float32');

// ---------------------------------------------------------------------------------------------
// Matmul

interface MatMulPlan {
  M: number; N: number; K: number;
  batch: number; strideA: number; strideB: number;
  outShape: number[];
}

/** Shapes as tfjs computes them; null when the batch broadcast is not "equal or one side 1". */
function planMatMul(a: number[], b: number[], tA: boolean, tB: boolean): MatMulPlan | null {
  if (a.length < 2 || b.length < 2) return null;
  const ra = a.length, rb = b.length;
  const M = tA ? a[ra - 1] : a[ra - 2];
  const K = tA ? a[ra - 2] : a[ra - 1];
  const kB = tB ? b[rb - 1] : b[rb - 2];
  const N = tB ? b[rb - 2] : b[rb - 1];
  if (K !== kB) return null;
  let outer: number[];
  try {
    outer = tf.broadcast_util.assertAndGetBroadcastShape(a.slice(0, -2), b.slice(0, -2));
  } catch {
    return null;
  }
  const batch = size(outer), batchA = size(a.slice(0, -2)), batchB = size(b.slice(0, -2));
  // An operand whose batch size equals the output's is laid out like the output; size 1 broadcasts.
  if ((batchA !== 1 && batchA !== batch) || (batchB !== 1 && batchB !== batch)) return null;
  return {
    M, N, K, batch,
    strideA: batchA === 1 ? 0 : M * K,
    strideB: batchB === 1 ? 0 : K * N,
    outShape: [...outer, M, N],
  };
}

/** Length of a bias/PReLU operand the epilogue can take for an output with `cols` columns (1 or cols), else -1. */
function rowVectorLength(t: tf.TensorInfo, cols: number): number {
  const n = size(t.shape);
  if (n === 1) return 1;
  if (n === cols && t.shape[t.shape.length - 1] === cols) return cols;
  return -1;
}

interface Epilogue {
  bias?: tf.TensorInfo;
  prelu?: tf.TensorInfo;
  activation: string;
  leakyreluAlpha: number;
}

/** Checks that the epilogue can run natively; returns its addon arguments minus the buffer/offset/rows. */
function planEpilogue(e: Epilogue, cols: number): { biasLen: number; act: number; preluLen: number } | null {
  const act = ACTIVATION_CODES[e.activation ?? 'linear'];
  if (act === undefined) return null;
  const biasLen = e.bias ? rowVectorLength(e.bias, cols) : 0;
  if (biasLen < 0) return null;
  let preluLen = 0;
  if (e.activation === 'prelu') {
    if (!e.prelu) return null;
    preluLen = rowVectorLength(e.prelu, cols);
    if (preluLen < 0) return null;
  }
  return { biasLen, act, preluLen };
}

function runEpilogue(addon: NativeAddon, backend: WasmBackend, out: tf.TensorInfo, rows: number, cols: number,
  e: Epilogue, plan: { biasLen: number; act: number; preluLen: number }): void {
  if (plan.biasLen === 0 && plan.act === 0) return;
  addon.epilogue(heap(backend), heapOffset(backend, out), rows, cols,
    e.bias ? heapOffset(backend, e.bias) : 0, plan.biasLen, plan.act, e.leakyreluAlpha,
    e.prelu && plan.preluLen ? heapOffset(backend, e.prelu) : 0, plan.preluLen);
}

function matMulKernel(addon: NativeAddon, fused: boolean): MaybeKernel {
  return ({ inputs, backend, attrs = {} }) => {
    const { a, b, bias, preluActivationWeights } = inputs;
    if (!a || !b || !f32(a, b, bias, preluActivationWeights)) return null;
    const tA = !!attrs.transposeA, tB = !!attrs.transposeB;
    const plan = planMatMul(a.shape, b.shape, tA, tB);
    if (!plan || plan.M * plan.N * plan.batch === 0) return null;
    const epi: Epilogue = {
      bias: fused ? bias ?? undefined : undefined,
      prelu: fused ? preluActivationWeights ?? undefined : undefined,
      activation: fused ? String(attrs.activation ?? 'linear') : 'linear',
      leakyreluAlpha: Number(attrs.leakyreluAlpha ?? 0.2),
    };
    const epiPlan = planEpilogue(epi, plan.N);
    if (!epiPlan) return null;
    const out = backend.makeOutput(plan.outShape, 'float32');
    const h = heap(backend); // after makeOutput: the heap may have grown
    addon.sgemm(tA, tB, plan.M, plan.N, plan.K, 1, h, heapOffset(backend, a), h, heapOffset(backend, b), 0,
      h, heapOffset(backend, out), plan.batch, plan.strideA, plan.strideB, plan.M * plan.N);
    runEpilogue(addon, backend, out, plan.batch * plan.M, plan.N, epi, epiPlan);
    return out;
  };
}

// ---------------------------------------------------------------------------------------------
// Convolution

type PadAttr = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

function convGeometry(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return {
    batch: info.batchSize, inHeight: info.inHeight, inWidth: info.inWidth, inChannels: info.inChannels,
    filterHeight: info.filterHeight, filterWidth: info.filterWidth,
    strideHeight: info.strideHeight, strideWidth: info.strideWidth,
    padTop: info.padInfo.top, padLeft: info.padInfo.left,
    dilationHeight: info.dilationHeight, dilationWidth: info.dilationWidth,
    outHeight: info.outHeight, outWidth: info.outWidth,
  };
}

/** conv info for NHWC attrs, or null for NCHW / inconsistent shapes (left to the previous kernel). */
function convInfo(xShape: number[], filterShape: number[], attrs: Record<string, unknown>, withDilations: boolean): tf.backend_util.Conv2DInfo | null {
  if (xShape.length !== 4 || filterShape.length !== 4) return null;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return null;
  if (xShape[3] !== filterShape[2]) return null;
  try {
    const info = tf.backend_util.computeConv2DInfo(
      xShape as [number, number, number, number], filterShape as [number, number, number, number],
      attrs.strides as [number, number] | number, (withDilations ? attrs.dilations ?? 1 : 1) as [number, number] | number,
      attrs.pad as PadAttr, attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined, false, 'channelsLast');
    if (size(info.outShape) === 0 || size(xShape) === 0) return null;
    return info;
  } catch {
    return null;
  }
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * The STN blocks' 5×5 convs have 1, 2 or 5 channels: as im2col + SGEMM the GEMM has N = 1..5
 * columns and the time goes into writing and re-reading a patch matrix 25× the input. The
 * addon's direct kernel (planar rows in cache, row-wide multiply-adds) is several times faster
 * there; wider convs keep im2col + SGEMM.
 */
const DIRECT_MAX_CHANNELS = 8;

function useDirect(addon: NativeAddon, info: tf.backend_util.Conv2DInfo): boolean {
  return typeof addon.conv2dDirect === 'function' &&
    info.inChannels <= DIRECT_MAX_CHANNELS && info.outChannels <= DIRECT_MAX_CHANNELS &&
    info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1 &&
    info.padInfo.top >= 0 && info.padInfo.left >= 0 && info.padInfo.bottom >= 0 && info.padInfo.right >= 0;
}

const DIRECT_MODE = { forward: 0, backpropInput: 1, backpropFilter: 2 } as const;

function conv2dKernel(addon: NativeAddon, fused: boolean): MaybeKernel {
  return ({ inputs, backend, attrs = {} }) => {
    const { x, filter, bias, preluActivationWeights } = inputs;
    if (!x || !filter || !f32(x, filter, bias, preluActivationWeights)) return null;
    const info = convInfo(x.shape, filter.shape, attrs, true);
    if (!info) return null;
    const epi: Epilogue = {
      bias: fused ? bias ?? undefined : undefined,
      prelu: fused ? preluActivationWeights ?? undefined : undefined,
      activation: fused ? String(attrs.activation ?? 'linear') : 'linear',
      leakyreluAlpha: Number(attrs.leakyreluAlpha ?? 0.2),
    };
    const epiPlan = planEpilogue(epi, info.outChannels);
    if (!epiPlan) return null;
    const out = backend.makeOutput(info.outShape, 'float32');
    const args = [...geometryArgs(convGeometry(info)), info.outChannels];
    if (useDirect(addon, info)) addon.conv2dDirect(heap(backend), heapOffset(backend, x), heapOffset(backend, filter), heapOffset(backend, out), ...args, DIRECT_MODE.forward);
    else addon.conv2d(heap(backend), heapOffset(backend, x), heapOffset(backend, filter), heapOffset(backend, out), ...args);
    runEpilogue(addon, backend, out, info.batchSize * info.outHeight * info.outWidth, info.outChannels, epi, epiPlan);
    return out;
  };
}

function backpropInputKernel(addon: NativeAddon): MaybeKernel {
  return ({ inputs, backend, attrs = {} }) => {
    const { dy, filter } = inputs;
    if (!dy || !filter || !f32(dy, filter)) return null;
    const inputShape = attrs.inputShape as number[];
    const info = convInfo(inputShape, filter.shape, attrs, false);
    if (!info || !sameShape(dy.shape, info.outShape)) return null;
    const dx = backend.makeOutput(inputShape, 'float32');
    const args = [...geometryArgs(convGeometry(info)), info.outChannels];
    if (useDirect(addon, info)) addon.conv2dDirect(heap(backend), heapOffset(backend, dx), heapOffset(backend, filter), heapOffset(backend, dy), ...args, DIRECT_MODE.backpropInput);
    else addon.conv2dBackpropInput(heap(backend), heapOffset(backend, dx), heapOffset(backend, filter), heapOffset(backend, dy), ...args);
    return dx;
  };
}

function backpropFilterKernel(addon: NativeAddon): MaybeKernel {
  return ({ inputs, backend, attrs = {} }) => {
    const { x, dy } = inputs;
    if (!x || !dy || !f32(x, dy)) return null;
    const filterShape = attrs.filterShape as number[];
    const info = convInfo(x.shape, filterShape, attrs, false);
    if (!info || !sameShape(dy.shape, info.outShape)) return null;
    const dw = backend.makeOutput(filterShape, 'float32');
    const args = [...geometryArgs(convGeometry(info)), info.outChannels];
    if (useDirect(addon, info)) addon.conv2dDirect(heap(backend), heapOffset(backend, x), heapOffset(backend, dw), heapOffset(backend, dy), ...args, DIRECT_MODE.backpropFilter);
    else addon.conv2dBackpropFilter(heap(backend), heapOffset(backend, x), heapOffset(backend, dw), heapOffset(backend, dy), ...args);
    return dw;
  };
}

// ---------------------------------------------------------------------------------------------
// Sum over leading axes (bias gradients): a column sum instead of wasm's transpose + row sum.

function sumKernel(addon: NativeAddon): MaybeKernel {
  return ({ inputs, backend, attrs = {} }) => {
    const { x } = inputs;
    if (!x || x.dtype !== 'float32' || size(x.shape) === 0) return null;
    const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape).sort((p, q) => p - q);
    const k = axes.length;
    if (k === 0 || k >= x.shape.length || !axes.every((ax, i) => ax === i)) return null;
    const rows = size(x.shape.slice(0, k)), cols = size(x.shape.slice(k));
    const outShape = attrs.keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k);
    const out = backend.makeOutput(outShape, 'float32');
    addon.colSum(heap(backend), heapOffset(backend, x), rows, cols, heapOffset(backend, out));
    return out;
  };
}

// ---------------------------------------------------------------------------------------------
// Layout kernels of conv nets. wasm's MaxPoolGrad rescans windows per input pixel, its
// ResizeNearestNeighborGrad likewise, and its Concat / SplitV copy one row at a time from JS
// (a channel concat of [128, 28, 28, 1] and [128, 28, 28, 32] is 200k tiny copies).

function maxPoolGradKernel(addon: NativeAddon): MaybeKernel {
  return ({ inputs, backend, attrs = {} }) => {
    const { dy, input } = inputs;
    if (!dy || !input || !f32(dy, input) || input.shape.length !== 4) return null;
    let info: tf.backend_util.Conv2DInfo;
    try {
      info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number],
        attrs.filterSize as [number, number] | number, attrs.strides as [number, number] | number, 1,
        attrs.pad as PadAttr, attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined);
    } catch {
      return null;
    }
    if (!sameShape(dy.shape, info.outShape) || size(input.shape) === 0) return null;
    const dx = backend.makeOutput(input.shape, 'float32');
    addon.maxPoolGrad(heap(backend), heapOffset(backend, input), heapOffset(backend, dy), heapOffset(backend, dx),
      info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
      info.effectiveFilterHeight, info.effectiveFilterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left);
    return dx;
  };
}

/** Upsampling factor when `big` is `small` times a power of two (exact in the forward's float ratio), else 0. */
function powerOfTwoFactor(big: number, small: number): number {
  if (small <= 0 || big % small !== 0) return 0;
  const f = big / small;
  return (f & (f - 1)) === 0 ? f : 0;
}

function resizeNearestGradKernel(addon: NativeAddon): MaybeKernel {
  return ({ inputs, backend, attrs = {} }) => {
    const { images, dy } = inputs;
    if (!images || !dy || !f32(images, dy) || images.shape.length !== 4 || dy.shape.length !== 4) return null;
    if (attrs.alignCorners || attrs.halfPixelCenters) return null;
    const [n, h, w, c] = images.shape;
    if (dy.shape[0] !== n || dy.shape[3] !== c || size(images.shape) === 0) return null;
    const fy = powerOfTwoFactor(dy.shape[1], h), fx = powerOfTwoFactor(dy.shape[2], w);
    if (!fy || !fx) return null;
    const dx = backend.makeOutput(images.shape, 'float32');
    addon.resizeNearestGrad(heap(backend), heapOffset(backend, dy), heapOffset(backend, dx), n, h, w, c, fy, fx);
    return dx;
  };
}

function concatKernel(addon: NativeAddon): MaybeKernel {
  return ({ inputs, backend, attrs = {} }) => {
    const all = Object.values(inputs) as tf.TensorInfo[];
    const parts = all.filter((t) => size(t.shape) > 0);
    if (parts.length < 2 || !all.every((t) => t.dtype === 'float32')) return null;
    const axis = tf.util.parseAxisParam(attrs.axis as number, parts[0].shape)[0];
    if (axis === 0) return null; // one contiguous copy per input: the stock kernel is already fine
    let outShape: number[];
    try {
      tf.backend_util.assertParamsConsistent(all.map((t) => t.shape), axis);
      outShape = tf.backend_util.computeOutShape(all.map((t) => t.shape), axis);
    } catch {
      return null;
    }
    const rows = size(outShape.slice(0, axis)), total = size(outShape.slice(axis));
    const out = backend.makeOutput(outShape, 'float32');
    const h = heap(backend), outOff = heapOffset(backend, out);
    let col = 0;
    for (const t of parts) {
      const cols = size(t.shape.slice(axis));
      addon.copyBlock(h, heapOffset(backend, t), cols, outOff + 4 * col, total, rows, cols);
      col += cols;
    }
    return out;
  };
}

function splitVKernel(addon: NativeAddon): MaybeKernel {
  return ({ inputs, backend, attrs = {} }) => {
    const { x } = inputs;
    if (!x || x.dtype !== 'float32' || size(x.shape) === 0) return null;
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
    if (axis === 0) return null;
    let sizes: number[];
    try {
      sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits as number[] | number, axis);
    } catch {
      return null;
    }
    const rows = size(x.shape.slice(0, axis)), total = size(x.shape.slice(axis)), inner = size(x.shape.slice(axis + 1));
    const outs = sizes.map((s) => backend.makeOutput(x.shape.map((d, i) => (i === axis ? s : d)), 'float32'));
    const h = heap(backend), xOff = heapOffset(backend, x); // after every makeOutput
    let col = 0;
    outs.forEach((out, i) => {
      const cols = sizes[i] * inner;
      if (cols > 0) addon.copyBlock(h, xOff + 4 * col, total, heapOffset(backend, out), cols, rows, cols);
      col += cols;
    });
    return outs;
  };
}

// ---------------------------------------------------------------------------------------------

function kernelFor(addon: NativeAddon, name: NativeKernelName): MaybeKernel {
  switch (name) {
    case 'BatchMatMul': return matMulKernel(addon, false);
    case '_FusedMatMul': return matMulKernel(addon, true);
    case 'Conv2D': return conv2dKernel(addon, false);
    case 'FusedConv2D': return conv2dKernel(addon, true);
    case 'Conv2DBackpropInput': return backpropInputKernel(addon);
    case 'Conv2DBackpropFilter': return backpropFilterKernel(addon);
    case 'Sum': return sumKernel(addon);
    case 'MaxPoolGrad': return maxPoolGradKernel(addon);
    case 'ResizeNearestNeighborGrad': return resizeNearestGradKernel(addon);
    case 'Concat': return concatKernel(addon);
    case 'SplitV': return splitVKernel(addon);
  }
}

/** Registers the native kernels on 'wasm' (once), keeping the current ones as fallbacks. */
export function installNativeKernels(addon: NativeAddon): string[] {
  if (nativeKernelsInstalled()) return [...previous.keys(), ...installedStnKernels()];
  for (const name of NATIVE_KERNEL_NAMES) {
    const prev = tf.getKernel(name, 'wasm');
    previous.set(name, prev ? { ...prev } : undefined);
    counts.set(name, { native: 0, fallback: 0 });
    if (prev) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: withFallback(name, kernelFor(addon, name)) as unknown as tf.KernelFunc,
    });
  }
  // pertset's own kernels (sampler, reflection pad, batch norm): no previous kernel, no fallbacks.
  const own = installStnKernels(addon, (name) => count(name, 'native'));
  for (const name of own) counts.set(name, { native: 0, fallback: 0 });
  return [...NATIVE_KERNEL_NAMES, ...own];
}

/** Puts the previous kernels back (after a failed self-test, or for comparison runs). */
export function uninstallNativeKernels(): void {
  uninstallStnKernels();
  for (const [name, prev] of previous) {
    tf.unregisterKernel(name, 'wasm');
    // Their setup ran when the backend started; re-running it is unnecessary.
    if (prev) tf.registerKernel({ kernelName: prev.kernelName, backendName: 'wasm', kernelFunc: prev.kernelFunc });
  }
  previous.clear();
}
