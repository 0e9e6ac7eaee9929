/**
 * The PyTorch side of `pertset bench`: runs `torch_bench.py` with Debian's Python (torch 1.13),
 * 2 threads, and the OpenMP build of OpenBLAS when installed (Debian's default reference BLAS
 * would make PyTorch ~20× slower than it is for its users; the pthread OpenBLAS oversubscribes
 * the cores together with torch's own OpenMP pool: shared research backends.md §1).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export interface TorchResult {
  /** torch.__version__, or null when the reference could not run. */
  version: string | null;
  threads: number;
  /** The OpenBLAS directory put on LD_LIBRARY_PATH, or null (torch's default BLAS). */
  blas: string | null;
  /** Median ms per workload name. */
  ms: Record<string, number>;
  /** Peak RSS of the Python process per workload name, bytes (model, steps and the runtime). */
  peakRssBytes: Record<string, number>;
  /** Why the reference did not run, when it did not. */
  error?: string;
}

export const TORCH_THREADS = 2;

/** Debian's Python with torch (the `python3` on PATH may be another one). */
export function torchPython(): string {
  return process.env.PERTSET_PYTHON ?? '/usr/bin/python3';
}

/** Debian's openblas-openmp library folder (the one holding libblas.so.3), if installed. */
export function findOpenmpOpenblas(): string | null {
  for (const root of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib']) {
    const dir = path.join(root, 'openblas-openmp');
    if (fs.existsSync(path.join(dir, 'libblas.so.3'))) return dir;
  }
  return null;
}

function scriptPath(): string {
  const candidates = [
    path.join(__dirname, 'torch_bench.py'),
    path.resolve(__dirname, '..', '..', '..', 'kernel', 'bench', 'torch_bench.py'), // from dist/kernel/bench
  ];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`torch_bench.py not found (looked in ${candidates.join(', ')})`);
  return found;
}

export function runTorchReference(names: string[], steps: number, warmup: number): TorchResult {
  const blas = findOpenmpOpenblas();
  const env = { ...process.env };
  if (blas) env.LD_LIBRARY_PATH = [blas, process.env.LD_LIBRARY_PATH].filter(Boolean).join(path.delimiter);
  const failed = (error: string): TorchResult => ({ version: null, threads: TORCH_THREADS, blas, ms: {}, peakRssBytes: {}, error });
  let script: string;
  try {
    script = scriptPath();
  } catch (e) {
    return failed((e as Error).message);
  }
  const python = torchPython();
  const r = spawnSync(python, [script, '--steps', String(steps), '--warmup', String(warmup), '--threads', String(TORCH_THREADS), '--only', names.join(',')], {
    env, encoding: 'utf8', timeout: 30 * 60_000,
  });
  if (r.error) return failed(`${python}: ${r.error.message}`);
  if (r.status !== 0) return failed(`${python} ${path.basename(script)} exited with ${r.status}: ${(r.stderr || '').trim().split('\n').pop()}`);
  try {
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { torch: string; threads: number; workloads: { name: string; ms: number; peak_rss_bytes: number }[] };
    return {
      version: out.torch, threads: out.threads, blas,
      ms: Object.fromEntries(out.workloads.map((w) => [w.name, w.ms])),
      peakRssBytes: Object.fromEntries(out.workloads.map((w) => [w.name, w.peak_rss_bytes])),
    };
  } catch {
    return failed(`unreadable output from ${path.basename(script)}: ${r.stdout.slice(0, 200)}`);
  }
}
