/**
 * Benchmark of the native accelerator: the `pertset bench` workloads (kernel/bench/workloads.ts)
 * with the accelerator on and off, each in a fresh process, and their PyTorch twins
 * (kernel/bench/torch_bench.py, 2 threads, OpenMP OpenBLAS when installed), in one run.
 *
 *   node dist/kernel/native/bench/compare.js [--steps 10] [--warmup 3] [--only a,b] [--no-wasm] [--no-torch]
 *                                            [--torch-default-env] [--profile]
 *
 * PyTorch gets the same libgomp spin setting as the addon (GOMP_SPINCOUNT, see
 * native/addon.ts) unless --torch-default-env: on a busy machine libgomp's default spinning makes
 * both sides several times slower, and the comparison should not depend on who spins longer.
 *
 * Prints a table on stderr and one JSON object on stdout:
 * { workloads: [{ name, ms, wasmMs, torchMs, ratio }], native, load }.
 * Timings on a shared machine are noisy: the load average at start is recorded.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

interface Options {
  steps: number;
  warmup: number;
  only: string[];
  wasm: boolean;
  torch: boolean;
  profile: boolean;
  torchDefaultEnv: boolean;
}

function parse(argv: string[]): Options & { child: string | null } {
  const o = { steps: 10, warmup: 3, only: [] as string[], wasm: true, torch: true, profile: false, torchDefaultEnv: false, child: null as string | null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--steps') o.steps = Number(argv[++i]);
    else if (a === '--warmup') o.warmup = Number(argv[++i]);
    else if (a === '--only') o.only = argv[++i].split(',').filter(Boolean);
    else if (a === '--no-wasm') o.wasm = false;
    else if (a === '--no-torch') o.torch = false;
    else if (a === '--profile') o.profile = true;
    else if (a === '--torch-default-env') o.torchDefaultEnv = true;
    else if (a === '--child') o.child = argv[++i];
    else throw new Error(`compare: unknown argument ${a}`);
  }
  return o;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** In the child: time each workload on the backend chosen by the environment. */
async function child(o: Options): Promise<void> {
  // Loaded here so the parent does not start tfjs.
  const tf = await import('@tensorflow/tfjs');
  const { initBackend } = await import('../../api/backend');
  const { nativeKernelStats, nativeLoadEnvironment } = await import('../../api/backend/native');
  const { WORKLOADS, WORKLOAD_NAMES } = await import('../../bench/workloads');
  const info = await initBackend({ backend: 'wasm' });
  const names = o.only.length ? o.only : [...WORKLOAD_NAMES];
  const results: Array<{ name: string; ms: number; min: number; profile?: Array<[string, number]> }> = [];
  for (const name of names) {
    const w = WORKLOADS[name as keyof typeof WORKLOADS]();
    for (let i = 0; i < o.warmup; i++) w.step();
    const times: number[] = [];
    for (let i = 0; i < o.steps; i++) {
      const t0 = process.hrtime.bigint();
      w.step();
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    let profile: Array<[string, number]> | undefined;
    if (o.profile) {
      const p = await tf.profile(() => { w.step(); });
      const byKernel = new Map<string, number>();
      for (const k of p.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
      profile = [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, ms]) => [k, Math.round(ms * 10) / 10]);
    }
    w.dispose();
    results.push({ name, ms: median(times), min: Math.min(...times), profile });
  }
  process.stdout.write(JSON.stringify({ native: info.native, counts: nativeKernelStats(), loadEnv: nativeLoadEnvironment(), results }) + '\n');
  process.exit(0);
}

function runChild(self: string, mode: 'native' | 'wasm', o: Options) {
  const args = [self, '--child', mode, '--steps', String(o.steps), '--warmup', String(o.warmup)];
  if (o.only.length) args.push('--only', o.only.join(','));
  if (o.profile) args.push('--profile');
  const r = spawnSync(process.execPath, args, {
    encoding: 'utf8', env: { ...process.env, PERTSET_NATIVE: mode === 'native' ? '1' : '0' }, maxBuffer: 1 << 24,
  });
  const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || !line) throw new Error(`compare: ${mode} run failed: ${r.stderr}`);
  return JSON.parse(line) as { native: { active: boolean; reason: string }; counts: unknown; loadEnv?: Record<string, string>; results: Array<{ name: string; ms: number; min: number; profile?: Array<[string, number]> }> };
}

let sameEnvironment: Record<string, string> = {};

function runTorch(o: Options): Map<string, number> {
  const script = path.resolve(__dirname, '..', '..', '..', '..', 'kernel', 'bench', 'torch_bench.py');
  const omp = `/usr/lib/${os.arch() === 'x64' ? 'x86_64' : 'aarch64'}-linux-gnu/openblas-openmp`;
  const env = { ...process.env };
  if (fs.existsSync(omp)) env.LD_LIBRARY_PATH = [omp, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  if (!o.torchDefaultEnv) Object.assign(env, sameEnvironment);
  const args = [script, '--threads', '2', '--steps', String(o.steps), '--warmup', String(o.warmup)];
  if (o.only.length) args.push('--only', o.only.join(','));
  const r = spawnSync(process.env.PERTSET_PYTHON ?? '/usr/bin/python3', args, { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`compare: torch run failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { workloads: Array<{ name: string; ms: number }> };
  return new Map(out.workloads.map((w) => [w.name, w.ms]));
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  if (o.child) return child(o);
  const load = os.loadavg()[0];
  const native = runChild(__filename, 'native', o);
  sameEnvironment = native.loadEnv ?? {};
  const wasm = o.wasm ? runChild(__filename, 'wasm', o) : null;
  const torch = o.torch ? runTorch(o) : new Map<string, number>();
  const rows = native.results.map((r) => {
    const torchMs = torch.get(r.name) ?? null;
    return {
      name: r.name, ms: r.ms, minMs: r.min,
      wasmMs: wasm?.results.find((w) => w.name === r.name)?.ms ?? null,
      torchMs, ratio: torchMs ? r.ms / torchMs : null,
    };
  });
  const f = (v: number | null) => (v === null ? '-' : v.toFixed(1));
  process.stderr.write(`native: ${native.native.active ? 'on' : 'off'} (${native.native.reason}); load average at start ${load.toFixed(2)}\n`);
  process.stderr.write('workload                         native ms  (min)   wasm ms  torch ms  native/torch\n');
  for (const r of rows) {
    process.stderr.write(`${r.name.padEnd(32)} ${f(r.ms).padStart(9)} ${f(r.minMs).padStart(6)} ${f(r.wasmMs).padStart(9)} ${f(r.torchMs).padStart(9)} ${r.ratio === null ? '-' : r.ratio.toFixed(2).padStart(12)}\n`);
  }
  if (o.profile) {
    for (const r of native.results) process.stderr.write(`profile native ${r.name}: ${JSON.stringify(r.profile)}\n`);
    for (const r of wasm?.results ?? []) process.stderr.write(`profile wasm ${r.name}: ${JSON.stringify(r.profile)}\n`);
  }
  process.stdout.write(JSON.stringify({ workloads: rows, native: native.native, counts: native.counts, torchEnv: o.torchDefaultEnv ? 'default' : sameEnvironment, load }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
