/**
 * `pertset bench`: times our workloads on the active backend and, in the same run, their PyTorch
 * twins; reports ms/step, our/PyTorch ratios and memory per step (peak RSS on both sides, tfjs
 * bytes and the wasm heap on ours), with the backend description (wasm fixes, native
 * accelerator, threads) so results from different setups can be compared.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendInfo, type BackendName } from '../api/backend';
import { adamStepImplementationName } from '../api/backend/adam';
import type { NativeStatus } from '../api/backend/native';
import { peakRssBytes, resetPeakRss, wasmHeapBytes } from './memory';
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
  /** ms / torchMs (for a rate, torchSamplesPerSecond / samplesPerSecond); null when PyTorch was not run. */
  ratio: number | null;
  /** Samples one step processes, for workloads measured as a rate (certification_throughput); else null. */
  samplesPerStep: number | null;
  /** samplesPerStep per median step, ours; null unless the workload is a rate. */
  samplesPerSecond: number | null;
  /** The same for PyTorch; null unless the workload is a rate and PyTorch ran. */
  torchSamplesPerSecond: number | null;
  /** Our first (cold) step, ms. */
  firstMs: number;
  /** Peak RSS of our process while building and running the workload, bytes (see memory.ts). */
  peakRssBytes: number;
  /** Peak bytes of live tfjs tensors during one (profiled, untimed) step. */
  tfjsPeakBytes: number;
  /** Bytes of live tfjs tensors between steps (parameters, optimiser state, inputs). */
  tfjsBytes: number;
  /** The wasm backend's heap size after the workload, bytes; null on other backends. */
  wasmHeapBytes: number | null;
  /** Peak RSS of the PyTorch process over the same workload, bytes; null when not run. */
  torchPeakRssBytes: number | null;
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
  /** True when each workload's peak RSS is its own (Linux); false: the process's lifetime peak. */
  peakRssPerWorkload: boolean;
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
  let peakRssPerWorkload = true;
  for (const name of names) {
    peakRssPerWorkload = resetPeakRss() && peakRssPerWorkload;
    const workload = WORKLOADS[name]();
    let result: WorkloadResult;
    try {
      let t = performance.now();
      await workload.step();
      const firstMs = performance.now() - t;
      for (let i = 1; i < warmup; i++) await workload.step();
      const times: number[] = [];
      for (let i = 0; i < steps; i++) {
        t = performance.now();
        await workload.step();
        times.push(performance.now() - t);
      }
      // Memory is measured on one more step, untimed: profiling records every kernel.
      const tfjsBytes = tf.memory().numBytes;
      const profile = await tf.profile(async () => { await workload.step(); });
      const ms = median(times);
      const samplesPerStep = workload.samplesPerStep ?? null;
      result = {
        name, ms, torchMs: null, ratio: null, firstMs,
        samplesPerStep, samplesPerSecond: samplesPerStep === null ? null : samplesPerStep / (ms / 1000), torchSamplesPerSecond: null,
        peakRssBytes: peakRssBytes(), tfjsPeakBytes: Math.max(profile.peakBytes, tfjsBytes), tfjsBytes,
        wasmHeapBytes: wasmHeapBytes(), torchPeakRssBytes: null,
      };
      log(`${name}: ${result.ms.toFixed(1)} ms/step (ours)${rate(result.samplesPerSecond)}, peak RSS ${mb(result.peakRssBytes)} MB, tfjs peak ${mb(result.tfjsPeakBytes)} MB`);
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
        result.torchSamplesPerSecond = result.samplesPerStep === null ? null : result.samplesPerStep / (ms / 1000);
        result.torchPeakRssBytes = one.peakRssBytes[name] ?? null;
        log(`${name}: ${ms.toFixed(1)} ms/step (PyTorch)${rate(result.torchSamplesPerSecond)}${result.torchPeakRssBytes === null ? '' : `, peak RSS ${mb(result.torchPeakRssBytes)} MB`}`);
      }
    }
    results.push(result);
  }
  const torch: TorchResult | null = torchRuns.length === 0 ? null : {
    ...torchRuns[torchRuns.length - 1],
    ms: Object.assign({}, ...torchRuns.map((r) => r.ms)) as Record<string, number>,
    peakRssBytes: Object.assign({}, ...torchRuns.map((r) => r.peakRssBytes)) as Record<string, number>,
  };
  return {
    backend: info.name, accelerator: describeAccelerator(info), threads: info.threads, tfjs: tf.version.tfjs,
    wasmKernels: info.wasmKernels, native: info.native, adam: adamStepImplementationName(), notes: info.notes,
    steps, warmup, peakRssPerWorkload, torch, workloads: results,
  };
}

function rate(samplesPerSecond: number | null): string {
  return samplesPerSecond === null ? '' : ` = ${samplesPerSecond.toFixed(0)} samples/s`;
}

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
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
  const rated = r.workloads.filter((w) => w.samplesPerStep !== null).map((w) => `${w.name}: ${w.samplesPerStep} samples`);
  lines.push(`median of ${r.steps} timed steps after ${r.warmup} warm-up, batch 128${rated.length ? ` (a step of ${rated.join(', ')})` : ''}`);
  lines.push(`memory in MiB: peak RSS ${r.peakRssPerWorkload ? 'per workload' : 'of the whole process so far'} (both include the runtime), tfjs = peak live tensor bytes in a step${r.workloads.some((w) => w.wasmHeapBytes !== null) ? ', wasm heap = its size after the workload' : ''}`, '');
  const wasm = r.workloads.some((w) => w.wasmHeapBytes !== null);
  const rates = r.workloads.some((w) => w.samplesPerSecond !== null);
  const perSecond = (v: number | null) => (v === null ? '-' : v.toFixed(0));
  const header = ['workload', 'ours ms/step', 'PyTorch ms/step', 'ours/PyTorch', ...(rates ? ['ours samples/s', 'PyTorch samples/s'] : []), 'ours RSS', 'tfjs', ...(wasm ? ['wasm heap'] : []), 'PyTorch RSS'];
  const rows = r.workloads.map((w) => [
    w.name, w.ms.toFixed(1), w.torchMs === null ? '-' : w.torchMs.toFixed(1), w.ratio === null ? '-' : `${w.ratio.toFixed(2)}×`,
    ...(rates ? [perSecond(w.samplesPerSecond), perSecond(w.torchSamplesPerSecond)] : []),
    mb(w.peakRssBytes), mb(w.tfjsPeakBytes), ...(wasm ? [w.wasmHeapBytes === null ? '-' : mb(w.wasmHeapBytes)] : []),
    w.torchPeakRssBytes === null ? '-' : mb(w.torchPeakRssBytes),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  lines.push(fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt));
  return lines.join('\n');
}
