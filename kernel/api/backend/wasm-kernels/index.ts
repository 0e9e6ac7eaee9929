/**
 * Fixes for @tensorflow/tfjs-backend-wasm 4.22.0 (shared research backends.md §3, native-blas.md),
 * one per file, registered for the 'wasm' backend only, so they never affect `cpu` or
 * `tensorflow`. `PERTSET_WASM_FIXES=0` (passed in as `disabled`) keeps the stock kernels.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmKernelFunc } from './wasm-internals';
import { makeBatchMatMul, makeFusedMatMul } from './matmul-fast-path';
import { makeConv2DBackpropFilter } from './conv2d-backprop-filter';
import { makeConv2DBackpropInput } from './conv2d-backprop-input';
import { makeIdentity } from './identity-zero-copy';
import { makeMaxPoolGrad } from './max-pool-grad';

export interface WasmKernelOptions {
  /** Skip every fix (for comparison runs and the fallback test). */
  disabled?: boolean;
  /** Ids of fixes to leave out (see WASM_KERNEL_FIXES). */
  exclude?: string[];
}

interface Fix {
  id: string;
  note: string;
  /** Kernel name → our kernel function, given the stock kernels (null when wasm has none). */
  kernels(stock: (name: string) => WasmKernelFunc | null): Record<string, WasmKernelFunc>;
}

const FIXES: Fix[] = [
  {
    id: 'matmul-fast-path',
    note: 'BatchMatMul/_FusedMatMul: transposes and batches through XNNPACK (explicit transpose first)',
    kernels(stock) {
      const batchMatMul = makeBatchMatMul(stock('BatchMatMul')!);
      return { BatchMatMul: batchMatMul, _FusedMatMul: makeFusedMatMul(stock('_FusedMatMul')!, batchMatMul) };
    },
  },
  {
    id: 'conv2d-backprop-filter',
    note: 'Conv2DBackpropFilter: added (im2col + XNNPACK GEMM; missing in tfjs-backend-wasm 4.22)',
    kernels: (stock) => ({ Conv2DBackpropFilter: makeConv2DBackpropFilter(stock('BatchMatMul')!) }),
  },
  {
    id: 'conv2d-backprop-input',
    note: 'Conv2DBackpropInput: XNNPACK GEMM + col2im instead of the naive loop',
    kernels: (stock) => ({ Conv2DBackpropInput: makeConv2DBackpropInput(stock('BatchMatMul')!) }),
  },
  {
    id: 'identity-zero-copy',
    note: 'Identity: zero-copy (shares the buffer, one more reference)',
    kernels: (stock) => ({ Identity: makeIdentity(stock('Identity')!) }),
  },
  {
    id: 'max-pool-grad',
    note: 'MaxPoolGrad: gradient to the first maximum of each window (the stock kernel misroutes some)',
    kernels: (stock) => ({ MaxPoolGrad: makeMaxPoolGrad(stock('MaxPoolGrad')) }),
  },
];

export const WASM_KERNEL_FIXES: readonly string[] = FIXES.map((f) => f.id);

/** Stock configs of every kernel we replaced (null: wasm had none), to restore them. */
const stockConfigs = new Map<string, tf.KernelConfig | null>();
let installedNotes: string[] = [];

function stockKernel(name: string): WasmKernelFunc | null {
  const config = stockConfigs.has(name) ? stockConfigs.get(name) : tf.getKernel(name, 'wasm');
  return config ? (config.kernelFunc as unknown as WasmKernelFunc) : null;
}

/** Puts the stock kernels back (used by comparison tests and benchmarks). */
export function uninstallWasmKernels(): void {
  for (const [name, config] of stockConfigs) {
    tf.unregisterKernel(name, 'wasm');
    if (config) tf.registerKernel(config);
  }
  stockConfigs.clear();
  installedNotes = [];
}

/** Registers the fixes; returns one note per fix installed. Idempotent. */
export function installWasmKernels(options: WasmKernelOptions = {}): string[] {
  if (tf.getKernel('BatchMatMul', 'wasm') == null) return []; // wasm backend not loaded
  const wanted = options.disabled ? [] : FIXES.filter((f) => !(options.exclude ?? []).includes(f.id));
  const wantedNotes = wanted.map((f) => f.note);
  if (wantedNotes.join('\n') === installedNotes.join('\n')) return [...installedNotes];
  uninstallWasmKernels();
  for (const fix of wanted) {
    for (const [name, kernelFunc] of Object.entries(fix.kernels(stockKernel))) {
      const stock = tf.getKernel(name, 'wasm') ?? null;
      if (!stockConfigs.has(name)) stockConfigs.set(name, stock);
      if (stock) tf.unregisterKernel(name, 'wasm');
      // Keep the stock setupFunc: it binds the C++ entry points our kernels delegate to.
      tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc, setupFunc: stock?.setupFunc });
    }
  }
  installedNotes = wantedNotes;
  return [...installedNotes];
}

/** Notes of the fixes installed now (empty when none). */
export function installedWasmKernels(): string[] {
  return [...installedNotes];
}
