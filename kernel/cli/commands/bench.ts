/**
 * `pertset bench [--json] [--steps N] [--no-torch] [--backend B] [--threads N] [--only NAMES]`:
 * ms/step and memory of the workloads (CVAE training steps of the three MNIST models, a conv
 * classifier training step, latent PGD steps, `cvae_attack` robust-training steps; batch 128;
 * and latent-smoothing certification throughput in samples/s), ours against PyTorch in the same run.
 */
import { ConfigError } from '../../api/errors';
import { parseBackendName } from '../../api/backend';
import { formatBenchReport, runBench, WORKLOAD_NAMES, type WorkloadName } from '../../bench';
import { intOption, parse } from '../args';
import type { Command } from '../main';

const USAGE = `usage: pertset bench [--json] [--steps N] [--warmup N] [--no-torch] [--backend B] [--threads N] [--only NAMES]
  Times one step of each workload at batch 128 on our backend, then the same workloads in
  PyTorch (Debian's /usr/bin/python3 or $PERTSET_PYTHON, 2 threads, OpenMP OpenBLAS when
  installed), and prints the median ms/step, the ours/PyTorch ratio and memory per step:
  peak RSS of each process over the workload, and on our side the peak bytes of live tfjs
  tensors in a step and the wasm heap size. certification_throughput is one smoothing batch of
  500 latent samples decoded and classified, also given as samples/s.
  Workloads: ${WORKLOAD_NAMES.join(', ')}.
  --json        print one JSON object: {backend, accelerator, threads, workloads: [{name, ms, torchMs, ratio,
                samplesPerStep, samplesPerSecond, torchSamplesPerSecond (null unless a rate),
                peakRssBytes, tfjsPeakBytes, tfjsBytes, wasmHeapBytes, torchPeakRssBytes}], ...}
  --steps N     timed steps per workload (default 10)
  --warmup N    untimed steps first (default 2)
  --no-torch    skip PyTorch (torchMs and ratio are null)
  --backend B   auto | wasm | cpu | tensorflow (default $PERTSET_BACKEND or auto)
  --threads N   wasm threads (default $PERTSET_WASM_THREADS or 1)
  --only NAMES  comma-separated subset of the workloads (default all)
Timings are noisy on a shared machine; compare runs made in the same sitting.`;

export const command: Command = {
  summary: 'time the CVAE, classifier, latent-PGD and robust-training steps and certification, ours vs PyTorch',
  usage: USAGE,
  async run(argv) {
    const { values } = parse('bench', argv, {
      json: { type: 'boolean' },
      steps: { type: 'string' },
      warmup: { type: 'string' },
      'no-torch': { type: 'boolean' },
      backend: { type: 'string' },
      threads: { type: 'string' },
      only: { type: 'string' },
    });
    const only = values.only === undefined ? undefined : String(values.only).split(',').filter(Boolean);
    for (const name of only ?? []) {
      if (!(WORKLOAD_NAMES as readonly string[]).includes(name)) {
        throw new ConfigError(`--only: unknown workload "${name}"; expected ${WORKLOAD_NAMES.join(', ')}`);
      }
    }
    const json = values.json === true;
    const report = await runBench({
      steps: intOption('steps', values.steps as string | undefined, 1),
      warmup: intOption('warmup', values.warmup as string | undefined, 0),
      torch: values['no-torch'] !== true,
      backend: values.backend === undefined ? undefined : parseBackendName(String(values.backend), '--backend'),
      threads: intOption('threads', values.threads as string | undefined, 1),
      only: only as WorkloadName[] | undefined,
      log: json ? undefined : (line) => console.error(line),
    });
    console.log(json ? JSON.stringify(report) : formatBenchReport(report));
    return 0;
  },
};
