/**
 * Fix (d): a zero-copy `Identity`. The stock wasm kernel copies the whole tensor, and the engine
 * calls it (`clone`) for every tensor a gradient function saves: ~100 full copies per CVAE
 * training step. Tensors are immutable in tfjs, so the output can share the input's buffer and
 * take one more reference, as wasm's own Reshape and the cpu backend's Identity already do.
 *
 * Contract this relies on: nothing writes into a tensor's wasm buffer in place. Our kernels and
 * FusedAdam always write into freshly allocated outputs.
 */
import type { KernelArgs, TensorInfo, WasmKernelFunc } from './wasm-internals';

export function makeIdentity(stock: WasmKernelFunc): WasmKernelFunc {
  return (args: KernelArgs) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string' || x.dtype === 'complex64') return stock(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}
