/**
 * The few internals of @tensorflow/tfjs-backend-wasm 4.22.0 the native kernels rely on: the
 * tensor table (`dataIdMap`, giving each tensor's byte offset on the heap), the heap itself and
 * output allocation. Not a public API: tfjs is pinned and a start-up self-test guards them.
 */
import * as tf from '@tensorflow/tfjs';

interface WasmTensorData {
  memoryOffset: number;
  shape: number[];
  dtype: tf.DataType;
}

export interface HeapBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): WasmTensorData | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

export interface HeapKernelArgs {
  inputs: Record<string, tf.TensorInfo | undefined>;
  backend: HeapBackend;
  attrs?: Record<string, unknown>;
}

export type HeapKernelFunc = (args: HeapKernelArgs) => tf.TensorInfo | tf.TensorInfo[];

/** Byte offset of a tensor's data on the wasm heap. */
export function heapOffset(backend: HeapBackend, t: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data || typeof data.memoryOffset !== 'number') throw new Error('tensor is not on the wasm heap');
  return data.memoryOffset;
}

/**
 * The heap as a byte view. Read it AFTER every `makeOutput`: allocation can grow wasm memory,
 * which replaces the underlying ArrayBuffer.
 */
export function heap(backend: HeapBackend): Uint8Array {
  return backend.wasm.HEAPU8;
}

export function isHeapBackend(b: unknown): b is HeapBackend {
  const x = b as HeapBackend | null;
  return !!x && !!x.wasm && x.wasm.HEAPU8 instanceof Uint8Array && !!x.dataIdMap && typeof x.makeOutput === 'function';
}
