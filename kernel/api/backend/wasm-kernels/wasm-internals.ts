/**
 * Typed access to the internals of @tensorflow/tfjs-backend-wasm 4.22.0 that our kernels use:
 * the tensor table (`dataIdMap`), the wasm heap, output allocation and refcounts. These are not
 * a public API, which is why the package pins tfjs to exactly 4.22.0 and every kernel has a test
 * against the `cpu` backend.
 */
import * as tf from '@tensorflow/tfjs';

type DataId = object;
export type TensorInfo = tf.TensorInfo;

interface WasmTensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: tf.DataType;
  refCount: number;
}

export interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: DataId): WasmTensorData | undefined; has(dataId: DataId): boolean };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: DataId, force?: boolean): boolean;
  incRef(dataId: DataId): void;
  refCount(dataId: DataId): number;
}

export type KernelArgs = {
  inputs: Record<string, TensorInfo | undefined>;
  backend: WasmBackend;
  attrs?: Record<string, unknown>;
};
export type WasmKernelFunc = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** Byte offset of a tensor's data on the wasm heap. */
export function heapOffset(backend: WasmBackend, t: TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data || typeof data.memoryOffset !== 'number') throw new Error('tensor is not on the wasm heap');
  return data.memoryOffset;
}

/**
 * The heap as a byte view. Read it AFTER every `makeOutput`: allocation can grow wasm memory,
 * which replaces the underlying ArrayBuffer.
 */
export function heap(backend: WasmBackend): Uint8Array {
  return backend.wasm.HEAPU8;
}

/** A Float32Array view of a tensor's bytes on the wasm heap. Re-create it after any allocation: heap growth detaches old views. */
export function heapF32(backend: WasmBackend, t: TensorInfo): Float32Array {
  return new Float32Array(heap(backend).buffer, heapOffset(backend, t), tf.util.sizeFromShape(t.shape));
}

/** A view of `info` with another shape and the same bytes, owning one more reference (like wasm's Reshape). */
export function reshapeInfo(backend: WasmBackend, t: TensorInfo, shape: number[]): TensorInfo {
  backend.incRef(t.dataId);
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

export function dispose(backend: WasmBackend, ...infos: (TensorInfo | null | undefined)[]): void {
  for (const t of infos) if (t) backend.disposeData(t.dataId);
}

/** Runs a kernel function and returns its single output. */
export function run1(kernel: WasmKernelFunc, backend: WasmBackend, inputs: KernelArgs['inputs'], attrs: Record<string, unknown> = {}): TensorInfo {
  const out = kernel({ inputs, backend, attrs });
  return Array.isArray(out) ? out[0] : out;
}

/** The wasm kernel registered under `name` right now (ours when a fix replaced it). */
export function wasmKernel(name: string): WasmKernelFunc {
  const config = tf.getKernel(name, 'wasm');
  if (!config) throw new Error(`wasm kernel ${name} is not registered`);
  return config.kernelFunc as unknown as WasmKernelFunc;
}

/** Explicit transpose with wasm's own kernel. */
export function transposeInfo(backend: WasmBackend, x: TensorInfo, perm: number[]): TensorInfo {
  return run1(wasmKernel('Transpose'), backend, { x }, { perm });
}
