/**
 * `pertset info [--json] [--backend B] [--threads N]`: which compute backend is active and why,
 * the wasm kernel fixes, the native accelerator's state, threads, and library versions.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, parseBackendName, type BackendInfo } from '../../api/backend';
import { adamStepImplementationName } from '../../api/backend/adam';
import { describeAccelerator } from '../../bench/run';
import { intOption, parse } from '../args';
import type { Command } from '../main';

const USAGE = `usage: pertset info [--json] [--backend B] [--threads N]
  Initialises the compute backend as a run would and says which one is active and why
  (tfjs-node → wasm + native accelerator → wasm → cpu), the wasm kernel fixes installed,
  the native accelerator's state, threads, and the TensorFlow.js version.
  --json        print one JSON object
  --backend B   auto | wasm | cpu | tensorflow (default $PERTSET_BACKEND or auto)
  --threads N   wasm threads (default $PERTSET_WASM_THREADS or 1)
Environment: PERTSET_BACKEND, PERTSET_WASM_THREADS, PERTSET_WASM_FIXES=0 (stock wasm kernels),
PERTSET_NATIVE=0 (no native accelerator).`;

export interface InfoReport {
  backend: string;
  requested: string;
  threads: number;
  accelerator: string;
  native: BackendInfo['native'];
  wasmKernels: string[];
  adam: string;
  notes: string[];
  tfjs: string;
  node: string;
}

export function infoReport(info: BackendInfo): InfoReport {
  return {
    backend: info.name, requested: info.requested, threads: info.threads, accelerator: describeAccelerator(info),
    native: info.native, wasmKernels: info.wasmKernels, adam: adamStepImplementationName(), notes: info.notes,
    tfjs: tf.version.tfjs, node: process.versions.node,
  };
}

export function formatInfo(r: InfoReport): string {
  const lines = [
    `backend:      ${r.backend} (requested: ${r.requested})`,
    `threads:      ${r.threads}`,
    `accelerator:  ${r.accelerator}`,
  ];
  if (r.native) lines.push(`native:       ${r.native.active ? 'on' : 'off'} (${r.native.reason})${r.native.blas ? `\n              ${r.native.blas}` : ''}`);
  lines.push(`Adam loop:    ${r.adam}`);
  if (r.backend === 'wasm') {
    lines.push(`wasm fixes:   ${r.wasmKernels.length ? '' : 'none (PERTSET_WASM_FIXES=0)'}`);
    for (const k of r.wasmKernels) lines.push(`  - ${k}`);
  }
  if (r.notes.length) {
    lines.push('why:');
    for (const n of r.notes) lines.push(`  - ${n}`);
  }
  lines.push(`tfjs:         ${r.tfjs}`, `node:         ${r.node}`);
  return lines.join('\n');
}

export const command: Command = {
  summary: 'show the active compute backend, why, its fixes, accelerator and threads',
  usage: USAGE,
  async run(argv) {
    const { values } = parse('info', argv, {
      json: { type: 'boolean' },
      backend: { type: 'string' },
      threads: { type: 'string' },
    });
    const info = await initBackend({
      backend: values.backend === undefined ? undefined : parseBackendName(String(values.backend), '--backend'),
      threads: intOption('threads', values.threads as string | undefined, 1),
    });
    const report = infoReport(info);
    console.log(values.json === true ? JSON.stringify(report) : formatInfo(report));
    return 0;
  },
};
