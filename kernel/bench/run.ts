/**
 * `pertset bench`: times our three workloads on the active backend and, in the same run, their
 * PyTorch twins; reports ms/step and our/PyTorch ratios, with the backend description (wasm
 * fixes, native accelerator, threads) so results from different setups can be compared.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendInfo, type BackendName } from '../api/backend';
import { adamStepImplementationName } from '../api/backend/adam';
import type { NativeStatus } from '../api/backend/native';
import { WORKLOADS, WORKLOAD_NAMES, type WorkloadName } from './workloads';
import { runTorchReference, type TorchResult } from './torch-reference';

export interface BenchOptions {
  /** Timed steps per workload (default 10); the median is reported. */
  steps?: number;
  /** Untimed steps first (default 2; at most `steps`). */
  warmup?: number;
  /** Run the PyTorch reference (default true). */
  torch?: boolean;
  backend?: BackendName;
  threads?: number;
  /** Subset of WORKLOAD_NAMES (default all). */
  only?: WorkloadName[];
  /** Progress lines (e.g. to stderr). */
  log?: (line: string) => void;
}

export interface WorkloadResult {
  name: WorkloadName;
  /** Median ms per step, ours. */
  ms: number;
  /** Median ms per step, PyTorch; null when not run. */
  torchMs: number | null;
  /** ms / torchMs; null when PyTorch was not run. */
  ratio: number | null;
  /** Our first (cold) step, ms. */
  firstMs: number;
}

export interface BenchReport {
  backend: string;
  /** `none`, or the native accelerator in one phrase. */
  accelerator: string;
  threads: number;
  tfjs: string;
  wasmKernels: string[];
  native: NativeStatus | null;
  adam: string;
  notes: string[];
  steps: number;
  warmup: number;
  torch: TorchResult | null;
  workloads: WorkloadResult[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function describeAccelerator(info: BackendInfo): string {
  const n = info.native;
  if (!n || !n.active) return 'none';
  return `native BLAS${n.blas ? ` (${n.blas.split(' ').slice(0, 2).join(' ')})` : ''}${n.threads ? `, ${n.threads} threads` : ''}`;
}

export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const steps = options.steps ?? 10;
  const warmup = Math.min(options.warmup ?? 2, steps);
  const names = options.only?.length ? options.only : [...WORKLOAD_NAMES];
  const log = options.log ?? (() => {});
  const info = await initBackend({ backend: options.backend, threads: options.threads });
  log(`backend ${info.name}, ${info.threads} thread(s), accelerator: ${describeAccelerator(info)}`);
  const results: WorkloadResult[] = [];
  // PyTorch runs right after each of our workloads (one child per workload), so both sides of a
  // ratio are measured close in time on a machine whose load changes.
  const torchRuns: TorchResult[] = [];
  for (const name of names) {
    const workload = WORKLOADS[name]();
    let result: WorkloadResult;
    try {
      let t = performance.now();
      workload.step();
      const firstMs = performance.now() - t;
      for (let i = 1; i < warmup; i++) workload.step();
      const times: number[] = [];
      for (let i = 0; i < steps; i++) {
        t = performance.now();
        workload.step();
        times.push(performance.now() - t);
      }
      result = { name, ms: median(times), torchMs: null, ratio: null, firstMs };
      log(`${name}: ${result.ms.toFixed(1)} ms/step (ours)`);
    } finally {
      workload.dispose();
    }
    if (options.torch !== false && !torchRuns.some((r) => r.error)) {
      const one = runTorchReference([name], steps, warmup);
      torchRuns.push(one);
      if (one.error) log(`PyTorch reference unavailable: ${one.error}`);
      const ms = one.ms[name];
      if (ms !== undefined) {
        result.torchMs = ms;
        result.ratio = result.ms / ms;
        log(`${name}: ${ms.toFixed(1)} ms/step (PyTorch)`);
      }
    }
    results.push(result);
  }
  const torch: TorchResult | null = torchRuns.length === 0 ? null : {
    ...torchRuns[torchRuns.length - 1],
    ms: Object.assign({}, ...torchRuns.map((r) => r.ms)) as Record<string, number>,
  };
  return {
    backend: info.name, accelerator: describeAccelerator(info), threads: info.threads, tfjs: tf.version.tfjs,
    wasmKernels: info.wasmKernels, native: info.native, adam: adamStepImplementationName(), notes: info.notes,
    steps, warmup, torch, workloads: results,
  };
}

/** The human-readable table. */
export function formatBenchReport(r: BenchReport): string {
  const lines: string[] = [];
  lines.push(`backend: ${r.backend} (${r.threads} thread${r.threads === 1 ? '' : 's'}), accelerator: ${r.accelerator}, Adam: ${r.adam}, tfjs ${r.tfjs}`);
  if (r.wasmKernels.length) lines.push(`wasm fixes: ${r.wasmKernels.length} (see \`pertset info\`)`);
  if (r.torch) {
    lines.push(r.torch.error
      ? `PyTorch: not run (${r.torch.error})`
      : `PyTorch ${r.torch.version}, ${r.torch.threads} threads, BLAS: ${r.torch.blas ?? 'torch default (no openblas-openmp found)'}`);
  }
  lines.push(`median of ${r.steps} timed steps after ${r.warmup} warm-up, batch 128`, '');
  const header = ['workload', 'ours ms/step', 'PyTorch ms/step', 'ours/PyTorch'];
  const rows = r.workloads.map((w) => [
    w.name, w.ms.toFixed(1), w.torchMs === null ? '-' : w.torchMs.toFixed(1), w.ratio === null ? '-' : `${w.ratio.toFixed(2)}×`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  lines.push(fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt));
  return lines.join('\n');
}
